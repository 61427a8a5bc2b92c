"""The pass rule, the CRPS, the statistics registry, the prior and the posterior file, on
cases whose answers are worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dyadsim.calibration.statistics import Groups, compute_statistic
from dyadsim.calibration.targets import parse_targets
from dyadsim.calibration.validate import crps_fair, interval_90, passes, score_target
from dyadsim.model.params import PARAMS
from dyadsim.uncertainty.prior import (
    PosteriorError,
    apply_to_population,
    load_posterior,
    parse_posterior,
    prior_draws,
    prior_scale,
)


def test_crps_fair_matches_a_hand_computed_value():
    # ensemble (1, -1, 2), observation 0: E|X - y| = 4/3; the fair estimator's spread term
    # sums |xi - xj| over ordered pairs (2 x (2 + 1 + 3) = 12) / (2 M (M - 1) = 12) = 1
    assert crps_fair(0.0, [1.0, -1.0, 2.0]) == pytest.approx(1.0 / 3.0, abs=1e-12)
    # a perfect two-member ensemble scores 0; NaN members are dropped
    assert crps_fair(0.5, [0.5, 0.5, math.nan]) == pytest.approx(0.0, abs=1e-12)
    # one member left is not an ensemble
    assert math.isnan(crps_fair(0.0, [1.0, math.nan]))


def test_pass_rule_on_a_known_ensemble():
    ens = np.arange(101.0)  # 5th and 95th percentiles are 5 and 95
    assert interval_90(ens) == (5.0, 95.0)
    assert passes(5.0, ens) and passes(95.0, ens) and passes(50.0, ens)
    assert not passes(4.9, ens) and not passes(95.1, ens)
    # an observed interval passes when it holds the predictive median (50)
    assert passes([40.0, 60.0], ens) and not passes([60.0, 70.0], ens)
    assert not passes(1.0, [math.nan, math.nan])


def _target(stat: str, observed: str, measure: str = 'outcome = "nows"'):
    text = {"target": [{"id": "t", "source": "s", "statistic": stat,
                        "cohort": {"preset": "pregnant_oud_moud", "n": 40, "horizon": "1m"},
                        "measure": dict([tuple(x.strip().strip('"') for x in kv.split("="))
                                         for kv in measure.split("\n")]),
                        "observed": json.loads(observed)}]}
    return parse_targets(text).by_id("t")


def test_score_of_a_point_target():
    t = _target("proportion", '{"value": 0.5, "n": 100}')
    post = [0.4, 0.45, 0.5, 0.55, 0.6]
    prior = [0.0, 0.25, 0.5, 0.75, 1.0]
    e = score_target(t, post, prior, se=0.05)
    assert e["passed"] and e["simulated_median"] == 0.5
    assert e["interval_90"] == [pytest.approx(0.41), pytest.approx(0.59)]
    # the interval's width in units of the target's scale: (0.59 - 0.41) / 0.05
    assert e["interval_90_width_scaled"] == pytest.approx(3.6)
    # standardised by the observed SE: CRPS / 0.05
    assert e["crps_posterior"] == pytest.approx(crps_fair(0.5, post) / 0.05, rel=1e-6)
    assert e["crps_prior"] == pytest.approx(crps_fair(0.5, prior) / 0.05, rel=1e-6)
    assert e["crps_posterior"] < e["crps_prior"]
    miss = score_target(t, [0.7, 0.72, 0.75, 0.8], prior, se=0.05)
    assert not miss["passed"]
    undefined = score_target(t, [0.5, None, 0.45], prior, se=0.05)
    assert "undefined in 1 of 3" in undefined["status"]


def test_score_of_a_distribution_target():
    t = _target("distribution", '{"distribution": {"secure": [0.57, 0.73], '
                '"disorganized": 0.15}}', 'instrument = "ssp"\ntimepoint = "pp365"')
    post = [{"secure": s, "disorganized": d} for s, d in
            [(0.6, 0.1), (0.62, 0.14), (0.64, 0.16), (0.66, 0.2)]]
    e = score_target(t, post, post, se=None)
    assert e["passed"] and set(e["simulated_median"]) == {"secure", "disorganized"}
    assert e["simulated_median"]["secure"] == pytest.approx(0.63)
    # secure scaled by the interval's half-width (0.08), disorganized by the prior SD
    sd = float(np.std([0.1, 0.14, 0.16, 0.2], ddof=1))
    want = np.mean([crps_fair(0.65, [0.6, 0.62, 0.64, 0.66]) / 0.08,
                    crps_fair(0.15, [0.1, 0.14, 0.16, 0.2]) / sd])
    assert e["crps_posterior"] == pytest.approx(want, rel=1e-5)
    off = [{"secure": 0.8, "disorganized": 0.15}] * 4
    assert not score_target(t, off, post, se=None)["passed"]


def _groups(y, arm, **kw):
    return Groups(y=np.asarray(y, dtype=object if kw.pop("obj", False) else float),
                  arm=np.asarray(arm, dtype=object), **kw)


def test_statistics_known_answers():
    y = [1, 1, 0, 0, 1, 0, 0, 0, math.nan]
    arm = ["T", "T", "T", "T", "C", "C", "C", "C", "C"]
    g = _groups(y, arm, treatment="T", control="C")
    assert compute_statistic("risk_ratio", g) == pytest.approx(0.5 / 0.25)
    assert compute_statistic("relative_reduction", g) == pytest.approx(1 - 2.0)
    assert compute_statistic("odds_ratio", g) == pytest.approx((2 * 3) / (2 * 1))
    x = [3.0, 5.0, 1.0, 3.0]
    d = compute_statistic("cohens_d", _groups(x, ["T", "T", "C", "C"], treatment="T",
                                              control="C"))
    assert d == pytest.approx((4 - 2) / math.sqrt(2.0))
    g2 = compute_statistic("smd", _groups(x, ["T", "T", "C", "C"], treatment="T",
                                          control="C"))
    assert g2 == pytest.approx(d * math.gamma(1) / (math.sqrt(1) * math.gamma(0.5)))  # exact J
    assert compute_statistic("proportion", _groups(y, arm, arm_name="T")) == 0.5
    assert compute_statistic("sd", _groups([1.0, 2.0, 3.0], ["a"] * 3)) == pytest.approx(1.0)
    r = compute_statistic("correlation", _groups([1.0, 2.0, 3.0, 4.0], ["a"] * 4,
                                                 z=np.array([2.0, 4.0, 6.0, 9.0])))
    assert r == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 6, 9])[0, 1])
    days = [0.0, 3.0, 10.0, math.nan]
    s = compute_statistic("survival_points", _groups(days, ["a"] * 4, keys=("1", "7", "30")))
    assert s == {"1": 0.25, "7": 0.5, "30": 0.75}
    cats = ["secure", "avoidant", "secure", None]
    dist = compute_statistic("distribution", _groups(cats, ["a"] * 4, obj=True,
                                                     keys=("secure", "resistant")))
    assert dist == {"secure": pytest.approx(2 / 3), "resistant": 0.0}
    assert math.isnan(compute_statistic("mean", _groups([math.nan], ["a"])))


def test_prior_draws_are_reproducible_and_within_bounds():
    a, b = prior_draws(16, seed=3), prior_draws(16, seed=3)
    assert a == b and prior_draws(16, seed=4) != a
    for draw in a:
        assert set(draw) == set(PARAMS)
        for k, v in draw.items():
            assert PARAMS[k].lo <= v <= PARAMS[k].hi
    # the median of many draws sits near the declared default (PERT mode, lambda 4)
    many = prior_draws(512, seed=1, names=["craving.bias"])
    values = np.array([d["craving.bias"] for d in many])
    p = PARAMS["craving.bias"]
    assert abs(np.median(values) - p.default) < 0.1 * (p.hi - p.lo)
    tau = next(k for k in PARAMS if k.endswith(".tau") and prior_scale(PARAMS[k]) == "log")
    assert prior_scale(PARAMS["craving.bias"]) == "linear" and tau


def test_prior_draws_are_stratified_and_stable_when_a_parameter_is_added():
    """Each parameter's column is a Latin-hypercube column from its own stream: one draw in
    each 1/n of its prior's probability, and the same draws whatever other parameters are
    drawn with it (so adding a parameter to the model moves no other's draws)."""
    from dyadsim.uncertainty.prior import _unit_column

    names = ["craving.bias", "moud.stop_logit"]
    a = prior_draws(20, seed=7, names=names)
    b = prior_draws(20, seed=7, names=[names[0], "overdose.bias", names[1]])
    for k in names:
        assert [d[k] for d in a] == [d[k] for d in b]
        assert sorted(np.floor(_unit_column(k, 20, 7) * 20).astype(int)) == list(range(20))
    assert not np.array_equal(_unit_column(names[0], 20, 7), _unit_column(names[1], 20, 7))


def test_population_values_move_with_the_draw():
    p = PARAMS["moud.stop_logit"]
    theta = {"moud.stop_logit": p.default + 1.0, "craving.bias": 0.3}
    out = apply_to_population(theta, {"moud.stop_logit": -9.0})
    assert out["moud.stop_logit"] == pytest.approx(-8.0)
    assert out["craving.bias"] == 0.3
    assert apply_to_population({}, {"moud.stop_logit": -9.0}) == {"moud.stop_logit": -9.0}


def _posterior(**over):
    d = {"format": "dyadsim-posterior", "format_version": 1, "dyadsim_version": "0.1.0",
         "method": "test", "budget": {"simulator_calls": 2}, "targets_hash": "abc",
         "parameters": ["craving.bias"], "samples": [[-1.0], [1.0]], "weights": [0.0, 1.0]}
    d.update(over)
    return d


def test_posterior_file_round_trip_and_weighted_draws(tmp_path):
    post = parse_posterior(_posterior())
    assert parse_posterior(post.to_dict()).to_dict() == post.to_dict()
    draws = post.draws(8, seed=2)
    assert all(d["craving.bias"] == 1.0 for d in draws)  # weight 0 never drawn
    assert set(draws[0]) == set(PARAMS)  # the rest from the prior
    assert draws == post.draws(8, seed=2)
    path = tmp_path / "posterior.json"
    path.write_text(json.dumps(post.to_dict()))
    assert load_posterior(path).method == "test"


@pytest.mark.parametrize(("over", "msg"), [
    ({"format": "other"}, "format must be"),
    ({"parameters": ["no.such"], "samples": [[1.0], [2.0]]}, "unknown parameter 'no.such'"),
    ({"samples": [[-100.0], [1.0]]}, "leave its bounds"),
    ({"weights": [1.0]}, "one weight per sample row"),
    ({"weights": [0.0, 0.0]}, "positive sum"),
])
def test_malformed_posteriors_are_one_line_errors(over, msg):
    with pytest.raises(PosteriorError, match=msg):
        parse_posterior(_posterior(**over))
