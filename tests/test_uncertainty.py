"""Parameter uncertainty in runs (issue 8 s4): `simulate`, `trial`, `power` and `check` with
`--posterior`. A small synthetic posterior (5 rows over 2 parameters, the rest held at
their defaults) whose MOUD discontinuation logit is far above its default: under it mothers
stop MOUD much sooner, so the share of days on MOUD must fall."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.cli import trials as cli_trials
from dyadsim.model.params import PARAMS
from dyadsim.model.populations import PRESETS
from dyadsim.reports.html import _posterior_text
from dyadsim.trials import output as output_mod
from dyadsim.trials.replicates import run_replicates
from dyadsim.trials.trial import run_trial
from dyadsim.uncertainty import draw_of_dyad, load_source, summarize_draws

from .test_cli_trial import _toml
from .trials.test_design import BASE_TOML

runner = CliRunner()

POSTERIOR = {
    "format": "dyadsim-posterior", "format_version": 1, "dyadsim_version": "0.1.0",
    "method": "synthetic test posterior", "targets_hash": "abc123", "seed": 1,
    "parameters": ["moud.stop_logit", "craving->opioid_use"],
    "samples": [[-2.0, 1.5], [-2.5, 1.4], [-3.0, 1.6], [-2.2, 1.5], [-2.8, 1.5]],
    "weights": [1.0, 2.0, 1.0, 1.0, 1.0],
    "others": "default",
}
SIM = ("simulate", "--population", "adult_methadone", "--horizon", "60d", "--dyads", "40",
       "--record", "none", "--seed", "3")


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("posterior") / "posterior.json"
    path.write_text(json.dumps(POSTERIOR))
    return path


@pytest.fixture(scope="module")
def simulated(posterior_file, tmp_path_factory):
    """Three runs: under the posterior (twice, for determinism) and without it."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name, extra in (("post", ("--posterior", str(posterior_file), "--posterior-draws",
                                  "4")),
                        ("again", ("--posterior", str(posterior_file), "--posterior-draws",
                                   "4")),
                        ("none", ())):
        res = invoke(*SIM, "--out", str(root / name), *extra)
        assert res.exit_code == 0, res.output
        out[name] = root / name
    return out


def test_simulate_records_the_draw_of_each_dyad(simulated):
    df = pd.read_parquet(simulated["post"] / "dyads.parquet")
    assert df["posterior_draw"].tolist() == [i // 10 for i in range(40)]
    assert "posterior_draw" not in pd.read_parquet(simulated["none"] / "dyads.parquet")


def test_simulate_under_the_posterior_moves_the_outcome_the_expected_way(simulated):
    post = pd.read_parquet(simulated["post"] / "dyads.parquet")["moud_share"].mean()
    none = pd.read_parquet(simulated["none"] / "dyads.parquet")["moud_share"].mean()
    assert post < none - 0.2, (post, none)


def test_simulate_under_the_posterior_is_deterministic(simulated):
    a = pd.read_parquet(simulated["post"] / "dyads.parquet")
    b = pd.read_parquet(simulated["again"] / "dyads.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_manifest_records_the_posterior(simulated, posterior_file):
    man = json.loads((simulated["post"] / "manifest.json").read_text())
    p = man["posterior"]
    assert (p["path"], p["targets_hash"], p["method"], p["dyadsim_version"], p["draws"]) == (
        str(posterior_file), "abc123", "synthetic test posterior", "0.1.0", 4)
    assert json.loads((simulated["none"] / "manifest.json").read_text())["posterior"] is None
    text = _posterior_text(p, "none")
    assert "abc123" in text and "synthetic test posterior" in text and "4 draws" in text
    assert _posterior_text(None, "none: defaults") == "none: defaults"


@pytest.mark.parametrize("command", ["simulate", "trial", "power", "check"])
@pytest.mark.parametrize("bad", ["missing", "malformed", "bounds"])
def test_a_bad_posterior_is_one_line_and_writes_nothing(command, bad, tmp_path):
    path = tmp_path / "post.json"
    if bad == "malformed":
        path.write_text("{not json")
    elif bad == "bounds":
        path.write_text(json.dumps({**POSTERIOR, "samples": [[5.0, 1.5]] * 5}))
    spec = tmp_path / "spec.toml"
    spec.write_text(BASE_TOML)
    out = tmp_path / "out"
    args = {"simulate": SIM, "trial": ("trial", str(spec)), "power": ("power", str(spec)),
            "check": ("check",)}[command]
    res = invoke(*args, "--out", str(out), "--posterior", str(path))
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: posterior"), res.stderr
    assert not out.exists()


def test_load_source_and_draw_assignment(posterior_file):
    prior = load_source("prior")
    assert prior.posterior is None and prior.provenance()["source"] == "prior"
    assert prior.draws(3, 1) == prior.draws(3, 1)
    post = load_source(str(posterior_file))
    draws = post.draws(6, 2)
    assert set(draws[0]) == {"moud.stop_logit", "craving->opioid_use"}
    assert all(d["moud.stop_logit"] >= -3.0 for d in draws)
    assert draw_of_dyad(7, 3).tolist() == [0, 0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="at most one draw per dyad"):
        draw_of_dyad(3, 4)
    s = summarize_draws([1.0, 2.0, 3.0, float("nan"), None])
    assert s["median"] == 2.0 and s["n_draws"] == 3 and s["q05"] < 1.2 and s["q95"] > 2.8


@pytest.fixture
def spec_dict():
    d = tomllib.loads(BASE_TOML)
    d["trial"]["n"] = 24
    return d


def test_trial_replicate_runs_under_its_draw(spec_dict, posterior_file):
    draws = load_source(str(posterior_file)).draws(2, 7)
    rep = run_replicates(spec_dict, 2, workers=1, parameter_draws=draws)
    one = run_trial(spec_dict, replicate=1, theta=draws[1])
    name = spec_dict["analysis"][0]["name"]
    assert rep["analyses"][name]["replicates"][1]["estimate"] == pytest.approx(
        one.results[name]["estimate"])
    assert "assurance" in rep["parameter_draws"]
    plain = run_trial(spec_dict, replicate=1)
    assert float(one.latent["moud_share"].mean()) < float(plain.latent["moud_share"].mean()) \
        - 0.2
    # the preset's own value is shifted by the draw's departure from the default
    own = PRESETS["adult_methadone"].params["moud.stop_logit"]
    shifted = own + draws[1]["moud.stop_logit"] - PARAMS["moud.stop_logit"].default
    assert one.parameters["MORE"]["moud.stop_logit"] == pytest.approx(min(shifted, 0.0))
    with pytest.raises(ValueError, match="need as many parameter draws"):
        run_replicates(spec_dict, 3, workers=1, parameter_draws=draws)


def test_trial_and_power_cli_record_the_posterior(spec_dict, posterior_file, tmp_path,
                                                  monkeypatch):
    monkeypatch.setattr(output_mod, "_git_commit", lambda: None)
    monkeypatch.setattr(cli_trials, "_git_commit", lambda: None)
    spec = tmp_path / "spec.toml"
    spec.write_text(_toml(spec_dict))
    res = invoke("trial", str(spec), "--out", str(tmp_path / "t"), "--replicates", "2",
                 "--workers", "1", "--posterior", str(posterior_file))
    assert res.exit_code == 0, res.output
    assert "assurance" in res.stdout
    man = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert man["posterior"]["targets_hash"] == "abc123" and man["posterior"]["draws"] == 2
    res = invoke("power", str(spec), "--n", "24", "--replicates", "2", "--workers", "1",
                 "--out", str(tmp_path / "p"), "--posterior", str(posterior_file))
    assert res.exit_code == 0, res.output
    curve = json.loads((tmp_path / "p" / "power.json").read_text())
    assert curve["assurance"] is True and curve["posterior"]["method"] == \
        "synthetic test posterior"
    assert "assurance" in res.stdout


def test_check_rows_get_the_interval_over_draws(posterior_file, tmp_path):
    out = tmp_path / "c"
    res = invoke("check", "--out", str(out), "--dyads", "20", "--posterior",
                 str(posterior_file), "--posterior-draws", "2", "--posterior-dyads", "10")
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "checks.json").read_text())["rows"]
    moud = next(r for r in rows if r["id"] == "moud_12m_throughout")
    post = moud["posterior"]
    assert post["n_draws"] == 2 and post["q05"] <= post["median"] <= post["q95"]
    # the synthetic posterior stops MOUD within weeks: almost nobody is on it at 12 months
    assert post["median"] < moud["value"] and post["median"] < 0.2
    meta = json.loads((out / "checks.json").read_text())["posterior"]
    assert meta["dyads_per_draw"] == 10 and meta["targets_hash"] == "abc123"
    # the direction table: each row at the defaults and over the same 2 draws
    dirs = json.loads((out / "directions.json").read_text())["rows"]
    for r in dirs:
        assert len(r["by_draw"]) == 1 and len(r["draws"]) == 2
        assert r["draw_share"] == pytest.approx(np.mean([d["holds"] for d in r["draws"]]))
    # the draws are simulated at their own parameters, not copies of the defaults' run
    assert sum(r["draws"][0] != r["by_draw"][0] for r in dirs) >= len(dirs) // 2
    assert "holds over draws" in (out / "directions.md").read_text().splitlines()[0]


def test_replicates_under_draws_resume_to_the_same_result(spec_dict, posterior_file,
                                                          tmp_path):
    """A replicate recomputed alone (a resumed run batches differently) gives the same."""
    draws = load_source(str(posterior_file)).draws(3, 7)
    ck = tmp_path / "ck"
    first = run_replicates(spec_dict, 3, workers=1, parameter_draws=draws, checkpoint=ck)
    (ck / "rep-000001.json").unlink()
    again = run_replicates(spec_dict, 3, workers=1, parameter_draws=draws, checkpoint=ck)
    assert again == first
    with pytest.raises(ValueError, match="another trial spec"):
        run_replicates(spec_dict, 3, workers=1, parameter_draws=draws[::-1], checkpoint=ck)
