"""`dyadsim calibrate` end to end on the real model, kept small: one cohort (150 pregnant
women with OUD enrolled at gestational week 36, followed one month) serving two targets,
three calibrated parameters, 16 simulator runs in two waves. Shown: the posterior file it
writes loads and validates; a run killed with SIGKILL and started again ends with the same
posterior as an uninterrupted run; a Dask LocalCluster gives the same posterior as local
processes; bad input is one line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dyadsim.calibration import load_posterior, load_targets
from dyadsim.calibration.fit import MCMCSettings, calibrate, settings_for_budget
from dyadsim.calibration.replicate import ReplicationStore
from dyadsim.cli import app

runner = CliRunner()

SMALL_TARGETS = """
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
id = "moud_share"
source = "invented for this test: share of days on MOUD"
statistic = "mean"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 150
horizon = "1m"
[target.measure]
outcome = "moud_share"
[target.observed]
value = 0.6
se = 0.03
"""

PARAMS = "moud.stop_logit,opioid_use->neonatal_withdrawal,moud->neonatal_withdrawal"
NAMES = PARAMS.split(",")


@pytest.fixture(scope="module")
def targets_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("cal") / "small.toml"
    p.write_text(SMALL_TARGETS)
    return p


def _args(targets: Path, out: Path) -> list[str]:
    return ["calibrate", "--targets", str(targets), "--out", str(out), "--budget", "16",
            "--params", PARAMS, "--seed", "3", "--workers", "1", "--quiet",
            "--replicates", "2x2", "--mcmc-draws", "300", "--posterior-draws", "12"]


# 16 design runs, 2 x 2 replicate runs, 12 runs at posterior draws
RUNS = 16 + 4 + 12
MCMC = MCMCSettings(warmup=300, draws=300, posterior_draws=12)


def _fitted(out: Path) -> dict:
    d = json.loads((out / "posterior.json").read_text())
    return {k: d[k] for k in ("parameters", "samples", "weights", "others", "targets_hash")}


@pytest.fixture(scope="module")
def uninterrupted(targets_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cal") / "run"
    res = runner.invoke(app, _args(targets_file, out))
    assert res.exit_code == 0, res.output
    return out


def test_calibrate_writes_a_posterior_that_loads(uninterrupted, targets_file):
    post = load_posterior(uninterrupted / "posterior.json")
    assert set(post.parameters) <= set(NAMES) and post.parameters
    assert post.others == "default"  # the other parameters were held at their defaults
    assert post.targets_hash == load_targets(targets_file).hash
    assert len(post.weights) == 12 and np.all(post.weights == 1.0)  # simulated draws
    summary = json.loads((uninterrupted / "calibration.json").read_text())
    assert summary["simulator_runs"] == 20 and summary["studies"] == 1
    assert summary["replicate_runs"] == 4 and summary["posterior_runs"] == 12
    assert [w["runs"] for w in summary["waves"]] == [12, 8]
    # diagnostics in the open: MCMC convergence, emulators, active sets, what is held
    diag = post.diagnostics
    assert summary["effective_sample_size"] == diag["min_ess_bulk"] >= 100
    assert diag["max_rhat"] <= 1.05 and set(diag["mcmc"]["rhat"]) == set(post.parameters)
    assert {e["output"] for e in diag["emulators"]} == {"nows_share", "moud_share"}
    assert all(e["run_to_run_from"] == "replicates" for e in diag["emulators"])
    assert set(diag["active_sets"]) == {"nows_share", "moud_share"}
    assert all(a["reason"] for a in diag["active_sets"].values())
    assert len(diag["posterior_predictive"]["outputs"]["nows_share"]) == 12
    assert diag["held_at_default"]["count"] == len(summary["held_at_default"]) > 300
    lines = (uninterrupted / "replications.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    assert len(lines) == RUNS and set(rec["theta"]) == set(NAMES) and rec["code"]
    # NROY shrank the space the second wave sampled
    assert summary["waves"][1]["nroy_share_before"] < 1.0
    assert all(w["seconds_simulating"] > 0 for w in summary["waves"])
    widths = summary["parameter_widths"]
    assert set(widths) == set(post.parameters)
    assert all(0 < w["width_ratio"] <= 1.2 for w in widths.values())
    assert len(summary["importance_sample_ess_by_round"]) >= 1


def test_killed_calibration_resumes_to_the_same_posterior(uninterrupted, targets_file,
                                                          tmp_path):
    out = tmp_path / "run"
    store = tmp_path / "run.store" / "replications.jsonl"
    cmd = [sys.executable, "-m", "dyadsim.cli", *_args(targets_file, out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if store.exists() and len(store.read_text().splitlines()) >= 5:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(ReplicationStore(store))
    assert 5 <= done_before < RUNS and not out.exists()
    res = runner.invoke(app, _args(targets_file, out))
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["replications_computed"] == RUNS - done_before  # nothing done twice
    assert _fitted(out) == _fitted(uninterrupted)


def test_dask_local_cluster_gives_the_local_posterior(uninterrupted, targets_file, tmp_path):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result = calibrate(load_targets(targets_file),
                           store=ReplicationStore(tmp_path / "r.jsonl"),
                           settings=settings_for_budget(16, 2, replicate_points=2,
                                                        replicate_seeds=2), seed=3,
                           pool=client.get_executor(pure=False), names=NAMES, mcmc=MCMC)
    d = result.posterior.to_dict()
    assert {k: d[k] for k in ("parameters", "samples", "weights", "others",
                              "targets_hash")} == _fitted(uninterrupted)


@pytest.mark.parametrize("extra, message", [
    (["--budget", "4"], "--budget must be at least 16"),
    (["--params", "no_such_param"], "unknown parameter"),
    (["--seed", "-1"], "seed"),
    (["--replicates", "4by4"], "--replicates must be POINTSxSEEDS"),
    (["--posterior-draws", "5000"], "posterior draws must be in"),
])
def test_bad_input_is_one_line_exit_2(targets_file, tmp_path, extra, message):
    out = tmp_path / "o"
    args = _args(targets_file, out)
    for i in range(0, len(extra), 2):
        j = args.index(extra[i])
        args[j + 1] = extra[i + 1]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_recovery_on_the_model_posterior_covers_the_truth(tmp_path):
    """Targets simulated from a known parameter set (the share of days on MOUD and NOWS of
    the cohort above at moud.stop_logit = -5.5, inside its bounds and not its default), then
    calibrated with 24 runs: the 95% posterior interval of moud.stop_logit covers -5.5 and
    is narrower than the prior's."""
    import numpy as np

    from dyadsim.calibration.replicate import replicate_study, studies_of
    from dyadsim.uncertainty.prior import prior_interval

    truth = {"moud.stop_logit": -5.5}
    p = tmp_path / "truth.toml"
    p.write_text(SMALL_TARGETS)
    (study,) = studies_of(load_targets(p))
    observed = replicate_study(study, truth, seed=12345)
    text = SMALL_TARGETS.replace("value = 0.579", f"value = {observed['nows_share']}")
    text = text.replace("value = 0.6", f"value = {observed['moud_share']}")
    p.write_text(text)
    result = calibrate(load_targets(p), store=ReplicationStore(tmp_path / "r.jsonl"),
                       settings=settings_for_budget(24, 2, replicate_points=2,
                                                    replicate_seeds=2), seed=4, names=NAMES,
                       mcmc=MCMC)
    post = result.posterior
    assert "moud.stop_logit" in post.parameters
    col = post.samples[:, post.parameters.index("moud.stop_logit")]
    order = np.argsort(col)
    cdf = np.cumsum(post.weights[order]) / post.weights.sum()
    lo, hi = np.interp([0.025, 0.975], cdf, col[order])
    assert lo <= truth["moud.stop_logit"] <= hi, (lo, hi)
    prior_lo, prior_hi = prior_interval("moud.stop_logit", 0.95)
    assert hi - lo < prior_hi - prior_lo, ((lo, hi), (prior_lo, prior_hi))
