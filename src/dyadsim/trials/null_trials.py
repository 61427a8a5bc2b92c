"""Null trials on the production analysis path: synthetic two-arm data with no treatment
effect, in the long format a simulated trial produces, analysed by the method's own
registry entry (:data:`.methods.METHODS`), for the type-I error and CI coverage of every
primary method (``benchmarks/null_sims.py`` runs the cells; ``tests/trials/test_null_level.py``
one cell per method; docs/trial-statistics.md has the table).

The data (per dyad; arms equal):

* ancova, binary, lmm: an outcome instrument (``pss10``) at baseline, post (day 56) and
  follow-up (day 146), y_t = b + u + e_t with a dyad effect u and a baseline b; an auxiliary
  instrument (``ffmq``) at baseline correlated 0.5 with b. Missing: the follow-up visits
  (monotone: half the lost dyads miss post and follow-up, half only follow-up), share
  ``share`` of dyads, MCAR or with logit P(missing) = logit(share) + (b + aux) (MAR).
  ancova analyses follow-up adjusted for baseline; binary the share with follow-up >= 0 (a
  risk ratio); lmm the cLDA contrast at follow-up.
* mediation: mediator ``ffmq`` at post, outcome ``pss10`` at follow-up, a = 0 (the arm does
  not move the mediator), b = 1 with the mediator's SD given its baseline 1 (b / SE about 4
  at 20 per arm with 40% missing): the null of a*b at which a test has close to its full
  size. With b small against its SE (before: b = 0.5, residual SD 0.5, b / SE about 1) or
  both paths 0 every test of a*b is far below nominal (0 of 500 rejections). Missing as
  above.
* cox: time to ``overdose`` from exponential event times (about 40% with an event by the
  end), equal in both arms; ``share`` of dyads lost to follow-up at a uniform time (MAR:
  earlier for a higher baseline).
* ema: ``ema_craving`` twice a day over 28 days with dyad, day and prompt variance; 80%
  compliance; ``share`` of dyads lost at a uniform day (MAR: earlier for a higher
  baseline), their later prompts missing.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from .measurement import DATA_COLUMNS
from .methods import METHODS, AnalysisInput
from .plan import plan_trial
from .spec import parse_spec

__all__ = ["ALL_METHODS", "MECHANISMS", "null_spec", "null_trial", "run_cell"]

ALL_METHODS = ("ancova", "binary", "lmm", "cox", "mediation", "ema")
MECHANISMS = ("MCAR", "MAR")
DAYS = {"baseline": 0, "post": 56, "fu": 146}
EMA_DAYS, PROMPTS = 28, 2


def null_spec(n_per_arm: int, method: str, imputations: int):
    analysis = {"name": "primary", "method": method, "treatment": "A", "control": "B"}
    if method in ("ancova", "lmm"):
        analysis.update(instrument="pss10", timepoint="fu")
    elif method == "binary":
        analysis.update(instrument="pss10", timepoint="fu", cutoff=0.0)
    elif method == "mediation":
        analysis.update(instrument="pss10", timepoint="fu", mediator="ffmq",
                        mediator_timepoint="post", n_boot=10)
    elif method == "cox":
        analysis.update(event="overdose")
    elif method == "ema":
        analysis.update(instrument="ema_craving", effect="difference")
    if method != "cox":
        analysis["imputations"] = imputations
    return parse_spec({
        "trial": {"name": "null", "n": 2 * n_per_arm, "seed": 1, "horizon": "5m",
                  "citation": "benchmarks/null_sims.py (synthetic null trial)"},
        "population": {"preset": "adult_chronic_pain_ltot"},
        "arms": [{"name": "A", "interventions": ["tau"]},
                 {"name": "B", "interventions": ["tau"]}],
        "assessments": [{"name": k, "day": d, "instruments": ["pss10", "ffmq"]}
                        for k, d in DAYS.items()],
        "ema": [{"instruments": ["ema_craving"], "from_day": 0, "to_day": EMA_DAYS - 1,
                 "prompts_per_day": PROMPTS}],
        "analysis": [analysis],
    })


def _missing(rng, score: np.ndarray, share: float, mechanism: str) -> np.ndarray:
    """Which dyads lose their follow-up: MCAR, or MAR on ``score`` (a baseline)."""
    if share <= 0:
        return np.zeros(score.size, bool)
    if mechanism == "MCAR":
        return rng.random(score.size) < share
    logit = math.log(share / (1 - share)) + score
    return rng.random(score.size) < 1 / (1 + np.exp(-logit))


def _rows(ids, arms, timepoint, day, instrument, values) -> pd.DataFrame:
    m = len(values)
    return pd.DataFrame({"dyad_id": ids, "arm": arms, "timepoint": timepoint,
                         "day": np.full(m, day, np.int64) if np.ndim(day) == 0 else day,
                         "postpartum_day": np.nan, "instrument": instrument,
                         "prompt": pd.array([pd.NA] * m, dtype="Int64"), "value": values,
                         "category": None, "missing_reason": None, "caregiver": None})


def null_trial(rng, method: str, n: int, share: float, mechanism: str, spec, plan):
    """One null trial's AnalysisInput."""
    ids = np.arange(2 * n)
    arms = np.repeat(np.array(["A", "B"], dtype=object), n)
    b = rng.normal(size=2 * n)
    aux = 0.5 * b + math.sqrt(0.75) * rng.normal(size=2 * n)
    lost = _missing(rng, b + aux, share, mechanism)
    frames = []
    nodes = {"opioid_use": np.zeros((2 * n, 1)), "moud": np.zeros((2 * n, 1))}
    dropout = np.full(2 * n, np.inf)
    if method in ("ancova", "binary", "lmm", "mediation"):
        u = 0.5 * rng.normal(size=2 * n)
        post = b + u + rng.normal(size=2 * n)
        fu = b + u + rng.normal(size=2 * n)
        med_post = aux + 0.5 * rng.normal(size=2 * n)
        if method == "mediation":
            med_post = aux + rng.normal(size=2 * n)
            fu = med_post + 0.5 * b + rng.normal(size=2 * n)
        # monotone: half of the lost miss both follow-ups, half only the last
        early = lost & (rng.random(2 * n) < 0.5)
        frames += [_rows(ids, arms, "baseline", 0, "pss10", b),
                   _rows(ids, arms, "baseline", 0, "ffmq", aux),
                   _rows(ids, arms, "post", 56, "pss10", np.where(early, np.nan, post)),
                   _rows(ids, arms, "post", 56, "ffmq", np.where(early, np.nan, med_post)),
                   _rows(ids, arms, "fu", 146, "pss10", np.where(lost, np.nan, fu)),
                   _rows(ids, arms, "fu", 146, "ffmq", np.full(2 * n, np.nan))]
    elif method == "cox":
        horizon = plan.study_days
        t = rng.exponential(horizon / 0.5, 2 * n)
        when = np.where(lost, rng.uniform(0, horizon - 1, 2 * n), np.inf)
        if mechanism == "MAR":
            when = np.where(lost, when * np.exp(-0.5 * np.clip(b + aux, -2, 2)), np.inf)
        dropout = np.floor(when)
        series = np.zeros((2 * n, plan.total_days), np.float32)
        day = np.floor(t).astype(int)
        hit = day < horizon
        series[np.flatnonzero(hit), plan.run_in + day[hit]] = 1.0
        nodes["overdose"] = series
        frames.append(_rows(ids, arms, "baseline", 0, "pss10", b))
    elif method == "ema":
        stop = np.where(lost, rng.integers(1, EMA_DAYS, 2 * n), EMA_DAYS)
        if mechanism == "MAR":
            stop = np.where(lost, np.maximum(1, (stop * np.exp(-0.4 * np.clip(
                b + aux, -2, 2))).astype(int)), EMA_DAYS)
        dyad = np.repeat(ids, EMA_DAYS * PROMPTS)
        day = np.tile(np.repeat(np.arange(EMA_DAYS), PROMPTS), 2 * n)
        prompt = np.tile(np.arange(PROMPTS), 2 * n * EMA_DAYS)
        level = (0.5 * b)[dyad] + (0.5 * rng.normal(size=2 * n))[dyad]
        daily = 0.3 * rng.normal(size=(2 * n, EMA_DAYS))[dyad, day]
        value = 3.0 + level + daily + 0.7 * rng.normal(size=dyad.size)
        answered = (rng.random(dyad.size) < 0.8) & (day < stop[dyad])
        ema = _rows(ids[dyad], arms[dyad], "ema", day, "ema_craving",
                    np.where(answered, value, np.nan))
        ema["prompt"] = pd.array(prompt, dtype="Int64")
        frames += [_rows(ids, arms, "baseline", 0, "pss10", b),
                   _rows(ids, arms, "baseline", 0, "ffmq", aux), ema]
    data = pd.concat(frames, ignore_index=True)[list(DATA_COLUMNS)]
    return AnalysisInput(spec=spec, plan=plan, data=data, ids=ids, arms=arms,
                         dropout=dropout, nodes=nodes, seed=int(rng.integers(2**31)),
                         alpha=0.05, sensitivity=False)


def run_cell(method: str, n: int, share: float, mechanism: str, trials: int, seed: int,
             imputations: int) -> dict[str, float]:
    spec = null_spec(n, method, imputations)
    plan = plan_trial(spec)
    a = spec.analysis[0]
    null = METHODS[method].null(a.effect)
    reject = cover = failed = 0
    t0 = time.perf_counter()
    for k in range(trials):
        rng = np.random.default_rng([seed, n, int(share * 100), len(mechanism), k])
        inp = null_trial(rng, method, n, share, mechanism, spec, plan)
        try:
            est = METHODS[method].run(inp, a)
        except (ValueError, ZeroDivisionError, np.linalg.LinAlgError):
            failed += 1
            continue
        if est.p is None or not math.isfinite(est.p):
            failed += 1
            continue
        reject += est.p < 0.05
        lo = -math.inf if est.ci_lower is None else est.ci_lower  # None: an unbounded side
        hi = math.inf if est.ci_upper is None else est.ci_upper
        cover += lo <= null <= hi
    size, coverage = reject / trials, cover / trials
    return {"method": method, "n_per_arm": n, "missing": share, "mechanism": mechanism,
            "trials": trials, "type_i": size, "type_i_mcse": math.sqrt(size * (1 - size) / trials),
            "coverage": coverage,
            "coverage_mcse": math.sqrt(coverage * (1 - coverage) / trials),
            "failed": failed / trials, "seconds": time.perf_counter() - t0}
