"""Small side-effect helpers shared by the CLI and the trial writer: provenance and
atomic output (a folder or file appears complete or not at all)."""

from __future__ import annotations

import os
import shutil
import subprocess
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


def check_out_dir(out: Path, force: bool, *, hint: str = "use force to replace it") -> None:
    """Refuse an output path that is a file, or a non-empty folder unless ``force``."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise FileExistsError(f"output path '{out}' exists and is not a folder")
        if any(out.iterdir()) and not force:
            raise FileExistsError(f"output folder '{out}' exists and is not empty ({hint})")


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
