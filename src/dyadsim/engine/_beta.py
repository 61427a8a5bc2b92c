"""Beta variates for some columns only, as ``jax.random.beta`` draws them.

A population draws its initial values (:func:`dyadsim.model.initial.initial_state`) from
``jax.random.beta(key, a, b, (n,))`` over all ``n`` init targets and keeps the beta variates
only where a target's declared distribution is beta (13 of 62 in the presets). JAX samples
every element by a Marsaglia-Tsang rejection loop, so the other 49 cost as much as the ones
kept: for 512 dyads 26.2 ms over all 62 targets against 7.3 ms for the 13 (padded to 16),
side by side (``benchmarks/initial_state.py``; benchmarks/README.md, "third pass").
:func:`beta_at` computes only the requested columns, with the keys and the arithmetic
``jax.random.beta`` uses for them (JAX 0.10's CPU lowering: the key split into one key per
element, then ``_gamma_one`` on each in log space). The values are the same draws up to
float rounding: XLA vectorises the smaller block differently, so 9-17% of them differ in
their last bits, by a relative 1e-6 at most (``tests/engine/test_beta.py``). A dyad's
values never depend on its batch (the block has one shape). It relies on a private JAX
function; the lock file pins JAX and the test fails if an upgrade changes the sampler.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.random.core import _gamma_one

#: Columns are computed in blocks of this many (one compiled shape for every population
#: with up to this many beta-distributed init targets; engine bookkeeping, not science).
BLOCK = 16


def beta_columns(kind: np.ndarray, beta_code: int) -> np.ndarray:
    """Indices of the columns whose ``kind`` is ``beta_code``, padded (by repeating the
    first, or 0 when there is none) to a multiple of :data:`BLOCK`."""
    cols = np.flatnonzero(np.asarray(kind) == beta_code).astype(np.int32)
    size = max(BLOCK, -(-cols.size // BLOCK) * BLOCK)
    pad = np.full(size - cols.size, cols[0] if cols.size else 0, np.int32)
    return np.concatenate([cols, pad])


def _log_gamma(key, alpha, cols):
    keys = jax.random.wrap_key_data(jax.random.split(key, alpha.shape[0])[cols])
    return jax.vmap(partial(_gamma_one, log_space=True))(keys, alpha[cols])


def beta_at(key, a, b, cols) -> jnp.ndarray:
    """``jax.random.beta(key, a, b, a.shape)`` at the indices ``cols`` (duplicates allowed);
    every other element is 0."""
    a = jnp.asarray(a, jnp.float32)
    b = jnp.broadcast_to(jnp.asarray(b, jnp.float32), a.shape)
    key_a, key_b = jax.random.split(key)
    log_gamma_a = _log_gamma(key_a, a, cols)
    log_gamma_b = _log_gamma(key_b, b, cols)
    log_max = jnp.maximum(log_gamma_a, log_gamma_b)
    gamma_a_scaled = jnp.exp(log_gamma_a - log_max)
    gamma_b_scaled = jnp.exp(log_gamma_b - log_max)
    return jnp.zeros_like(a).at[cols].set(gamma_a_scaled / (gamma_a_scaled + gamma_b_scaled))
