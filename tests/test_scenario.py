"""The scenario reader (scenario.py) and the one parameter-precedence order
(model.params.run_parameters)."""

import pytest

from dyadsim.model.params import PARAMS, run_parameters
from dyadsim.scenario import Scenario
from dyadsim.timepoints import ScenarioError

LIN = "moud.stop_logit"  # a linear-scale parameter (bounds -15..0)


def test_each_layer_overrides_the_ones_below():
    pop = {LIN: -9.0, "craving.bias": 0.1}
    theta = {LIN: PARAMS[LIN].default + 1.0, "craving.tau": 5.0}
    got = run_parameters(pop, theta=theta, interventions={"craving.bias": 0.2, "a": 1},
                         scenario={"a": 2, "b": 2}, overrides={"b": 3})
    # the draw moves the population's own value by its departure from the default
    assert got[LIN] == pytest.approx(-8.0)
    assert got["craving.tau"] == 5.0  # not set by the population: the draw's value
    assert got["craving.bias"] == 0.2  # interventions above the population and the draw
    assert (got["a"], got["b"]) == (2, 3)  # scenario above interventions, overrides on top
    assert run_parameters(pop) == pop


def test_a_draw_sits_below_the_interventions():
    got = run_parameters({}, theta={"craving.bias": 0.4}, interventions={"craving.bias": 0.0})
    assert got["craving.bias"] == 0.0


def test_read_applies_options_and_layers_the_parameters():
    source = {"population": {"preset": "pregnant_oud_no_moud", "params": {LIN: -9.0}},
              "interventions": [{"name": "more", "start": "gw24"}],
              "params": {"craving.bias": 0.1}, "dyads": 10, "start": "gw20"}
    sc = Scenario.read(source, dyads=7, params={"craving.bias": 0.3}, record="none")
    assert (sc.dyads, sc.record, sc.start, sc.seed) == (7, "none", "gw20", 0)
    assert sc.courses[0][0].name == "more" and sc.courses[0][1] == (28, False)
    p = sc.parameters()
    assert p["craving.bias"] == 0.3 and p[LIN] == -9.0
    assert Scenario.read(sc) is sc
    with pytest.raises(ScenarioError, match="not with a Scenario already read"):
        Scenario.read(sc, dyads=3)


@pytest.mark.parametrize(("source", "message"), [
    ({"colour": "red"}, "unknown scenario key"),
    ({"dyads": 0}, "dyads must be an integer"),
    ({"record": "hourly"}, "record must be one of"),
    ({"do": {"nowhere": 1}}, "unknown node 'nowhere'"),
    ({"population": {"preset": "low_risk_mothers", "colour": 1}}, "unknown key"),
    ({"interventions": "more"}, "must be a list of tables"),
    ({"horizon": "2m", "interventions": [{"name": "more", "start": "pp200w"}]},
     "no dyad would receive it"),
])
def test_bad_scenarios_are_one_line_errors(source, message):
    with pytest.raises(ScenarioError, match=message) as err:
        Scenario.read(source)
    assert "\n" not in str(err.value)


def test_a_scenario_setting_reproduces_simulate():
    """Scenario.setting(n): a parameter batch on it gives the rows simulate gives (the
    batch path reproduces the scalar path bit for bit)."""
    import numpy as np

    import dyadsim
    from dyadsim.engine.batch import simulate_batch

    source = {"population": {"preset": "adult_methadone", "params": {LIN: -7.0}},
              "interventions": [{"name": "more"}], "params": {"craving.bias": 0.2},
              "do": {"chronic_pain": 0.4}, "horizon": "30d", "dyads": 24, "seed": 5}
    sc = Scenario.read(source, params={"craving->opioid_use": 2.5}, record="none")
    ds = dyadsim.simulate(sc)
    batch = simulate_batch(sc.setting(sc.dyads), [{}], dyads=sc.dyads, seed=sc.seed)
    for k in ("use_days", "overdoses", "moud_days"):
        np.testing.assert_array_equal(batch.outcomes[k][0], ds[k].values, err_msg=k)
    assert ds["use_days"].values.std() > 0  # the dyads differ: not a comparison of zeros
