"""The reachability table (issue 18 item 2; `dyadsim check --reach`): known answers for the
row logic, and the command end to end on one small cohort (150 pregnant women at gw36,
one month), defaults + 2 prior draws."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from dyadsim.calibration import load_targets
from dyadsim.calibration.fit import observations_of
from dyadsim.calibration.reach import REACH_RUN_IDS, _observed_range, _row
from dyadsim.calibration.replicate import replicate_study, replication_seed, studies_of
from dyadsim.cli import app
from dyadsim.model.params import PARAMS

runner = CliRunner()

TARGETS = """
[[target]]
id = "nows_share"
source = "test: an interval"
statistic = "proportion"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 150
horizon = "1m"
[target.measure]
outcome = "nows"
[target.observed]
interval = [0.05, 0.95]

[[target]]
id = "moud_share_impossible"
source = "test: a share of days on MOUD no model run can give"
statistic = "mean"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 150
horizon = "1m"
[target.measure]
outcome = "moud_share"
[target.observed]
value = 3.0
se = 0.1
"""


@pytest.fixture(scope="module")
def targets_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("reach") / "t.toml"
    p.write_text(TARGETS)
    return p


def _output(targets_file, target_id):
    ts = load_targets(targets_file)
    return ts, next(o for o in observations_of(ts) if o.target == target_id)


def test_observed_range_is_the_interval_or_two_standard_errors(targets_file):
    ts, o = _output(targets_file, "nows_share")
    assert _observed_range(ts, o) == (0.05, 0.95)
    ts, o = _output(targets_file, "moud_share_impossible")
    lo, hi = _observed_range(ts, o)
    assert math.isclose(lo, 2.8) and math.isclose(hi, 3.2)


@pytest.mark.parametrize(("y", "reachable", "why"), [
    ([0.5, 0.1, 0.9], True, "inside"),
    ([0.01, 0.02, 0.04], False, "below the observed range (by 0.01)"),
    ([0.97, 0.99, 0.96], False, "above the observed range (by 0.01)"),
    ([math.nan, math.nan, math.nan], False, "undefined"),
    ([math.nan, 0.03, 0.5], True, "inside"),  # the defaults undefined, a draw reaches
])
def test_row_decides_reachability_on_the_simulated_range(targets_file, y, reachable, why):
    ts, o = _output(targets_file, "nows_share")
    r = _row(o, "proportion", _observed_range(ts, o), np.array(y), graph_inputs=5)
    assert r.reachable is reachable
    assert why in r.why
    assert r.defined == int(np.isfinite(y).sum()) and r.draws == 3


def test_row_names_a_target_no_parameter_can_reach(targets_file):
    ts, o = _output(targets_file, "nows_share")
    r = _row(o, "proportion", _observed_range(ts, o), np.array([0.01, 0.02]), graph_inputs=0)
    assert "no parameter reaches its nodes in the graph" in r.why


def test_check_reach_end_to_end(targets_file, tmp_path):
    out = tmp_path / "reach"
    res = runner.invoke(app, ["check", "--reach", "--out", str(out), "--targets",
                              str(targets_file), "--reach-draws", "2", "--seed", "4",
                              "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    got = json.loads((out / "reach.json").read_text())
    rows = {r["output"]: r for r in got["rows"]}
    assert set(rows) == {"nows_share", "moud_share_impossible"}
    assert rows["moud_share_impossible"]["reachable"] is False
    assert "below" in rows["moud_share_impossible"]["why"]
    assert rows["nows_share"]["reachable"] is True
    # the "at defaults" column is the study replicated at the declared defaults, run 0
    ts = load_targets(targets_file)
    (study,) = studies_of(ts)
    direct = replicate_study(study, {k: p.default for k, p in PARAMS.items()},
                             replication_seed(4, REACH_RUN_IDS))
    assert rows["nows_share"]["at_defaults"] == pytest.approx(direct["nows_share"], abs=1e-12)
    assert rows["nows_share"]["draws"] == 3
    md = (out / "reach.md").read_text()
    assert "1 of 2 observed values" in md and "| moud_share_impossible |" in md
    assert not (tmp_path / "reach.store").exists()


def test_check_reach_rejects_options_of_the_check_table(tmp_path):
    res = runner.invoke(app, ["check", "--reach", "--out", str(tmp_path / "r"), "--posterior",
                              "shipped"])
    assert res.exit_code == 2
    assert "--posterior does not apply to --reach" in res.output
    assert not (tmp_path / "r").exists()


def test_check_reach_rejects_a_seed_out_of_range(tmp_path):
    res = runner.invoke(app, ["check", "--reach", "--out", str(tmp_path / "r"), "--seed",
                              str(2**31)])
    assert res.exit_code == 2
    assert "--seed must be in [0, 2^31)" in res.output
    assert not (tmp_path / "r").exists()
