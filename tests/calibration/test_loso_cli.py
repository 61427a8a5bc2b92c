"""`dyadsim validate --loso` end to end on the real model, kept small: a calibration of two
cohort studies (150 pregnant women on MOUD enrolled at gestational week 36 and at week 30,
one month each), then each study predicted by the posterior refitted without it. Shown:
the history match is rebuilt from the calibration's stored runs with no new simulation,
each target is scored out of sample with its held-out fit's convergence, the calibration's
folder is left as it was, and bad input is one line, exit 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dyadsim.cli import app

runner = CliRunner()

TWO_STUDIES = """
[[target]]
id = "nows_share"
source = "Krans et al. 2021 at N=150 (test)"
statistic = "proportion"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 150
horizon = "1m"
[target.measure]
outcome = "nows"
[target.observed]
value = 0.579

[[target]]
id = "moud_share_gw30"
source = "invented for this test: share of days on MOUD"
statistic = "mean"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw30"
n = 150
horizon = "1m"
[target.measure]
outcome = "moud_share"
[target.observed]
value = 0.6
se = 0.03
"""

PARAMS = "moud.stop_logit,opioid_use->neonatal_withdrawal,moud->neonatal_withdrawal"
DRAWS = 12


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("loso")
    targets = root / "two.toml"
    targets.write_text(TWO_STUDIES)
    cal = root / "cal"
    res = runner.invoke(app, [
        "calibrate", "--targets", str(targets), "--out", str(cal), "--budget", "16",
        "--params", PARAMS, "--seed", "5", "--workers", "1", "--quiet",
        "--replicates", "2x2", "--mcmc-draws", "300", "--posterior-draws", "12"])
    assert res.exit_code == 0, res.output
    return targets, cal


@pytest.fixture(scope="module")
def loso(calibrated) -> tuple[Path, dict, dict[str, str]]:
    _, cal = calibrated
    before = _digest(cal)
    out = cal.parent / "loso-out"
    res = runner.invoke(app, ["validate", "--loso", str(cal), "--out", str(out),
                              "--draws", str(DRAWS), "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.output.count("calibrated without it") == 2  # one line per held-out study
    return out, json.loads((out / "validation.json").read_text()), before


def test_each_study_is_predicted_by_a_fit_without_it(loso, calibrated):
    out, result, before = loso
    _, cal = calibrated
    assert result["sample"].startswith("out-of-sample: leave-one-study-out")
    assert result["rebuilt_history_match_simulations"] == 0  # from the stored runs
    assert result["n_studies"] == 2 and len(result["held_out"]) == 2
    assert {e["id"] for e in result["targets"]} == {"nows_share", "moud_share_gw30"}
    studies = {e["held_out_study"] for e in result["targets"]}
    assert studies == set(result["held_out"])
    for h in result["held_out"].values():
        assert h["calibrated_without_it"] >= 1 and h["max_rhat"] is not None
    for e in result["targets"]:
        assert isinstance(e["passed"], bool) and e["crps_posterior"] is not None
        lo, hi = e["interval_90"]
        assert lo <= e["simulated_median"] <= hi
    assert result["draws"] == DRAWS and result["n_scored"] == 2
    assert result["expected_pass_rate_if_calibrated"] == pytest.approx(0.9 * 11 / 13,
                                                                       abs=1e-6)
    ins = result["in_sample"]  # the calibration's own 12 posterior runs, named so
    assert ins["sample"].startswith("in-sample") and ins["draws"] == 12
    assert {e["id"] for e in ins["targets"]} == {"nows_share", "moud_share_gw30"}
    post = json.loads((cal / "posterior.json").read_text())
    pred = post["diagnostics"]["posterior_predictive"]["outputs"]["nows_share"]
    inside = next(e for e in ins["targets"] if e["id"] == "nows_share")
    assert inside["simulated_median"] == pytest.approx(float(np.median(pred)), abs=1e-6)
    assert (out / "validation.png").stat().st_size > 0
    assert _digest(cal) == before  # the calibration's folder is read, never written
    assert not out.with_name(f"{out.name}.store").exists()


@pytest.mark.parametrize("case, message", [
    ("missing", "calibration.json: not found"),
    ("moved", "is gone; give its new place with --targets"),
    ("other", "are not the targets"),
])
def test_bad_loso_input_is_one_line_exit_2(calibrated, tmp_path, case, message):
    targets, cal = calibrated
    args = ["validate", "--out", str(tmp_path / "o"), "--quiet", "--loso"]
    if case == "missing":
        args.append(str(tmp_path))
    elif case == "moved":
        moved = tmp_path / "cal"
        moved.mkdir()
        for name in ("calibration.json", "replications.jsonl"):
            text = (cal / name).read_text()
            if name == "calibration.json":
                d = json.loads(text)
                d["targets_file"] = str(tmp_path / "nowhere.toml")
                text = json.dumps(d)
            (moved / name).write_text(text)
        args.append(str(moved))
    else:
        other = tmp_path / "other.toml"
        other.write_text(targets.read_text().replace("value = 0.579", "value = 0.5"))
        args += [str(cal), "--targets", str(other)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
