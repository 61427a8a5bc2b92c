"""Random streams. A dyad's stream depends only on (seed, dyad id): its key is
``fold_in(PRNGKey(seed), dyad_id)``; the initial draws use ``fold_in(dyad_key, 0)``; the
burn-in before enrolment draws its days from its own key ``fold_in(dyad_key, BURN_IN_STREAM)``.
So results do not depend on chunking, on the number of workers or on which other dyads are
simulated.

Day ``t``'s draws are the Threefry-2x32 block cipher (Salmon et al. 2011, the generator
behind ``jax.random``) applied to the counters ``(t + 1, j)``, ``j = 0 .. DAY_BLOCKS - 1``,
under the dyad's key: one call per dyad-day, no per-day key derivation. ``fold_in`` hashes the
counter ``(0, data)``, so the day counters (first word >= 1) never meet the keys derived by
``fold_in``.

Uniforms take a whole 32-bit word each (23 mantissa bits, as ``jax.random.uniform``: event
probabilities can be small). Normals (process noise on a logit) take 16 bits each, two per
word, through a table of the standard normal's quantiles at the 2**16 bin midpoints
``Phi^-1((i + 1/2) / 2**16)``: a discretised normal with steps of at most 4e-5 sd near 0,
symmetric (mean exactly 0), truncated at +-4.32 sd (the outermost bin, probability 1.5e-5 on
each side, is drawn as +-4.32), variance 0.99998 (``NORMAL_TABLE_VARIANCE``). It is cheaper
than ``sqrt(2) * erfinv`` of a 32-bit uniform and needs half the cipher words
(benchmarks/README.md).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from scipy.special import ndtri

from ..model.step import N_NORMAL, N_UNIFORM

INIT_STREAM = 0
BURN_IN_STREAM = 2**31 - 1  # beyond any run's days (day t uses t + 1)
NORMAL_WORDS = (N_NORMAL + 1) // 2  # two 16-bit normals per 32-bit word
DAY_WORDS = NORMAL_WORDS + N_UNIFORM
DAY_BLOCKS = (DAY_WORDS + 1) // 2  # Threefry blocks (2 words each) per dyad-day

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)
NORMAL_TABLE = ndtri((np.arange(2**16) + 0.5) / 2**16).astype(np.float32)
NORMAL_TABLE_VARIANCE = float(np.mean(NORMAL_TABLE.astype(np.float64) ** 2))


def dyad_keys(seed, ids):
    """One key per dyad: ``fold_in(PRNGKey(seed), id)``. ``seed`` is one seed for all, or
    one per dyad (a batch of replications, each with its own seed, in one call): a row's
    key is then the one it would get from its own seed alone."""
    seeds = jnp.broadcast_to(jnp.asarray(seed), jnp.shape(ids))
    return jax.vmap(lambda s, i: jax.random.fold_in(jax.random.PRNGKey(s), i))(seeds, ids)


def _rotate_left(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 with 20 rounds (the variant of ``jax.random``), unrolled, on
    broadcastable uint32 arrays: keys ``(k0, k1)``, counters ``(x0, x1)``."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = x0 + k0, x1 + k1
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, r) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def day_bits(keys, day):
    """The day's random words (2 DAY_BLOCKS x dyads uint32) from one Threefry call. Word
    by dyad, not dyad by word: the cipher's arithmetic then runs along the dyads, whole
    vector registers at a time (dyad by word left 13-wide rows: 3.4x slower on AVX2,
    benchmarks/README.md)."""
    k0, k1 = keys[None, :, 0], keys[None, :, 1]
    t = jnp.full((DAY_BLOCKS, 1), day + 1, dtype=jnp.uint32)
    j = jnp.arange(DAY_BLOCKS, dtype=jnp.uint32)[:, None]
    w0, w1 = threefry2x32(k0, k1, t, j)
    return jnp.concatenate([w0, w1], axis=0)


def to_uniform(bits):
    """Uniform on [0, 1) from the top 23 bits (as ``jax.random.uniform``)."""
    one = lax.bitcast_convert_type((bits >> np.uint32(9)) | np.uint32(0x3F800000), jnp.float32)
    return one - 1.0


def to_normal(words, n: int):
    """``n`` rows of standard normals from the 16-bit halves of the rows of ``words`` (high
    halves first), through :data:`NORMAL_TABLE`."""
    halves = jnp.concatenate([words >> np.uint32(16), words & np.uint32(0xFFFF)], axis=0)
    return jnp.take(jnp.asarray(NORMAL_TABLE), halves[:n].astype(jnp.int32), axis=0,
                    mode="clip")


def day_draws(keys, day):
    """The day's normal (dyads x N_NORMAL) and uniform (dyads x N_UNIFORM) draws. The
    words are materialised once (``optimization_barrier``): otherwise XLA fuses the
    20-round cipher into every consumer of a draw and recomputes it per column."""
    bits = lax.optimization_barrier(day_bits(keys, day))
    return (to_normal(bits[:NORMAL_WORDS], N_NORMAL).T,
            to_uniform(bits[NORMAL_WORDS:DAY_WORDS]).T)


def init_key(keys):
    return jax.vmap(lambda k: jax.random.fold_in(k, INIT_STREAM))(keys)


def burn_in_key(keys):
    return jax.vmap(lambda k: jax.random.fold_in(k, BURN_IN_STREAM))(keys)
