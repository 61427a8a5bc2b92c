"""Output folders of the analyses: written to a temporary folder and moved into place, so
OUT appears complete or not at all; the manifest holds no clock time, so a rerun with the
same options (or a resumed run) writes the same bytes."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._io import check_out_dir, git_commit, replace_dir


def manifest(command: str, options: Mapping[str, Any]) -> dict[str, Any]:
    return {"dyadsim_version": __version__, "git_commit": git_commit(), "command": command,
            "options": dict(options)}


def write_folder(out: Path, files: Mapping[str, str | pd.DataFrame | Mapping], *,
                 force: bool) -> Path:
    """Write ``files`` (name -> text, a table written as CSV, or JSON data) into ``out``."""
    check_out_dir(out, force, hint="use --force to replace it")
    target = out.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, content in files.items():
        if isinstance(content, pd.DataFrame):
            content.to_csv(tmp / name, index=False, float_format="%.10g")
        elif isinstance(content, str):
            (tmp / name).write_text(content)
        else:
            (tmp / name).write_text(json.dumps(content, indent=2, sort_keys=True,
                                               default=float) + "\n")
    replace_dir(tmp, target)
    return target
