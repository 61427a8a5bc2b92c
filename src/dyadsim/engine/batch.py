"""Parameter batches: many parameter sets simulated in one compiled call.

A batch is ``sets x dyads`` rows. Row ``(i, j)`` is dyad ``dyad_ids[j]`` under parameter set
``i``: every set sees the same dyads and the same random draws (common random numbers), so a
contrast between two sets carries no between-set sampling noise. The parameters that differ
between sets travel as a per-dyad batch dimension of the engine's ``p`` (one value per row of
the padded chunk); the others stay scalars. A chunk therefore holds many parameter sets and
is one XLA call: no Python loop over parameter sets.

Results never depend on ``chunk_size``, on ``threads`` or on how many sets run beside each
other: every row's arithmetic is elementwise in its own parameters and its own (seed, dyad id)
streams, and every chunk has the same padded shape. For the same parameters a row reproduces
the scalar path (:func:`dyadsim.simulate`) bit for bit (``tests/engine/test_batch.py``).

API (also used by calibration)::

    setting = Setting.from_population("pregnant_oud_moud", start="gw20", horizon="12m")
    batch = simulate_batch(setting, [{}, {"craving->opioid_use": 6.0}], dyads=500, seed=1)
    batch.outcomes["attachment_security_12m"]      # (sets, dyads)
    batch.final["craving"]                         # (sets, dyads): state on the last day

``node_paths`` / ``edge_paths`` (rows x days end-of-day values, from ``record_daily`` of
another batch) hold a node, or what one edge carries, at its value in that other world: the
nested counterfactuals of :mod:`dyadsim.analysis.mechanisms`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..model.graph import EDGE_BY_WEIGHT, NODE_BY_ID
from ..model.params import Parameters, run_parameters
from ..model.populations import Population, get_population
from ..model.schedule import Schedule
from ..timepoints import ScenarioError, parse_horizon, parse_start, total_days
from ._jax import configure_jax
from .run import run_rows


@dataclass(frozen=True)
class Setting:
    """Who is simulated, from when and for how long: a population (with its overrides), the
    start and horizon, the parameters its interventions set (``params``), a schedule for
    every dyad (interventions), ``do`` clamps and a parameter draw ``theta`` (None: the
    declared values). :meth:`parameters` applies them in the one precedence order
    (:func:`dyadsim.model.params.run_parameters`); a batch's parameter sets go on top."""

    population: Population
    start_gest_day: int
    start_pp_day: int
    total_days: int
    params: Mapping[str, float] = field(default_factory=dict)
    schedule: Mapping[str, np.ndarray] | None = None  # one entry per dyad (a Schedule's arrays)
    do: Mapping[str, float] = field(default_factory=dict)
    theta: Mapping[str, float] | None = None

    def parameters(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The parameter overrides a row of this setting runs with (``overrides``: a
        batch's parameter set)."""
        return run_parameters(self.population.params, theta=self.theta,
                              interventions=self.params, overrides=overrides)

    @staticmethod
    def from_population(population: str | Population, *, start: str | None = None,
                        horizon: int | str | None = None,
                        params: Mapping[str, float] | None = None,
                        schedule: Schedule | None = None,
                        do: Mapping[str, float] | None = None) -> Setting:
        """Start and horizon as :func:`dyadsim.simulate` reads them (total days likewise)."""
        pop = get_population(population) if isinstance(population, str) else population
        start_gd, start_pp = parse_start(start, pop.pregnancy, pop.default_start)
        horizon_days = parse_horizon(horizon)
        total = total_days(pop, start_gd, start_pp, horizon_days)
        for node in do or {}:
            if node not in NODE_BY_ID:
                raise ScenarioError(f"unknown node {node!r} in do (see `dyadsim graph`)")
        return Setting(pop, start_gd, start_pp, total, dict(params or {}),
                       None if schedule is None else dict(schedule.arrays), dict(do or {}))


@dataclass
class Batch:
    """Per-row results, shaped (sets, dyads, ...): ``outcomes`` (the engine's accumulators,
    :data:`dyadsim.model.outcomes.ACCUMULATORS` plus ``nows_diagnosed`` and ``birth_day``),
    ``final`` (every state key on the last day) and ``daily`` (end-of-day values of the
    ``record_daily`` nodes, (sets, dyads, days))."""

    parameter_sets: list[dict[str, float]]
    dyad_ids: np.ndarray
    outcomes: dict[str, np.ndarray]
    final: dict[str, np.ndarray]
    daily: dict[str, np.ndarray]


def _varying(setting: Setting, parameter_sets: Sequence[Mapping[str, float]]):
    """Validated full parameter sets (as dicts); the names whose value differs between sets.
    An edge weight of exactly 0 is a knock-out (the edge removed) and is allowed even where
    the weight's prior bounds exclude 0; every other value must lie within its bounds."""
    full = []
    for ps in parameter_sets:
        removed = [k for k, v in ps.items() if k in EDGE_BY_WEIGHT and v == 0.0]
        kept = {k: v for k, v in ps.items() if k not in removed}
        values = Parameters(setting.parameters(kept)).to_dict()
        full.append({**values, **dict.fromkeys(removed, 0.0)})
    names = [k for k in full[0] if any(f[k] != full[0][k] for f in full[1:])]
    return full, names


def simulate_batch(setting: Setting, parameter_sets: Sequence[Mapping[str, float]], *,
                   dyads: int, seed: int, dyad_ids: np.ndarray | None = None,
                   schedules: Sequence[Mapping[str, np.ndarray]] | None = None,
                   record_daily: Sequence[str] = (),
                   node_paths: Mapping[str, np.ndarray] | None = None,
                   edge_paths: Mapping[tuple[str, str], np.ndarray] | None = None,
                   chunk_size: int | None = None,
                   progress: Callable[[int], None] | None = None,
                   threads: int | None = None) -> Batch:
    """Simulate every parameter set on the same dyads and seed (common random numbers).

    Parameters
    ----------
    setting : Setting
        Population, window, the interventions' parameters and schedule, ``do`` clamps and
        an optional parameter draw (:meth:`Setting.parameters`).
    parameter_sets : sequence of mappings
        One world per set, each applied on top of the setting's parameters; an edge
        weight of exactly 0 knocks the edge out.
    dyads, seed : int
        How many dyads each set runs, and the seed they share.
    dyad_ids : array of int, optional
        The dyads' ids (default ``0..dyads-1``).
    schedules : sequence of mappings, optional
        One schedule (a Schedule's per-dyad arrays) per set, replacing the setting's: an
        arm of a trial per set.
    record_daily : sequence of str
        Nodes whose end-of-day values come back in ``Batch.daily``.
    node_paths, edge_paths : mappings of arrays, optional
        (sets, dyads, days) paths, NaN where a row is not clamped: a node, or what one
        edge carries, held at its value in another world (nested counterfactuals).
    chunk_size, threads : int, optional
        Rows per compiled call and chunks run at once; results depend on neither.
    progress : callable, optional
        Called with the number of rows after each chunk.

    Returns
    -------
    Batch
        Outcomes, final states and daily values shaped (sets, dyads, ...).

    Raises
    ------
    ParameterError, ValueError
        With a one-line message on bad input.
    """
    configure_jax()  # before the first JAX computation (an entry point; never on import)
    if not parameter_sets:
        raise ValueError("a batch needs at least one parameter set")
    if isinstance(dyads, bool) or not isinstance(dyads, int) or dyads < 1:
        raise ValueError(f"dyads must be a positive integer, got {dyads!r}")
    bad = [n for n in (*record_daily, *(node_paths or {})) if n not in NODE_BY_ID]
    bad += [f"{s}->{t}" for s, t in (edge_paths or {}) if s not in NODE_BY_ID
            or t not in NODE_BY_ID]
    if bad:
        raise ValueError(f"unknown node(s): {', '.join(bad)}")
    full, names = _varying(setting, parameter_sets)
    n_sets = len(full)
    rows = n_sets * dyads
    ids = (np.arange(dyads, dtype=np.uint32) if dyad_ids is None
           else np.asarray(dyad_ids).astype(np.uint32))
    if ids.shape != (dyads,):
        raise ValueError("dyad_ids must have one id per dyad")
    row_ids = np.tile(ids, n_sets)
    row_set = np.repeat(np.arange(n_sets), dyads)
    per_set = {k: np.array([f[k] for f in full], np.float32) for k in names}
    base = setting.schedule or Schedule.none(dyads).arrays
    per_set_sched = list(schedules) if schedules is not None else [base] * n_sets
    if len(per_set_sched) != n_sets:
        raise ValueError("schedules must have one entry per parameter set")
    if any(len(v) != dyads for sc in per_set_sched for v in sc.values()):
        raise ValueError("schedule arrays must have one entry per dyad")
    row_sched = {k: np.concatenate([np.asarray(sc[k]) for sc in per_set_sched])
                 for k in per_set_sched[0]}
    days = setting.total_days

    def rows_by_day(a: np.ndarray, what: str) -> np.ndarray:
        a = np.asarray(a, np.float32).reshape(rows, -1)
        if a.shape[1] != days:
            raise ValueError(f"{what} must have {days} days, got {a.shape[1]}")
        return a

    npaths = {n: rows_by_day(v, f"node path {n}") for n, v in (node_paths or {}).items()}
    epaths = {k: rows_by_day(v, f"edge path {k[0]}->{k[1]}") for k, v in (edge_paths or {}).items()}
    record = tuple(record_daily)
    run = run_rows(population=setting.population, start_gest_day=setting.start_gest_day,
                   start_pp_day=setting.start_pp_day, total_days=days, ids=row_ids,
                   seeds=seed, scalars=full[0],
                   per_row={k: v[row_set] for k, v in per_set.items()},
                   schedule=row_sched, do=setting.do, record=record,
                   n_periods=days if record else 1, period=1 if record else days,
                   node_paths=npaths, edge_paths=epaths, chunk_size=chunk_size,
                   threads=threads, progress=progress)

    def shaped(by_row: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.reshape(n_sets, dyads, *v.shape[1:]) for k, v in by_row.items()}

    daily = {n: run.trajectories[n] for n in record}
    return Batch([dict(ps) for ps in parameter_sets], ids, shaped(run.outcomes),
                 shaped(run.final), shaped(daily))
