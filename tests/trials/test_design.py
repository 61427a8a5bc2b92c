"""Trial specs (TOML -> validated pydantic models, one-line errors naming the field) and
randomisation (permuted blocks, allocation ratios, strata, seeds).

``BASE_TOML`` is the design every trial test in this folder uses (same population, horizon
and instruments, so the engine compiles once for all of them).
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dyadsim.trials.design import (
    TrialSpec,
    TrialSpecError,
    load_spec,
    parse_spec,
    plan_trial,
    randomize,
    stratum_codes,
)

BASE_TOML = """
[trial]
name = "test_more_vs_tau"
citation = "dyadsim test design (MORE vs treatment as usual in methadone maintenance)"
n = 60
seed = 7
horizon = "60d"

[population]
preset = "adult_methadone"

[randomization]
method = "permuted_block"
block_size = 4

[[arms]]
name = "MORE"
interventions = ["more"]
allocation = 1
start = "day0"

[[arms]]
name = "TAU"
interventions = ["tau"]
allocation = 1

[[assessments]]
name = "baseline"
day = 0
instruments = ["comm", "ffmq"]

[[assessments]]
name = "post"
day = 56
instruments = ["comm", "ffmq"]

[[ema]]
instruments = ["ema_craving"]
from_day = 0
to_day = 55
prompts_per_day = 2

[dropout]
monthly_rate = 0.05
use_effect = 1.0

[[analysis]]
name = "ffmq_post"
method = "cohens_d"
instrument = "ffmq"
timepoint = "post"
treatment = "MORE"
control = "TAU"
primary = true
direction = "increase"

[[analysis]]
name = "ffmq_lmm"
method = "lmm"
instrument = "ffmq"

[[analysis]]
name = "craving_ema"
method = "ema"
instrument = "ema_craving"

[[analysis]]
name = "misuse_post"
method = "binary"
instrument = "comm"
timepoint = "post"
cutoff = 9

[[analysis]]
name = "comm_change"
method = "change_d"
instrument = "comm"
timepoint = "post"

[[analysis]]
name = "first_use"
method = "cox"
event = "first_use"

[[analysis]]
name = "mediation_craving"
method = "mediation"
instrument = "comm"
timepoint = "post"
mediator = "ema_craving"
n_boot = 100

[[analysis]]
name = "not_misusing"
method = "proportion"
instrument = "comm"
timepoint = "post"
cutoff = 9
below = true

[[analysis]]
name = "ffmq_pre_post"
method = "pre_post"
instrument = "ffmq"
timepoint = "post"
treatment = "MORE"
"""

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))


def base_spec(**trial) -> dict:
    """A fresh copy of the base design as a dict; keyword arguments override [trial]."""
    d = tomllib.loads(BASE_TOML)
    d["trial"].update(trial)
    return d


# --------------------------------------------------------------------------- valid specs
def test_valid_spec_parses_from_toml(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(BASE_TOML)
    spec = load_spec(path)
    assert isinstance(spec, TrialSpec)
    assert spec.n == 60 and spec.seed == 7 and spec.arm_names == ["MORE", "TAU"]
    assert spec.baseline == "baseline"
    by = {a.name: a for a in spec.analysis}
    # two-arm defaults: first arm = treatment; effects default per method
    assert (by["ffmq_lmm"].treatment, by["ffmq_lmm"].control) == ("MORE", "TAU")
    assert by["misuse_post"].effect == "risk_ratio"
    assert by["craving_ema"].effect == "relative_difference"
    assert by["not_misusing"].effect == "difference"
    assert by["ffmq_pre_post"].effect == "d_av" and by["ffmq_pre_post"].control is None
    d = spec.to_dict()
    json.dumps(d, allow_nan=False)
    assert parse_spec(d) == spec  # the parsed dict round-trips


def test_plan_run_in_and_nodes():
    plan = plan_trial(parse_spec(base_spec()))
    # COMM looks back 30 days from study day 0: 29 days of run-in
    assert plan.run_in == 29 and plan.study_days == 60 and plan.total_days == 89
    assert set(plan.nodes) == {"craving", "mindfulness", "moud", "opioid_use"}
    assert [p for p in plan.arm_params] == [{}, {}]


def test_explicit_run_in_and_pregnant_start():
    d = base_spec(run_in_days=0)
    assert plan_trial(parse_spec(d)).run_in == 0
    d = base_spec(horizon="3m")
    d["population"] = {"preset": "pregnant_oud_moud", "start": "gw20"}
    d["assessments"].append({"name": "pp1m", "postpartum_day": 30, "instruments": ["kips"]})
    plan = plan_trial(parse_spec(d))
    assert plan.run_in == 35 and plan.sim_start == "gw15"  # whole weeks in gestation
    assert plan.pregnancy and "parenting_behavior" in plan.nodes


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_parse(path):
    spec = load_spec(path)
    assert spec.analysis, f"{path.name} has no analysis"
    plan_trial(spec)


# --------------------------------------------------------------------------- errors
def _set(path: str, value):
    """A mutation of the base dict at a dotted path with list indices, e.g. arms.0.name."""
    def apply(d):
        *parents, last = path.split(".")
        cur = d
        for p in parents:
            cur = cur[int(p)] if p.isdigit() else cur[p]
        if value is _DELETE:
            del cur[int(last) if last.isdigit() else last]
        elif last.isdigit():
            cur[int(last)] = value
        else:
            cur[last] = value
        return d
    return apply


_DELETE = object()

BAD = [
    ("unknown key", _set("trial.colour", "red"), "trial.colour: unknown key"),
    ("unknown key in arm", _set("arms.0.dose", 2), "arms[0:MORE].dose: unknown key"),
    ("unknown section", _set("extras", {}), "extras: unknown key"),
    ("missing name", _set("trial.name", _DELETE), "trial.name: required field missing"),
    ("n as text", _set("trial.n", "60"), "trial.n"),
    ("seed negative", _set("trial.seed", -1), "trial.seed"),
    ("unknown intervention", _set("arms.0.interventions", ["more", "yoga"]),
     "arms[0:MORE].interventions: unknown intervention 'yoga'"),
    ("no interventions", _set("arms.1.interventions", []), "arms[1:TAU].interventions"),
    ("allocation zero", _set("arms.0.allocation", 0), "arms[0:MORE].allocation"),
    ("allocation negative", _set("arms.1.allocation", -2), "arms[1:TAU].allocation"),
    ("allocation fraction", _set("arms.1.allocation", 1.5), "arms[1:TAU].allocation"),
    ("duplicate arm", _set("arms.1.name", "MORE"), "arms[1].name: duplicate arm"),
    ("course start in gestation", _set("arms.0.start", "gw20"), "arms[0:MORE].start"),
    ("unknown instrument", _set("assessments.0.instruments", ["comm", "pss11"]),
     "assessments[0:baseline].instruments: unknown instrument 'pss11'"),
    ("day and postpartum_day", _set("assessments.1.postpartum_day", 30),
     "assessments[1:post].day/postpartum_day"),
    ("neither day", _set("assessments.1.day", _DELETE), "assessments[1:post].day/postpartum_day"),
    ("postpartum without pregnancy",
     lambda d: (d["assessments"][1].pop("day"), d["assessments"][1].update(postpartum_day=30),
                d)[-1], "assessments[1:post].postpartum_day: needs a population with a "
     "pregnancy"),
    ("day after horizon", _set("assessments.1.day", 90), "assessments[1:post].day"),
    ("ema not an ema instrument", _set("ema.0.instruments", ["comm"]), "ema[0].instruments"),
    ("one-day ema period", _set("ema.0.to_day", 0), None),  # valid
    ("ema to_day late", _set("ema.0.to_day", 100), "ema[0].to_day"),
    ("randomisation method", _set("randomization.method", "urn"), "randomization.method"),
    ("block size", _set("randomization.block_size", 3), "randomization.block_size"),
    ("strata without stratified", _set("randomization.strata", ["craving"]),
     "randomization.strata: only for method = 'stratified'"),
    ("stratified without strata", _set("randomization.method", "stratified"),
     "randomization.strata"),
    ("stratum not a node",
     lambda d: (d["randomization"].update(method="stratified", strata=["income"]), d)[-1],
     "randomization.strata: unknown node 'income'"),
    ("simple with block size", _set("randomization.method", "simple"),
     "randomization.block_size"),
    ("population preset", _set("population.preset", "martians"), "population.preset"),
    ("population parameter", _set("population.params", {"nope.tau": 1.0}),
     "population.params"),
    ("population start", _set("population.start", "gw20"), "population.start"),
    ("horizon", _set("trial.horizon", "2y"), "trial.horizon"),
    ("analysis unknown arm", _set("analysis.0.treatment", "Yoga"),
     "analysis[0:ffmq_post].treatment: unknown arm 'Yoga'"),
    ("analysis unknown timepoint", _set("analysis.0.timepoint", "fu12"),
     "analysis[0:ffmq_post].timepoint: unknown timepoint 'fu12'"),
    ("analysis unknown instrument", _set("analysis.0.instrument", "ffmq2"),
     "analysis[0:ffmq_post].instrument: unknown instrument 'ffmq2'"),
    ("analysis instrument not measured", _set("analysis.0.instrument", "pss10"),
     "analysis[0:ffmq_post].instrument: pss10 is not measured"),
    ("analysis unknown method", _set("analysis.0.method", "anova"), "analysis[0:ffmq_post]"
     ".method"),
    ("analysis same arms", _set("analysis.0.control", "MORE"),
     "analysis[0:ffmq_post].control: must differ"),
    ("binary without cutoff", _set("analysis.3.cutoff", _DELETE),
     "analysis[3:misuse_post].cutoff: required"),
    ("cox without event", _set("analysis.5.event", _DELETE), "analysis[5:first_use].event"),
    ("cox unknown event", _set("analysis.5.event", "relapse"), "analysis[5:first_use].event"),
    ("mediation without mediator", _set("analysis.6.mediator", _DELETE),
     "analysis[6:mediation_craving].mediator"),
    ("bad effect", _set("analysis.3.effect", "hazard_ratio"), "analysis[3:misuse_post].effect"),
    ("duplicate analysis", _set("analysis.1.name", "ffmq_post"), "analysis[1:ffmq_post].name"),
    ("reserved analysis name", _set("analysis.1.name", "arms"), "analysis[1:arms].name"),
    ("ema analysis without ema", _set("analysis.2.instrument", "ema_stress"),
     "analysis[2:craving_ema].instrument"),
    ("dropout rate", _set("dropout.monthly_rate", 1.5), "dropout.monthly_rate"),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in BAD],
                         ids=[b[0] for b in BAD])
def test_spec_errors_name_the_field(mutate, expected):
    d = mutate(copy.deepcopy(base_spec()))
    if expected is None:
        parse_spec(d)
        return
    with pytest.raises(TrialSpecError) as info:
        parse_spec(d)
    msg = str(info.value)
    assert "\n" not in msg
    assert expected in msg, msg
    assert isinstance(info.value, ValueError)


def test_three_arms_need_explicit_treatment_and_control():
    d = base_spec()
    d["arms"].append({"name": "SG", "interventions": ["supportive_group"]})
    d["randomization"]["block_size"] = 6
    with pytest.raises(TrialSpecError, match=r"analysis\[1:ffmq_lmm\]\.treatment: required"):
        parse_spec(d)


def test_file_errors(tmp_path):
    with pytest.raises(TrialSpecError, match="not found"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[trial\nname = 1")
    with pytest.raises(TrialSpecError, match="malformed TOML"):
        load_spec(bad)


def test_with_changes_revalidates():
    spec = parse_spec(base_spec())
    assert spec.with_changes(n=100, seed=3).n == 100
    with pytest.raises(TrialSpecError, match="trial.n"):
        spec.with_changes(n=1)
    with pytest.raises(TrialSpecError, match="unknown analysis"):
        spec.with_changes(analyses=["nope"])
    assert [a.name for a in spec.with_changes(analyses=["first_use"]).analysis] == ["first_use"]


# --------------------------------------------------------------------------- randomise
def _rng(seed=0):
    return np.random.default_rng(seed)


def test_permuted_blocks_are_balanced_within_each_block():
    arms = randomize(103, [1, 1], "permuted_block", rng=_rng(), block_size=4)
    assert arms.shape == (103,) and set(arms) == {0, 1}
    for start in range(0, 100, 4):
        assert np.bincount(arms[start:start + 4], minlength=2).tolist() == [2, 2]
    # not a fixed pattern: blocks differ
    assert len({tuple(arms[i:i + 4]) for i in range(0, 100, 4)}) > 1


def test_allocation_ratio_respected():
    arms = randomize(600, [2, 1], "permuted_block", rng=_rng(1), block_size=6)
    for start in range(0, 600, 6):
        assert np.bincount(arms[start:start + 6], minlength=2).tolist() == [4, 2]
    arms = randomize(3000, [2, 1], "simple", rng=_rng(2))
    assert abs(np.mean(arms == 0) - 2 / 3) < 0.03
    arms = randomize(100, [1, 2, 1], "permuted_block", rng=_rng(3))  # default block 8
    assert np.bincount(arms[:96], minlength=3).tolist() == [24, 48, 24]


def test_stratified_is_balanced_within_strata():
    values = _rng(4).normal(size=(201, 2))
    codes = stratum_codes(values)
    assert set(codes) == {0, 1, 2, 3}
    assert (codes & 1).sum() == (values[:, 0] > np.median(values[:, 0])).sum()
    arms = randomize(201, [1, 1], "stratified", rng=_rng(5), block_size=4, strata=codes)
    for c in range(4):
        counts = np.bincount(arms[codes == c], minlength=2)
        assert abs(counts[0] - counts[1]) <= 2, (c, counts)
    with pytest.raises(ValueError, match="stratum code"):
        randomize(10, [1, 1], "stratified", rng=_rng(), block_size=4)


def test_same_seed_same_assignment():
    for method, kw in (("simple", {}), ("permuted_block", {"block_size": 4}),
                       ("stratified", {"block_size": 4,
                                       "strata": np.arange(50) % 3})):
        a = randomize(50, [1, 1], method, rng=_rng(9), **kw)
        b = randomize(50, [1, 1], method, rng=_rng(9), **kw)
        c = randomize(50, [1, 1], method, rng=_rng(10), **kw)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)
