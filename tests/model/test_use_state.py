"""Use as a state process (issue 18 item 1): the gain (moderator) edges of executive
control and mindfulness are normalised at their typical levels, so the craving -> use edge
carries the weight converted from its cited odds ratios there, and the moderators scale it
around that."""

import jax.numpy as jnp
import pytest
from jax.nn import sigmoid

from dyadsim.model._core import gain_reference, weight
from dyadsim.model.params import Parameters


def _state(control, mindfulness):
    return {"executive_control": jnp.float32(control), "mindfulness": jnp.float32(mindfulness)}


def test_craving_to_use_holds_its_cited_weight_at_typical_control_and_mindfulness():
    p = Parameters()
    typical = _state(sigmoid(p["executive_control.bias"]), p["skill.baseline"])
    w = float(weight("craving", "opioid_use", typical, p, {}))
    assert w == pytest.approx(p["craving->opioid_use"], rel=1e-6)


def test_more_control_and_mindfulness_brake_the_edge_by_their_gain_weights():
    p = Parameters()
    typical = _state(sigmoid(p["executive_control.bias"]), p["skill.baseline"])
    more = _state(float(typical["executive_control"]) + 0.2, p["skill.baseline"] + 0.1)
    ratio = float(weight("craving", "opioid_use", more, p, {})
                  / weight("craving", "opioid_use", typical, p, {}))
    expected = float(jnp.exp(-0.2 * p["executive_control->(craving,drug_cue->opioid_use)"]
                             - 0.1 * p["mindfulness->(craving,drug_cue->opioid_use)"]))
    assert ratio == pytest.approx(expected, rel=1e-5)
    assert ratio < 1


def test_other_moderators_are_not_shifted():
    p = Parameters()
    assert gain_reference("motivation_for_change", p) == 0.0
    assert gain_reference("moud", p) == 0.0
