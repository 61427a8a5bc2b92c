"""Tests of the measurement layer (dyadsim.trials.instruments).

Realised properties (issue 7, section 1): each reference population is simulated once
(module fixture, 600 dyads, a seed other than the calibration's), the instruments measured
as a trial does, and the realised reliability (squared correlation of error-free and
observed scores) must lie within 0.05 of the published (or declared) value, the observed
SD within 20%, and the test-retest r inside its published range, for every published
figure. Figures the model cannot give are strict xfails that name why (they fail the suite
once the model can give them).

Other tolerances (stated so the tests can fail):
- error SD: SD(observed - true) within 10% of sqrt(SEM^2 + step^2/12) over 20,000 draws
  (sampling error of an SD at n=20k is about 0.5%; rounding adds step^2/12);
- missingness: observed missing fraction within +-0.01 of missing_rate (n=40,000; binomial
  SD <= 0.0025);
- EMA compliance: answered fraction within +-0.02 of the compliance (>= 16,800 prompts);
- SSP: misclassified fraction within +-0.005 of 0.05 (n=40,000; SD 0.0011);
- monotonicity: mean at latent 0.8 minus mean at 0.2 exceeds 3 standard errors in the
  declared direction (n=20,000 per level);
- urine window and Finnegan rule: exact on hand-built sequences.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dyadsim.trials.instruments import (
    ASQ3_DOMAINS,
    ATTACHMENT_CLASSES,
    COMM_CUTOFF_PAIN_CLINIC,
    EVENT_NODES,
    INSTRUMENTS,
    UDS_WINDOW_DAYS,
    CodedClassification,
    EMAScale,
    Instrument,
    ItemScale,
    NotCalibratedError,
    ScaleScore,
    UnknownInstrumentError,
    asq3_referral,
    ema_prompts,
    epds_positive,
    finnegan_scores,
    finnegan_treatment_rule,
    get_instrument,
    kips_band,
    misuse_positive,
    pbq_positive,
    registry_table,
)
from dyadsim.trials.instruments.calibrate import check, format_rows

BINARY_SERIES = EVENT_NODES | {"moud"}
LATENT_NODES = {
    "cognitive_appraisal",
    "stress_arousal",
    "negative_affect",
    "positive_affect",
    "craving",
    "opioid_use",
    "opioid_dose",
    "attentional_bias",
    "natural_reward_responsiveness",
    "drug_reward_salience",
    "mindfulness",
    "reappraisal",
    "maternal_depression",
    "parenting_behavior",
    "stressor",
    "infant_affect_behavior",
    "prenatal_bonding",
    "salience_of_infant_cues",
    "dyadic_synchrony",
    "infant_stress_reactivity",
    "neonatal_withdrawal",
    "wellbeing_physical",
    "wellbeing_psychological",
    "wellbeing_cognitive",
    "wellbeing_social",
    "wellbeing_economic",
    "moud",
    "prescribed_opioid",
    "overdose",
    "cps_report",
    "attachment_class",
}
REQUIRED = {
    "pss10",
    "comm",
    "tlfb_use_days",
    "uds_opioid",
    "ema_craving",
    "ema_stress",
    "ema_positive_affect",
    "dot_probe_ms",
    "hrv_reward_response",
    "csosi",
    "ffmq",
    "epds",
    "kips",
    "psi_sf",
    "pbq",
    "infant_cue_reward",
    "coregulation",
    "infant_cortisol",
    "finnegan",
    "ssp",
    "moud_retained",
    "records_overdose",
    "records_cps",
} | {f"asq3_{d}" for d in ASQ3_DOMAINS}

NUMERIC = sorted(n for n, i in INSTRUMENTS.items() if not isinstance(i, CodedClassification))
SCALE_SCORES = sorted(n for n, i in INSTRUMENTS.items() if isinstance(i, ScaleScore))


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def build_inputs(
    inst: Instrument, n: int, rng: np.random.Generator, levels: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Inputs at constant latent levels (default 0.5); event/MOUD series are Bernoulli."""
    levels = levels or {}
    out: dict[str, np.ndarray] = {}
    for r in inst.reads:
        p = levels.get(r, 0.5)
        if r == "attachment_class":
            out[r] = np.array(["secure"] * n, dtype=object)
        elif inst.series and r in BINARY_SERIES:
            out[r] = (rng.random((n, inst.window_days)) < p).astype(float)
        elif inst.series:
            out[r] = np.full((n, inst.window_days), p)
        else:
            out[r] = np.full(n, p)
    return out


def at_composite(inst: ScaleScore | ItemScale, c: float, n: int) -> dict[str, np.ndarray]:
    return {
        r: np.full(n, c if w > 0 else 1.0 - c)
        for r, w in zip(inst.reads, inst.weights, strict=True)
    }


def _with_error(inst: ScaleScore, sd: float, rel: float) -> ScaleScore:
    """The instrument with another error SD and reliability (its norm's, if it has one)."""
    norm = None if inst.norm is None else replace(inst.norm, sd=sd, reliability=rel)
    return replace(inst, sd_obs=sd, reliability=rel, norm=norm)


def reference_levels(inst: Instrument) -> dict[str, float]:
    """Read levels that put a reference-scaled score's composite at its reference mean."""
    if not isinstance(inst, ScaleScore | ItemScale) or inst.norm is None:
        return {}
    c = inst.latent.mean
    return {r: c if w > 0 else 1.0 - c for r, w in zip(inst.reads, inst.weights, strict=True)}


def direction(inst: Instrument, read: str) -> int:
    if isinstance(inst, ScaleScore | ItemScale):
        return 1 if inst.weights[inst.reads.index(read)] > 0 else -1
    return 1


# ---------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------


def test_registry_holds_required_instruments_with_metadata():
    assert REQUIRED <= set(INSTRUMENTS)
    for name, inst in INSTRUMENTS.items():
        assert inst.name == name
        assert inst.label and inst.construct and inst.error_model and inst.source
        assert isinstance(inst.guess, str)
        assert set(inst.reads) <= LATENT_NODES, name
        assert 0.0 <= inst.missing_rate < 1.0
        assert inst.window_days >= 1
    table = registry_table()
    assert list(table["name"]) == list(INSTRUMENTS)


def test_what_reads_what():
    assert INSTRUMENTS["pss10"].reads == ("cognitive_appraisal", "negative_affect")
    assert INSTRUMENTS["comm"].reads == ("craving", "opioid_use")
    assert INSTRUMENTS["psi_sf"].reads == (
        "stressor",
        "infant_affect_behavior",
        "parenting_behavior",
    )
    assert set(INSTRUMENTS["pbq"].reads) == {"prenatal_bonding", "salience_of_infant_cues"}
    assert INSTRUMENTS["tlfb_use_days"].series and INSTRUMENTS["uds_opioid"].series
    assert not INSTRUMENTS["pss10"].series


def test_unknown_instrument_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="no_such_scale") as info:
        get_instrument("no_such_scale")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, UnknownInstrumentError)
    assert "pss10" in str(info.value) and "finnegan" in str(info.value)
    assert get_instrument("pss10") is INSTRUMENTS["pss10"]


# ---------------------------------------------------------------------------------------
# ranges, floors, ceilings (property-based)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_observations_respect_scale(name, data, n, seed):
    inst = INSTRUMENTS[name]
    inputs = {}
    for r in inst.reads:
        if r == "attachment_class":
            inputs[r] = np.array(
                data.draw(st.lists(st.sampled_from(ATTACHMENT_CLASSES), min_size=n, max_size=n)),
                dtype=object,
            )
        elif inst.series:
            shape = (n, inst.window_days + data.draw(st.integers(0, 3)))
            elems = st.sampled_from([0.0, 1.0]) if r in EVENT_NODES else st.floats(0.0, 1.0)
            inputs[r] = data.draw(hnp.arrays(np.float64, shape, elements=elems))
        else:
            inputs[r] = data.draw(hnp.arrays(np.float64, (n,), elements=st.floats(0.0, 1.0)))
    obs = inst.measure(inputs, _rng(seed))
    assert obs.shape == (n,)
    if isinstance(inst, CodedClassification):
        assert all(v is None or v in ATTACHMENT_CLASSES for v in obs)
        return
    vals = obs[~np.isnan(obs)]
    lo, hi = inst.scale
    assert np.all(vals >= lo) and np.all(vals <= hi)
    step = inst.step if isinstance(inst, ScaleScore) else (1.0 if inst.integer else None)
    if step is not None:
        k = (vals - lo) / step
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    true = inst.true_score(inputs)
    assert np.all(true[~np.isnan(true)] >= lo) and np.all(true[~np.isnan(true)] <= hi)


@pytest.mark.parametrize("name", SCALE_SCORES)
def test_floor_and_ceiling_are_reached_not_crossed(name):
    inst = replace(INSTRUMENTS[name], missing_rate=0.0)
    lo, hi = inst.scale
    # push far past the scale with a huge SEM: everything must pile up on lo and hi
    huge = 5000.0 if inst.link == "log" else 1e6 * (hi - lo)
    wild = _with_error(inst, huge, 0.01)
    obs = wild.measure(at_composite(inst, 0.5, 2000), _rng(1))
    assert obs.min() == pytest.approx(lo) and obs.max() == pytest.approx(hi)
    assert np.mean((obs == lo) | (obs == hi)) > 0.99


def test_map_must_stay_on_scale():
    fin = INSTRUMENTS["finnegan"]
    with pytest.raises(ValueError, match="outside the scale"):
        replace(fin, anchors=(fin.anchors[0], replace(fin.anchors[1], latent=0.5)))
    with pytest.raises(ValueError, match="either a norm or two anchors"):
        replace(INSTRUMENTS["csosi"], anchors=fin.anchors)
    with pytest.raises(ValueError, match="must be the norm's"):
        replace(INSTRUMENTS["csosi"], sd_obs=3.0)


def test_uncalibrated_score_says_how_to_calibrate():
    bare = replace(INSTRUMENTS["comm"], latent=None)
    with pytest.raises(NotCalibratedError, match="instruments.calibrate"):
        bare.measure({"craving": np.full(3, 0.2), "opioid_use": np.full(3, 0.1)}, _rng(0))


# ---------------------------------------------------------------------------------------
# error model
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCALE_SCORES)
def test_error_sd_matches_sem(name):
    inst = replace(INSTRUMENTS[name], missing_rate=0.0)
    lo, hi = inst.scale
    grid = sorted(np.linspace(0.0, 1.0, 41), key=lambda c: abs(c - 0.5))
    if inst.latent is not None:
        grid.insert(0, inst.latent.mean)  # the reference mean: the score's norm mean
    c = None
    for cand in grid:  # a latent level where +-3 SEM stays off the floor and ceiling
        t = float(inst.map_latent(cand))
        band = (t * math.exp(-3 * inst.sem), t * math.exp(3 * inst.sem))
        if inst.link == "linear":
            band = (t - 3 * inst.sem, t + 3 * inst.sem)
        if band[0] > lo and band[1] < hi:
            c = cand
            break
    assert c is not None, "no latent level keeps the error off the scale limits"
    inputs = at_composite(inst, c, 20_000)
    obs, true = inst.measure(inputs, _rng(2)), inst.true_score(inputs)
    resid = np.log(obs / true) if inst.link == "log" else obs - true
    step = inst.step or 0.0
    expected = math.sqrt(inst.sem**2 + step**2 / 12.0)
    assert abs(resid.std() / expected - 1.0) < 0.10
    assert abs(resid.mean()) < 0.05 * expected + 0.1 * step


def test_tlfb_recall_noise_matches_icc_sem():
    inst = replace(INSTRUMENTS["tlfb_use_days"], underreport=0.0, missing_rate=0.0)
    series = np.zeros((20_000, 30))
    series[:, ::2] = 1.0  # 15 use days each
    obs = inst.measure({"opioid_use": series}, _rng(3))
    resid = obs - 15.0
    expected = math.sqrt(inst.sem**2 + 1 / 12)
    assert abs(resid.std() / expected - 1.0) < 0.10
    assert abs(resid.mean()) < 0.1


def test_tlfb_underreporting_and_abstinence():
    inst = replace(INSTRUMENTS["tlfb_use_days"], missing_rate=0.0)
    assert inst.underreport == pytest.approx(0.2)
    daily = np.ones((20_000, 30))
    obs = inst.measure({"opioid_use": daily}, _rng(4))
    assert obs.mean() == pytest.approx(0.8 * 30, abs=0.3)
    none = inst.measure({"opioid_use": np.zeros((500, 30))}, _rng(4))
    assert np.all(none == 0.0)
    # a longer history is accepted; only the last window_days count
    hist = np.hstack([np.ones((3, 60)), np.zeros((3, 30))])
    assert np.all(inst.measure({"opioid_use": hist}, _rng(5)) == 0.0)
    inst90 = inst.with_window(90)
    assert inst90.scale == (0, 90)
    assert inst90.true_score({"opioid_use": hist}).tolist() == [60.0] * 3


def test_ema_momentary_noise():
    df = ema_prompts(np.full((500, 14), 0.5), 3, 1.0, _rng(6), momentary_sd=1.0)
    resid = df["value"] - 5.0
    expected = math.sqrt(1.0 + 1 / 12)
    assert abs(resid.std() / expected - 1.0) < 0.10


# ---------------------------------------------------------------------------------------
# monotonicity and anchors
# ---------------------------------------------------------------------------------------

PAIRS = [(n, r) for n in NUMERIC for r in INSTRUMENTS[n].reads]


@pytest.mark.parametrize(("name", "read"), PAIRS)
def test_monotone_in_each_read(name, read):
    inst = INSTRUMENTS[name]
    n = 20_000
    base = reference_levels(inst)
    lo_lvl, hi_lvl = 0.2, 0.8
    if base:  # two latent SDs either side of the reference mean (in the read's units)
        share = abs(inst.weights[inst.reads.index(read)]) / sum(map(abs, inst.weights))
        step = min(0.3, 2.0 * inst.latent_unit / share)
        lo_lvl = float(np.clip(base[read] - step, 0.0, 1.0))
        hi_lvl = float(np.clip(base[read] + step, 0.0, 1.0))
    lo_obs = inst.measure(build_inputs(inst, n, _rng(7), {**base, read: lo_lvl}), _rng(8))
    hi_obs = inst.measure(build_inputs(inst, n, _rng(9), {**base, read: hi_lvl}), _rng(10))
    lo_obs, hi_obs = lo_obs[~np.isnan(lo_obs)], hi_obs[~np.isnan(hi_obs)]
    diff = (hi_obs.mean() - lo_obs.mean()) * direction(inst, read)
    se = math.sqrt(hi_obs.var() / hi_obs.size + lo_obs.var() / lo_obs.size)
    assert diff > 3.0 * se and diff > 0.0


def test_reversed_scales_point_the_right_way():
    assert all(w < 0 for w in INSTRUMENTS["pbq"].weights)  # more bonding -> lower PBQ
    psi = INSTRUMENTS["psi_sf"]
    assert psi.weights[psi.reads.index("parenting_behavior")] < 0
    hrv = INSTRUMENTS["hrv_reward_response"]
    assert hrv.weights[hrv.reads.index("drug_reward_salience")] < 0


def test_kips_bands():
    scores = np.array([1.0, 2.9, 3.0, 3.9, 4.0, 5.0, np.nan])
    assert kips_band(scores).tolist() == [
        "low", "low", "moderate", "moderate", "high", "high", None]


# ---------------------------------------------------------------------------------------
# missingness and EMA compliance
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(n for n, i in INSTRUMENTS.items() if not isinstance(i, EMAScale))
)
def test_missing_rate_matches(name):
    inst = INSTRUMENTS[name]
    n = 40_000
    obs = inst.measure(build_inputs(inst, n, _rng(13)), _rng(14))
    if isinstance(inst, CodedClassification):
        frac = np.mean([v is None for v in obs])
    else:
        frac = np.mean(np.isnan(obs))
    assert frac == pytest.approx(inst.missing_rate, abs=0.01)
    if inst.missing_rate == 0.0:
        assert frac == 0.0


def test_ema_compliance_rate():
    df = ema_prompts(np.full((400, 14), 0.3), 3, 0.70, _rng(15))
    assert list(df.columns) == ["dyad_id", "day", "prompt", "value"]
    assert len(df) == 400 * 14 * 3
    assert df["value"].notna().mean() == pytest.approx(0.70, abs=0.02)
    assert set(df["prompt"]) == {0, 1, 2} and df["day"].max() == 13
    answered = df["value"].dropna()
    assert answered.between(0, 10).all() and (answered == answered.round()).all()


def test_ema_instrument_compliance_and_per_dyad_compliance():
    inst = INSTRUMENTS["ema_craving"]
    assert inst.compliance == pytest.approx(0.70)
    df = inst.prompts({"craving": np.full((800, inst.window_days), 0.4)}, _rng(16))
    assert df["value"].notna().mean() == pytest.approx(0.70, abs=0.02)
    comp = np.where(np.arange(600) < 300, 0.9, 0.5)
    df2 = ema_prompts(np.full((600, 14), 0.4), 3, comp, _rng(17))
    by = df2.assign(ok=df2["value"].notna()).groupby(df2["dyad_id"] < 300)["ok"].mean()
    assert by[True] == pytest.approx(0.9, abs=0.02) and by[False] == pytest.approx(0.5, abs=0.02)


def test_ema_measure_is_mean_of_answered_prompts():
    inst = INSTRUMENTS["ema_stress"]
    rng = _rng(18)
    series = rng.random((50, inst.window_days))
    obs = inst.measure({"stress_arousal": series}, _rng(19))
    df = inst.prompts({"stress_arousal": series}, _rng(19))
    means = df.groupby("dyad_id")["value"].mean().reindex(range(50)).to_numpy()
    np.testing.assert_allclose(obs, means)


# ---------------------------------------------------------------------------------------
# urine, Finnegan, SSP, records, retention, helpers
# ---------------------------------------------------------------------------------------


def test_urine_detection_window_exact():
    uds = replace(INSTRUMENTS["uds_opioid"], false_positive=0.0, false_negative=0.0)
    uds = replace(uds, missing_rate=0.0)
    assert uds.window_days == 3
    series = np.array(
        [
            [0, 0, 0, 0, 0, 1],  # use on the test day
            [0, 0, 0, 1, 0, 0],  # 2 days before: inside the 3-day window
            [0, 0, 1, 0, 0, 0],  # 3 days before: outside
            [1, 1, 1, 0, 0, 0],  # heavy use, then 3 clean days
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 1],
        ],
        dtype=float,
    )
    expected = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert uds.measure({"opioid_use": series}, _rng(20)).tolist() == expected
    assert uds.true_score({"opioid_use": series}).tolist() == expected
    bup = uds.with_window(UDS_WINDOW_DAYS["buprenorphine"])
    long = np.zeros((2, 10))
    long[0, 3] = 1.0  # 6 days before the test day
    long[1, 2] = 1.0  # 7 days before
    assert bup.measure({"opioid_use": long}, _rng(21)).tolist() == [1.0, 0.0]


def test_urine_assay_error_rates():
    uds = replace(INSTRUMENTS["uds_opioid"], missing_rate=0.0)
    clean = uds.measure({"opioid_use": np.zeros((40_000, 3))}, _rng(22))
    user = uds.measure({"opioid_use": np.ones((40_000, 3))}, _rng(23))
    assert clean.mean() == pytest.approx(uds.false_positive, abs=0.003)
    assert user.mean() == pytest.approx(1.0 - uds.false_negative, abs=0.004)


@pytest.mark.parametrize(
    ("seq", "treat"),
    [
        ([8, 8, 8], True),
        ([7, 8, 8, 7, 8, 8], False),
        ([8, 8, 7, 8], False),
        ([12, 12], True),
        ([12, 7, 12], False),
        ([12, 11, 12], True),  # three consecutive >= 8
        ([11, 11, 11], True),
        ([3, 12, 13, 2], True),
        ([7.9, 7.9, 7.9, 11.9, 11.9], False),
        ([8, np.nan, 8, 8], True),  # a skipped scoring does not break the run
        ([12, np.nan, 12], True),
        ([], False),
        ([0, 5, 20], False),
    ],
)
def test_finnegan_rule_exact(seq, treat):
    assert finnegan_treatment_rule(np.array(seq, dtype=float)) is treat


def test_finnegan_rule_vectorised_and_scores():
    rows = np.array([[8, 8, 8, 0], [12, 0, 12, 0], [0, 12, 12, 0]], dtype=float)
    assert finnegan_treatment_rule(rows).tolist() == [True, False, True]
    fin = INSTRUMENTS["finnegan"]
    lat = (13.0 - 1.0) / 24.0  # true score 13, the vignette's expert score
    scores = finnegan_scores(np.full((2_000, 5), lat), _rng(24), scorings_per_day=8)
    assert scores.shape == (2_000, 40)
    ok = scores[~np.isnan(scores)]
    assert abs(ok.std() / math.sqrt(fin.sem**2 + 1 / 12) - 1.0) < 0.10
    assert np.isnan(scores).mean() == pytest.approx(fin.missing_rate, abs=0.01)
    # near threshold, noisy scoring makes the rule fire for infants below it
    low = finnegan_scores(np.full((2_000, 2), (7.0 - 1.0) / 24.0), _rng(25))
    assert 0.1 < finnegan_treatment_rule(low).mean() < 1.0


def test_ssp_misclassification_rate():
    ssp = replace(INSTRUMENTS["ssp"], missing_rate=0.0)
    n = 40_000
    for cls in ATTACHMENT_CLASSES:
        obs = ssp.measure({"attachment_class": np.array([cls] * n, dtype=object)}, _rng(26))
        wrong = obs[obs != cls]
        assert wrong.size / n == pytest.approx(0.05, abs=0.005)
        shares = pd.Series(wrong).value_counts(normalize=True)
        assert set(shares.index) == set(ATTACHMENT_CLASSES) - {cls}
        assert np.allclose(shares.to_numpy(), 1 / 3, atol=0.03)


def test_ssp_validates_and_keeps_missing():
    ssp = INSTRUMENTS["ssp"]
    with pytest.raises(ValueError, match="unknown class"):
        ssp.measure({"attachment_class": np.array(["secure", "anxious"])}, _rng(0))
    exact = replace(ssp, misclassification=0.0, missing_rate=0.0)
    obs = exact.measure({"attachment_class": np.array(["avoidant", None], dtype=object)}, _rng(0))
    assert obs.tolist() == ["avoidant", None]


def test_records_counts_and_retention():
    rec = INSTRUMENTS["records_overdose"]
    assert rec.missing_rate == 0.0
    ev = np.zeros((40_000, rec.window_days))
    ev[:, :5] = 1.0
    obs = rec.measure({"overdose": ev}, _rng(27))
    assert obs.mean() == pytest.approx(5 * rec.sensitivity, abs=0.02)
    assert np.all(rec.measure({"overdose": np.zeros((100, 90))}, _rng(27)) == 0.0)
    cps = INSTRUMENTS["records_cps"]
    assert cps.true_score({"cps_report": ev[:3]}).tolist() == [5.0] * 3
    moud = INSTRUMENTS["moud_retained"]
    hist = np.zeros((4, 180))
    hist[0, :] = 0.8  # on throughout
    hist[1, :90] = 0.8  # dropped out
    hist[2, -1] = 0.3  # re-entered by the end
    hist[3, -1] = np.nan
    got = moud.measure({"moud": hist}, _rng(28))
    np.testing.assert_array_equal(got, [1.0, 0.0, 1.0, np.nan])


def test_cutoff_helpers():
    s = np.array([8.0, 9.0, 12.0, 13.0, np.nan])
    np.testing.assert_array_equal(misuse_positive(s), [0, 0, 0, 1, np.nan])
    np.testing.assert_array_equal(
        misuse_positive(s, cutoff=COMM_CUTOFF_PAIN_CLINIC), [0, 1, 1, 1, np.nan]
    )
    np.testing.assert_array_equal(epds_positive([12, 13]), [0, 1])
    np.testing.assert_array_equal(pbq_positive([12, 13]), [0, 1])
    np.testing.assert_array_equal(asq3_referral([25, 30, 35, np.nan]), [1, 0, 0, np.nan])


# ---------------------------------------------------------------------------------------
# input handling and reproducibility
# ---------------------------------------------------------------------------------------


def test_input_validation():
    pss, tlfb = INSTRUMENTS["pss10"], INSTRUMENTS["tlfb_use_days"]
    with pytest.raises(ValueError, match="negative_affect"):
        pss.measure({"cognitive_appraisal": np.ones(3)}, _rng(0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pss.measure(
            {"cognitive_appraisal": np.full(3, 16.0), "negative_affect": np.ones(3)}, _rng(0)
        )
    with pytest.raises(ValueError, match="at least 30 days"):
        tlfb.measure({"opioid_use": np.zeros((2, 10))}, _rng(0))
    with pytest.raises(ValueError, match="0/1"):
        tlfb.measure({"opioid_use": np.full((2, 30), 0.5)}, _rng(0))
    with pytest.raises(ValueError, match="daily series"):
        tlfb.measure({"opioid_use": np.zeros(30)}, _rng(0))
    with pytest.raises(ValueError, match="disagree"):
        pss.measure({"cognitive_appraisal": np.ones(3), "negative_affect": np.ones(4)}, _rng(0))


def test_nan_latent_gives_nan_observation():
    pss = replace(INSTRUMENTS["pss10"], missing_rate=0.0)
    obs = pss.measure(
        {"cognitive_appraisal": np.array([0.5, np.nan]), "negative_affect": np.full(2, 0.5)},
        _rng(0),
    )
    assert not np.isnan(obs[0]) and np.isnan(obs[1])
    tlfb = replace(INSTRUMENTS["tlfb_use_days"], missing_rate=0.0)
    series = np.zeros((2, 30))
    series[1, 4] = np.nan
    assert np.isnan(tlfb.measure({"opioid_use": series}, _rng(0))).tolist() == [False, True]


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_same_seed_same_output(name):
    inst = INSTRUMENTS[name]
    inputs = build_inputs(inst, 300, _rng(29), {r: 0.4 for r in inst.reads})
    if "attachment_class" in inputs:
        inputs["attachment_class"] = np.array(
            [ATTACHMENT_CLASSES[i % 4] for i in range(300)], dtype=object
        )
    a = inst.measure(inputs, _rng(30))
    b = inst.measure(inputs, _rng(30))
    if isinstance(inst, CodedClassification):
        assert a.tolist() == b.tolist()
    else:
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------
# realised properties in the reference populations (issue 7, section 1)
# ---------------------------------------------------------------------------------------

TEST_DYADS = 600
TEST_SEED = 7
NORMED = [n for n, i in INSTRUMENTS.items() if i.norm is not None]

@pytest.fixture(scope="module")
def all_rows():
    """The check's rows: each instrument in its reference population, item scales also in
    the populations their examples use them in."""
    return check(INSTRUMENTS, dyads=TEST_DYADS, seed=TEST_SEED)


@pytest.fixture(scope="module")
def realised(all_rows):
    return {r.instrument: r for r in all_rows if r.reference}


#: Published figures the item-level instruments miss, measured (issue 20 item 4: say so
#: with the measured figure rather than tune a constant). Item parameters are derived under
#: a normal latent (items.py); the model's own latents are skewed or flat, so these are
#: properties of the model, reported by ``dyadsim instruments --check``. Strict: the test's
#: run (600 dyads, one seed) is deterministic and misses each of them, so a change that
#: brings one back XPASSes and fails the suite until its mark is removed.
KNOWN_MISSES = {
    ("reliability", "epds"): "EPDS alpha 0.855 here (600 dyads, seed 7); 0.824-0.841 at "
    "2000 dyads over seeds 7, 11, 12, 13, 20260207 vs the published .79: the model's "
    "maternal_depression in low-risk mothers is right-skewed and the EPDS items sit in its "
    "tail",
    ("test_retest", "pbq"): "PBQ 4-week retest 0.908-0.923 (2000 dyads, 5 seeds) above the "
    ".50-.90 reading of 'moderate to good': alpha is .90-.92 and the bonding latent barely "
    "moves in 28 days",
    ("test_retest", "asq3_communication"): "ASQ-3 communication retest 0.74-0.80 at 600 "
    "dyads (0.76-0.78 at 2000) at the published .75 floor: its latent is flat in low-risk "
    "children (flagged), alpha 0.73-0.77",
}


def _cases(figure: str) -> list:
    """Instruments with ``figure`` published (declared guesses are shown by the check,
    not held to tolerances)."""
    return [pytest.param(name, id=name, marks=pytest.mark.xfail(
                reason=KNOWN_MISSES[(figure, name)], strict=True))
            if (figure, name) in KNOWN_MISSES else pytest.param(name, id=name)
            for name in NORMED if INSTRUMENTS[name].norm.is_published(figure)]


@pytest.mark.parametrize("name", _cases("reliability"))
def test_realised_reliability_within_005(realised, name):
    """A published reliability within 0.05 in the reference population, measured on a seed
    other than the calibration's: for an item scale the published figure is Cronbach's
    alpha, so its realised alpha (items answered from the model's own latent) is compared."""
    target = INSTRUMENTS[name].norm.reliability
    row = realised[name]
    got = row.realised_alpha if isinstance(INSTRUMENTS[name], ItemScale) \
        else row.realised_reliability
    assert got is not None and abs(got - target) <= 0.05, (name, target, got)


@pytest.mark.parametrize("name", _cases("sd"))
def test_realised_sd_within_20_percent(realised, name):
    target = INSTRUMENTS[name].norm.sd
    got = realised[name].realised_sd
    assert got is not None and abs(got / target - 1.0) <= 0.20, (name, target, got)


@pytest.mark.parametrize("name", _cases("test_retest"))
def test_realised_test_retest_in_published_range(realised, name):
    lo, hi = INSTRUMENTS[name].norm.test_retest
    got = realised[name].realised_test_retest
    assert got is not None and lo <= got <= hi, (name, (lo, hi), got)


@pytest.mark.parametrize("name", ["ffmq", "erq_reappraisal"])
def test_trait_skill_instruments_measure_a_persistent_trait(realised, name):
    """Untrained mindfulness and reappraisal are per-person traits (skills.trait_levels):
    the instrument has a true score that varies, so its declared reliability and SD are
    reached (with the old population-wide untrained level both were ~0)."""
    norm = INSTRUMENTS[name].norm
    got = realised[name]
    assert abs(got.realised_reliability - norm.reliability) <= 0.05, got
    assert abs(got.realised_sd / norm.sd - 1.0) <= 0.20, got


def test_published_figures_are_reported_and_others_say_so(realised):
    assert list(realised) == list(INSTRUMENTS)
    comm = realised["comm"].as_json()
    assert comm["published_reliability"] == 0.86 and comm["published_sd"] == 8.77
    assert comm["published_test_retest"] == [0.75, 1.0]
    for key in ("realised_reliability", "realised_sd", "realised_test_retest"):
        assert isinstance(comm[key], float)
    hrv = realised["hrv_reward_response"].as_json()
    assert hrv["published_reliability"] is None and hrv["declared"]["reliability"] == 0.5
    for name in ("uds_opioid", "ema_craving", "records_cps"):
        row = realised[name].as_json()
        assert row["published_reliability"] is None and row["realised_reliability"] is None
        assert "no published" in row["note"]
    assert "error only" in realised["finnegan"].note
    table = {cells[0]: cells for cells in format_rows(realised.values())}
    assert table["comm"][2].startswith("0.86 ->") and table["hrv_reward_response"][2] \
        .startswith("(0.50) ->")
    assert table["uds_opioid"][2] == "n/p"


def test_cli_instruments_check_json_and_table(all_rows, monkeypatch):
    import json

    from typer.testing import CliRunner

    import dyadsim.trials.instruments.calibrate as calibrate_module
    from dyadsim.cli import app

    monkeypatch.setattr(calibrate_module, "check", lambda *a, **k: list(all_rows))
    runner = CliRunner()
    out = runner.invoke(app, ["instruments", "--check", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["instrument"] for r in rows if r["reference"]] == list(INSTRUMENTS)
    keys = {"instrument", "published_reliability", "realised_reliability", "published_sd",
            "realised_sd", "published_test_retest", "realised_test_retest", "realised_alpha",
            "realised_omega", "parallel_forms_r", "ceiling_share", "floor_share",
            "population", "out_of_sample", "latent_too_flat"}
    assert all(keys <= set(r) for r in rows)
    items = [r for r in rows if isinstance(INSTRUMENTS[r["instrument"]], ItemScale)]
    assert items and all(isinstance(r["realised_alpha"], float) and isinstance(
        r["realised_omega"], float) and isinstance(r["parallel_forms_r"], float)
        and r["out_of_sample"] for r in items)
    table = runner.invoke(app, ["instruments", "--check"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "0.86 ->" in table.stdout and "n/p" in table.stdout
    bad = runner.invoke(app, ["instruments", "--check", "--dyads", "5"])
    assert bad.exit_code == 2 and bad.output.strip().startswith("error: --dyads")
    listing = runner.invoke(app, ["instruments", "--json"])
    assert listing.exit_code == 0
    assert [r["name"] for r in json.loads(listing.stdout)] == list(INSTRUMENTS)


def test_off_target_applies_the_check_tolerances():
    from dyadsim.trials.instruments import Norm
    from dyadsim.trials.instruments.calibrate import off_target

    norm = Norm(population="low_risk_mothers", at="pp90", sample="s", mean=10.0, sd=10.0,
                reliability=0.80, test_retest=(0.70, 0.90), retest_days=7)
    assert off_target(norm, {"reliability": 0.84, "sd": 8.1, "test_retest": 0.9}) == []
    assert off_target(norm, {"reliability": 0.86, "sd": 7.9, "test_retest": 0.69}) == [
        "reliability", "sd", "test-retest"]
    assert off_target(norm, {}) == ["reliability", "sd", "test-retest"]


def test_with_scales_sets_the_calibrated_constants():
    from dyadsim.trials.instruments import LatentScale
    from dyadsim.trials.instruments.calibrate import render_calibrated, with_scales

    new = with_scales(INSTRUMENTS, {"comm": LatentScale(0.5, 0.25)})
    assert new["comm"].latent == LatentScale(0.5, 0.25) and new["pss10"] is INSTRUMENTS["pss10"]
    namespace: dict = {}
    exec(render_calibrated({"comm": LatentScale(0.5, 0.25)}, 100, 3), namespace)
    assert namespace["LATENT_SCALES"] == {"comm": (0.5, 0.25)}
    assert namespace["CALIBRATION"] == {"dyads": 100, "seed": 3}


def test_fitted_unit_gives_the_reliability_a_heavy_tailed_latent_misses():
    """A latent whose SD is set by a few outliers (clipped at the floor): the plain SD unit
    misses the reliability, the fitted unit reaches it (checked on fresh error draws)."""
    from dyadsim.trials.instruments.calibrate import (
        ReferenceRun,
        fitted_scale,
        latent_scale,
        realised,
    )

    inst = INSTRUMENTS["csosi"]  # reads stress_arousal over 7 days, at day 30
    rng = _rng(31)
    n = 4000
    x = np.where(rng.random(n) < 0.02, 0.45, rng.normal(0.75, 0.003, n))
    run = ReferenceRun(population="synthetic", pregnancy=False,
                       nodes={"stress_arousal": np.repeat(x[:, None], 40, axis=1)},
                       outcomes={}, birth_day=np.full(n, np.nan))
    plain = replace(inst, latent=latent_scale(inst, run))
    fitted = replace(inst, latent=fitted_scale(inst, run, seed=1))
    target = inst.norm.reliability
    assert abs(realised(plain, run, seed=2)["reliability"] - target) > 0.1
    assert abs(realised(fitted, run, seed=2)["reliability"] - target) <= 0.03


def test_check_reports_an_uncalibrated_instrument_instead_of_failing():
    from dyadsim.trials.instruments.calibrate import ReferenceRun, check

    bare = {"comm": replace(INSTRUMENTS["comm"], latent=None)}
    n = 50
    run = ReferenceRun(population="adult_chronic_pain_ltot", pregnancy=False,
                       nodes={"craving": np.full((n, 40), 0.3),
                              "opioid_use": np.zeros((n, 40))},
                       outcomes={}, birth_day=np.full(n, np.nan))
    (row,) = check(bare, runs={"adult_chronic_pain_ltot": run})
    assert row.realised_reliability is None and "instruments.calibrate" in row.remark


def test_norm_validates():
    from dyadsim.trials.instruments import Norm

    ok = dict(population="p", sample="s", mean=1.0, sd=1.0, reliability=0.8)
    with pytest.raises(ValueError, match="dayN"):
        Norm(at="gw20", **ok)
    with pytest.raises(ValueError, match="go together"):
        Norm(at="day1", test_retest=(0.5, 0.9), **ok)
    with pytest.raises(ValueError, match="retest_days"):
        Norm(at="day1", test_retest=(0.5, 0.9), retest_days=-1, **ok)
    with pytest.raises(ValueError, match="published"):
        Norm(at="day1", published=("alpha",), **ok)


def test_check_reports_floor_ceiling_and_flat_latents(realised):
    from dyadsim.trials.instruments.calibrate import FLAT_LATENT_SD
    from dyadsim.trials.instruments.kinds import ScaleScore

    for name, row in realised.items():
        j = row.as_json()
        assert {"floor_share", "ceiling_share", "population", "latent_too_flat"} <= set(j)
        inst = INSTRUMENTS[name]
        if row.realised_sd is not None:
            assert 0.0 <= j["floor_share"] <= 1.0 and 0.0 <= j["ceiling_share"] <= 1.0
        flat = (isinstance(inst, ScaleScore | ItemScale) and inst.norm is not None
                and inst.latent is not None and inst.latent.sd < FLAT_LATENT_SD)
        assert j["latent_too_flat"] is flat, name
        if flat and inst.latent.sd >= 1e-4:
            assert "too flat" in row.remark
