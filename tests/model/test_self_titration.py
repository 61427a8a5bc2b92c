"""Patient-led titration of the prescribed opioid (issue 6 item 2; its own node since issue
18 item 9): in the LTOT population the dose taken follows the analgesic need (pain and
craving) relative to the need the regimen was settled at, so less pain, by MORE's
mindfulness and savoring, means less of the prescription taken; a need that does not change
leaves the prescription; with ``prescribed_opioid.self_titration`` 0 the dose taken is the
prescription. Paired comparisons use common random numbers (same seed)."""

import jax.numpy as jnp
import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.model.addiction import prescribed_opioid
from dyadsim.model.params import PARAMS
from dyadsim.model.step import STATE_KEYS

N = 512
SEED = 11
LTOT = "adult_chronic_pain_ltot"
# No deaths: the dose taken is all that differs.
ON_TREATMENT = {"overdose->maternal_death": 0.0}


def _dose(interventions=(), do=None, titration=None):
    params = dict(ON_TREATMENT)
    if titration is not None:
        params["prescribed_opioid.self_titration"] = titration
    sc = {"population": {"preset": LTOT},
          "interventions": [{"name": i, "start": "day0"} for i in interventions],
          "start": "day0"}
    ds = simulate(sc, dyads=N, seed=SEED, horizon="56d", record="weekly",
                  nodes=["prescribed_opioid"], do=do, params=params)
    return ds["prescribed_opioid"].values


def _one_day(pain, craving, titration=0.5):
    """The dose taken after one day on the full prescription, for a person settled at pain
    0.65 and craving 0.3 whose pain and craving are now ``pain`` and ``craving``."""
    p = {k: jnp.float32(v.default) for k, v in PARAMS.items()}
    p["prescribed_opioid.self_titration"] = jnp.float32(titration)
    s = {k: jnp.zeros(1, jnp.float32) for k in STATE_KEYS}
    s.update(prescribed_opioid=jnp.ones(1), chronic_pain=jnp.full(1, 0.65),
             craving=jnp.full(1, 0.3))
    clock = {"day": jnp.int32(0), "postpartum_day": jnp.zeros(1, jnp.int32)}
    settled = prescribed_opioid(s, p, {}, clock, {}, {})
    assert float(settled["prescribed_opioid"][0]) == 1.0  # the day it settles, the prescription
    s.update(settled, chronic_pain=jnp.full(1, pain), craving=jnp.full(1, craving))
    return float(prescribed_opioid(s, p, {}, clock, {}, {})["prescribed_opioid"][0])


@pytest.mark.parametrize("pain, craving", [(0.45, 0.3), (0.65, 0.1)])
def test_less_pain_or_craving_than_when_settled_less_of_the_prescription(pain, craving):
    """chronic_pain -> prescribed_opioid and craving -> prescribed_opioid (sign +), one
    day's step."""
    assert _one_day(pain, craving) < 1.0
    assert _one_day(pain, craving, titration=0.0) == 1.0


def test_more_need_than_when_settled_takes_the_prescription_not_more():
    assert _one_day(0.85, 0.5) == 1.0


def test_more_lowers_the_dose_taken_through_pain_and_craving():
    more, sg = _dose(("more",)), _dose(("supportive_group",))
    diff = more[:, -1] - sg[:, -1]
    mean, se = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)
    assert mean < -3 * se and mean < 0, f"dose taken at 8 weeks, MORE - SG: {mean:.4g} ({se:.2g})"
    assert np.all(more > 0.0) and np.all(more <= 1.0)


def test_without_self_titration_the_dose_taken_is_the_prescription():
    """Weight 0 multiplies out: MORE leaves the prescribed dose (1) as it is."""
    assert np.all(_dose(("more",), titration=0.0) == 1.0)


def test_a_need_that_does_not_change_leaves_the_prescription():
    """No drift at enrolment: pain and craving held where they were when the regimen was
    settled, the dose taken stays the prescription."""
    assert np.all(_dose(do={"chronic_pain": 0.65, "craving": 0.3}) == 1.0)
