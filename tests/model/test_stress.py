"""Stress (issue 6 item 8): the life-event hazard rises with poverty, structural barriers
and the consequences of use; the stress-sensitization gain stays within the 1.1-1.5x that
mechanisms.md suggests."""

import jax.numpy as jnp
import numpy as np
import pytest

from dyadsim.model._core import gain
from dyadsim.model.params import PARAMS
from dyadsim.model.stress import life_event_logit

SENSITIZATION = "stress_sensitization->(stressor->cognitive_appraisal)"


def _defaults():
    return {k: jnp.float32(v.default) for k, v in PARAMS.items()}


@pytest.mark.parametrize("source", ["poverty", "structural_barriers", "opioid_use"])
def test_life_event_hazard_rises_with(source):
    p = _defaults()
    s = {k: jnp.full(3, 0.3, jnp.float32) for k in ("poverty", "structural_barriers",
                                                    "opioid_use")}
    s[source] = jnp.asarray([0.0, 0.5, 1.0], jnp.float32)
    logit = np.asarray(life_event_logit(s, p, {}))
    assert np.all(np.diff(logit) > 0), logit


@pytest.mark.parametrize("which", ["lo", "default", "hi"])
def test_sensitization_multiplies_the_threat_weight_by_at_most_one_and_a_half(which):
    spec = PARAMS[SENSITIZATION]
    p = _defaults()
    p[SENSITIZATION] = jnp.float32(getattr(spec, which))
    full = {"stress_sensitization": jnp.ones(1, jnp.float32)}
    multiplier = float(gain("stressor", "cognitive_appraisal", full, p)[0])
    assert 1.1 - 1e-3 <= multiplier <= 1.5 + 1e-3, multiplier
