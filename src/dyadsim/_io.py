"""Small side-effect helpers shared by the CLI and the trial writer: provenance and
atomic output (a folder or file appears complete or not at all)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


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
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputLocationError(f"output path '{out}': folder '{parent}' is not writable")
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
