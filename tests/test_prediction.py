"""`dyadsim predict` (issue 8 s7) on the prenatal MORE trial under the prior, at tiny N:
the files, the table, the pregnancy-only parameters held at their priors, and common random
numbers (two identical arms differ by exactly nothing under every draw)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.model.params import PARAMS
from dyadsim.prediction import OUTCOMES, _ensembles, predict, pregnancy_only_parameters
from dyadsim.uncertainty import load_source

from .trials.test_design import BASE_TOML

SPEC = Path(__file__).resolve().parents[1] / "examples" / "prenatal_more_trial.toml"
runner = CliRunner()


def test_pregnancy_only_parameters_are_those_of_the_three_nodes():
    names = pregnancy_only_parameters()
    assert {"prenatal_bonding.tau", "maternal_hormones.birth_peak",
            "motivation_for_change.pregnancy", "maternal_hormones->prenatal_bonding"} <= set(names)
    assert "motivation_for_change.nonpregnant" not in names
    assert "craving->opioid_use" not in names


def test_pregnancy_only_parameters_are_drawn_or_held_at_defaults():
    drawn, held = _ensembles(load_source("prior"), 3, 5)
    preg = pregnancy_only_parameters()
    for d, h in zip(drawn, held, strict=True):
        assert all(h[k] == PARAMS[k].default for k in preg)
        assert all(d[k] == h[k] for k in d if k not in preg)
    assert len({d["prenatal_bonding.tau"] for d in drawn}) == 3


def test_predict_writes_the_prediction(tmp_path):
    out = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(SPEC), "--posterior", "prior", "--out", str(out),
                              "--draws", "3", "--n", "4", "--power-n", "none"],
                        env={"COLUMNS": "200"})  # a wide table whatever the caller's COLUMNS
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [".dyadsim-output", "predict.json",
                                                     "predict.png"]
    r = json.loads((out / "predict.json").read_text())
    assert r["posterior"]["source"] == "prior" and r["draws"] == 3
    assert len(r["effects"]) == 3 * len(OUTCOMES)
    contrasts = {e["contrast"] for e in r["effects"]}
    assert contrasts == {"MORE_prenatal vs MORE_postpartum", "MORE_prenatal vs TAU",
                         "MORE_postpartum vs TAU"}
    for e in r["effects"]:
        if e["median"] is not None:
            assert e["q05"] <= e["median"] <= e["q95"]
        share = e["share_from_pregnancy_only"]
        assert share is None or 0.0 <= share <= 1.0
    # a course that starts 6 weeks after the birth cannot change NOWS at birth: under common
    # random numbers the effect is exactly zero in every draw
    nows = next(e for e in r["effects"] if e["contrast"] == "MORE_postpartum vs TAU"
                and e["outcome"] == "nows")
    assert nows["q05"] == nows["median"] == nows["q95"] == 0.0
    assert "priors" in r["statement"] and "prenatal_bonding.tau" in r[
        "pregnancy_only_parameters"]
    assert "MORE_prenatal vs TAU" in res.stdout and "pregnancy-only" in res.stdout
    assert (out / "predict.png").read_bytes()[:4] == b"\x89PNG"


def test_identical_arms_have_no_effect_under_any_draw():
    spec = tomllib.loads(SPEC.read_text())
    spec["arms"][1] = {**spec["arms"][2], "name": "TAU_copy"}
    spec["analysis"] = [a for a in spec["analysis"] if a["control"] == "TAU"
                        and a["treatment"] == "MORE_prenatal"]
    r = predict(spec, load_source("prior"), draws=2, dyads=4, power_ns=())
    same = [e for e in r["effects"] if e["contrast"] == "TAU_copy vs TAU"]
    assert len(same) == len(OUTCOMES)
    for e in same:
        assert e["median"] == 0.0 and e["q05"] == 0.0 and e["q95"] == 0.0, e
    assert r["attachment_power"] is None
    assert np.isfinite([e["monte_carlo_se"] for e in same]).all()


def test_bad_input_is_one_line(tmp_path):
    res = runner.invoke(app, ["predict", str(SPEC), "--posterior", str(tmp_path / "nope.json"),
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.stderr.startswith("error: posterior file not found")
    assert not (tmp_path / "o").exists()
    bad = tmp_path / "adult.toml"
    bad.write_text(BASE_TOML)
    res = runner.invoke(app, ["predict", str(bad), "--posterior", "prior", "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "pregnancy" in res.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("opt", [("--draws", "1"), ("--power-n", "x")])
def test_bad_options_exit_2(opt, tmp_path):
    res = runner.invoke(app, ["predict", str(SPEC), "--posterior", "prior", "--out",
                              str(tmp_path / "o"), *opt])
    assert res.exit_code == 2
