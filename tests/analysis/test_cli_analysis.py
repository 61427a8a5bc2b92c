"""The analysis commands end to end: a killed Sobol run resumes to the same files as an
uninterrupted run (seed 0, which SALib's Sobol bootstrap once ignored); bad input is one
line and exit code 2."""

import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from dyadsim.cli import app

SA = [sys.executable, "-m", "dyadsim.cli", "sensitivity", "--method", "sobol",
      "--params", "craving->opioid_use,craving.tau", "--outcomes", "use_share,craving",
      "--n", "8", "--block", "2", "--dyads", "8", "--population", "adult_methadone",
      "--horizon", "90d", "--seed", "0", "--workers", "1", "-q"]


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_killed_sobol_run_resumes_to_identical_files(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run([*SA, "--out", str(whole)], check=True, capture_output=True, timeout=900)
    proc = subprocess.Popen([*SA, "--out", str(killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ck = tmp_path / "killed.checkpoint"
    deadline = time.time() + 900
    while time.time() < deadline and not list(ck.glob("block_*.npy")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    blocks = len(list(ck.glob("block_*.npy")))
    assert 1 <= blocks < 16 and not killed.exists()  # killed mid-run, nothing half-written
    subprocess.run([*SA, "--out", str(killed), "--resume"], check=True, capture_output=True,
                   timeout=900)
    assert _files(killed) == _files(whole)
    assert not ck.exists()
    assert {"indices.csv", "samples.csv", "outputs.csv", "manifest.json"} <= set(_files(whole))


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    spec = "examples/prenatal_more_trial.toml"
    cases = [
        ["knockout", "--out", str(tmp_path / "k"), "--loops", "no_such_loop"],
        ["knockout", "--out", str(tmp_path / "k"), "--edges", "a->b"],
        ["sensitivity", "--params", "craving.tau", "--outcomes", "use_share", "--out",
         str(tmp_path / "s")],
        ["mechanisms", spec, "--outcome", "no_such_outcome", "--out", str(tmp_path / "m")],
        ["mechanisms", spec, "--outcome", "use_share", "--posterior", str(bad), "--out",
         str(tmp_path / "m")],
        ["knockout", "--out", str(tmp_path / "k"), "--edges", "craving->opioid_use",
         "--posterior", str(tmp_path / "missing.json")],
        ["knockout", "--out", str(tmp_path / "k"), "--edges", "craving->opioid_use",
         "--posterior", "shipped", "--dyads", "4", "--posterior-draws", "5"],
        ["sensitivity", "--params", "craving.tau,craving->opioid_use", "--outcomes",
         "use_share", "--posterior", str(bad), "--out", str(tmp_path / "s")],
    ]
    for args in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]
