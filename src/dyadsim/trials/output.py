"""A trial's output folder: ``data.parquet``, ``latent.nc``, ``results.json``,
``manifest.json`` (and the replicate files), written atomically with provenance."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_dir, check_out_dir
from .._io import git_commit as _git_commit
from .analysis import _jsonable
from .trial import SEED_DERIVATION, TrialResult

__all__ = ["manifest", "replicates_table", "write_trial"]


def replicates_table(rep: Mapping[str, Any]) -> pd.DataFrame:
    """One row per replicate x analysis (from :func:`run_replicates`' result)."""
    rows = []
    for name, a in rep["analyses"].items():
        for r in a["replicates"]:
            rows.append({"replicate": r["replicate"], "analysis": name, "method": a["method"],
                         "effect": a["effect"], "estimate": r["estimate"],
                         "ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"], "p": r["p"],
                         "significant": r["significant"], "error": r["error"]})
    df = pd.DataFrame(rows, columns=["replicate", "analysis", "method", "effect", "estimate",
                                     "ci_lower", "ci_upper", "p", "significant", "error"])
    for c in ("estimate", "ci_lower", "ci_upper", "p"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["significant"] = df["significant"].astype("boolean")
    return df


def manifest(result: TrialResult, *, replicates: Mapping[str, Any] | None = None,
             files: Sequence[str] = (), command: str | None = None,
             posterior: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from .._version import __version__

    m = {
        "dyadsim_version": __version__,
        "git_commit": _git_commit(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "trial": result.spec.trial.name,
        "citation": result.spec.trial.citation,
        "seed": result.seed,
        "replicate": result.replicate,
        "replicates": None if replicates is None else replicates["replicates"],
        "seed_derivation": SEED_DERIVATION,
        "spec": result.spec.to_dict(),
        "plan": result.plan_info,
        "population": json.loads(result.latent.attrs.get("population", "null"))
        if result.latent is not None else None,
        "parameters": result.parameters,
        "posterior": None if posterior is None else dict(posterior),
        "files": list(files),
    }
    return _jsonable(m)


def write_trial(result: TrialResult, out_dir: str | Path, *, force: bool = False,
                replicates: Mapping[str, Any] | None = None,
                command: str | None = None,
                posterior: Mapping[str, Any] | None = None) -> Path:
    """Write ``data.parquet``, ``latent.nc`` (h5netcdf), ``results.json`` and
    ``manifest.json`` (plus ``replicates.json`` and ``replicates.parquet`` when
    ``replicates``, a :func:`run_replicates` result, is given) into ``out_dir``;
    ``posterior``: the provenance of the parameter draws the run carried, if any. The folder
    appears complete or not at all (written to a temporary folder, then renamed); an
    existing non-empty folder is replaced only with ``force``."""
    out = Path(out_dir).absolute()
    check_out_dir(out, force)
    files = ["data.parquet", "latent.nc", "results.json", "manifest.json"]
    if replicates is not None:
        files += ["replicates.json", "replicates.parquet"]
    man = manifest(result, replicates=replicates, files=files, command=command,
                   posterior=posterior)
    with atomic_dir(out, force=force) as tmp:
        result.data.to_parquet(tmp / "data.parquet", index=False)
        latent = result.latent.copy()
        for k in list(latent.data_vars):
            if latent[k].dtype == object:
                latent[k] = latent[k].astype(str)
        latent.to_netcdf(tmp / "latent.nc", engine="h5netcdf")
        (tmp / "results.json").write_text(
            json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n")
        if replicates is not None:
            (tmp / "replicates.json").write_text(
                json.dumps(_jsonable(replicates), indent=2, allow_nan=False) + "\n")
            replicates_table(replicates).to_parquet(tmp / "replicates.parquet", index=False)
        (tmp / "manifest.json").write_text(
            json.dumps(man, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return out
