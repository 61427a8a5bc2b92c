"""Parameter batches: a row equals the scalar path; chunking never changes a result; a node
or edge held at its own world's trajectory changes nothing (the clamp machinery is exact)."""

import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.model.graph import EDGES
from dyadsim.model.params import PARAMS
from dyadsim.model.step import ORDER

POS = {n: i for i, (n, _) in enumerate(ORDER)}
# a feedback edge (read from yesterday's value): withdrawal -> craving, or the first such
BACK = next(e for e in EDGES if e.type == "direct" and POS.get(e.source, -1) > POS[e.target])

EDGE = "craving->opioid_use"
SETTING = Setting.from_population("pregnant_oud_moud", start="gw20", horizon="2m")
SETS = [{}, {EDGE: PARAMS[EDGE].hi}, {"craving.tau": PARAMS["craving.tau"].lo}]


@pytest.fixture(scope="module")
def batch():
    return simulate_batch(SETTING, SETS, dyads=60, seed=4, record_daily=("craving", BACK.source))


def _same(a, b):
    return np.array_equal(a, b, equal_nan=True)


def test_each_set_equals_the_scalar_path_bit_for_bit(batch):
    for i, ps in enumerate(SETS):
        ds = simulate(dyads=60, seed=4, start="gw20", horizon="2m", record="none", params=ps)
        assert _same(ds["use_days"].values, batch.outcomes["use_days"][i])
        assert _same(ds["moud_days"].values, batch.outcomes["moud_days"][i])
        assert _same(ds["overdoses"].values, batch.outcomes["overdoses"][i])
    assert not _same(batch.outcomes["use_days"][0], batch.outcomes["use_days"][1])


def test_chunk_size_and_neighbours_do_not_change_results(batch):
    small = simulate_batch(SETTING, SETS[::-1], dyads=60, seed=4,
                           record_daily=("craving", BACK.source),
                           chunk_size=64)
    for k, v in batch.outcomes.items():
        assert _same(v, small.outcomes[k][::-1]), k
    assert _same(batch.daily["craving"], small.daily["craving"][::-1])


def test_holding_a_node_or_edge_at_its_own_trajectory_changes_nothing(batch):
    own = batch.daily["craving"][:1]
    back = batch.daily[BACK.source][:1]
    held = simulate_batch(SETTING, SETS[:1], dyads=60, seed=4, node_paths={"craving": own},
                          edge_paths={("craving", "opioid_use"): own,
                                      (BACK.source, BACK.target): back})
    for k, v in held.outcomes.items():
        assert _same(v[0], batch.outcomes[k][0]), k
    # held at another world's trajectory it does change: the clamp acts
    other = simulate_batch(SETTING, SETS[:1], dyads=60, seed=4,
                           node_paths={"craving": np.ones_like(own)})
    assert other.outcomes["use_days"].sum() > batch.outcomes["use_days"][0].sum()


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown node"):
        simulate_batch(SETTING, [{}], dyads=5, seed=1, record_daily=("no_such_node",))
    with pytest.raises(ValueError, match="at least one"):
        simulate_batch(SETTING, [], dyads=5, seed=1)


def test_a_zero_edge_weight_is_a_knockout_whatever_its_bounds():
    from dyadsim.engine.batch import _varying
    from dyadsim.model.params import ParameterError

    full, names = _varying(SETTING, [{}, {EDGE: 0.0}])
    assert full[1][EDGE] == 0.0 and names == [EDGE]
    with pytest.raises(ParameterError, match="outside its bounds"):
        _varying(SETTING, [{EDGE: PARAMS[EDGE].hi + 1.0}])
