"""Outcome distributions of a simulation, as a plain dict (``summary.json``) and the rows
of the demo table."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..model.infant import DOMAINS
from ..model.outcomes import ATTACHMENT_CLASSES


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
        "any_opioid_use": _mean_ci((ds["use_days"].values > 0).astype(float)),
        "any_overdose": _mean_ci((ds["overdoses"].values > 0).astype(float)),
        "fatal_overdose": _mean_ci((~np.isnan(ds["overdose_fatal_day"].values)).astype(float)),
        "cps_report": _mean_ci((~np.isnan(ds["cps_report_day"].values)).astype(float)),
        "share_of_days_on_moud": _mean_ci(ds["moud_days"].values
                                          / max(1, int(ds.attrs.get("horizon_days", 1)))),
    }
    if "nows" in ds:
        out["nows"] = _mean_ci(ds["nows"].values)
        out["on_moud_12m_postpartum"] = _mean_ci(ds["moud_at_12m"].values)
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
