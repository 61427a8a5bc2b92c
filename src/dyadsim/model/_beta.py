"""Beta variates for some columns only, as ``jax.random.beta`` draws them, for a whole chunk
of dyads at once.

A population draws its initial values (:func:`dyadsim.model.initial.initial_state`) as if
by ``jax.random.beta(key, a, b, (n,))`` over all ``n`` init targets of each dyad and keeps
the beta variates only where a target's declared distribution is beta (13 of 62 in the
presets). :func:`beta_at` computes only those columns, with the keys and the arithmetic
``jax.random.beta`` uses for them (JAX 0.10's CPU lowering: the key split into one key per
element, then ``_gamma_one`` on each in log space): 26.2 -> 7.3 ms per 512 dyads
(benchmarks/README.md, "third pass").

JAX draws each gamma variate by a Marsaglia-Tsang rejection loop; vectorised over many
variates the loop runs until the slowest one accepts. :func:`log_gamma` therefore computes
every variate's first proposal in straight-line code, with the same keys and operations,
and runs JAX's own loop only for the ~1% it rejects; all dyads of a chunk and both shape
parameters go through one such draw (beta draws 12.6 -> ~3.8 ms per 1,024 dyads,
benchmarks/README.md, "fourth pass").

The values are the same draws up to float rounding: XLA vectorises the blocks differently,
so some differ in their last bits, by a relative 1e-6 at most (``tests/engine/test_beta.py``).
A dyad's values never depend on its batch or the chunk size (tested bit for bit in
``tests/engine/test_determinism.py``). It relies on a private JAX function; the lock file
pins JAX and the test fails if an upgrade changes the sampler.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax._src.random.core import _gamma_one

#: Columns are computed in blocks of this many (one compiled shape for every population
#: with up to this many beta-distributed init targets; engine bookkeeping, not science).
BLOCK = 16
#: At most one variate in this many goes on to JAX's rejection loop after the first
#: proposal (the presets' shapes reject 1.0-1.6% of first proposals, measured for 1,024
#: dyads; Marsaglia-Tsang rejects at most ~5% for any shape); when more are rejected, the
#: loop redraws every variate. Engine bookkeeping, not science: the draws are the same
#: either way.
LOOP_SHARE = 16

#: Marsaglia & Tsang (2000)'s constants, as JAX's ``_gamma_one`` writes them (d = alpha - 1/3,
#: squeeze test u < 1 - 0.0331 x^4, log test against x^2 / 2): the algorithm, not a parameter.
_THIRD, _SQUEEZE, _HALF = np.float32(1 / 3), np.float32(0.0331), np.float32(0.5)


def beta_columns(kind: np.ndarray, beta_code: int) -> np.ndarray:
    """Indices of the columns whose ``kind`` is ``beta_code``, padded (by repeating the
    first, or 0 when there is none) to a multiple of :data:`BLOCK`."""
    cols = np.flatnonzero(np.asarray(kind) == beta_code).astype(np.int32)
    size = max(BLOCK, -(-cols.size // BLOCK) * BLOCK)
    pad = np.full(size - cols.size, cols[0] if cols.size else 0, np.int32)
    return np.concatenate([cols, pad])


def _first_proposal(key, alpha):
    """``_gamma_one(key, alpha, log_space=True)`` if its first proposal is accepted, with
    the same keys and operations (Marsaglia & Tsang 2000 in JAX's form); and whether it was
    (False also when the first normal gives v <= 0, which JAX's inner loop redraws)."""
    one, zero = np.float32(1), np.float32(0)
    boost_mask = alpha >= one
    alpha_orig = alpha
    alpha = jnp.where(boost_mask, alpha, alpha + one)
    d = alpha - _THIRD
    c = _THIRD / jnp.sqrt(d)
    key, subkey = jax.random.split(key)
    key, x_key, u_key = jax.random.split(key, 3)
    _, normal_key = jax.random.split(x_key)
    x = jax.random.normal(normal_key, (), jnp.float32)
    v = one + x * c
    x2 = x * x
    v3 = (v * v) * v
    u = jax.random.uniform(u_key, (), jnp.float32)
    again = (u >= one - _SQUEEZE * (x2 * x2)) & (
        jnp.log(u) >= x2 * _HALF + d * ((one - v3) + jnp.log(v3)))
    log_samples = -jax.random.exponential(subkey, (), jnp.float32)
    log_boost = jnp.where(boost_mask | (log_samples == 0), zero,
                          log_samples * (one / alpha_orig))
    return jnp.log(d) + jnp.log(v3) + log_boost, (v > zero) & ~again


def log_gamma(keys, alpha) -> jnp.ndarray:
    """``vmap(_gamma_one(log_space=True))(keys, alpha)``, cheaper: the first proposal of
    every variate in straight-line vectorised code, and JAX's rejection loop only for the
    variates it rejects (at most ``1/LOOP_SHARE`` of them; the loop redraws all otherwise).
    A vectorised loop runs until its slowest lane accepts, so over all variates it ran
    several rounds for the ~1% that need a second proposal."""
    size = alpha.shape[0]
    first, accepted = jax.vmap(_first_proposal)(keys, alpha)
    exact = jax.vmap(partial(_gamma_one, log_space=True))
    room = max(1, size // LOOP_SHARE)

    def redraw_rejected():
        idx = jnp.nonzero(~accepted, size=room, fill_value=size)[0]
        take = jnp.minimum(idx, size - 1)
        return first.at[idx].set(exact(keys[take], alpha[take]), mode="drop")

    return lax.cond(jnp.sum(~accepted) <= room, redraw_rejected, lambda: exact(keys, alpha))


def beta_at(keys, a, b, cols) -> jnp.ndarray:
    """``jax.random.beta(key, a, b, a.shape)`` for each of the ``keys`` (one row per key), at
    the indices ``cols`` (duplicates allowed); every other element is 0.

    Every gamma variate of every row and both shape parameters goes through one
    :func:`log_gamma` draw (a loop per row or per parameter ran until its slowest lane
    accepted: 14.2-14.6 -> 3.3-3.8 ms for 1,024 rows, benchmarks/README.md, "fourth pass")."""
    a = jnp.asarray(a, jnp.float32)
    b = jnp.broadcast_to(jnp.asarray(b, jnp.float32), a.shape)

    def element_keys(key):
        key_a, key_b = jax.random.split(key)
        return jnp.concatenate([jax.random.split(key_a, a.shape[0])[cols],
                                jax.random.split(key_b, a.shape[0])[cols]])

    rows, width = keys.shape[0], cols.shape[0]
    flat_keys = jax.random.wrap_key_data(jax.vmap(element_keys)(keys).reshape(rows * 2 * width, -1))
    flat_alpha = jnp.tile(jnp.concatenate([a[cols], b[cols]]), rows)
    logs = log_gamma(flat_keys, flat_alpha).reshape(rows, 2 * width)
    log_gamma_a, log_gamma_b = logs[:, :width], logs[:, width:]
    log_max = jnp.maximum(log_gamma_a, log_gamma_b)
    gamma_a_scaled = jnp.exp(log_gamma_a - log_max)
    gamma_b_scaled = jnp.exp(log_gamma_b - log_max)
    return jnp.zeros((rows, a.shape[0]), jnp.float32).at[:, cols].set(
        gamma_a_scaled / (gamma_a_scaled + gamma_b_scaled))
