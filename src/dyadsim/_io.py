"""Small side-effect helpers shared by the CLI and the trial writer: provenance and
atomic output (a folder or file appears complete or not at all)."""

from __future__ import annotations

import contextlib
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


def check_out_dir(out: Path, force: bool, *, hint: str = "use force to replace it") -> None:
    """Refuse, before any work is done, an output path that is a file, a non-empty folder
    (unless ``force``), or one whose nearest existing parent is a file or not writable."""
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
        if any(out.iterdir()) and not force:
            raise OutputLocationError(f"output folder '{out}' exists and is not empty ({hint})")


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
    ``out`` only with ``force``), on any error or interrupt it is removed."""
    out = Path(out).absolute()
    check_out_dir(out, force, hint=hint)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
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
