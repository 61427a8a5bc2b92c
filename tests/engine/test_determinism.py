"""Reproducibility: a dyad's result depends only on (seed, dyad id)."""

import numpy as np

from dyadsim import simulate


def _equal(a, b, n=None):
    for v in b.data_vars:
        x = a[v].values[:n] if n else a[v].values
        y = b[v].values
        same = (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                else np.array_equal(x, y))
        if not same:
            return v
    return None


def test_first_40_of_3000_equal_40_alone_bit_for_bit():
    big = simulate(dyads=3000, seed=11)
    small = simulate(dyads=40, seed=11)
    assert _equal(big, small, 40) is None


def test_results_do_not_depend_on_chunk_size():
    a = simulate(dyads=600, seed=3, horizon="2m", record="monthly")
    b = simulate(dyads=600, seed=3, horizon="2m", record="monthly", chunk_size=256)
    assert _equal(a, b) is None


def test_recording_does_not_change_outcomes_and_seed_matters():
    a = simulate(dyads=300, seed=5, horizon="2m", record="monthly")
    b = simulate(dyads=300, seed=5, horizon="2m", record="none")
    for v in b.data_vars:
        assert np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == "f"), v
    c = simulate(dyads=300, seed=6, horizon="2m", record="monthly")
    assert not np.array_equal(a["craving"].values, c["craving"].values)


def test_the_picked_chunk_size_balances_padding_threads_and_memory():
    from dyadsim.engine._engine import CHUNK, CHUNK_BYTES, pick_chunk

    assert pick_chunk(40, 2) == CHUNK  # a small run pads the least
    assert pick_chunk(1000, 2) == CHUNK  # two chunks of 512, one per thread
    assert pick_chunk(3000, 1) == CHUNK  # too few chunks of 1024 to be worth a compilation
    assert pick_chunk(10_000, 2) == 1024  # 10 chunks, 5 rounds; 2048 would idle a thread
    assert pick_chunk(100_000, 2) == 2048
    assert pick_chunk(100_000, 2, bytes_per_row=CHUNK_BYTES // 1024) == 1024
    assert pick_chunk(100_000, 2, bytes_per_row=10**9) == CHUNK  # too big: the base size


def test_larger_chunks_give_the_same_results_bit_for_bit():
    kw = dict(dyads=2100, seed=8, horizon="2m", record="monthly", threads=1)
    a = simulate(**kw, chunk_size=512)
    for size in (1024, 2048):
        assert _equal(a, simulate(**kw, chunk_size=size)) is None, size


def test_a_bad_chunk_size_is_a_clear_error():
    import pytest

    from dyadsim.engine.batch import Setting, simulate_batch
    from dyadsim.simulation import ScenarioError

    for bad in (0, -5, True, 2.0):
        with pytest.raises(ScenarioError, match="chunk_size must be a positive integer"):
            simulate(dyads=10, chunk_size=bad)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        simulate_batch(Setting.from_population("postpartum_oud", horizon="1m"), [{}],
                       dyads=10, seed=0, chunk_size=0)
