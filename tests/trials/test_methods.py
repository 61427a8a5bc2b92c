"""The analysis-method registry: a new method is one entry (spec checks, validation, run and
replicate summaries all read it), every estimate is one uniform shape, and validating a spec
neither plans the trial nor changes the spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest

from dyadsim.trials import methods as M
from dyadsim.trials import plan as plan_mod
from dyadsim.trials.spec import TrialSpecError, parse_spec
from dyadsim.trials.trial import run_trial

from .test_design import base_spec


def _median_difference(inp: M.AnalysisInput, a) -> M.Estimate:
    v = inp.values_at(a.instrument, a.timepoint)
    t, c = v[inp.arms == a.treatment], v[inp.arms == a.control]
    diff = float(np.nanmedian(t) - np.nanmedian(c))
    return M.Estimate(diff, None, None, None, estimand="difference in medians",
                      missing_data=M.COMPLETE_CASE, detail={"n": int(np.isfinite(v).sum())})


def test_a_new_method_is_one_registry_entry(monkeypatch):
    entry = M.Method("median_difference", ("difference",),
                     frozenset({"instrument", "timepoint"}), M._check_between,
                     _median_difference, "difference in medians")
    monkeypatch.setitem(M.METHODS, entry.name, entry)
    d = base_spec()  # the base design's analyses stay: same recorded nodes, no recompilation
    d["analysis"].append({"name": "ffmq_median", "method": "median_difference",
                          "instrument": "ffmq", "timepoint": "post"})
    i = len(d["analysis"]) - 1
    spec = parse_spec(d)
    a = spec.analysis[i]
    assert (a.treatment, a.control, a.effect) == ("MORE", "TAU", "difference")  # defaults
    res = run_trial(spec).results["ffmq_median"]
    assert res["error"] is None and res["estimate"] > 0  # MORE raises mindfulness
    assert res["estimand"] == "difference in medians" and res["significant"] is None
    # the entry's own checks apply
    d["analysis"][i]["timepoint"] = None
    with pytest.raises(TrialSpecError, match=rf"analysis\[{i}:ffmq_median\].timepoint: required"):
        parse_spec(d)
    d["analysis"][i].update(timepoint="post", cutoff=3.0)
    with pytest.raises(TrialSpecError, match="cutoff: not used by median_difference"):
        parse_spec(d)


def test_unknown_method_names_the_registry():
    d = base_spec()
    d["analysis"][0]["method"] = "anova"
    with pytest.raises(TrialSpecError, match=r"method: unknown method 'anova'; choose from "
                       r"lmm, binary, .*proportion"):
        parse_spec(d)


def test_every_registered_method_has_effects_and_a_null():
    for name, m in M.METHODS.items():
        assert m.name == name and m.effects and m.summary
        for e in m.effects:
            assert m.null(e) == (1.0 if e.endswith("_ratio") else 0.0)


def test_validation_neither_plans_nor_changes_the_spec(monkeypatch):
    def no_planning(spec):
        raise AssertionError("validation built a plan")

    monkeypatch.setattr(plan_mod, "plan_trial", no_planning)
    spec = parse_spec(base_spec())  # validates every analysis of the base design
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        spec.analysis[0].treatment = "TAU"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        spec.trial.n = 3


def _cox_input(deaths):
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    n, days = 60, 30
    use = np.zeros((n, days), dtype=np.float32)
    first = rng.integers(1, days, n)
    use[np.arange(n), first] = 1.0
    use[:5, 0] = 1.0  # already using at study day 0: not at risk of a first use
    arms = np.array(["A", "B"] * (n // 2), dtype=object)
    return M.AnalysisInput(spec=None, plan=SimpleNamespace(run_in=0, study_days=days),
                           data=None, ids=np.arange(n), arms=arms,
                           dropout=np.full(n, np.inf), nodes={"opioid_use": use}, seed=0,
                           alpha=0.05, deaths=deaths), first


def test_cox_at_risk_set_and_maternal_death_as_censoring():
    from types import SimpleNamespace

    a = SimpleNamespace(event="first_use", treatment="A", control="B")
    inp, first = _cox_input(None)
    alive = M._run_cox(inp, a)
    assert alive.detail["n"] == 55 and alive.detail["n_excluded_not_eligible"] == 5
    assert alive.detail["n_events"] == 55  # everyone at risk uses within the study
    assert "no maternal deaths" in alive.missing_data
    deaths = np.full(60, np.nan)
    deaths[5:25] = first[5:25] - 1  # these mothers die the day before their first use
    died = M._run_cox(_cox_input(deaths)[0], a)
    assert died.detail["n_events"] == 35  # a death censors: no event after it
    assert "maternal death censors" in died.missing_data


def test_cox_primary_p_is_the_log_rank_test_and_the_ci_the_cox_wald_interval():
    """The reported p is lifelines' log-rank test on the same at-risk set (the Cox score
    test, which holds its level with few events where the Wald test does not), the
    estimate and CI the Cox fit's hazard ratio."""
    from types import SimpleNamespace

    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    a = SimpleNamespace(event="first_use", treatment="A", control="B")
    inp, first = _cox_input(None)
    est = M._run_cox(inp, a)
    at_risk = np.arange(60) >= 5
    t, arm = first[at_risk] + 1.0, inp.arms[at_risk]
    e = np.ones(t.size)
    lr = logrank_test(t[arm == "A"], t[arm == "B"], e[arm == "A"], e[arm == "B"])
    assert est.p == pytest.approx(lr.p_value, rel=1e-12)
    cph = CoxPHFitter().fit(pd.DataFrame({"T": t, "E": e, "x": (arm == "A").astype(float)}),
                            "T", "E")
    assert est.estimate == pytest.approx(float(np.exp(cph.params_["x"])), rel=1e-9)
    assert est.ci_lower < est.estimate < est.ci_upper
    assert est.p != est.detail["hazard_ratio"]["p"]  # not the Wald p
    assert "log-rank" in est.estimand


def test_the_mediation_power_summary_names_the_test_it_counts():
    """A replicate counts as significant by the Estimate's p (the Monte Carlo test of a*b
    from the Rubin-pooled paths), and the summary says so (it said 'bootstrap CI excludes
    0', then named a Rubin-pooled t test that is no longer run)."""
    from pathlib import Path

    from dyadsim.trials.replicates import _summaries
    from dyadsim.trials.spec import load_spec

    spec = load_spec(Path(__file__).parents[2] / "examples" / "garland2014_more_vs_sg.toml")
    name = "mediation_reward_responsiveness"
    per_rep = [{"replicate": i, "results": {name: {
        "estimate": est, "ci_lower": est - 1, "ci_upper": est + 1, "p": p,
        "significant": p < 0.05}}}
        for i, (est, p) in enumerate([(-0.3, 0.01), (-0.2, 0.2), (0.4, 0.03), (-0.5, 0.04)])]
    out = _summaries(spec, per_rep, [name], 0.05)[name]
    assert "Monte Carlo test of a*b" in out["significance"]
    assert "bootstrap CI" not in out["significance"]
    # significant and in the pre-specified direction (decrease): replicates 0 and 3
    assert out["rejections"] == 2 and out["n_wrong_direction"] == 1
