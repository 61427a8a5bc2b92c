"""How a trial observes its dyads: instruments at the assessments, EMA prompts, and loss
to follow-up.

Measurement
-----------
Each assessment has a study day (or a postpartum day, i.e. each dyad's birth day plus that
many days). A non-series instrument gets, for each latent it reads, the mean over the
``window_days`` days ending on the assessment day; a series instrument gets the daily
series. The simulation starts ``plan.run_in`` days before study day 0 so that baseline
windows have days to look back on (see :mod:`dyadsim.trials.design`). Instruments that read
per-dyad outcomes take ``attachment_class`` (``ssp``; unclassified = missing) and
``wellbeing_<domain>`` at 12 or 24 months, whichever age is nearer to the assessment (ASQ-3).
The coded ``ssp`` is stored as ``value`` = class index (secure 0, avoidant 1, resistant 2,
disorganized 3) with the class name in ``category``.

Loss to follow-up: each dyad's last observed study day is drawn from a hazard that rises
with its share of use days over the last 30 days (missing not at random, see
:mod:`.spec`); values after it are missing (the baseline is always observed). A mother who
has died is not at risk of dropping out: her death is an intercurrent event, not a loss.

Who is measured (issue 18 item 4; ICH E9(R1) intercurrent events): each instrument has a
``subject`` (:data:`.instruments.kinds.SUBJECTS`). After the mother's death no instrument
about her (``mother``) or her care of the infant (``care``) has a value; while the infant is
placed out of home (foster or kinship care) a ``care`` instrument such as KIPS would observe
the substitute caregiver, so it has no value either. ``missing_reason`` says why a value is
missing (:data:`MISSING_REASONS`); ``caregiver`` says who cared for the infant when an
``infant`` instrument was taken (``mother`` or ``substitute``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .instruments import ema_prompts
from .plan import DAYS_PER_MONTH, OUTCOME_READS, Plan
from .spec import TrialSpec

__all__ = ["DATA_COLUMNS", "MISSING_REASONS", "apply_dropout", "dropout_days", "measure"]

DATA_COLUMNS = ("dyad_id", "arm", "timepoint", "day", "postpartum_day", "instrument", "prompt",
                "value", "category", "missing_reason", "caregiver")

#: Why a value is missing (``missing_reason``; None where the value is observed).
MISSING_REASONS = {
    "maternal_death": "the mother had died (intercurrent event)",
    "infant_placed": "the infant was placed out of home: the care observed would be the "
                     "substitute caregiver's (intercurrent event)",
    "lost_to_follow_up": "the dyad was lost to follow-up before the assessment",
    "not_obtained": "not obtained at an attended assessment (the instrument's missing rate, "
                    "or an infant outcome not yet classified)",
}


def _assessment_days(plan: Plan, a, birth_sim: np.ndarray) -> np.ndarray:
    n = birth_sim.shape[0]
    if a.day is not None:
        return np.full(n, a.day, dtype=np.int64)
    return (np.round(birth_sim).astype(np.int64) - plan.run_in + a.postpartum_day)


def _window(arr: np.ndarray, end_sim: np.ndarray, w: int) -> np.ndarray:
    idx = end_sim[:, None] - w + 1 + np.arange(w)[None, :]
    return arr[np.arange(arr.shape[0])[:, None], idx].astype(np.float64)


def _outcome_input(read: str, pay: Mapping[str, Any], pp_day: np.ndarray) -> np.ndarray:
    if read == "attachment_class":
        raw = pay["outcomes"]["attachment_class"]
        return np.array([None if (v is None or v == "none") else v for v in raw], dtype=object)
    v12, v24 = pay["outcomes"][f"{read}_12m"], pay["outcomes"][f"{read}_24m"]
    use24 = pp_day >= round(18 * DAYS_PER_MONTH)
    out = np.where(use24, v24, v12).astype(np.float64)
    out[pp_day < 0] = np.nan
    return np.clip(out, 0.0, 1.0)


def _measure_one(inst, pay: Mapping[str, Any], end_study: np.ndarray, plan: Plan,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    end_sim = end_study + plan.run_in
    w = min(inst.window_days, int(end_sim.min()) + 1)
    if w < inst.window_days:
        inst = inst.with_window(w)
    pp_day = end_sim - np.round(pay["birth_day"]).astype(np.int64) \
        if plan.pregnancy else np.full(end_sim.shape, -1)
    inputs = {}
    for r in inst.reads:
        if r in OUTCOME_READS:
            inputs[r] = _outcome_input(r, pay, pp_day)
        else:
            x = _window(pay["nodes"][r], end_sim, w)
            inputs[r] = x if inst.series else x.mean(axis=1)
    obs = inst.measure(inputs, rng)
    if obs.dtype == object:  # a coded class (ssp)
        lookup = {c: float(i) for i, c in enumerate(inst.categories)}
        values = np.array([np.nan if v is None else lookup[v] for v in obs], dtype=np.float64)
        return values, obs
    return np.asarray(obs, dtype=np.float64), None


def _intercurrent(pay: Mapping[str, Any], plan: Plan, end_study: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(mother died on or before the day, infant placed out of home on the day) per dyad,
    for study days ``end_study`` (one per dyad)."""
    n = end_study.shape[0]
    death = pay.get("death_day")
    dead = np.zeros(n, bool) if death is None else (
        np.nan_to_num(np.asarray(death, dtype=float) - plan.run_in, nan=np.inf) <= end_study)
    series = pay["nodes"].get("foster_placement")
    if series is None:
        return dead, np.zeros(n, bool)
    sim = np.clip(end_study + plan.run_in, 0, series.shape[1] - 1)
    return dead, series[np.arange(n), sim] > 0


def _on_the_right_person(inst, values: np.ndarray, cats: np.ndarray | None,
                         dead: np.ndarray, placed: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Values of ``inst`` with those about the wrong person removed (module docstring):
    (values, categories, missing_reason, caregiver)."""
    n = values.shape[0]
    reason = np.full(n, None, dtype=object)
    caregiver = np.full(n, None, dtype=object)
    if inst.subject == "infant":
        caregiver[:] = np.where(dead | placed, "substitute", "mother")
    else:
        drop = dead if inst.subject == "mother" else dead | placed
        reason[placed & ~dead & (inst.subject == "care")] = "infant_placed"
        reason[dead] = "maternal_death"
        if drop.any():
            values = np.where(drop, np.nan, values)
            if cats is not None:
                cats = np.where(drop, None, cats)
    return values, cats, reason, caregiver


def measure(spec: TrialSpec, plan: Plan, pay: Mapping[str, Any],
             rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    ids, arm_idx = pay["ids"], pay["arm"]
    n = ids.shape[0]
    arm_names = np.array(spec.arm_names, dtype=object)[arm_idx]
    birth_study = pay["birth_day"] - plan.run_in
    parts: list[dict[str, Any]] = []
    days: dict[str, np.ndarray] = {}
    for a in spec.assessments:
        end = _assessment_days(plan, a, pay["birth_day"])
        days[a.name] = end
        pp = end - birth_study if plan.pregnancy else np.full(n, np.nan)
        dead, placed = _intercurrent(pay, plan, end)
        for name in a.instruments:
            inst = plan.instruments[name]
            values, cats = _measure_one(inst, pay, end, plan, rng)
            values, cats, reason, caregiver = _on_the_right_person(inst, values, cats, dead,
                                                                   placed)
            parts.append({"dyad_id": ids, "arm": arm_names, "timepoint": a.name, "day": end,
                          "postpartum_day": pp, "instrument": name, "prompt": None,
                          "value": values, "category": cats, "missing_reason": reason,
                          "caregiver": caregiver})
    for block in spec.ema:
        lo, hi = block.from_day + plan.run_in, block.to_day + plan.run_in
        for name in block.instruments:
            inst = plan.instruments[name]
            series = np.clip(pay["nodes"][inst.reads[0]][:, lo:hi + 1].astype(np.float64), 0, 1)
            comp = inst.compliance if block.compliance is None else block.compliance
            df = ema_prompts(series, block.prompts_per_day, comp, rng,
                             momentary_sd=inst.momentary_sd, scale=inst.scale,
                             integer=inst.integer_prompts, dyad_ids=np.arange(n))
            rows = df["dyad_id"].to_numpy()
            day = df["day"].to_numpy().astype(np.int64) + block.from_day
            dead = _intercurrent({**pay, "nodes": {}, "death_day": None if pay.get(
                "death_day") is None else pay["death_day"][rows]}, plan, day)[0]
            parts.append({"dyad_id": ids[rows], "arm": arm_names[rows], "timepoint": "ema",
                          "day": day,
                          "postpartum_day": (day - birth_study[rows]) if plan.pregnancy
                          else np.full(len(rows), np.nan),
                          "instrument": name, "prompt": df["prompt"].to_numpy(),
                          "value": np.where(dead, np.nan, df["value"].to_numpy(np.float64)),
                          "category": None,
                          "missing_reason": np.where(dead, "maternal_death", None),
                          "caregiver": None})
    frames = []
    for p in parts:
        m = len(p["value"])
        frames.append(pd.DataFrame({
            "dyad_id": np.asarray(p["dyad_id"], dtype=np.int64),
            "arm": np.asarray(p["arm"], dtype=object),
            "timepoint": np.full(m, p["timepoint"], dtype=object),
            "day": np.asarray(p["day"], dtype=np.int64),
            "postpartum_day": np.asarray(p["postpartum_day"], dtype=np.float64),
            "instrument": np.full(m, p["instrument"], dtype=object),
            "prompt": pd.array(np.full(m, pd.NA) if p["prompt"] is None else p["prompt"],
                               dtype="Int64"),
            "value": p["value"],
            "category": (np.full(m, None, dtype=object) if p["category"] is None
                         else np.asarray(p["category"], dtype=object)),
            "missing_reason": np.asarray(p["missing_reason"], dtype=object),
            "caregiver": (np.full(m, None, dtype=object) if p["caregiver"] is None
                          else np.asarray(p["caregiver"], dtype=object)),
        }))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(DATA_COLUMNS))
    if len(data):
        unexplained = data["value"].isna().to_numpy() & data["missing_reason"].isna().to_numpy()
        data.loc[unexplained, "missing_reason"] = "not_obtained"
    return data, days


def dropout_days(spec: TrialSpec, plan: Plan, pay: Mapping[str, Any], base_day: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Last study day each dyad is observed (inf: never lost)."""
    n = pay["ids"].shape[0]
    d = spec.dropout
    if d is None or d.monthly_rate <= 0.0:
        return np.full(n, np.inf)
    lam = -math.log1p(-d.monthly_rate) / DAYS_PER_MONTH
    e = rng.exponential(size=n)
    use = pay["nodes"]["opioid_use"].astype(np.float64)
    t_total = use.shape[1]
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(use, axis=1)], axis=1)
    t = np.arange(t_total)
    lo = np.maximum(t - 29, 0)
    share = (cs[:, t + 1] - cs[:, lo]) / (t + 1 - lo)
    h = lam * np.exp(d.use_effect * share)
    study_day = t - plan.run_in
    h = np.where(study_day[None, :] > base_day[:, None], h, 0.0)
    if pay.get("death_day") is not None:  # after her death she is not at risk of dropping out
        died = np.nan_to_num(np.asarray(pay["death_day"], dtype=float), nan=np.inf)
        h = np.where(t[None, :] >= died[:, None], 0.0, h)
    cum = np.cumsum(h, axis=1)
    hit = cum >= e[:, None]
    any_hit = hit.any(axis=1)
    first = np.where(any_hit, hit.argmax(axis=1), 0)
    return np.where(any_hit, (first - plan.run_in).astype(np.float64), np.inf)


def apply_dropout(data: pd.DataFrame, spec: TrialSpec, dropout: np.ndarray,
                   ids: np.ndarray) -> pd.DataFrame:
    pos = data["dyad_id"].to_numpy() - ids[0]
    lost = (data["day"].to_numpy() > dropout[pos]) & (data["timepoint"].to_numpy()
                                                      != spec.baseline)
    if lost.any():
        data.loc[lost, "value"] = np.nan
        data.loc[lost, "category"] = None
        # an intercurrent event that came first keeps its reason
        data.loc[lost & ~data["missing_reason"].isin(["maternal_death", "infant_placed"])
                 .to_numpy(), "missing_reason"] = "lost_to_follow_up"
    return data
