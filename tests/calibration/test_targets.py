"""Target schema: the shipped published set, round trips, one-line errors naming the target
and the field, and the standard errors derived from CIs, p-values and N."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dyadsim.calibration.targets import (
    TargetError,
    load_targets,
    observed_se,
    parse_targets,
    published_targets_path,
    se_from_ci,
)

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "tests" / "data" / "published.toml"


def test_every_published_result_is_converted():
    shipped = load_targets()
    source = tomllib.loads(VENDORED.read_text())["target"]
    assert [t.id for t in shipped] == [t["id"] for t in source]
    assert len(shipped) == 22
    # each converted target keeps the published number (or its sign-flipped contrast)
    for t, s in zip(shipped, source, strict=True):
        if "value" in s and t.observed.value is not None and s["statistic"] == t.statistic:
            assert abs(t.observed.value) == pytest.approx(abs(s["value"]))


def test_shipped_targets_are_package_data():
    path = published_targets_path()
    assert path.is_file()
    assert "dyadsim/data/targets" in path.as_posix()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["dyadsim"]
    assert "data/targets/*.toml" in patterns and "data/targets/designs/*.toml" in patterns


@pytest.mark.parametrize("name", sorted(p.name for p in (
    published_targets_path().parent / "designs").glob("*.toml")))
def test_shipped_designs_are_the_examples(name):
    """The packaged designs are the examples' designs (analyses aside)."""
    from dyadsim.trials.design import parse_spec

    def design(path: Path) -> dict:
        data = tomllib.loads(path.read_text())
        data.pop("analysis", None)
        return parse_spec(data).to_dict()

    example = ROOT / "examples" / name
    assert example.exists(), f"examples/{name} is missing: the target's design has no example"
    assert design(published_targets_path().parent / "designs" / name) == design(example)


def _roundtrip_dict(ts) -> dict:
    return {"target": [t.model_dump(mode="json", by_alias=True, exclude_none=True)
                       for t in ts]}


def test_round_trip_keeps_targets_and_hash():
    shipped = load_targets()
    again = parse_targets(_roundtrip_dict(shipped), base=published_targets_path().parent)
    assert [t.model_dump() for t in again] == [t.model_dump() for t in shipped]
    assert again.hash == shipped.hash


GOOD = """
[[target]]
id = "{id}"
source = "A study nobody has seen (N=40)"
statistic = "{statistic}"
{extra}
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw20"
n = 40
horizon = "13m"
[target.measure]
{measure}
[target.observed]
{observed}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "targets.toml"
    p.write_text(text)
    return p


def _one(tmp_path, statistic="proportion", measure='outcome = "moud_at_12m"',
         observed="value = 0.6", extra="", tid="t1"):
    return _write(tmp_path, GOOD.format(id=tid, statistic=statistic, measure=measure,
                                        observed=observed, extra=extra))


def test_a_good_cohort_target_loads(tmp_path):
    ts = load_targets(_one(tmp_path))
    assert len(ts) == 1 and ts.by_id("t1").cohort.n == 40


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"statistic": "median"}, "target 't1': statistic: Input should be"),
    ({"observed": "value = 0.6\ninterval = [0.1, 0.9]"},
     "target 't1': observed.value/interval/distribution: give exactly one"),
    ({"observed": "interval = [0.9, 0.1]"}, "target 't1': observed.interval: must be"),
    ({"measure": 'instrument = "pss11"\ntimepoint = "enrolment"'},
     "target 't1': measure.instrument: unknown instrument 'pss11'"),
    ({"measure": 'outcome = "moud_at_13m"'}, "target 't1': measure.outcome: unknown outcome"),
    ({"measure": 'instrument = "pss10"\ntimepoint = "gw30"'},
     "target 't1': measure.timepoint: 'gw30' must be"),
    ({"statistic": "cohens_d", "measure": 'outcome = "use_days"'},
     "target 't1': measure.contrast: cohens_d compares two arms"),
    ({"statistic": "proportion", "measure": 'outcome = "use_days"'},
     "target 't1': measure: proportion needs a binary measure"),
    ({"statistic": "correlation", "measure": 'outcome = "use_days"'},
     "target 't1': measure.with: a correlation needs a partner measure"),
    ({"measure": 'outcome = "moud_at_12m"\nwidth = 3'}, "target 't1': measure.width: unknown key"),
    ({"extra": 'design = "missing.toml"'}, "target 't1': design/cohort: give exactly one"),
])
def test_malformed_targets_name_the_target_and_field(tmp_path, kwargs, expected):
    with pytest.raises(TargetError) as err:
        load_targets(_one(tmp_path, **kwargs))
    msg = str(err.value)
    assert msg.startswith(expected), msg
    assert "\n" not in msg


def test_unreplicable_designs_name_the_target_and_field(tmp_path):
    shipped = published_targets_path().parent / "designs" / "garland2022_more_vs_sg.toml"
    base = tmp_path / shipped.name  # a design path lies inside the targets file's folder
    base.write_text(shipped.read_text())
    text = f"""
[[target]]
id = "new_trial"
source = "x"
statistic = "cohens_d"
design = "{base.name}"
[target.measure]
instrument = "comm"
timepoint = "m12"
contrast = ["MORE", "SG"]
[target.observed]
value = -0.3
"""
    with pytest.raises(TargetError, match=r"^target 'new_trial': measure.timepoint: the design "
                       r"has no assessment 'm12'"):
        load_targets(_write(tmp_path, text))
    with pytest.raises(TargetError, match=r"^target 'new_trial': measure.contrast: unknown arm "
                       r"'CBT'"):
        load_targets(_write(tmp_path, text.replace('"m12"', '"m9"').replace('"MORE", "SG"',
                                                                            '"CBT", "SG"')))
    with pytest.raises(TargetError, match=r"^target 'new_trial': design: trial spec file not "
                       r"found"):
        load_targets(_write(tmp_path, text.replace(base.name, "nowhere.toml")))
    bad_inline = text.replace(f'design = "{base.name}"', "").replace(
        "[target.measure]", '[target.design.trial]\nname = "x"\n[target.measure]')
    with pytest.raises(TargetError, match=r"^target 'new_trial': design: trial.citation: "
                       r"required field missing"):
        load_targets(_write(tmp_path, bad_inline))


def test_duplicate_ids_and_empty_files_are_refused(tmp_path):
    one = GOOD.format(id="a", statistic="proportion", measure='outcome = "nows"',
                      observed="value = 0.5", extra="")
    with pytest.raises(TargetError, match="^target 'a': id: duplicate target id$"):
        load_targets(_write(tmp_path, one + one))
    with pytest.raises(TargetError, match=r"at least one \[\[target\]\]"):
        load_targets(_write(tmp_path, "# nothing\n"))
    with pytest.raises(TargetError, match="^malformed TOML"):
        load_targets(_write(tmp_path, "[[target]\n"))


def test_se_from_a_95_percent_ci():
    # (hi - lo) / (2 x 1.959964): Li 2017 craving SMD -0.63 [-1.17, -0.08]
    assert se_from_ci(-1.17, -0.08, "smd") == pytest.approx(1.09 / 3.919928, rel=1e-6)
    assert se_from_ci(-1.17, -0.08, "smd") == pytest.approx(0.278066, abs=1e-6)
    # a ratio: log scale, mapped back at the geometric centre: RR [0.5, 2.0]
    assert se_from_ci(0.5, 2.0, "risk_ratio") == pytest.approx(math.log(4) / 3.919928, rel=1e-6)
    with pytest.raises(ValueError):
        se_from_ci(0.3, 0.1, "mean")


def test_observed_se_sources():
    ts = load_targets()
    se, how = observed_se(ts.by_id("li2017_craving"))
    assert how == "ci95" and se == pytest.approx(0.278066, abs=1e-6)
    # relative reduction 0.63 at p = .05: SE = 0.37 x |ln 0.37| / 1.959964
    se, how = observed_se(ts.by_id("garland2014_misuse_post"))
    assert how == "p_value" and se == pytest.approx(0.37 * 0.994252 / 1.959964, rel=1e-5)
    # a proportion with its arm's N: sqrt(0.45 x 0.55 / 129)
    se, how = observed_se(ts.by_id("garland2022_no_misuse_9mo_more"))
    assert how == "n" and se == pytest.approx(math.sqrt(0.45 * 0.55 / 129))
    # a mean with its SD and N: 2.3 / sqrt(152)
    se, how = observed_se(ts.by_id("gannon2021_ace_mean"), 152)
    assert how == "n" and se == pytest.approx(2.3 / math.sqrt(152))
    assert observed_se(ts.by_id("garland2022_misuse_reduction_9mo"), 250) == (None, "none")


def test_the_shipped_posterior_is_fitted_to_the_shipped_targets():
    """The posterior in the package loads (bounds, weights), was fitted to exactly the
    shipped targets, and says how (method, budget)."""
    from dyadsim.calibration import load_posterior

    post = load_posterior("shipped")
    assert post.targets_hash == load_targets().hash
    assert post.others == "prior" and len(post.parameters) >= 10
    assert post.budget["simulator_runs"] >= 100 and "history matching" in post.method
    draws = post.draws(5, seed=1)
    assert len(draws) == 5 and all(set(post.parameters) <= set(d) for d in draws)


def test_a_change_statistic_needs_change_from(tmp_path):
    """standardized_mean_change (Morris 2008) and relative_change read a change score and
    its baseline: they load with change_from, and without it the message says so."""
    shipped = published_targets_path().parent / "designs" / "garland2022_more_vs_sg.toml"
    (tmp_path / shipped.name).write_text(shipped.read_text())
    text = f"""
[[target]]
id = "pain_change"
source = "x"
statistic = "standardized_mean_change"
design = "{shipped.name}"
[target.measure]
instrument = "comm"
timepoint = "m9"
change_from = "baseline"
contrast = ["MORE", "SG"]
[target.observed]
value = -0.4
se = 0.15
"""
    assert load_targets(_write(tmp_path, text)).targets[0].measure.change_from == "baseline"
    with pytest.raises(TargetError, match=r"^target 'pain_change': measure.change_from: "
                       r"standardized_mean_change reads a change"):
        load_targets(_write(tmp_path, text.replace('change_from = "baseline"\n', "")))
    one_arm = text.replace("standardized_mean_change", "relative_change").replace(
        'contrast = ["MORE", "SG"]', 'arm = "MORE"')
    assert load_targets(_write(tmp_path, one_arm)).targets[0].statistic == "relative_change"


def test_a_change_statistic_replicates_with_its_baseline(tmp_path):
    """End to end: a one-arm cohort read at two time points gives relative_change a finite
    value (NaN if the baseline never reached the statistic)."""
    from dyadsim.calibration.replicate import replicate_study, studies_of

    text = """
[[target]]
id = "stress_change"
source = "x"
statistic = "relative_change"
[target.cohort]
preset = "adult_chronic_pain_ltot"
start = "day0"
n = 30
horizon = "60d"
[target.measure]
instrument = "pss10"
timepoint = "day56"
change_from = "enrolment"
[target.observed]
value = -0.1
se = 0.05
"""
    (study,) = studies_of(load_targets(_write(tmp_path, text)))
    value = replicate_study(study, {}, seed=1)["stress_change"]
    assert value is not None and math.isfinite(value) and -1 < value < 1


def test_a_rate_counts_events_per_person_time_in_its_window(tmp_path):
    """End to end against a direct computation: use days per 100 person-days in the first
    30 days after detox, from a simulation with the cohort's own seed and parameters."""
    from dyadsim import simulate
    from dyadsim.calibration.replicate import replicate_study, studies_of

    text = """
[[target]]
id = "use_rate"
source = "x"
statistic = "rate"
[target.cohort]
preset = "adult_after_detox"
start = "day0"
n = 30
horizon = "60d"
[target.measure]
node = "opioid_use"
window = ["enrolment", "day30"]
per = 100
[target.observed]
value = 40.0
se = 5.0
"""
    (study,) = studies_of(load_targets(_write(tmp_path, text)))
    got = replicate_study(study, {}, seed=3)["use_rate"]
    ds = simulate({"population": {"preset": "adult_after_detox"}}, dyads=30, seed=3,
                  start="day0", horizon="60d", record="daily", nodes=["opioid_use"])
    death = np.nan_to_num(ds["maternal_death_day"].values, nan=np.inf)
    alive = np.arange(30)[None, :] <= death[:, None]
    want = 100 * ds["opioid_use"].values[:, :30][alive].sum() / alive.sum()
    assert got == pytest.approx(want, rel=1e-9) and 5 < want < 95
    with pytest.raises(TargetError, match=r"measure.timepoint: a node needs a timepoint \(or, "
                       r"for a rate, a window"):
        load_targets(_write(tmp_path, text.replace('window = ["enrolment", "day30"]\n', "")))
    with pytest.raises(TargetError, match=r"measure.window: a rate counts an event node"):
        load_targets(_write(tmp_path, text.replace('statistic = "rate"', 'statistic = "mean"')))
    with pytest.raises(TargetError, match=r"measure.window: a window counts the events of an "
                       r"event node; 'craving'"):
        load_targets(_write(tmp_path, text.replace('node = "opioid_use"', 'node = "craving"')))


def test_the_day_a_mother_stops_moud_is_a_time_to_event_outcome(tmp_path):
    """moud_stop_day (the first day off MOUD) reads as an event day: survival points give
    the share stopped by each day, rising with the day."""
    from dyadsim.calibration.replicate import replicate_study, studies_of

    text = """
[[target]]
id = "moud_stops"
source = "x"
statistic = "survival_points"
[target.cohort]
preset = "pregnant_oud_moud"
start = "pp0"
n = 60
horizon = "180d"
[target.measure]
outcome = "moud_stop_day"
[target.observed.distribution]
"30" = 0.1
"180" = 0.3
"""
    (study,) = studies_of(load_targets(_write(tmp_path, text)))
    got = replicate_study(study, {"moud.stop_logit": -5.0}, seed=2)["moud_stops"]
    assert 0 < got["30"] < got["180"] < 1, got  # stops accumulate over the 180 days


def test_a_target_can_compare_two_populations(tmp_path):
    """[target.reference]: the statistic contrasts the cohort with a second population
    (arms 'cohort' and 'reference'), each simulated as the cohort would be, same seed."""
    from dyadsim import simulate
    from dyadsim.calibration.replicate import replicate_study, studies_of
    from dyadsim.stats import standardized_difference

    text = """
[[target]]
id = "use_gap"
source = "x"
statistic = "cohens_d"
[target.cohort]
preset = "adult_after_detox"
start = "day0"
n = 40
horizon = "60d"
[target.reference]
preset = "adult_methadone"
start = "day0"
n = 50
horizon = "60d"
[target.measure]
outcome = "use_share"
contrast = ["cohort", "reference"]
[target.observed]
value = 1.0
se = 0.2
"""
    (study,) = studies_of(load_targets(_write(tmp_path, text)))
    got = replicate_study(study, {}, seed=4)["use_gap"]
    a, b = (simulate({"population": {"preset": p}}, dyads=n, seed=4, start="day0",
                     horizon="60d", record="none")["use_share"].values
            for p, n in (("adult_after_detox", 40), ("adult_methadone", 50)))
    assert got == pytest.approx(standardized_difference(a, b)["d"], rel=1e-9)
    assert got > 0.5  # after detox, without MOUD, use is far more frequent than on methadone
    with pytest.raises(TargetError, match=r"measure.contrast: a reference population is "
                       r"compared with the cohort"):
        load_targets(_write(tmp_path, text.replace('statistic = "cohens_d"',
                                                   'statistic = "mean"').replace(
            'contrast = ["cohort", "reference"]', "")))


POOL_DESIGN = """
[trial]
name = "{name}"
citation = "x"
n = {n}
seed = 1
horizon = "45d"
[population]
preset = "adult_methadone"
[[arms]]
name = "MORE"
interventions = ["more"]
start = "day0"
[[arms]]
name = "TAU"
interventions = ["tau"]
start = "day0"
[[assessments]]
name = "baseline"
day = 0
instruments = ["pss10"]
"""


def test_a_pooled_target_is_the_inverse_variance_mean_of_its_designs(tmp_path):
    """pool_with: Cohen's d pooled over designs (fixed effect, weights 1 / var(d)), each
    design replicated with the same draw and seed as it would be alone."""
    from dyadsim.calibration.replicate import replicate_study, studies_of
    from dyadsim.trials.runner import run_trial

    for name, n in (("a", 30), ("b", 50)):
        (tmp_path / f"{name}.toml").write_text(POOL_DESIGN.format(name=name, n=n))
    one = """
[[target]]
id = "{id}"
source = "x"
statistic = "cohens_d"
design = "{design}"
{extra}
[target.measure]
outcome = "use_share"
contrast = ["MORE", "TAU"]
[target.observed]
value = -0.3
se = 0.1
"""
    text = "".join(one.format(id=i, design=d, extra=e) for i, d, e in (
        ("pooled", "a.toml", 'pool_with = ["b.toml"]'), ("alone_a", "a.toml", ""),
        ("alone_b", "b.toml", "")))
    studies = {s.targets[0].id: s for s in studies_of(load_targets(_write(tmp_path, text)))}
    got = replicate_study(studies["pooled"], {}, seed=5)["pooled"]
    num = den = 0.0
    for tid, name in (("alone_a", "a"), ("alone_b", "b")):
        d = replicate_study(studies[tid], {}, seed=5)[tid]
        spec = tomllib.loads((tmp_path / f"{name}.toml").read_text())
        spec["trial"]["seed"] = 5
        arm = run_trial(spec).latent["arm"].values
        n1, n2 = int((arm == "MORE").sum()), int((arm == "TAU").sum())
        w = 1 / ((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
        num, den = num + w * d, den + w
    assert got == pytest.approx(num / den, rel=1e-9)
    with pytest.raises(TargetError, match=r"pool_with: designs are pooled for cohens_d or smd"):
        load_targets(_write(tmp_path, one.format(id="x", design="a.toml",
                                                 extra='pool_with = ["b.toml"]').replace(
            '"cohens_d"', '"ratio_of_means"')))
