"""Figures 1 and 2 of Reese, Conradt, Riquino & Garland (2021) as data.

Every node and every arrow of the model is declared here, once. The step
(:mod:`dyadsim.model.step`) executes exactly these edges: each edge owns one weight
parameter (``"source->target"``; for a moderator ``"source->(parent->target)"``), the
mechanism modules read their inputs only through :func:`dyadsim.model._core.drive` or
through the edge weights named here, and ``tests/model/test_graph_agreement.py`` fails if
the step lets a node move another without a declared edge, or if a declared edge has no
effect.

Conventions
-----------
- ``sign`` is the edge's net sign on its target (for a ``gain`` edge too: a moderator that
  strengthens a negative edge has sign ``-``).
- ``type``: ``direct`` (the source's level pushes the target), ``gain`` (the source scales
  the edges from ``modulates`` into the target), ``windowed`` (direct, only inside
  ``window``, a range of postpartum days).
- ``figure``: 1 or 2 where the paper draws the arrow, 0 where only its text states it.
- ``basis``: ``stated`` (the paper says it), ``implied`` (follows from the paper's text or
  the theory it adopts, spelled out in ``note``), ``external`` (from a source the paper
  cites or a published fact in ``shared/reference/mechanisms.md``).
- ``term``: ``sum`` when the edge enters the weighted sum of parents; otherwise the name
  of the explicit term in the target's mechanism function that uses the weight (products
  such as Tiffany's cue x schema, or the withdrawal gate).
- ``weight``: default magnitude (>= 0) of the edge weight on the logit scale of the target;
  weights are guesses unless ``weight_source`` says otherwise, and are what calibration
  (issue 4) fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NodeKind = Literal["maternal", "infant", "dyad", "intervention", "context"]
Dynamics = Literal["relax", "event", "derived", "context", "skill", "trajectory", "level"]

# Paper sections (Reese et al. 2021) used as citations.
INTRO = "Introduction"
FIG1 = "Figure 1 legend"
STRESS = "Stress and Cognitive Appraisal"
COPING = "Problem-Focused and Emotion-Focused Coping"
ALLOSTASIS = "Allostatic Load Leads to Stress Sensitization, Reward Dysregulation, and Craving"
SALIENCE = "Salience of Infant Cues and Parenting Behavior"
ATTACH = "Attachment and Child Well-Being"
INFANT = "Infant Affect and Behavior"
MBI = "MBIs Address Substance Use and Promote Attentive Caregiving"
MMT = "MORE and the MMT"
MORE_CUE = "MORE Addresses Attentional Bias, Cue-Reactivity, and Craving"
MORE_STRESS = "MORE Enhances Stress Recovery and Reduces Stress Reactivity"
MORE_REWARD = "MORE Restructures Reward"
DISCUSSION = "Discussion"
REESE = "Reese, Conradt, Riquino & Garland 2021, Front Psychol 12:688359"

# Unit conversion of the opioid-amount nodes: level 1 = this many oral morphine milligram
# equivalents a day (guess: spans LTOT doses, where >= 90-100 MME/day is "high dose", and
# the larger amounts of untreated OUD; CDC 2022 conversion factors).
MME_FULL_SCALE = 400.0


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: NodeKind
    dynamics: Dynamics
    meaning: str
    section: str
    lo: float = 0.0
    hi: float = 1.0
    unit: str = "fraction of maximum (0-1)"
    tau: float | None = None  # default time constant, days (relax/skill nodes)
    tau_source: str = "guess"
    bias: float = 0.0  # default logit-scale baseline of the node's target
    noise: float = 0.0  # default daily process noise, logit scale
    # The value a node starts at where the population does not set one: "resting" (the
    # logistic of its bias for relax/derived nodes, the untrained level for skills, 0 for
    # the rest) or "zero" (infant and dyad states that begin to move at birth).
    initial: Literal["resting", "zero"] = "resting"
    # Named uniform draws the node's mechanism takes each day (one column each of the day's
    # uniform draws, in declaration order; engine/rng.day_draws).
    draws: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "id": self.id, "label": self.label, "kind": self.kind, "dynamics": self.dynamics,
            "range": [self.lo, self.hi], "unit": self.unit, "meaning": self.meaning,
            "section": self.section,
        }


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    sign: Literal["+", "-"]
    figure: int
    basis: Literal["stated", "implied", "external"]
    section: str
    citation: str
    weight: float
    type: Literal["direct", "gain", "windowed"] = "direct"
    term: str = "sum"
    modulates: tuple[str, ...] = ()
    window: tuple[int, int] | None = None  # postpartum days [start, end)
    note: str = ""
    weight_source: str = ("guess: set so the edge's effect is visible but not dominant; "
                          "calibrated in issue 4")
    weight_bounds: tuple[float, float] | None = None  # default [0, max(4 x weight, 1)]
    weight_unit: str = "logit weight"

    @property
    def weight_name(self) -> str:
        if self.type == "gain":
            mods = ",".join(self.modulates)
            return f"{self.source}->({mods}->{self.target})"
        return f"{self.source}->{self.target}"

    @property
    def sign_value(self) -> float:
        return 1.0 if self.sign == "+" else -1.0

    def to_dict(self) -> dict:
        d = {
            "source": self.source, "target": self.target, "sign": self.sign, "type": self.type,
            "figure": self.figure, "basis": self.basis, "section": self.section,
            "citation": self.citation, "weight": self.weight_name, "note": self.note,
        }
        if self.modulates:
            d["modulates"] = list(self.modulates)
        if self.window:
            d["window_postpartum_days"] = list(self.window)
        return d


N = Node
NODES: tuple[Node, ...] = (
    # ---- context (fixed per dyad over the run) ----
    N("aces", "Adverse childhood experiences", "context", "context",
      "Mother's ACE score (count of 10 categories); Gannon 2021 mean 4.3 (SD 2.3) in pregnant "
      "women with OUD", INTRO, lo=0, hi=10, unit="count (0-10)"),
    N("poverty", "Poverty", "context", "context",
      "Material hardship (Medicaid 75-85% in perinatal OUD samples)", INTRO),
    N("structural_barriers", "Structural barriers", "context", "context",
      "Stigma, racism and punitive policy that deter treatment entry and retention", INTRO),
    N("chronic_pain", "Chronic pain", "maternal", "relax",
      "Chronic pain intensity (the adult MORE trial samples on long-term opioid therapy): "
      "relaxes towards the person's own baseline (drawn by the population), raised by "
      "withdrawal (hyperalgesia), lowered by MORE's mindfulness and savoring", MMT, tau=14.0,
      bias=0.0, tau_source="guess: MORE's pain reductions appear by the end of the 8-week "
      "course (Garland 2014, 2019); two weeks lets them build over the course"),
    N("polysubstance", "Polysubstance and tobacco use", "context", "context",
      "Propensity to co-use non-opioid substances (60-80% in perinatal OUD samples)", INTRO),
    # ---- stress and appraisal (Lazarus & Folkman; allostasis) ----
    N("coping_resources", "Coping resources", "maternal", "relax",
      "Social support and finances available to meet demands", STRESS, tau=60.0, bias=0.8,
      noise=0.1),
    N("stressor", "Stressor", "maternal", "relax",
      "Current demand: life-event stream (poverty, events) plus the infant-care stream",
      STRESS, tau=3.0, bias=-1.4, noise=0.4, draws=("stressor_event",)),
    N("cognitive_appraisal", "Cognitive appraisal (threat)", "maternal", "relax",
      "Appraised threat: demand relative to resources (0 manageable, 1 overwhelming)",
      STRESS, tau=1.0, bias=-1.0, noise=0.3),
    N("stress_arousal", "Stress arousal", "maternal", "relax",
      "Fast SAM/HPA stress response (daily pulse; cortisol half-life 1.2-2 h is sub-daily)",
      ALLOSTASIS, tau=1.0, bias=-1.6, noise=0.3,
      tau_source="mechanisms.md s2: acute HPA response resolves within hours (< 1 day step)"),
    N("problem_focused_coping", "Problem-focused coping", "maternal", "relax",
      "Successful problem-focused coping (engagement x success)", COPING, tau=3.0, bias=-1.0,
      noise=0.2),
    N("emotion_focused_coping", "Emotion-focused coping", "maternal", "relax",
      "Successful emotion-focused coping incl. positive reappraisal", COPING, tau=3.0,
      bias=-1.0, noise=0.2),
    N("positive_affect", "Positive affect", "maternal", "relax",
      "Momentary positive affect", COPING, tau=1.0, bias=-2.6, noise=0.4),
    N("negative_affect", "Negative affect", "maternal", "relax",
      "Momentary negative affect (dysphoria)", COPING, tau=1.0, bias=-1.0, noise=0.4),
    N("resilience", "Resilience", "maternal", "relax",
      "Ability to weather hardship, built by manageable appraisals (eustress)", STRESS,
      tau=120.0, bias=0.0, noise=0.05),
    N("allostatic_load", "Allostatic load", "maternal", "relax",
      "Cumulative wear and tear from sustained stress and negative affect", ALLOSTASIS,
      tau=180.0, bias=-2.0, noise=0.05,
      tau_source="mechanisms.md s2: AL changes detectable in 7 weeks-4 months; tau 3-12 months"),
    N("stress_sensitization", "Stress sensitization", "maternal", "relax",
      "Sensitised brain stress systems (Koob's anti-reward); multiplies the threat weight of "
      "stressors", ALLOSTASIS, tau=120.0, bias=-2.0, noise=0.05,
      tau_source="mechanisms.md s2: persists into protracted abstinence; tau months (guess 120 d)"),
    # ---- the addiction cycle (Koob & Volkow; Tiffany) ----
    N("drug_cue", "Drug cue exposure", "maternal", "event",
      "A day with exposure to opioid cues (people, places, paraphernalia)", ALLOSTASIS,
      bias=-3.0, unit="event (0/1 per day)", draws=("drug_cue",)),
    N("action_schema", "Drug-use action schema", "maternal", "relax",
      "Strength of the automatised drug-use habit (Tiffany 1990)", ALLOSTASIS, tau=30.0,
      bias=-3.0, noise=0.02,
      tau_source="mechanisms.md s1a: cue reactivity persists > 1 year of abstinence (slow decay)"),
    N("attentional_bias", "Attentional bias", "maternal", "relax",
      "Automatic attention capture by drug cues", MORE_CUE, tau=7.0, bias=-2.0, noise=0.2),
    N("drug_reward_salience", "Drug reward salience", "maternal", "relax",
      "Incentive salience of drug vs other rewards (wanting)", ALLOSTASIS, tau=60.0,
      bias=-2.0, noise=0.05),
    N("natural_reward_responsiveness", "Natural reward responsiveness", "maternal", "relax",
      "Hedonic response to natural rewards (inverse of anhedonia)", ALLOSTASIS, tau=60.0,
      bias=1.0, noise=0.05,
      tau_source="mechanisms.md s2: anhedonia recovers over 1-6 months of abstinence "
      "(Lubman 2018)"),
    N("reward_dysregulation", "Reward dysregulation", "maternal", "derived",
      "Contrast of drug reward salience over natural reward responsiveness", ALLOSTASIS,
      bias=-0.5),
    N("craving", "Craving", "maternal", "relax",
      "Opioid craving (preoccupation/anticipation stage)", ALLOSTASIS, tau=1.5, bias=-2.5,
      noise=0.5,
      tau_source="mechanisms.md: daily AR(1) 0.3-0.85 (wide prior) -> tau 1-6 d; 1.5 d a guess"),
    N("opioid_use", "Opioid use", "maternal", "event",
      "A day of non-medical opioid use / misuse (beyond prescription)", ALLOSTASIS,
      bias=-1.9, unit="event (0/1 per day)", draws=("opioid_use",)),
    N("tolerance", "Tolerance", "maternal", "relax",
      "Pharmacological tolerance to opioids", ALLOSTASIS, tau=5.0, bias=-4.0,
      tau_source="mechanisms.md s1b: builds over days, lost over 3-14 days (weak sources)"),
    N("physical_dependence", "Physical dependence", "maternal", "relax",
      "Physiological dependence (withdrawal liability)", ALLOSTASIS, tau=14.0, bias=-4.0,
      tau_source="mechanisms.md s1b: >= 5 days of regular use; protracted course ~40 d"),
    N("withdrawal", "Withdrawal", "maternal", "relax",
      "Opioid withdrawal symptoms", ALLOSTASIS, tau=2.0, bias=-4.0, noise=0.2,
      tau_source="mechanisms.md s1b: peak 24-72 h after last dose"),
    N("executive_control", "Executive control", "maternal", "relax",
      "Prefrontal top-down control over craving and habit", ALLOSTASIS, tau=60.0, bias=0.5,
      noise=0.05),
    N("moud", "MOUD", "maternal", "level",
      "Medication for OUD (methadone/buprenorphine): 0 off, >0 on, 1 full therapeutic dose",
      MMT, tau=14.0,
      tau_source="mechanisms.md s1a: craving plateaus ~2 weeks after buprenorphine start",
      draws=("moud",)),
    N("prescribed_opioid", "Prescribed opioid (LTOT)", "maternal", "level",
      "Long-term opioid therapy for pain, apart from MOUD: the share of the full prescribed "
      "dose taken today (0 without a prescription; 1 the full dose, "
      "prescribed_opioid.full_dose of the MME scale)", MMT, tau=14.0,
      tau_source="guess: a regimen retitrated over about two weeks (as moud.tau)",
      unit="fraction of the full prescribed dose"),
    N("opioid_dose", "Opioid dose (misuse)", "maternal", "derived",
      "Opioid amount taken today beyond any prescription (0 on a day without use), as a "
      f"share of {MME_FULL_SCALE:g} MME/day; a use day takes the person's habitual amount, "
      "which escalates with tolerance and pain", ALLOSTASIS, bias=-2.5,
      unit=f"fraction of {MME_FULL_SCALE:g} MME/day"),
    N("overdose", "Overdose", "maternal", "event",
      "A day with an opioid overdose (fatal or not)", INTRO, bias=-9.8,
      unit="event (0/1 per day)", draws=("overdose",)),
    # ---- the mother as parent ----
    N("maternal_hormones", "Maternal hormones", "maternal", "trajectory",
      "Oxytocin/prolactin/cortisol milieu: rises in pregnancy, peaks at birth, declines",
      SALIENCE),
    N("motivation_for_change", "Motivation for change", "maternal", "trajectory",
      "Motivation to stop using and enter treatment: high in pregnancy, decays postpartum",
      INTRO),
    N("prenatal_bonding", "Prenatal bonding", "maternal", "relax",
      "Maternal-fetal bond formed in pregnancy; sets infant-cue salience at birth", SALIENCE,
      tau=30.0, bias=0.0, noise=0.05),
    N("salience_of_infant_cues", "Salience of infant cues", "maternal", "relax",
      "Reward/motivational value of infant cues (Rutherford & Mayes 2017)", SALIENCE,
      tau=7.0, bias=0.0, noise=0.1),
    N("shame_self_judgment", "Shame and self-judgment", "maternal", "relax",
      "Self-judgment and shame (stigma internalised)", MBI, tau=14.0, bias=-1.0, noise=0.1),
    N("maternal_depression", "Maternal depression", "maternal", "relax",
      "Depressive symptom level", DISCUSSION, tau=60.0, bias=-2.0, noise=0.05),
    N("employment", "Employment", "maternal", "relax",
      "Paid work (0 none, 1 steady full engagement): what the household earns beyond its "
      "poverty; use, depression and structural barriers cost it", INTRO, tau=90.0, bias=0.2,
      tau_source="guess: jobs are found and lost over months (a quarter-year)"),
    N("parenting_behavior", "Parenting behavior", "maternal", "relax",
      "Engaged, sensitive caregiving (1) ... passive/disengaged (0)", SALIENCE, tau=7.0,
      bias=-0.5, noise=0.2),
    # ---- intervention skills (Figure 2) ----
    # its draws ("attend", "practice") realise today's engagement as attending a session and
    # practising at home, shared by every skill in a course (model/skills.py)
    N("treatment_engagement", "Treatment engagement", "maternal", "derived",
      "Readiness today to attend a session and practise at home (scales the person's "
      "attendance and practice propensities)", INTRO, bias=1.5, draws=("attend", "practice")),
    N("mindfulness", "Mindfulness", "intervention", "skill",
      "Trait mindfulness: grows with MORE/MBP practice (practice -> state -> trait)", MBI,
      tau=120.0,
      tau_source="mechanisms.md s7: practice and its link to mindfulness fade in 2-6 months"),
    N("reappraisal", "Reappraisal skill", "intervention", "skill",
      "Positive reappraisal skill trained by MORE (gains depend on mindfulness)", MORE_STRESS,
      tau=120.0, tau_source="guess: as mindfulness"),
    N("savoring", "Savoring skill", "intervention", "skill",
      "Savoring of natural rewards trained by MORE (gains depend on mindfulness)",
      MORE_REWARD, tau=120.0, tau_source="guess: as mindfulness"),
    N("mindful_parenting", "Mindful parenting", "intervention", "skill",
      "Mindful-parenting skills (Duncan 2009): attention, non-judgment, compassion, "
      "emotional awareness and self-regulation in parenting", MBI, tau=120.0,
      tau_source="guess: as mindfulness"),
    N("parenting_program", "Attachment-based parenting programme", "intervention", "skill",
      "Skills from an attachment-based programme (ABC, Mom Power): postpartum only", INTRO,
      tau=180.0, tau_source="guess"),
    N("supportive_group", "Supportive group", "intervention", "skill",
      "Non-specific social support from a therapy group (SG control of the MORE trials)",
      MMT, tau=30.0, tau_source="guess"),
    # ---- infant and child ----
    N("neonatal_withdrawal", "Neonatal opioid withdrawal", "infant", "level",
      "NOWS severity; before birth the fetal exposure carried into birth", INTRO, tau=10.0,
      tau_source="mechanisms.md s5: treatment 4-28 d; LOS 8-24 d", initial="zero"),
    N("infant_affect_behavior", "Infant distress and bids", "infant", "relax",
      "Infant negative affect, crying and bids for care", INFANT, tau=2.0, bias=-1.0,
      noise=0.3, initial="zero"),
    N("infant_positive_affect", "Infant positive affect", "infant", "relax",
      "Infant positive affect and social engagement", INFANT, tau=3.0, bias=-1.0, noise=0.3,
      initial="zero"),
    N("dyadic_synchrony", "Dyadic synchrony", "dyad", "relax",
      "Co-regulation: shared gaze, complementary affect, turn-taking", INFANT, tau=3.0,
      bias=-1.5, noise=0.2, initial="zero"),
    N("infant_self_regulation", "Infant self-regulation", "infant", "relax",
      "Infant's capacity to regulate arousal and emotion", INFANT, tau=120.0, bias=-1.5,
      noise=0.02, initial="zero"),
    N("infant_stress_reactivity", "Infant stress reactivity", "infant", "relax",
      "Infant HPA-axis reactivity (salivary cortisol)", ATTACH, tau=90.0, bias=0.5,
      noise=0.02),
    N("attachment", "Attachment security", "infant", "relax",
      "Security of infant attachment, consolidating over the first year (every day of care "
      "from birth counts alike; classified at 12 months)", ATTACH, tau=365.0, bias=-1.5,
      noise=0.02,
      tau_source="guess: after the first year security stays revisable on a time scale of a "
      "year (SSP stability r~.39 over time, Pinquart 2013)", initial="zero"),
    N("child_wellbeing", "Child well-being", "infant", "level",
      "Mean of five domains (physical, psychological, cognitive, social, economic; Pollard & "
      "Lee 2003), each with its own baseline (child_wellbeing.<domain>_bias)", ATTACH),
    N("cps_report", "Child-protective-services report", "infant", "event",
      "A day with a CPS report (neglect hazard)", INTRO, bias=-6.5,
      unit="event (0/1 per day)", initial="zero", draws=("cps_report",)),
    # ---- the life course: death, placement, the classified attachment ----
    N("maternal_death", "Maternal death", "maternal", "level",
      "Absorbing: 1 from the day the mother dies (a fatal overdose); from then on she uses, "
      "parents and has events no more (DESIGN.md: death is absorbing)", INTRO,
      unit="state (0 alive, 1 died)", draws=("overdose_fatal",)),
    N("foster_placement", "Out-of-home placement", "dyad", "level",
      "1 while the infant lives with a substitute caregiver (foster or kinship care after "
      "removal, or after the mother's death), 0 while with the mother", INTRO,
      unit="state (0 with mother, 1 placed)", draws=("placement",)),
    N("attachment_disorganization", "Attachment disorganization", "infant", "relax",
      "Disorganizing care accumulated over the first year: intoxicated care days, "
      "frightening care from unresolved maternal trauma, caregiver disruption (Main & Hesse "
      "1990; van IJzendoorn 1999)", ATTACH, tau=365.0, bias=-2.5, noise=0.02,
      tau_source="guess: as attachment security", initial="zero"),
    N("attachment_classification", "Attachment classification", "infant", "level",
      "Strange Situation class drawn at the classification age from security, "
      "disorganization and the pattern of care (Ainsworth 1978; Main & Solomon 1990)", ATTACH,
      lo=0, hi=4, unit="class code (0 unclassified, 1 secure, 2 avoidant, 3 resistant, "
      "4 disorganized)"),
)
del N

NODE_IDS: tuple[str, ...] = tuple(n.id for n in NODES)
NODE_BY_ID: dict[str, Node] = {n.id: n for n in NODES}
#: Intervention skills (trained by sessions and practice; model/skills.py).
SKILLS: tuple[str, ...] = tuple(n.id for n in NODES if n.dynamics == "skill")

K = "Koob & Volkow 2016"
LF = "Lazarus & Folkman 1984"
GAR = "Garland et al. 2011 (risk chain); Garland 2014, 2016"
RM = "Rutherford & Mayes 2017"
TIF = "Tiffany 1990"


def E(source, target, sign, figure, basis, section, citation, weight, **kw) -> Edge:
    return Edge(source, target, sign, figure, basis, section, citation, weight, **kw)


EDGES: tuple[Edge, ...] = (
    # ------------------------------------------------------------ stress and appraisal
    E("poverty", "coping_resources", "-", 0, "stated", INTRO, "Hand et al. 2021 (in Reese)", 1.5,
      note="Poverty limits the finances and support that are coping resources."),
    E("supportive_group", "coping_resources", "+", 0, "implied", MMT,
      "Garland 2014 (SG control: support, no skills)", 1.5,
      note="The supportive-group comparator provides social support (a coping resource)."),
    E("poverty", "stressor", "+", 0, "external", INTRO,
      "Cohen & Janicki-Deverts 2012 (PSS higher with low income)", 0.8, term="life_events",
      note="Life-event stream: poverty raises the daily hazard of a life event (logit)."),
    E("structural_barriers", "stressor", "+", 0, "implied", INTRO,
      "Reese 2021 Introduction; Stone 2015 (stigma, racism and punitive policy)", 0.5,
      term="life_events",
      note="Discrimination and punitive contact are life events: they raise the hazard."),
    E("opioid_use", "stressor", "+", 0, "implied", ALLOSTASIS,
      "Koob & Le Moal 2008 (consequences of use feed the stress cycle); DESIGN.md "
      "(use consequences)", 0.5, term="life_events",
      note="Legal, financial and relational consequences of a use day raise the hazard of "
      "a life event on the next day."),
    E("problem_focused_coping", "stressor", "-", 1, "stated", COPING, LF, 1.5,
      note="Problem-focused coping resolves the problem (shortens the stressor)."),
    E("infant_affect_behavior", "stressor", "+", 1, "stated", FIG1,
      "Reese 2021 Figure 1 legend; PMC10057632 (crying -> maternal NA within 10 min-8 h)", 1.6,
      note="The infant-care stream: infant distress and bids are appraised as stressful."),
    E("maternal_hormones", "stressor", "-", 0, "stated", SALIENCE,
      "Riem et al. 2011 (oxytocin lowers amygdala response to crying), in Reese", 0.8,
      type="gain", modulates=("infant_affect_behavior",),
      note="Oxytocin dampens the stress of infant crying (a moderator of the care stream)."),
    E("parenting_program", "stressor", "-", 0, "implied", INTRO,
      "Berlin 2014 (ABC); Muzik 2015 (Mom Power)", 1.0, type="gain",
      modulates=("infant_affect_behavior",),
      note="Attachment-based programmes lower parenting stress from infant care."),
    E("stressor", "cognitive_appraisal", "+", 1, "stated", STRESS, LF, 3.0),
    E("coping_resources", "cognitive_appraisal", "-", 1, "stated", STRESS, LF, 1.5,
      note="Threat = demand relative to resources."),
    E("stress_sensitization", "cognitive_appraisal", "+", 1, "implied", ALLOSTASIS,
      "Koob 2008; Back 2015 (greater TSST response in PO dependence)", 0.26, type="gain",
      modulates=("stressor",),
      note="The paper's 'sensitivity to stress': a gain on the threat weight of stressors.",
      weight_source="mechanisms.md suggested priors: stress reactivity x1.1-1.5 in OUD "
      "(Back 2015; Koob; magnitude weak). The gain at full sensitization is exp(weight): "
      "default ln 1.3 = 0.26, bounds ln 1.1 - ln 1.5",
      weight_bounds=(0.095, 0.405)),
    E("reappraisal", "cognitive_appraisal", "-", 2, "stated", MORE_STRESS,
      "Garland 2011, 2014 (positive reappraisal in MORE)", 1.5),
    E("cognitive_appraisal", "stress_arousal", "+", 1, "stated", ALLOSTASIS, LF, 3.0),
    E("mindfulness", "stress_arousal", "-", 2, "stated", MORE_STRESS,
      "Garland 2014 (MORE reduced stress arousal, p=.034)", 1.2,
      note="Mindfulness speeds stress recovery / lowers stress reactivity."),
    E("cognitive_appraisal", "problem_focused_coping", "+", 1, "stated", COPING, LF, 1.5,
      note="Threat appraisal engages coping."),
    E("coping_resources", "problem_focused_coping", "+", 1, "stated", COPING, LF, 1.0,
      note="Coping success depends on resources (social, financial)."),
    E("executive_control", "problem_focused_coping", "+", 0, "implied", COPING,
      "Lazarus & Folkman 1984; Koob & Volkow 2016 (PFC deficits)", 1.0),
    E("mindfulness", "problem_focused_coping", "+", 2, "stated", MORE_STRESS, GAR, 0.8),
    E("opioid_use", "problem_focused_coping", "-", 0, "stated", ALLOSTASIS,
      "Reese 2021: 'ability to regulate ... influenced by recurrent opioid use'", 0.8,
      note="Coping success falls with recent (cumulative) use."),
    E("cognitive_appraisal", "emotion_focused_coping", "+", 1, "stated", COPING, LF, 1.5),
    E("executive_control", "emotion_focused_coping", "+", 0, "implied", COPING, LF, 0.8),
    E("mindfulness", "emotion_focused_coping", "+", 2, "stated", MORE_STRESS, GAR, 1.0),
    E("reappraisal", "emotion_focused_coping", "+", 2, "stated", COPING,
      "Reese 2021: 'one emotion-focused coping skill is reappraisal'", 1.5),
    E("emotion_focused_coping", "positive_affect", "+", 1, "stated", COPING,
      "Aldwin & Revenson 1987", 1.5),
    E("problem_focused_coping", "positive_affect", "+", 1, "stated", COPING,
      "Aldwin & Revenson 1987", 1.0),
    E("maternal_hormones", "positive_affect", "+", 1, "stated", SALIENCE, "Numan et al. 2006",
      0.5),
    E("reappraisal", "positive_affect", "+", 2, "stated", MORE_STRESS, GAR, 0.8),
    E("savoring", "positive_affect", "+", 2, "stated", MORE_REWARD,
      "Garland 2017 (OR 2.75 for maintaining PA)", 1.0),
    E("natural_reward_responsiveness", "positive_affect", "+", 0, "implied", ALLOSTASIS,
      "Garfield 2014 (anhedonia); SSWR 2018 (mindfulness-hedonic capacity r=.33)", 1.0),
    E("infant_positive_affect", "positive_affect", "+", 0, "stated", INFANT,
      "Reese 2021: infant affect influences the mother's affect", 0.8,
      note="Infant positive affect rewards the mother; scaled by salience (gain edge)."),
    E("salience_of_infant_cues", "positive_affect", "+", 0, "stated", SALIENCE, RM, 1.0,
      type="gain", modulates=("infant_positive_affect",),
      note="Infant smiles are rewarding in proportion to their salience."),
    E("stress_arousal", "negative_affect", "+", 1, "stated", ALLOSTASIS, LF, 2.5),
    E("withdrawal", "negative_affect", "+", 1, "stated", ALLOSTASIS, K, 2.0),
    E("shame_self_judgment", "negative_affect", "+", 0, "stated", MBI, "Duncan 2009", 1.0),
    E("maternal_depression", "negative_affect", "+", 0, "stated", DISCUSSION,
      "Reese 2021 Discussion (mental health disorders)", 1.5),
    E("opioid_use", "negative_affect", "-", 1, "stated", ALLOSTASIS,
      "Koob & Le Moal 2008 (use allays dysphoria: negative reinforcement)", 0.8,
      note="Acute relief of dysphoria on a use day."),
    E("reappraisal", "negative_affect", "-", 2, "stated", MORE_STRESS, GAR, 0.8),
    E("emotion_focused_coping", "negative_affect", "-", 1, "implied", COPING, LF, 1.0,
      note="DESIGN: failed coping -> NA (+); equivalently successful coping lowers NA."),
    E("problem_focused_coping", "negative_affect", "-", 1, "implied", COPING, LF, 0.8,
      note="As above, for problem-focused coping."),
    E("opioid_use", "positive_affect", "+", 0, "stated", ALLOSTASIS,
      "Koob & Volkow 2016 (binge/intoxication stage: the drug's acute reward)", 0.5,
      note="Acute reward of a use day (short-term; its relief side is opioid_use -> "
      "negative_affect)."),
    E("chronic_pain", "negative_affect", "+", 0, "external", MMT,
      "Garland 2013 (pain, negative affect and misuse)", 0.8),
    E("cognitive_appraisal", "resilience", "-", 1, "stated", STRESS, LF, 1.5,
      note="Appraisals of stressors as manageable (low threat) build resilience."),
    E("problem_focused_coping", "resilience", "+", 1, "stated", STRESS, LF, 1.5),
    E("resilience", "stress_sensitization", "-", 1, "implied", STRESS,
      "Reese 2021 (resilience: ability to weather hardship)", 1.5),
    E("negative_affect", "allostatic_load", "+", 1, "stated", COPING,
      "Sterling & Eyer 1988; McEwen & Wingfield 2003", 2.0),
    E("stress_arousal", "allostatic_load", "+", 1, "stated", ALLOSTASIS, "McEwen & Gianaros 2011",
      2.0),
    E("mindfulness", "allostatic_load", "-", 2, "stated", MORE_STRESS, GAR, 1.0),
    E("allostatic_load", "stress_sensitization", "+", 1, "stated", ALLOSTASIS,
      "Reese 2021 Figure 1 legend", 2.0),
    E("opioid_use", "stress_sensitization", "+", 1, "stated", ALLOSTASIS,
      "Koob & Le Moal 2008 (stage 2, anti-reward)", 2.0),
    E("withdrawal", "stress_sensitization", "+", 1, "stated", ALLOSTASIS,
      "Koob 2008 (sensitised during repeated withdrawal)", 1.5),
    E("mindfulness", "stress_sensitization", "-", 2, "stated", MORE_STRESS, GAR, 1.0),
    # ---------------------------------------------------------- reward
    E("allostatic_load", "natural_reward_responsiveness", "-", 1, "stated", ALLOSTASIS, K, 1.5),
    E("opioid_use", "natural_reward_responsiveness", "-", 1, "stated", ALLOSTASIS,
      "Garavan 2000; Volkow 2010; Lubman 2018 (monthly beta -0.015)", 2.0),
    E("savoring", "natural_reward_responsiveness", "+", 2, "stated", MORE_REWARD,
      "Garland 2014 Psychopharmacology (HRV to natural-reward cues)", 1.5),
    E("opioid_use", "drug_reward_salience", "+", 1, "stated", ALLOSTASIS,
      "Robinson & Berridge 2001, 2008", 4.0),
    E("savoring", "drug_reward_salience", "-", 2, "stated", MORE_REWARD,
      "Garland 2019 Sci Adv (less opioid cue reactivity)", 1.0),
    E("drug_reward_salience", "reward_dysregulation", "+", 1, "stated", ALLOSTASIS, K, 3.0,
      note="Reward dysregulation is the contrast drug salience vs natural reward."),
    E("natural_reward_responsiveness", "reward_dysregulation", "-", 1, "stated", ALLOSTASIS, K,
      3.0),
    E("maternal_depression", "reward_dysregulation", "+", 0, "stated", SALIENCE,
      "Swain et al. 2014 (mental health disorders dysregulate reward)", 1.0),
    # ---------------------------------------------------------- the addiction cycle
    E("attentional_bias", "drug_cue", "+", 0, "implied", MORE_CUE,
      "Field & Cox 2008 (attentional bias increases cue detection)", 1.0,
      note="Biased attention makes a mother notice more of the cues around her."),
    E("poverty", "drug_cue", "+", 0, "implied", INTRO,
      "Hand et al. 2021 (context of perinatal OUD)", 0.8),
    E("opioid_use", "action_schema", "+", 1, "stated", ALLOSTASIS, TIF, 6.0),
    E("action_schema", "attentional_bias", "+", 1, "stated", ALLOSTASIS, TIF, 3.0),
    E("mindfulness", "attentional_bias", "-", 2, "stated", MORE_CUE,
      "Garland 2010, 2015 (MORE reduces opioid attentional bias)", 1.5),
    E("drug_cue", "opioid_use", "+", 1, "stated", ALLOSTASIS, TIF, 3.0, term="automatic",
      note="The automatic path: cue x schema triggers use without craving."),
    E("action_schema", "opioid_use", "+", 1, "stated", ALLOSTASIS, TIF, 3.0, term="automatic",
      note="Weight of the schema in the cue x schema product (automatic path)."),
    E("drug_cue", "craving", "+", 1, "stated", ALLOSTASIS, TIF, 2.0, term="blocked_schema",
      note="Craving arises when the cue-triggered schema is blocked (Tiffany)."),
    E("action_schema", "craving", "+", 1, "stated", ALLOSTASIS, TIF, 3.0,
      term="blocked_schema", note="Weight of the schema in the blocked-schema term."),
    E("motivation_for_change", "craving", "+", 0, "stated", ALLOSTASIS, TIF, 1.0, type="gain",
      modulates=("drug_cue",),
      note="The impediment: motivation/abstinence goals block the schema, so a cue elicits "
      "craving instead of automatic use."),
    E("motivation_for_change", "opioid_use", "-", 0, "stated", ALLOSTASIS, TIF, 1.0,
      type="gain", modulates=("drug_cue",), term="automatic",
      note="The same impediment suppresses the automatic path."),
    E("moud", "opioid_use", "-", 0, "implied", MMT, TIF + "; DESIGN.md (impediment: MOUD)",
      1.0, type="gain", modulates=("drug_cue",), term="automatic",
      note="MOUD is an impediment in Tiffany's sense (blockade, a treatment goal): it "
      "suppresses the automatic cue x schema path. Its craving side is not a second edge: "
      "moud -> craving is net '-' (Tsui 2014), and a pair carries one sign."),
    E("negative_affect", "craving", "+", 1, "stated", ALLOSTASIS,
      "Koob & Volkow 2016; Baillet (NA -> craving -> use)", 1.5),
    E("allostatic_load", "craving", "+", 1, "stated", FIG1, "Reese 2021 Figure 1 legend", 1.0),
    E("stress_sensitization", "craving", "+", 1, "stated", ALLOSTASIS, K, 1.0),
    E("reward_dysregulation", "craving", "+", 1, "stated", ALLOSTASIS, K, 1.5),
    E("attentional_bias", "craving", "+", 1, "stated", MORE_CUE, "Field & Cox 2008", 1.0),
    E("withdrawal", "craving", "+", 1, "stated", ALLOSTASIS, K, 2.0),
    E("positive_affect", "craving", "-", 0, "external", ALLOSTASIS,
      "Baillet et al. (PA -> less craving, beta -0.04)", 1.0),
    E("salience_of_infant_cues", "craving", "-", 0, "stated", SALIENCE,
      "Rutherford & Mayes 2017 (infant reward competes with drug reward)", 1.0),
    E("savoring", "craving", "-", 2, "stated", MORE_REWARD, GAR, 1.0, type="gain",
      modulates=("salience_of_infant_cues",),
      note="Savoring strengthens infant reward's competition with drug reward."),
    E("moud", "craving", "-", 1, "external", MMT,
      "Tsui 2014 (craving falls and plateaus ~2 weeks after buprenorphine start)", 2.0),
    E("mindfulness", "craving", "-", 2, "stated", MORE_CUE,
      "Garland 2014 (desire for opioids, p=.027); Garland 2019 (37% less intense)", 1.5,
      type="gain", modulates=("drug_cue",), term="blocked_schema",
      note="MORE lowers cue-elicited craving."),
    E("withdrawal", "chronic_pain", "+", 0, "external", MMT,
      "Withdrawal and opioid-induced hyperalgesia raise pain (Chu, Angst & Clark 2008 Clin J "
      "Pain); magnitude a guess", 1.0, term="pain_modulation",
      note="On the logit of the person's pain baseline."),
    E("mindfulness", "chronic_pain", "-", 0, "external", MMT,
      "Garland 2014 (MORE vs SG: pain severity p = .038, interference p = .003); Garland 2019 "
      "(pain severity p = .03)", 1.5, term="pain_modulation",
      note="Mindfulness above its untrained level lowers pain (reinterpretation of pain "
      "sensations, nonreactivity: Garland 2014 mediators).",
      weight_source="guess: with the MORE course's mindfulness gain (~+0.3) it lowers an LTOT "
      "patient's pain by about half a between-person SD"),
    E("savoring", "chronic_pain", "-", 0, "external", MORE_REWARD,
      "Garland 2019 J Consult Clin Psychol (positive psychological health mediated MORE's "
      "effect on pain severity, p = .048)", 1.0, term="pain_modulation",
      note="Savoring above its untrained level lowers pain."),
    E("chronic_pain", "craving", "+", 0, "external", MMT,
      "Garland 2014 (pain-related opioid craving in LTOT)", 1.0),
    E("craving", "opioid_use", "+", 1, "stated", ALLOSTASIS,
      "Tsui 2014 (OR 1.27/point); McHugh 2014 (OR 1.17/point)", 3.0,
      weight_source="external, converted: the node spans the instrument's range, so the "
      "weight is log(OR per point) x points in the range: McHugh 2014 0-10 scale, "
      "10 x ln 1.17 = 1.57; Tsui 2014 Penn Craving Scale 0-6, 6 x ln 1.27 = 1.43 (mean 1.5). "
      "Both ORs are for any use in the next 1-2 weeks; a daily log-odds slope is at least "
      "as large (weekly any-use compresses it), so the bounds reach 4x. Default 3.0 (2x, "
      "issue 18 item 1): the daily slope, chosen with the untreated use-day share and the "
      "dynamic share of the use logit in view (benchmarks/use_decomposition.py), so the "
      "use_share_untreated check row is not evidence for it. The weight holds at typical "
      "executive control and mindfulness (model/_core.gain_reference)"),
    E("executive_control", "opioid_use", "-", 1, "stated", ALLOSTASIS,
      "Koob & Volkow 2016 (PFC control)", 1.0, type="gain",
      modulates=("craving", "drug_cue"),
      note="Executive control brakes craving -> use and the automatic path."),
    E("mindfulness", "opioid_use", "-", 2, "stated", MORE_CUE,
      "Garland 2016 (disengagement from automatic, habitual use; craving-coping)", 1.0,
      type="gain", modulates=("craving", "drug_cue"),
      note="Mindful disengagement from the automatic path and from craving-driven use."),
    E("aces", "opioid_use", "+", 0, "stated", ATTACH,
      "Chung 2010; Leeners 2014; Racine 2021 (ACEs and substance use in pregnancy)", 1.5,
      note="Over the 0-10 ACE range (weight x ACEs/10 on the logit of daily use)."),
    E("moud", "opioid_use", "-", 1, "external", MMT,
      "Barta 2009 (heroin use fell once methadone >= 70 mg)", 2.0),
    E("chronic_pain", "opioid_use", "+", 0, "external", MMT, "Garland 2014", 0.5),
    E("opioid_use", "tolerance", "+", 1, "stated", ALLOSTASIS,
      "mechanisms.md s1b (tolerance builds over days)", 6.0),
    E("opioid_use", "opioid_dose", "+", 0, "implied", ALLOSTASIS,
      "Koob & Volkow 2016 (escalation of intake with repeated use)", 0.05, term="escalation",
      note="Today's amount is the habitual amount on a use day, 0 otherwise; the habitual "
      "amount moves towards the amount tolerance and pain call for by this share of the gap "
      "on each use day.",
      weight_source="guess: escalation over weeks of daily use (a share 0.05 per use day: "
      "~3 weeks); a rate, so bounds (0, 1)", weight_bounds=(0.0, 1.0),
      weight_unit="share of the gap per use day"),
    E("tolerance", "opioid_dose", "+", 0, "external", ALLOSTASIS,
      "mechanisms.md s1b (tolerance builds over days); Koob & Volkow 2016 (binge/"
      "intoxication: tolerance drives escalation); Garland 2019/2020 (MORE prevented dose "
      "escalation, B = -.28)", 3.0, term="escalation",
      note="Logit gain of the called-for amount at full tolerance."),
    E("chronic_pain", "opioid_dose", "+", 0, "external", MMT,
      "Garland 2014, 2019 (pain severity predicts opioid misuse; MORE's pain reduction "
      "predicted less misuse, p = .02)", 1.0, term="escalation",
      note="More pain calls for more opioid (self-medication beyond the prescription)."),
    E("opioid_use", "physical_dependence", "+", 1, "stated", ALLOSTASIS,
      "mechanisms.md s1b (>= 5 days of regular use)", 6.0),
    E("moud", "physical_dependence", "+", 1, "stated", MMT,
      "Agonist treatment maintains physiological dependence", 6.0, term="agonist",
      note="Scaled by moud.buprenorphine_dependence for buprenorphine (partial agonist)."),
    E("physical_dependence", "withdrawal", "+", 1, "stated", ALLOSTASIS, K, 6.0,
      term="withdrawal_gate",
      note="Withdrawal = dependence unrelieved by recent use or MOUD."),
    E("opioid_use", "withdrawal", "-", 1, "implied", ALLOSTASIS, K, 1.0, term="withdrawal_gate",
      note="A use day relieves withdrawal (DESIGN: 'lack of recent use')."),
    E("moud", "withdrawal", "-", 1, "external", MMT, "Agonist therapy suppresses withdrawal",
      1.0, term="withdrawal_gate",
      note="Coverage: the share of the dependence range a dose covers; an adequate dose "
      "covers what it sustains (Barta 2009: heroin use fell once methadone >= 70 mg)."),
    E("opioid_use", "executive_control", "-", 1, "stated", ALLOSTASIS, K, 1.5),
    E("mindfulness", "executive_control", "+", 2, "stated", MORE_CUE, GAR, 1.5),
    E("motivation_for_change", "moud", "+", 0, "stated", INTRO,
      "Asta 2021 (motivation to seek treatment in pregnancy)", 2.0, term="moud_hazards",
      note="Motivation raises MOUD entry and lowers discontinuation."),
    E("structural_barriers", "moud", "-", 0, "stated", INTRO,
      "Stone 2015; Suntai 2021 (stigma and racism deter treatment)", 2.0, term="moud_hazards"),
    E("opioid_use", "moud", "-", 0, "implied", MMT,
      "Continued illicit use during treatment predicts dropout (DESIGN.md: discontinuation "
      "-> return-to-use hazard, and back); magnitude a guess", 1.0, term="moud_hazards",
      note="A use day raises the day's discontinuation hazard (logit)."),
    E("withdrawal", "moud", "-", 0, "implied", MMT,
      "An inadequate dose leaves withdrawal, a reason to leave treatment (Barta 2009: use "
      "fell only once the dose was adequate); magnitude a guess", 2.0, term="moud_hazards",
      note="Withdrawal (0-1) raises the discontinuation hazard."),
    E("cps_report", "moud", "-", 0, "stated", INTRO,
      "Reese 2021 Introduction; Stone 2015 (punitive responses deter treatment); magnitude "
      "a guess", 2.0, term="moud_hazards",
      note="A CPS report raises the discontinuation hazard through a decaying memory "
      "(moud.cps_contact_tau)."),
    E("chronic_pain", "prescribed_opioid", "+", 0, "implied", MMT,
      "Garland 2019/2020 J Consult Clin Psychol (MORE lowered pain and prevented dose "
      "escalation, B = -.28); Garland 2024 Am J Psychiatry (MORE reduced the opioid dose "
      "20.7% vs 3.9%); the opioid is prescribed as an analgesic (Reese 2021: MORE and the "
      "MMT, chronic pain samples)", 3.0, term="self_titration",
      note="Analgesic need: the prescribed analgesic is taken as needed "
      "(prescribed_opioid.self_titration of it), so pain below what it was when the regimen "
      "was settled means less of the prescribed dose taken; the prescription itself is "
      "prescribed_opioid.prescription.",
      weight_source="guess: the need roughly proportional to pain at the LTOT baseline "
      "(elasticity ~1 at pain 0.65 with prescribed_opioid.titration_bias -2.5)"),
    E("craving", "prescribed_opioid", "+", 0, "implied", MMT,
      "Garland 2014 (pain-related opioid craving in LTOT; MORE lowered the desire for "
      "opioids, p = .027); Garland 2024 Am J Psychiatry (MORE reduced the opioid dose)", 1.5,
      term="self_titration",
      note="Craving raises the analgesic need (taking all of the prescribed doses, or "
      "early).",
      weight_source="guess: half the pain weight; pain is the reason the opioid is "
      "prescribed, craving the reward side of taking it"),
    E("opioid_dose", "overdose", "+", 0, "external", INTRO,
      "Haight 2018; Schiff 2018 (overdose on use); Dunn 2010 Ann Intern Med (LTOT: HR 8.9 "
      "for >= 100 vs 1-20 MME/day)", 8.7, term="overdose_hazard",
      note="An overdose happens only on a day with misuse (opioid_dose > 0: the amount "
      "carries the use day, so the former opioid_use -> overdose weight, not identifiable "
      "from overdose.bias, is merged into it); its logit rises with the amount.",
      weight_source="external, derived: Dunn 2010, ln 8.9 = 2.19 over ~100 MME/day = 1/4 "
      "of the MME scale -> 8.7. overdose.bias (-9.8) keeps the former use-day logit (-7) "
      "at the untreated mean of ~130 MME per use day (dyadsim check)",
      weight_bounds=(0.0, 20.0)),
    E("overdose", "moud", "+", 0, "external", MMT,
      "Larochelle 2018 Ann Intern Med (MOUD after a non-fatal overdose: ~30% within 12 "
      "months; MOUD then lowered mortality)", 2.0, term="moud_hazards",
      note="A non-fatal overdose raises the MOUD start hazard through a decaying memory "
      "(moud.overdose_contact_tau).",
      weight_source="guess: a start logit +2 for weeks after an overdose"),
    E("tolerance", "overdose", "-", 0, "external", INTRO,
      "Loss of tolerance after abstinence raises overdose risk (Strang 2003)", 3.0,
      term="overdose_hazard"),
    E("polysubstance", "overdose", "+", 0, "external", INTRO,
      "Benzodiazepine/alcohol co-use and overdose", 1.0, term="overdose_hazard"),
    E("moud", "overdose", "-", 0, "external", MMT,
      "Schiff 2018 (overdose fell during MOUD)", 1.0, term="overdose_hazard"),
    # ---- prescribed long-term opioid therapy (LTOT), apart from MOUD (issue 18 item 9)
    E("prescribed_opioid", "overdose", "+", 0, "external", INTRO,
      "Dunn 2010 Ann Intern Med (LTOT: overdose HR 8.9 for >= 100 vs 1-20 MME/day; 1.8% a "
      "year at >= 100 MME/day); Bohnert 2011 JAMA (dose-dependent overdose death)", 2.0,
      term="overdose_hazard",
      note="A day with the prescribed opioid on board carries overdose risk, rising with the "
      "dose taken (with or without misuse).",
      weight_source="external, derived: Dunn 2010's slope, ln 8.9 = 2.19 over ~90 MME/day, "
      "times a full prescription of 80 MME/day (prescribed_opioid.full_dose) -> 1.95"),
    E("prescribed_opioid", "opioid_dose", "-", 0, "external", MMT,
      "Garland 2014, 2022 (misuse in LTOT: taking more than prescribed, or for craving); "
      "Koob & Volkow 2016 (the amount called for by tolerance)", 1.0, term="escalation",
      note="The prescribed dose taken covers part of the amount tolerance and pain call for "
      "(weight x prescribed_opioid.full_dose x dose taken, on the amount scale); misuse "
      "takes the rest.",
      weight_source="guess: the prescription counts in full (1) against the amount called "
      "for; bounds (0, 1): from none of it to all of it",
      weight_bounds=(0.0, 1.0), weight_unit="share of the prescription"),
    E("prescribed_opioid", "physical_dependence", "+", 1, "external", MMT,
      "Koob & Volkow 2016; mechanisms.md s1b (daily opioid exposure sustains physical "
      "dependence)", 4.0, term="agonist",
      weight_source="guess: two thirds of moud -> physical_dependence (6.0): an 80 MME/day "
      "analgesic regimen, less than a methadone maintenance dose"),
    E("prescribed_opioid", "tolerance", "+", 1, "external", MMT,
      "mechanisms.md s1b (tolerance builds over days of opioid exposure)", 3.0,
      weight_source="guess: half a use day's weight (6.0): 80 MME/day against ~130 MME on "
      "a use day"),
    E("prescribed_opioid", "withdrawal", "-", 1, "external", MMT,
      "Interdose withdrawal on analgesic dosing (Ballantyne & Mao 2003 NEJM)", 0.5,
      term="withdrawal_gate",
      note="Coverage: the share of the dependence range the dose taken covers.",
      weight_source="guess: half of MOUD's coverage (1.0): analgesic dosing leaves "
      "interdose withdrawal (the adult_chronic_pain_ltot preset's former moud -> "
      "withdrawal)"),
    E("prescribed_opioid", "craving", "-", 1, "external", MMT,
      "Garland 2014 (pain-related opioid craving persists on LTOT)", 0.5,
      weight_source="guess: a quarter of moud -> craving (2.0): the prescription relieves "
      "little of the craving of a misusing LTOT sample (the preset's former moud -> "
      "craving)"),
    E("prescribed_opioid", "opioid_use", "-", 1, "external", MMT,
      "Garland 2014, 2022 (misuse beyond the prescription in LTOT samples)", 0.5,
      weight_source="guess: a quarter of moud -> opioid_use (2.0): the preset's former moud "
      "-> opioid_use, set with the COMM misuse of the Garland samples in view"),
    E("prescribed_opioid", "neonatal_withdrawal", "+", 0, "external", INTRO,
      "Patrick 2015 Pediatrics (prescription opioids in pregnancy: NOWS risk rises with "
      "long-acting and higher-dose use)", 0.3, term="exposure",
      weight_source="guess: fetal exposure of a full 80 MME/day prescription relative to a "
      "full methadone dose (1.0)"),
    # ---------------------------------------------------------- the mother as parent
    E("reward_dysregulation", "salience_of_infant_cues", "-", 1, "stated", SALIENCE,
      "Rutherford & Mayes 2017; Kim 2017; Landi 2011", 1.0,
      weight_source="guess, set with the sensitivity_gap check row in view (not evidence "
      "for it): was 3.0; with use a daily state (issue 18 item 1) the allostatic nodes of "
      "untreated mothers sit near 0.55-0.6 and 3.0 + 2.5 took salience from 0.79 to 0.23 "
      "(low-risk vs OUD), so OUD attachment security fell to 2%; the matched-sample "
      "sensitivity gap is small (d 0.2-0.6, mechanisms.md s4)"),
    E("stress_sensitization", "salience_of_infant_cues", "-", 1, "stated", SALIENCE, RM, 1.0,
      weight_source="guess, set with the sensitivity_gap check row in view: was 2.5 (see "
      "reward_dysregulation -> salience_of_infant_cues)"),
    E("maternal_hormones", "salience_of_infant_cues", "+", 1, "stated", SALIENCE,
      "Numan 2006; Feldman 2007", 1.5),
    E("prenatal_bonding", "salience_of_infant_cues", "+", 1, "implied", SALIENCE,
      "Levine 2007; Feldman 2007 (OT and bonding)", 1.5,
      note="Bonding formed in pregnancy carries into salience at birth."),
    E("stress_arousal", "salience_of_infant_cues", "+", 0, "stated", SALIENCE,
      "Corter & Fleming 1990 (first-week HPA enriches salience)", 1.0, type="windowed",
      window=(0, 7), note="Evidence mixed: wide prior."),
    E("savoring", "salience_of_infant_cues", "+", 2, "stated", MORE_REWARD, REESE, 1.0),
    E("mindful_parenting", "salience_of_infant_cues", "+", 0, "stated", MBI,
      "Duncan 2009 (attention to the child)", 1.0),
    E("parenting_program", "salience_of_infant_cues", "+", 0, "implied", INTRO,
      "Berlin 2014 (ABC: following the child's lead)", 1.0),
    E("physical_dependence", "maternal_hormones", "-", 0, "external", SALIENCE,
      "Daigle 2020 (smaller oxytocin rise in 7 opioid-maintained mothers); Mallahan 2025 "
      "(d 0.67-1.14, ns); mechanisms.md s4", 0.3, term="blunting",
      note="Opioid dependence (illicit or maintained) blunts the hormonal rise: the share "
      "of the rise lost at full dependence.",
      weight_source="guess: mechanisms.md s4 (OUD blunting d~0.7-1.1, n=6-7 per group); "
      "a share of the rise, so at most 1",
      weight_bounds=(0.0, 1.0)),
    E("maternal_hormones", "prenatal_bonding", "+", 0, "external", SALIENCE,
      "Levine 2007 (rise in OT correlated with bonding)", 1.5),
    E("reward_dysregulation", "prenatal_bonding", "-", 0, "implied", SALIENCE,
      "Wallin 2021 (neuroadaptations interfere with maternal bonding circuitry)", 1.5),
    E("stress_sensitization", "prenatal_bonding", "-", 0, "implied", SALIENCE, RM, 1.0),
    E("savoring", "prenatal_bonding", "+", 2, "stated", DISCUSSION,
      "Reese 2021 (savoring in pregnancy)", 1.0, type="windowed", window=(-400, 0),
      note="Only in pregnancy."),
    E("mindfulness", "shame_self_judgment", "-", 2, "stated", MBI, "Duncan 2009 (non-judgment)",
      1.5),
    E("mindful_parenting", "shame_self_judgment", "-", 0, "stated", MBI, "Duncan 2009", 1.0),
    E("opioid_use", "shame_self_judgment", "+", 0, "implied", INTRO,
      "Stone 2015 (stigma, internalised as shame)", 1.0),
    E("structural_barriers", "shame_self_judgment", "+", 0, "implied", INTRO, "Stone 2015", 1.0),
    E("negative_affect", "maternal_depression", "+", 0, "implied", DISCUSSION,
      "Sustained negative affect -> depressive symptoms", 2.0),
    E("allostatic_load", "maternal_depression", "+", 0, "external", ALLOSTASIS,
      "McEwen 2003", 1.0),
    E("parenting_program", "maternal_depression", "-", 0, "stated", INTRO,
      "Muzik 2015 (Mom Power lowered depressive symptoms)", 1.0),
    E("salience_of_infant_cues", "parenting_behavior", "+", 1, "stated", SALIENCE, RM, 2.0),
    E("positive_affect", "parenting_behavior", "+", 1, "stated", COPING, FIG1, 1.0),
    E("negative_affect", "parenting_behavior", "-", 1, "stated", SALIENCE, "Rutherford 2011",
      1.0),
    E("mindful_parenting", "parenting_behavior", "+", 0, "stated", MBI,
      "Duncan 2009 (emotional awareness and self-regulation in parenting)", 1.5, type="gain",
      modulates=("negative_affect",),
      note="Mindful parenting weakens NA -> parenting: a gain that dampens a negative edge, "
      "so its net sign on parenting is '+'."),
    E("maternal_depression", "parenting_behavior", "-", 0, "external", DISCUSSION,
      "Atkinson 2000 (depression -> security r=.18)", 1.5),
    E("infant_affect_behavior", "parenting_behavior", "-", 1, "stated", INFANT,
      "Reese 2021 (NOWS crying is challenging for caregivers)", 1.0,
      note="Care demand, harder with NOWS."),
    E("aces", "parenting_behavior", "-", 0, "stated", ATTACH,
      "Verhage 2016 (intergenerational transmission); wide prior", 0.8,
      note="Over the 0-10 ACE range, via the mother's own attachment."),
    E("stress_arousal", "parenting_behavior", "-", 0, "stated", SALIENCE,
      "Krpan 2005 (heightened HPA later postpartum -> less mothering)", 1.0, type="windowed",
      window=(7, 100000), note="Evidence mixed: wide prior."),
    E("mindful_parenting", "parenting_behavior", "+", 0, "stated", MBI,
      "Duncan 2009 (compassion, responsiveness)", 1.0),
    # ---------------------------------------------------------- the dyad
    E("opioid_use", "neonatal_withdrawal", "+", 0, "stated", INTRO,
      "Kocherlakota 2014 (in-utero opioid exposure -> NOWS)", 1.5, term="exposure"),
    E("opioid_dose", "neonatal_withdrawal", "+", 0, "external", INTRO,
      "Jansson 2012; Kaltenbach 2012 (mixed evidence for a maternal dose-NOWS relation)", 1.0,
      term="exposure",
      note="The share of a use day's fetal exposure that scales with the amount taken "
      "(opioid_dose over neonatal_withdrawal.reference_dose); the rest counts the use day "
      "alone. 1 makes exposure proportional to the amount.",
      weight_source="guess: proportional exposure (1) is pharmacology's default; the dose-"
      "NOWS evidence is mixed, so bounds (0, 1) span use days only to proportional",
      weight_bounds=(0.0, 1.0), weight_unit="share"),
    E("moud", "neonatal_withdrawal", "+", 0, "external", INTRO,
      "Gaalema 2012 (MOTHER: 57% methadone, 47% buprenorphine treated)", 1.0, term="exposure"),
    E("polysubstance", "neonatal_withdrawal", "+", 0, "external", INTRO,
      "Polysubstance exposure worsens NOWS (guess magnitude)", 0.5, term="exposure"),
    E("neonatal_withdrawal", "infant_affect_behavior", "+", 1, "stated", INFANT,
      "Reese 2021 (inconsolable crying in NOWS)", 3.0),
    E("parenting_behavior", "infant_affect_behavior", "-", 1, "stated", INFANT, "Fox 1998", 1.5),
    E("infant_self_regulation", "infant_affect_behavior", "-", 1, "stated", INFANT,
      "Harrist & Waugh 2002", 1.5),
    E("infant_stress_reactivity", "infant_affect_behavior", "+", 1, "stated", ATTACH,
      "Nachmias 1996", 1.0),
    E("parenting_behavior", "infant_positive_affect", "+", 0, "stated", INFANT,
      "Tronick 1977", 1.5),
    E("dyadic_synchrony", "infant_positive_affect", "+", 0, "stated", INFANT,
      "Feldman 2007", 1.0),
    E("parenting_behavior", "dyadic_synchrony", "+", 1, "stated", INFANT,
      "Tronick 1977; Harrist & Waugh 2002", 2.0, term="attuned_care",
      note="Parenting x salience: engaged care attuned to the infant's cues."),
    E("salience_of_infant_cues", "dyadic_synchrony", "+", 1, "stated", INFANT, RM, 2.0,
      term="attuned_care"),
    E("infant_positive_affect", "dyadic_synchrony", "+", 1, "stated", INFANT,
      "Chow 2010 (infant -> mother coupling >= mother -> infant)", 1.5),
    E("dyadic_synchrony", "infant_self_regulation", "+", 1, "stated", INFANT,
      "Harrist & Waugh 2002", 3.0),
    E("parenting_behavior", "infant_stress_reactivity", "-", 1, "stated", ATTACH,
      "McGowan 2009 (parenting and stress-regulation systems)", 1.5),
    E("attachment", "infant_stress_reactivity", "-", 1, "stated", ATTACH,
      "Schore 2005; Nachmias 1996 (secure attachment buffers the HPA axis)", 1.5),
    E("parenting_behavior", "attachment", "+", 1, "stated", ATTACH,
      "Ainsworth 1978; De Wolff & van IJzendoorn 1997 (r=.24)", 3.0),
    E("dyadic_synchrony", "attachment", "+", 0, "implied", INFANT,
      "Harrist & Waugh 2002 (synchrony as the context of attachment)", 1.0),
    E("neonatal_withdrawal", "attachment", "-", 0, "implied", INFANT,
      "Reese 2021 (NOWS: an infant hard to soothe and to read); Conradt 2019 (NOWS infants' "
      "poorer regulation)", 2.0,
      note="The withdrawing infant's dysregulation lowers the security its care builds "
      "while it lasts (the NOWS weeks count in the first-year consolidation).",
      weight_source="guess: of the order of the synchrony edge; no published "
      "NOWS-attachment effect size found"),
    E("attachment", "child_wellbeing", "+", 1, "stated", ATTACH,
      "Bowlby 1988; Fearon 2010 (insecure d=0.31)", 2.0, term="domains"),
    E("infant_stress_reactivity", "child_wellbeing", "-", 1, "stated", ATTACH,
      "Reese 2021 (HPA regulation and well-being)", 1.5, term="domains"),
    E("neonatal_withdrawal", "child_wellbeing", "-", 1, "stated", INTRO,
      "Kocherlakota 2014 (physical domain)", 3.0, term="domains"),
    E("poverty", "child_wellbeing", "-", 0, "stated", ATTACH,
      "Pollard & Lee 2003 (economic domain)", 2.0, term="domains"),
    E("employment", "child_wellbeing", "+", 0, "implied", ATTACH,
      "Pollard & Lee 2003 (economic domain: household income and resources)", 1.5,
      term="domains",
      note="The economic domain moves with the mother's employment as well as with poverty."),
    E("opioid_use", "employment", "-", 0, "external", INTRO,
      "Krueger 2017, Brookings Pap Econ Act (opioid use and lower labour-force "
      "participation)", 1.5,
      note="Use days cost work (absence, job loss)."),
    E("maternal_depression", "employment", "-", 0, "external", DISCUSSION,
      "Lerner & Henke 2008, J Occup Environ Med 50:401 (depression lowers work performance "
      "and retention)", 1.5),
    E("structural_barriers", "employment", "-", 0, "implied", INTRO,
      "Hand et al. 2021 (in Reese): stigma and punitive policy; a comprehensive response "
      "includes education and employment services", 1.0),
    E("overdose", "maternal_death", "+", 0, "stated", INTRO,
      "Schiff 2018 (overdose a leading cause of postpartum death)", 0.083,
      term="fatal_overdose",
      note="An overdose is fatal with probability 1 - exp(-weight): the case-fatality.",
      weight_source="guess: community overdose case-fatality is a few percent to ~10%; "
      "0.083 gives 8%"),
    E("cps_report", "foster_placement", "+", 0, "external", INTRO,
      "Lisonkova 2024 (discharge to foster care after NAS 20-50%); Deutsch 2020", 0.43,
      term="removal", note="A report leads to removal with probability 1 - exp(-weight).",
      weight_source="external, derived: mechanisms.md s6, discharge to foster care after NAS "
      "20-50% (Lisonkova 2024) with near-universal notification; 0.43 gives 35%"),
    E("maternal_death", "foster_placement", "+", 0, "implied", INTRO,
      "After the mother's death the infant lives with a substitute caregiver", 5.0,
      term="removal", note="Placement on the day of death with probability 1 - exp(-weight).",
      weight_source="guess: almost every orphaned infant changes caregiver (0.99)"),
    E("opioid_use", "foster_placement", "+", 0, "external", INTRO,
      "Reunification requires recovery: continued use lowers it (Grella 2009; Hall 2016)",
      2.0, term="reunification",
      note="Recent use (the use-day share over the past weeks) lowers the day's "
      "reunification hazard (keeps the infant placed)."),
    E("moud", "foster_placement", "-", 0, "external", INTRO,
      "Hall 2016, J Subst Abuse Treat (MOUD in child-welfare families: more reunification, "
      "fewer days in care); plans of safe care keep infants with mothers in treatment "
      "(CAPTA 2016)", 1.2, term="removal_reunification",
      note="On MOUD: removal after a report less likely (rate ratio exp(-w)) and "
      "reunification more likely (logit + w).",
      weight_source="guess, set with a direction row in view (directions.toml "
      "moud_does_not_raise_placement is therefore weak evidence): MOUD doubles the NOWS "
      "that triggers notification, so removal per investigation must fall by more than "
      "that for MOUD not to raise placement; Hall 2016 reports about twice the odds of "
      "reunification with MOUD (3.3 at 1.2)"),
    E("foster_placement", "parenting_behavior", "+", 0, "external", INTRO,
      "Salo 2009 (foster mothers more sensitive than biological mothers with OUD)", 3.0,
      term="substitute_caregiver",
      note="While placed, care comes from the substitute caregiver (share 1 - exp(-w)): "
      "the sign is the change towards the substitute's (higher) sensitivity."),
    E("parenting_behavior", "attachment_disorganization", "-", 0, "external", ATTACH,
      "Madigan 2024 (sensitivity vs disorganization r=-.19)", 1.0),
    E("opioid_use", "attachment_disorganization", "+", 0, "implied", ATTACH,
      "van IJzendoorn 1999 (disorganization 2-3x in clinical groups); Romanowicz 2019", 3.0,
      term="intoxicated_care",
      note="Frightened/frightening care under intoxication: only while the infant is with "
      "the mother."),
    E("aces", "attachment_disorganization", "+", 0, "external", ATTACH,
      "Verhage 2016 (unresolved parent -> disorganized infant r=.21); Main & Hesse 1990", 2.5,
      note="Over the 0-10 ACE range: unresolved trauma -> frightening care."),
    E("foster_placement", "attachment_disorganization", "+", 0, "external", ATTACH,
      "van den Dries 2009 (more disorganization after early foster care/adoption); "
      "Bowlby 1980 (loss)", 2.0, term="disruption",
      note="Each change of caregiver (removal, the mother's death, reunification) is a "
      "pulse of disorganization."),
    E("attachment", "attachment_classification", "+", 0, "stated", ATTACH,
      "Ainsworth 1978 (security -> secure classification)", 12.0, term="classification",
      note="Sign: towards the secure class."),
    E("attachment_disorganization", "attachment_classification", "+", 0, "external", ATTACH,
      "Main & Solomon 1990; van IJzendoorn 1999", 6.0, term="classification",
      note="Sign: towards the disorganized class (code 4)."),
    E("parenting_behavior", "attachment_classification", "-", 0, "external", ATTACH,
      "Ainsworth 1978; Madigan 2024 (sensitivity vs avoidant r=-.24, resistant -.12)", 4.0,
      term="care_pattern",
      note="Rejecting / low responsiveness -> avoidant rather than resistant."),
    E("opioid_use", "attachment_classification", "+", 0, "implied", ATTACH,
      "Cassidy & Berlin 1994 (inconsistent availability -> resistant)", 3.0,
      term="care_pattern",
      note="Intoxicated days make care inconsistent: resistant rather than avoidant."),
    E("attachment_classification", "child_wellbeing", "-", 0, "external", ATTACH,
      "Fearon 2010 (externalising: insecure d=0.31, disorganized 0.34, avoidant 0.12, "
      "resistant 0.11)", 1.0, term="domains",
      note="Sign: an insecure or disorganized class lowers well-being."),
    E("infant_self_regulation", "child_wellbeing", "+", 0, "implied", INFANT,
      "Reese 2021 (self-regulation as the child's path to well-being); Feldman 2009", 1.5,
      term="domains"),
    E("dyadic_synchrony", "child_wellbeing", "+", 0, "external", INFANT,
      "Feldman 2007 (synchrony -> later self-control, empathy, cognition)", 1.0,
      term="domains"),
    E("foster_placement", "child_wellbeing", "-", 0, "external", ATTACH,
      "Rubin 2007 (placement instability and child well-being)", 1.0, term="domains"),
    E("overdose", "stressor", "+", 0, "implied", STRESS,
      "A non-fatal overdose is a major life event", 2.0),
    E("parenting_behavior", "cps_report", "-", 0, "stated", INTRO,
      "Smith 2007; Prindle 2018 (disengaged parenting -> neglect -> CPS)", 4.0),
    E("neonatal_withdrawal", "cps_report", "+", 0, "external", INTRO,
      "Plan-of-safe-care notification after NOWS (CAPTA 2016)", 14.0,
      weight_source="guess: most infants treated for NOWS are notified (CAPTA 2016 plans of "
      "safe care); 14 gives a report for ~2/3 of them within the NOWS weeks"),
    # ---------------------------------------------------------- Figure 2: MORE components
    # ---------------------------------------------------------- adherence from state
    E("motivation_for_change", "treatment_engagement", "+", 0, "stated", INTRO,
      "Reese 2021 Introduction (motivation to engage in treatment in pregnancy); DESIGN.md "
      "(motivation -> attendance, adherence)", 2.0),
    E("maternal_depression", "treatment_engagement", "-", 0, "external", DISCUSSION,
      "DiMatteo, Lepper & Croghan 2000 (depressed patients ~3x as likely to be "
      "non-adherent)", 1.5),
    E("opioid_use", "treatment_engagement", "-", 0, "implied", ALLOSTASIS,
      "Koob & Volkow 2016 (intoxication and its aftermath crowd out goal-directed "
      "activity); magnitude a guess", 1.0,
      note="A use day lowers the next day's attendance and practice."),
    *(E("treatment_engagement", skill, "+", 0, "implied", INTRO,
        "DESIGN.md (motivation drives attendance and adherence)", 1.0, term="adherence",
        note="Attendance and practice probability = propensity x engagement^weight.")
      for skill in ("mindfulness", "reappraisal", "savoring", "mindful_parenting",
                    "parenting_program", "supportive_group")),
    E("mindfulness", "reappraisal", "+", 2, "stated", MBI,
      "Garland 2011 (mindful reappraisal); trait mindfulness-reappraisal r=.28", 1.0,
      term="skill_gain", note="Reappraisal gains depend on mindfulness (sequenced treatment)."),
    E("mindfulness", "savoring", "+", 2, "stated", MORE_REWARD, GAR, 1.0, term="skill_gain",
      note="Savoring gains depend on mindfulness (sequenced treatment)."),
)
del E

EDGE_BY_WEIGHT: dict[str, Edge] = {e.weight_name: e for e in EDGES}


@dataclass(frozen=True)
class Loop:
    """A feedback loop the paper names: the cycle ``nodes[0] -> nodes[1] -> ... ->
    nodes[0]``, every step a declared edge (a loop knock-out zeroes all of them)."""

    name: str
    nodes: tuple[str, ...]
    section: str
    citation: str
    meaning: str

    @property
    def edges(self) -> tuple[str, ...]:
        """The weight names of the loop's edges, in order."""
        ring = (*self.nodes, self.nodes[0])
        return tuple(f"{a}->{b}" for a, b in zip(ring, ring[1:], strict=False))


LOOPS: tuple[Loop, ...] = (
    Loop("stress_feedback", ("stressor", "cognitive_appraisal", "stress_arousal",
                             "parenting_behavior", "infant_affect_behavior"),
         "Figure 1 legend", REESE,
         "The infant's distress is appraised as a stressor by the mother; her stress arousal "
         "disrupts parenting, which leaves the infant more distressed."),
    Loop("stress_use_feedback", ("stressor", "cognitive_appraisal", "stress_arousal",
                                 "negative_affect", "craving", "opioid_use",
                                 "natural_reward_responsiveness", "reward_dysregulation",
                                 "salience_of_infant_cues", "parenting_behavior",
                                 "infant_affect_behavior"),
         "Figure 1 legend", REESE,
         "Infant behaviour interpreted as stressful 'may reinforce her mother's cycle of "
         "substance craving and use', which blunts infant-cue salience and parenting."),
    Loop("coregulation", ("parenting_behavior", "dyadic_synchrony", "infant_positive_affect",
                          "positive_affect"),
         INFANT, "Reese 2021; Tronick 1977; Feldman 2007",
         "Emotion co-regulation: attuned care and infant positive affect reinforce the "
         "mother's positive affect and engaged parenting."),
    Loop("infant_distress", ("parenting_behavior", "infant_stress_reactivity",
                             "infant_affect_behavior"),
         ATTACH, "Reese 2021 ('a reciprocal relationship'); Nachmias 1996",
         "Disengaged care raises the infant's stress reactivity and distress, which makes "
         "care harder."),
    Loop("addiction_cycle", ("opioid_use", "drug_reward_salience", "reward_dysregulation",
                             "craving"),
         ALLOSTASIS, K,
         "Use sensitises drug reward, dysregulating reward; craving drives use, 'which fuels "
         "this cycle'."),
    Loop("withdrawal_relief", ("opioid_use", "physical_dependence", "withdrawal", "craving"),
         ALLOSTASIS, K,
         "Negative reinforcement: use builds dependence, withdrawal drives craving and use."),
    Loop("stress_sensitization_cycle", ("opioid_use", "stress_sensitization", "craving"),
         ALLOSTASIS, f"{K}; {GAR}",
         "Use sensitises stress systems; sensitization drives craving and use."),
    Loop("automaticity", ("opioid_use", "action_schema", "attentional_bias", "drug_cue"),
         MORE_CUE, f"{TIF}; Garland 2014",
         "Use strengthens the drug-use action schema, which biases attention to drug cues "
         "that trigger use."),
)
LOOP_BY_NAME: dict[str, Loop] = {lp.name: lp for lp in LOOPS}


def edges_into(target: str) -> tuple[Edge, ...]:
    return tuple(e for e in EDGES if e.target == target)


def parents(target: str) -> frozenset[str]:
    """Every node with a declared edge into ``target`` (direct, gain or windowed)."""
    return frozenset(e.source for e in EDGES if e.target == target)


def graph_dict() -> dict:
    return {"nodes": [n.to_dict() for n in NODES], "edges": [e.to_dict() for e in EDGES]}


def _validate() -> None:
    ids = set(NODE_IDS)
    if len(ids) != len(NODES):
        raise RuntimeError("duplicate node id in the graph")
    seen = set()
    for e in EDGES:
        if e.source not in ids or e.target not in ids:
            raise RuntimeError(f"edge {e.weight_name} names an unknown node")
        if e.weight_name in seen:
            raise RuntimeError(f"edge {e.weight_name} declared twice")
        seen.add(e.weight_name)
        if e.type == "gain":
            if not e.modulates:
                raise RuntimeError(f"gain edge {e.weight_name} modulates nothing")
            for m in e.modulates:
                if not any(x.source == m and x.target == e.target and x.type != "gain"
                           for x in EDGES):
                    raise RuntimeError(f"gain edge {e.weight_name}: no edge {m}->{e.target}")
        if e.type == "windowed" and e.window is None:
            raise RuntimeError(f"windowed edge {e.weight_name} has no window")
    for lp in LOOPS:
        missing = [w for w in lp.edges if w not in seen]
        if missing:
            raise RuntimeError(f"loop {lp.name}: no declared edge {', '.join(missing)}")


_validate()
