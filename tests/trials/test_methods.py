"""The analysis-method registry: a new method is one entry (spec checks, validation, run and
replicate summaries all read it), every estimate is one uniform shape, and validating a spec
neither plans the trial nor changes the spec."""

from __future__ import annotations

import numpy as np
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
