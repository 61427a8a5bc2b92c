"""Calibrate the model to a target set: history matching over every declared parameter,
each target's emulator screened inside the parameters that can reach it in the graph
(:mod:`dyadsim.calibration.active`; :mod:`dyadsim.calibration.history_matching`), then a
posterior on the validated emulators (tempered SMC, or NUTS) and real simulator runs at its draws
(:mod:`dyadsim.calibration.mcmc`), written in the posterior file format of
:mod:`dyadsim.uncertainty.prior` with its diagnostics; parameters the fit does not inform
are held at their defaults.

A simulator run is one parameter set: every study of the target set replicated once as it
was run (published N, time points, instruments), run ``i`` with simulation seed
``replication_seed(seed, i)``. The (study, run) replications are the tasks; they go to a
local process pool or a Dask cluster (:func:`dyadsim.parallel.executor`) and, as each
finishes, to the append-only :class:`~dyadsim.calibration.replicate.ReplicationStore`: a
calibration that is killed and started again recomputes nothing it finished, and since
the waves' designs and the emulator fits are deterministic given the seed, it ends with the
same posterior as an uninterrupted run.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..model.params import PARAMS
from ..uncertainty.prior import Posterior, _pert_ppf
from .active import ActiveSet, active_sets
from .history_matching import HistoryMatch, Observation, PriorSpace, Settings, history_match
from .mcmc import (
    MCMCResult,
    calibrated_columns,
    observation_table,
    posterior_runs,
    sample_posterior,
    sample_smc,
)
from .replicate import (
    ReplicationStore,
    Study,
    code_hash,
    replicate_batch,
    replication_seed,
    studies_of,
)
from .targets import Target, TargetSet, observed_se

__all__ = ["Calibration", "MCMCSettings", "calibrate", "design_n", "observations_of",
           "prior_space", "settings_for_budget", "target_se"]

Progress = Callable[[str, int, int], None]

#: Parameter sets of a cohort study simulated in one engine call (a per-dyad batch).
BATCH = 8

#: Run ids (seed streams) of the simulations at posterior draws: apart from the waves'.
POSTERIOR_RUN_IDS = 10**6

#: Below this many finite replications an output is not emulated (statistic undefined).
MIN_DEFINED_SHARE = 0.5


def prior_space(names: Sequence[str] | None = None) -> PriorSpace:
    """The prior of :mod:`dyadsim.uncertainty.prior` (PERT between the declared bounds,
    mode at the default) over ``names`` (default: every declared parameter)."""
    names = tuple(PARAMS) if names is None else tuple(names)

    def ppf(u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(u)
        return np.column_stack([_pert_ppf(PARAMS[k], u[:, j]) for j, k in enumerate(names)])

    return PriorSpace(names, ppf)


@dataclass(frozen=True)
class _Output:
    """One emulated scalar: a target, or one component of a distribution target."""

    target: str
    key: str | None
    observation: Observation


#: Link scale of each statistic (issue 19 item 2): shares on the logit scale, ratios and
#: rates on the log scale (their sampling distributions are near-symmetric there), the rest
#: as is.
LINK_OF = {"proportion": "logit", "distribution": "logit", "survival_points": "logit",
           **{s: "log" for s in ("risk_ratio", "odds_ratio", "hazard_ratio",
                                 "ratio_of_means", "rate")}}

#: Declared model discrepancy per statistic: the SD, on the link scale, of the gap between
#: the model's best prediction and the real process that no parameter setting closes
#: (Kennedy & O'Hagan 2001; Vernon et al. 2010 s. 2.4). All are guesses, argued: a model of
#: this size reproduces a share no better than about 5 percentage points at 50% (0.2
#: logit), a ratio no better than 10% (0.1 log), a standardised effect no better than
#: 0.1 SD (the smallest effect trialists call meaningful is 0.2), a correlation no better
#: than 0.05, a relative reduction or change no better than 5 points; a mean or SD no better
#: than 10% of its value.
DISCREPANCY_SD = {"logit": (0.2, "guess: 5 percentage points at a share of 50%"),
                  "log": (0.1, "guess: 10% of a ratio"),
                  "cohens_d": (0.1, "guess: 0.1 SD, half the smallest meaningful effect"),
                  "smd": (0.1, "guess: 0.1 SD, half the smallest meaningful effect"),
                  "standardized_mean_change": (0.1, "guess: 0.1 SD, half the smallest "
                                                    "meaningful effect"),
                  "relative_change": (0.05, "guess: 5 points of a relative change"),
                  "correlation": (0.05, "guess: 0.05 of a correlation"),
                  "relative_reduction": (0.05, "guess: 5 points of a relative reduction")}
RELATIVE_DISCREPANCY = (0.1, "guess: 10% of the observed value")


def design_n(targets: TargetSet, t: Target) -> int:
    """The N the target's study was run with (its trial design's, else its cohort's)."""
    return targets.designs[t.id].n if t.id in targets.designs else t.cohort.n


def _arm_sizes(targets: TargetSet, t: Target) -> tuple[float, float] | None:
    """The two contrasted arms' sizes of a trial target (None for a cohort target)."""
    if t.id not in targets.designs or t.measure.contrast is None:
        return None
    spec = targets.designs[t.id]
    alloc = {a.name: a.allocation for a in spec.arms}
    tot = sum(alloc.values())
    a, b = (spec.n * alloc[arm] / tot for arm in t.measure.contrast)
    return a, b


def target_se(targets: TargetSet, t: Target) -> tuple[float | None, str]:
    """:func:`~dyadsim.calibration.targets.observed_se` of a target of ``targets`` at its
    study's N and arm sizes."""
    return observed_se(t, design_n(targets, t), _arm_sizes(targets, t))


def _discrepancy(statistic: str, link: str, value: float) -> tuple[float, str]:
    """Declared discrepancy variance on the link scale and its reason."""
    key = link if link != "identity" else statistic
    if key in DISCREPANCY_SD:
        sd, why = DISCREPANCY_SD[key]
    else:
        frac, why = RELATIVE_DISCREPANCY
        sd = frac * abs(value)
    return float(sd) ** 2, why


def observations_of(targets: TargetSet) -> list[_Output]:
    """The scalars the calibration matches, with their observation variance: a value with
    its SE (given, from the CI, p-value or N: :func:`observed_se`); an interval as its
    midpoint with the variance of a uniform over it; a distribution's shares each with the
    binomial variance at the study's N (an interval share as an interval). Each carries
    its link scale (:data:`LINK_OF`), declared discrepancy (:data:`DISCREPANCY_SD`) and
    study (the outputs of one simulated study are emulated jointly)."""
    study_of = {t.id: s.key for s in studies_of(targets) for t in s.targets}
    out: list[_Output] = []
    for t in targets:
        if t.skip is not None:
            continue
        o = t.observed
        link = LINK_OF.get(t.statistic, "identity")
        n = o.n or design_n(targets, t)

        def obs(oid: str, value: float, var: float, *, t=t, link=link, n=n) -> Observation:
            md, why = _discrepancy(t.statistic, link, value)
            return Observation(oid, value, var, link=link,
                               n=n if link == "logit" else None, var_md=md,
                               discrepancy=why, study=study_of[t.id],
                               group=t.id if t.statistic == "distribution" else "")

        if o.distribution is not None:
            for k, v in o.distribution.items():
                if isinstance(v, list):
                    mid, var = 0.5 * (v[0] + v[1]), (v[1] - v[0]) ** 2 / 12.0
                else:
                    mid, var = float(v), (float(v) * (1 - float(v)) / n
                                          if 0 <= v <= 1 and n else 0.0)
                out.append(_Output(t.id, k, obs(f"{t.id}:{k}", mid, var)))
        elif o.interval is not None:
            lo, hi = o.interval
            out.append(_Output(t.id, None, obs(t.id, 0.5 * (lo + hi), (hi - lo) ** 2 / 12.0)))
        else:
            se, _ = target_se(targets, t)
            out.append(_Output(t.id, None, obs(t.id, float(o.value), (se or 0.0) ** 2)))
    return out


def _value(values: Mapping[str, Any], o: _Output) -> float:
    v = values.get(o.target)
    if o.key is not None:
        v = v.get(o.key) if isinstance(v, Mapping) else None
    return math.nan if v is None else float(v)


class _Simulator:
    """Runs (parameter set x study) replications through the store and the executor."""

    def __init__(self, studies: Sequence[Study], outputs: Sequence[_Output],
                 names: Sequence[str], seed: int, store: ReplicationStore,
                 pool: cf.Executor | None, progress: Progress | None):
        self.studies, self.outputs, self.names = list(studies), list(outputs), list(names)
        self.seed, self.store, self.pool, self.progress = seed, store, pool, progress
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, values: np.ndarray, run_ids: np.ndarray) -> np.ndarray:
        from ..parallel import map_tasks

        t0 = time.perf_counter()
        thetas = [{k: float(v) for k, v in zip(self.names, row, strict=True)}
                  for row in values]
        results: dict[tuple[int, int], Mapping[str, Any]] = {}
        pending: dict[int, list[tuple[int, str, int, int]]] = {}
        for i, (theta, rid) in enumerate(zip(thetas, run_ids, strict=True)):
            rseed = replication_seed(self.seed, int(rid))
            for j, s in enumerate(self.studies):
                key = ReplicationStore.key(s, theta, rseed)
                got = self.store.get(key)
                if got is not None:
                    results[(i, j)] = got
                else:
                    pending.setdefault(j, []).append((i, key, int(rid), rseed))
        tasks, where = [], []
        for j, items in pending.items():
            size = BATCH if self.studies[j].kind == "cohort_sim" else 1
            for first in range(0, len(items), size):
                part = items[first:first + size]
                tasks.append((self.studies[j], [thetas[i] for i, *_ in part],
                              [sd for *_, sd in part]))
                where.append((j, part))
        total = len(thetas) * len(self.studies)
        finished = [len(results)]

        def done(n: int, values: list[dict[str, Any]]) -> None:
            j, part = where[n]
            for (i, key, rid, rseed), v in zip(part, values, strict=True):
                self.store.put(key, v, study=self.studies[j].label, run=rid, seed=rseed,
                               code=code_hash(), theta=thetas[i])
                results[(i, j)] = v
            finished[0] += len(part)
            if self.progress is not None:
                self.progress("simulating", finished[0], total)

        if self.progress is not None:
            self.progress("simulating", finished[0], total)
        map_tasks(replicate_batch, tasks, self.pool, done)
        self.calls += sum(len(p) for _, p in where)
        self.seconds += time.perf_counter() - t0
        y = np.full((len(thetas), len(self.outputs)), math.nan)
        for i in range(len(thetas)):
            merged: dict[str, Any] = {}
            for j in range(len(self.studies)):
                merged.update(results[(i, j)])
            y[i] = [_value(merged, o) for o in self.outputs]
        return y


def settings_for_budget(budget: int, waves: int = 2, **kw: Any) -> Settings:
    """Split ``budget`` simulator runs over ``waves``: the first wave gets the remainder
    of an equal split plus a fifth more, being the space-filling design. No population
    Monte Carlo rounds unless asked: the posterior is the MCMC's, and the importance
    sample inside NROY only seeds its chains (the PMC's mixture density costs
    particles x sample x active^2 per round)."""
    kw.setdefault("pmc_rounds", 0)
    if budget < 8 * waves:
        raise ValueError(f"--budget must be at least {8 * waves} runs for {waves} waves, "
                         f"got {budget}")
    base = budget // waves
    first = budget - base * (waves - 1)
    extra = min(base // 5, base - 8) if waves > 1 else 0
    runs = [first + extra * (waves - 1)] + [base - extra] * (waves - 1)
    return Settings(runs=tuple(runs), **kw)


#: Posterior samplers on the emulators (``MCMCSettings.sampler``).
SAMPLERS = ("smc", "nuts")


@dataclass(frozen=True)
class MCMCSettings:
    """The posterior step: a sampler on the emulators, then real runs at its draws.
    ``smc`` (default): ``chains`` independent adaptive tempered SMC runs of ``draws``
    particles, ``smc_steps`` mutation moves per stage
    (:func:`~dyadsim.calibration.mcmc.sample_smc`; it crosses between modes). ``nuts``:
    ``chains`` NUTS chains of ``warmup`` + ``draws``
    (:func:`~dyadsim.calibration.mcmc.sample_posterior`; each chain stays in the mode it
    starts in)."""

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    posterior_draws: int = 200
    sampler: str = "smc"
    smc_steps: int = 30

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got "
                             f"{self.sampler!r}")
        if self.chains < 2 or self.warmup < 10 or self.draws < 10 or self.smc_steps < 1:
            raise ValueError("MCMC: at least 2 chains or runs (R-hat compares them), 10 "
                             "warm-up, 10 draws or particles and 1 mutation step")
        if not 2 <= self.posterior_draws <= self.chains * self.draws:
            raise ValueError(f"posterior draws must be in [2, {self.chains * self.draws}]")

    def sample(self, hm: HistoryMatch, seed: int) -> MCMCResult:
        """The posterior of ``hm``'s calibrated inputs by this sampler."""
        if self.sampler == "smc":
            return sample_smc(hm, runs=self.chains, particles=self.draws,
                              steps=self.smc_steps, seed=seed)
        return sample_posterior(hm, chains=self.chains, warmup=self.warmup,
                                draws=self.draws, seed=seed)


@dataclass
class Calibration:
    """A finished calibration: the history match, the MCMC, the simulated posterior draws
    and their cost."""

    match: HistoryMatch
    outputs: list[_Output]
    posterior: Posterior
    seconds: float
    simulator_seconds: float
    replications: int
    studies: int
    active: dict[str, ActiveSet] = field(default_factory=dict)
    mcmc: MCMCResult | None = None
    predictive: np.ndarray | None = None
    held_at_default: tuple[str, ...] = ()

    def widths(self, level: float = 0.9) -> dict[str, dict[str, Any]]:
        """Per calibrated parameter: its prior and posterior central ``level`` intervals
        and the ratio of their widths (how much the targets inform it)."""
        from ..uncertainty.prior import prior_interval

        post = self.posterior
        out = {}
        for j, name in enumerate(post.parameters):
            plo, phi = prior_interval(name, level)
            lo, hi = _weighted_interval(post.samples[:, j], post.weights, level)
            out[name] = {"prior": [round(plo, 6), round(phi, 6)],
                         "posterior": [round(lo, 6), round(hi, 6)],
                         "width_ratio": round((hi - lo) / (phi - plo), 4)
                         if phi > plo else None}
        return out

    def emulator_table(self) -> list[dict[str, Any]]:
        """The last wave's emulators: active inputs, validation on held-out runs, the
        run-to-run SD and where it came from, the declared discrepancy."""
        names = self.match.prior.names
        out = []
        for e, o in zip(self.match.waves[-1].emulators, self.outputs, strict=True):
            out.append({
                "output": e.output, "link": o.observation.link,
                "active": [names[j] for j in e.active], "n_train": e.n_train,
                "valid": e.valid, "validation": e.validation, "loo_r2": _finite(e.r2_loo),
                "run_to_run_sd": _finite(math.sqrt(e.run_to_run))
                if math.isfinite(e.run_to_run) else None,
                "run_to_run_from": e.noise_source,
                "discrepancy_sd": _finite(math.sqrt(e.var_md)),
                "discrepancy": o.observation.discrepancy or "undeclared"})
        return out

    def diagnostics(self) -> dict[str, Any]:
        """What ``posterior.json`` carries in the open (issue 19 item 10)."""
        m = self.mcmc.summary() if self.mcmc is not None else {}
        pred = {}
        if self.predictive is not None:
            pred = {o.observation.id: [_finite(x) for x in self.predictive[:, j]]
                    for j, o in enumerate(self.outputs)}
        return {
            "min_ess_bulk": m.get("min_ess_bulk"), "max_rhat": m.get("max_rhat"),
            "psis_khat": None, "psis_khat_note": "no importance weights remain: the rows "
            "are MCMC draws, each run through the simulator",
            "mcmc": m,
            "active_sets": {k: {**a.to_dict(), "active": sorted(
                {self.match.prior.names[j] for e, o in zip(
                    self.match.waves[-1].emulators, self.outputs, strict=True)
                 if o.target == k for j in e.active})} for k, a in self.active.items()},
            "emulators": self.emulator_table(),
            "failed_emulators": self.match.failed_emulators,
            "held_at_default": {"count": len(self.held_at_default),
                                "rule": "parameters no validated emulator has as an active "
                                        "input stay at their declared defaults in every "
                                        "prediction (issue 19 item 5)"},
            "posterior_predictive": {"draws": 0 if self.predictive is None
                                     else int(len(self.predictive)), "outputs": pred},
        }

    def summary(self) -> dict[str, Any]:
        hm = self.match
        names = hm.prior.names
        waves = []
        for w in hm.waves:
            waves.append({
                "wave": w.index, "runs": int(len(w.u)), "nroy_share_before": w.nroy_share,
                "seconds_simulating": round(w.seconds_simulating, 1),
                "seconds_emulating": round(w.seconds_emulating, 1),
                "emulators": [{
                    "output": e.output, "active": [names[j] for j in e.active],
                    "n_train": e.n_train, "loo_r2": _finite(e.r2_loo), "valid": e.valid,
                    "validation": e.validation,
                    "run_to_run_sd": _finite(math.sqrt(e.run_to_run))
                    if math.isfinite(e.run_to_run) else None,
                    "run_to_run_from": e.noise_source,
                    "discrepancy_sd": _finite(math.sqrt(e.var_md))}
                    for e in w.emulators]})
        return {
            "method": self.posterior.method,
            "settings": {**asdict(hm.settings), "runs": list(hm.settings.runs)},
            "simulator_runs": hm.runs, "replicate_runs": hm.replicate_runs,
            "posterior_runs": 0 if self.predictive is None else int(len(self.predictive)),
            "studies": self.studies,
            "replications_computed": self.replications,
            "seconds": round(self.seconds, 1),
            "simulator_seconds": round(self.simulator_seconds, 1),
            "nroy_share_final": hm.posterior_nroy_share,
            "posterior_rows": int(len(self.posterior.weights)),
            "effective_sample_size": self.posterior.diagnostics.get("min_ess_bulk"),
            "importance_sample_ess": round(hm.ess, 1),
            "importance_sample_ess_by_round": [round(x, 1) for x in hm.posterior_ess_rounds],
            "seconds_posterior": round(hm.seconds_posterior, 1),
            "calibrated_parameters": list(self.posterior.parameters),
            "held_at_default": list(self.held_at_default),
            "parameter_widths": self.widths(),
            "observations": observation_table([o.observation for o in self.outputs]),
            "diagnostics": self.diagnostics(),
            "waves": waves,
        }


def _weighted_interval(x: np.ndarray, w: np.ndarray, level: float) -> tuple[float, float]:
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    lo, hi = np.interp([(1 - level) / 2, (1 + level) / 2], cdf, x[order])
    return float(lo), float(hi)


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def _defined(sim: _Simulator) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The simulator with an output undefined in most runs set to NaN throughout (its
    statistic is not emulated: :data:`MIN_DEFINED_SHARE`)."""

    def call(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        y = sim(values, ids)
        bad = np.mean(~np.isfinite(y), axis=0) > 1 - MIN_DEFINED_SHARE
        y[:, bad] = math.nan
        return y

    return call


def _history_match(sim_call: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   outputs: Sequence[_Output], prior: PriorSpace,
                   active: Mapping[str, ActiveSet], settings: Settings, seed: int,
                   progress: Progress | None) -> HistoryMatch:
    """The waves, each output screened inside its graph candidates."""
    column = {k: j for j, k in enumerate(prior.names)}
    candidates = [[column[k] for k in active[o.target].candidates] for o in outputs]
    return history_match(sim_call, [o.observation for o in outputs], prior,
                         settings=settings, seed=seed, progress=progress,
                         candidates=candidates)


def calibrate(targets: TargetSet, *, store: ReplicationStore, settings: Settings,
              seed: int = 1, pool: cf.Executor | None = None,
              progress: Progress | None = None, names: Sequence[str] | None = None,
              version: str = "", mcmc: MCMCSettings | None = None) -> Calibration:
    """History-match ``targets`` inside the graph's active sets, sample the emulator
    posterior (``mcmc.sampler``) and run the simulator at ``mcmc.posterior_draws`` of its draws (see
    the module docstring)."""
    mcmc = mcmc or MCMCSettings()
    t0 = time.perf_counter()
    studies = studies_of(targets)
    outputs = observations_of(targets)
    prior = prior_space(names)
    active = active_sets(targets, prior.names)
    sim = _Simulator(studies, outputs, prior.names, seed, store, pool, progress)
    sim_call = _defined(sim)
    hm = _history_match(sim_call, outputs, prior, active, settings, seed, progress)
    if not calibrated_columns(hm):
        raise ValueError("no validated emulator has an active input: the targets inform no "
                         "parameter (see the emulators' validation in the summary)")
    if progress is not None:
        progress(f"sampling the posterior ({mcmc.sampler.upper()})", 0, mcmc.chains)
    chains = mcmc.sample(hm, seed)
    if progress is not None:
        progress("simulating posterior draws", 0, mcmc.posterior_draws)
    defaults = np.array([PARAMS[k].default for k in prior.names])
    values, predictive = posterior_runs(sim_call, hm, chains, n=mcmc.posterior_draws,
                                        defaults=defaults, first_run=POSTERIOR_RUN_IDS)
    cols = list(chains.columns)
    held = tuple(k for j, k in enumerate(prior.names) if j not in set(cols))
    held += tuple(k for k in PARAMS if k not in set(prior.names))
    post = Posterior(
        parameters=chains.names, samples=values[:, cols],
        weights=np.ones(len(values)), targets_hash=targets.hash, dyadsim_version=version,
        method="history matching (graph active sets, validated GP emulators on link "
               f"scales, replicate run-to-run variance) + {chains.summary()['sampler']} on "
               "the joint emulator likelihood; rows are posterior draws each run through "
               "the simulator",
        budget={"simulator_runs": hm.runs + len(values), "waves": len(hm.waves),
                "replications": (hm.runs + len(values)) * len(studies),
                "minutes": round((time.perf_counter() - t0) / 60, 1)},
        seed=seed, created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        others="default")
    result = Calibration(hm, outputs, post, 0.0, sim.seconds, sim.calls, len(studies),
                         active, chains, predictive, held)
    result.posterior = replace(post, diagnostics=result.diagnostics())
    result.seconds = time.perf_counter() - t0
    return result
