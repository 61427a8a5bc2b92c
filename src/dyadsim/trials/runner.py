"""Run in-silico randomised trials: randomise, simulate each arm, measure, lose dyads to
follow-up, analyse.

:func:`run_trial` runs one trial and returns a :class:`TrialResult` (tidy long ``data``,
the ``latent`` trajectories, ``results``); :func:`write_trial` writes it to a folder;
:func:`run_replicates` runs many replicate trials of the same design and summarises each
analysis over them (the operating characteristics behind :mod:`dyadsim.trials.power`).

Seeds and streams (the exact derivation)
----------------------------------------
The trial ``seed`` is the simulation seed of every arm (a dyad's latent trajectory depends
only on ``(seed, dyad id)``). Replicate ``r`` (0-based) randomises the dyads with ids
``r*N .. r*N + N - 1`` (so replicates are distinct dyads of one simulated population) and
draws everything else from ``np.random.SeedSequence(seed, spawn_key=(r,))`` -- which is
exactly ``np.random.SeedSequence(seed).spawn(R)[r]`` for any ``R > r``. Its four children
(``.spawn(4)``) feed ``numpy.random.default_rng``: [0] randomisation, [1] measurement
(assessments in spec order, instruments in listed order, then EMA periods), [2] dropout,
[3] analysis (the mediation bootstrap seed of analysis ``name`` is
``SeedSequence(seed, spawn_key=(r, 3, crc32(name))).generate_state(1)[0]``). So replicate
``r`` gives the same data and results from :func:`run_trial` (``replicate=r``) and from
:func:`run_replicates`, whatever the executor, the number of workers or the batching.

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

Analyses and their summary ``estimate``/``ci_lower``/``ci_upper``/``p``
------------------------------------------------------------------------
Every analysis result holds the method's full output under ``detail`` and one summary
(chosen by ``effect``; its default first): ``lmm`` -- the arm x time contrast (difference in
change from baseline, treatment minus control) at ``timepoint`` (default: the last);
``binary`` -- risk ratio (or odds ratio, relative reduction 1 - RR with the RR's p, risk
difference), complete cases; ``cohens_d`` / ``change_d`` -- d (or Hedges' g) between arms
at the timepoint / of the change from baseline, p from the Wald z; ``pre_post`` -- d_av (or
d_z) of the within-arm change; ``ema`` -- relative difference of model-based means (p of
the arm effect), or the difference; ``cox`` -- hazard ratio; ``mediation`` -- the indirect
effect a*b with its percentile-bootstrap CI (p: Sobel; ``significant``: the CI excludes 0);
``proportion`` -- the treatment minus control difference in shares (Newcombe CI,
two-proportion z test), or one arm's share (Wilson CI, no p). ``significant`` is p < alpha
(``[trial] alpha``, default 0.05). An analysis that cannot be computed on a replicate (e.g.
no events) reports ``error`` and None values instead of stopping the run.

Time-to-event (``cox``): days from study day 0 to the event (``first_use``: first day of
use; ``overdose``: first overdose; ``cps_report``: first CPS report; ``moud_discontinuation``:
first day off MOUD, among dyads on MOUD at study day 0 only), counted as ``day + 1``;
censored at the dyad's dropout day or the last study day.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import os
import shutil
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_text as _atomic_text
from .._io import check_out_dir
from .._io import git_commit as _git_commit
from .._io import replace_dir as _replace_dir
from .analysis import (
    _jsonable,
    binary_outcome,
    cohens_d,
    cox_ph,
    ema_mlm,
    lmm_arm_by_time,
    mediation,
    standardized_mean_change,
    summarize_replicates,
)
from .design import (
    DAYS_PER_MONTH,
    Plan,
    TrialSpec,
    TrialSpecError,
    load_spec,
    plan_trial,
    randomize,
    stratum_codes,
)
from .executor import default_workers, owned_executor

__all__ = [
    "DATA_COLUMNS",
    "SEED_DERIVATION",
    "TrialResult",
    "replicate_seed_sequence",
    "replicates_table",
    "run_replicates",
    "run_trial",
    "write_trial",
]

Progress = Callable[[str, int, int], None]

DATA_COLUMNS = ("dyad_id", "arm", "timepoint", "day", "postpartum_day", "instrument", "prompt",
                "value", "category")
SEED_DERIVATION = (
    "replicate r uses dyad ids r*N..r*N+N-1 and np.random.SeedSequence(seed, spawn_key=(r,)) "
    "(= SeedSequence(seed).spawn(R)[r]); its .spawn(4) children seed numpy default_rng "
    "streams for [randomisation, measurement, dropout, analysis]; every arm is simulated "
    "with the trial seed"
)
#: Latent days x nodes x dyads held per simulation batch (float32), about 200 MB.
BATCH_CELLS = 50_000_000
_STREAMS = ("randomisation", "measurement", "dropout", "analysis")


def replicate_seed_sequence(seed: int, replicate: int) -> np.random.SeedSequence:
    """The SeedSequence of replicate ``replicate`` (= ``SeedSequence(seed).spawn(R)[r]``)."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(replicate),))


def _streams(seed: int, replicate: int) -> dict[str, np.random.Generator]:
    kids = replicate_seed_sequence(seed, replicate).spawn(len(_STREAMS))
    return {k: np.random.default_rng(s) for k, s in zip(_STREAMS, kids, strict=True)}


def _analysis_seed(seed: int, replicate: int, name: str) -> int:
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(replicate), 3,
                                                      zlib.crc32(name.encode())))
    return int(ss.generate_state(1)[0] & 0x7FFFFFFF)


# ------------------------------------------------------------------------------ result
@dataclass
class TrialResult:
    """One simulated trial: ``data`` (tidy long table, :data:`DATA_COLUMNS`), ``latent``
    (xarray Dataset of the latent trajectories of the same dyads, arms concatenated along
    ``dyad``, time = study day, with ``arm`` and ``dropout_day`` variables), ``results``
    (per analysis name its result dict, plus ``arms`` and ``dropout``)."""

    spec: TrialSpec
    seed: int
    replicate: int
    data: pd.DataFrame
    latent: Any
    results: dict[str, Any]
    parameters: dict[str, dict[str, float]] = field(default_factory=dict)
    plan_info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "trial": self.spec.trial.name,
            "citation": self.spec.trial.citation,
            "seed": self.seed,
            "replicate": self.replicate,
            "n": self.spec.n,
            "plan": self.plan_info,
            "spec": self.spec.to_dict(),
            "results": self.results,
        })


# ------------------------------------------------------------------------------ simulate
def _scenario(spec: TrialSpec) -> dict[str, Any]:
    ps = spec.population
    return {"population": {"preset": ps.preset, "init": dict(ps.init),
                           "params": dict(ps.params)}}


def _schedule(plan: Plan, arm: int, n: int):
    from ..interventions import build_schedule

    day, from_birth = plan.arm_course[arm]
    sim_day = day if from_birth else day + plan.run_in
    ivs = plan.arm_interventions[arm]
    sched = build_schedule([list(ivs)], [(sim_day, from_birth)], np.zeros(n, dtype=np.int64))
    if any(iv.moud for iv in ivs) and plan.pop_offers_moud:
        # an arm's MOUD offer never removes the access the population already has
        arrays = dict(sched.arrays)
        arrays["moud.offer_day"] = np.zeros(n, dtype=np.int32)
        sched = type(sched)(arrays)
    return sched


def _simulate(spec: TrialSpec, plan: Plan, ids: np.ndarray, arm: int | None,
              progress: Callable[[int], None] | None = None):
    from ..simulation import simulate

    params = {} if arm is None else dict(plan.arm_params[arm])
    sched = None if arm is None else _schedule(plan, arm, len(ids))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate(_scenario(spec), dyads=int(len(ids)), seed=spec.seed,
                        start=plan.sim_start, horizon=plan.sim_horizon, record="daily",
                        nodes=plan.nodes, schedule=sched, dyad_ids=ids.astype(np.int64),
                        params=params, progress=progress)


def _baseline_strata(spec: TrialSpec, plan: Plan, ids: np.ndarray,
                     progress: Callable[[int], None] | None) -> np.ndarray:
    """Stratum nodes at study day 0 of a run without intervention (dyads x strata)."""
    ds = _simulate(spec, plan, ids, None, progress)
    return np.column_stack([ds[s].values[:, plan.run_in] for s in spec.randomization.strata])


def _outcome_names(plan: Plan) -> list[str]:
    from .design import OUTCOME_READS

    if not plan.pregnancy:
        return []
    reads = {r for inst in plan.instruments.values() for r in inst.reads if r in OUTCOME_READS}
    out = []
    for r in sorted(reads):
        if r == "attachment_class":
            out.append(r)
        else:
            out += [f"{r}_12m", f"{r}_24m"]
    return out


def _payloads(spec: TrialSpec, plan: Plan, reps: Sequence[int],
              assignments: Mapping[int, np.ndarray], progress: Callable[[int], None] | None,
              keep_datasets: bool = False):
    """Simulate every arm once for all replicates in ``reps``; split per replicate."""
    n = spec.n
    outs = _outcome_names(plan)
    pay: dict[int, dict[str, Any]] = {}
    for r in reps:
        pay[r] = {"ids": np.arange(r * n, r * n + n, dtype=np.int64),
                  "arm": assignments[r].astype(np.int64),
                  "nodes": {k: np.empty((n, plan.total_days), np.float32) for k in plan.nodes},
                  "birth_day": np.full(n, np.nan),
                  "outcomes": {k: (np.empty(n, dtype=object) if k == "attachment_class"
                                   else np.full(n, np.nan)) for k in outs}}
    datasets: dict[int, list[Any]] = {r: [] for r in reps}
    for a in range(len(spec.arms)):
        pos = {r: np.flatnonzero(assignments[r] == a) for r in reps}
        ids = np.concatenate([r * n + pos[r] for r in reps]).astype(np.int64)
        if ids.size == 0:
            continue
        ds = _simulate(spec, plan, ids, a, progress)
        start = 0
        for r in reps:
            k = pos[r].size
            if k == 0:
                continue
            rows = slice(start, start + k)
            for node in plan.nodes:
                pay[r]["nodes"][node][pos[r]] = ds[node].values[rows]
            pay[r]["birth_day"][pos[r]] = ds["birth_day"].values[rows]
            for o in outs:
                pay[r]["outcomes"][o][pos[r]] = ds[o].values[rows]
            if keep_datasets:
                datasets[r].append((a, ds.isel(dyad=rows)))
            start += k
    return pay, datasets


def _assign(spec: TrialSpec, plan: Plan, reps: Sequence[int],
            progress: Callable[[int], None] | None) -> dict[int, np.ndarray]:
    n = spec.n
    r_ = spec.randomization
    strata: dict[int, np.ndarray | None] = {r: None for r in reps}
    if r_.method == "stratified":
        ids = np.concatenate([np.arange(r * n, r * n + n) for r in reps]).astype(np.int64)
        values = _baseline_strata(spec, plan, ids, progress)
        for i, r in enumerate(reps):
            strata[r] = stratum_codes(values[i * n:(i + 1) * n])
    alloc = [a.allocation for a in spec.arms]
    return {r: randomize(n, alloc, r_.method, rng=_streams(spec.seed, r)["randomisation"],
                         block_size=r_.block_size, strata=strata[r]) for r in reps}


# ------------------------------------------------------------------------------ measure
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
    from .design import OUTCOME_READS

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


def _measure(spec: TrialSpec, plan: Plan, pay: Mapping[str, Any],
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
        for name in a.instruments:
            values, cats = _measure_one(plan.instruments[name], pay, end, plan, rng)
            parts.append({"dyad_id": ids, "arm": arm_names, "timepoint": a.name, "day": end,
                          "postpartum_day": pp, "instrument": name, "prompt": None,
                          "value": values, "category": cats})
    for block in spec.ema:
        lo, hi = block.from_day + plan.run_in, block.to_day + plan.run_in
        for name in block.instruments:
            inst = plan.instruments[name]
            series = np.clip(pay["nodes"][inst.reads[0]][:, lo:hi + 1].astype(np.float64), 0, 1)
            from .instruments import ema_prompts

            comp = inst.compliance if block.compliance is None else block.compliance
            df = ema_prompts(series, block.prompts_per_day, comp, rng,
                             momentary_sd=inst.momentary_sd, scale=inst.scale,
                             integer=inst.integer_prompts, dyad_ids=np.arange(n))
            rows = df["dyad_id"].to_numpy()
            day = df["day"].to_numpy().astype(np.int64) + block.from_day
            parts.append({"dyad_id": ids[rows], "arm": arm_names[rows], "timepoint": "ema",
                          "day": day,
                          "postpartum_day": (day - birth_study[rows]) if plan.pregnancy
                          else np.full(len(rows), np.nan),
                          "instrument": name, "prompt": df["prompt"].to_numpy(),
                          "value": df["value"].to_numpy(dtype=np.float64), "category": None})
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
        }))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(DATA_COLUMNS))
    return data, days


def _dropout_days(spec: TrialSpec, plan: Plan, pay: Mapping[str, Any], base_day: np.ndarray,
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
    cum = np.cumsum(h, axis=1)
    hit = cum >= e[:, None]
    any_hit = hit.any(axis=1)
    first = np.where(any_hit, hit.argmax(axis=1), 0)
    return np.where(any_hit, (first - plan.run_in).astype(np.float64), np.inf)


def _apply_dropout(data: pd.DataFrame, spec: TrialSpec, dropout: np.ndarray,
                   ids: np.ndarray) -> pd.DataFrame:
    pos = data["dyad_id"].to_numpy() - ids[0]
    lost = (data["day"].to_numpy() > dropout[pos]) & (data["timepoint"].to_numpy()
                                                      != spec.baseline)
    if lost.any():
        data.loc[lost, "value"] = np.nan
        data.loc[lost, "category"] = None
    return data


def _event_days(plan: Plan, pay: Mapping[str, Any], event: str) -> tuple[np.ndarray, np.ndarray]:
    """(study day of the first event or NaN, eligible) per dyad."""
    r0 = plan.run_in
    n = pay["ids"].shape[0]
    eligible = np.ones(n, dtype=bool)
    if event == "moud_discontinuation":
        m = pay["nodes"]["moud"][:, r0:]
        eligible = m[:, 0] > 0
        hit = m <= 0
    else:
        node = {"first_use": "opioid_use", "overdose": "overdose", "cps_report": "cps_report"}
        hit = pay["nodes"][node[event]][:, r0:] > 0
    any_hit = hit.any(axis=1)
    return np.where(any_hit, hit.argmax(axis=1).astype(np.float64), np.nan), eligible


# ------------------------------------------------------------------------------ analyse
def _z_p(est: float | None, se: float | None) -> float | None:
    from scipy import stats

    if est is None or se is None or not se or not math.isfinite(se):
        return None
    return float(2 * stats.norm.sf(abs(est / se)))


def _values_at(data: pd.DataFrame, instrument: str, timepoint: str, ids: np.ndarray,
               column: str = "value") -> np.ndarray:
    sub = data.loc[(data["instrument"] == instrument) & (data["timepoint"] == timepoint)]
    out = (np.full(ids.shape[0], np.nan) if column == "value"
           else np.full(ids.shape[0], None, dtype=object))
    out[sub["dyad_id"].to_numpy() - ids[0]] = sub[column].to_numpy()
    return out


def _scored(a, data, ids) -> np.ndarray:
    """0/1 (NaN missing) outcome of a binary / proportion analysis."""
    if a.category is not None:
        cats = _values_at(data, a.instrument, a.timepoint, ids, "category")
        out = np.array([np.nan if c is None else float(c == a.category) for c in cats])
        return out
    v = _values_at(data, a.instrument, a.timepoint, ids)
    pos = (v < a.cutoff) if a.below else (v >= a.cutoff)
    return np.where(np.isnan(v), np.nan, pos.astype(float))


def _proportion(a, y: np.ndarray, arms: np.ndarray, names: Sequence[str], alpha: float):
    """Shares per arm (Wilson CIs) and their difference (Newcombe's hybrid score CI,
    statsmodels ``confint_proportions_2indep(method="newcomb")``; p from the pooled
    two-proportion z test, or Fisher's exact test when an expected count is below 5)."""
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    from .analysis import wilson_ci

    per = {}
    for name in names:
        yy = y[(arms == name) & ~np.isnan(y)]
        k, n = float(yy.sum()), int(yy.size)
        lo, hi = wilson_ci(k, n, alpha)
        per[name] = {"share": k / n if n else math.nan, "ci_lower": lo, "ci_upper": hi,
                     "events": int(k), "n": n,
                     "n_missing": int(((arms == name) & np.isnan(y)).sum())}
    detail: dict[str, Any] = {"arms": per, "ci_method": "Wilson score", "alpha": alpha,
                              "outcome": ("category == " + repr(a.category)) if a.category
                              else f"value {'<' if a.below else '>='} {a.cutoff:g}"}
    if a.control is not None:
        t, c = per[a.treatment], per[a.control]
        if t["n"] == 0 or c["n"] == 0:
            raise ValueError(f"no non-missing outcomes in arm "
                             f"{a.treatment if t['n'] == 0 else a.control!r}")
        d = t["share"] - c["share"]
        lo, hi = confint_proportions_2indep(t["events"], t["n"], c["events"], c["n"],
                                            method="newcomb", alpha=alpha)
        table = [[t["events"], t["n"] - t["events"]], [c["events"], c["n"] - c["events"]]]
        expected = np.outer(np.sum(table, axis=1), np.sum(table, axis=0)) / (t["n"] + c["n"])
        if expected.min() < 5:
            p, test = float(stats.fisher_exact(table)[1]), "Fisher's exact test"
        else:
            pool = (t["events"] + c["events"]) / (t["n"] + c["n"])
            se = math.sqrt(pool * (1 - pool) * (1 / t["n"] + 1 / c["n"]))
            p, test = _z_p(d, se) if se > 0 else 1.0, "two-proportion z test (pooled)"
        detail["difference"] = {"estimate": d, "ci_lower": float(lo), "ci_upper": float(hi),
                                "p": p, "ci_method": "Newcombe hybrid score", "test": test}
        return detail, (d, float(lo), float(hi), p)
    if a.treatment is not None:
        s = per[a.treatment]
    else:
        yy = y[~np.isnan(y)]
        lo, hi = wilson_ci(float(yy.sum()), yy.size, alpha)
        s = {"share": float(yy.mean()) if yy.size else math.nan, "ci_lower": lo,
             "ci_upper": hi}
        detail["all"] = s
    return detail, (s["share"], s["ci_lower"], s["ci_upper"], None)


def _run_analysis(spec: TrialSpec, plan: Plan, a, data: pd.DataFrame, pay: Mapping[str, Any],
                  dropout: np.ndarray, seed: int, alpha: float) -> dict[str, Any]:
    ids = pay["ids"]
    arms = np.array(spec.arm_names, dtype=object)[pay["arm"]]
    base = spec.baseline
    m = a.method
    est = lo = hi = p = None
    if m == "lmm":
        d = lmm_arm_by_time(data.loc[data["timepoint"] != "ema"], a.instrument,
                            treatment=a.treatment, control=a.control, baseline=base,
                            alpha=alpha)
        tp = a.timepoint or d["timepoints"][-1]
        c = d["contrasts"].get(tp)
        if c is None:
            raise ValueError(f"no contrast at timepoint {tp!r}")
        est, lo, hi, p = c["estimate"], c["ci_lower"], c["ci_upper"], c["p"]
    elif m == "binary":
        y = _scored(a, data, ids)
        d = binary_outcome(y, arms, treatment=a.treatment, control=a.control, alpha=alpha)
        rr = d["risk_ratio"]
        if a.effect == "risk_ratio":
            est, lo, hi, p = rr["estimate"], rr["ci_lower"], rr["ci_upper"], rr["p"]
        elif a.effect == "odds_ratio":
            o = d["odds_ratio"]
            est, lo, hi, p = o["estimate"], o["ci_lower"], o["ci_upper"], o["p"]
        elif a.effect == "relative_reduction":
            r_ = d["relative_reduction"]
            est, lo, hi, p = r_["estimate"], r_["ci_lower"], r_["ci_upper"], rr["p"]
        else:
            r_ = d["risk_difference"]
            est, lo, hi, p = r_["estimate"], r_["ci_lower"], r_["ci_upper"], r_["p"]
    elif m in ("cohens_d", "change_d"):
        v = _values_at(data, a.instrument, a.timepoint, ids)
        if m == "change_d":
            v = v - _values_at(data, a.instrument, base, ids)
        d = cohens_d(v[arms == a.treatment], v[arms == a.control],
                     hedges=a.effect == "hedges_g", alpha=alpha)
        est, lo, hi = d["estimate"], d["ci_lower"], d["ci_upper"]
        p = _z_p(est, d["se"])
    elif m == "pre_post":
        rows = arms == a.treatment if a.treatment is not None else np.ones(len(ids), bool)
        pre = _values_at(data, a.instrument, base, ids)[rows]
        post = _values_at(data, a.instrument, a.timepoint, ids)[rows]
        d = standardized_mean_change(pre, post, kind=a.effect, alpha=alpha)
        est, lo, hi = d["estimate"], d["ci_lower"], d["ci_upper"]
        p = _z_p(est, d["se"])
    elif m == "ema":
        sub = data.loc[(data["timepoint"] == "ema") & (data["instrument"] == a.instrument),
                       ["dyad_id", "arm", "day", "prompt", "value"]].copy()
        sub["prompt"] = sub["prompt"].astype(np.int64)
        d = ema_mlm(sub, treatment=a.treatment, control=a.control, alpha=alpha)
        if a.effect == "difference":
            e = d["arm_effect"]
            est, lo, hi, p = e["estimate"], e["ci_lower"], e["ci_upper"], e["p"]
        else:
            e = d["relative_difference"]
            est, lo, hi, p = e["estimate"], e["ci_lower"], e["ci_upper"], d["arm_effect"]["p"]
    elif m == "cox":
        event_day, eligible = _event_days(plan, pay, a.event)
        rows = eligible & np.isin(arms, [a.treatment, a.control])
        last = float(plan.study_days - 1)
        cens = np.minimum(dropout, last)
        happened = ~np.isnan(event_day) & (np.nan_to_num(event_day, nan=np.inf) <= cens)
        time = np.where(happened, event_day, cens) + 1.0
        d = cox_ph(time[rows], happened[rows].astype(float),
                   (arms[rows] == a.treatment).astype(float), alpha=alpha)
        d["n_excluded_not_eligible"] = int((~eligible & np.isin(arms, [a.treatment,
                                                                      a.control])).sum())
        h = d["hazard_ratio"]
        est, lo, hi, p = h["estimate"], h["ci_lower"], h["ci_upper"], h["p"]
    elif m == "mediation":
        rows = np.isin(arms, [a.treatment, a.control])
        outcome = _values_at(data, a.instrument, a.timepoint, ids)
        if a.mediator_timepoint is not None:
            med = _values_at(data, a.mediator, a.mediator_timepoint, ids)
        else:
            sub = data.loc[(data["timepoint"] == "ema") & (data["instrument"] == a.mediator)]
            means = sub.groupby("dyad_id")["value"].mean()
            med = np.full(len(ids), np.nan)
            med[means.index.to_numpy() - ids[0]] = means.to_numpy()
        frame = pd.DataFrame({"treatment": (arms[rows] == a.treatment).astype(float),
                              "mediator": med[rows], "outcome": outcome[rows]})
        d = mediation(frame, treatment_col="treatment", mediator_col="mediator",
                      outcome_col="outcome", n_boot=a.n_boot, seed=seed, alpha=alpha)
        ind = d["indirect"]
        est, lo, hi = ind["estimate"], ind["ci_lower"], ind["ci_upper"]
        p = _z_p(est, ind["sobel_se"])
    elif m == "proportion":
        y = _scored(a, data, ids)
        d, (est, lo, hi, p) = _proportion(a, y, arms, spec.arm_names, alpha)
    else:  # pragma: no cover - validated in design
        raise ValueError(f"unknown method {m!r}")
    if m == "mediation":
        sig = (lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
               and (lo > 0 or hi < 0))
    else:
        sig = None if p is None or not math.isfinite(p) else bool(p < alpha)
    return {"estimate": est, "ci_lower": lo, "ci_upper": hi, "p": p, "significant": sig,
            "detail": d}


def _describe(a) -> dict[str, Any]:
    out = {"method": a.method, "effect": a.effect, "primary": a.primary}
    for k in ("instrument", "event", "timepoint", "cutoff", "category", "treatment", "control",
              "mediator", "mediator_timepoint", "direction"):
        v = getattr(a, k)
        if v is not None:
            out[k] = v
    if a.method in ("binary", "proportion") and a.category is None:
        out["below"] = a.below
    return out


def _replicate(spec: TrialSpec, replicate: int, pay: Mapping[str, Any],
               analyses: Sequence[str] | None = None, keep_data: bool = True,
               plan: Plan | None = None) -> dict[str, Any]:
    """Measure, lose to follow-up and analyse one replicate (runs in a worker)."""
    plan = plan or plan_trial(spec)
    st = _streams(spec.seed, replicate)
    data, days = _measure(spec, plan, pay, st["measurement"])
    dropout = _dropout_days(spec, plan, pay, days[spec.baseline], st["dropout"])
    data = _apply_dropout(data, spec, dropout, pay["ids"])
    alpha = spec.trial.alpha
    arms = np.array(spec.arm_names, dtype=object)[pay["arm"]]
    results: dict[str, Any] = {}
    wanted = None if analyses is None else set(analyses)
    for a in spec.analysis:
        if wanted is not None and a.name not in wanted:
            continue
        seed = _analysis_seed(spec.seed, replicate, a.name)
        res = _describe(a)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = _run_analysis(spec, plan, a, data, pay, dropout, seed, alpha)
            res.update(out)
            res["error"] = None
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
            res.update({"estimate": None, "ci_lower": None, "ci_upper": None, "p": None,
                        "significant": None, "error": " ".join(str(exc).split())})
        results[a.name] = _jsonable(res)
    last = max(days.values(), key=lambda d: float(np.mean(d)))
    lost = dropout < last
    results["arms"] = {name: int((arms == name).sum()) for name in spec.arm_names}
    results["dropout"] = _jsonable({
        "definition": "share of dyads lost to follow-up before the assessment",
        "overall": float(lost.mean()),
        "by_arm": {name: float(lost[arms == name].mean()) if (arms == name).any() else None
                   for name in spec.arm_names},
        "by_timepoint": {tp: float((dropout < d).mean()) for tp, d in days.items()},
    })
    out: dict[str, Any] = {"replicate": replicate, "results": results}
    if keep_data:
        out["data"] = data
        out["dropout_day"] = dropout
    return out


def _replicate_task(args: tuple) -> dict[str, Any]:
    spec, replicate, pay, analyses = args
    return _replicate(spec, replicate, pay, analyses, keep_data=False)


# ------------------------------------------------------------------------------ public
def _prepare(spec: TrialSpec | str | Path | Mapping[str, Any], seed: int | None) -> TrialSpec:
    s = load_spec(spec)
    if seed is not None:
        s = s.with_changes(seed=seed)
    return s


def _arm_parameters(plan: Plan, spec: TrialSpec) -> dict[str, dict[str, float]]:
    from ..model.params import Parameters

    return {arm.name: Parameters({**plan.population.params, **plan.arm_params[i]}).to_dict()
            for i, arm in enumerate(spec.arms)}


def _plan_info(plan: Plan) -> dict[str, Any]:
    return {"run_in_days": plan.run_in, "study_start": plan.study_start,
            "simulation_start": plan.sim_start, "horizon_days": plan.horizon_days,
            "study_days": plan.study_days, "simulated_days": plan.total_days,
            "recorded_nodes": list(plan.nodes), "pregnancy": plan.pregnancy}


def run_trial(spec: TrialSpec | str | Path | Mapping[str, Any], *, seed: int | None = None,
              replicate: int = 0, progress: Progress | None = None) -> TrialResult:
    """Run one in-silico trial (replicate ``replicate`` of the design; see the module
    docstring for the seeds). ``progress(stage, done, total)`` is called as dyads are
    simulated (stage ``"simulating"``) and once the analysis is done (``"analysing"``)."""
    import xarray as xr

    spec = _prepare(spec, seed)
    if isinstance(replicate, bool) or not isinstance(replicate, int | np.integer) \
            or replicate < 0:
        raise TrialSpecError(f"replicate must be a non-negative integer, got {replicate!r}")
    replicate = int(replicate)
    if (replicate + 1) * spec.n > 2**31:
        raise TrialSpecError("replicate x n exceeds the dyad id range (2^31)")
    plan = plan_trial(spec)
    sims = spec.n * (2 if spec.randomization.method == "stratified" else 1)
    done = [0]

    def sim_progress(m: int) -> None:
        done[0] += m
        if progress is not None:
            progress("simulating", done[0], sims)

    assignment = _assign(spec, plan, [replicate], sim_progress)
    pays, datasets = _payloads(spec, plan, [replicate], assignment, sim_progress,
                               keep_datasets=True)
    pay = pays[replicate]
    out = _replicate(spec, replicate, pay, plan=plan)
    if progress is not None:
        progress("analysing", 1, 1)

    parameters = _arm_parameters(plan, spec)
    parts = []
    for a, ds in datasets[replicate]:
        ds = ds.copy()
        ds.attrs = {}
        ds["arm"] = ("dyad", np.full(ds.sizes["dyad"], spec.arms[a].name, dtype=object)
                     .astype(str))
        pos = ds["dyad"].values - pay["ids"][0]
        ds["dropout_day"] = ("dyad", out["dropout_day"][pos])
        parts.append(ds)
    latent = xr.concat(parts, dim="dyad", combine_attrs="drop") if parts else xr.Dataset()
    if "time" in latent.coords:
        latent = latent.assign_coords(time=latent["time"].values - plan.run_in)
        latent["time"].attrs = {"long_name": "study day (negative: run-in)", "units": "days"}
    latent["dropout_day"].attrs = {"long_name": "last study day observed (inf: not lost)"}
    latent.attrs = {
        "title": "dyadsim in-silico trial: latent trajectories",
        "trial": spec.trial.name,
        "seed": spec.seed,
        "replicate": replicate,
        "run_in_days": plan.run_in,
        "arms": json.dumps(spec.arm_names),
        "population": json.dumps(plan.population.to_dict()),
        "parameters": json.dumps(parameters),
    }
    return TrialResult(spec=spec, seed=spec.seed, replicate=replicate, data=out["data"],
                       latent=latent, results=out["results"], parameters=parameters,
                       plan_info=_plan_info(plan))


#: The null value of each effect: ratios compare with 1, everything else with 0.
NULL_VALUE = {"risk_ratio": 1.0, "odds_ratio": 1.0, "hazard_ratio": 1.0}


def _summaries(spec: TrialSpec, per_rep: list[dict[str, Any]], names: Sequence[str],
               alpha: float) -> dict[str, Any]:
    """Per analysis: the estimate over replicates and honest power (every replicate in the
    denominator; only rejections in the pre-specified ``direction`` count)."""
    from .analysis import wilson_ci

    out: dict[str, Any] = {}
    by_name = {a.name: a for a in spec.analysis}
    for name in names:
        a = by_name[name]
        null = NULL_VALUE.get(a.effect, 0.0)
        rows = []
        for rep in per_rep:
            r = rep["results"][name]
            est, sig = r.get("estimate"), r.get("significant")
            right = (sig is True and est is not None
                     and (a.direction is None or (est > null if a.direction == "increase"
                                                  else est < null)))
            rows.append({"replicate": rep["replicate"], "estimate": est,
                         "ci_lower": r.get("ci_lower"), "ci_upper": r.get("ci_upper"),
                         "p": r.get("p"), "significant": sig, "rejected": bool(right),
                         "error": r.get("error")})
        summary = summarize_replicates(
            [{"estimate": r["estimate"], "p": r["p"]} for r in rows], alpha=alpha,
            direction=a.direction, null=null)
        sig = [r["significant"] for r in rows if r["significant"] is not None]
        k = sum(r["rejected"] for r in rows)
        ests = np.array([r["estimate"] for r in rows if r["estimate"] is not None], float)
        out[name] = {
            **_describe(a),
            "summary": summary,
            "significance": ("bootstrap CI excludes 0" if a.method == "mediation"
                             else f"p < {alpha:g}")
            + ("" if a.direction is None else f", estimate {a.direction}d from {null:g}"),
            "null_value": null,
            "power": k / len(rows),
            "power_ci": list(wilson_ci(k, len(rows), 0.05)),
            "rejections": k,
            "n_failed": sum(r["error"] is not None or r["significant"] is None for r in rows),
            "n_wrong_direction": sum(bool(r["significant"]) and not r["rejected"]
                                     for r in rows),
            "share_significant": sum(sig) / len(sig) if sig else None,
            "n_significance_defined": len(sig),
            "estimate_percentiles": ({q: float(np.percentile(ests, float(q)))
                                      for q in ("2.5", "25", "50", "75", "97.5")}
                                     if ests.size else None),
            "errors": sorted({r["error"] for r in rows if r["error"]}),
            "replicates": rows,
        }
    return out


def _batches(spec: TrialSpec, plan: Plan, replicates: int) -> list[list[int]]:
    per_rep = max(1, spec.n * plan.total_days * (len(plan.nodes) + 1))
    size = max(1, min(replicates, BATCH_CELLS // per_rep))
    return [list(range(i, min(i + size, replicates))) for i in range(0, replicates, size)]


def _checkpoint_open(folder: str | Path, spec: TrialSpec, names: Sequence[str],
                     replicates: int) -> tuple[Path, dict[int, dict[str, Any]]]:
    """The checkpoint folder (created) and the replicates already finished in it.

    A checkpoint belongs to one spec and one list of analyses (a fingerprint in
    ``checkpoint.json``); each finished replicate is one ``rep-NNNNNN.json`` written
    atomically, so a crash loses at most the replicates in flight."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    from .. import __version__

    ident = {"spec": spec.to_dict(), "analyses": list(names), "version": __version__}
    finger = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()
    meta = path / "checkpoint.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old != finger:
            raise TrialSpecError(f"checkpoint folder {path} belongs to another trial spec or "
                                 "dyadsim version; remove it or choose another")
    else:
        _atomic_text(meta, json.dumps({"fingerprint": finger, "trial": spec.trial.name}))
    done: dict[int, dict[str, Any]] = {}
    for f in sorted(path.glob("rep-*.json")):
        r = int(f.stem.split("-")[1])
        if r < replicates:
            done[r] = json.loads(f.read_text())
    return path, done


def run_replicates(spec: TrialSpec | str | Path | Mapping[str, Any], replicates: int, *,
                   executor: cf.Executor | None = None, workers: int | None = None,
                   progress: Progress | None = None, analyses: Sequence[str] | None = None,
                   seed: int | None = None,
                   checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Run ``replicates`` replicate trials (ids and seeds as in the module docstring) and
    summarise every analysis (or only those named in ``analyses``) over them.

    Simulation runs in this process, one ``simulate`` call per arm for a batch of
    replicates; measurement and analysis of each replicate are submitted to ``executor``
    (any ``concurrent.futures.Executor``, e.g. a Dask ``Client.get_executor()``). Without
    one, ``workers=1`` runs serially here and otherwise a ``ProcessPoolExecutor`` with
    ``workers`` (default: CPU count) "spawn" processes is used. Results do not depend on
    the executor, the number of workers or the batching.

    ``checkpoint``: a folder where each finished replicate is saved as it completes; a run
    interrupted (crash, Ctrl-C) and started again with the same folder computes only the
    missing replicates and returns exactly what an uninterrupted run returns.

    Returns a JSON-able dict: ``analyses`` (per name: ``summary`` from
    :func:`summarize_replicates`, ``share_significant`` with a Wilson CI, estimate
    percentiles, and ``replicates``: the per-replicate estimate, CI, p, significant,
    error), ``arms`` (mean n per arm), ``dropout`` (mean overall share) and the seeds.
    """
    spec = _prepare(spec, seed)
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) \
            or replicates < 1:
        raise TrialSpecError(f"replicates must be a positive integer, got {replicates!r}")
    replicates = int(replicates)
    if replicates * spec.n > 2**31:
        raise TrialSpecError("replicates x n exceeds the dyad id range (2^31)")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise TrialSpecError(f"workers must be a positive integer, got {workers!r}")
    names = [a.name for a in spec.analysis]
    if analyses is not None:
        bad = [a for a in analyses if a not in names]
        if bad:
            raise TrialSpecError(f"analysis: unknown analysis {bad[0]!r}; known: "
                                 f"{', '.join(names) or 'none'}")
        names = [a for a in names if a in set(analyses)]
    plan = plan_trial(spec)
    results: dict[int, dict[str, Any]] = {}
    ckpt = None
    if checkpoint is not None:
        ckpt, results = _checkpoint_open(checkpoint, spec, names, replicates)
    batches = [[r for r in b if r not in results] for b in _batches(spec, plan, replicates)]
    batches = [b for b in batches if b]

    def finish(res: dict[str, Any]) -> None:
        # JSON round trip: a resumed run and an uninterrupted one summarise identical data
        res = json.loads(json.dumps(_jsonable(res)))
        results[res["replicate"]] = res
        if ckpt is not None:
            _atomic_text(ckpt / f"rep-{res['replicate']:06d}.json", json.dumps(res))
        if progress is not None:
            progress("analysing", len(results), replicates)

    todo = sum(len(b) for b in batches)
    sims = todo * spec.n * (2 if spec.randomization.method == "stratified" else 1)
    sim_done = [0]

    def sim_progress(m: int) -> None:
        sim_done[0] += m
        if progress is not None:
            progress("simulating", sim_done[0], sims)

    with owned_executor(executor, workers, todo) as (ex, _):
        max_pending = 2 * (workers or default_workers()) + 2
        pending: set[cf.Future] = set()
        for reps in batches:
            assignment = _assign(spec, plan, reps, sim_progress)
            pays, _ = _payloads(spec, plan, reps, assignment, sim_progress)
            for r in reps:
                pay = pays.pop(r)
                if ex is None:
                    finish(_replicate(spec, r, pay, names, keep_data=False, plan=plan))
                    continue
                pending.add(ex.submit(_replicate_task, (spec, r, pay, names)))
                while len(pending) > max_pending:
                    done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for f in done:
                        finish(f.result())
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in done:
                finish(f.result())

    per_rep = [results[r] for r in range(replicates)]
    alpha = spec.trial.alpha
    arms_n = {a: float(np.mean([p["results"]["arms"][a] for p in per_rep]))
              for a in spec.arm_names}
    return _jsonable({
        "trial": spec.trial.name,
        "citation": spec.trial.citation,
        "n": spec.n,
        "replicates": replicates,
        "seed": spec.seed,
        "seed_derivation": SEED_DERIVATION,
        "alpha": alpha,
        "plan": _plan_info(plan),
        "arms_mean_n": arms_n,
        "dropout_mean": float(np.mean([p["results"]["dropout"]["overall"] for p in per_rep])),
        "analyses": _summaries(spec, per_rep, names, alpha),
    })


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


# ------------------------------------------------------------------------------ write
def manifest(result: TrialResult, *, replicates: Mapping[str, Any] | None = None,
             files: Sequence[str] = (), command: str | None = None) -> dict[str, Any]:
    from .. import __version__

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
        "files": list(files),
    }
    return _jsonable(m)


def write_trial(result: TrialResult, out_dir: str | Path, *, force: bool = False,
                replicates: Mapping[str, Any] | None = None,
                command: str | None = None) -> Path:
    """Write ``data.parquet``, ``latent.nc`` (h5netcdf), ``results.json`` and
    ``manifest.json`` (plus ``replicates.json`` and ``replicates.parquet`` when
    ``replicates``, a :func:`run_replicates` result, is given) into ``out_dir``. The folder
    appears complete or not at all (written to a temporary folder, then renamed); an
    existing non-empty folder is replaced only with ``force``."""
    out = Path(out_dir).absolute()
    check_out_dir(out, force)
    files = ["data.parquet", "latent.nc", "results.json", "manifest.json"]
    if replicates is not None:
        files += ["replicates.json", "replicates.parquet"]
    man = manifest(result, replicates=replicates, files=files, command=command)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
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
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
