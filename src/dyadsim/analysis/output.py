"""Output folders of the analyses: written to a temporary folder and moved into place, so
OUT appears complete or not at all; the manifest holds no clock time, so a rerun with the
same options (or a resumed run) writes the same bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_dir, git_commit
from .._version import __version__


def manifest(command: str, options: Mapping[str, Any]) -> dict[str, Any]:
    return {"dyadsim_version": __version__, "git_commit": git_commit(), "command": command,
            "options": dict(options)}


def write_folder(out: Path, files: Mapping[str, str | pd.DataFrame | Mapping], *,
                 force: bool) -> Path:
    """Write ``files`` (name -> text, a table written as CSV, or JSON data) into ``out``."""
    target = out.absolute()
    with atomic_dir(target, force=force, hint="use --force to replace it") as tmp:
        for name, content in files.items():
            if isinstance(content, pd.DataFrame):
                content.to_csv(tmp / name, index=False, float_format="%.10g")
            elif isinstance(content, str):
                (tmp / name).write_text(content)
            else:
                (tmp / name).write_text(json.dumps(content, indent=2, sort_keys=True,
                                                   default=float) + "\n")
    return target
