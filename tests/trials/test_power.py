"""Power by simulation: failures and wrong-direction results are non-rejections, the N for
a target power comes from a probit ~ sqrt(N) fit with a CI (or "<= N" when the smallest N
already has the power), and the plot is a PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from dyadsim.trials.design import TrialSpecError
from dyadsim.trials.power import n_for_power, plot_power, power_curve

from .test_design import base_spec


def _points(ns, b0, b1, reps, seed=0):
    """Rejection counts drawn from a known probit curve power = Phi(b0 + b1 sqrt(N))."""
    rng = np.random.default_rng(seed)
    return [{"n": n, "replicates": reps,
             "rejections": int(rng.binomial(reps, stats.norm.cdf(b0 + b1 * np.sqrt(n))))}
            for n in ns]


def test_n_for_power_recovers_known_curve_within_its_ci():
    # truth: Phi(-1.5 + 0.2 sqrt(N)) = 0.8 at sqrt(N) = (0.8416 + 1.5) / 0.2, N = 137.1
    true_n = ((stats.norm.ppf(0.8) + 1.5) / 0.2) ** 2
    hits = 0
    for seed in range(20):
        res = n_for_power(_points([25, 64, 100, 196, 289], -1.5, 0.2, 200, seed))
        assert res["relation"] == "="
        assert res["ci_lower"] <= res["n"] <= res["ci_upper"]
        hits += res["ci_lower"] <= true_n <= res["ci_upper"]
    # a 95% CI: P(at most 16 of 20 cover) = 0.016 under nominal coverage
    assert hits >= 17, hits
    res = n_for_power(_points([25, 64, 100, 196, 289], -1.5, 0.2, 200, 0))
    assert res["text"].startswith(f"{res['n']} (95% CI {res['ci_lower']}-")
    assert abs(res["n"] - true_n) < 25


def test_n_for_power_smallest_n_already_powered_is_an_upper_bound():
    res = n_for_power([{"n": 40, "replicates": 50, "rejections": 41},
                       {"n": 80, "replicates": 50, "rejections": 50}])
    assert res["relation"] == "<=" and res["n"] == 40 and res["text"] == "<= 40"
    # observed 0.8 at N=40 is within noise of the target; the fit over all replicates puts
    # the solution below 40, so only the upper bound is known
    res = n_for_power([{"n": 40, "replicates": 20, "rejections": 16},
                       {"n": 60, "replicates": 20, "rejections": 20},
                       {"n": 80, "replicates": 20, "rejections": 20}])
    assert res["relation"] == "<=" and res["text"] == "<= 40"


def test_n_for_power_never_reached_and_separation():
    none = n_for_power([{"n": 10, "replicates": 20, "rejections": 0},
                        {"n": 20, "replicates": 20, "rejections": 0}])
    assert none["relation"] == ">" and none["n"] == 20
    sep = n_for_power([{"n": 10, "replicates": 20, "rejections": 0},
                       {"n": 20, "replicates": 20, "rejections": 20}])
    assert sep["relation"] == "between" and (sep["ci_lower"], sep["ci_upper"]) == (10, 20)
    flat = n_for_power([{"n": 10, "replicates": 100, "rejections": 40},
                        {"n": 20, "replicates": 100, "rejections": 30}])
    assert flat["relation"] == ">"
    with pytest.raises(ValueError, match="rejections"):
        n_for_power([{"n": 10, "replicates": 5, "rejections": 6}])


@pytest.fixture(scope="module")
def curve():
    # FFMQ after MORE vs TAU: a real, large effect; tiny trials lack power, larger ones not
    return power_curve(base_spec(), ns=[4, 8, 40], replicates=12, analysis="ffmq_post",
                       workers=1)


def test_power_increases_with_n(curve):
    pts = curve["points"]
    assert [p["n"] for p in pts] == [4, 8, 40]
    powers = [p["power"] for p in pts]
    assert powers[-1] >= 0.9
    assert powers[0] < powers[-1]
    for p in pts:
        assert p["ci_lower"] <= p["power"] <= p["ci_upper"]
        assert p["replicates"] == 12
        # every replicate is in the denominator, failures included
        assert p["power"] == pytest.approx(p["rejections"] / 12)
    assert pts[-1]["mean_estimate"] > 1.0
    assert curve["analysis"] == "ffmq_post" and curve["method"] == "cohens_d"
    assert curve["direction"] == "increase"
    assert curve["n_for_power"] == n_for_power(pts, 0.8)
    json.dumps(curve, allow_nan=False)


def test_failed_and_wrong_direction_replicates_are_non_rejections(curve):
    # at N = 4 (2 per arm) Cohen's d often cannot be computed: those replicates count
    tiny = curve["points"][0]
    assert tiny["n_failed"] > 0
    assert tiny["power"] <= (12 - tiny["n_failed"]) / 12
    # the same design with the opposite pre-specified direction has no power at all: every
    # significant result is "wrong-direction"
    spec = base_spec()
    spec["analysis"][0]["direction"] = "decrease"
    harm = power_curve(spec, ns=[40], replicates=12, analysis="ffmq_post", workers=1)
    pt = harm["points"][0]
    assert pt["power"] == 0.0 and pt["n_wrong_direction"] == curve["points"][-1]["rejections"]


def test_plot_power_writes_png(curve, tmp_path):
    path = plot_power(curve, tmp_path / "power.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_power_curve_errors():
    with pytest.raises(TrialSpecError, match="unknown analysis 'nope'"):
        power_curve(base_spec(), ns=[10], replicates=2, analysis="nope", workers=1)
    with pytest.raises(TrialSpecError, match="ns"):
        power_curve(base_spec(), ns=[1], replicates=2, analysis="ffmq_post", workers=1)
    with pytest.raises(TrialSpecError, match=r"analysis\[1:ffmq_lmm\].direction: required"):
        power_curve(base_spec(), ns=[10], replicates=2, analysis="ffmq_lmm", workers=1)
