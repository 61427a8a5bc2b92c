"""The faults issue 23 found, each a one-line error or a warning, never a traceback nor a
silent result: a run too big for the memory, an intervention that starts after the horizon
(simulate and trial), a report section that cannot be built."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.cli import run as cli_run
from dyadsim.cli._common import InputError
from dyadsim.scenario import Scenario
from dyadsim.trials.spec import TrialSpecError, load_spec

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
GB = 10**9


def _one_line_error(res, *words):
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1
    for w in words:
        assert w in res.stderr, res.stderr


def test_a_run_too_big_for_the_memory_is_refused_with_the_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_run, "_available_memory", lambda: 16 * GB)
    out = tmp_path / "big"
    res = runner.invoke(app, ["simulate", "--dyads", "100000000", "--record", "weekly",
                              "--out", str(out)])
    _one_line_error(res, "100,000,000 dyads recorded weekly need about", "TB of memory",
                    "16 GB available", "--record none", "dyads at a time")
    assert not out.exists()
    res = runner.invoke(app, ["simulate", "--dyads", "100000000", "--record", "none",
                              "--out", str(out)])
    _one_line_error(res, "(outcomes only) need about", "dyads at a time")


def test_the_memory_estimate_grows_with_dyads_and_recording(monkeypatch):
    monkeypatch.setattr(cli_run, "_available_memory", lambda: 16 * GB)
    def check(source, **options):
        cli_run._check_memory(Scenario.read(source, **options))

    check({}, dyads=1000, record="daily", horizon="24m")  # the usual runs fit
    check({"dyads": 10**6}, record="none")
    with pytest.raises(InputError, match="1,000,000 dyads recorded daily"):
        check({"dyads": 10**6, "record": "daily"})
    with pytest.raises(InputError, match="weekly"):
        check({}, dyads=200_000, record="weekly", horizon="24m")
    check({}, dyads=200_000, record="monthly", horizon="24m")


def test_simulate_refuses_an_intervention_after_the_horizon(tmp_path):
    sc = tmp_path / "late.toml"
    sc.write_text('population = "pregnant_oud_moud"\nhorizon = "2m"\n'
                  '[[interventions]]\nname = "more"\nstart = "pp200w"\n')
    res = runner.invoke(app, ["simulate", str(sc), "--dyads", "5", "--out",
                              str(tmp_path / "o")])
    _one_line_error(res, "interventions[0] (more)", "postpartum day 1400",
                    "no dyad would receive it")
    assert not (tmp_path / "o").exists()


def _late_arm_toml() -> str:
    text = (ROOT / "examples" / "prenatal_more_trial.toml").read_text()
    assert text.count('start = "pp6w"') == 1  # the MORE_postpartum arm
    return text.replace('start = "pp6w"', 'start = "pp200w"')


def test_a_trial_arm_no_dyad_would_receive_is_an_error(tmp_path):
    with pytest.raises(TrialSpecError, match=r"arms\[1:MORE_postpartum\]\.start: postpartum "
                                             r"day 1400 is after the horizon"):
        load_spec(tomllib.loads(_late_arm_toml()))
    path = tmp_path / "late.toml"
    path.write_text(_late_arm_toml())
    res = runner.invoke(app, ["trial", str(path), "--out", str(tmp_path / "o")])
    _one_line_error(res, "no dyad would receive more")


def test_report_says_which_sections_it_dropped(tmp_path):
    run = tmp_path / "trial"
    run.mkdir()
    (run / "results.json").write_text(json.dumps(
        {"trial": "t", "n": 10, "results": {"arms": {"A": 5, "B": 5}}}))
    res = runner.invoke(app, ["report", str(run)])
    assert res.exit_code == 0, res.output
    warnings = [x for x in res.stderr.splitlines() if x.startswith("warning: ")]
    assert any("data.parquet is missing: the report leaves out the participant flow" in w
               for w in warnings)
    assert any("latent.nc is missing" in w for w in warnings)
    html = (run / "report.html").read_text()
    assert html.count("Not in this report") == 2 and "participant flow" in html
