"""The engine: runs the pure daily step over padded chunks of a fixed number of dyads with
``jax.lax.scan`` (one compilation per run shape, whatever the number of dyads), and folds
outcomes and recorded trajectories back to host memory chunk by chunk.

Every chunk has exactly ``CHUNK`` dyads (the last one padded), so a dyad's arithmetic never
depends on how many dyads run beside it (XLA may round differently per array shape).
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from ..model import outcomes
from ..model.graph import NODE_BY_ID, NODE_IDS
from ..model.initial import INIT_NAMES, initial_state
from ..model.step import ORDER, step, unpack_draws
from . import rng

CHUNK = 512
#: Chunk sizes the engine picks from when the caller names none (:func:`pick_chunk`), with the
#: time per dyad-day at that size relative to ``CHUNK``, measured with two engine threads on
#: the development machine (``benchmarks/chunk_size.py``; benchmarks/README.md, "Issue 10,
#: fourth pass"): a day launches ~137 small kernels whatever the chunk size, and a bigger
#: chunk spreads that cost over more dyads. Bigger than 2048 gained nothing on two threads.
CHUNK_COST = {512: 1.0, 1024: 0.83, 2048: 0.77}
#: Most bytes of recorded trajectories or clamping paths one chunk may carry for a size above
#: ``CHUNK`` to be picked (a daily recording of every node keeps the chunk at ``CHUNK``).
CHUNK_BYTES = 64 * 2**20
#: A size above ``CHUNK`` is picked only for runs of at least this many of its chunks per
#: thread: each new size is one more compilation (~10 s), worth it only for large runs.
CHUNKS_PER_THREAD = 4
EVENT_NODES = tuple(n for n in NODE_IDS if NODE_BY_ID[n].dynamics == "event")


_POSITION = {node: i for i, (node, _) in enumerate(ORDER)}


def _seen(source, target, path, day):
    """What ``target`` read of ``source`` on ``day`` in the world ``path`` was recorded in
    (end-of-day values): today's value when ``source`` is updated before ``target`` in the
    day (Gauss-Seidel order), else yesterday's (NaN on day 0: the shared initial state)."""
    if _POSITION.get(source, -1) < _POSITION[target]:  # context nodes never change
        return path[day]
    return jnp.where(day > 0, path[jnp.maximum(day - 1, 0)], jnp.nan)


@partial(jax.jit, static_argnames=("n_periods", "period", "record"))
def run_chunk(ids, seed, p, spec, pregnancy, start_gest_day, start_pp_day, sched, do_mask,
              do_value, total_days, node_paths=None, edge_paths=None, enrolment=None, *,
              n_periods: int, period: int, record: tuple[str, ...]):
    """Simulate one padded chunk for ``total_days`` days (the last recording period may be
    shorter); ``record`` names the nodes whose trajectories are kept (empty: none).
    Returns (trajectories or None, outcomes, final state).

    ``p`` values are scalars or one value per dyad of the chunk (a parameter batch).
    ``node_paths`` ({node: (days, chunk) end-of-day values}) clamps a node to a per-dyad,
    per-day trajectory (a mediator held at its value in another world); ``edge_paths``
    ({target: {source: (days, chunk)}}) makes only the edge ``source -> target`` carry the
    recorded world's value of ``source`` (an edge-level counterfactual, Avin, Shpitser &
    Pearl 2005). NaN in a path: that dyad is not clamped on that day. ``enrolment``
    ({state: (chunk,)}): the burned-in states the run starts from
    (:func:`dyadsim.engine.burn_in.enrolment_states`) instead of the drawn ones."""
    keys = rng.dyad_keys(seed, ids)
    s, dyad = initial_state(rng.init_key(keys), p, spec, INIT_NAMES, pregnancy,
                            start_gest_day, start_pp_day, sched, do_mask, do_value)
    if enrolment is not None:
        s = {**s, **enrolment}
    acc = outcomes.initial_accumulators(ids.shape[0])

    def one_day(day, carry):
        s, acc, events = carry
        z_vec, u_vec = rng.day_draws(keys, day)
        z, u = unpack_draws(z_vec, u_vec)
        mask, value, inputs = do_mask, do_value, None
        if node_paths:
            today = {n: path[day] for n, path in node_paths.items()}
            mask = {**do_mask, **{n: do_mask[n] | ~jnp.isnan(v) for n, v in today.items()}}
            value = {**do_value,
                     **{n: jnp.where(jnp.isnan(v), do_value[n], v) for n, v in today.items()}}
        if edge_paths:
            inputs = {tgt: {src: _seen(src, tgt, path, day) for src, path in by_src.items()}
                      for tgt, by_src in edge_paths.items()}
        s = step(s, p, dyad, day, z, u, mask, value, inputs)
        acc = outcomes.update(acc, s, p, dyad, day, u, 1.0)
        events = {n: events[n] + s[n] for n in EVENT_NODES}
        return s, acc, events

    def one_period(carry, k):
        s, acc = carry
        zeros = {n: jnp.zeros_like(s[n]) for n in EVENT_NODES}
        end = jnp.minimum((k + 1) * period, total_days)
        s, acc, events = jax.lax.fori_loop(k * period, end, one_day, (s, acc, zeros))
        if not record:
            return (s, acc), None
        days = (end - k * period).astype(jnp.float32)
        snap = {n: (events[n] / days if n in EVENT_NODES else s[n]) for n in record}
        snap["postpartum_day"] = end - 1 - dyad["birth_day"]
        return (s, acc), snap

    (s, acc), traj = jax.lax.scan(one_period, (s, acc), jnp.arange(n_periods))
    acc["nows_diagnosed"] = s["neonatal_withdrawal.diagnosed"]
    acc["birth_day"] = dyad["birth_day"].astype(jnp.float32)
    return traj, acc, s


def pick_chunk(rows: int, threads: int, bytes_per_row: int = 0) -> int:
    """The chunk size with the least expected time for ``rows`` rows run ``threads`` chunks
    at a time: rounds x chunk x the size's relative cost (:data:`CHUNK_COST`), among the sizes
    whose chunk holds at most :data:`CHUNK_BYTES` of paths and recordings and that fill
    :data:`CHUNKS_PER_THREAD` chunks per thread; ties go to the smaller size. Results never
    depend on the chunk size, only time and memory do."""
    def expected(size: int) -> float:
        return math.ceil(math.ceil(rows / size) / threads) * size * CHUNK_COST[size]

    fits = [c for c in CHUNK_COST if c == CHUNK or (
        c * bytes_per_row <= CHUNK_BYTES and rows >= CHUNKS_PER_THREAD * c * threads)]
    return min(fits, key=lambda c: (expected(c), c))


def check_chunk_size(chunk_size: int | None, rows: int, threads: int,
                     bytes_per_row: int = 0) -> int:
    """``chunk_size`` as given (a positive integer) or :func:`pick_chunk`'s; ValueError
    otherwise."""
    if chunk_size is None:
        return pick_chunk(rows, threads, bytes_per_row)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return chunk_size
