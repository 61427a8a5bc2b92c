"""Active-input candidates from the graph (issue 19 item 1): the three impossible active
inputs the shipped fit's lasso picked are not candidates, and what is a candidate is
reachable in the graph of the study's population."""

from __future__ import annotations

import pytest

from dyadsim.calibration import load_targets
from dyadsim.calibration.active import (
    active_sets,
    candidate_inputs,
    parameter_anchors,
    read_nodes,
)
from dyadsim.calibration.history_matching import screen
from dyadsim.model.graph import NODE_BY_ID
from dyadsim.model.params import PARAMS

NAMES = list(PARAMS)


@pytest.fixture(scope="module")
def published():
    ts = load_targets(None)
    return ts, active_sets(ts, NAMES)


def test_every_parameter_has_an_anchor_node():
    """A parameter added without a node to act on is an error here, not a silent
    candidate everywhere."""
    for name in PARAMS:
        nodes, why = parameter_anchors(name)
        assert nodes and nodes <= set(NODE_BY_ID) and why, name


def test_adult_ltot_trials_have_no_infant_parameters(published):
    """Garland 2014/2019/2022 (adults on long-term opioid therapy, no pregnancy): no
    parameter of an infant or dyad node, no edge out of one, no birth-timing or
    pregnancy-trajectory parameter; the use and craving nodes' own parameters are in."""
    _, act = published
    for tid in ("garland2014_misuse_post", "garland2019_misuse_d",
                "garland2022_no_misuse_9mo_more"):
        a = act[tid]
        for name in a.candidates:
            nodes, _ = parameter_anchors(name)
            assert all(NODE_BY_ID[n].kind not in ("infant", "dyad") for n in nodes), name
            assert not name.startswith(("gestation.", "attachment.", "caregiver.")), name
            assert not name.startswith(("infant_", "neonatal_withdrawal")), name
        assert "infant_affect_behavior->stressor" in a.excluded
        assert "gestation.sd_weeks" in a.excluded and "attachment.tau" in a.excluded
        assert {"opioid_use.bias", "craving.bias", "skill.session_gain"} <= set(a.candidates)
        assert "without pregnancy" in a.reason


def test_gannon_ace_mean_has_no_candidate(published):
    """The ACE score is a covariate drawn from the population distribution: nothing,
    gestation.sd_weeks included, reaches it; the reason says so."""
    _, act = published
    a = act["gannon2021_ace_mean"]
    assert a.candidates == () and a.nodes == ("aces",)
    assert "covariate drawn from the population distribution" in a.reason
    assert "gestation.sd_weeks" in a.excluded


def test_sensitivity_security_correlation_excludes_child_wellbeing(published):
    """De Wolff's sensitivity-security correlation reads parenting and the attachment
    classification; child well-being is downstream of both, so its parameters (economic
    bias among them) cannot move it; parenting and attachment parameters can."""
    _, act = published
    a = act["dewolff1997_sensitivity_security"]
    assert set(a.nodes) == {"parenting_behavior", "attachment_classification"}
    assert "child_wellbeing.economic_bias" not in a.candidates
    assert not [k for k in a.candidates if k.startswith("child_wellbeing.")]
    assert {"parenting_behavior.bias", "attachment.tau"} <= set(a.candidates)


def test_session_parameters_need_an_arm_that_delivers_sessions(published):
    _, act = published
    assert "skill.session_gain" in act["garland2014_misuse_post"].candidates
    assert "skill.session_gain" not in act["smyth2010_relapse_after_detox"].candidates
    assert "no arm" in act["smyth2010_relapse_after_detox"].excluded["skill.session_gain"]


def test_reads_map_to_nodes(published):
    ts, _ = published
    t = ts.by_id("krans2021_nows_share")
    assert read_nodes(t.measure) == {"neonatal_withdrawal"}
    t = ts.by_id("pss10_women_norm")  # an instrument reads two nodes
    assert read_nodes(t.measure) == {"cognitive_appraisal", "negative_affect"}


def test_the_lasso_screen_stays_inside_the_candidates():
    """An output driven by input 0: with candidates {1, 2} the screen cannot pick 0."""
    import numpy as np

    rng = np.random.default_rng(0)
    u = rng.random((80, 4))
    y = 3 * u[:, 0] + 0.5 * u[:, 2] + 0.01 * rng.standard_normal(80)
    assert 0 in screen(u, y, max_active=3, seed=0)
    assert set(screen(u, y, max_active=3, seed=0, candidates=[1, 2])) <= {1, 2}
    assert screen(u, y, max_active=3, seed=0, candidates=[]) == ()


def test_a_single_target_reports_its_reason(published):
    ts, _ = published
    a = candidate_inputs(ts.by_id("schiff2021_moud_12mo_postpartum"), ts, NAMES)
    assert "moud.stop_logit" in a.candidates
    assert a.to_dict()["reason"].startswith("reads moud")
