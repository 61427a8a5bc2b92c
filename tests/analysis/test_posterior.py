"""The analyses under parameter draws: the interval over draws, the posterior's marginals and
point values, and runs that take the draws' parameters (not the defaults)."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from dyadsim.analysis.knockout import plan_knockouts, run_knockouts
from dyadsim.analysis.mechanisms import MORE_PATHS, TrialWorlds, decompose
from dyadsim.analysis.posterior import draw_interval, marginal_ppf, point_values
from dyadsim.cli import app
from dyadsim.engine.batch import Setting
from dyadsim.model.params import PARAMS
from dyadsim.uncertainty import ParameterSource
from dyadsim.uncertainty.prior import parse_posterior

POSTERIOR = {"format": "dyadsim-posterior", "format_version": 1, "dyadsim_version": "0.1.0",
             "method": "test", "targets_hash": "abc", "others": "prior",
             "parameters": ["craving.tau", "skill.session_gain"],
             "samples": [[1.0, 0.1], [2.0, 0.2], [3.0, 0.3], [4.0, 0.4]],
             "weights": [0.0, 1.0, 1.0, 2.0]}


def _source(**over):
    return ParameterSource("test", parse_posterior({**POSTERIOR, **over}))


def test_draw_interval_is_the_cluster_robust_t_interval_over_draws():
    diff = np.array([1.0, 1.0, 3.0, 3.0])
    mean, lo, hi, per_draw = draw_interval(diff, np.array([0, 0, 1, 1]))
    # per-draw means 1 and 3; CR1 SE = sqrt(2/1 * ((2*-1)^2 + (2*1)^2)) / 4 = 1
    half = stats.t.ppf(0.975, 1) * 1.0
    assert (mean, per_draw) == (2.0, [1.0, 3.0])
    assert (lo, hi) == pytest.approx((2.0 - half, 2.0 + half))


def test_marginals_are_the_weighted_inverse_cdf_and_points_their_weighted_medians():
    src = _source()
    u = np.array([0.0, 0.25, 0.3, 0.5, 0.9, 1.0])
    # weight-0 sample 1.0 never appears; cdf over 2, 3, 4 is 0.25, 0.5, 1
    assert marginal_ppf(src, "craving.tau", u).tolist() == [2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    assert point_values(src) == {"craving.tau": 3.0, "skill.session_gain": 0.3}
    p = PARAMS["craving->opioid_use"]  # not calibrated: its prior
    q = marginal_ppf(src, "craving->opioid_use", np.array([0.05, 0.5, 0.95]))
    assert p.lo <= q[0] < q[1] < q[2] <= p.hi
    with pytest.raises(ValueError, match="holds craving->opioid_use at its default"):
        marginal_ppf(_source(others="default"), "craving->opioid_use", u)


def test_worlds_run_each_draw_s_parameters_and_the_parts_still_add_up(short_prenatal_spec):
    thetas = [{"skill.session_gain": 0.0}, {"skill.session_gain": 0.5}]
    worlds = TrialWorlds(short_prenatal_spec, "MORE_prenatal", "TAU", "parenting_mean",
                         dyads=120, seed=3, thetas=thetas)
    dec = decompose(worlds, MORE_PATHS, groups=worlds.groups)
    total = dec.estimates[0]
    assert worlds.groups.tolist() == [0] * 60 + [1] * 60
    assert abs(dec.sum_of_parts - total.mean) <= 1e-5 + 1e-4 * abs(total.mean)
    # MORE moves parenting more where a session trains the skills more (draw 1)
    assert total.per_draw[1] > 2 * total.per_draw[0] > 0


def test_knockouts_under_draws_run_the_draws_parameters():
    setting = Setting.from_population("adult_methadone", horizon="60d")
    kos = plan_knockouts(["craving->opioid_use"])
    plain = run_knockouts(setting, kos, ["use_share"], dyads=40, seed=1)
    high = [{"opioid_use.bias": 5.0}] * 2  # use on most days whatever the craving
    drawn = run_knockouts(setting, kos, ["use_share"], dyads=40, seed=1, thetas=high)
    assert drawn["intact"].item() > plain["intact"].item() + 0.3
    assert {"draws_q05", "draws_q95"} <= set(drawn.columns)


def test_sensitivity_samples_the_posterior_marginals(tmp_path):
    post = tmp_path / "post.json"
    post.write_text(json.dumps(POSTERIOR))
    out = tmp_path / "sa"
    r = CliRunner().invoke(app, [
        "sensitivity", "--params", "craving.tau,craving->opioid_use", "--outcomes",
        "use_share", "--n", "4", "--block", "8", "--dyads", "8", "--population",
        "adult_methadone", "--horizon", "60d", "--seed", "3", "--workers", "1", "-q",
        "--posterior", str(post), "--out", str(out)])
    assert r.exit_code == 0, r.output
    x = pd.read_csv(out / "samples.csv")
    assert set(x["craving.tau"]) <= {2.0, 3.0, 4.0}
    p = PARAMS["craving->opioid_use"]
    assert x["craving->opioid_use"].between(p.lo, p.hi).all()
    m = json.loads((out / "manifest.json").read_text())["options"]["posterior"]
    assert m["point_values"] == {"craving.tau": 3.0, "skill.session_gain": 0.3}
    assert np.isfinite(pd.read_csv(out / "indices.csv")["ST"]).all()
