"""Small side-effect helpers shared by the CLI and the trial writer: provenance and
atomic output (a folder or file appears complete or not at all)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


def git_commit() -> str | None:
    """The commit of the dyadsim source tree that runs, or None outside a git checkout."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                           timeout=10, check=False, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = r.stdout.strip()
    return commit if r.returncode == 0 and commit else None


class OutputLocationError(FileExistsError):
    """The output path cannot be written (its message is one line naming the path)."""


#: The file :func:`atomic_dir` writes into every output folder: ``--force`` replaces only a
#: folder that carries it and holds nothing but the files it lists.
MARKER = ".dyadsim-output"
_STALE = re.compile(r"^(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)$")


def _marked_files(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists, or None without a readable marker."""
    try:
        data = json.loads((folder / MARKER).read_text())
        return set(data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_marker(folder: Path, files: list[str]) -> None:
    from ._version import __version__

    text = json.dumps({"written_by": f"dyadsim {__version__}", "files": sorted(files),
                       "note": "dyadsim --force replaces this folder only while it holds "
                               "nothing but these files"}, indent=1)
    atomic_text(folder / MARKER, text + "\n")


def note_output(folder: Path, name: str) -> None:
    """Add ``name`` (a file dyadsim wrote later, e.g. report.html) to the marker of
    ``folder``; a folder without a marker is left as it is."""
    files = _marked_files(folder)
    if files is not None and name not in files:
        _write_marker(folder, [*files, name])


def _protected(out: Path) -> str | None:
    """Why ``out`` must never be replaced: the root, the home or current folder, or a
    folder that holds either."""
    real = out.resolve()
    for what, place in (("the current folder", Path.cwd()), ("your home folder", Path.home())):
        place = place.resolve()
        if real == place:
            return f"it is {what}"
        if real in place.parents:
            return f"it holds {what}"
    return None


def check_out_dir(out: Path, force: bool, *, hint: str = "use force to replace it") -> None:
    """Refuse, before any work is done, an output path that is a file, a non-empty folder
    (unless ``force``), or one whose nearest existing parent is a file or not writable.
    ``force`` replaces only a folder dyadsim wrote (it carries :data:`MARKER` and holds only
    the files listed there), never the current or home folder or one above them."""
    out = Path(out).absolute()
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputLocationError(f"output path '{out}': '{parent}' is a file, not a folder")
    try:  # a real probe: os.access says yes to root even where nothing can be written
        probe = tempfile.mkdtemp(prefix=".dyadsim-probe-", dir=parent)
    except OSError:
        raise OutputLocationError(
            f"output path '{out}': folder '{parent}' is not writable") from None
    os.rmdir(probe)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputLocationError(f"output path '{out}' exists and is not a folder")
        why = _protected(out)
        if why is not None:
            raise OutputLocationError(f"refusing to replace '{out}': {why}; choose a new "
                                      "output folder")
        if not any(out.iterdir()):
            return
        if not force:
            raise OutputLocationError(f"output folder '{out}' exists and is not empty ({hint})")
        listed = _marked_files(out)
        if listed is None:
            raise OutputLocationError(
                f"refusing to replace '{out}': it is not a dyadsim output folder (no "
                f"{MARKER} file), so force would delete files dyadsim did not write; "
                "choose a new output folder (a folder an older dyadsim wrote has no marker: "
                "delete it yourself)")
        other = sorted(p.name for p in out.iterdir() if p.name not in listed | {MARKER})
        if other:
            raise OutputLocationError(
                f"refusing to replace '{out}': it holds files dyadsim did not write "
                f"({', '.join(other[:3])}{', ...' if len(other) > 3 else ''}); move them "
                "or choose a new output folder")


def clear_stale(out: Path) -> None:
    """Remove the temporary siblings (``OUT.tmp-PID``, ``OUT.old-PID``) that a killed
    dyadsim process left behind: only folders carrying the marker, of a process that no
    longer runs."""
    out = Path(out).absolute()
    if not out.parent.is_dir():
        return
    for p in out.parent.iterdir():
        m = _STALE.match(p.name)
        if m is None or m["name"] != out.name or not p.is_dir() or p.is_symlink() \
                or not (p / MARKER).exists() or _alive(int(m["pid"])):
            continue
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished ``tmp`` folder to ``out`` (replacing an old ``out``)."""
    old = None
    if out.exists():
        if any(out.iterdir()):
            old = out.with_name(f"{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        else:
            out.rmdir()
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_dir(out: Path, *, force: bool = False,
               hint: str = "use force to replace it") -> Iterator[Path]:
    """Write a folder that appears complete or not at all: yields an empty temporary
    sibling of ``out`` to fill; on success it replaces ``out`` (an existing non-empty
    ``out`` only with ``force`` and only if dyadsim wrote it, :func:`check_out_dir`), on
    any error or interrupt it is removed. The folder carries :data:`MARKER`, listing its
    files; temporary siblings left by killed runs are cleared first."""
    out = Path(out).absolute()
    check_out_dir(out, force, hint=hint)
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(out)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_marker(tmp, [])
        yield tmp
        _write_marker(tmp, [p.name for p in tmp.iterdir() if p.name != MARKER])
        check_out_dir(out, force, hint=hint)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class InputFileError(ValueError):
    """An input file cannot be read as what it should be (one line naming the file)."""


_DOTTED_KEY = re.compile(r"^\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*=", re.MULTILINE)


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; every problem is one line naming the file: not found, a
    folder, unreadable, binary, not UTF-8, malformed. A UTF-8 byte-order mark is accepted.
    An unquoted dotted parameter name (``[params]`` ``a.b = 1`` is TOML for a nested
    table) gets a hint to quote it."""
    p = Path(path)
    if p.is_dir():
        raise InputFileError(f"{what} {p} is a directory, not a file")
    if not p.exists():
        raise InputFileError(f"{what} file not found: {p}")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise InputFileError(f"{what} {p} is a binary file, not TOML text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{what} {p} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _DOTTED_KEY.search(text)
        hint = (f" (hint: quote a dotted parameter name, e.g. \"{m.group(1)}\" = ...)"
                if m else "")
        raise InputFileError(f"malformed TOML in {p}: {exc}{hint}") from None
    _check_params_tables(data, p, "")
    return data


def _check_params_tables(data: Mapping[str, Any], path: Path, where: str) -> None:
    """A ``params`` table holds numbers; a table inside it is an unquoted dotted name."""
    for key, value in data.items():
        here = f"{where}.{key}" if where else str(key)
        if not isinstance(value, Mapping):
            continue
        if key == "params":
            for name, v in value.items():
                if isinstance(v, Mapping):
                    inner = next(iter(v), "")
                    raise InputFileError(
                        f"{here}.{name} in {path}: a table, not a number (hint: quote a "
                        f"dotted parameter name, e.g. \"{name}.{inner}\" = ...)")
        else:
            _check_params_tables(value, path, here)
