"""One in-silico randomised trial: randomise, simulate each arm, measure, lose dyads to
follow-up, analyse (:func:`run_trial`; one replicate of a design).

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

Analyses
--------
Every analysis result is its method's :class:`~dyadsim.trials.methods.Estimate`
(``estimate``/``ci_lower``/``ci_upper``/``p``/``significant``, the ``estimand`` and the
``missing_data`` method in words, ``flags``, ``sensitivity`` and the full ``detail``)
plus the analysis' description. ``significant`` is p < alpha (``[trial] alpha``). An
analysis that cannot be computed on a replicate (e.g. no events) reports ``error`` and
None values instead of stopping the run.
"""

from __future__ import annotations

import json
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import _jsonable
from .measurement import apply_dropout, dropout_days, measure
from .methods import METHODS, AnalysisInput, intercurrent_strategy
from .plan import OUTCOME_READS, Plan, plan_trial
from .randomisation import randomize, stratum_codes
from .spec import TrialSpec, TrialSpecError, load_spec

__all__ = ["SEED_DERIVATION", "TrialResult", "draw_parameters", "replicate_seed_sequence",
           "run_trial", "simulate_arm"]

Progress = Callable[[str, int, int], None]

SEED_DERIVATION = (
    "replicate r uses dyad ids r*N..r*N+N-1 and np.random.SeedSequence(seed, spawn_key=(r,)) "
    "(= SeedSequence(seed).spawn(R)[r]); its .spawn(4) children seed numpy default_rng "
    "streams for [randomisation, measurement, dropout, analysis]; every arm is simulated "
    "with the trial seed"
)
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


Thetas = Mapping[int, Mapping[str, float]]


def draw_parameters(plan: Plan, theta: Mapping[str, float] | None,
                    arm: int | None) -> dict[str, float]:
    """The parameters an arm runs with under parameter draw ``theta`` (a posterior draw;
    None: the declared values):
    the population's own values shifted by the draw's departure from the defaults
    (as calibration replicates a study), then the arm's interventions' parameters
    (:func:`dyadsim.model.params.run_parameters`)."""
    from ..model.params import run_parameters

    return run_parameters(plan.population.params, theta=theta,
                          interventions=None if arm is None else plan.arm_params[arm])


def _row_params(plan: Plan, thetas: Thetas | None, counts: Mapping[int, int],
                arm: int | None) -> dict[str, np.ndarray] | None:
    """Per-dyad arrays of every declared parameter: replicate ``r``'s ``counts[r]`` dyads
    under its draw (one compiled shape whatever the draws hold)."""
    if thetas is None:
        return None
    from ..model.params import PARAMS

    full = {r: draw_parameters(plan, thetas[r], arm) for r in counts}
    return {k: np.concatenate([np.full(c, full[r].get(k, p.default), np.float32)
                               for r, c in counts.items()])
            for k, p in PARAMS.items()}


def simulate_arm(spec: TrialSpec, plan: Plan, ids: np.ndarray, arm: int | None, *,
                 thetas: Thetas | None = None, counts: Mapping[int, int] | None = None,
                 record: str = "daily", progress: Callable[[int], None] | None = None):
    """Simulate arm ``arm`` of the trial (None: no intervention) for dyads ``ids``, as the
    trial runs it; with ``thetas``, consecutive blocks of ``counts[key]`` dyads run under
    draw ``thetas[key]``. ``record="none"`` keeps only the per-dyad outcomes."""
    return _simulate(spec, plan, ids, arm, progress,
                     _row_params(plan, thetas, counts or {}, arm), record)


def _simulate(spec: TrialSpec, plan: Plan, ids: np.ndarray, arm: int | None,
              progress: Callable[[int], None] | None = None,
              row_params: Mapping[str, np.ndarray] | None = None, record: str = "daily"):
    from ..simulation import simulate

    params = {} if arm is None else dict(plan.arm_params[arm])
    sched = None if arm is None else plan.arm_schedule(arm, len(ids))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate(_scenario(spec), dyads=int(len(ids)), seed=spec.seed,
                        start=plan.sim_start, horizon=plan.sim_horizon, record=record,
                        nodes=plan.nodes, schedule=sched, dyad_ids=ids.astype(np.int64),
                        params=params, progress=progress, row_params=row_params)


def _baseline_strata(spec: TrialSpec, plan: Plan, ids: np.ndarray,
                     progress: Callable[[int], None] | None,
                     row_params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Stratum nodes at study day 0 of a run without intervention (dyads x strata)."""
    ds = _simulate(spec, plan, ids, None, progress, row_params)
    return np.column_stack([ds[s].values[:, plan.run_in] for s in spec.randomization.strata])


def _outcome_names(plan: Plan) -> list[str]:
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


def payloads(spec: TrialSpec, plan: Plan, reps: Sequence[int],
              assignments: Mapping[int, np.ndarray], progress: Callable[[int], None] | None,
              keep_datasets: bool = False, thetas: Thetas | None = None):
    """Simulate every arm once for all replicates in ``reps``; split per replicate.
    ``thetas[r]``: replicate ``r``'s parameter draw (its dyads run under it)."""
    n = spec.n
    outs = _outcome_names(plan)
    pay: dict[int, dict[str, Any]] = {}
    for r in reps:
        pay[r] = {"ids": np.arange(r * n, r * n + n, dtype=np.int64),
                  "arm": assignments[r].astype(np.int64),
                  "nodes": {k: np.empty((n, plan.total_days), np.float32) for k in plan.nodes},
                  "birth_day": np.full(n, np.nan),
                  "death_day": None,  # filled when the model records maternal death
                  "outcomes": {k: (np.empty(n, dtype=object) if k == "attachment_class"
                                   else np.full(n, np.nan)) for k in outs}}
    datasets: dict[int, list[Any]] = {r: [] for r in reps}
    for a in range(len(spec.arms)):
        pos = {r: np.flatnonzero(assignments[r] == a) for r in reps}
        ids = np.concatenate([r * n + pos[r] for r in reps]).astype(np.int64)
        if ids.size == 0:
            continue
        per_dyad = _row_params(plan, thetas, {r: pos[r].size for r in reps}, a)
        ds = _simulate(spec, plan, ids, a, progress, per_dyad)
        start = 0
        for r in reps:
            k = pos[r].size
            if k == 0:
                continue
            rows = slice(start, start + k)
            for node in plan.nodes:
                pay[r]["nodes"][node][pos[r]] = ds[node].values[rows]
            pay[r]["birth_day"][pos[r]] = ds["birth_day"].values[rows]
            if "maternal_death_day" in ds:
                if pay[r]["death_day"] is None:
                    pay[r]["death_day"] = np.full(n, np.nan)
                pay[r]["death_day"][pos[r]] = ds["maternal_death_day"].values[rows]
            for o in outs:
                pay[r]["outcomes"][o][pos[r]] = ds[o].values[rows]
            if keep_datasets:
                datasets[r].append((a, ds.isel(dyad=rows)))
            start += k
    return pay, datasets


def assign(spec: TrialSpec, plan: Plan, reps: Sequence[int],
            progress: Callable[[int], None] | None,
            thetas: Thetas | None = None) -> dict[int, np.ndarray]:
    n = spec.n
    r_ = spec.randomization
    strata: dict[int, np.ndarray | None] = {r: None for r in reps}
    if r_.method == "stratified":
        ids = np.concatenate([np.arange(r * n, r * n + n) for r in reps]).astype(np.int64)
        values = _baseline_strata(spec, plan, ids, progress,
                                  _row_params(plan, thetas, dict.fromkeys(reps, n), None))
        for i, r in enumerate(reps):
            strata[r] = stratum_codes(values[i * n:(i + 1) * n])
    alloc = [a.allocation for a in spec.arms]
    return {r: randomize(n, alloc, r_.method, rng=_streams(spec.seed, r)["randomisation"],
                         block_size=r_.block_size, strata=strata[r]) for r in reps}


# ------------------------------------------------------------------------------ measure
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


def analyse(spec: TrialSpec, a, inp: AnalysisInput) -> dict[str, Any]:
    """Run analysis ``a`` through its registry entry; a failure is reported, not raised."""
    res = _describe(a)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = METHODS[a.method].run(inp, a)
        res.update(est.to_dict(inp.alpha))
        res["intercurrent_events"] = intercurrent_strategy(inp, a)
        res["error"] = None
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        res.update({"estimate": None, "ci_lower": None, "ci_upper": None, "p": None,
                    "significant": None, "error": " ".join(str(exc).split())})
    return _jsonable(res)


def analyse_replicate(spec: TrialSpec, replicate: int, pay: Mapping[str, Any],
               analyses: Sequence[str] | None = None, keep_data: bool = True,
               plan: Plan | None = None, sensitivity: bool | None = None) -> dict[str, Any]:
    """Measure, lose to follow-up and analyse one replicate (runs in a worker).
    ``sensitivity``: run the tipping-point analyses (default: only when the data are kept,
    i.e. for a single trial; replicate runs for power report the primary analyses)."""
    sensitivity = keep_data if sensitivity is None else sensitivity
    plan = plan or plan_trial(spec)
    st = _streams(spec.seed, replicate)
    data, days = measure(spec, plan, pay, st["measurement"])
    dropout = dropout_days(spec, plan, pay, days[spec.baseline], st["dropout"])
    data = apply_dropout(data, spec, dropout, pay["ids"])
    arms = np.array(spec.arm_names, dtype=object)[pay["arm"]]
    deaths = pay.get("death_day")
    if deaths is not None:
        deaths = deaths - plan.run_in
    results: dict[str, Any] = {}
    wanted = None if analyses is None else set(analyses)
    for a in spec.analysis:
        if wanted is not None and a.name not in wanted:
            continue
        inp = AnalysisInput(spec=spec, plan=plan, data=data, ids=pay["ids"], arms=arms,
                            dropout=dropout, nodes=pay["nodes"],
                            seed=_analysis_seed(spec.seed, replicate, a.name),
                            alpha=spec.trial.alpha, deaths=deaths, sensitivity=sensitivity)
        results[a.name] = analyse(spec, a, inp)
    last = max(days.values(), key=lambda d: float(np.mean(d)))
    lost = dropout < last
    results["arms"] = {name: int((arms == name).sum()) for name in spec.arm_names}
    died = np.zeros(arms.shape[0], bool) if deaths is None else (
        np.nan_to_num(deaths, nan=np.inf) <= last)
    results["dropout"] = _jsonable({
        "definition": "share of dyads lost to follow-up before the assessment (a mother's "
                      "death is an intercurrent event, counted in 'maternal_deaths', not a "
                      "loss)",
        "overall": float(lost.mean()),
        "maternal_deaths": float(died.mean()),
        "by_arm": {name: float(lost[arms == name].mean()) if (arms == name).any() else None
                   for name in spec.arm_names},
        "by_timepoint": {tp: float((dropout < d).mean()) for tp, d in days.items()},
    })
    out: dict[str, Any] = {"replicate": replicate, "results": results}
    if keep_data:
        out["data"] = data
        out["dropout_day"] = dropout
    return out


def replicate_task(args: tuple) -> dict[str, Any]:
    """Worker entry: ``(spec, replicate, payload, analyses)`` -> the replicate's results."""
    spec, replicate, pay, analyses = args
    return analyse_replicate(spec, replicate, pay, analyses, keep_data=False)


# ------------------------------------------------------------------------------ public
def prepare(spec: TrialSpec | str | Path | Mapping[str, Any], seed: int | None) -> TrialSpec:
    s = load_spec(spec)
    if seed is not None:
        s = s.with_changes(seed=seed)
    return s


def _arm_parameters(plan: Plan, spec: TrialSpec,
                    theta: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    from ..model.params import Parameters

    return {arm.name: Parameters(draw_parameters(plan, theta, i)).to_dict()
            for i, arm in enumerate(spec.arms)}


def plan_info(plan: Plan) -> dict[str, Any]:
    return {"run_in_days": plan.run_in, "study_start": plan.study_start,
            "simulation_start": plan.sim_start, "horizon_days": plan.horizon_days,
            "study_days": plan.study_days, "simulated_days": plan.total_days,
            "recorded_nodes": list(plan.nodes), "pregnancy": plan.pregnancy}


def run_trial(spec: TrialSpec | str | Path | Mapping[str, Any], *, seed: int | None = None,
              replicate: int = 0, progress: Progress | None = None,
              theta: Mapping[str, float] | None = None) -> TrialResult:
    """Run one in-silico trial (replicate ``replicate`` of the design; see the module
    docstring for the seeds). ``progress(stage, done, total)`` is called as dyads are
    simulated (stage ``"simulating"``) and once the analysis is done (``"analysing"``).
    ``theta``: a parameter draw (e.g. a posterior draw) the trial runs under
    (:func:`draw_parameters`)."""
    import xarray as xr

    spec = prepare(spec, seed)
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

    thetas = None if theta is None else {replicate: theta}
    assignment = assign(spec, plan, [replicate], sim_progress, thetas)
    pays, datasets = payloads(spec, plan, [replicate], assignment, sim_progress,
                               keep_datasets=True, thetas=thetas)
    pay = pays[replicate]
    out = analyse_replicate(spec, replicate, pay, plan=plan)
    if progress is not None:
        progress("analysing", 1, 1)

    parameters = _arm_parameters(plan, spec, theta)
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
                       plan_info=plan_info(plan))


