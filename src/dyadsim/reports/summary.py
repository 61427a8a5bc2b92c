"""Outcome distributions of a simulation, as a plain dict (``summary.json``) and the rows
of the demo table."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..model.infant import DOMAINS
from ..model.outcomes import ATTACHMENT_CLASSES


def _share_ci(x: np.ndarray) -> dict:
    """Share of dyads with a 0/1 outcome, Wilson 95% interval (stays inside [0, 1])."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return {"mean": None, "ci95": None, "n": 0}
    p, z = float(x.mean()), 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"mean": p, "ci95": [float(centre - half), float(centre + half)], "n": n}


def _mean_ci(x: np.ndarray) -> dict:
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return {"mean": None, "ci95": None, "n": 0}
    m = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
    return {"mean": m, "ci95": [m - 1.96 * se, m + 1.96 * se], "n": int(x.size)}


def summarize(ds: xr.Dataset) -> dict:
    """Outcome distributions: shares with CIs, means, the attachment distribution."""
    out: dict = {
        "dyads": int(ds.sizes["dyad"]),
        "seed": int(ds.attrs.get("seed", -1)),
        "share_of_days_with_opioid_use": _mean_ci(ds["use_share"].values),
        "any_opioid_use": _share_ci((ds["use_days"].values > 0).astype(float)),
        "any_overdose": _share_ci((ds["overdoses"].values > 0).astype(float)),
        "fatal_overdose": _share_ci((~np.isnan(ds["overdose_fatal_day"].values)).astype(float)),
        "cps_report": _share_ci((~np.isnan(ds["cps_report_day"].values)).astype(float)),
        "share_of_days_on_moud": _mean_ci(ds["moud_share"].values),
    }
    if "nows" in ds:
        out["nows"] = _share_ci(ds["nows"].values)
        out["on_moud_12m_postpartum"] = _share_ci(ds["moud_at_12m"].values)
        out["parenting_mean"] = _mean_ci(ds["parenting_mean"].values)
        cls = ds["attachment_class"].values
        classified = cls[cls != "none"]
        out["attachment"] = {c: float(np.mean(classified == c)) if classified.size else None
                             for c in ATTACHMENT_CLASSES[1:]}
        out["attachment"]["n"] = int(classified.size)
        for m in (12, 24):
            out[f"wellbeing_{m}m"] = {d: _mean_ci(ds[f"wellbeing_{d}_{m}m"].values)["mean"]
                                      for d in DOMAINS}
    return out
