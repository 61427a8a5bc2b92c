"""Random streams. A dyad's stream depends only on (seed, dyad id): its key is
``fold_in(PRNGKey(seed), dyad_id)``; day ``t`` uses ``fold_in(dyad_key, t + 1)`` and the
initial draws use ``fold_in(dyad_key, 0)``; the burn-in before enrolment draws its days from
its own key ``fold_in(dyad_key, BURN_IN_STREAM)``. So results do not depend on chunking, on the
number of workers or on which other dyads are simulated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..model.step import N_NORMAL, N_UNIFORM

INIT_STREAM = 0
BURN_IN_STREAM = 2**31 - 1  # beyond any run's days (day t uses t + 1)


def dyad_keys(seed, ids):
    """One key per dyad: ``fold_in(PRNGKey(seed), id)``. ``seed`` is one seed for all, or
    one per dyad (a batch of replications, each with its own seed, in one call): a row's
    key is then the one it would get from its own seed alone."""
    seeds = jnp.broadcast_to(jnp.asarray(seed), jnp.shape(ids))
    return jax.vmap(lambda s, i: jax.random.fold_in(jax.random.PRNGKey(s), i))(seeds, ids)


def day_draws(keys, day):
    """The day's normal (dyads x N_NORMAL) and uniform (dyads x N_UNIFORM) draws."""
    def one(k):
        k = jax.random.fold_in(k, day + 1)
        k_u, k_z = jax.random.split(k)
        return (jax.random.normal(k_z, (N_NORMAL,), jnp.float32),
                jax.random.uniform(k_u, (N_UNIFORM,), jnp.float32))
    return jax.vmap(one)(keys)


def init_key(keys):
    return jax.vmap(lambda k: jax.random.fold_in(k, INIT_STREAM))(keys)


def burn_in_key(keys):
    return jax.vmap(lambda k: jax.random.fold_in(k, BURN_IN_STREAM))(keys)
