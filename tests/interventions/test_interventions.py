"""Interventions are data: schedules and the Figure 2 skills they train."""

import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.interventions import LIBRARY, InterventionError, build_schedule, get_intervention
from dyadsim.interventions.library import Component
from dyadsim.interventions.schedule import parse_course_start


def test_library_and_errors():
    assert {"more", "supportive_group", "tau", "cbt", "methadone", "buprenorphine",
            "mindful_parenting", "attachment_parenting", "more_without_mindfulness"} <= set(LIBRARY)
    with pytest.raises(InterventionError, match="unknown intervention 'yoga'"):
        get_intervention("yoga")
    with pytest.raises(InterventionError, match="unknown skill"):
        Component("juggling", 3)
    with pytest.raises(InterventionError, match="no component"):
        get_intervention("supportive_group").without("savoring")
    with pytest.raises(InterventionError, match="before the study start"):
        parse_course_start("gw12", pregnancy=True, study_start="gw20")
    with pytest.raises(InterventionError, match="postpartum start needs"):
        parse_course_start("pp10", pregnancy=False, study_start="day0")


def test_more_is_sequenced_mindfulness_first():
    more = get_intervention("more")
    first = {c.skill: c.first_week for c in more.components}
    assert first["mindfulness"] < first["reappraisal"] and first["mindfulness"] < first["savoring"]
    sched = build_schedule([[more], [get_intervention("tau")]], [(14, False), (14, False)],
                           np.array([0, 1, 0]))
    a = sched.arrays
    assert list(a["mindfulness.start"][[0, 2]]) == [14, 14]
    assert a["reappraisal.start"][0] == 14 + 14 and a["savoring.start"][0] == 14 + 21
    assert a["mindfulness.sessions"][1] == 0 and a["tx.attendance_mean"][1] == 0


def _skills(ds, arm, sel, t):
    return {k: float(ds[k].values[sel[arm]][:, t].mean())
            for k in ("mindfulness", "reappraisal", "savoring")}


def test_dismantling_mindfulness_weakens_reappraisal_and_savoring():
    names = ["more", "more_without_mindfulness"]
    n = 1024
    arm = np.arange(n) % 2
    sched = build_schedule([[get_intervention(x)] for x in names], [(0, False)] * 2, arm)
    ds = simulate(population="adult_chronic_pain_ltot", dyads=n, seed=31, horizon="60d",
                  record="weekly", schedule=sched)
    full = _skills(ds, 0, {0: arm == 0}, 8)
    without = _skills(ds, 1, {1: arm == 1}, 8)
    assert full["mindfulness"] > without["mindfulness"] + 0.1
    # the same reappraisal and savoring sessions, smaller gains without mindfulness
    assert without["reappraisal"] < full["reappraisal"] - 0.02
    assert without["savoring"] < full["savoring"] - 0.02


def test_prenatal_start_differs_from_postpartum_start_by_more_than_dose():
    """Same course (8 MORE sessions), started at gestational week 20 or at 6 weeks
    postpartum. The skill dose reached by the end of each course is the same; what differs
    is what pregnancy adds: savoring in pregnancy builds prenatal bonding (the windowed
    savoring -> prenatal_bonding edge) and the course meets high prenatal motivation."""
    arms = [[get_intervention("more")], [get_intervention("more")], [get_intervention("tau")]]
    starts = [parse_course_start("gw20", pregnancy=True, study_start="gw20"),
              parse_course_start("pp6w", pregnancy=True, study_start="gw20"),
              (0, False)]
    n = 3072
    arm = np.arange(n) % 3
    sched = build_schedule(arms, starts, arm)
    kw = dict(population="pregnant_oud_moud", dyads=n, seed=32, start="gw20", horizon="6m",
              record="weekly", schedule=sched)
    ds = simulate(**kw)
    pp = ds["postpartum_day"].values
    time = ds["time"].values

    def at_study_day(var, day, a):
        t = int(np.argmin(np.abs(time - day)))
        return ds[var].values[arm == a][:, t]

    def at_pp(var, day, a):
        x = ds[var].values[arm == a]
        idx = np.argmin(np.abs(pp[arm == a] - day), axis=1)
        return x[np.arange(x.shape[0]), idx]

    # equal dose: mindfulness at the end of each course (8 weeks after its start)
    dose_pre = at_study_day("mindfulness", 56, 0).mean()
    dose_post = at_pp("mindfulness", 42 + 56, 1).mean()
    assert abs(dose_pre - dose_post) < 0.03, (dose_pre, dose_post)
    # more than dose: bonding at birth is raised only by the prenatal course
    bond_pre, bond_post, bond_tau = (at_pp("prenatal_bonding", 0, a).mean() for a in (0, 1, 2))
    assert bond_pre > bond_tau + 0.01
    assert abs(bond_post - bond_tau) < 0.005
    # and the prenatal course meets higher motivation for change than the postpartum one
    mot_pre = at_study_day("motivation_for_change", 28, 0).mean()
    mot_post = at_pp("motivation_for_change", 42 + 28, 1).mean()
    assert mot_pre > mot_post + 0.05
    # the pregnancy-only savoring -> bonding edge carries most of that difference (the rest
    # runs through lower reward dysregulation and sensitization during pregnancy)
    effect = bond_pre - bond_tau
    ds = simulate(**kw, params={"savoring->prenatal_bonding": 0.0})
    effect_ko = at_pp("prenatal_bonding", 0, 0).mean() - at_pp("prenatal_bonding", 0, 2).mean()
    assert effect_ko < 0.6 * effect, (effect, effect_ko)
