"""Tests for dyadsim.trials.analysis.

Known-answer tests simulate data with ``numpy.random.default_rng(seed)`` and a known effect. Every
tolerance is stated next to its assertion, in units of the estimator's standard error (SE) where
that applies (typically ~3 SE, i.e. a correct implementation fails for <1% of data seeds).
Assertions that a single 95% CI covers the truth hold for 95% of data sets by construction; the
seeds are fixed, so the tests are deterministic. CI coverage itself is checked by replication
(1000 small data sets) for the effect sizes, and the nominal 5% type-I error by 200 null trials.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dyadsim.trials import analysis as A

TREAT, CTRL = "MORE", "TAU"
CS = "compound_symmetry"  # the random-intercept model (the MMRM is the default)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def assert_plain_json(obj) -> None:
    """Only plain Python types, and strict JSON (no NaN/inf)."""
    json.dumps(obj, allow_nan=False)

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                assert type(k) is str
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        else:
            assert o is None or type(o) in (bool, int, float, str), (type(o), o)

    walk(obj)


def sim_long(
    rng: np.random.Generator,
    n_per_arm: int,
    effect: float,
    *,
    dyad_sd: float = 4.0,
    resid_sd: float = 3.0,
    mar_dropout: bool = False,
    timepoints: tuple[tuple[str, int], ...] = (("baseline", 0), ("post", 56), ("3mo", 146)),
) -> pd.DataFrame:
    """Long trial data: every post-baseline mean in the treatment arm is shifted by ``effect``.

    Total SD = sqrt(dyad_sd^2 + resid_sd^2) = 5 by default. With ``mar_dropout`` follow-up
    values go missing with probability 0.1, or 0.4 when the (observed) baseline value is above
    the median: missing at random given baseline.
    """
    n = 2 * n_per_arm
    dyad = np.arange(n)
    arm = np.where(dyad < n_per_arm, TREAT, CTRL)
    u = rng.normal(0.0, dyad_sd, n)
    frames = []
    base = None
    for k, (tp, day) in enumerate(timepoints):
        post = k > 0
        mean = 20.0 - 2.0 * post + effect * post * (arm == TREAT)
        v = mean + u + rng.normal(0.0, resid_sd, n)
        if k == 0:
            base = v.copy()
        elif mar_dropout:
            p_miss = np.where(base > np.median(base), 0.4, 0.1)
            v[rng.random(n) < p_miss] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "dyad_id": dyad,
                    "arm": arm,
                    "timepoint": tp,
                    "day": day + rng.integers(-3, 4, n),
                    "instrument": "PHQ9",
                    "value": v,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    other = df.assign(instrument="GAD7", value=rng.normal(size=len(df)))
    df = pd.concat([df, other], ignore_index=True)
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)  # order must not matter


def sim_ema(
    rng: np.random.Generator,
    n_per_arm: int,
    *,
    control_mean: float = 10.0,
    relative: float = -0.3,
    dyad_sd: float = 1.0,
    resid_sd: float = 3.0,
    days: int = 28,
    prompts: int = 3,
    p_miss: float = 0.3,
    day_sd: float = 0.0,
) -> pd.DataFrame:
    nd = 2 * n_per_arm
    dyad = np.arange(nd)
    arm = np.where(dyad < n_per_arm, TREAT, CTRL)
    mu = np.where(arm == TREAT, control_mean * (1 + relative), control_mean)
    mu = mu + rng.normal(0.0, dyad_sd, nd)
    d_id = np.repeat(dyad, days * prompts)
    day = np.tile(np.repeat(np.arange(days), prompts), nd)
    prompt = np.tile(np.arange(prompts), nd * days)
    day_effect = rng.normal(0.0, day_sd, (nd, days))[d_id, day] if day_sd else 0.0
    v = mu[d_id] + day_effect + rng.normal(0.0, resid_sd, len(d_id))
    v[rng.random(len(v)) < p_miss] = np.nan
    return pd.DataFrame(
        {"dyad_id": d_id, "arm": arm[d_id], "day": day, "prompt": prompt, "value": v}
    )


# --------------------------------------------------------------------------------------------
# 1. LMM arm x time
# --------------------------------------------------------------------------------------------


def test_lmm_recovers_known_effect_under_mar_dropout():
    rng = np.random.default_rng(20240101)
    df = sim_long(rng, 400, -3.0, mar_dropout=True)
    # a third arm must be ignored, not pooled into control
    extra = sim_long(np.random.default_rng(1), 10, 0.0).assign(
        arm="WAITLIST", dyad_id=lambda d: d["dyad_id"] + 10_000
    )
    res = A.lmm_arm_by_time(pd.concat([df, extra]), "PHQ9", treatment=TREAT, control=CTRL,
                            covariance=CS)
    assert_plain_json(res)
    assert res["method"] == "mixedlm_reml"
    assert res["converged"] is True
    assert res["convergence_warnings"] == []
    assert res["timepoints"] == ["baseline", "post", "3mo"]  # ordered by study day
    assert res["n_randomized"] == {"treatment": 400, "control": 400}
    assert res["n_dyads"] == 800
    assert res["n_missing_values"] > 100  # dropout happened; those rows were dropped (ITT/MAR)
    for tp in ("post", "3mo"):
        c = res["contrasts"][tp]
        # SE of a change contrast ~ sqrt(2*3^2) * sqrt(2/400) ~ 0.30 (~0.33 with dropout);
        # +-1.0 is ~3 SE.
        assert abs(c["estimate"] - (-3.0)) < 1.0
        assert c["ci_lower"] < -3.0 < c["ci_upper"]
        assert c["ci_lower"] < c["estimate"] < c["ci_upper"]
        assert 0.2 < c["se"] < 0.5
        assert c["p"] < 1e-6
    gxt = res["group_by_time"]
    assert gxt["df1"] == 2 and gxt["df2"] == res["df"]
    # between-within df: observations - dyads - 4 within-dyad fixed effects
    assert res["df"] == res["n_obs"] - res["n_dyads"] - 4
    assert gxt["p"] < 1e-10
    assert gxt["f"] == pytest.approx(gxt["chi2"] / 2)
    assert gxt["p"] == pytest.approx(stats.f.sf(gxt["f"], 2, res["df"]))
    assert "treatment" not in res["fixed_effects"]  # constrained baseline (cLDA)
    assert res["model_means"]["treatment"]["baseline"] == res["model_means"]["control"][
        "baseline"]
    assert res["boundary"] is False
    # variance components: dyad 16, residual 9 (each within ~25%)
    assert res["random_intercept_var"] == pytest.approx(16.0, rel=0.25)
    assert res["residual_var"] == pytest.approx(9.0, rel=0.25)
    # model means are consistent with the contrast
    mm = res["model_means"]
    change_t = mm["treatment"]["post"] - mm["treatment"]["baseline"]
    change_c = mm["control"]["post"] - mm["control"]["baseline"]
    assert change_t - change_c == pytest.approx(res["contrasts"]["post"]["estimate"], abs=1e-9)


def binomial_window(n: int, alpha: float, level: float = 0.999) -> tuple[int, int]:
    """Rejections of a test at ``alpha`` in ``n`` null trials lie in this window with
    probability >= ``level`` (exact binomial)."""
    lo, hi = stats.binom.interval(level, n, alpha)
    return int(lo), int(hi)


def test_lmm_null_group_by_time_rejects_at_nominal_rate():
    # 200 small trials (20 dyads per arm, 3 timepoints) under no effect: the F test with
    # between-within df rejects at alpha; the count lies in the exact 99.9% binomial window
    n_rep = 200
    rejections = 0
    contrast = 0
    for rep in range(n_rep):
        df = sim_long(np.random.default_rng(10_000 + rep), 20, 0.0)
        res = A.lmm_arm_by_time(df, "PHQ9", treatment=TREAT, control=CTRL, covariance=CS)
        rejections += res["group_by_time"]["p"] < 0.05
        contrast += res["contrasts"]["3mo"]["p"] < 0.05
    lo, hi = binomial_window(n_rep, 0.05)
    assert lo <= rejections <= hi, (rejections, lo, hi)
    assert lo <= contrast <= hi, (contrast, lo, hi)


def test_lmm_nonconvergence_is_recorded_not_hidden():
    df = sim_long(np.random.default_rng(5), 30, -1.0)
    res = A.lmm_arm_by_time(df, "PHQ9", treatment=TREAT, control=CTRL, covariance=CS, maxiter=1)
    assert_plain_json(res)
    assert res["converged"] is False
    assert res["method"] == "mixedlm_reml"  # estimates still reported, flagged
    assert res["convergence_warnings"]
    assert all(w.startswith("ConvergenceWarning") for w in res["convergence_warnings"])
    assert set(res["convergence_warnings"]) <= set(res["warnings"])
    assert any("failed" in w for w in res["warnings"])
    ok = A.lmm_arm_by_time(df, "PHQ9", treatment=TREAT, control=CTRL, covariance=CS)
    assert ok["converged"] is True


def test_lmm_degenerate_exact_fit_falls_back_to_ols():
    # Values are an exact function of arm x time (zero residual variance): the mixed model
    # cannot give standard errors, so the documented fallback must be used and reported.
    n = 20
    dyad = np.repeat(np.arange(2 * n), 2)
    tp = np.tile(["baseline", "post"], 2 * n)
    arm = np.where(dyad < n, TREAT, CTRL)
    value = 5.0 + 2.0 * (tp == "post") - 1.0 * ((tp == "post") & (arm == TREAT))
    df = pd.DataFrame(
        {
            "dyad_id": dyad,
            "arm": arm,
            "timepoint": tp,
            "day": np.where(tp == "post", 56, 0),
            "instrument": "X",
            "value": value,
        }
    )
    res = A.lmm_arm_by_time(df, "X", treatment=TREAT, control=CTRL, covariance=CS)
    assert_plain_json(res)
    assert res["method"] == "ols_cluster_robust"
    assert "exact fit" in res["fallback_reason"]
    assert res["converged"] is False
    assert res["fallback_reason"]
    assert any("fallback to OLS" in w for w in res["warnings"])
    assert res["contrasts"]["post"]["estimate"] == pytest.approx(-1.0, abs=1e-9)


@pytest.mark.parametrize("dyad_offsets", [False, True])
def test_lmm_degenerate_fit_detected_before_statsmodels(monkeypatch, dyad_offsets):
    # The degenerate fit is found by our own check, so the fallback cannot depend on the
    # optimiser's floating-point path: MixedLM must not even be called. With dyad offsets the
    # between-dyad variance is real but the within-dyad residual variance is still zero.
    import statsmodels.regression.mixed_linear_model as mlm

    def never(self, *args, **kwargs):
        raise AssertionError("MixedLM.fit called on degenerate data")

    monkeypatch.setattr(mlm.MixedLM, "fit", never)
    n = 15
    dyad = np.repeat(np.arange(2 * n), 3)
    tp = np.tile(["baseline", "post", "3mo"], 2 * n)
    arm = np.where(dyad < n, TREAT, CTRL)
    offset = np.sin((dyad % n).astype(float)) * 3.0 if dyad_offsets else 0.0  # same per arm
    value = 10.0 + offset - 2.0 * (tp != "baseline") + 1.5 * ((tp == "3mo") & (arm == TREAT))
    df = pd.DataFrame({"dyad_id": dyad, "arm": arm, "timepoint": tp,
                       "day": np.select([tp == "post", tp == "3mo"], [56, 146], 0),
                       "instrument": "X", "value": value})
    res = A.lmm_arm_by_time(df, "X", treatment=TREAT, control=CTRL, covariance=CS)
    assert res["method"] == "ols_cluster_robust"
    assert "exact fit" in res["fallback_reason"]
    assert res["contrasts"]["3mo"]["estimate"] == pytest.approx(1.5, abs=1e-9)
    assert res["contrasts"]["post"]["estimate"] == pytest.approx(0.0, abs=1e-9)
    # a tiny amount of within-dyad noise is a proper fit again (MixedLM is called)
    noisy = df.assign(value=value + np.random.default_rng(1).normal(0, 0.5, len(df)))
    with pytest.raises(AssertionError, match="MixedLM.fit called"):
        A.lmm_arm_by_time(noisy, "X", treatment=TREAT, control=CTRL, covariance=CS)


def test_lmm_fit_raising_falls_back_to_cluster_robust_ols(monkeypatch):
    import statsmodels.regression.mixed_linear_model as mlm

    df = sim_long(np.random.default_rng(7), 40, -2.0)  # complete & balanced
    # the unconstrained model: there GLS and OLS coincide with complete balanced data
    kw = {"treatment": TREAT, "control": CTRL, "constrained_baseline": False,
          "covariance": CS}
    ref = A.lmm_arm_by_time(df, "PHQ9", **kw)

    def boom(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(mlm.MixedLM, "fit", boom)
    res = A.lmm_arm_by_time(df, "PHQ9", **kw)
    assert_plain_json(res)
    assert res["method"] == "ols_cluster_robust"
    assert res["converged"] is False
    assert "LinAlgError" in res["fallback_reason"]
    # with complete balanced data GLS (random intercept) and OLS fixed effects coincide
    for tp in ("post", "3mo"):
        assert res["contrasts"][tp]["estimate"] == pytest.approx(
            ref["contrasts"][tp]["estimate"], abs=1e-6
        )
        assert res["contrasts"][tp]["se"] > 0


@pytest.mark.parametrize(
    ("mutate", "kwargs", "match"),
    [
        (lambda d: d.drop(columns="day"), {}, r"missing required column.*day"),
        (lambda d: d.drop(columns="value"), {}, r"missing required column.*value"),
        (lambda d: d, {"treatment": "MOREX"}, r"unknown arm.*'MOREX'"),
        (lambda d: d, {"control": "NOPE"}, r"unknown arm.*'NOPE'"),
        (lambda d: d, {"control": TREAT}, r"must differ"),
        (lambda d: d, {"instrument": "EPDS"}, r"instrument 'EPDS' not present"),
        (lambda d: d, {"baseline": "screening"}, r"baseline timepoint 'screening'"),
        (lambda d: pd.concat([d, d.loc[d["instrument"] == "PHQ9"].iloc[[0]]]), {}, r"duplicate"),
        (
            lambda d: d.assign(arm=np.where(d["timepoint"] == "post", TREAT, d["arm"])),
            {},
            r"more than one arm",
        ),
        (lambda d: d.assign(value=d["value"].astype(str)), {}, r"'value' must be numeric"),
        (lambda d: d.assign(day=d["day"].astype(str)), {}, r"'day' must be numeric"),
        (lambda d: d.loc[d["timepoint"] == "baseline"], {}, r"no post-baseline"),
        (lambda d: d, {"alpha": 1.5}, r"alpha"),
    ],
)
def test_lmm_bad_input(mutate, kwargs, match):
    df = mutate(sim_long(np.random.default_rng(0), 5, 0.0))
    args = {"instrument": "PHQ9", "treatment": TREAT, "control": CTRL} | kwargs
    instrument = args.pop("instrument")
    with pytest.raises(ValueError, match=match):
        A.lmm_arm_by_time(df, instrument, **args)


def test_lmm_rejects_non_dataframe():
    with pytest.raises(ValueError, match="DataFrame"):
        A.lmm_arm_by_time([1, 2, 3], "PHQ9", treatment=TREAT, control=CTRL)


# --------------------------------------------------------------------------------------------
# 2. binary outcome
# --------------------------------------------------------------------------------------------


def test_binary_known_risk_ratio():
    rng = np.random.default_rng(42)
    n = 5000
    y = np.r_[rng.random(n) < 0.18, rng.random(n) < 0.30].astype(float)
    arm = np.repeat([TREAT, CTRL], n)
    res = A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)
    assert_plain_json(res)
    rr = res["risk_ratio"]
    # true RR = 0.18/0.30 = 0.6; SE(RR) ~ 0.6 * 0.037 = 0.022; +-0.08 is ~3.6 SE
    assert abs(rr["estimate"] - 0.6) < 0.08
    assert rr["ci_lower"] < 0.6 < rr["ci_upper"]
    assert res["relative_reduction"]["estimate"] == pytest.approx(1 - rr["estimate"])
    assert res["relative_reduction"]["ci_lower"] == pytest.approx(1 - rr["ci_upper"])
    # true OR = (0.18/0.82)/(0.3/0.7) = 0.512; SE ~0.025; +-0.08 is ~3 SE
    true_or = (0.18 / 0.82) / (0.30 / 0.70)
    assert abs(res["odds_ratio"]["estimate"] - true_or) < 0.08
    # true RD = -0.12; SE ~0.0085; +-0.03 is ~3.5 SE
    assert abs(res["risk_difference"]["estimate"] + 0.12) < 0.03
    assert res["haldane_correction"] is False and res["note"] is None
    # exact identities: logistic-regression OR equals the 2x2 cross-product ratio and its SE
    # equals Woolf's; RR equals ratio of risks
    a, c = res["events_treatment"], res["events_control"]
    b, d = n - a, n - c
    assert res["odds_ratio"]["estimate"] == pytest.approx(a * d / (b * c), rel=1e-6)
    assert res["odds_ratio"]["log_se"] == pytest.approx(
        math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-5
    )
    assert rr["estimate"] == pytest.approx(res["risk_treatment"] / res["risk_control"])
    # Katz log-RR standard error
    assert rr["log_se"] == pytest.approx(math.sqrt(1 / a - 1 / n + 1 / c - 1 / n), rel=1e-9)
    rd_se = math.sqrt(a / n * (1 - a / n) / n + c / n * (1 - c / n) / n)
    assert res["risk_difference"]["se"] == pytest.approx(rd_se, rel=1e-9)


def test_binary_dataframe_and_arrays_agree_and_missing_dropped():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.4).astype(float)
    arm = np.repeat([TREAT, CTRL], 150)
    y_miss = y.copy()
    y_miss[:7] = np.nan
    df = pd.DataFrame({"dyad_id": np.arange(300), "relapse": y_miss, "group": arm})
    r_df = A.binary_outcome(
        df, treatment=TREAT, control=CTRL, outcome_col="relapse", arm_col="group"
    )
    r_arr = A.binary_outcome(y[7:], arm[7:], treatment=TREAT, control=CTRL)
    assert r_df["n_missing"] == 7
    assert r_df["n_treatment"] == 143
    for key in ("risk_ratio", "odds_ratio", "risk_difference"):
        assert r_df[key]["estimate"] == pytest.approx(r_arr[key]["estimate"])


def test_binary_zero_cell_uses_haldane_correction():
    # treatment: 0/50 events; control: 10/50
    y = np.r_[np.zeros(50), np.ones(10), np.zeros(40)]
    arm = np.repeat([TREAT, CTRL], 50)
    res = A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)
    assert_plain_json(res)
    assert res["haldane_correction"] is True
    assert "Haldane" in res["note"]
    assert res["risk_treatment"] == 0.0  # raw risks
    rr_expected = (0.5 / 51) / (10.5 / 51)
    or_expected = (0.5 * 40.5) / (50.5 * 10.5)  # cells a, b, c, d = 0.5, 50.5, 10.5, 40.5
    assert res["risk_ratio"]["estimate"] == pytest.approx(rr_expected, rel=1e-9)
    assert res["odds_ratio"]["estimate"] == pytest.approx(or_expected, rel=1e-6)
    assert res["odds_ratio"]["ci_upper"] is not None and res["odds_ratio"]["ci_lower"] > 0


def test_binary_null_or_test_rejects_at_nominal_rate():
    # 200 trials, 100 per arm, common risk 0.3: the Wald OR test rejects at alpha; the count
    # lies in the exact 99.9% binomial window
    n_rep = 200
    arm = np.repeat([TREAT, CTRL], 100)
    rej = 0
    for rep in range(n_rep):
        y = (np.random.default_rng(rep).random(200) < 0.3).astype(float)
        rej += A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)["odds_ratio"]["p"] < 0.05
    lo, hi = binomial_window(n_rep, 0.05)
    assert lo <= rej <= hi, (rej, lo, hi)


@pytest.mark.parametrize(
    ("y", "arm", "kwargs", "match"),
    [
        ([0, 1, 2, 0], ["T", "T", "C", "C"], {}, r"0/1"),
        ([0, 1, 1], ["T", "T", "C", "C"], {}, r"lengths differ"),
        ([0, 1, 1, 0], ["T", "T", "C", "C"], {"treatment": "X"}, r"unknown arm.*'X'"),
        ([0, 1, 1, 0], None, {}, r"arm labels are required"),
    ],
)
def test_binary_bad_input(y, arm, kwargs, match):
    args = {"treatment": "T", "control": "C"} | kwargs
    with pytest.raises(ValueError, match=match):
        A.binary_outcome(y, arm, **args)


def test_binary_bad_dataframe():
    df = pd.DataFrame({"outcome": [0, 1], "arm": ["T", "C"]})
    with pytest.raises(ValueError, match=r"missing required column.*relapse"):
        A.binary_outcome(df, treatment="T", control="C", outcome_col="relapse")
    dup = pd.DataFrame({"dyad_id": [1, 1], "outcome": [0, 1], "arm": ["T", "C"]})
    with pytest.raises(ValueError, match="one row per dyad"):
        A.binary_outcome(dup, treatment="T", control="C")


# --------------------------------------------------------------------------------------------
# 3. effect sizes
# --------------------------------------------------------------------------------------------


def test_cohens_d_hand_computed():
    res = A.cohens_d([1, 2, 3, 4, 5], [2, 3, 4, 5, 6])
    sd = math.sqrt(2.5)
    assert res["estimate"] == pytest.approx(-1 / sd)
    var = 10 / 25 + (1 / sd) ** 2 / 20
    assert res["se"] == pytest.approx(math.sqrt(var))
    g = A.cohens_d([1, 2, 3, 4, 5], [2, 3, 4, 5, 6], hedges=True)
    j = math.gamma(4) / (math.sqrt(4) * math.gamma(3.5))  # exact J for df = 8
    assert g["hedges_correction"] == pytest.approx(j)
    assert j == pytest.approx(1 - 3 / (4 * 8 - 1), abs=2e-3)  # the familiar approximation
    assert g["estimate"] == pytest.approx(j * res["estimate"])
    assert g["se"] == pytest.approx(j * res["se"])
    assert g["kind"] == "hedges_g" and res["kind"] == "cohens_d"
    assert_plain_json(g)


def test_cohens_d_known_effect_and_ci_width():
    rng = np.random.default_rng(11)
    n = 2000
    res = A.cohens_d(rng.normal(0.5, 1.0, n), rng.normal(0.0, 1.0, n))
    # SE(d) ~ 0.032; +-0.1 is ~3 SE
    assert abs(res["estimate"] - 0.5) < 0.1
    assert res["ci_lower"] < 0.5 < res["ci_upper"]
    theory_width = 2 * 1.959964 * math.sqrt(2 * n / n**2 + 0.5**2 / (4 * n))
    # width depends on d-hat only through d^2/(2N) (a tiny term): within 1% of theory
    assert res["ci_upper"] - res["ci_lower"] == pytest.approx(theory_width, rel=0.01)


def test_hedges_g_ci_coverage_small_samples():
    # 1000 trials with n=25 per arm, true delta 0.8: 95% CI coverage; MC SE ~0.007,
    # accept 0.925-0.975 (~3.5 MC SE).
    cover = 0
    for rep in range(1000):
        rng = np.random.default_rng(rep)
        r = A.cohens_d(rng.normal(0.8, 1, 25), rng.normal(0, 1, 25), hedges=True)
        cover += r["ci_lower"] <= 0.8 <= r["ci_upper"]
    lo, hi = binomial_window(1000, 0.95)  # exact 99.9% window for 95% coverage
    assert lo <= cover <= hi, (cover, lo, hi)


def test_standardized_mean_change_hand_computed():
    pre = np.array([10.0, 12.0, 9.0, 11.0, 13.0])
    post = np.array([8.0, 11.0, 8.0, 8.0, 10.0])
    diff = post - pre
    dz = A.standardized_mean_change(pre, post, kind="d_z")
    assert dz["estimate"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert dz["kind"] == "d_z" and dz["direction"] == "post - pre"
    dav = A.standardized_mean_change(pre, post)  # default d_av
    assert dav["kind"] == "d_av"
    assert dav["estimate"] == pytest.approx(
        diff.mean() / ((pre.std(ddof=1) + post.std(ddof=1)) / 2)
    )
    assert_plain_json(dav)


@pytest.mark.parametrize("kind", ["d_av", "d_z"])
def test_standardized_mean_change_ci_coverage(kind):
    # pre ~ N(0,1), post = 0.6 pre + N(0, 0.8^2) + 0.5: equal variances, r = 0.6;
    # true d_av = 0.5, true d_z = 0.5 / sqrt(2 - 2*0.6). 1000 trials of n=40:
    # coverage within 0.925-0.975 (MC SE ~0.007).
    true = 0.5 if kind == "d_av" else 0.5 / math.sqrt(0.8)
    cover = 0
    for rep in range(1000):
        rng = np.random.default_rng(rep)
        pre = rng.normal(size=40)
        post = 0.6 * pre + 0.8 * rng.normal(size=40) + 0.5
        r = A.standardized_mean_change(pre, post, kind=kind)
        cover += r["ci_lower"] <= true <= r["ci_upper"]
    lo, hi = binomial_window(1000, 0.95)  # exact 99.9% window for 95% coverage
    assert lo <= cover <= hi, (cover, lo, hi)


def test_effect_size_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        A.cohens_d([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="zero"):
        A.cohens_d([1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="paired"):
        A.standardized_mean_change([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="kind"):
        A.standardized_mean_change([1, 2, 3], [1, 2, 4], kind="d_rm")


# --------------------------------------------------------------------------------------------
# 4. survival
# --------------------------------------------------------------------------------------------


def test_cox_known_hazard_ratio_and_km():
    rng = np.random.default_rng(99)
    n = 1000
    g = np.r_[np.ones(n), np.zeros(n)]
    rate = np.where(g == 1, 0.5, 1.0)  # HR = 0.5
    t = rng.exponential(1 / rate)
    dur = np.minimum(t, 2.0)  # administrative censoring at t = 2
    ev = (t <= 2.0).astype(float)
    times = [0.5, 1.0, 1.5]
    res = A.cox_ph(dur, ev, g, km_times=times)
    assert_plain_json(res)
    hr = res["hazard_ratio"]
    # SE(log HR) ~ 0.053 -> SE(HR) ~ 0.027; +-0.1 is ~3.7 SE
    assert abs(hr["estimate"] - 0.5) < 0.1
    assert hr["ci_lower"] < 0.5 < hr["ci_upper"]
    assert hr["p"] < 1e-10 and res["logrank_p"] < 1e-10
    assert res["n_events"] == int(ev.sum())
    assert res["events_treatment"] + res["events_control"] == res["n_events"]
    assert res["converged"] is True
    # KM vs exp(-rate t): SE <= sqrt(0.25/1000) ~ 0.016; +-0.05 is ~3 SE
    for arm_key, lam in (("treatment", 0.5), ("control", 1.0)):
        for row, tq in zip(res["km"][arm_key], times, strict=True):
            assert row["time"] == tq
            assert abs(row["survival"] - math.exp(-lam * tq)) < 0.05
            assert row["ci_lower"] <= row["survival"] <= row["ci_upper"]


def test_km_at_hand_computed():
    res = A.km_at([1, 2, 3, 4, 5], [1, 0, 1, 1, 0], [0.0, 1.5, 3.0, 10.0])
    assert_plain_json(res)
    rows = res["groups"]["all"]
    surv = [r["survival"] for r in rows]
    # S = 1 before 1; 4/5 after t=1; x 2/3 at t=3 (3 at risk); x 1/2 at t=4
    assert surv == pytest.approx([1.0, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 * 0.5])
    assert [r["n_at_risk"] for r in rows] == [5, 4, 3, 0]
    by_arm = A.km_at([1, 2, 3, 4], [1, 1, 1, 1], [2.5], arm=["a", "b", "a", "b"])
    assert set(by_arm["groups"]) == {"a", "b"}
    assert by_arm["groups"]["a"][0]["survival"] == pytest.approx(0.5)


def test_cox_complete_separation_records_convergence_warning():
    rng = np.random.default_rng(1)
    g = np.r_[np.ones(50), np.zeros(50)]
    ev = np.where(g == 1, 0.0, 1.0)  # no events at all in the treatment arm
    res = A.cox_ph(rng.exponential(size=100), ev, g)
    assert_plain_json(res)
    assert res["converged"] is False
    assert any("ConvergenceWarning" in w for w in res["warnings"])


def test_survival_bad_input():
    with pytest.raises(ValueError, match="both arms"):
        A.cox_ph([1, 2, 3], [1, 1, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        A.cox_ph([1, -2, 3], [1, 1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="0/1"):
        A.cox_ph([1, 2, 3], [1, 2, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="no events"):
        A.cox_ph([1, 2, 3], [0, 0, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="times"):
        A.km_at([1, 2, 3], [1, 1, 0], [])


# --------------------------------------------------------------------------------------------
# 5. EMA multilevel model
# --------------------------------------------------------------------------------------------


def test_ema_recovers_relative_reduction():
    # prompts nested in days nested in dyads: dyad SD 1, day SD 1, prompt SD 3
    rng = np.random.default_rng(2024)
    ema = sim_ema(rng, 60, days=14, day_sd=1.0)
    res = A.ema_mlm(ema, treatment=TREAT, control=CTRL)
    assert_plain_json(res)
    assert res["converged"] is True and res["method"] == "mixedlm_reml"
    assert res["clustering"] == "prompts in days in dyads"
    rel = res["relative_difference"]
    # true treatment/control - 1 = -0.3; SE ~ 0.021; +-0.08 is ~4 SE
    assert abs(rel["estimate"] - (-0.3)) < 0.08
    assert rel["ci_lower"] < -0.3 < rel["ci_upper"]
    eff = res["arm_effect"]
    # true effect -3; SE ~0.21; +-0.8 is ~4 SE
    assert abs(eff["estimate"] - (-3.0)) < 0.8
    assert eff["ci_lower"] < -3.0 < eff["ci_upper"] and eff["p"] < 1e-10
    assert res["mean_treatment"] / res["mean_control"] - 1 == pytest.approx(rel["estimate"])
    assert res["n_dyads_treatment"] == res["n_dyads_control"] == 60
    # variance components: dyad 1, day 1, residual 9
    assert abs(res["random_intercept_var"] - 1.0) < 0.6
    assert abs(res["day_var"] - 1.0) < 0.5
    assert res["residual_var"] == pytest.approx(9.0, rel=0.1)
    assert res["boundary"] is False
    adj = A.ema_mlm(ema, treatment=TREAT, control=CTRL, adjust_day=True, day_effect=False)
    assert adj["clustering"] == "prompts in dyads"
    assert "day_centred" in adj["fixed_effects"]
    assert abs(adj["fixed_effects"]["day_centred"]) < 0.08  # no true day trend
    assert adj["relative_difference"]["estimate"] == pytest.approx(rel["estimate"], abs=0.02)


def test_ema_bad_input():
    ema = sim_ema(np.random.default_rng(0), 3, days=2)
    with pytest.raises(ValueError, match=r"missing required column.*prompt"):
        A.ema_mlm(ema.drop(columns="prompt"), treatment=TREAT, control=CTRL)
    with pytest.raises(ValueError, match=r"unknown arm.*'PLACEBO'"):
        A.ema_mlm(ema, treatment=TREAT, control="PLACEBO")
    with pytest.raises(ValueError, match=r"duplicate \(dyad_id, day, prompt\)"):
        A.ema_mlm(pd.concat([ema, ema.iloc[[3]]]), treatment=TREAT, control=CTRL)
    with pytest.raises(ValueError, match="fewer than 2 dyads"):
        A.ema_mlm(
            ema.loc[ema["dyad_id"] != 0].loc[lambda d: d["dyad_id"] != 1],
            treatment=TREAT,
            control=CTRL,
        )


# --------------------------------------------------------------------------------------------
# 6. mediation
# --------------------------------------------------------------------------------------------


def _sim_mediation(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n).astype(float)
    m = 0.5 * t + rng.normal(size=n)  # a = 0.5
    y = 0.4 * m + 0.2 * t + rng.normal(size=n)  # b = 0.4, direct = 0.2
    return pd.DataFrame({"more": t, "craving": m, "opioid_misuse": y})


def test_mediation_known_indirect_effect():
    df = _sim_mediation(2025, 1500)
    res = A.mediation(
        df,
        treatment_col="more",
        mediator_col="craving",
        outcome_col="opioid_misuse",
        n_boot=500,
        seed=123,
    )
    assert_plain_json(res)
    ind = res["indirect"]
    # true a*b = 0.2; SE(ab) ~ sqrt(b^2 Var(a) + a^2 Var(b)) ~ 0.025; +-0.08 is ~3 SE
    assert abs(ind["estimate"] - 0.2) < 0.08
    assert ind["ci_method"].startswith("BCa")
    assert ind["ci_lower"] < ind["estimate"] < ind["ci_upper"]
    assert ind["p"] <= 2 / 501 + 1e-12  # the smallest p 500 resamples can give
    assert ind["boot_se"] == pytest.approx(ind["sobel_se"], rel=0.25)  # two SE estimates agree
    assert abs(res["a"]["estimate"] - 0.5) < 0.16  # SE ~0.052
    assert abs(res["b"]["estimate"] - 0.4) < 0.08  # SE ~0.026
    assert abs(res["direct"]["estimate"] - 0.2) < 0.16  # SE ~0.054
    # OLS identity: total = direct + indirect
    assert res["total"]["estimate"] == pytest.approx(
        res["direct"]["estimate"] + ind["estimate"], abs=1e-10
    )
    assert res["proportion_mediated"] == pytest.approx(ind["estimate"] / res["total"]["estimate"])


def test_mediation_bca_coverage_and_p_agree_over_many_seeds():
    # 200 data sets: the 95% BCa interval covers the true a*b = 0.2 in at least the lower
    # bound of the exact 99.9% binomial window (no single seed is tuned), and p < 0.05
    # exactly when the interval excludes 0 (both from the same bootstrap)
    lo, _ = binomial_window(200, 0.95)
    hits, agree = 0, 0
    for seed in range(200):
        res = A.mediation(_sim_mediation(seed, 100), treatment_col="more",
                          mediator_col="craving", outcome_col="opioid_misuse", n_boot=200,
                          seed=seed)["indirect"]
        hits += res["ci_lower"] <= 0.2 <= res["ci_upper"]
        excludes = res["ci_lower"] > 0 or res["ci_upper"] < 0
        agree += excludes == (res["p"] < 0.05)
    assert hits >= lo, (hits, lo)
    assert agree >= 196, agree  # may differ only where the CI bound is within MC noise of 0


def test_mediation_adjusts_for_baseline_confounding():
    # the baseline outcome drives both the follow-up mediator and outcome: unadjusted b is
    # confounded, adjusted b recovers the truth (b = 0.4)
    rng = np.random.default_rng(4)
    n = 800
    t = rng.integers(0, 2, n).astype(float)
    y0 = rng.normal(size=n)
    m = 0.5 * t + 0.8 * y0 + rng.normal(size=n)
    y = 0.4 * m + 0.2 * t + 0.8 * y0 + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "m": m, "y": y, "y0": y0})
    kw = {"treatment_col": "t", "mediator_col": "m", "outcome_col": "y", "n_boot": 20,
          "seed": 1}
    raw = A.mediation(df, **kw)
    adj = A.mediation(df, covariates=["y0"], **kw)
    assert abs(adj["b"]["estimate"] - 0.4) < 0.11  # SE ~0.035
    assert raw["b"]["estimate"] - 0.4 > 0.2  # confounded upwards
    assert adj["covariates"] == ["y0"]


def test_mediation_bootstrap_reproducible_from_seed():
    df = _sim_mediation(9, 300)
    kw = {
        "treatment_col": "more",
        "mediator_col": "craving",
        "outcome_col": "opioid_misuse",
        "n_boot": 200,
    }
    r1 = A.mediation(df, seed=7, **kw)
    r2 = A.mediation(df, seed=7, **kw)
    r3 = A.mediation(df, seed=8, **kw)
    assert r1 == r2
    assert r1["indirect"]["ci_lower"] != r3["indirect"]["ci_lower"]
    assert r1["indirect"]["estimate"] == r3["indirect"]["estimate"]


def test_mediation_bad_input():
    df = _sim_mediation(1, 50)
    kw = {"treatment_col": "more", "mediator_col": "craving", "outcome_col": "opioid_misuse"}
    with pytest.raises(ValueError, match=r"missing required column.*craving"):
        A.mediation(df.drop(columns="craving"), seed=1, **kw)
    with pytest.raises(ValueError, match="n_boot"):
        A.mediation(df, seed=1, n_boot=0, **kw)
    with pytest.raises(ValueError, match="no variation"):
        A.mediation(df.assign(more=1.0), seed=1, **kw)


# --------------------------------------------------------------------------------------------
# 7. replicate summaries
# --------------------------------------------------------------------------------------------


def test_summarize_replicates_known_answer():
    reps = [
        {"estimate": 1.0, "p": 0.01},
        {"estimate": 2.0, "p": 0.20},
        {"estimate": 3.0, "p": 0.03},
        {"estimate": 4.0, "p": 0.05},  # p == alpha is not "significant"
        {"estimate": None, "p": None},  # a failed fit
    ]
    res = A.summarize_replicates(reps)
    assert_plain_json(res)
    assert res["n"] == 5 and res["n_valid"] == 4 and res["n_failed"] == 1
    assert res["mean"] == pytest.approx(2.5)
    assert res["sd"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert res["q025"] == pytest.approx(np.percentile([1, 2, 3, 4], 2.5))
    assert res["q975"] == pytest.approx(np.percentile([1, 2, 3, 4], 97.5))
    # the failed fit stays in the denominator as a non-rejection: 2 of 5, not 2 of 4
    assert res["power"] == pytest.approx(0.4)
    assert A.summarize_replicates(reps, alpha=0.02)["power"] == pytest.approx(0.2)


def test_summarize_replicates_counts_only_the_prespecified_direction():
    reps = [{"estimate": -1.0, "p": 0.01}, {"estimate": -0.5, "p": 0.02},
            {"estimate": 0.8, "p": 0.001},  # significant, but harmful
            {"estimate": -0.1, "p": 0.6}]
    down = A.summarize_replicates(reps, direction="decrease")
    assert down["power"] == pytest.approx(0.5) and down["n_wrong_direction"] == 1
    up = A.summarize_replicates(reps, direction="increase")
    assert up["power"] == pytest.approx(0.25) and up["n_wrong_direction"] == 2
    # ratios: the null is 1
    ratios = [{"estimate": 0.6, "p": 0.01}, {"estimate": 1.4, "p": 0.01}]
    assert A.summarize_replicates(ratios, direction="decrease", null=1.0)["power"] == 0.5
    assert A.summarize_replicates(reps)["power"] == pytest.approx(0.75)  # two-sided
    with pytest.raises(ValueError, match="direction"):
        A.summarize_replicates(reps, direction="down")


def test_summarize_replicates_from_binary_trials_power():
    # 100 trials with 300 per arm, risks 0.18 vs 0.30: power of the OR test ~0.93
    # (normal approximation); MC SE ~0.026, accept 0.80-1.0.
    arm = np.repeat([TREAT, CTRL], 300)
    reps = []
    for rep in range(100):
        rng = np.random.default_rng(rep)
        y = np.r_[rng.random(300) < 0.18, rng.random(300) < 0.30].astype(float)
        reps.append(A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)["risk_ratio"])
    res = A.summarize_replicates(reps)
    assert 0.80 <= res["power"] <= 1.0
    assert abs(res["mean"] - 0.6) < 0.03  # MC SE of the mean RR ~0.006
    assert res["q025"] < 0.6 < res["q975"]


def test_summarize_replicates_bad_input():
    with pytest.raises(ValueError, match="empty"):
        A.summarize_replicates([])
    with pytest.raises(ValueError, match=r"replicate 1 is missing key\(s\) \['p'\]"):
        A.summarize_replicates([{"estimate": 1.0, "p": 0.1}, {"estimate": 2.0}])
    with pytest.raises(ValueError, match="outside"):
        A.summarize_replicates([{"estimate": 1.0, "p": 1.5}])


# --------------------------------------------------------------------------------------------
# proportions: published worked examples
# --------------------------------------------------------------------------------------------


def test_newcombe_and_wilson_match_the_published_examples():
    # Newcombe 1998 (Stat Med 17:857) example (a): 56/70 vs 48/80, method 10: 0.0524-0.3339;
    # Newcombe 1998 (Stat Med 17:873) example: 81/263, Wilson 0.2553-0.3662
    y = np.r_[np.ones(56), np.zeros(14), np.ones(48), np.zeros(32)]
    arm = np.r_[np.full(70, TREAT), np.full(80, CTRL)]
    rd = A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)["risk_difference"]
    assert rd["estimate"] == pytest.approx(0.2)
    assert (rd["ci_lower"], rd["ci_upper"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert A.wilson_ci(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)


def test_binary_small_counts_use_the_exact_test():
    y = np.r_[np.ones(1), np.zeros(9), np.ones(6), np.zeros(4)]
    arm = np.r_[np.full(10, TREAT), np.full(10, CTRL)]
    res = A.binary_outcome(y, arm, treatment=TREAT, control=CTRL)
    assert res["p_method"].startswith("Fisher")
    assert res["risk_ratio"]["p"] == pytest.approx(stats.fisher_exact([[1, 9], [6, 4]])[1])
    assert res["haldane_correction"] is False  # no zero cell, no correction
