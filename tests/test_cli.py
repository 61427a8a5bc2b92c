"""The command line: help, graph export, parameter and population listings, simulate's
output folder, one-line errors with exit code 2, and the demo table.

Every simulation here has the same shape (50 dyads, horizon 2m, monthly records, a
population with a pregnancy), so the engine compiles once for the whole file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from rich.console import Console
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.cli import run as cli_run
from dyadsim.model.graph import EDGES, NODES, graph_dict
from dyadsim.model.params import PARAMS
from dyadsim.model.populations import PRESETS
from dyadsim.reports.demo import ROWS, demo_rows, demo_table, outcome_rows

runner = CliRunner()
SMALL = ["--dyads", "50", "--horizon", "2m", "--record", "monthly"]
COMMANDS = ["graph", "params", "populations", "simulate", "demo", "interventions", "methods",
            "outcomes", "instruments"]
DYADSIM = Path(sys.executable).with_name("dyadsim")


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small simulation written by the CLI (shared by the output tests)."""
    base = tmp_path_factory.mktemp("sim")
    out = base / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_run, "_git_commit", lambda: "0" * 40)
        res = invoke("simulate", *SMALL, "--seed", "11", "--set", "craving.tau=2",
                     "--do", "mindfulness=0.5", "--out", str(out))
    assert res.exit_code == 0, res.output
    return res, out


# --------------------------------------------------------------------------- help
def test_root_help_lists_every_command():
    res = invoke("--help")
    assert res.exit_code == 0
    for c in COMMANDS:
        assert c in res.stdout


def test_root_help_keeps_the_order_of_the_commands():
    """Typer lists the commands in the order they are registered, that is the order in which
    ``dyadsim.cli`` imports its topic modules (model, run, trials, analysis, view,
    calibration): a sorted import would reorder ``dyadsim --help``."""
    order = ["graph", "params", "populations", "interventions", "methods", "outcomes",
             "instruments", "simulate", "demo", "check", "trial", "power", "predict",
             "mechanisms", "knockout", "sensitivity", "report", "explore", "validate",
             "calibrate"]
    assert [c.name for c in app.registered_commands] == order
    listed = invoke("--help").stdout
    assert [listed.index(f"│ {c} ") for c in order] == sorted(listed.index(f"│ {c} ")
                                                             for c in order)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(command):
    res = invoke(command, "--help")
    assert res.exit_code == 0, res.output
    assert "Usage" in res.stdout and "--help" in res.stdout


def test_version():
    res = invoke("--version")
    assert res.exit_code == 0 and res.stdout.startswith("dyadsim ")


# --------------------------------------------------------------------------- graph
def test_graph_json_is_graph_dict_and_nothing_else():
    res = invoke("graph", "--format", "json")
    assert res.exit_code == 0
    assert res.stderr == ""
    data = json.loads(res.stdout)
    assert set(data) == {"nodes", "edges"}
    assert data == json.loads(json.dumps(graph_dict()))


def test_graph_default_is_json():
    assert json.loads(invoke("graph").stdout)["edges"]


def test_graph_dot_has_every_node_and_edge():
    res = invoke("graph", "--format", "dot")
    assert res.exit_code == 0 and res.stderr == ""
    out = res.stdout
    assert out.startswith("digraph") and out.rstrip().endswith("}")
    for n in NODES:
        assert f'"{n.id}" [label=' in out
    lines = out.splitlines()
    for e in EDGES:
        pair = f'"{e.source}" -> "{e.target}"'
        n_edges = sum((x.source, x.target) == (e.source, e.target) for x in EDGES)
        assert sum(line.strip().startswith(pair) for line in lines) == n_edges, pair
    assert 'style="dashed"' in out and 'style="dotted"' in out
    assert 'label="gain' in out and 'penwidth="2.5"' in out  # gain edges, Figure 2 edges


def test_graph_mermaid_has_every_edge():
    res = invoke("graph", "--format", "mermaid")
    assert res.exit_code == 0 and res.stderr == ""
    lines = [line.strip() for line in res.stdout.splitlines()]
    assert lines[0] == "flowchart LR"
    edge_lines = [line for line in lines if re.match(r"^\w+ (-->|==>|-\.->)\|", line)]
    assert len(edge_lines) == len(EDGES)
    for e, line in zip(EDGES, edge_lines, strict=True):
        assert line.startswith(f"{e.source} ") and line.endswith(f"| {e.target}")
        assert f"|{e.sign}" in line or f"gain {e.sign}" in line
    assert any("-->|+|" in line for line in lines)


def test_graph_bad_format_is_a_usage_error():
    res = invoke("graph", "--format", "png")
    assert res.exit_code == 2 and "Traceback" not in res.output


# --------------------------------------------------------------------------- params
def test_params_table_lists_every_parameter():
    res = invoke("params", env={"COLUMNS": "400"})
    assert res.exit_code == 0
    for name in PARAMS:
        assert name in res.stdout, name


def test_params_json_and_csv():
    rows = json.loads(invoke("params", "--format", "json").stdout)
    assert [r["name"] for r in rows] == list(PARAMS)
    r = rows[0]
    p = PARAMS[r["name"]]
    assert (r["default"], r["lo"], r["hi"], r["unit"], r["source"], r["guess"]) == \
        (p.default, p.lo, p.hi, p.unit, p.source, p.is_guess)
    table = list(csv.DictReader(io.StringIO(invoke("params", "--format", "csv").stdout)))
    assert [r["name"] for r in table] == list(PARAMS)


def test_params_guesses_only():
    rows = json.loads(invoke("params", "--guesses-only", "--format", "json").stdout)
    assert rows and all(r["guess"] for r in rows)
    assert {r["name"] for r in rows} == {k for k, p in PARAMS.items() if p.is_guess}


def test_populations():
    res = invoke("populations", env={"COLUMNS": "300"})
    assert res.exit_code == 0
    for name in PRESETS:
        assert name in res.stdout
    data = json.loads(invoke("populations", "--format", "json").stdout)
    assert data == json.loads(json.dumps({k: p.to_dict() for k, p in PRESETS.items()}))


# --------------------------------------------------------------------------- simulate
def test_simulate_writes_four_files_and_nothing_beside(run):
    res, out = run
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".dyadsim-output", "trajectories.nc", "dyads.parquet", "summary.json",
         "manifest.json"])
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no temporary folder left
    assert "Traceback" not in res.output and "Simulated 50 dyads" in res.stdout


def test_simulate_dyad_table(run):
    _, out = run
    df = pd.read_parquet(out / "dyads.parquet")
    assert len(df) == 50
    assert df["dyad_id"].tolist() == list(range(50))
    for col in ("use_days", "use_share", "overdoses", "nows", "attachment_class",
                "wellbeing_physical_24m"):
        assert col in df.columns
    assert "craving" not in df.columns  # trajectories stay in trajectories.nc


def test_simulate_trajectories(run):
    _, out = run
    with xr.open_dataset(out / "trajectories.nc", engine="h5netcdf") as ds:
        assert ds.sizes["dyad"] == 50 and ds.sizes["time"] >= 2
        assert ds["craving"].dims == ("dyad", "time")
        assert int(ds.attrs["seed"]) == 11
        assert json.loads(ds.attrs["do"]) == {"mindfulness": 0.5}
        assert float(ds["mindfulness"].max()) == pytest.approx(0.5)


def test_simulate_manifest(run):
    _, out = run
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 11 and m["dyads"] == 50
    assert m["dyadsim_version"] == cli_run.__version__
    assert m["git_commit"] == "0" * 40
    assert m["scenario"] is None
    assert m["population"]["name"] == "pregnant_oud_moud"
    assert (m["start"], m["horizon"], m["record"]) == ("gw20", "2m", "monthly")
    assert m["horizon_days"] == 61
    assert m["do"] == {"mindfulness": 0.5}
    assert set(m["parameters"]) == set(PARAMS)
    assert m["parameters"]["craving.tau"] == 2.0
    assert m["changed_parameters"] == {"craving.tau": 2.0}
    assert "--seed 11" in m["command"] and "--set craving.tau=2" in m["command"]
    assert m["created_utc"].endswith("+00:00")


def test_simulate_summary(run):
    _, out = run
    s = json.loads((out / "summary.json").read_text())
    assert s["dyads"] == 50 and s["seed"] == 11
    for key in ("share_of_days_with_opioid_use", "any_overdose", "fatal_overdose",
                "cps_report", "nows", "parenting_mean", "attachment"):
        assert key in s


def test_simulate_scenario_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cli_run, "_git_commit", lambda: None)
    sc = tmp_path / "sc.toml"
    sc.write_text('population = "low_risk_mothers"\nseed = 5\ndyads = 50\nhorizon = "2m"\n'
                  'record = "monthly"\n[params]\n"craving.tau" = 3.0\n')
    out = tmp_path / "o"
    res = invoke("simulate", str(sc), "--out", str(out))
    assert res.exit_code == 0, res.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenario"]["path"] == str(sc.resolve())
    assert m["scenario"]["content"]["params"] == {"craving.tau": 3.0}
    assert (m["seed"], m["dyads"], m["population"]["name"]) == (5, 50, "low_risk_mothers")
    assert m["parameters"]["craving.tau"] == 3.0 and m["git_commit"] is None


def test_simulate_record_none_writes_no_trajectories(run, tmp_path, monkeypatch):
    """Writer wiring for --record none, on the run's outcomes (no second compilation)."""
    _, first = run
    with xr.open_dataset(first / "trajectories.nc", engine="h5netcdf") as ds:
        outcomes = ds.drop_dims("time").load()
    outcomes.attrs["record"] = "none"
    seen = {}

    def fake_simulate(scenario=None, **kw):
        seen["record"] = scenario.record  # the CLI reads the scenario once, with its options
        return outcomes

    monkeypatch.setattr("dyadsim.simulation.simulate", fake_simulate)
    out = tmp_path / "o"
    res = invoke("simulate", "--record", "none", "--dyads", "50", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert seen["record"] == "none"
    assert sorted(p.name for p in out.iterdir()) == [".dyadsim-output", "dyads.parquet",
                                                     "manifest.json", "summary.json"]
    assert len(pd.read_parquet(out / "dyads.parquet")) == 50


def test_existing_nonempty_out_needs_force(run, tmp_path):
    out = tmp_path / "o"
    res = invoke("simulate", *SMALL, "--out", str(out))
    assert res.exit_code == 0, res.output
    res = invoke("simulate", *SMALL, "--out", str(out))
    assert res.exit_code == 2
    assert res.stderr.startswith("error:") and "--force" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = invoke("simulate", *SMALL, "--seed", "3", "--out", str(out), "--force")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_force_never_replaces_a_folder_of_user_files(run, tmp_path):
    """Issue 23: --force replaces only a folder dyadsim wrote (it carries the marker)."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = invoke("simulate", *SMALL, "--out", str(out), "--force")
    assert res.exit_code == 2
    assert res.stderr.startswith("error:") and "not a dyadsim output folder" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_existing_empty_out_is_used(run, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    res = invoke("simulate", *SMALL, "--out", str(out))
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").exists()


# --------------------------------------------------------------------------- bad input
SCENARIOS = {
    "unknown_key.toml": "foo = 1\n",
    "wrong_type.toml": 'dyads = "many"\n',
    "param_type.toml": '[params]\n"craving.tau" = "fast"\n',
    "malformed.toml": "dyads = \n",
}
BAD = [
    (["unknown_key.toml"], "foo"),
    (["wrong_type.toml"], "dyads"),
    (["param_type.toml"], "craving.tau"),
    (["malformed.toml"], "malformed.toml"),
    (["missing.toml"], "missing.toml"),
    (["--set", "craving.tau=1e9"], "craving.tau"),
    (["--set", "nope.tau=1"], "nope.tau"),
    (["--set", "craving.tau"], "craving.tau"),
    (["--set", "craving.tau=abc"], "abc"),
    (["--do", "no_such_node=1"], "no_such_node"),
    (["--do", "mindfulness"], "mindfulness"),
    (["--do", "mindfulness=5"], "mindfulness"),
    (["--population", "nobody"], "nobody"),
    (["--start", "gw2x"], "gw2x"),
    (["--start", "gw99"], "99"),
    (["--population", "adult_methadone", "--start", "gw20"], "pregnancy"),
    (["--horizon", "2y"], "2y"),
    (["--record", "hourly"], "hourly"),
    (["--dyads", "0"], "dyads"),
]


@pytest.mark.parametrize(("args", "name"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2(args, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for fname, text in SCENARIOS.items():
        (tmp_path / fname).write_text(text)
    res = invoke("simulate", *args, "--out", "out")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), res.stderr
    assert name in err[0]
    assert res.stdout == ""
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SCENARIOS)


def test_usage_errors_keep_exit_2(tmp_path):
    res = invoke("simulate", "--dyads", "many", "--out", str(tmp_path / "out"))
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()
    assert invoke("simulate").exit_code == 2  # --out is required


def test_git_commit_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commit = cli_run._git_commit()
    assert commit is None or re.fullmatch(r"[0-9a-f]{40}", commit)


# --------------------------------------------------------------------------- demo
def _stat(mean, lo, hi):
    return {"mean": mean, "ci95": [lo, hi], "n": 100}


FULL = {
    "dyads": 100, "seed": 1,
    "share_of_days_with_opioid_use": _stat(0.073, 0.070, 0.0755),
    "any_opioid_use": _stat(1.0, 1.0, 1.0),
    "any_overdose": _stat(0.0005, -0.0005, 0.0015),
    "fatal_overdose": _stat(0.0155, 0.0101, 0.0209),
    "cps_report": _stat(0.2, 0.18, 0.22),
    "share_of_days_on_moud": _stat(0.8, 0.79, 0.81),
    "nows": _stat(0.53, 0.51, 0.55),
    "on_moud_12m_postpartum": _stat(0.617, 0.596, 0.638),
    "parenting_mean": _stat(0.7038, 0.7021, 0.7056),
    "attachment": {"secure": 0.6295, "avoidant": 0.1395, "resistant": 0.069,
                   "disorganized": 0.162, "n": 100},
    "wellbeing_12m": dict.fromkeys(("physical", "psychological", "cognitive", "social",
                                    "economic"), 0.5),
    "wellbeing_24m": {"physical": 0.296, "psychological": 0.786, "cognitive": 0.553,
                      "social": 0.786, "economic": 0.191},
}
# A population without a pregnancy: no infant outcomes; and an empty outcome (n = 0).
ADULT = {k: v for k, v in FULL.items()
         if k not in ("nows", "on_moud_12m_postpartum", "parenting_mean", "attachment",
                      "wellbeing_12m", "wellbeing_24m")}
ADULT["cps_report"] = {"mean": None, "ci95": None, "n": 0}


def test_demo_rows():
    rows = demo_rows(FULL, ADULT)
    assert len(rows) == len(ROWS) == 17
    assert all(len(r) == 3 for r in rows)
    labels = [r[0] for r in rows]
    assert len(set(labels)) == len(labels)
    d = {r[0]: r[1:] for r in rows}
    assert d["Opioid use: share of days"] == ("7.3% (7.0–7.5%)", "7.3% (7.0–7.5%)")
    assert d["Opioid use: any"][0] == "100.0% (100.0–100.0%)"
    assert d["Overdose: any"][0] == "0.05% (0.0–0.15%)"  # CI clipped at 0
    assert d["NOWS (neonatal opioid withdrawal)"] == ("53.0% (51.0–55.0%)", "n/a")
    assert d["On MOUD at 12 months postpartum"][0] == "61.7% (59.6–63.8%)"
    assert d["CPS report"] == ("20.0% (18.0–22.0%)", "n/a")
    assert d["Parenting quality (mean, 0-1)"][0] == "0.704 (0.702–0.706)"
    assert [d[f"Attachment: {c}"][0] for c in ("secure", "avoidant", "resistant",
                                               "disorganized")] == \
        ["62.9%", "14.0%", "6.9%", "16.2%"]
    assert d["Well-being at 24 months: economic (0-1)"] == ("0.19", "n/a")
    for domain in ("physical", "psychological", "cognitive", "social", "economic"):
        assert f"Well-being at 24 months: {domain} (0-1)" in d


def test_outcome_rows_and_table_render():
    brief = outcome_rows(FULL, brief=True)
    assert 0 < len(brief) < len(outcome_rows(FULL))
    table = demo_table(demo_rows(FULL, ADULT), ["A", "B"], title="T", caption="C")
    console = Console(record=True, width=160)
    console.print(table)
    text = console.export_text()
    assert "Attachment: disorganized" in text and "16.2%" in text and "n/a" in text


def test_demo_command_wiring(run, monkeypatch):
    """The demo command on the run's dataset (the real run takes ~10 s; see the README)."""
    _, first = run
    with xr.open_dataset(first / "trajectories.nc", engine="h5netcdf") as ds:
        data = ds.drop_dims("time").load()
    calls = []

    def fake_simulate(scenario=None, *, progress=None, **kw):
        calls.append(kw)
        progress(kw["dyads"])
        return data

    monkeypatch.setattr("dyadsim.simulation.simulate", fake_simulate)
    res = invoke("demo", "--dyads", "50", "--seed", "4", env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert [c["population"] for c in calls] == ["pregnant_oud_moud", "low_risk_mothers"]
    assert all((c["dyads"], c["seed"], c["start"], c["horizon"], c["record"])
               == (50, 4, "gw20", "24m", "none") for c in calls)
    for label, _ in ROWS:
        assert label in res.stdout
    assert "pregnant_oud_moud" in res.stdout and "low_risk_mothers" in res.stdout


# --------------------------------------------------------------------------- installed script
@pytest.mark.skipif(not DYADSIM.exists(), reason="console script not installed")
def test_console_script_end_to_end(tmp_path):
    r = subprocess.run([str(DYADSIM), "graph", "--format", "json"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stderr == ""
    assert len(json.loads(r.stdout)["edges"]) == len(EDGES)
    r = subprocess.run([str(DYADSIM), "simulate", "--set", "craving.tau=1e9", "--out", "o"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert r.stderr.startswith("error: parameter 'craving.tau'") and "bounds" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- faults, every writer
# Each class of fault is tried on every command that writes output. The run itself is
# replaced by a sentinel, so a test shows what happens *before* any simulation: a fault must
# be reported first (the sentinel never runs), good input must reach the run (the sentinel
# runs and its Ctrl-C comes back as exit 130).

SPEC_TOML = """[trial]
name = "t"
citation = "c"
n = 4
seed = 1
horizon = "60d"
[population]
preset = "adult_methadone"
[[arms]]
name = "A"
interventions = ["more"]
[[arms]]
name = "B"
interventions = ["tau"]
[[assessments]]
name = "baseline"
day = 0
instruments = ["ffmq"]
[[assessments]]
name = "post"
day = 56
instruments = ["ffmq"]
[[analysis]]
name = "d"
method = "cohens_d"
instrument = "ffmq"
timepoint = "post"
direction = "increase"
"""
SCENARIO_TOML = 'population = "low_risk_mothers"\ndyads = 10\nhorizon = "1m"\n'
WRITERS = ["simulate", "trial", "power"]


def _args(command: str, path, out) -> list[str]:
    if command == "simulate":
        return ["simulate", str(path), "--out", str(out), "--record", "none"]
    if command == "trial":
        return ["trial", str(path), "--out", str(out), "--replicates", "2", "--workers", "1"]
    return ["power", str(path), "--n", "4", "--replicates", "2", "--workers", "1",
            "--out", str(out)]


@pytest.fixture
def no_run(monkeypatch):
    """Replace every command's run by a Ctrl-C (good input reaches it: exit 130)."""
    import dyadsim.simulation as simulation_mod
    import dyadsim.trials.power as power_mod
    import dyadsim.trials.runner as runner_mod

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulation_mod, "simulate", interrupted)
    monkeypatch.setattr(runner_mod, "run_trial", interrupted)
    monkeypatch.setattr(power_mod, "power_curve", interrupted)


def _input(command: str, tmp_path, text: str | bytes | None = None):
    path = tmp_path / ("scenario.toml" if command == "simulate" else "spec.toml")
    body = text if text is not None else (SCENARIO_TOML if command == "simulate"
                                          else SPEC_TOML)
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body)
    return path


def _one_line(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), res.stderr
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


@pytest.mark.parametrize("command", WRITERS)
def test_output_parent_is_a_file_refused_before_running(command, tmp_path, no_run):
    (tmp_path / "afile").write_text("x")
    res = invoke(*_args(command, _input(command, tmp_path), tmp_path / "afile" / "out"))
    _one_line(res, "afile", "is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["afile", "scenario.toml" if command == "simulate" else "spec.toml"])


@pytest.mark.parametrize("command", WRITERS)
def test_unwritable_output_location_refused_before_running(command, tmp_path, no_run):
    # /proc takes no new folders, even from root (whom a chmod would not stop)
    res = invoke(*_args(command, _input(command, tmp_path), "/proc/dyadsim-test/out"))
    _one_line(res, "/proc", "not writable")


@pytest.mark.parametrize("command", WRITERS)
def test_os_errors_while_writing_are_one_line(command, tmp_path, monkeypatch):
    def disk_full(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "out"))

    import dyadsim.simulation as simulation_mod
    import dyadsim.trials.power as power_mod
    import dyadsim.trials.runner as runner_mod

    monkeypatch.setattr(simulation_mod, "simulate", disk_full)
    monkeypatch.setattr(runner_mod, "run_trial", disk_full)
    monkeypatch.setattr(power_mod, "power_curve", disk_full)
    res = invoke(*_args(command, _input(command, tmp_path), tmp_path / "out"))
    _one_line(res, "No space left on device", str(tmp_path / "out"))


@pytest.mark.parametrize("command", ["trial", "power"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_replicates_not_positive_is_one_line(command, value, tmp_path, no_run):
    args = _args(command, _input(command, tmp_path), tmp_path / "out")
    args[args.index("--replicates") + 1] = value
    _one_line(invoke(*args), "--replicates", value)


@pytest.mark.parametrize("command", WRITERS)
def test_ctrl_c_says_how_to_resume(command, tmp_path, no_run):
    res = invoke(*_args(command, _input(command, tmp_path), tmp_path / "out"))
    assert res.exit_code == 130, res.output
    expected = ("interrupted" if command == "simulate"
                else "interrupted; rerun the same command to resume")
    assert res.stderr.strip() == expected
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", WRITERS)
def test_utf8_bom_is_accepted(command, tmp_path, no_run):
    text = SCENARIO_TOML if command == "simulate" else SPEC_TOML
    path = _input(command, tmp_path, b"\xef\xbb\xbf" + text.encode())
    assert invoke(*_args(command, path, tmp_path / "out")).exit_code == 130  # reached the run


@pytest.mark.parametrize("command", WRITERS)
def test_binary_input_names_the_file(command, tmp_path, no_run):
    path = _input(command, tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _one_line(invoke(*_args(command, path, tmp_path / "out")), str(path), "binary")


@pytest.mark.parametrize("command", WRITERS)
def test_directory_given_as_input_file(command, tmp_path, no_run):
    folder = tmp_path / "adir"
    folder.mkdir()
    _one_line(invoke(*_args(command, folder, tmp_path / "out")), str(folder), "directory")


@pytest.mark.parametrize("command", WRITERS)
def test_unquoted_dotted_parameter_gets_a_hint(command, tmp_path, no_run):
    if command == "simulate":
        text = SCENARIO_TOML + "[params]\ncraving.tau = 3.0\n"
    else:
        text = SPEC_TOML.replace('preset = "adult_methadone"\n',
                                 'preset = "adult_methadone"\n[population.params]\n'
                                 'craving.tau = 3.0\n')
    _one_line(invoke(*_args(command, _input(command, tmp_path, text), tmp_path / "out")),
              'quote a dotted parameter name', '"craving.tau"')
