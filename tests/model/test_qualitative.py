"""Qualitative results from the paper (Reese et al. 2021) and the published targets, with
stated tolerances. Comparisons use common random numbers (same seed: paired dyads) and
require differences beyond 3 standard errors."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from dyadsim import simulate

N = 1024
TARGETS = Path(__file__).resolve().parents[1] / "data" / "published.toml"  # copy of shared/


def _beyond(diff, sign, label):
    diff = np.asarray(diff, float)
    mean, se = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)
    assert sign * mean > 3 * se, f"{label}: {mean:.4g} (SE {se:.2g})"


def _pp_mean(ds, var):
    """Per-dyad mean of a node over the recorded postpartum periods."""
    x = ds[var].values
    mask = ds["postpartum_day"].values >= 0
    return np.where(mask, x, np.nan).__array__().astype(float).sum(1) / mask.sum(1)


def test_cutting_the_dyadic_stress_feedback_lowers_maternal_stress_and_craving():
    kw = dict(dyads=N, seed=21, population="postpartum_oud", start="pp0", horizon="6m",
              record="monthly")
    full = simulate(**kw)
    cut = simulate(**kw, params={"infant_affect_behavior->stressor": 0.0})
    for var in ("stressor", "craving"):
        _beyond(_pp_mean(full, var) - _pp_mean(cut, var), +1, f"feedback loop raises {var}")


def test_more_aces_raise_the_propensity_to_use():
    kw = dict(dyads=N, seed=22, population="pregnant_oud_no_moud", horizon="6m", record="none")
    high = simulate(**kw, do={"aces": 8})
    low = simulate(**kw, do={"aces": 1})
    _beyond(high["use_share"].values - low["use_share"].values, +1, "ACEs -> use")


def test_moud_lowers_use_withdrawal_and_overdose():
    kw = dict(dyads=2048, seed=23, population="pregnant_oud_no_moud", horizon="12m",
              record="monthly")
    on = simulate(**kw, do={"moud": 1.0})
    off = simulate(**kw, do={"moud": 0.0})
    _beyond(on["use_share"].values - off["use_share"].values, -1, "MOUD -> use")
    _beyond(on["withdrawal"].mean("time").values - off["withdrawal"].mean("time").values, -1,
            "MOUD -> withdrawal")
    _beyond(on["overdoses"].values - off["overdoses"].values, -1, "MOUD -> overdose")


def _weekly_hazard_trend(first_use_day: np.ndarray, weeks: int) -> tuple[np.ndarray, float]:
    """Life-table hazard of a first use per week (Kaplan-Meier, lifelines) and the z of the
    week slope of a discrete-time logistic hazard model (statsmodels) on person-weeks."""
    import statsmodels.api as sm
    from lifelines import KaplanMeierFitter

    end = 7 * weeks
    d = np.nan_to_num(first_use_day, nan=np.inf)
    km = KaplanMeierFitter().fit(np.minimum(d, end), event_observed=d < end)
    surv = np.concatenate(
        [[1.0], km.survival_function_at_times(np.arange(1, weeks + 1) * 7 - 0.5).to_numpy()])
    hazard = 1.0 - surv[1:] / np.maximum(surv[:-1], 1e-12)
    week = np.floor(np.minimum(d, end) / 7).astype(int)  # week of the event or censoring
    rows = [(w, float(w == week[i] and d[i] < end)) for i in range(d.size)
            for w in range(min(week[i] + 1, weeks))]
    w, y = np.array(rows).T
    fit = sm.Logit(y, sm.add_constant(w)).fit(disp=0)
    return hazard, float(fit.tvalues[1])


def test_a_constant_relapse_hazard_fails_the_falling_hazard_check():
    """The check below must be able to fail: geometric first-use days (a constant daily
    hazard with the same week-1 share) give no falling trend."""
    rng = np.random.default_rng(5)
    d = rng.geometric(1 - 0.43 ** (1 / 7), 2048) - 1.0
    _, z = _weekly_hazard_trend(d, 8)
    assert z > -3


@pytest.mark.xfail(strict=True, reason="known departure (issue 18 item 8): 97% return to use "
                   "in the first week after detox (Smyth 2010: 59%), so weeks 3-8 rest on "
                   "fewer than 10 people at risk and their hazards (0.33-1.0) do not fall "
                   "below half of week 1's 0.97; it passed at the initial draws before the "
                   "prescribed_opioid node lengthened the init vector")
def test_relapse_after_detox_has_a_falling_hazard():
    """Adults leaving detoxification (``adult_after_detox``: dependence, tolerance and
    withdrawal consistent, no MOUD). Smyth 2010's shape: the cumulative share returned to
    use rises (59% in a week, 71% in a month) while the weekly hazard falls."""
    ds = simulate(dyads=2048, seed=24, population="adult_after_detox", horizon="8w",
                  record="weekly", nodes=("withdrawal",))
    hazard, z = _weekly_hazard_trend(ds["first_use_day"].values, 8)
    assert z < -3, (hazard, z)
    assert hazard[0] > 2 * hazard[3:].mean(), hazard
    # an internally consistent start: no withdrawal is injected on leaving detox
    wd = ds["withdrawal"].mean("dyad").values
    assert wd[0] < 0.1 and abs(wd[0] - wd[1]) < 0.02, wd


def _attachment(population, n=4096, seed=25):
    ds = simulate(dyads=n, seed=seed, population=population, start="gw30", horizon="13m",
                  record="none")
    cls = ds["attachment_class"].values
    cls = cls[cls != "none"]
    return {c: float(np.mean(cls == c)) for c in
            ("secure", "avoidant", "resistant", "disorganized")}, cls.size


def test_low_risk_attachment_distribution_in_published_ranges():
    target = next(t for t in tomllib.loads(TARGETS.read_text())["target"]
                  if t["id"] == "attachment_lowrisk_distribution")
    dist, n = _attachment("low_risk_mothers")
    assert n == 4096
    for c in ("secure", "avoidant", "resistant"):
        lo, hi = target[c]
        assert lo <= dist[c] <= hi, (c, dist[c], (lo, hi))
    # "about 15%" disorganized in normal middle-class samples (van IJzendoorn et al. 1999,
    # abstract): 3 simulation SE (0.0056 at 4,096 infants) plus 0.01 for the published
    # figure, a rounded meta-analytic mean whose own SE the abstract does not give (a
    # guess): +-0.027 (it was +-0.06, about 10 SE). Measured: 0.162 (seed 25), 0.169 (26).
    p = target["disorganized"]
    tolerance = 3 * (p * (1 - p) / n) ** 0.5 + 0.01
    assert abs(dist["disorganized"] - p) <= tolerance, (dist, tolerance)


def test_oud_presets_have_fewer_secure_and_more_disorganized_infants():
    low, _ = _attachment("low_risk_mothers")
    for pop in ("pregnant_oud_moud", "pregnant_oud_no_moud"):
        oud, _ = _attachment(pop)
        # differences beyond 4 binomial SEs at n=4096 (SE <= 0.011)
        assert oud["secure"] < low["secure"] - 0.045, (pop, oud, low)
        assert oud["disorganized"] > low["disorganized"] + 0.045, (pop, oud, low)


def test_postpartum_hormone_peak_raises_infant_cue_salience():
    """Salience is higher in the first postpartum month (hormone peak) than at 9-12
    months, and the hormone -> salience edge carries that difference."""
    kw = dict(dyads=N, seed=26, population="low_risk_mothers", start="gw36", horizon="12m",
              record="weekly")

    def early_minus_late(ds):
        pp = ds["postpartum_day"].values
        sal = ds["salience_of_infant_cues"].values.astype(float)
        early = np.where((pp >= 0) & (pp < 28), sal, np.nan)
        late = np.where((pp >= 270) & (pp < 365), sal, np.nan)
        return np.nanmean(early, 1) - np.nanmean(late, 1)

    full = early_minus_late(simulate(**kw))
    knocked = early_minus_late(simulate(**kw, params={
        "maternal_hormones->salience_of_infant_cues": 0.0}))
    _beyond(full, +1, "salience early vs late postpartum")
    _beyond(full - knocked, +1, "hormone edge carries the early-postpartum salience")
