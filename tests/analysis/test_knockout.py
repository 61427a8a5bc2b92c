"""Knock-outs: loops are declared edges of the graph; removing the edge from craving to use
lowers use; rankings order by effect size."""

import pandas as pd
import pytest

from dyadsim.analysis.knockout import plan_knockouts, rank, run_knockouts
from dyadsim.engine.batch import Setting
from dyadsim.model.graph import EDGE_BY_WEIGHT, LOOP_BY_NAME, LOOPS

SETTING = Setting.from_population("pregnant_oud_moud", start="gw20", horizon="2m")


def test_named_loops_are_closed_cycles_of_declared_edges():
    assert {"stress_feedback", "coregulation", "addiction_cycle"} <= set(LOOP_BY_NAME)
    for lp in LOOPS:
        assert lp.edges[0].split("->")[0] == lp.edges[-1].split("->")[1]
        assert all(e in EDGE_BY_WEIGHT for e in lp.edges) and lp.section and lp.citation


def test_plan_knockouts_validates_names():
    kos = plan_knockouts(["craving->opioid_use"], ["coregulation"])
    assert kos["loop coregulation"] == dict.fromkeys(LOOP_BY_NAME["coregulation"].edges, 0.0)
    for bad in (dict(edges=["craving->nothing"]), dict(loops=["no_loop"]), {}):
        with pytest.raises(ValueError):
            plan_knockouts(**bad)


def test_removing_craving_to_use_lowers_use_and_ranks_first():
    kos = plan_knockouts(["craving->opioid_use", "mindfulness->savoring"], ["addiction_cycle"])
    table = run_knockouts(SETTING, kos, ["use_share"], dyads=200, seed=1)
    eff = table.set_index("knockout")["effect"]
    assert eff["edge craving->opioid_use"] < 0
    assert table.loc[table.knockout == "edge craving->opioid_use", "ci_high"].item() < 0
    assert eff["edge mindfulness->savoring"] == 0.0  # no MORE course: savoring never trains
    r = rank(table, "use_share")
    assert list(r["rank"]) == [1, 2, 3]
    assert r["effect"].abs().is_monotonic_decreasing
    assert isinstance(r, pd.DataFrame)
