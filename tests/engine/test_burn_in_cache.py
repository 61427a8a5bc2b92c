"""The burn-in's bookkeeping (engine/burn_in.py): a dyad's enrolment state depends only on
its own inputs, never on its batch, on duplicates beside it, on the study's treatment (which
starts at enrolment) or on the cache."""

import jax.numpy as jnp
import numpy as np
import pytest

import dyadsim
from dyadsim.engine import burn_in
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.interventions import get_intervention
from dyadsim.interventions.schedule import build_schedule
from dyadsim.model.initial import BURNED_IN, init_spec
from dyadsim.model.params import Parameters
from dyadsim.model.populations import get_population

DAYS = 60
KW = dict(population="postpartum_oud", horizon="3d", seed=7, record="daily",
          burn_in_days=DAYS)
NODES = ("tolerance", "allostatic_load", "craving", "action_schema", "maternal_depression")


@pytest.fixture
def counted(monkeypatch):
    """Counts the burn-in chunks actually computed."""
    calls = []
    real = burn_in._burn_in_chunk

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(burn_in, "_burn_in_chunk", counting)
    burn_in.clear_cache()
    yield calls
    burn_in.clear_cache()


def test_enrolment_state_does_not_depend_on_batch_or_chunk_size(counted):
    picked = [3, 600, 41, 1200, 7]
    alone = dyadsim.simulate(**KW, dyads=5, dyad_ids=np.array(picked))
    burn_in.clear_cache()
    among = dyadsim.simulate(**KW, dyads=1300, chunk_size=256).sel(dyad=picked)
    for node in NODES:
        np.testing.assert_array_equal(alone[node].values, among[node].values)


def test_duplicate_rows_burn_in_once_and_the_cache_changes_nothing(counted):
    first = dyadsim.simulate(**KW, dyads=40)
    assert len(counted) == 1
    again = dyadsim.simulate(**KW, dyads=40)
    assert len(counted) == 1  # served from the cache
    burn_in.clear_cache()
    fresh = dyadsim.simulate(**KW, dyads=40)
    assert len(counted) == 2
    for node in NODES:
        np.testing.assert_array_equal(first[node].values, again[node].values)
        np.testing.assert_array_equal(first[node].values, fresh[node].values)
    # four worlds on the same 40 dyads and parameters: 40 unique rows, one chunk
    burn_in.clear_cache()
    pop = get_population("postpartum_oud").with_overrides(burn_in_days=DAYS)
    b = simulate_batch(Setting.from_population(pop, horizon="3d"), [{}, {}, {}, {}],
                       dyads=40, seed=7)
    assert len(counted) == 3
    for k in NODES:
        np.testing.assert_array_equal(b.final[k][0], b.final[k][3])
    # a parameter that differs between sets gives each set its own burn-in
    burn_in.clear_cache()
    b2 = simulate_batch(Setting.from_population(pop, horizon="3d"),
                        [{}, {"craving.bias": -1.0}], dyads=40, seed=7)
    assert len(counted) == 4  # 80 unique rows, still one chunk
    np.testing.assert_array_equal(b2.final["tolerance"][0], b.final["tolerance"][0])
    assert not np.array_equal(b2.final["craving"][0], b2.final["craving"][1])


def test_treatment_from_enrolment_does_not_reach_the_burn_in():
    """The schedule arrays the burn-in does not read (sessions, adherence, tapers) are
    replaced by "none" for it: running the burn-in with MORE's real schedule gives the same
    enrolment states bit for bit, so the replacement drops nothing the burn-in uses."""
    n = burn_in.CHUNK
    pop = get_population("adult_chronic_pain_ltot")
    names, spec = init_spec(pop)
    sched = build_schedule([[get_intervention("more")], []], [(0, False), (0, False)],
                           np.arange(n) % 2).arrays
    p = {k: jnp.float32(v) for k, v in Parameters(dict(pop.params)).items()}
    do_mask = _no_do()
    with_schedule = burn_in._burn_in_chunk(
        jnp.arange(n, dtype=jnp.uint32), jnp.int32(3), p,
        {k: jnp.asarray(v) for k, v in spec.items()}, False, 0.0, 0,
        {k: jnp.asarray(v) for k, v in sched.items()}, *do_mask, jnp.int32(DAYS))
    kept = burn_in.enrolment_states(np.arange(n, dtype=np.uint32), 3, dict(p), {}, spec,
                                    False, 0.0, 0, sched, *do_mask, DAYS)
    assert set(kept) == set(BURNED_IN)
    for k in BURNED_IN:
        np.testing.assert_array_equal(np.asarray(with_schedule[k]), kept[k])


def _no_do():
    from dyadsim.model.graph import NODE_IDS
    return ({k: jnp.bool_(False) for k in NODE_IDS}, {k: jnp.float32(0.0) for k in NODE_IDS})
