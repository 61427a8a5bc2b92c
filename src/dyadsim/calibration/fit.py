"""Calibrate the model to a target set: history matching over every declared parameter,
then the emulator-weighted posterior (:mod:`dyadsim.calibration.history_matching`),
written in the posterior file format of :mod:`dyadsim.calibration.prior`.

A simulator run is one parameter set: every study of the target set replicated once as it
was run (published N, time points, instruments), run ``i`` with simulation seed
``replication_seed(seed, i)``. The (study, run) replications are the tasks; they go to a
local process pool or a Dask cluster (:func:`dyadsim.analysis.scale.executor`) and, as each
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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..model.params import PARAMS
from .history_matching import HistoryMatch, Observation, PriorSpace, Settings, history_match
from .prior import Posterior, _pert_ppf
from .replicate import (
    ReplicationStore,
    Study,
    code_hash,
    replicate_batch,
    replication_seed,
    studies_of,
)
from .targets import Target, TargetSet, observed_se

__all__ = ["Calibration", "calibrate", "observations_of", "prior_space", "settings_for_budget"]

Progress = Callable[[str, int, int], None]

#: Parameter sets of a cohort study simulated in one engine call (a per-dyad batch).
BATCH = 8

#: Below this many finite replications an output is not emulated (statistic undefined).
MIN_DEFINED_SHARE = 0.5


def prior_space(names: Sequence[str] | None = None) -> PriorSpace:
    """The prior of :mod:`dyadsim.calibration.prior` (PERT between the declared bounds,
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


def _design_n(targets: TargetSet, t: Target) -> int:
    return targets.designs[t.id].n if t.id in targets.designs else t.cohort.n


def observations_of(targets: TargetSet) -> list[_Output]:
    """The scalars the calibration matches, with their observation variance: a value with
    its SE (given, from the CI, p-value or N: :func:`observed_se`); an interval as its
    midpoint with the variance of a uniform over it; a distribution's shares each with the
    binomial variance at the study's N (an interval share as an interval)."""
    out: list[_Output] = []
    for t in targets:
        if t.skip is not None:
            continue
        o = t.observed
        if o.distribution is not None:
            n = o.n or _design_n(targets, t)
            for k, v in o.distribution.items():
                if isinstance(v, list):
                    mid, var = 0.5 * (v[0] + v[1]), (v[1] - v[0]) ** 2 / 12.0
                else:
                    mid, var = float(v), (float(v) * (1 - float(v)) / n
                                          if 0 <= v <= 1 and n else 0.0)
                out.append(_Output(t.id, k, Observation(f"{t.id}:{k}", mid, var)))
        elif o.interval is not None:
            lo, hi = o.interval
            out.append(_Output(t.id, None, Observation(t.id, 0.5 * (lo + hi),
                                                       (hi - lo) ** 2 / 12.0)))
        else:
            se, _ = observed_se(t, _design_n(targets, t), _arms_n(targets, t))
            out.append(_Output(t.id, None, Observation(t.id, float(o.value),
                                                       (se or 0.0) ** 2)))
    return out


def _arms_n(targets: TargetSet, t: Target) -> tuple[float, float] | None:
    if t.id not in targets.designs or t.measure.contrast is None:
        return None
    spec = targets.designs[t.id]
    alloc = {a.name: a.allocation for a in spec.arms}
    tot = sum(alloc.values())
    return tuple(spec.n * alloc[a] / tot for a in t.measure.contrast)


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
        from ..analysis.scale import map_tasks

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
    of an equal split plus a fifth more, being the space-filling design."""
    if budget < 8 * waves:
        raise ValueError(f"--budget must be at least {8 * waves} runs for {waves} waves, "
                         f"got {budget}")
    base = budget // waves
    first = budget - base * (waves - 1)
    extra = min(base // 5, base - 8) if waves > 1 else 0
    runs = [first + extra * (waves - 1)] + [base - extra] * (waves - 1)
    return Settings(runs=tuple(runs), **kw)


@dataclass
class Calibration:
    """A finished calibration: the history match, the posterior and its cost."""

    match: HistoryMatch
    outputs: list[_Output]
    posterior: Posterior
    seconds: float
    simulator_seconds: float
    replications: int
    studies: int

    def widths(self, level: float = 0.9) -> dict[str, dict[str, Any]]:
        """Per calibrated parameter: its prior and posterior central ``level`` intervals
        and the ratio of their widths (how much the targets inform it)."""
        from .prior import prior_interval

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
                    "n_train": e.n_train, "loo_r2": _finite(e.r2_loo),
                    "run_to_run_sd": _finite(math.sqrt(e.var_noise))
                    if math.isfinite(e.var_noise) else None,
                    "discrepancy_sd": _finite(math.sqrt(e.var_md))}
                    for e in w.emulators]})
        return {
            "method": self.posterior.method, "settings": {
                "runs": list(hm.settings.runs), "candidates": hm.settings.candidates,
                "posterior_candidates": hm.settings.posterior_candidates,
                "cutoff": hm.settings.cutoff, "rank": hm.settings.rank,
                "max_active": hm.settings.max_active,
                "discrepancy_fraction": hm.settings.discrepancy_fraction},
            "simulator_runs": hm.runs, "studies": self.studies,
            "replications_computed": self.replications,
            "seconds": round(self.seconds, 1),
            "simulator_seconds": round(self.simulator_seconds, 1),
            "nroy_share_final": hm.posterior_nroy_share,
            "posterior_rows": int(len(self.posterior.weights)),
            "effective_sample_size": round(hm.ess, 1),
            "effective_sample_size_by_round": [round(x, 1) for x in hm.posterior_ess_rounds],
            "seconds_posterior": round(hm.seconds_posterior, 1),
            "calibrated_parameters": list(self.posterior.parameters),
            "parameter_widths": self.widths(),
            "observations": [{"id": o.observation.id, "value": o.observation.value,
                              "sd": math.sqrt(o.observation.var_obs)} for o in self.outputs],
            "waves": waves,
        }


def _weighted_interval(x: np.ndarray, w: np.ndarray, level: float) -> tuple[float, float]:
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    lo, hi = np.interp([(1 - level) / 2, (1 + level) / 2], cdf, x[order])
    return float(lo), float(hi)


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def calibrate(targets: TargetSet, *, store: ReplicationStore, settings: Settings,
              seed: int = 1, pool: cf.Executor | None = None,
              progress: Progress | None = None, names: Sequence[str] | None = None,
              version: str = "") -> Calibration:
    """History-match ``targets`` and return the posterior (see the module docstring)."""
    t0 = time.perf_counter()
    studies = studies_of(targets)
    outputs = observations_of(targets)
    prior = prior_space(names)
    sim = _Simulator(studies, outputs, prior.names, seed, store, pool, progress)
    wave = [0]

    def sim_call(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        wave[0] += 1
        y = sim(values, ids)
        bad = np.mean(~np.isfinite(y), axis=0) > 1 - MIN_DEFINED_SHARE
        y[:, bad] = math.nan
        return y

    def hm_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    hm = history_match(sim_call, [o.observation for o in outputs], prior,
                       settings=settings, seed=seed, progress=hm_progress)
    active = list(hm.active_inputs) or list(range(prior.dim))
    values = hm.posterior_values()
    w = hm.posterior_weights
    keep = w >= 1e-9 * w.max()
    post = Posterior(
        parameters=tuple(prior.names[j] for j in active),
        samples=values[keep][:, active],
        weights=w[keep] / w[keep].sum(),
        targets_hash=targets.hash, dyadsim_version=version,
        method="history matching (GP emulators, lasso screening) + emulator-likelihood "
               "importance sampling in NROY",
        budget={"simulator_runs": hm.runs, "waves": len(hm.waves),
                "replications": hm.runs * len(studies),
                "minutes": round((time.perf_counter() - t0) / 60, 1)},
        seed=seed, created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        others="prior" if names is None else "default")
    return Calibration(hm, outputs, post, time.perf_counter() - t0, sim.seconds, sim.calls,
                       len(studies))
