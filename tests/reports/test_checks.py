"""Every row of `dyadsim check` is reachable: for each row a parameter setting inside the
declared bounds puts the model value inside the published range (issue 6, Checks)."""

import json
from dataclasses import replace
from functools import cache

import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.model.params import PARAMS, Parameters
from dyadsim.reports.checks import CHECK_BY_ID, CHECKS, RUNS, evaluate, simulate_run

# Row -> (parameter setting, horizon override for its runs or None, dyads). Rows inside the
# range at the defaults use the defaults; the others name the parameters that move them.
SENSITIVITY_SPREAD = {"maternal_hormones.trait_sd": 0.5, "aces->parenting_behavior": 2.5}
SMALL_GAP = {"maternal_hormones.trait_sd": 0.5, "aces->parenting_behavior": 0.0,
             "reward_dysregulation->salience_of_infant_cues": 0.0,
             "stress_sensitization->salience_of_infant_cues": 0.0,
             "maternal_depression->parenting_behavior": 0.0,
             "negative_affect->parenting_behavior": 0.0}
REACH: dict[str, tuple[dict, str | None, int]] = {
    "nows_untreated": ({}, "30d", 1024),
    "nows_methadone": ({}, "30d", 1024),
    "nows_buprenorphine": ({}, "30d", 1024),
    "nows_enrolment_gap": ({}, "30d", 2048),
    "use_share_untreated": ({"opioid_use.bias": 0.0}, "30d", 512),
    "mme_untreated": ({}, "30d", 512),
    "moud_12m_throughout": ({"moud.stop_logit": -9.5}, None, 512),
    "moud_12m_late_start": ({}, None, 512),
    "relapse_1w": ({}, None, 1024),
    "relapse_1m": ({}, None, 1024),
    "relapse_shape": ({}, None, 1024),
    "overdose_py": ({}, None, 1024),
    "death_py": ({"overdose->maternal_death": 0.3}, None, 1024),
    "cps_12m": ({}, None, 1024),
    "foster_after_nows": ({}, None, 1024),
    "secure_low_risk": ({}, None, 1024),
    "avoidant_low_risk": ({}, None, 1024),
    "resistant_low_risk": ({}, None, 1024),
    "disorganized_low_risk": ({}, None, 1024),
    "disorganized_ratio_oud": ({}, None, 1024),
    "sensitivity_gap": (SMALL_GAP, None, 512),
    "sensitivity_security_r": (SENSITIVITY_SPREAD, None, 512),
}


def test_every_row_has_a_reaching_setting_inside_the_bounds():
    assert set(REACH) == {c.id for c in CHECKS}
    for params, _, _ in REACH.values():
        Parameters(params)  # raises outside the declared bounds
        assert all(PARAMS[k].lo <= v <= PARAMS[k].hi for k, v in params.items())


@cache
def _run(name: str, horizon: str | None, dyads: int, params: tuple):
    run = RUNS[name] if horizon is None else replace(RUNS[name], horizon=horizon)
    return simulate_run(run, dyads, 1, dict(params))


@pytest.mark.parametrize("row", sorted(REACH))
def test_row_is_reachable(row):
    params, horizon, dyads = REACH[row]
    check = CHECK_BY_ID[row]
    datasets = {r: _run(r, horizon, dyads, tuple(sorted(params.items()))) for r in check.runs}
    result = evaluate(check, datasets)
    assert result["inside"], (row, result["value"], check.lo, check.hi)


def test_check_command_writes_the_table(tmp_path):
    out = tmp_path / "checks"
    r = CliRunner().invoke(app, ["check", "--out", str(out), "--dyads", "16", "--quiet"])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "checks.json").read_text())
    assert [row["id"] for row in data["rows"]] == [c.id for c in CHECKS]
    assert {"quantity", "value", "low", "high", "source", "inside"} <= set(data["rows"][0])
    table = (out / "checks.md").read_text()
    assert table.count("\n") == len(CHECKS) + 2 and "published range" in table


@pytest.mark.parametrize("args, needle", [
    (["--dyads", "3"], "dyads"),
    (["--set", "nope=1"], "unknown parameter"),
    (["--set", "overdose.bias=99"], "outside its bounds"),
])
def test_check_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    out = tmp_path / "c"
    r = CliRunner().invoke(app, ["check", "--out", str(out), "--quiet", *args])
    assert r.exit_code == 2
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
    assert not out.exists()
