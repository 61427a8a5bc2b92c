"""`dyadsim trial` and `dyadsim power`: the files they write, and bad input as one line on
stderr with exit code 2 and nothing written. Trials use the design of
``tests/trials/test_design.py`` (one engine compilation)."""

from __future__ import annotations

import copy
import json
import tomllib

import pandas as pd
import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.cli import trials as cli_trials
from dyadsim.trials import output as output_mod

from .trials.test_design import BASE_TOML

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def _toml(d: dict) -> str:
    """A tiny TOML writer for the spec dicts used here."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        return repr(v)

    lines = []
    for section, body in d.items():
        rows = body if isinstance(body, list) else [body]
        for row in rows:
            lines.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            lines += [f"{k} = {value(v)}" for k, v in row.items()]
            lines.append("")
    return "\n".join(lines)


@pytest.fixture
def spec_file(tmp_path, monkeypatch):
    monkeypatch.setattr(output_mod, "_git_commit", lambda: None)
    monkeypatch.setattr(cli_trials, "_git_commit", lambda: None)
    d = tomllib.loads(BASE_TOML)
    d["trial"]["n"] = 40
    path = tmp_path / "spec.toml"
    path.write_text(_toml(d))
    assert tomllib.loads(path.read_text()) == d
    return path


def test_trial_writes_the_four_files(spec_file, tmp_path):
    out = tmp_path / "out"
    res = invoke("trial", str(spec_file), "--out", str(out))
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".dyadsim-output", "data.parquet", "latent.nc", "manifest.json", "results.json"]
    data = pd.read_parquet(out / "data.parquet")
    assert data["dyad_id"].nunique() == 40
    man = json.loads((out / "manifest.json").read_text())
    assert man["command"].startswith("dyadsim trial")
    assert "ffmq_post" in res.stdout
    # the same again needs --force
    res = invoke("trial", str(spec_file), "--out", str(out))
    assert res.exit_code == 2 and "force" in res.stderr
    res = invoke("trial", str(spec_file), "--out", str(out), "--force", "--seed", "3")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3


def test_trial_replicates_write_replicate_files(spec_file, tmp_path):
    out = tmp_path / "reps"
    res = invoke("trial", str(spec_file), "--out", str(out), "--replicates", "2",
                 "--workers", "1")
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [".dyadsim-output", "data.parquet", "latent.nc", "manifest.json",
                     "replicates.json",
                     "replicates.parquet", "results.json"]
    reps = json.loads((out / "replicates.json").read_text())
    assert reps["replicates"] == 2
    assert reps["analyses"]["ffmq_post"]["share_significant"] is not None
    table = pd.read_parquet(out / "replicates.parquet")
    assert len(table) == 2 * len(reps["analyses"])
    assert json.loads((out / "manifest.json").read_text())["replicates"] == 2


BAD_SPECS = {
    "unknown_key.toml": (lambda d: d["trial"].update(colour="red"), "trial.colour"),
    "intervention.toml": (lambda d: d["arms"][0].update(interventions=["yoga"]), "yoga"),
    "instrument.toml": (lambda d: d["assessments"][0].update(instruments=["pss11"]), "pss11"),
    "arm.toml": (lambda d: d["analysis"][0].update(treatment="Yoga"), "Yoga"),
}


@pytest.mark.parametrize("name", [*BAD_SPECS, "malformed.toml", "missing.toml"])
def test_trial_bad_input_is_one_line_exit_2(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if name in BAD_SPECS:
        change, needle = BAD_SPECS[name]
        d = copy.deepcopy(tomllib.loads(BASE_TOML))
        change(d)
        (tmp_path / name).write_text(_toml(d))
    elif name == "malformed.toml":
        (tmp_path / name).write_text("[trial\nname = ")
        needle = "malformed TOML"
    else:
        needle = "not found"
    before = sorted(p.name for p in tmp_path.iterdir())
    res = invoke("trial", name, "--out", "out")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], res.stderr
    assert res.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_power_writes_json_and_png(spec_file, tmp_path):
    out = tmp_path / "power"
    res = invoke("power", str(spec_file), "--n", "4,24", "--replicates", "3", "--outcome",
                 "ffmq_post", "--out", str(out), "--workers", "1")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [".dyadsim-output", "power.json",
                                                     "power.png"]
    curve = json.loads((out / "power.json").read_text())
    assert [p["n"] for p in curve["points"]] == [4, 24]
    assert (out / "power.png").read_bytes()[:4] == b"\x89PNG"
    assert "N for 80% power" in res.stdout
    assert "24" in res.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--outcome", "nope"], "nope"),
    (["--n", "4,x"], "x"),
    (["--n", "1"], "ns"),
])
def test_power_bad_input(spec_file, tmp_path, args, needle):
    out = tmp_path / "power"
    res = invoke("power", str(spec_file), "--replicates", "2", "--workers", "1",
                 "--out", str(out), *args)
    assert res.exit_code == 2, res.output
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], res.stderr
    assert not out.exists()


def test_every_spec_problem_is_reported_at_once_one_line_each(tmp_path):
    """Issue 23: the first error no longer hides the others ("and 1 more problem")."""
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE_TOML.replace('name = "MORE"', 'name = "MORE"\ncolour = "red"', 1)
                   .replace('interventions = ["more"]', 'interventions = ["mor"]', 1)
                   .replace('"ffmq"', '"ffmq2"'))
    res = invoke("trial", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "Traceback" not in res.output
    err = res.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in err)
    assert "more problem" not in res.stderr
    assert any("colour: unknown key" in line for line in err), err
    structural = len(err)  # the cross-field checks run once the structure is valid
    bad.write_text(bad.read_text().replace('colour = "red"\n', ""))
    res = invoke("trial", str(bad), "--out", str(tmp_path / "o"))
    err = res.stderr.strip().splitlines()
    assert structural == 1 and len(err) >= 2, err
    assert any("unknown intervention 'mor'" in line for line in err), err
    assert any("unknown instrument 'ffmq2'" in line for line in err), err
    assert not (tmp_path / "o").exists()
