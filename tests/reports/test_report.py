"""Reports: the diagram follows the run (colours, widths, knock-outs), the differences are
right on known data, and `dyadsim report` / `--report` write one self-contained file."""

from __future__ import annotations

import json
import re
from html import escape

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from dyadsim.cli import app
from dyadsim.model.graph import EDGES, NODE_IDS
from dyadsim.reports.diagram import NodeValue, build_diagram, colour, diagram_svg
from dyadsim.reports.html import ReportError, build_report, missing_data_method
from dyadsim.reports.layout import layout
from dyadsim.reports.results import node_differences, standardized_difference

runner = CliRunner()
NETWORK = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?!data:|#)[^"'\s>]+|@import|"""
                     r"""url\((?!#)|<script|<link|https?:|//[a-z0-9.-]+\.[a-z]{2,}/""",
                     re.IGNORECASE)


def test_layout_places_every_node_once():
    placed = layout().nodes
    assert set(placed) == set(NODE_IDS)
    spots = {(round(p.x), round(p.y)) for p in placed.values()}
    assert len(spots) == len(placed)


def test_diagram_draws_knockouts_dashed_and_widths_by_weight():
    ko = EDGES[0].weight_name
    strong = EDGES[1].weight_name
    d = build_diagram({}, {ko: 0.0, strong: 5.0}, "level")
    by = {e.weight_name: e for e in d.edges}
    assert by[ko].knocked_out and not by[strong].knocked_out
    default = build_diagram({}, {}, "level")
    assert by[strong].width > {e.weight_name: e for e in default.edges}[strong].width
    svg = diagram_svg(d)
    assert svg.count('class="edge knocked-out"') == 1
    assert f'data-edge="{escape(ko)}"' in svg and "stroke-dasharray" in svg


def test_difference_colours_diverge():
    assert colour(1.0, "difference") != colour(-1.0, "difference")
    assert colour(0.0, "difference") == "#f7f7f7"
    d = build_diagram({"craving": NodeValue(0.8, 0.5, 1.1)}, {}, "difference")
    node = next(n for n in d.nodes if n.id == "craving")
    assert node.fill == colour(0.8, "difference", d.scale)
    assert "+0.80" in node.tooltip and "0.50" in node.tooltip


def test_standardized_difference_known_answer():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 1.0, 20000), rng.normal(0.0, 1.0, 20000)
    v = standardized_difference(a, b)
    assert v.lo < 0.5 < v.hi and abs(v.value - 0.5) < 0.03
    assert standardized_difference(np.ones(5), np.ones(5)) is None


def test_node_differences_skip_the_run_in():
    t = np.arange(-3, 4)
    x = np.zeros((4, t.size))
    x[:2, :3] = 9.0  # only before day 0
    x[:2, 3:] = 1.0
    ds = xr.Dataset({"craving": (("dyad", "time"), x)}, coords={"time": t})
    d = node_differences(ds.isel(dyad=[0, 1]) + xr.zeros_like(ds.isel(dyad=[0, 1])) +
                         np.array([[0.0], [0.1]]), ds.isel(dyad=[2, 3]) +
                         np.array([[0.0], [0.1]]))
    assert d["craving"].value == pytest.approx(1.0 / np.std([0.0, 0.1], ddof=1))


def test_missing_data_method_prefers_the_analysis_own_statement():
    assert missing_data_method({"missing_data": "multiple imputation (m=20)"}) == \
        "multiple imputation (m=20)"
    assert "mixed model" in missing_data_method({"method": "lmm", "detail": {}})
    assert "complete cases" in missing_data_method({"method": "binary",
                                                    "detail": {"n_missing": 4}})


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "run"
    r = runner.invoke(app, ["simulate", "--dyads", "40", "--seed", "2", "--out", str(out),
                            "--set", "craving->opioid_use=0", "--report", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def test_simulate_report_is_one_self_contained_file(sim_run):
    html = (sim_run / "report.html").read_text()
    assert NETWORK.findall(html) == []
    assert html.count("<figure") >= 3 and html.count("<figcaption>") == html.count("<figure")
    assert html.count('src="data:image/png;base64,') >= 2
    assert 'class="edge knocked-out" data-edge="craving-&gt;opioid_use"' in html
    assert "What was run" in html and "Trajectories" in html and "Outcomes" in html
    manifest = json.loads((sim_run / "manifest.json").read_text())
    assert str(manifest["seed"]) in html


def test_report_command_writes_where_asked(sim_run, tmp_path):
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", str(sim_run), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 50_000 and "wrote" in r.output


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.startswith("error: ") and "Traceback" not in r.output
    with pytest.raises(ReportError, match="not found"):
        build_report(tmp_path / "missing")


def test_power_report_shows_the_curve_and_n(tmp_path):
    points = [{"n": n, "power": p, "ci_lower": p - 0.1, "ci_upper": min(p + 0.1, 1.0),
               "n_failed": 1, "n_wrong_direction": 0, "mean_estimate": 0.8}
              for n, p in ((50, 0.3), (100, 0.55), (200, 0.85))]
    curve = {"trial": "t", "analysis": "misuse", "method": "binary", "effect": "risk_ratio",
             "significance": "p < 0.05", "replicates": 20, "target": 0.8, "points": points,
             "n_for_power": {"n": 174, "relation": "=", "text": "174 (95% CI 140-230)"}}
    (tmp_path / "power.json").write_text(json.dumps(curve))
    html = build_report(tmp_path)
    assert "174 (95% CI 140-230)" in html and "Power curve" in html
    assert html.count('src="data:image/png;base64,') == 1 and NETWORK.findall(html) == []


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory):
    """A trial output folder assembled from two simulated arms (the files a trial writes:
    latent.nc with an arm per dyad, data.parquet, results.json, manifest.json)."""
    import pandas as pd

    import dyadsim

    out = tmp_path_factory.mktemp("trial")
    arms = {"MORE": dyadsim.simulate({"interventions": [{"name": "more", "start": "gw24"}]},
                                     dyads=30, seed=5, record="monthly", horizon="12m",
                                     dyad_ids=np.arange(0, 30)),
            "TAU": dyadsim.simulate(None, dyads=30, seed=5, record="monthly", horizon="12m",
                                    dyad_ids=np.arange(30, 60))}
    parts = []
    for name, ds in arms.items():
        ds = ds.copy()
        ds.attrs = {}
        ds["arm"] = ("dyad", np.full(ds.sizes["dyad"], name))
        parts.append(ds)
    xr.concat(parts, dim="dyad").to_netcdf(out / "latent.nc", engine="h5netcdf")
    rows = [(i, "MORE" if i < 30 else "TAU", tp, day, float(i % 5) if i % 7 or tp == "base"
             else np.nan) for i in range(60) for tp, day in (("base", 0), ("post", 56))]
    pd.DataFrame(rows, columns=["dyad_id", "arm", "timepoint", "day", "value"]).to_parquet(
        out / "data.parquet")
    spec = {"trial": {"name": "t", "description": "d"},
            "arms": [{"name": "MORE", "interventions": ["more"], "start": "gw24"},
                     {"name": "TAU", "interventions": [], "start": "gw20"}],
            "analysis": [{"name": "use_rr", "primary": True, "treatment": "MORE",
                          "control": "TAU", "published": 0.54},
                         {"name": "craving_d", "treatment": "MORE", "control": "TAU"}]}
    results = {"use_rr": {"method": "binary", "effect": "risk_ratio", "estimate": 0.8,
                          "ci_lower": 0.6, "ci_upper": 1.05, "p": 0.1, "treatment": "MORE",
                          "control": "TAU", "detail": {"n_missing": 8}},
               "craving_d": {"method": "lmm", "effect": "difference", "estimate": -0.2,
                             "ci_lower": -0.5, "ci_upper": 0.1, "p": 0.2,
                             "missing_data": "mixed model on all observed visits (MAR)"},
               "arms": {"MORE": 30, "TAU": 30},
               "dropout": {"overall": 0.12, "definition": "lost before the last visit"}}
    (out / "results.json").write_text(json.dumps({"trial": "t", "n": 60, "seed": 5,
                                                  "spec": spec, "results": results}))
    (out / "manifest.json").write_text(json.dumps({"spec": spec, "parameters": {
        "MORE": {"craving->opioid_use": 0.0}, "TAU": {}}}))
    return out


def test_trial_report_has_flow_forest_and_missing_data_methods(trial_dir):
    html = build_report(trial_dir)
    assert NETWORK.findall(html) == []
    assert "MORE vs TAU" in html and "standardized difference, MORE minus TAU" in html
    assert "Participant flow" in html and "allocated n = 30" in html
    # dyads whose id is a multiple of 7 miss the post visit: 5 of MORE's 30, 4 of TAU's
    assert "post: assessed 25" in html and "post: assessed 26" in html
    assert "Forest plot" in html and html.count('src="data:image/png;base64,') >= 3
    assert "mixed model on all observed visits (MAR)" in html
    assert "complete cases at the time point (8 missing)" in html
    assert "<td class=num>0.54</td>" in html  # the published value beside the estimate
    assert 'class="edge knocked-out"' in html  # the arm's knocked-out edge


def test_trial_command_writes_a_report(tmp_path):
    out = tmp_path / "trial"
    r = runner.invoke(app, ["trial", "examples/cooperman2021_more_methadone.toml", "--out",
                            str(out), "--report", "--quiet"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert NETWORK.findall(html) == []
    for section in ("What was run", "The model's graph", "Trajectories by arm",
                    "Participant flow", "Analyses", "missing-data method"):
        assert section in html, section
    results = json.loads((out / "results.json").read_text())["results"]
    assert html.count("<tr><td>") >= len([k for k in results if k not in ("arms", "dropout")])
