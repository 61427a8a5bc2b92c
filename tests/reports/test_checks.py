"""Every row of `dyadsim check` is reachable: for each row a parameter setting inside the
declared bounds puts the model value inside the published range (issue 6, Checks)."""

import json
from dataclasses import replace
from functools import cache

import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.model.params import PARAMS, Parameters
from dyadsim.reports.checks import (
    CHECK_BY_ID,
    CHECKS,
    RUNS,
    _daily_use_day,
    bootstrap_datasets,
    evaluate,
    simulate_run,
)
from dyadsim.reports.directions import load as load_directions

# Row -> (parameter setting, horizon override for its runs or None, dyads). Rows inside the
# range at the defaults use the defaults; the others name the parameters that move them.
SMALL_GAP = {"maternal_hormones.trait_sd": 0.5, "aces->parenting_behavior": 0.0,
             "reward_dysregulation->salience_of_infant_cues": 0.0,
             "stress_sensitization->salience_of_infant_cues": 0.0,
             "maternal_depression->parenting_behavior": 0.0,
             "negative_affect->parenting_behavior": 0.0}
REACH: dict[str, tuple[dict, str | None, int]] = {
    "nows_medicaid_mix": ({}, "30d", 1024),
    "nows_methadone": ({}, "30d", 1024),
    "nows_buprenorphine": ({"neonatal_withdrawal.buprenorphine_potency": 0.3}, "30d", 1024),
    "nows_enrolment_gap": ({}, "30d", 2048),
    "use_share_untreated": ({"opioid_use.bias": 0.0}, "30d", 512),
    "mme_untreated": ({}, "30d", 512),
    "moud_12m_throughout": ({}, None, 512),
    "moud_12m_late_start": ({"moud.stop_early_logit": 6.5}, None, 512),
    "relapse_1w": ({}, None, 1024),
    "relapse_1m": ({"opioid_use.bias": -2.3}, None, 1024),
    "relapse_shape": ({}, None, 1024),
    "overdose_py": ({}, None, 1024),
    "death_py": ({}, None, 1024),
    "cps_12m": ({}, None, 1024),
    "foster_after_nows": ({}, None, 1024),
    "secure_low_risk": ({}, None, 1024),
    "avoidant_low_risk": ({}, None, 1024),
    "resistant_low_risk": ({}, None, 1024),
    "disorganized_low_risk": ({}, None, 1024),
    "disorganized_ratio_oud": ({}, None, 1024),
    "sensitivity_gap": (SMALL_GAP, None, 512),
    "sensitivity_security_r": ({}, None, 1024),
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
    assert {"quantity", "value", "low", "high", "source", "inside", "mc_low", "mc_high",
            "used_for"} <= set(data["rows"][0])
    assert "bootstrap" in data["interval"]
    table = (out / "checks.md").read_text()
    assert table.count("\n") == len(CHECKS) + 2 and "published range" in table
    assert "MC 95%" in table and "range used to set" in table
    directions = json.loads((out / "directions.json").read_text())["rows"]
    assert [d["id"] for d in directions] == [d.id for d in load_directions()]
    assert "direction table" in r.output


def test_rows_used_to_set_a_parameter_are_marked_and_name_a_declared_parameter():
    """A row whose range set a parameter is not evidence: it says so, and names a parameter
    (or population setting) that exists; the attachment thresholds fitted to low-risk rows
    are among them."""
    used = {c.id: c.used_for for c in CHECKS if c.used_for}
    assert {"secure_low_risk", "disorganized_low_risk", "sensitivity_security_r"} <= set(used)
    for row, text in used.items():
        name = text.split()[0]
        assert name in PARAMS or name == "prenatal.use_share", (row, name)


def test_monte_carlo_interval_brackets_the_value_and_narrows_with_dyads():
    small = {r: _run(r, "30d", 64, ()) for r in CHECK_BY_ID["nows_methadone"].runs}
    large = {r: _run(r, "30d", 512, ()) for r in CHECK_BY_ID["nows_methadone"].runs}
    a = evaluate(CHECK_BY_ID["nows_methadone"], small, bootstrap_datasets(small, 100))
    b = evaluate(CHECK_BY_ID["nows_methadone"], large, bootstrap_datasets(large, 100))
    assert a["mc_low"] <= a["value"] <= a["mc_high"]
    assert (b["mc_high"] - b["mc_low"]) < 0.6 * (a["mc_high"] - a["mc_low"])


def test_return_to_daily_use_needs_consecutive_days():
    import numpy as np
    import xarray as xr

    use = np.array([[1, 0, 1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0]])
    ds = xr.Dataset({"opioid_use": (("dyad", "time"), use.astype(float))},
                    coords={"time": np.arange(8)})
    assert list(_daily_use_day(ds)) == [4.0, float("inf"), 0.0]


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
