"""Beta variates computed for some columns only are jax.random.beta's: the same keys and
arithmetic, equal to a relative 4e-6 (XLA compiles the 16-column block and JAX's all-column
call with different vectorisation: 9-17% of the presets' values differ in their last bits,
by a relative 1e-6 at most, measured when this was written)."""

import jax
import jax.numpy as jnp
import numpy as np

from dyadsim.engine import rng
from dyadsim.model._beta import BLOCK, beta_at, beta_columns
from dyadsim.model.initial import init_spec
from dyadsim.model.populations import PRESETS


def _both(keys, a, b, cols):
    full = jax.vmap(lambda k: jax.random.beta(k, a, b, a.shape))(keys)
    some = beta_at(keys, a, b, jnp.asarray(cols))
    return np.asarray(full), np.asarray(some)


def test_every_presets_beta_columns_are_jax_randoms():
    keys = rng.init_key(rng.dyad_keys(7, jnp.arange(300, dtype=jnp.uint32)))
    checked = 0
    for name in PRESETS:
        _, spec = init_spec(PRESETS[name])
        mean = np.clip(spec["a"], 1e-4, 1 - 1e-4)
        conc = np.maximum(mean * (1 - mean) / np.maximum(spec["b"] ** 2, 1e-8) - 1.0, 1e-3)
        a, b = jnp.asarray(mean * conc), jnp.asarray((1 - mean) * conc)
        cols = spec["beta_cols"]
        full, some = _both(keys, a, b, cols)
        is_beta = spec["kind"] == 1
        np.testing.assert_allclose(full[:, is_beta], some[:, is_beta], rtol=4e-6, atol=0)
        assert np.all(some[:, ~is_beta] == 0.0)
        checked += int(is_beta.sum())
    assert checked > 0


def test_extreme_and_padded_columns():
    keys = rng.init_key(rng.dyad_keys(3, jnp.arange(200, dtype=jnp.uint32)))
    a = jnp.asarray([1e-3, 0.05, 0.7, 1.0, 3.0, 40.0, 500.0, 2.0], jnp.float32)
    b = jnp.asarray([2.0, 1e-3, 0.3, 1.0, 9.0, 0.2, 500.0, 2.0], jnp.float32)
    cols = np.array([5, 0, 1, 2, 3, 6, 5, 5], np.int32)  # out of order, duplicated, 4 and 7 unused
    full, some = _both(keys, a, b, cols)
    used = np.unique(cols)
    np.testing.assert_allclose(full[:, used], some[:, used], rtol=4e-6, atol=0)
    assert np.all(some[:, [4, 7]] == 0.0)


def test_columns_are_padded_to_one_shape():
    assert list(beta_columns(np.array([0, 1, 3, 1]), 1)) == [1, 3] + [1] * (BLOCK - 2)
    assert list(beta_columns(np.array([0, 2]), 1)) == [0] * BLOCK
    assert beta_columns(np.ones(BLOCK + 1, int), 1).size == 2 * BLOCK


def test_log_gamma_equals_jaxs_loop_with_and_without_the_loop_over_all():
    """The first proposal vectorised, JAX's loop only for the rejected variates (room for
    1/LOOP_SHARE of them), or for all when more are rejected: the same variates either way."""
    from functools import partial

    import pytest
    from jax._src.random.core import _gamma_one

    from dyadsim.model import _beta

    keys = jax.random.split(jax.random.key(5), 4000)
    alpha = jnp.tile(jnp.asarray([1e-3, 0.3, 1.0, 1.64, 12.0, 500.0, 2.0, 0.9], jnp.float32), 500)
    want = np.asarray(jax.vmap(partial(_gamma_one, log_space=True))(keys, alpha))
    _, accepted = jax.vmap(_beta._first_proposal)(keys, alpha)
    rejected = int((~np.asarray(accepted)).sum())
    assert 1 < rejected <= 4000 // _beta.LOOP_SHARE  # some go to the loop, within its room
    # log variates near 0: an absolute 1e-6 is a relative 1e-6 of the variate (last bits)
    np.testing.assert_allclose(np.asarray(_beta.log_gamma(keys, alpha)), want, rtol=4e-6, atol=1e-6)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_beta, "LOOP_SHARE", 4000)  # room for one: the loop redraws every variate
        np.testing.assert_allclose(np.asarray(_beta.log_gamma(keys, alpha)), want, rtol=4e-6,
                                   atol=1e-6)
