"""Adherence from state (issue 6 item 7): attendance and practice follow the day's treatment
engagement (motivation, depression, use), and a dismantled MORE keeps the full course's
session dose."""

import numpy as np

from dyadsim import simulate
from dyadsim.interventions import build_schedule, get_intervention


def _weeks(iv):
    """The course weeks in which each component has a session."""
    return {c.skill: set(range(c.first_week, c.first_week + c.sessions))
            for c in iv.components}


def test_dismantled_more_keeps_the_session_dose():
    """The removed component's weeks become supportive-group sessions: same weeks with a
    session, the other components untouched."""
    full = _weeks(get_intervention("more"))
    for removed in ("mindfulness", "reappraisal", "savoring"):
        dismantled = _weeks(get_intervention(f"more_without_{removed}"))
        assert removed not in dismantled
        assert dismantled["supportive_group"] == full[removed]
        assert {k: v for k, v in dismantled.items() if k != "supportive_group"} == {
            k: v for k, v in full.items() if k != removed}
        assert set().union(*dismantled.values()) == set().union(*full.values())


def test_engagement_drives_attendance_practice_and_skill():
    n = 512
    sched = build_schedule([[get_intervention("more")]], [(0, False)], np.zeros(n, int))
    kw = dict(population="adult_chronic_pain_ltot", dyads=n, seed=33, horizon="60d",
              record="weekly", schedule=sched, nodes=("mindfulness",))
    engaged = simulate(**kw, do={"treatment_engagement": 0.9})
    disengaged = simulate(**kw, do={"treatment_engagement": 0.2})
    diff = engaged["mindfulness"].values[:, 8] - disengaged["mindfulness"].values[:, 8]
    se = diff.std(ddof=1) / np.sqrt(n)
    assert diff.mean() > 3 * se, (diff.mean(), se)
    # the engagement edge carries it: with its weight 0 engagement changes nothing
    knocked = {f"treatment_engagement->{k}": 0.0 for k in ("mindfulness", "reappraisal",
                                                           "savoring")}
    a = simulate(**kw, do={"treatment_engagement": 0.9}, params=knocked)
    b = simulate(**kw, do={"treatment_engagement": 0.2}, params=knocked)
    assert np.array_equal(a["mindfulness"].values, b["mindfulness"].values)
