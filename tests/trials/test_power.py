"""Power by simulation: the curve rises with N for a real effect, the N for a target power
is interpolated, and the plot is a PNG."""

from __future__ import annotations

import json

import pytest

from dyadsim.trials.design import TrialSpecError
from dyadsim.trials.power import n_for_power, plot_power, power_curve

from .test_design import base_spec


def _curve(points, target=0.8):
    return {"points": [{"n": n, "power": p, "ci_lower": max(p - 0.1, 0),
                        "ci_upper": min(p + 0.1, 1)} for n, p in points], "target": target}


def test_n_for_power_interpolates():
    c = _curve([(40, 0.3), (80, 0.6), (160, 0.9), (320, 1.0)])
    assert n_for_power(c, 0.8) == 134  # 80 + (0.8 - 0.6) / (0.9 - 0.6) * 80 = 133.3
    assert n_for_power(c, 0.6) == 80
    assert n_for_power(c, 0.45) == 60
    assert n_for_power(_curve([(40, 0.85), (80, 0.95)]), 0.8) == 40  # already there
    assert n_for_power(_curve([(40, 0.2), (80, 0.5)]), 0.8) is None  # never reached
    # order of points does not matter
    assert n_for_power(_curve([(160, 0.9), (40, 0.3), (80, 0.6)]), 0.8) == 134


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
    for lo, hi in zip(powers, powers[1:], strict=False):
        assert hi >= lo - 0.25  # monotone within Monte Carlo noise
    for p in pts:
        assert p["ci_lower"] <= p["power"] <= p["ci_upper"]
        assert p["n_valid"] + p["n_failed"] == 12
    assert pts[-1]["mean_estimate"] > 1.0
    assert curve["analysis"] == "ffmq_post" and curve["method"] == "cohens_d"
    assert curve["n_for_power"] == n_for_power(curve, 0.8)
    json.dumps(curve, allow_nan=False)


def test_plot_power_writes_png(curve, tmp_path):
    path = plot_power(curve, tmp_path / "power.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_power_curve_errors():
    with pytest.raises(TrialSpecError, match="unknown analysis 'nope'"):
        power_curve(base_spec(), ns=[10], replicates=2, analysis="nope", workers=1)
    with pytest.raises(TrialSpecError, match="ns"):
        power_curve(base_spec(), ns=[1], replicates=2, analysis="ffmq_post", workers=1)
