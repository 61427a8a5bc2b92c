"""Multiple imputation, Rubin's rules and the delta-adjusted tipping point, on synthetic
data with a known truth (fast: no simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dyadsim.stats.missing import (
    ancova,
    event_time_mi,
    impute,
    mi_estimate,
    rubin,
    tipping_point,
)
from dyadsim.trials.analysis import cox_ph

P_USE = {"T": 0.3, "C": 0.5}  # unobserved use at follow-up, by arm
USE_SHIFT = 2.0  # use raises the outcome (e.g. COMM) by this much
DIRECT = -0.2  # the treatment's effect on the outcome besides use
DROP = {0: 0.05, 1: 0.8}  # probability of dropout without / with use
TRUTH = DIRECT + USE_SHIFT * (P_USE["T"] - P_USE["C"])  # ITT difference in means: -0.6


def _mnar_trial(seed: int, n_per_arm: int = 2000):
    """Baseline x; follow-up y = 0.5 x + DIRECT*T + USE_SHIFT*use + e; dropout depends on
    the unobserved use, so follow-up is missing not at random given (arm, x)."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(np.array(["T", "C"], dtype=object), n_per_arm)
    x = rng.normal(size=arm.size)
    use = rng.random(arm.size) < np.where(arm == "T", P_USE["T"], P_USE["C"])
    y = 0.5 * x + DIRECT * (arm == "T") + USE_SHIFT * use + rng.normal(0, 0.5, arm.size)
    lost = rng.random(arm.size) < np.where(use, DROP[1], DROP[0])
    y_obs = np.where(lost, np.nan, y)
    return np.column_stack([x, y_obs]), arm


def _right_delta(a: str) -> float:
    """E[y | x, lost] - E[y | x, observed] in arm ``a`` (the pattern-mixture shift)."""
    p = P_USE[a]
    use_if_lost = p * DROP[1] / (p * DROP[1] + (1 - p) * DROP[0])
    use_if_seen = p * (1 - DROP[1]) / (p * (1 - DROP[1]) + (1 - p) * (1 - DROP[0]))
    return USE_SHIFT * (use_if_lost - use_if_seen)


def _ancova(values, arm):
    return ancova(values[:, 1], values[:, 0], arm == "T")


def test_mi_with_the_right_delta_recovers_the_truth_where_complete_case_does_not():
    values, arm = _mnar_trial(11)
    seen = ~np.isnan(values[:, 1])
    cc_est, cc_var = ancova(values[seen, 1], values[seen, 0], arm[seen] == "T")
    cc_half = 1.96 * np.sqrt(cc_var)
    assert not (cc_est - cc_half <= TRUTH <= cc_est + cc_half), (cc_est, TRUTH)
    rng = np.random.default_rng(5)
    df = arm.size - 3
    mar = mi_estimate(values, arm, 1, _ancova, m=20, rng=rng, df_complete=df)
    assert not (mar["ci_lower"] <= TRUTH <= mar["ci_upper"])  # MAR is not enough here
    right = mi_estimate(values, arm, 1, _ancova, m=20, rng=rng, df_complete=df,
                        delta={a: _right_delta(a) for a in ("T", "C")},
                        completed=mar["completed"])
    assert right["ci_lower"] <= TRUTH <= right["ci_upper"], (right["estimate"], TRUTH)
    assert right["n_imputed"] == int((~seen).sum())
    assert 0 < right["fraction_missing_information"] < 1


def test_mi_without_missing_data_is_the_complete_data_analysis():
    values, arm = _mnar_trial(3, 200)
    values[:, 1] = np.where(np.isnan(values[:, 1]), 0.0, values[:, 1])
    est, var = _ancova(values, arm)
    r = mi_estimate(values, arm, 1, _ancova, m=5, rng=np.random.default_rng(0),
                    df_complete=arm.size - 3)
    assert r["estimate"] == pytest.approx(est) and r["se"] == pytest.approx(np.sqrt(var))
    assert r["between_variance"] == 0.0
    assert r["df"] == arm.size - 3  # no missing data: the complete-data t


def test_barnard_rubin_df_is_capped_by_the_complete_data_df():
    # m = 3: qbar = 2, W = 0.5, B = 1, T = 1.8333; gamma = (4/3) / T; Rubin's df 3.78;
    # observed-data df (nu+1)/(nu+3) nu (1 - gamma); Barnard-Rubin 1/(1/df_m + 1/df_obs)
    nu = 20.0
    r = rubin([1.0, 2.0, 3.0], [0.4, 0.5, 0.6], df_complete=nu)
    t = 0.5 + 4 / 3
    df_m = 2 * (1 + 1 / (4 / 3 / 0.5)) ** 2
    df_obs = (nu + 1) / (nu + 3) * nu * (1 - 4 / 3 / t)
    assert r["df"] == pytest.approx(1 / (1 / df_m + 1 / df_obs))
    assert r["df"] < min(df_m, nu)
    # little missing information: Rubin's df explodes, Barnard-Rubin stays below nu
    big = rubin([1.0, 1.001, 1.002], [1.0, 1.0, 1.0], df_complete=112)
    assert rubin([1.0, 1.001, 1.002], [1.0, 1.0, 1.0])["df"] > 1e5
    assert big["df"] < 112
    with pytest.raises(ValueError, match="positive"):
        rubin([1.0, 2.0], [0.1, 0.1], df_complete=0)


def test_rubin_known_answer():
    # m = 3: qbar = 2, W = 0.5, B = 1, T = 0.5 + 4/3 = 1.8333, r = 2.6667,
    # df = 2 * (1 + 1/r)^2 = 3.78125
    r = rubin([1.0, 2.0, 3.0], [0.4, 0.5, 0.6])
    assert r["estimate"] == 2.0 and r["se"] == pytest.approx(np.sqrt(0.5 + 4 / 3))
    assert r["df"] == pytest.approx(2 * (1 + 1 / (4 / 3 / 0.5)) ** 2)
    with pytest.raises(ValueError, match="at least 2"):
        rubin([1.0], [0.1])


def test_impute_keeps_observed_values_and_draws_from_the_normal_and_logistic_models():
    rng = np.random.default_rng(0)
    n = 400
    arm = np.repeat(np.array(["T", "C"], dtype=object), n // 2)
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + 1.5 * (arm == "T") + rng.normal(0, 0.5, n)
    b = (rng.random(n) < 1 / (1 + np.exp(-(x + (arm == "T"))))).astype(float)
    v = np.column_stack([x, y, b])
    v[::3, 1] = np.nan
    v[1::4, 2] = np.nan
    miss = np.isnan(v)
    fulls = impute(v, 5, rng, arm=arm)
    for full in fulls:
        np.testing.assert_array_equal(full[~miss], v[~miss])
        assert set(np.unique(full[:, 2])) == {0.0, 1.0}  # the 0/1 column stays 0/1
        # imputed y keeps the arm effect and the slope (arm in the imputation model)
        rows = miss[:, 1]
        resid = full[rows, 1] - (1.0 + 2.0 * x[rows] + 1.5 * (arm[rows] == "T"))
        assert abs(resid.mean()) < 4 * 0.5 / np.sqrt(rows.sum())  # 4 SE of the mean
        assert 0.35 < resid.std() < 0.65
    # proper imputation: the imputations differ (parameter and residual draws)
    assert not np.allclose(fulls[0][miss[:, 1], 1], fulls[1][miss[:, 1], 1])
    with pytest.raises(ValueError, match="fewer than 2"):
        impute(np.column_stack([np.ones(5), [1.0] + [np.nan] * 4]), 2, rng)


def test_tipping_point_finds_where_significance_is_lost():
    rng = np.random.default_rng(2)
    arm = np.repeat(np.array(["T", "C"], dtype=object), 150)
    x = rng.normal(size=300)
    y = x - 0.5 * (arm == "T") + rng.normal(size=300)  # treatment lowers y: benefit
    y[rng.random(300) < 0.3] = np.nan
    values = np.column_stack([x, y])
    mar = mi_estimate(values, arm, 1, _ancova, m=10, rng=rng, df_complete=297)
    assert mar["p"] < 0.05
    tp = tipping_point(values, arm, 1, _ancova, treatment="T", unfavourable=+1.0,
                       scale=float(np.nanstd(y)), completed=mar["completed"], rng=rng, m=10,
                       df_complete=297)
    grid = tp["grid"]
    assert grid[0]["delta"] == 0 and grid[0]["p"] == pytest.approx(mar["p"])
    estimates = [g["estimate"] for g in grid]
    assert estimates == sorted(estimates)  # shifting treated dropouts up weakens the benefit
    tip = tp["tipping_point_sd"]
    assert tip is not None
    first_ns = next(g for g in grid if g["p"] >= 0.05)
    assert first_ns["delta_sd"] == tip
    assert all(g["p"] < 0.05 for g in grid if g["delta_sd"] < tip)


POST_LOSS_HAZARD = 8.0  # treated dyads lost to follow-up: hazard x 8 afterwards (MNAR)


def _informative_loss(seed: int, n_per_arm: int = 300, horizon: float = 180.0):
    """Exponential event times (control 0.010/day, treatment 0.006/day); 60% of treated
    (10% of control) dyads are lost at a uniform time, after which a treated dyad's hazard
    is POST_LOSS_HAZARD times higher: censoring is informative. Returns the arms, the
    complete data (time, event) and the observed (time, event, lost)."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(np.array(["T", "C"], dtype=object), n_per_arm)
    rate = np.where(arm == "T", 0.006, 0.010)
    k = np.where(arm == "T", POST_LOSS_HAZARD, 1.0)
    p_loss = np.where(arm == "T", 0.6, 0.1)
    loss = np.where(rng.random(arm.size) < p_loss, rng.uniform(0, horizon, arm.size), np.inf)
    before = rng.exponential(1 / rate)
    t = np.where(before < loss, before, loss + rng.exponential(1 / (rate * k)))
    full_t, full_e = np.minimum(t, horizon), (t <= horizon).astype(float)
    lost = loss < full_t
    return arm, full_t, full_e, np.where(lost, loss, full_t), np.where(lost, 0.0, full_e), lost


def _log_hr(completed, arm):
    h = cox_ph(completed[:, 0], completed[:, 1], (arm == "T").astype(float))["hazard_ratio"]
    return h["log_estimate"], h["log_se"] ** 2


def test_event_time_mi_with_the_right_hazard_shift_recovers_the_complete_data_hr():
    arm, full_t, full_e, t, e, lost = _informative_loss(3)
    truth = _log_hr(np.column_stack([full_t, full_e]), arm)[0]  # had nobody been lost
    mar = event_time_mi(t, e, lost, arm, 180.0, _log_hr, m=5, rng=np.random.default_rng(1))
    assert mar["n_imputed"] == int(lost.sum()) > 0
    assert not mar["ci_lower"] <= truth <= mar["ci_upper"], (mar["estimate"], truth)
    right = event_time_mi(t, e, lost, arm, 180.0, _log_hr, m=5, rng=np.random.default_rng(1),
                          delta={"T": math.log(POST_LOSS_HAZARD)})
    assert right["ci_lower"] <= truth <= right["ci_upper"], (right["estimate"], truth)
    assert right["estimate"] > mar["estimate"]  # a higher hazard after loss: against T


MEDIATED_A, MEDIATED_B = -0.4, 1.0  # treatment lowers the mediator; the mediator raises y


def _mediated_trial(seed: int, n_per_arm: int = 120):
    """Baseline mediator m0; mediator m = 0.5 m0 + A*T + e; outcome y = B*m + e. Treated
    dyads drop out (mediator and outcome both missing) the more likely the higher their
    unobserved outcome; control dyads at random (15%). Returns the complete data, the
    observed data (columns m0, m, y), the arms and who was lost."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(np.array(["T", "C"], dtype=object), n_per_arm)
    treated = arm == "T"
    m0 = rng.normal(size=arm.size)
    m = 0.5 * m0 + MEDIATED_A * treated + rng.normal(size=arm.size)
    y = MEDIATED_B * m + rng.normal(0, 0.5, arm.size)
    z = (y - y.mean()) / y.std()
    lost = rng.random(arm.size) < np.where(treated, 1 / (1 + np.exp(1 - 2.5 * z)), 0.15)
    full = np.column_stack([m0, m, y])
    observed = full.copy()
    observed[lost, 1:] = np.nan
    return full, observed, arm, lost


def _pattern_mixture_shift(full, observed, arm, lost, column: int) -> float:
    """The right delta in SD units: in the treatment arm, how much higher the lost dyads'
    true values are than the seen dyads' at the same baseline (regression on m0 and the
    loss indicator, on the complete data), over the observed SD."""
    t = arm == "T"
    x = np.column_stack([np.ones(t.sum()), full[t, 0], lost[t]])
    beta = np.linalg.lstsq(x, full[t, column], rcond=None)[0]
    return float(beta[2] / np.nanstd(observed[:, column]))


@pytest.mark.parametrize("seed", [0, 4, 7])
def test_mediation_tipping_point_moves_a_times_b_towards_the_complete_data_value(seed):
    from dyadsim.trials.methods import indirect_effect_mi

    full, observed, arm, lost = _mediated_trial(seed)
    kw = dict(treatment="T", mediator=1, outcome=2, covariates=[0], seed=1, alpha=0.05)
    complete, none = indirect_effect_mi(full, arm, m=2, **kw)
    assert none is None and complete["n_imputed"] == 0
    truth = complete["estimate"]  # a*b had nobody been lost
    mar, tip = indirect_effect_mi(observed, arm, m=5, direction="decrease",
                                  names=("craving", "comm"), **kw)
    assert mar["n_imputed"] == int(lost.sum()) > 0
    assert abs(mar["estimate"] - truth) > mar["se"], (mar["estimate"], truth)  # MNAR bias
    # against a decrease through a mediator with b > 0: treated dropouts' imputed
    # mediator and outcome both shifted up, each in its own observed SD
    sds = [np.nanstd(observed[:, j]) for j in (1, 2)]
    assert tip["shift_per_sd"] == pytest.approx({"craving": sds[0], "comm": sds[1]})
    grid = tip["grid"]
    assert grid[0]["delta"] == 0.0 and grid[0]["estimate"] == pytest.approx(mar["estimate"])
    estimates = [g["estimate"] for g in grid]
    assert estimates == sorted(estimates)  # each shift moves a*b up, towards no effect
    right = np.mean([_pattern_mixture_shift(full, observed, arm, lost, j) for j in (1, 2)])
    assert 0.5 < right < 1.5
    at_right = min(grid, key=lambda g: abs(g["delta_sd"] - right))
    assert abs(at_right["estimate"] - truth) < abs(mar["estimate"] - truth)
    assert at_right["ci_lower"] <= truth <= at_right["ci_upper"]
    # significant under MAR: a finite tipping point, the first shift that is not
    assert mar["p"] < 0.05
    tp = tip["tipping_point_sd"]
    assert tp is not None and tip["tipping_point"] == tp
    assert next(g for g in grid if g["p"] >= 0.05)["delta_sd"] == tp
    assert all(g["p"] < 0.05 for g in grid if g["delta_sd"] < tp)
    assert "SD" in tip["conclusion"] and "craving" in tip["delta_unit"]


def test_shifted_binary_imputations_move_only_the_shifted_arms_dropouts():
    """A large shift of the log odds makes every redrawn event of arm A's dropouts 1 (or 0);
    arm B's imputed values and every observed value are kept; a zero shift draws again
    from the MAR model (events in both states)."""
    from dyadsim.stats.missing import impute, shift_binary_imputations

    rng = np.random.default_rng(11)
    n = 120
    arm = np.repeat(np.array(["A", "B"], dtype=object), n // 2)
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    y[rng.random(n) < 0.3] = np.nan
    values = np.column_stack([x, y])
    completed = impute(values, 4, rng, arm=arm)
    miss = np.isnan(y)
    for d, expected in ((40.0, 1.0), (-40.0, 0.0)):
        shifted = shift_binary_imputations(values, completed, arm, 1, {"A": d}, rng)
        for before, after in zip(completed, shifted, strict=True):
            assert np.all(after[miss & (arm == "A"), 1] == expected)
            keep = ~(miss & (arm == "A"))
            assert np.array_equal(after[keep], before[keep])
    mar = shift_binary_imputations(values, completed, arm, 1, {"A": 0.0}, rng)
    drawn = np.concatenate([c[miss & (arm == "A"), 1] for c in mar])
    assert 0 < drawn.mean() < 1
