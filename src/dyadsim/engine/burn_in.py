"""The burn-in before enrolment (issue 6 item 9): each dyad's mother is simulated for
``days`` days under her population's own conditions (:func:`dyadsim.model.initial.
before_enrolment`) on her own burn-in stream, and the run starts from the state she reaches
(:func:`dyadsim.model.initial.at_enrolment`).

The burn-in of a dyad depends only on what it reads: (seed, id), the parameter values of
its row, the population, the enrolment timing, the ``do`` clamps and the part of the
treatment schedule that exists before enrolment (MOUD access and drug; study sessions and
tapers never run in a burn-in, so the schedule's other arrays are replaced by "none"). So

- rows with identical inputs are burned in once (the arms and counterfactual worlds of a
  trial or a mediation analysis run on the same dyads);
- the burn-in runs in its own fixed-size padded chunks (:data:`CHUNK`), whatever chunk
  size the run uses, so a dyad's enrolment state never depends on its batch;
- finished chunks are kept in a bounded in-process cache keyed by a hash of every input,
  so a repeated run (the reference and path worlds of :mod:`dyadsim.analysis.mechanisms`,
  a rerun in the explorer) does not burn in again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

import jax
import numpy as np

from ..model.initial import BURNED_IN, INIT_NAMES, at_enrolment, before_enrolment, initial_state
from ..model.schedule import Schedule
from ..model.step import step, unpack_draws
from . import rng
from ._engine import CHUNK
from ._threads import check_threads, map_in_order

#: Schedule arrays a burn-in reads (the rest are set to "no treatment" for it).
SCHEDULE_BEFORE_ENROLMENT = ("moud.offer_day", "moud.drug")
#: Chunks of burned-in states kept per process (each ~ CHUNK x len(BURNED_IN) x 4 bytes).
CACHE_CHUNKS = 256

_cache: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
_cache_lock = threading.Lock()


def burn_in(s0, p, dyad, keys, spec, do_mask, do_value, days):
    """``days`` days before enrolment under the population's own conditions on the dyad's
    burn-in stream; returns the state at enrolment. Nothing is counted towards outcomes."""
    bkeys = rng.burn_in_key(keys)
    dyad_b, mask, value, held = before_enrolment(s0, dyad, do_mask, do_value)

    def one_day(day, s):
        z, u = unpack_draws(*rng.day_draws(bkeys, day))
        return step(s, p, {**dyad_b, "birth_day": day - held}, day, z, u, mask, value)

    return at_enrolment(s0, jax.lax.fori_loop(0, days, one_day, s0), spec, INIT_NAMES, days)


@jax.jit
def _burn_in_chunk(ids, seed, p, spec, pregnancy, start_gest_day, start_pp_day, sched,
                   do_mask, do_value, days):
    keys = rng.dyad_keys(seed, ids)
    s0, dyad = initial_state(rng.init_key(keys), p, spec, INIT_NAMES, pregnancy,
                             start_gest_day, start_pp_day, sched, do_mask, do_value)
    s = burn_in(s0, p, dyad, keys, spec, do_mask, do_value, days)
    return {k: s[k] for k in BURNED_IN}


def _bits(a) -> np.ndarray:
    """A column's exact bits as int64 (float32 compared bitwise)."""
    a = np.asarray(a)
    if a.dtype == np.float32:
        a = a.view(np.int32)
    return a.astype(np.int64)


def _digest(*parts) -> str:
    h = hashlib.sha1()
    for part in parts:
        if isinstance(part, Mapping):
            for k in sorted(part):
                h.update(k.encode())
                h.update(np.ascontiguousarray(np.asarray(part[k])).tobytes())
        else:
            h.update(np.ascontiguousarray(np.asarray(part)).tobytes())
    return h.hexdigest()


def enrolment_states(ids: np.ndarray, seeds: int | np.ndarray,
                     scalars: Mapping[str, float], rows: Mapping[str, np.ndarray],
                     spec: Mapping[str, np.ndarray], pregnancy: bool, start_gest_day: float,
                     start_pp_day: int, sched: Mapping[str, np.ndarray],
                     do_mask: Mapping[str, bool], do_value: Mapping[str, float],
                     days: int, threads: int | None = None) -> dict[str, np.ndarray]:
    """Each row's burned-in maternal states at enrolment ({state: (rows,) array}); the
    chunks not in the cache run ``threads`` at once (default: the engine's).

    ``ids`` (rows,), ``seeds`` one seed or one per row, ``scalars`` run-wide parameter
    values, ``rows`` parameters with one value per row, ``sched`` the rows' schedule
    arrays (only :data:`SCHEDULE_BEFORE_ENROLMENT` are read)."""
    n = len(ids)
    seed_rows = np.broadcast_to(np.asarray(seeds, np.int64), (n,))
    cols = [_bits(ids), seed_rows]
    cols += [_bits(np.asarray(rows[k], np.float32)) for k in sorted(rows)]
    cols += [_bits(sched[k]) for k in SCHEDULE_BEFORE_ENROLMENT]
    unique, first, inverse = np.unique(np.stack(cols, axis=1), axis=0, return_index=True,
                                       return_inverse=True)
    none = Schedule.none(CHUNK).arrays
    run_wide = _digest(scalars, spec, do_mask, do_value, np.asarray(sorted(rows)),
                       np.asarray([pregnancy, start_gest_day, start_pp_day, days], np.float64))
    # numpy values go to the compiled call as they are (its dispatch moves them)
    scalars_np = {k: np.float32(v) for k, v in scalars.items()}
    starts = range(0, len(first), CHUNK)
    keys = [_digest(run_wide, unique[start:start + CHUNK]) for start in starts]

    def one_chunk(start: int) -> dict[str, np.ndarray]:
        idx = first[start:start + CHUNK]
        pad = np.concatenate([idx, np.repeat(idx[-1:], CHUNK - idx.size)])
        sched_c = {k: np.asarray(sched[k])[pad] if k in SCHEDULE_BEFORE_ENROLMENT else v
                   for k, v in none.items()}
        rows_c = {k: np.asarray(v, np.float32)[pad] for k, v in rows.items()}
        seed_c = (np.asarray(seeds, np.int32) if np.ndim(seeds) == 0
                  else seed_rows[pad].astype(np.int32))
        out = _burn_in_chunk(np.asarray(ids, np.uint32)[pad], seed_c, {**scalars_np, **rows_c},
                             spec, bool(pregnancy), float(start_gest_day), int(start_pp_day),
                             sched_c, do_mask, do_value, np.int32(days))
        return {k: np.asarray(v)[:idx.size] for k, v in out.items()}

    with _cache_lock:
        got = {key: _cache[key] for key in keys if key in _cache}
    missing = [(start, key) for start, key in zip(starts, keys, strict=True) if key not in got]
    computed = map_in_order(one_chunk, (start for start, _ in missing),
                            min(check_threads(threads), max(len(missing), 1)))
    for (_, key), states in zip(missing, computed, strict=True):
        got[key] = states  # the cache is touched only here, in the calling thread
    with _cache_lock:
        for key in keys:
            _cache[key] = got[key]
            _cache.move_to_end(key)
        while len(_cache) > CACHE_CHUNKS:
            _cache.popitem(last=False)
    return {k: np.concatenate([got[key][k] for key in keys])[inverse.reshape(-1)]
            for k in BURNED_IN}


def clear_cache() -> None:
    """Forget every cached burn-in (memory; results never depend on the cache)."""
    with _cache_lock:
        _cache.clear()
