"""The one chunk driver (engine/run.py): a row's result is its own, whatever the rows
beside it or their order (one compiled shape, to keep the test short: chunking is
tested in test_batch.py and test_determinism.py); progress counts every row once."""

import numpy as np

from dyadsim.engine.run import run_rows
from dyadsim.model.params import Parameters
from dyadsim.model.populations import get_population
from dyadsim.model.schedule import Schedule
from dyadsim.timepoints import parse_start

POP = get_population("postpartum_oud").with_overrides({}, {}, 0)


def _run(ids, seeds, use_weight, chunk_size, progress=None):
    start_gd, start_pp = parse_start(None, POP.pregnancy, POP.default_start)
    return run_rows(population=POP, start_gest_day=start_gd, start_pp_day=start_pp,
                    total_days=20, ids=ids, seeds=seeds,
                    scalars=Parameters(POP.params).to_dict(),
                    per_row={"craving->opioid_use": use_weight},
                    schedule=Schedule.none(ids.size).arrays, do={}, record=("craving",),
                    n_periods=4, period=5, chunk_size=chunk_size, threads=2,
                    progress=progress)


def test_rows_are_independent_of_order_chunking_and_neighbours():
    rng = np.random.default_rng(0)
    ids = rng.choice(10_000, 37, replace=False).astype(np.uint32)
    seeds = rng.integers(0, 100, 37)
    weight = rng.uniform(1, 6, 37).astype(np.float32)
    counted: list[int] = []
    whole = _run(ids, seeds, weight, 8, counted.append)
    assert sum(counted) == 37 and len(counted) == 5  # 4 x 8 + 5 rows
    order = rng.permutation(37)[:11]  # a shuffled subset: other neighbours, other padding
    part = _run(ids[order], seeds[order], weight[order], 8)
    for got, want in ((part.trajectories, whole.trajectories), (part.outcomes, whole.outcomes),
                      (part.final, whole.final)):
        assert set(got) == set(want) and "craving" in part.trajectories
        for k in want:
            np.testing.assert_array_equal(got[k], want[k][order], err_msg=k)
    assert whole.trajectories["craving"].shape == (37, 4)
    # the rows differ from each other: the comparison above is not between constants
    assert np.unique(whole.trajectories["craving"][:, -1]).size > 30
