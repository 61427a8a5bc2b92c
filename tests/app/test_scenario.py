"""The explorer's scenario: its TOML reproduces the run through `dyadsim simulate`, its
checks give plain messages, and clicks find a node's or an edge's facts."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
from typer.testing import CliRunner

from dyadsim.app.scenario import ExplorerScenario, edge_details, node_details, run, scenario_toml
from dyadsim.cli import app
from dyadsim.model.graph import EDGES, NODES

SMALL = dict(dyads=30, seed=4, horizon="12m", record="monthly")


def test_toml_round_trips_every_setting():
    sc = ExplorerScenario(population="pregnant_oud_moud", interventions=(("more", "gw24"),),
                          knockouts=("craving->opioid_use",), clamps=(("moud", 1.0),),
                          **SMALL)
    d = tomllib.loads(sc.to_toml())
    assert d == sc.to_dict()
    assert d["interventions"] == [{"name": "more", "start": "gw24"}]
    assert d["params"] == {"craving->opioid_use": 0.0}
    assert d["do"] == {"moud": 1.0}


def test_toml_file_reproduces_the_run_with_dyadsim_simulate(tmp_path):
    sc = ExplorerScenario(interventions=(("more", "gw24"),),
                          knockouts=("stressor->cognitive_appraisal",), **SMALL)
    result = run(sc)
    path = tmp_path / "scenario.toml"
    path.write_text(sc.to_toml())
    r = CliRunner().invoke(app, ["simulate", str(path), "--out", str(tmp_path / "run"),
                                 "--quiet"])
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary == json.loads(json.dumps(result.summary))
    baseline = run(sc.baseline())
    assert not np.array_equal(result.ds["mindfulness"].values,
                              baseline.ds["mindfulness"].values)


def test_bad_settings_give_plain_messages():
    with pytest.raises(ValueError, match="between 0 and 1"):
        ExplorerScenario(clamps=(("craving", 3.0),)).check()
    with pytest.raises(ValueError, match="unknown edge"):
        ExplorerScenario(knockouts=("craving->nothing",)).check()
    with pytest.raises(ValueError, match="before the study start"):
        run(ExplorerScenario(interventions=(("more", "gw10"),), **SMALL))
    with pytest.raises(ValueError, match="all start in pregnancy"):
        run(ExplorerScenario(interventions=(("more", "gw24"), ("attachment_parenting", "pp6w")),
                             **SMALL))


def test_strings_are_escaped_in_toml():
    text = scenario_toml({"name": 'say "hi"\nnow', "params": {"a->b": 1.5}})
    assert tomllib.loads(text) == {"name": 'say "hi"\nnow', "params": {"a->b": 1.5}}


def test_every_node_and_edge_has_clickable_facts():
    for n in NODES:
        d = node_details(n.id)
        assert d["meaning"] and d["citation"] and d["range"]
    for e in EDGES:
        d = edge_details(e.weight_name, 0.0)
        p = d["parameters"][0]
        assert p["bounds"] and p["source"] and e.citation in d["citation"]
        assert p["value in this run"] == 0.0
