"""Target statistics (calibration/statistics.py) against the libraries that define them."""

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from dyadsim.calibration.statistics import STATISTIC_FUNCTIONS, Groups, compute_statistic


def test_hazard_ratio_is_lifelines_cox_with_censoring_at_follow_up():
    rng = np.random.default_rng(3)
    arm = np.repeat(np.array(["T", "C"], dtype=object), 80)
    day = rng.exponential(np.where(arm == "T", 200.0, 100.0))
    day[rng.random(arm.size) < 0.1] = np.nan  # no event recorded
    g = Groups(y=day, arm=arm, treatment="T", control="C", follow_up=150.0)
    event = np.isfinite(day) & (day <= 150.0)
    frame = pd.DataFrame({"time": np.where(event, day, 150.0) + 1.0,
                          "event": event.astype(float), "treatment": (arm == "T") * 1.0})
    want = math.exp(CoxPHFitter().fit(frame, "time", "event").params_["treatment"])
    got = compute_statistic("hazard_ratio", g)
    assert got == pytest.approx(want, rel=1e-9)
    assert got < 0.8  # the treated arm's events come later: the fit sees the data
    none = Groups(y=np.full(4, np.nan), arm=arm[:4], treatment="T", control="C")
    assert math.isnan(compute_statistic("hazard_ratio", none))


def _groups(**kw) -> Groups:
    rng = np.random.default_rng(11)
    arm = np.repeat(np.array(["T", "C"], dtype=object), 50)
    y = rng.normal(np.where(arm == "T", 1.0, 0.0), 1.0)
    base = dict(y=y, arm=arm, z=y + rng.normal(0, 1, y.size), treatment="T", control="C",
                keys=("30", "90"), follow_up=100.0)
    return Groups(**{**base, **kw})


@pytest.mark.parametrize("name", sorted(STATISTIC_FUNCTIONS))
def test_every_statistic_is_a_number_per_replicate_and_nan_when_undefined(name):
    """One conformance check per registry entry: a float (or one per observed key) on data
    where it is defined; NaN, not an exception, where an arm is empty."""
    y01 = (np.arange(100) % 3 == 0).astype(float)
    days = np.where(np.arange(100) % 4 == 0, np.nan, np.arange(100) % 60 * 1.0)
    cats = np.array(["secure", "avoidant", "none", "secure"] * 25, dtype=object)
    y = {"distribution": cats, "survival_points": days, "hazard_ratio": days,
         "odds_ratio": y01}.get(name)
    extra = {"keys": ("secure", "avoidant")} if name == "distribution" else {}
    if name in ("standardized_mean_change", "relative_change"):
        extra = {"baseline": 10.0 + np.arange(100) % 7}
    if name == "rate":
        y, extra = (np.arange(100) % 3).astype(float), {"exposure": np.full(100, 30.0)}
    g = _groups(**({} if y is None else {"y": y}), **extra)
    got = compute_statistic(name, g)
    values = list(got.values()) if isinstance(got, dict) else [got]
    assert values and all(isinstance(v, float) and math.isfinite(v) for v in values)
    empty = _groups(**({} if y is None else {"y": y}), treatment="nobody", arm_name="nobody",
                    **extra)
    if name not in ("correlation",):  # a correlation is over all dyads unless arm_name
        out = compute_statistic(name, empty)
        assert all(math.isnan(v) for v in (out.values() if isinstance(out, dict) else [out]))


def test_the_registry_is_the_target_format():
    from dyadsim.calibration.targets import STATISTICS

    assert set(STATISTIC_FUNCTIONS) == set(STATISTICS)


def test_known_answers():
    g = _groups()
    t, c = g.y[g.arm == "T"], g.y[g.arm == "C"]
    pooled = math.sqrt(((t.size - 1) * t.var(ddof=1) + (c.size - 1) * c.var(ddof=1))
                       / (t.size + c.size - 2))
    d = (t.mean() - c.mean()) / pooled
    assert compute_statistic("cohens_d", g) == pytest.approx(d, rel=1e-12)
    j = 1 - 3 / (4 * (t.size + c.size) - 9)  # Hedges 1981, the usual approximation
    assert compute_statistic("smd", g) == pytest.approx(d * j, rel=1e-3)
    assert compute_statistic("relative_reduction", g) == pytest.approx(1 - t.mean() / c.mean())
    assert compute_statistic("correlation", g) == pytest.approx(np.corrcoef(g.y, g.z)[0, 1])
    y01 = np.r_[np.ones(20), np.zeros(30), np.ones(10), np.zeros(40)]
    odds = (20 / 30) / (10 / 40)
    assert compute_statistic("odds_ratio", _groups(y=y01)) == pytest.approx(odds)


def test_standardized_mean_change_is_morris_d_ppc2():
    """Morris 2008 (Organ Res Methods 11:364), d_ppc2 on a hand-made pre-post-control set."""
    pre_t, post_t = np.array([10.0, 12, 14, 16]), np.array([7.0, 10, 10, 13])
    pre_c, post_c = np.array([11.0, 13, 12, 15]), np.array([11.0, 12, 12, 14])
    arm = np.array(["T"] * 4 + ["C"] * 4, dtype=object)
    g = Groups(y=np.r_[post_t - pre_t, post_c - pre_c], baseline=np.r_[pre_t, pre_c],
               arm=arm, treatment="T", control="C")
    sd_pre = math.sqrt((3 * pre_t.var(ddof=1) + 3 * pre_c.var(ddof=1)) / 6)
    want = (1 - 3 / (4 * 6 - 1)) * ((post_t - pre_t).mean() - (post_c - pre_c).mean()) / sd_pre
    assert compute_statistic("standardized_mean_change", g) == pytest.approx(want, rel=1e-12)
    assert want < -0.9  # the treated arm fell by 2.75 points on average, the control by 0.5
    one = Groups(y=post_t - pre_t, baseline=pre_t, arm=arm[:4], arm_name="T")
    assert compute_statistic("relative_change", one) == pytest.approx(post_t.mean()
                                                                      / pre_t.mean() - 1)
    missing = Groups(y=np.r_[np.nan, (post_t - pre_t)[1:]], baseline=pre_t, arm=arm[:4])
    assert compute_statistic("relative_change", missing) == pytest.approx(
        (post_t[1:] - pre_t[1:]).mean() / pre_t[1:].mean())  # complete pairs only


def test_rate_pools_events_over_person_time():
    g = Groups(y=np.array([2.0, 0.0, 1.0, np.nan]), exposure=np.array([100.0, 50.0, 50.0, 10.0]),
               arm=np.array(["a"] * 4, dtype=object), per=1000.0)
    assert compute_statistic("rate", g) == pytest.approx(1000.0 * 3 / 200)  # NaN row left out
    assert math.isnan(compute_statistic("rate", Groups(y=np.ones(2), arm=np.array(["a", "a"]))))
