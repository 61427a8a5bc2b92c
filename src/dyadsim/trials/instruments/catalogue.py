"""The instrument catalogue: every instrument the trials can use, as data.

Each entry is an instance of a kind from :mod:`.kinds`, with its scale, what it reads, its
reference population and published figures (a :class:`~.kinds.Norm`), its error model in
words, its source and what in it is a guess. Reference-scaled entries take their latent
scale from the generated module ``calibrated`` (rerun
``python -m dyadsim.trials.instruments.calibrate`` after changing a norm or the model).
Adding an instrument is one entry here and one line in :data:`INSTRUMENTS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ...model.graph import MME_FULL_SCALE
from ...model.params import PARAMS
from .calibrated import LATENT_SCALES
from .items import ITEM_LOCATION_SPREAD, ItemDesign, ItemScale, item_parameters
from .kinds import (
    ATTACHMENT_CLASSES,
    Anchor,
    CodedClassification,
    DoseRecall,
    EMAScale,
    EventRecords,
    Instrument,
    LatentScale,
    Norm,
    NotCalibratedError,
    RetentionRecord,
    ScaleScore,
    UrineScreen,
    UseDaysRecall,
)

#: Urine detection windows in days (ASAM 2017 chart via studylib; Huhn 2020 for regular
#: fentanyl). Use with ``INSTRUMENTS["uds_opioid"].with_window(UDS_WINDOW_DAYS[...])``.
UDS_WINDOW_DAYS: dict[str, int] = {
    "6mam": 1,
    "morphine": 3,
    "methadone": 3,
    "eddp": 6,
    "buprenorphine": 7,
    "fentanyl_occasional": 3,
    "fentanyl_regular": 7,
}


def _ctt_text(sd: float, rel: float, unit: str, sd_note: str, rel_note: str) -> str:
    sem = sd * math.sqrt(1.0 - rel)
    return (
        f"Classical test theory: observed = true + N(0, SEM), SEM = SD_obs*sqrt(1-r) = "
        f"{sd:g}*sqrt(1-{rel:g}) = {sem:.2f} {unit}; SD_obs {sd:g} ({sd_note}); "
        f"r = {rel:g} ({rel_note}). Clipped to the scale, rounded to its resolution."
    )


# ---------------------------------------------------------------------------------------
# the instruments
# ---------------------------------------------------------------------------------------

_MISSING_GUESS = "missing_rate {:g} (non-response at an attended assessment) is a guess"


def _scaled(*, norm: Norm, unit: str, sd_note: str, rel_note: str, **fields: Any) -> ScaleScore:
    """A reference-scaled :class:`ScaleScore`: reliability and SD from ``norm``, the latent
    scale from the generated ``calibrated`` module (None until calibrated)."""
    scale = LATENT_SCALES.get(fields["name"])
    centre = "geometric mean" if fields.get("link") == "log" else "mean"
    text = (
        f"Reference-scaled: true = {centre} {norm.mean:g} + sqrt({norm.reliability:g})*"
        f"{norm.sd:g}*z{' on the ln scale' if fields.get('link') == 'log' else ''}, z = "
        f"the latent composite standardised in {norm.population} at {norm.at} (calibrated). "
        + _ctt_text(norm.sd, norm.reliability, unit, sd_note, rel_note)
    )
    fields.setdefault("error_model", text)
    return ScaleScore(
        norm=norm,
        reliability=norm.reliability,
        sd_obs=norm.sd,
        latent=None if scale is None else LatentScale(*scale),
        **fields,
    )


def _item_scale(*, norm: Norm, design: ItemDesign, unit: str, sd_note: str, rel_note: str,
                **fields: Any) -> ItemScale:
    """A multi-item questionnaire answered item by item (:mod:`.items`): the manual's items
    and key (``design``), graded-response parameters by the guess rule derived from the
    norm's mean, SD and reliability (alpha), the latent scale from ``calibrated``."""
    name = fields["name"]
    assert norm.mean is not None and norm.sd is not None
    guess = (
        f"guess (no published graded-response parameters retrieved): one discrimination "
        f"for all {design.items} items, item locations evenly over "
        f"+-{ITEM_LOCATION_SPREAD:g}, equally spaced thresholds; discrimination, location "
        f"and spacing derived so that with theta ~ N(0, 1) the total has the norm's mean "
        f"{norm.mean:g}, SD {norm.sd:g} ({sd_note}) and alpha {norm.reliability:g} "
        f"({rel_note})"
    )
    items = item_parameters(name, design, norm.mean, norm.sd, norm.reliability, guess)
    b = items.b
    fields.setdefault("error_model", (
        f"Item level (Samejima graded-response model): theta = the latent composite "
        f"standardised in {norm.population} at {norm.at} (calibrated); each of the "
        f"{design.items} items answered P(X >= k) = logistic({items.discrimination[0]:.2f}"
        f" (theta - b_k)), thresholds from {b.min():.2f} to {b.max():.2f} (theta units);"
        f" reverse-keyed items {list(design.reverse_keyed) or 'none'} printed the other way "
        f"and reversed by the key; total = {design.scoring} of the item scores "
        f"{design.points}. Reliability, alpha and omega are measured, not set."))
    scale = LATENT_SCALES.get(name)
    return ItemScale(norm=norm, reliability=norm.reliability, design=design, items=items,
                     latent=None if scale is None else LatentScale(*scale), **fields)


#: The adult reference: chronic pain on long-term opioid therapy (Garland 2014, 2022; the
#: Meltzer 2011 and Butler 2007 COMM samples), 30 days after the start.
_PAIN = ("adult_chronic_pain_ltot", "day30")
#: The general-population stand-in: low-risk mothers (no substance use).
_LOW_RISK = "low_risk_mothers"

_PSS10 = _item_scale(
    name="pss10",
    design=ItemDesign(
        items=10,
        options=("never", "almost never", "sometimes", "fairly often", "very often"),
        points=(0, 1, 2, 3, 4),
        reverse_keyed=(4, 5, 7, 8),
        scoring="sum",
        source="Cohen & Williamson 1988 (10 items scored 0-4; items 4, 5, 7 and 8, the "
        "positively stated ones, reverse-scored; total 0-40)",
    ),
    used_in=(("adult_chronic_pain_ltot", "day30"), ("adult_methadone", "day30"),
             ("postpartum_oud", "pp120"), ("pregnant_oud_moud", "day30")),
    label="Perceived Stress Scale, 10 items",
    construct="appraised stress over the past month (threat appraisal and negative affect)",
    reads=("cognitive_appraisal", "negative_affect"),
    weights=(0.5, 0.5),
    window_days=30,
    scale=(0, 40),
    integer=True,
    norm=Norm(
        population=_LOW_RISK,
        at="pp180",
        sample="US general-population women (2009 eNation, n=1,032); low_risk_mothers at 6 "
        "months postpartum is the nearest preset",
        mean=16.14,
        sd=7.56,
        reliability=0.80,
        test_retest=(0.70, 1.0),
        retest_days=28,
        published=("mean", "sd", "reliability", "test_retest"),
        source="Cohen & Janicki-Deverts 2012 (women 16.14, SD 7.56); Lee 2012 (alpha > .70, "
        ".78-.85 reported; test-retest > .70 in 4 studies)",
    ),
    unit="points",
    sd_note="US women norm",
    rel_note="alpha > .70 in 12 studies; .78-.85 reported",
    missing_rate=0.03,
    source=(
        "Cohen & Williamson 1988; norms Cohen & Janicki-Deverts 2012 J Appl Soc Psychol "
        "42:1320 (women 16.14, SD 7.56); Lee 2012 Asian Nurs Res 6:121 (alpha > .70); "
        "Lord 2025 Ann Med (perinatal OUD 21.49, a check, not a constant of the map)"
    ),
    guess=(
        "equal weights of cognitive_appraisal and negative_affect; low_risk_mothers at 6 "
        "months postpartum stands for US women; r = 0.80 chosen inside the published "
        ".78-.85; retest interval 28 days (Lee 2012 gives none); "
        + _MISSING_GUESS.format(0.03)
    ),
)

_COMM = _item_scale(
    name="comm",
    design=ItemDesign(
        items=17,
        options=("never", "seldom", "sometimes", "often", "very often"),
        points=(0, 1, 2, 3, 4),
        reverse_keyed=(),
        scoring="sum",
        source="Butler et al. 2007 (17 items scored 0-4, none reversed; total 0-68)",
    ),
    label="Current Opioid Misuse Measure (17 items)",
    construct="past-30-day aberrant opioid-related behaviour (misuse)",
    reads=("craving", "opioid_use"),
    weights=(0.5, 0.5),
    window_days=30,
    scale=(0, 68),
    integer=True,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="primary-care patients on long-term opioids for chronic pain (Meltzer 2011, "
        "N=238; Butler 2007 chronic-pain development sample)",
        mean=9.72,
        sd=8.77,
        reliability=0.86,
        test_retest=(0.75, 1.0),
        retest_days=7,
        published=("mean", "sd", "reliability", "test_retest"),
        source="Meltzer 2011: 11% with disorder 20.4 (SD 10.8), 89% without 8.4 (SD 7.5), "
        "pooled (derived) mean 9.72, SD 8.77; Butler 2007: alpha .86, 1-week retest "
        "'excellent' (read as >= .75, Cicchetti 1994)",
    ),
    unit="points",
    sd_note="pooled Meltzer 2011 subgroups (derived)",
    rel_note="alpha .86 (Butler 2007)",
    missing_rate=0.03,
    source=(
        "Butler et al. 2007 Pain 130:144 (17 items 0-4, alpha .86, 1-week retest "
        "'excellent'); Butler 2010 Clin J Pain 26:770 (alpha .83); Meltzer et al. 2011 "
        "Pain 152:397 (8.4 vs 20.4; >=13 cut-off)"
    ),
    guess=(
        "equal weights of craving and opioid-use frequency (window mean of daily use); "
        "adult_chronic_pain_ltot stands for the Meltzer 2011 sample; 'excellent' retest "
        "read as >= .75; " + _MISSING_GUESS.format(0.03)
    ),
)

_TLFB = UseDaysRecall(
    name="tlfb_use_days",
    label="Timeline follow-back: days of opioid use",
    construct="self-reported number of non-medical opioid use days in the window",
    reads=("opioid_use",),
    window_days=30,
    scale=(0, 30),
    integer=True,
    reliability=0.95,
    underreport=0.2,
    latent=None if "tlfb_use_days" not in LATENT_SCALES
    else LatentScale(*LATENT_SCALES["tlfb_use_days"]),
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="adults misusing opioids (the Garland trial samples) stand in for the "
        "published retest's overdose survivors (J Addict Med 2025, n=77)",
        mean=None,
        sd=None,
        reliability=0.95,
        test_retest=(0.90, 1.0),
        retest_days=0,
        published=("test_retest",),
        source="J Addict Med 2025 (PubMed 39908533): ICC > 0.9 for opioid-use days, the "
        "same 120 days recalled again after 3-21 days",
    ),
    error_model=(
        "Reported days = (1 - underreport) x true days (default 0.2: denial where "
        "reporting has consequences, the same at each recall; set 0 for research settings "
        "without). "
        "Respondents with any use add recall noise N(0, SEM), SEM = (1 - underreport)*SD*"
        "sqrt((1-0.95)/0.95), SD = the between-person SD of true use days in the reference "
        "population (calibrated), so recall noise is 5% of the reported days' variance "
        "there (ICC > .9); abstinent respondents report 0. Clipped to [0, window], rounded."
    ),
    missing_rate=0.03,
    source=(
        "Sobell & Sobell 1992; Fals-Stewart et al. 2000 J Consult Clin Psychol 68:134; "
        "J Addict Med 2025 (PubMed 39908533; opioid-day ICC > 0.9); Hilario et al. 2015 "
        "JSAT 48:85 (22.9% of opioid-positive urines denied)"
    ),
    guess=(
        "underreport 0.2 is one value inside the 0.2-0.45 range derived in instruments.md; "
        "reliability 0.95 for ICC > .9; the reference preset; denial as a proportional "
        "under-report (consistent across recalls, as ICC > .9 with 23% of positive urines "
        "denied implies); "
        "no noise for abstinent respondents; " + _MISSING_GUESS.format(0.03)
    ),
)

#: Prescribed dose of the adult LTOT samples at full coverage (the ``prescribed_opioid``
#: node at 1), MME/day: the declared default of ``prescribed_opioid.full_dose``.
LTOT_PRESCRIBED_MME = MME_FULL_SCALE * PARAMS["prescribed_opioid.full_dose"].default

_TLFB_MME = DoseRecall(
    name="tlfb_mme",
    label="Timeline follow-back: daily opioid dose (MME)",
    construct="mean daily opioid dose over the window, prescribed and beyond the "
    "prescription, in oral morphine milligram equivalents",
    reads=("opioid_dose", "prescribed_opioid"),
    window_days=30,
    scale=(0, MME_FULL_SCALE + LTOT_PRESCRIBED_MME),
    integer=True,
    reliability=None,
    mme_full_scale=MME_FULL_SCALE,
    prescribed_mme=LTOT_PRESCRIBED_MME,
    recall_sd=0.2,
    error_model=(
        "Daily MME = 400 x amount beyond the prescription + 80 x prescribed coverage, "
        "averaged over the window; recalled with a multiplicative error exp(N(-sd^2/2, sd)), "
        "sd 0.2 (mean-unbiased); rounded to 1 MME, clipped to [0, 480]. The prescribed "
        "opioid is the prescribed_opioid node (adult LTOT samples)."
    ),
    missing_rate=0.03,
    source=(
        "Garland 2019/2020 J Consult Clin Psychol (opioid dose outcome, MME; MORE prevented "
        "dose escalation, B = -.28); Garland 2024 Am J Psychiatry (MORE reduced dose 20.7% vs "
        "3.9%); CDC 2022 MME conversion; Sobell & Sobell 1992 (TLFB)"
    ),
    guess=(
        "prescribed dose 80 MME/day at full coverage (not found in the shared references; "
        "LTOT samples sit near the 90-100 MME/day high-dose threshold); recall sd 0.2 "
        "(about 20% dose recall error); 400 MME/day full scale of the amount node "
        "(model/graph.py MME_FULL_SCALE); " + _MISSING_GUESS.format(0.03)
    ),
)

_UDS = UrineScreen(
    name="uds_opioid",
    label="Urine drug screen, opiates (morphine/heroin immunoassay)",
    construct="any non-medical opioid use within the detection window",
    reads=("opioid_use",),
    window_days=UDS_WINDOW_DAYS["morphine"],
    scale=(0, 1),
    integer=True,
    reliability=None,
    false_positive=0.01,
    false_negative=0.02,
    error_model=(
        "Positive iff any use day within the detection window ending on the test day "
        "(3 days for morphine/heroin; UDS_WINDOW_DAYS has others); then false negative 0.02 "
        "and false positive 0.01 per test. MOUD (methadone, buprenorphine) does not trigger "
        "the opiates assay."
    ),
    missing_rate=0.05,
    source=(
        "ASAM 2017 J Addict Med 11:163 detection chart (via studylib; morphine 2-5 d, "
        "'up to 3 days' per FDA via Healthline); Huhn et al. 2020 DAD 214:108147 (fentanyl)"
    ),
    guess=(
        "false_positive 0.01 and false_negative 0.02; window 3 days within the published "
        "2-5; " + _MISSING_GUESS.format(0.05)
    ),
)


def _ema(name: str, node: str, label: str, construct: str) -> EMAScale:
    return EMAScale(
        name=name,
        label=label,
        construct=construct,
        reads=(node,),
        window_days=7,
        scale=(0, 10),
        integer=False,
        reliability=None,
        prompts_per_day=3,
        momentary_sd=1.0,
        error_model=(
            "3 random prompts/day; each answered with probability 0.70 (compliance); an "
            "answer = 10*latent(day) + N(0, 1.0), clipped to 0-10 and rounded to an integer. "
            "The observation is the mean of answered prompts in the window (NaN if none). "
            "The map has no intercept, so relative reductions in the latent carry over."
        ),
        missing_rate=0.30,
        source=(
            "Jones et al. 2019 Addiction 114:609 (compliance 69.8% in dependent samples); "
            "Preston 2018 Psychopharmacology 235:2713 (3 prompts/day); Garland 2019 DAD "
            "203:61 (MORE EMA); Stull et al. 2022 Psychol Assess (variance structure)"
        ),
        guess=(
            "map 0-1 -> 0-10 with no intercept; momentary noise SD 1.0 scale points "
            "(person x moment variance 'comparatively small', no number published); "
            "constant compliance over time (Allen 2025 reports a decline, unquantified)"
        ),
    )


_EMA_CRAVING = _ema("ema_craving", "craving", "EMA craving (0-10)", "momentary opioid craving")
_EMA_STRESS = _ema(
    "ema_stress", "stress_arousal", "EMA stress (0-10)", "momentary subjective stress"
)
_EMA_PA = _ema(
    "ema_positive_affect",
    "positive_affect",
    "EMA positive affect (0-10)",
    "momentary positive affect",
)


_DOT_PROBE = _scaled(
    name="dot_probe_ms",
    label="Dot-probe opioid attentional bias, 200 ms (ms)",
    construct="attentional bias to opioid cues: RT(probe behind neutral) - RT(behind opioid)",
    reads=("attentional_bias",),
    weights=(1.0,),
    window_days=1,
    scale=(-250.0, 250.0),
    integer=False,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="chronic-pain patients on opioids (Garland 2013, 2014)",
        mean=10.0,
        sd=18.0,
        reliability=0.30,
        source="Ataya 2012; Jones, Christiansen & Field 2018 (reliability 'poor'); no ms "
        "values retrieved",
    ),
    unit="ms",
    sd_note="guess",
    rel_note="'poor' reliability, upper end of the 0-0.3 range in instruments.md",
    missing_rate=0.05,
    source=(
        "Garland 2013 J Behav Med; Garland 2014 DAD 144:283; Ataya et al. 2012 DAD 121:148 "
        "and Jones, Christiansen & Field 2018 (poor reliability)"
    ),
    guess=(
        "mean 10 ms and SD 18 ms (no ms values published); r = 0.30 (sources say only "
        "'poor'/'inadequate'); scale limits +-250 ms; " + _MISSING_GUESS.format(0.05)
    ),
)

_HRV = _scaled(
    name="hrv_reward_response",
    label="HRV response to natural-reward vs drug cues (standardized difference)",
    construct="cardiac (HR deceleration / HRV increase) response to natural-reward cues "
    "minus the response to opioid cues",
    reads=("natural_reward_responsiveness", "drug_reward_salience"),
    weights=(0.5, -0.5),
    window_days=1,
    scale=(-5.0, 5.0),
    integer=False,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="chronic-pain patients on long-term opioids (Garland, Froeliger & Howard 2014)",
        mean=0.0,
        sd=1.0,
        reliability=0.50,
        source="standardised in the reference sample (mean 0, SD 1 by construction); "
        "reliability not published",
    ),
    unit="SD units",
    sd_note="standardized units",
    rel_note="guess",
    missing_rate=0.05,
    source=(
        "Garland, Froeliger & Howard 2014 Psychopharmacology 231:3229; Garland et al. 2020 "
        "Am Psychol 75:840 (no numeric HRV values retrieved)"
    ),
    guess=(
        "equal weights; r = 0.50 (no reliability of cue-elicited HRV published); scale +-5 "
        "SD; " + _MISSING_GUESS.format(0.05)
    ),
)

_CSOSI = _scaled(
    name="csosi",
    label="Calgary Symptoms of Stress Inventory (56 items)",
    construct="physical and psychological stress-arousal symptoms, past week",
    reads=("stress_arousal",),
    weights=(1.0,),
    window_days=7,
    scale=(0, 224),
    integer=True,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="chronic-pain patients on long-term opioids (Garland 2014 used the C-SOSI)",
        mean=40.0,
        sd=25.0,
        reliability=0.90,
        source="Carlson & Thomas 2007: subscale alphas .80-.95; total alpha, mean and SD "
        "not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="guess; subscale alphas .80-.95 (Carlson & Thomas 2007)",
    missing_rate=0.03,
    source=(
        "Carlson & Thomas 2007 Int J Behav Med 14:249 (PubMed 18001241): 56 items, 8 "
        "subscales, subscale alpha .80-.95. NOT in instruments.md."
    ),
    guess=(
        "C-SOSI is not in instruments.md; the 0-224 range assumes 56 items scored 0-4 "
        "(UNVERIFIED); mean 40, SD 25, total r = 0.90, 7-day window and "
        + _MISSING_GUESS.format(0.03)
    ),
)

_FFMQ = _item_scale(
    name="ffmq",
    design=ItemDesign(
        items=39,
        options=("never or very rarely true", "rarely true", "sometimes true",
                 "often true", "very often or always true"),
        points=(1, 2, 3, 4, 5),
        reverse_keyed=(3, 5, 8, 10, 12, 13, 14, 16, 17, 18, 22, 23, 25, 28, 30, 34, 35,
                       38, 39),
        scoring="sum",
        source="Baer et al. 2006 scoring key (39 items 1-5; the 19 negatively worded "
        "describe, act-with-awareness and non-judge items reverse-scored; total 39-195)",
    ),
    used_in=(("pregnant_oud_moud", "day30"),),
    label="Five Facet Mindfulness Questionnaire (39 items)",
    construct="trait mindfulness",
    reads=("mindfulness",),
    weights=(1.0,),
    window_days=30,
    scale=(39, 195),
    integer=True,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="chronic-pain patients on long-term opioids (Garland 2014, 2022)",
        mean=125.0,
        sd=18.0,
        reliability=0.90,
        source="Baer 2006: facet alphas .72-.92; total alpha, mean and SD not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="guess; facet alphas .72-.92 (Baer 2006)",
    missing_rate=0.03,
    source=(
        "Baer, Smith, Hopkins, Krietemeyer & Toney 2006 Assessment 13:27 (39 items 1-5, "
        "total 39-195, facet alpha .72-.92; via report.stpatricks.ie). NOT in instruments.md."
    ),
    guess=(
        "FFMQ is not in instruments.md; mean 125, SD 18, total r = 0.90; the true score is "
        "the person's trait mindfulness (mindfulness.trait_sd) plus training; "
        + _MISSING_GUESS.format(0.03)
    ),
)

_ERQ = _scaled(
    name="erq_reappraisal",
    label="Emotion Regulation Questionnaire, cognitive reappraisal (mean of 6 items, 1-7)",
    construct="habitual use of cognitive reappraisal",
    reads=("reappraisal",),
    weights=(1.0,),
    window_days=30,
    scale=(1.0, 7.0),
    integer=False,
    norm=Norm(
        population=_PAIN[0],
        at=_PAIN[1],
        sample="adults (Gross & John 2003 student samples); the adult preset stands in",
        mean=4.6,
        sd=1.1,
        reliability=0.79,
        source="Gross & John 2003 (alpha .79, mean about 4.6, SD 1.1: from memory, "
        "UNVERIFIED)",
    ),
    unit="points",
    sd_note="guess",
    rel_note="alpha .79, UNVERIFIED (memory)",
    missing_rate=0.03,
    source="Gross & John 2003 J Pers Soc Psychol 85:348. NOT in instruments.md.",
    guess=(
        "ERQ is not in instruments.md: scale, mean 4.6, SD 1.1 and alpha .79 are from "
        "memory; the true score is the person's habitual reappraisal "
        "(reappraisal.trait_sd) plus training; " + _MISSING_GUESS.format(0.03)
    ),
)

_EPDS = _item_scale(
    name="epds",
    design=ItemDesign(
        items=10,
        options=("0", "1", "2", "3"),
        points=(0, 1, 2, 3),
        reverse_keyed=(3, 5, 6, 7, 8, 9, 10),
        scoring="sum",
        source="Cox, Holden & Sagovsky 1987 (10 items 0-3; items 3 and 5-10 are printed "
        "most severe first and reverse-scored; total 0-30)",
    ),
    used_in=(("postpartum_oud", "pp120"),),
    label="Edinburgh Postnatal Depression Scale (10 items)",
    construct="maternal depressive symptoms, past 7 days",
    reads=("maternal_depression",),
    weights=(1.0,),
    window_days=7,
    scale=(0, 30),
    integer=True,
    norm=Norm(
        population=_LOW_RISK,
        at="pp42",
        sample="community postpartum women at 6 weeks",
        mean=6.0,
        sd=4.5,
        reliability=0.79,
        published=("reliability",),
        source="alpha .79 (PMC3470287); .76-.77 (PMC6281669); mean and SD not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="alpha .79 (PMC3470287), .76-.77 (PMC6281669)",
    missing_rate=0.03,
    source=(
        "Cox, Holden & Sagovsky 1987 Br J Psychiatry 150:782 (10 items 0-3, cut-off 12/13); "
        "alpha .79 (PMC3470287), .76-.77 (PMC6281669). NOT in instruments.md."
    ),
    guess=(
        "EPDS is not in instruments.md; mean 6 and SD 4.5 at 6 weeks postpartum and "
        + _MISSING_GUESS.format(0.03)
    ),
)

_KIPS = _item_scale(
    name="kips",
    design=ItemDesign(
        items=12,
        options=("1", "2", "3", "4", "5"),
        points=(1, 2, 3, 4, 5),
        reverse_keyed=(),
        scoring="mean",
        source="Comfort & Gordon 2006 (12 parenting behaviours, each rated 1-5 by a trained "
        "observer; the score is their mean)",
    ),
    used_in=(("postpartum_oud", "pp120"), ("pregnant_oud_moud", "pp365")),
    label="Keys to Interactive Parenting Scale (mean of 12 items, 1-5)",
    construct="observed parenting quality in 15-20 min of parent-child play",
    reads=("parenting_behavior",),
    subject="care",
    weights=(1.0,),
    window_days=1,
    scale=(1.0, 5.0),
    integer=False,
    norm=Norm(
        population=_LOW_RISK,
        at="pp365",
        sample="parents of children 2-71 months (Comfort 2011, N=397)",
        mean=3.5,
        sd=0.8,
        reliability=0.95,
        test_retest=(0.83, 0.93),
        retest_days=14,
        published=("reliability", "test_retest"),
        source="Comfort, Gordon & Naples 2011: alpha .95, test-retest .88 (range +-0.05 "
        "around it; interval not retrieved); mean and SD not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="alpha .95 (Comfort 2011); test-retest .88",
    missing_rate=0.05,
    source=(
        "Comfort & Gordon 2006 NHSA Dialog 9:22; Comfort, Gordon & Naples 2011 Infants Young "
        "Child 24:56 (alpha .95, retest .88); bands nctsn.org; Gannon et al. 2017 J Addict "
        "Med 11:368 (OUD mothers 'low' -> 'moderate')"
    ),
    guess=(
        "mean 3.5 ('moderate') and SD 0.8 in low-risk mothers at 12 months; retest "
        "interval 14 days; " + _MISSING_GUESS.format(0.05)
    ),
)

_PSI = _scaled(
    name="psi_sf",
    label="Parenting Stress Index, Short Form (36 items)",
    construct="parenting stress: parental distress, difficult child, dysfunctional interaction",
    reads=("stressor", "infant_affect_behavior", "parenting_behavior"),
    subject="care",
    weights=(0.4, 0.3, -0.3),
    window_days=30,
    scale=(36, 180),
    integer=True,
    norm=Norm(
        population=_LOW_RISK,
        at="pp180",
        sample="community mothers of infants",
        mean=70.0,
        sd=18.0,
        reliability=0.90,
        source="full-PSI total alpha > .90; SF alpha .91 UNVERIFIED; means not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="full-PSI total alpha > .90; SF alpha .91 UNVERIFIED",
    missing_rate=0.03,
    source=(
        "Abidin 1995 PSI manual (SF 36-180, subscales 12-60); Barroso et al. 2016 Psychol "
        "Assess (PMC4877285); Sarfi et al. 2022 Front Pediatr (OMT mothers, more distress)"
    ),
    guess=(
        "weights 0.4 stressor (parental distress), 0.3 infant distress (difficult child), "
        "0.3 disengaged parenting (dysfunctional interaction); mean 70, SD 18 (no means "
        "retrieved); " + _MISSING_GUESS.format(0.03)
    ),
)

_PBQ = _item_scale(
    name="pbq",
    design=ItemDesign(
        items=25,
        options=("never", "rarely", "sometimes", "quite often", "very often", "always"),
        points=(0, 1, 2, 3, 4, 5),
        reverse_keyed=(1, 4, 8, 9, 11, 16, 22, 25),
        scoring="sum",
        source="Brockington et al. 2001, 2006 (25 items 0-5, higher = worse; the 8 "
        "positively worded items 1, 4, 8, 9, 11, 16, 22, 25 scored always 0 - never 5; "
        "total 0-125; key as in CamCOPS pbq.py)",
    ),
    used_in=(("pregnant_oud_moud", "pp90"),),
    label="Postpartum Bonding Questionnaire (25 items; higher = worse)",
    construct="impaired mother-infant bonding (rejection, anger, infant-focused anxiety)",
    reads=("prenatal_bonding", "salience_of_infant_cues"),
    weights=(-0.5, -0.5),
    window_days=30,
    scale=(0, 125),
    integer=True,
    norm=Norm(
        population=_LOW_RISK,
        at="pp90",
        sample="community mothers at 3 months (Kaneko 2014 check-up sample; Flemish "
        "validation)",
        mean=12.0,
        sd=9.0,
        reliability=0.89,
        test_retest=(0.50, 0.90),
        retest_days=28,
        published=("reliability", "test_retest"),
        source="alpha .89 (Flemish 21-item); 4-week test-retest 'moderate to good' "
        "(Torres-Gimenez 2021; read as .50-.90, Koo & Li 2016); mean and SD not retrieved",
    ),
    unit="points",
    sd_note="guess",
    rel_note="alpha .89 (Flemish 21-item version)",
    missing_rate=0.03,
    source=(
        "Brockington et al. 2001 Arch Womens Ment Health 3:133; Brockington, Fraser & Wilson "
        "2006 AWMH 9:233; Torres-Gimenez 2021 Span J Psychol (total cut-off 13); Xu et al. "
        "2024 J Addict Med (MOUD mothers)"
    ),
    guess=(
        "reads reversed with equal weights; mean 12 and SD 9 (no means retrieved); "
        "'moderate to good' read as .50-.90; " + _MISSING_GUESS.format(0.03)
    ),
)

_INFANT_CUE = _scaled(
    name="infant_cue_reward",
    label="Reward response to own- vs unfamiliar-infant faces (standardized)",
    construct="salience of own-infant cues: reward-region response, own minus unfamiliar",
    reads=("salience_of_infant_cues",),
    weights=(1.0,),
    window_days=1,
    scale=(-5.0, 5.0),
    integer=False,
    norm=Norm(
        population=_LOW_RISK,
        at="pp90",
        sample="mothers without substance use (Kim et al. 2017 comparison group)",
        mean=0.0,
        sd=1.0,
        reliability=0.40,
        source="standardised in the reference sample (mean 0, SD 1 by construction)",
    ),
    unit="SD units",
    sd_note="standardized units",
    rel_note="guess",
    missing_rate=0.10,
    source=(
        "Kim et al. 2017 (reduced reward response to own-infant faces in mothers with "
        "substance use; cited in DESIGN.md section 4). NOT in instruments.md."
    ),
    guess=(
        "r = 0.40 (task/imaging contrasts are noisy), "
        + _MISSING_GUESS.format(0.10) + " (data loss)"
    ),
)

_COREG = _scaled(
    name="coregulation",
    label="Coded co-regulation (proportion of coded intervals)",
    construct="dyadic synchrony: shared gaze, complementary affect, turn-taking",
    reads=("dyadic_synchrony",),
    subject="care",
    weights=(1.0,),
    window_days=1,
    scale=(0.0, 1.0),
    integer=False,
    norm=Norm(
        population=_LOW_RISK,
        at="pp180",
        sample="low-risk mother-infant dyads at 6 months",
        mean=0.45,
        sd=0.15,
        reliability=0.80,
        source="no published figures",
    ),
    unit="",
    sd_note="guess",
    rel_note="inter-coder ICC, guess",
    missing_rate=0.05,
    source="Observational coding of dyadic interaction (DESIGN.md section 4). NOT in "
    "instruments.md.",
    guess="entire norm: mean 0.45, SD 0.15, r = 0.80; " + _MISSING_GUESS.format(0.05),
)

_CORTISOL = _scaled(
    name="infant_cortisol",
    label="Infant salivary cortisol (nmol/L)",
    construct="infant HPA-axis stress reactivity",
    reads=("infant_stress_reactivity",),
    subject="infant",
    weights=(1.0,),
    window_days=1,
    scale=(0.1, 100.0),
    integer=False,
    link="log",
    norm=Norm(
        population=_LOW_RISK,
        at="pp180",
        sample="low-risk infants at 6 months",
        mean=8.0,
        sd=0.6,
        reliability=0.50,
        source="no published figures",
    ),
    unit="ln units",
    sd_note="guess",
    rel_note="single saliva sample: sampling time, assay and state noise; guess",
    missing_rate=0.15,
    source=(
        "Infant salivary cortisol sampling (DESIGN.md section 4); no values in "
        "instruments.md; cortisol kinetics in mechanisms.md."
    ),
    guess=(
        "entire norm: geometric mean 8 nmol/L, ln-SD 0.6, r = 0.50, assay range 0.1-100; "
        "missing_rate 0.15 (insufficient saliva) is a guess"
    ),
)

_FINNEGAN = ScaleScore(
    name="finnegan",
    label="Modified Finnegan Neonatal Abstinence Score (one scoring)",
    construct="NOWS severity (21 weighted signs)",
    reads=("neonatal_withdrawal",),
    subject="infant",
    weights=(1.0,),
    window_days=1,
    scale=(0, 40),
    integer=True,
    anchors=(Anchor(0.0, 1.0, "no withdrawal (guess)"), Anchor(1.0, 25.0, "severe (guess)")),
    reliability=0.694,
    sd_obs=3.306 / math.sqrt(1.0 - 0.694),
    error_model=(
        "Classical test theory with the published inter-rater spread: one nurse's score = "
        "true + N(0, 3.31) (122 nurses scoring one vignette, SD 3.306; single-measures ICC "
        ".694; SD_obs 5.98 is back-derived so SEM = 3.31). Clipped to 0-40, rounded."
    ),
    missing_rate=0.02,
    source=(
        "Finnegan et al. 1975; FNAST inter-rater poster (SD 3.306, ICC .694); treatment rule "
        "'3 consecutive >= 8 or 2 consecutive >= 12' (Royal Women's NAS guideline, "
        "docslib 5074301; grokipedia); Young et al. 2023 NEJM 388:2326 (ESC-NOW)"
    ),
    guess=(
        "map 1-25 (threshold 8 at latent 0.29, 12 at 0.46); scale maximum 40 is "
        "approximate; the vignette SD at true 13 is applied at every level; "
        + _MISSING_GUESS.format(0.02)
        + " (scoring skipped)"
    ),
)

_SSP = CodedClassification(
    name="ssp",
    label="Strange Situation Procedure classification (12-20 months)",
    construct="infant attachment class: secure, avoidant, resistant, disorganized",
    reads=("attachment_class",),
    subject="infant",
    window_days=1,
    scale=(0, len(ATTACHMENT_CLASSES) - 1),
    integer=True,
    reliability=0.94,
    misclassification=0.05,
    error_model=(
        "The coder records the latent class, except with probability 0.05 one of the three "
        "other classes, uniformly. Returns class strings (None = missing). reliability "
        "holds the published 94% coder agreement (not used in the draw)."
    ),
    missing_rate=0.05,
    source=(
        "Ainsworth, Blehar, Waters & Wall 1978; Main & Solomon 1990; 94% coder agreement "
        "(Ainsworth; Bick et al. 2012); van IJzendoorn 1999; Opie et al. 2021 (stability "
        "kappa .23)"
    ),
    guess=(
        "misclassification 0.05 (94% two-coder agreement implies about 3% per coder if "
        "errors were independent); errors uniform over the other classes; "
        + _MISSING_GUESS.format(0.05)
        + " (unclassifiable tapes)"
    ),
)

#: ASQ-3 domains and the child well-being domains (weights) each one reads.
ASQ3_DOMAINS: dict[str, dict[str, float]] = {
    "communication": {"wellbeing_cognitive": 0.5, "wellbeing_social": 0.5},
    "gross_motor": {"wellbeing_physical": 1.0},
    "fine_motor": {"wellbeing_physical": 0.7, "wellbeing_cognitive": 0.3},
    "problem_solving": {"wellbeing_cognitive": 1.0},
    "personal_social": {"wellbeing_social": 0.5, "wellbeing_psychological": 0.5},
}


#: The domains the shipped examples give (prenatal_more_trial, at 12 months).
_ASQ3_USED = ("communication", "personal_social", "problem_solving")

_ASQ3_ITEMS = ItemDesign(
    items=6,
    options=("not yet", "sometimes", "yes"),
    points=(0, 5, 10),
    reverse_keyed=(),
    scoring="sum",
    source="Squires & Bricker 2009 ASQ-3 User's Guide (6 items per domain; yes 10, "
    "sometimes 5, not yet 0; domain score 0-60)",
)


def _asq3(domain: str, reads: dict[str, float]) -> ItemScale:
    return _item_scale(
        name=f"asq3_{domain}",
        design=_ASQ3_ITEMS,
        used_in=(("pregnant_oud_moud", "pp365"),) if domain in _ASQ3_USED else (),
        label=f"ASQ-3 {domain.replace('_', ' ')} domain (0-60)",
        construct=f"parent-reported child development, {domain.replace('_', ' ')}",
        reads=tuple(reads),
        subject="infant",
        weights=tuple(reads.values()),
        window_days=30,
        scale=(0, 60),
        integer=True,
        norm=Norm(
            population=_LOW_RISK,
            at="pp365",
            sample="children of low-risk mothers at the 12-month questionnaire",
            mean=45.0,
            sd=10.0,
            reliability=0.80,
            test_retest=(0.75, 0.82),
            retest_days=14,
            published=("test_retest",),
            source="NINDS CDE: test-retest .75-.82, internal consistency .51-.87; "
            "interval and domain means not retrieved",
        ),
        unit="points",
        sd_note="guess",
        rel_note="inside test-retest .75-.82",
        missing_rate=0.05,
        source=(
            "Squires & Bricker 2009 ASQ-3 User's Guide; NINDS CDE (retest .75-.82, sens "
            ".86, spec .85); ASQ support KB (referral <= mean - 2 SD)"
        ),
        guess=(
            "mapping of well-being domains to ASQ-3 domains and their weights; mean 45, SD "
            "10 at 12 months; r = 0.80 (alpha, inside the published .51-.87); a domain "
            "whose latent barely varies in low-risk children is flagged by the check, not "
            "given an assumed spread; "
            "retest interval 14 days (the model's well-being outcome is a 12-month "
            "snapshot, so it does not move within it); 0-60 range "
            "derived (6 items x 10); "
            "referral cut-off 30 (age-specific values not retrieved); "
            + _MISSING_GUESS.format(0.05)
        ),
    )


_MOUD = RetentionRecord(
    name="moud_retained",
    label="MOUD retention (on medication at the assessment)",
    construct="retained in medication treatment for OUD",
    reads=("moud",),
    window_days=1,
    scale=(0, 1),
    integer=True,
    reliability=None,
    error_model=(
        "Read from clinic/pharmacy records: retained (1) iff MOUD coverage > 0 on the last "
        "day of the window, with no recording error. Pass the series up to the assessment "
        "day."
    ),
    missing_rate=0.0,
    source=(
        "Retention definitions and rates: O'Connor et al. 2020 PLoS One (PMC7224511); "
        "MarketScan 2024 Addict Sci Clin Pract; Schiff 2021 AJOG (postpartum 64.1%)"
    ),
    guess="records assumed complete and error-free",
)


def _records(name: str, node: str, label: str) -> EventRecords:
    return EventRecords(
        name=name,
        label=label,
        construct=f"{label.lower()} over the window",
        reads=(node,),
        window_days=90,
        scale=(0, 90),
        integer=True,
        reliability=None,
        sensitivity=0.98,
        error_model=(
            "Count of events in the window from records; each event recorded with "
            "probability 0.98, no false records."
        ),
        missing_rate=0.0,
        source="Administrative / medical records (DESIGN.md section 4); no source on "
        "recording completeness in instruments.md.",
        guess=(
            "near-perfect recording (sensitivity 0.98) is declared, not sourced; for "
            "overdoses it assumes every event reaches a record (medically unattended "
            "overdoses would need a lower sensitivity); window 90 days"
        ),
    )


_RECORDS_OD = _records("records_overdose", "overdose", "Overdose events")
_RECORDS_CPS = _records("records_cps", "cps_report", "CPS reports")


def _build_registry(items: Sequence[Instrument]) -> dict[str, Instrument]:
    reg: dict[str, Instrument] = {}
    for inst in items:
        if inst.name in reg:
            raise ValueError(f"duplicate instrument name {inst.name!r}")
        reg[inst.name] = inst
    return reg


#: All instruments by registry id.
INSTRUMENTS: dict[str, Instrument] = _build_registry(
    [
        _PSS10,
        _COMM,
        _TLFB,
        _TLFB_MME,
        _UDS,
        _EMA_CRAVING,
        _EMA_STRESS,
        _EMA_PA,
        _DOT_PROBE,
        _HRV,
        _CSOSI,
        _FFMQ,
        _ERQ,
        _EPDS,
        _KIPS,
        _PSI,
        _PBQ,
        _INFANT_CUE,
        _COREG,
        _CORTISOL,
        _FINNEGAN,
        _SSP,
        *(_asq3(d, r) for d, r in ASQ3_DOMAINS.items()),
        _MOUD,
        _RECORDS_OD,
        _RECORDS_CPS,
    ]
)


class UnknownInstrumentError(KeyError, ValueError):
    """Raised by :func:`get_instrument` for a name not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def get_instrument(name: str) -> Instrument:
    """The registered instrument ``name``; raises :class:`UnknownInstrumentError`
    (a ``ValueError`` and ``KeyError``) naming it and listing the known ids."""
    try:
        return INSTRUMENTS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(INSTRUMENTS))
        raise UnknownInstrumentError(
            f"unknown instrument {name!r}; known instruments: {known}"
        ) from None


def registry_table() -> pd.DataFrame:
    """One row per instrument: id, label, reads, window, scale, reliability, SEM (None until
    calibrated), reference population and published figures, missing rate, error model,
    guess and source (for reports and docs)."""
    rows = []
    for inst in INSTRUMENTS.values():
        try:
            sem = getattr(inst, "sem", None)
        except NotCalibratedError:
            sem = None
        norm = inst.norm
        rows.append(
            {
                "name": inst.name,
                "label": inst.label,
                "kind": type(inst).__name__,
                "reads": ", ".join(inst.reads),
                "series": inst.series,
                "window_days": inst.window_days,
                "scale_lo": inst.scale[0],
                "scale_hi": inst.scale[1],
                "integer": inst.integer,
                "reliability": inst.reliability,
                "sem": sem,
                "reference": None if norm is None else f"{norm.population} at {norm.at}",
                "published": None if norm is None else ", ".join(norm.published),
                "missing_rate": inst.missing_rate,
                "error_model": inst.error_model,
                "guess": inst.guess,
                "source": inst.source,
            }
        )
    return pd.DataFrame(rows)


