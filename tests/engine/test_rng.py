"""The day's random draws: one Threefry-2x32 call per dyad-day (engine/rng.py)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry_2x32
from scipy import stats

from dyadsim.engine import rng
from dyadsim.model.step import N_NORMAL, N_UNIFORM


def test_threefry_is_jax_threefry():
    key = jax.random.PRNGKey(123)
    x0 = np.array([1, 7, 400, 2**31], np.uint32)
    x1 = np.array([0, 3, 19, 5], np.uint32)
    expected = np.asarray(threefry_2x32((key[0], key[1]), np.concatenate([x0, x1])))
    w0, w1 = rng.threefry2x32(key[0], key[1], jnp.asarray(x0), jnp.asarray(x1))
    assert np.array_equal(np.concatenate([np.asarray(w0), np.asarray(w1)]), expected)


def test_day_counters_never_meet_fold_in_keys():
    """fold_in(key, d) is Threefry of the counter (0, d); day t uses (t + 1, j)."""
    key = jax.random.PRNGKey(5)
    for data in (rng.INIT_STREAM, 17, rng.BURN_IN_STREAM):
        w0, w1 = rng.threefry2x32(key[0], key[1], jnp.uint32(0), jnp.uint32(data))
        assert np.array_equal(np.asarray(jax.random.fold_in(key, data)),
                              np.array([w0, w1], np.uint32))


def _draws(seed, ids, day):
    z, u = jax.jit(rng.day_draws)(rng.dyad_keys(seed, jnp.asarray(ids, jnp.uint32)),
                                  jnp.int32(day))
    return np.asarray(z), np.asarray(u)


def test_a_dyads_draws_do_not_depend_on_its_batch():
    alone = _draws(9, [37], 11)
    in_chunk = _draws(9, np.arange(512), 11)
    elsewhere = _draws(9, np.r_[np.arange(1000, 1300), 37, np.arange(5)], 11)
    for i, batch in ((37, in_chunk), (300, elsewhere)):
        assert np.array_equal(batch[0][i], alone[0][0])
        assert np.array_equal(batch[1][i], alone[1][0])
    assert not np.array_equal(_draws(10, [37], 11)[0], alone[0])  # the seed matters
    assert not np.array_equal(_draws(9, [37], 12)[0], alone[0])  # so does the day


def test_normal_table_is_the_stated_discretised_normal():
    table = rng.NORMAL_TABLE
    assert table.shape == (2**16,) and np.all(np.diff(table) > 0)
    assert np.array_equal(table, -table[::-1])  # symmetric: mean exactly 0
    assert 4.32 < table[-1] < 4.33
    assert abs(rng.NORMAL_TABLE_VARIANCE - 1.0) < 1e-4


def test_draws_are_uniform_and_standard_normal():
    z, u = _draws(0, np.arange(4096), 3)
    assert z.shape == (4096, N_NORMAL) and u.shape == (4096, N_UNIFORM)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert np.abs(z).max() <= rng.NORMAL_TABLE[-1]  # the stated truncation
    # columns are independent streams: no correlation between neighbouring columns
    r = np.corrcoef(z[:, 0], z[:, 1])[0, 1]
    assert abs(r) < 4 / np.sqrt(z.shape[0])
