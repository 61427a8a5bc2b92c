"""Outcomes read on the right person (issue 18 item 4): no value of an instrument about the
mother or her care of the infant after her death, none of a care instrument while the
infant is placed out of home, the infant's own measures tagged with the caregiver; a dead
mother is not a dropout; every analysis names its intercurrent-event strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadsim.trials.instruments import INSTRUMENTS
from dyadsim.trials.measurement import (
    MISSING_REASONS,
    _on_the_right_person,
    apply_dropout,
    dropout_days,
)
from dyadsim.trials.spec import parse_spec

from .test_design import base_spec

DEAD = np.array([False, True, False, True])
PLACED = np.array([False, False, True, True])


@pytest.mark.parametrize("name", ["comm", "epds", "pss10"])
def test_a_maternal_instrument_has_no_value_after_her_death(name):
    v, _, reason, carer = _on_the_right_person(INSTRUMENTS[name], np.arange(4.0), None, DEAD,
                                               PLACED)
    np.testing.assert_array_equal(np.isnan(v), DEAD)  # placement does not silence her
    assert list(reason) == [None, "maternal_death", None, "maternal_death"]
    assert all(c is None for c in carer)


@pytest.mark.parametrize("name", ["kips", "coregulation", "psi_sf"])
def test_a_care_instrument_has_no_value_while_the_infant_is_placed(name):
    assert INSTRUMENTS[name].subject == "care"
    v, _, reason, _ = _on_the_right_person(INSTRUMENTS[name], np.arange(4.0), None, DEAD,
                                           PLACED)
    np.testing.assert_array_equal(np.isnan(v), DEAD | PLACED)
    assert list(reason) == [None, "maternal_death", "infant_placed", "maternal_death"]
    assert set(reason[reason != None]) <= set(MISSING_REASONS)  # noqa: E711


def test_an_infant_instrument_is_measured_and_tagged_with_the_caregiver():
    cats = np.array(["secure", "avoidant", "secure", "disorganized"], dtype=object)
    v, c, reason, carer = _on_the_right_person(INSTRUMENTS["ssp"], np.arange(4.0), cats,
                                               DEAD, PLACED)
    np.testing.assert_array_equal(v, np.arange(4.0))
    assert list(c) == list(cats) and all(r is None for r in reason)
    assert list(carer) == ["mother", "substitute", "substitute", "substitute"]


def test_a_dead_mother_does_not_drop_out_and_keeps_her_reason():
    from dyadsim.trials.plan import plan_trial

    d = base_spec()
    d["dropout"] = {"monthly_rate": 0.5, "use_effect": 2.0}
    spec = parse_spec(d)
    plan = plan_trial(spec)
    n = 400
    use = np.ones((n, plan.total_days), np.float32)  # every day a use day: a high hazard
    death = np.full(n, np.nan)
    death[: n // 2] = plan.run_in + 5  # half die on study day 5
    pay = {"ids": np.arange(n), "nodes": {"opioid_use": use}, "death_day": death}
    last = dropout_days(spec, plan, pay, np.zeros(n), np.random.default_rng(0))
    dead_lost = np.isfinite(last[: n // 2])
    # she can only be lost before her death (days 1-4), never after it
    assert (last[: n // 2][dead_lost] < 5).all()
    assert np.isfinite(last[n // 2:]).mean() > 0.9  # the living drop out at this hazard
    data = pd.DataFrame({"dyad_id": [0, 0], "day": [0, 56], "timepoint": ["baseline", "post"],
                         "value": [1.0, np.nan], "category": None,
                         "missing_reason": [None, "maternal_death"]})
    out = apply_dropout(data.copy(), spec, np.array([3.0]), np.array([0]))
    assert list(out["missing_reason"]) == [None, "maternal_death"]
