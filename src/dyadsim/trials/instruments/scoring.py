"""Scoring rules: published cut-offs and decision rules applied to observed scores.

Each rule cites where its threshold comes from; a threshold that is not published is named
as a guess.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kinds import ScaleScore, as_float, nan_to_false

#: COMM cut-offs: >= 9 pain clinic (Butler 2007); >= 13 primary care (Meltzer 2011:
#: sensitivity = specificity = 0.77, AUC .84).
COMM_CUTOFF_PAIN_CLINIC = 9.0
COMM_CUTOFF_PRIMARY_CARE = 13.0
#: EPDS >= 13 (the 12/13 threshold of Cox, Holden & Sagovsky 1987).
EPDS_CUTOFF = 13.0
#: PBQ total >= 13 (Torres-Gimenez 2021, Spanish clinical sample: sens .92, spec .87).
PBQ_TOTAL_CUTOFF = 13.0
#: ASQ-3 referral: a domain score below this (declared guess; the real, age-specific values
#: are mean - 2 SD from User's Guide Table 18, not retrieved).
ASQ3_REFERRAL_CUTOFF = 30.0


def _flag(score: Any, cutoff: float, *, below: bool = False) -> np.ndarray:
    s = as_float(score)
    hit = s < cutoff if below else s >= cutoff
    return nan_to_false(np.asarray(hit), np.asarray(s))


def misuse_positive(comm_score: Any, cutoff: float = COMM_CUTOFF_PRIMARY_CARE) -> np.ndarray:
    """COMM screen: 1.0 if score >= cutoff, 0.0 if not, NaN if the score is missing.

    Use ``cutoff=COMM_CUTOFF_PAIN_CLINIC`` (9) for the original pain-clinic rule (Butler
    2007) or the default 13 for primary care (Meltzer 2011). With a primary-care
    no-disorder mean of 8.4, the choice changes prevalence substantially.
    """
    return _flag(comm_score, cutoff)


def epds_positive(score: Any, cutoff: float = EPDS_CUTOFF) -> np.ndarray:
    """EPDS screen: 1.0 if score >= cutoff (default 13), NaN if missing."""
    return _flag(score, cutoff)


def pbq_positive(total: Any, cutoff: float = PBQ_TOTAL_CUTOFF) -> np.ndarray:
    """PBQ total-score screen: 1.0 if total >= cutoff (default 13), NaN if missing."""
    return _flag(total, cutoff)


def asq3_referral(score: Any, cutoff: float = ASQ3_REFERRAL_CUTOFF) -> np.ndarray:
    """ASQ-3 referral flag: 1.0 if a domain score is below ``cutoff``, NaN if missing."""
    return _flag(score, cutoff, below=True)


def kips_band(score: Any) -> np.ndarray:
    """KIPS quality band: "low" (1.0-2.9), "moderate" (3.0-3.9), "high" (4.0-5.0).

    Bands from nctsn.org (no clinical cut-off exists). Returns an object array, None for
    missing scores.
    """
    s = np.atleast_1d(as_float(score))
    out = np.empty(s.shape, dtype=object)
    out[:] = None
    ok = ~np.isnan(s)
    out[ok & (s < 3.0)] = "low"
    out[ok & (s >= 3.0) & (s < 4.0)] = "moderate"
    out[ok & (s >= 4.0)] = "high"
    return out


def finnegan_treatment_rule(
    scores: Any,
    *,
    run_low: int = 3,
    threshold_low: float = 8.0,
    run_high: int = 2,
    threshold_high: float = 12.0,
) -> bool | np.ndarray:
    """Finnegan pharmacotherapy rule: 3 consecutive scores >= 8, or 2 consecutive >= 12.

    ``scores``: one infant's sequence (1-D -> returns a bool) or (n, scorings) (-> bool
    array). NaN marks a scoring not done; it is skipped, so "consecutive" means consecutive
    recorded scores.
    """
    s = as_float(scores)
    single = s.ndim == 1
    rows = s[None, :] if single else s
    if rows.ndim != 2:
        raise ValueError(f"scores must be 1-D or 2-D, got shape {s.shape}")

    def longest_run(x: np.ndarray, thr: float) -> int:
        best = cur = 0
        for v in x:
            cur = cur + 1 if v >= thr else 0
            best = max(best, cur)
        return best

    out = np.zeros(rows.shape[0], dtype=bool)
    for i, row in enumerate(rows):
        rec = row[~np.isnan(row)]
        out[i] = (
            longest_run(rec, threshold_low) >= run_low
            or longest_run(rec, threshold_high) >= run_high
        )
    return bool(out[0]) if single else out


def finnegan_scores(
    series: Any,
    rng: np.random.Generator,
    scorings_per_day: int = 8,
    instrument: ScaleScore | None = None,
) -> np.ndarray:
    """Repeated nurse Finnegan scorings from a daily NOWS-severity series.

    ``series``: daily ``neonatal_withdrawal`` in [0, 1], shape (n, days). Each day is scored
    ``scorings_per_day`` times (every 3 h by default; the schedule is every 3-4 h), each
    scoring an independent nurse's measurement (true + N(0, ~3.3), missing at the
    instrument's rate). Returns shape (n, days * scorings_per_day), ready for
    :func:`finnegan_treatment_rule`.
    """
    from .catalogue import INSTRUMENTS

    inst = instrument if instrument is not None else INSTRUMENTS["finnegan"]
    s = as_float(series)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2:
        raise ValueError(f"series must have shape (n, days), got {s.shape}")
    k = int(scorings_per_day)
    if k < 1:
        raise ValueError("scorings_per_day must be >= 1")
    flat = np.repeat(s, k, axis=1).ravel()
    return inst.measure({inst.reads[0]: flat}, rng).reshape(s.shape[0], s.shape[1] * k)

