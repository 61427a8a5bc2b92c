"""The one chunk driver under :func:`dyadsim.simulate` and
:func:`dyadsim.engine.batch.simulate_batch`.

A run is a list of rows (a row is one dyad id under one seed and one set of parameter
values). The driver burns the rows in to enrolment (when the population has a burn-in), cuts
them into padded chunks of ``chunk_size`` rows (the last chunk padded by repeating its last
row, so every compiled call has one shape), runs the chunks ``threads`` at once in order,
and concatenates what each chunk brought back. A row's result depends only on its own id,
seed, parameters, schedule and paths: never on the chunk size, the number of threads or the
rows beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.graph import NODE_IDS
from ..model.initial import init_spec
from ..model.populations import Population
from ._engine import check_chunk_size, run_chunk
from ._threads import check_threads, map_in_order
from .burn_in import enrolment_states


@dataclass(frozen=True)
class RunOutput:
    """What the rows brought back, each array with the rows first: ``trajectories``
    ({node or ``postpartum_day``: (rows, periods)}, empty when nothing is recorded),
    ``outcomes`` (the engine's per-row accumulators) and ``final`` (every state on the last
    day)."""

    trajectories: dict[str, np.ndarray]
    outcomes: dict[str, np.ndarray]
    final: dict[str, np.ndarray]


def run_rows(*, population: Population, start_gest_day: int, start_pp_day: int,
             total_days: int, ids: np.ndarray, seeds: int | np.ndarray,
             scalars: Mapping[str, float], per_row: Mapping[str, np.ndarray],
             schedule: Mapping[str, np.ndarray], do: Mapping[str, float],
             record: tuple[str, ...] = (), n_periods: int = 1, period: int | None = None,
             node_paths: Mapping[str, np.ndarray] | None = None,
             edge_paths: Mapping[tuple[str, str], np.ndarray] | None = None,
             chunk_size: int | None = None, threads: int | None = None,
             progress: Callable[[int], None] | None = None) -> RunOutput:
    """Simulate ``len(ids)`` rows from the population's start for ``total_days`` days.

    ``seeds``: one seed, or one per row (a row then gets exactly what a run with that seed
    gives it). ``scalars``: run-wide parameter values; ``per_row``: parameters with one value
    per row (replacing the run-wide value). ``schedule``: a Schedule's arrays, one entry per
    row. ``do``: nodes clamped for the whole run. ``record``: nodes whose value at the end of
    each of ``n_periods`` periods of ``period`` days (default: the whole run) is kept.
    ``node_paths`` / ``edge_paths``: (rows, days) clamping paths, NaN where a row is not
    clamped (:func:`dyadsim.engine._engine.run_chunk`). ``progress(rows)`` after each chunk.
    Raises ``ValueError`` with a one-line message for a bad ``chunk_size`` or ``threads``."""
    rows = len(ids)
    period = total_days if period is None else period
    n_threads = check_threads(threads)
    paths = len(node_paths or {}) + len(edge_paths or {})
    # float32 bytes per row: recorded trajectories (the kept nodes and postpartum_day) and
    # the clamping paths
    per_row_bytes = 4 * ((len(record) + 1) * n_periods * bool(record) + paths * total_days)
    chunk_size = check_chunk_size(chunk_size, rows, n_threads, per_row_bytes)
    _, spec = init_spec(population)
    pregnancy = bool(population.pregnancy)
    # numpy values go to the compiled call as they are: its dispatch moves them to the device
    # (one jax.device_put of these ~600 scalars cost ~10 ms a call; one jnp.float32 per
    # value ~50 us each); numpy scalars, not Python bool/float: typed Any for the callees
    do_mask: dict[str, Any] = {k: np.bool_(k in do) for k in NODE_IDS}
    do_value: dict[str, Any] = {k: np.float32(do.get(k, 0.0)) for k in NODE_IDS}
    run_wide = {k: v for k, v in scalars.items() if k not in per_row}
    p_run = {k: np.float32(v) for k, v in run_wide.items()}
    p_rows = {k: np.asarray(v, np.float32) for k, v in per_row.items()}
    seed_rows = None if np.ndim(seeds) == 0 else np.asarray(seeds, np.int32)

    enrolled = None
    if population.burn_in_days:
        enrolled = enrolment_states(
            ids, seeds if seed_rows is None else seed_rows, run_wide, p_rows, spec, pregnancy,
            float(start_gest_day), int(start_pp_day), schedule, do_mask, do_value,
            population.burn_in_days, threads=n_threads)

    def one_chunk(first: int) -> tuple[dict[str, np.ndarray], ...]:
        """Rows ``first ..``: (trajectories, outcomes, final state), in host memory."""
        m = min(chunk_size, rows - first)

        def pad(a: np.ndarray) -> np.ndarray:
            part = a[first:first + m]
            if m == chunk_size:
                return part
            return np.concatenate([part, np.repeat(part[-1:], chunk_size - m, axis=0)])

        node_p = {n: pad(np.asarray(v)).T for n, v in (node_paths or {}).items()} or None
        edge_p: dict[str, dict[str, np.ndarray]] = {}
        for (src, tgt), v in (edge_paths or {}).items():
            edge_p.setdefault(tgt, {})[src] = pad(np.asarray(v)).T
        # the chunk's inputs as numpy (the compiled call moves them, dtypes canonicalised)
        traj, acc, state = run_chunk(
            pad(ids), seeds if seed_rows is None else pad(seed_rows),
            {**p_run, **{k: pad(v) for k, v in p_rows.items()}}, spec, pregnancy,
            float(start_gest_day), int(start_pp_day),
            {k: pad(np.asarray(v)) for k, v in schedule.items()}, do_mask, do_value,
            total_days, node_p, edge_p or None,
            None if enrolled is None else {k: pad(v) for k, v in enrolled.items()},
            n_periods=n_periods, period=period, record=record)
        return ({} if traj is None else {k: np.asarray(v)[:, :m].T for k, v in traj.items()},
                {k: np.asarray(v)[:m] for k, v in acc.items()},
                {k: np.asarray(v)[:m] for k, v in state.items()})

    collected: tuple[dict[str, list[np.ndarray]], ...] = ({}, {}, {})
    starts = range(0, rows, chunk_size)
    results = map_in_order(one_chunk, starts, min(n_threads, len(starts)))
    for first, parts in zip(starts, results, strict=True):
        for into, part in zip(collected, parts, strict=True):
            for k, v in part.items():
                into.setdefault(k, []).append(v)
        if progress is not None:
            progress(min(chunk_size, rows - first))
    traj_out, acc_out, final_out = ({k: np.concatenate(v) for k, v in c.items()}
                                    for c in collected)
    return RunOutput(traj_out, acc_out, final_out)
