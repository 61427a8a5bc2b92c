"""Reachability of the calibration targets (issue 18 item 2): for every published target,
the range of values the model produces over the prior the calibration searches, and
whether the observation lies inside it.

Design (stated in every table): ``draws`` scrambled Sobol points of the calibration's own
prior (:func:`dyadsim.calibration.fit.prior_space`: PERT between each parameter's declared
bounds, mode at the default), plus the declared defaults; each point is one simulator run,
every study replicated once as it was run (published N, time points, instruments), so the
simulated range includes the study's sampling noise. A target is *reachable* when its
observed range (a published interval; else the value +- 2 observed SE) overlaps the range
of the simulated values. An unreachable target says on which side every draw fell and by
how much, and whether any parameter can reach its nodes in the graph
(:mod:`dyadsim.calibration.active`): a target no parameter can move, or one every draw
misses on the same side, is a structural defect to fix or to state before calibrating.

Cheap by design, not exhaustive: a range from a few dozen points is a lower bound on what
the prior can produce, so "unreachable" means "not reached by this design"; raise
``draws`` before concluding.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..model.params import PARAMS
from .active import active_sets
from .fit import Progress, _Output, _Simulator, observations_of, prior_space
from .history_matching import _sobol
from .replicate import ReplicationStore, studies_of
from .targets import TargetSet

__all__ = ["ReachRow", "reachability", "reach_markdown"]

#: Run ids (seed streams) of the reachability runs: apart from the calibration's.
REACH_RUN_IDS = 2 * 10**6
#: Half-width, in observed SEs, of a point observation's range.
OBSERVED_SE_WIDTH = 2.0


@dataclass(frozen=True)
class ReachRow:
    """One observed scalar (a target, or one share of a distribution target) and the range
    the model produced for it."""

    output: str
    statistic: str
    observed_low: float
    observed_high: float
    at_defaults: float | None
    sim_min: float | None
    sim_p05: float | None
    sim_median: float | None
    sim_p95: float | None
    sim_max: float | None
    defined: int
    draws: int
    graph_inputs: int
    reachable: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def _observed_range(targets: TargetSet, o: _Output) -> tuple[float, float]:
    """The published interval of an interval target (or share), else the value +-
    :data:`OBSERVED_SE_WIDTH` observed SEs."""
    t = targets.by_id(o.target)
    v: Any = t.observed.interval
    if o.key is not None and t.observed.distribution is not None:
        v = t.observed.distribution[o.key]
    if isinstance(v, list | tuple):
        return float(v[0]), float(v[1])
    half = OBSERVED_SE_WIDTH * math.sqrt(o.observation.var_obs)
    return o.observation.value - half, o.observation.value + half


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _row(o: _Output, statistic: str, observed: tuple[float, float], y: np.ndarray,
         graph_inputs: int) -> ReachRow:
    """``y``: the output at the defaults (first) and at each draw."""
    lo, hi = observed
    at_defaults = float(y[0]) if math.isfinite(y[0]) else None
    finite = y[np.isfinite(y)]
    name = o.target if o.key is None else f"{o.target}:{o.key}"
    if finite.size == 0:
        return ReachRow(name, statistic, lo, hi, at_defaults, None, None, None, None, None,
                        0, y.size, graph_inputs, False,
                        "undefined in every run (no events or no one left to measure)")
    q05, q50, q95 = (float(v) for v in np.quantile(finite, [0.05, 0.5, 0.95]))
    smin, smax = float(finite.min()), float(finite.max())
    reachable = smax >= lo and smin <= hi
    if reachable:
        why = "observed range inside the simulated range"
    else:
        side, gap = (("below", lo - smax) if smax < lo else ("above", smin - hi))
        why = f"every run {side} the observed range (by {_fmt(gap)})"
        if graph_inputs == 0:
            why += "; no parameter reaches its nodes in the graph"
    return ReachRow(name, statistic, lo, hi, at_defaults, smin, q05, q50, q95, smax,
                    int(finite.size), int(y.size), graph_inputs, reachable, why)


def reachability(targets: TargetSet, *, store: ReplicationStore, draws: int = 32,
                 seed: int = 1, pool: cf.Executor | None = None,
                 progress: Progress | None = None) -> list[ReachRow]:
    """The reachability table of ``targets``: the defaults and ``draws`` Sobol points of the
    prior, each one simulator run (replications kept in ``store``: a killed run resumes
    where it stopped)."""
    if draws < 2:
        raise ValueError("the reachability design needs at least 2 draws")
    prior = prior_space()
    outputs = observations_of(targets)
    studies = studies_of(targets)
    active = active_sets(targets, prior.names)
    u = _sobol(draws, len(prior.names), seed, stream=REACH_RUN_IDS)
    values = np.vstack([[PARAMS[k].default for k in prior.names], prior.ppf(u)])
    sim = _Simulator(studies, outputs, prior.names, seed, store, pool, progress)
    y = sim(values, REACH_RUN_IDS + np.arange(len(values)))
    return [_row(o, targets.by_id(o.target).statistic, _observed_range(targets, o), y[:, j],
                 len(active[o.target].candidates))
            for j, o in enumerate(outputs)]


def reach_markdown(rows: Sequence[ReachRow], draws: int, seed: int) -> str:
    """The table as markdown, with its design stated."""
    n_reach = sum(r.reachable for r in rows)
    lines = [f"Reachability: {n_reach} of {len(rows)} observed values inside the range the "
             f"model produced over the defaults and {draws} scrambled Sobol points of the "
             f"prior (PERT between the declared bounds; seed {seed}), one replication of "
             "each study per point. Observed range: the published interval, else the value "
             f"+- {OBSERVED_SE_WIDTH:g} SE. A range from this design is a lower bound on "
             "what the prior can produce.", "",
             "| output | statistic | observed | at defaults | simulated 5-95% | simulated "
             "min-max | graph inputs | reachable | why |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sim = (f"{_fmt(r.sim_p05)}-{_fmt(r.sim_p95)}" if r.sim_p05 is not None else "-")
        rng = (f"{_fmt(r.sim_min)}-{_fmt(r.sim_max)}" if r.sim_min is not None else "-")
        dft = _fmt(r.at_defaults) if r.at_defaults is not None else "-"
        lines.append(f"| {r.output} | {r.statistic} | {_fmt(r.observed_low)}-"
                     f"{_fmt(r.observed_high)} | {dft} | {sim} | {rng} | {r.graph_inputs} | "
                     f"{'yes' if r.reachable else 'NO'} | {r.why} |")
    return "\n".join(lines) + "\n"
