"""Every parameter of the model, declared once: name, default, bounds, unit, meaning, source.

Edge weights come from :mod:`dyadsim.model.graph` (one per edge); node time constants,
baselines and noise from the node declarations; everything else (event rates, windows,
trajectories, classification thresholds) is declared in ``_MECHANISM`` below. A value whose
source starts with ``guess`` is a guess and says why; calibration (issue 4) fits them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .graph import EDGES, NODES

#: A positive parameter whose bounds span at least this ratio varies on a log scale.
LOG_SCALE_RATIO = 20.0


class ParameterError(ValueError):
    """A parameter name is unknown or a value lies outside its declared bounds."""


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    lo: float
    hi: float
    unit: str
    meaning: str
    source: str

    @property
    def scale(self) -> str:
        """'log' for a positive parameter whose bounds span at least
        :data:`LOG_SCALE_RATIO`-fold (its prior, and a draw's shift, are multiplicative),
        else 'linear'."""
        return "log" if self.lo > 0 and self.hi / self.lo >= LOG_SCALE_RATIO else "linear"

    @property
    def is_guess(self) -> bool:
        """The value (not only the mechanism) is a guess: its source says so anywhere."""
        return "guess" in self.source.lower()


# Nodes whose rise and fall differ (declared second time constant "<node>.tau_down").
ASYMMETRIC_TAU: dict[str, tuple[float, str]] = {
    "tolerance": (7.0, "mechanisms.md s1b: tolerance passes off over 3-14 days"),
    "physical_dependence": (7.0, "mechanisms.md s1b: acute withdrawal over by 4-10 d "
                            "(short-acting), 10-20 d (methadone); the protracted phase is "
                            "carried by stress sensitization"),
    "stress_sensitization": (365.0, "Koob 2008: persists into protracted abstinence; "
                             "HPA normalisation ~12 months on methadone (mechanisms.md s2)"),
    "action_schema": (730.0, "mechanisms.md s1a: cue reactivity does not decay over >= 1 year"),
    "drug_reward_salience": (365.0, "mechanisms.md s1a: cue reactivity persists > 1 year"),
}

_MECHANISM: tuple[Param, ...] = (
    # stressor events
    Param("stressor.event_logit", -3.15, -8.0, 0.0, "logit/day",
          "Daily logit of a life event at zero poverty, barriers and use", "guess: about one "
          "notable event every 10 days in a low-income perinatal OUD sample (poverty 0.75, "
          "barriers 0.5), one in 17 days in the low-risk sample"),
    Param("stressor.event_size", 2.0, 0.0, 6.0, "logit", "Push of a stressor event on the "
          "stressor target", "guess"),
    # pregnancy and birth
    Param("gestation.mean_weeks", 38.5, 34.0, 41.0, "weeks",
          "Mean gestational age at birth", "external: preterm birth is more common with "
          "prenatal opioid exposure (mean set below 39 w); guess"),
    Param("gestation.sd_weeks", 1.5, 0.1, 3.0, "weeks", "SD of gestational age at birth",
          "guess"),
    # maternal hormones (trajectory)
    Param("maternal_hormones.nonpregnant", 0.2, 0.0, 1.0, "0-1",
          "Hormone milieu outside pregnancy", "guess"),
    Param("maternal_hormones.birth_peak", 0.9, 0.0, 1.0, "0-1",
          "Level at birth (oxytocin/prolactin peak)", "Reese 2021 Salience section; Bridges "
          "2015; level a guess"),
    Param("maternal_hormones.rise_exponent", 2.0, 1.0, 6.0, "exponent",
          "Shape of the hormone rise over gestation (level ~ gestation fraction^exponent: "
          "late-pregnancy rise)", "guess: oxytocin and prolactin rise mostly in the third "
          "trimester (Levine 2007 reports rises from early to late pregnancy)"),
    Param("maternal_hormones.postpartum_tau", 120.0, 14.0, 730.0, "days",
          "Decay of the postpartum hormone milieu towards the non-pregnant level",
          "guess: Levine 2007 shows OT stable to 1 month postpartum; lactation extends it"),
    Param("maternal_hormones.trait_sd", 0.15, 0.0, 0.5, "0-1",
          "Between-mother SD of the hormone trajectory", "Levine 2007: 'high individual "
          "stability' of OT; size a guess"),
    # motivation for change (trajectory)
    Param("motivation_for_change.pregnancy", 0.75, 0.0, 1.0, "0-1",
          "Motivation level during pregnancy", "Reese 2021 Introduction (Asta 2021); level a "
          "guess"),
    Param("motivation_for_change.nonpregnant", 0.35, 0.0, 1.0, "0-1",
          "Motivation level outside the perinatal window", "guess"),
    Param("motivation_for_change.postpartum_tau", 180.0, 14.0, 1000.0, "days",
          "Decay of prenatal motivation after birth", "guess: Frazer 2019 and Goodman 2020 "
          "report recovery maintained postpartum; decay over months"),
    Param("motivation_for_change.trait_sd", 0.1, 0.0, 0.5, "0-1",
          "Between-mother SD of the motivation trajectory", "guess"),
    # MOUD start and discontinuation (daily hazards, logit)
    Param("moud.start_logit", -7.0, -15.0, 0.0, "logit/day",
          "Baseline daily hazard of starting MOUD when off and offered", "guess"),
    Param("moud.stop_logit", -8.5, -15.0, 0.0, "logit/day",
          "Daily logit of discontinuing MOUD once settled on treatment", "external: Schiff "
          "2021 (80% still on MOUD 12 months postpartum when it ran through pregnancy); "
          "level calibrated later"),
    Param("moud.stop_early_logit", 5.0, 0.0, 8.0, "logit",
          "Extra discontinuation logit at the start of treatment, decaying with time on "
          "treatment", "external: Schiff 2021 (34% retained at 12 months postpartum when "
          "MOUD began in the last month of pregnancy vs 80% when it ran through it): "
          "retention grows with time on treatment; size a guess"),
    Param("moud.stop_settle_tau", 90.0, 7.0, 365.0, "days",
          "Time on treatment over which the early excess discontinuation hazard fades",
          "guess: the early dropout of treatment cohorts happens in the first months"),
    Param("moud.buprenorphine_stop_logit", 0.3, 0.0, 2.0, "logit",
          "Extra discontinuation logit on buprenorphine (vs methadone)", "external (not in "
          "mechanisms.md): Mattick 2014 Cochrane review, flexible-dose buprenorphine "
          "retained fewer than methadone (RR 0.83); conversion to a daily logit a guess"),
    Param("moud.buprenorphine_dependence", 0.7, 0.0, 1.0, "multiplier",
          "Physical dependence sustained by buprenorphine relative to methadone (a partial "
          "agonist with a ceiling): stopping it leaves less to withdraw from", "guess: "
          "partial agonism; mechanisms.md s1b reports long-acting (methadone) withdrawal "
          "lasting 10-20 d vs 4-10 d for short-acting opioids"),
    Param("moud.cps_contact_tau", 60.0, 7.0, 365.0, "days",
          "How long a CPS report keeps raising the discontinuation hazard (memory decay)",
          "guess: a child-welfare case stays open for weeks to months"),
    Param("moud.overdose_contact_tau", 30.0, 3.0, 365.0, "days",
          "How long a non-fatal overdose keeps raising the MOUD start hazard (memory decay)",
          "guess: the window of an emergency-department or naloxone contact and referral"),
    Param("moud.taper_share", 0.3, 0.0, 1.0, "fraction",
          "Share of discontinuations that are a taper rather than an abrupt stop",
          "guess: planned tapers are the minority of MOUD exits"),
    Param("moud.taper_days", 21.0, 3.0, 180.0, "days",
          "Length of a taper from the maintenance dose to 0", "mechanisms.md s1b: the "
          "21-day methadone taper of the Addict Behav 1987 study"),
    Param("moud.maintenance_level", 1.0, 0.1, 1.0, "0-1",
          "Dose coverage that titration approaches (1: an adequate therapeutic dose)",
          "Barta 2009: heroin use fell once methadone >= 70 mg (adequate dose); a lower "
          "level models under-dosing"),
    Param("moud.induction_level", 0.3, 0.05, 1.0, "0-1",
          "Dose coverage on the first day of MOUD (titrated up with moud tau)", "guess"),
    # prescribed long-term opioid therapy (addiction.prescribed_opioid; issue 18 item 9)
    Param("prescribed_opioid.prescription", 1.0, 0.1, 1.0, "0-1",
          "Prescribed dose the regimen approaches, as a share of the full prescription "
          "(the opioid_taper intervention lowers it)",
          "guess: 1 (the regimen the population was enrolled on); a taper to half sets 0.5 "
          "(CDC 2022)"),
    Param("prescribed_opioid.full_dose", 0.2, 0.05, 0.5, "fraction of the MME scale",
          "A full prescription as a share of the opioid_dose node's 400 MME/day (80 MME/day)",
          "guess: LTOT samples sit near the 90-100 MME/day high-dose threshold (CDC 2022); "
          "not found in the shared references (the MME instrument's prescribed_mme)"),
    Param("prescribed_opioid.self_titration", 0.5, 0.0, 1.0, "fraction",
          "Share of the prescribed dose the person titrates to her analgesic need (the dose "
          "taken relaxes towards the prescription x (1 - share x (1 - need / need at "
          "settling)), at most the prescription); 0: the dose taken is the prescription",
          "guess: half the regimen titrated by pain and craving, half scheduled (take-home "
          "analgesics, taken as needed: Garland 2024 Am J Psychiatry, MORE reduced the dose "
          "taken 20.7% vs 3.9% in the comparison arm)"),
    Param("prescribed_opioid.titration_bias", -2.5, -6.0, 6.0, "logit",
          "Logit of the analgesic need with no pain and no craving (the chronic_pain -> "
          "prescribed_opioid and craving -> prescribed_opioid weights raise it); the dose "
          "taken follows the need relative to the need the regimen was settled at, so this "
          "sets how steeply: the relative change of need per logit is 1 - need",
          "guess: with the default weights an LTOT patient at her baseline pain (~0.65) and "
          "moderate craving (~0.3) sits at a need of ~0.48, where a fall of pain by a tenth of "
          "its range lowers the need by ~15%: roughly proportional to pain"),
    # neonatal opioid withdrawal (infant.py): exposure by drug, diagnosis, course, care model
    Param("neonatal_withdrawal.exposure_tau", 30.0, 5.0, 280.0, "days",
          "Time constant of the fetal exposure average (late pregnancy weighs most; "
          "280 d weighs the whole gestation alike)", "guess: NOWS reflects the opioid "
          "on board in the last weeks before delivery"),
    Param("neonatal_withdrawal.max_share", 0.8, 0.3, 1.0, "fraction",
          "Share of heavily exposed infants who need treatment for NOWS (saturation)",
          "mechanisms.md s5: up to 96% show signs; 88-91% treated among NICU-admitted NAS "
          "infants (Tolia 2017); 0.8 a guess"),
    Param("neonatal_withdrawal.half_exposure", 0.4, 0.02, 3.0, "exposure units",
          "Fetal exposure at which half the maximal NOWS share is reached",
          "external, derived: with a full methadone dose (exposure 1) it gives 57% "
          "(MOTHER, Gaalema 2012); calibrated later"),
    Param("neonatal_withdrawal.reference_dose", 0.33, 0.05, 1.0, "opioid_dose level",
          "Amount taken on a use day (a share of the opioid_dose node's 400 MME/day) at "
          "which a use day's fetal exposure is the opioid_use -> neonatal_withdrawal weight "
          "whatever the opioid_dose -> neonatal_withdrawal share (issue 18 item 7)",
          "set at the untreated check run's mean amount (133 MME per use day, "
          "mme_untreated), so adding the amount left the default exposure of untreated "
          "mothers where it was"),
    Param("neonatal_withdrawal.buprenorphine_potency", 0.45, 0.1, 1.0, "x methadone",
          "Fetal exposure of a full buprenorphine dose relative to methadone",
          "external, derived: MOTHER treated 47% vs 57% (Gaalema 2012); meta-analysis RR "
          "0.90 (PMID 25150272)"),
    Param("neonatal_withdrawal.onset_days", 3.0, 1.0, 8.0, "days",
          "Days from birth to peak NOWS after methadone", "mechanisms.md s5: methadone "
          "usually 48-72 h, up to a week"),
    Param("neonatal_withdrawal.onset_days_buprenorphine", 2.3, 1.0, 8.0, "days",
          "Days from birth to peak NOWS after buprenorphine", "mechanisms.md s5: morphine "
          "started at 55.2 h on average (Providence cohort, J Addict Med 2018)"),
    Param("neonatal_withdrawal.onset_days_illicit", 1.0, 0.5, 4.0, "days",
          "Days from birth to peak NOWS after illicit short-acting opioids (heroin)",
          "mechanisms.md s5: heroin within 24 h (SOGC 2011)"),
    Param("neonatal_withdrawal.buprenorphine_duration_ratio", 0.7, 0.3, 1.0, "x methadone",
          "NOWS duration after buprenorphine relative to methadone", "external, derived: "
          "meta-analysis LOS -7.23 d (PMID 25150272) on a methadone median of 24 d (Tolia)"),
    Param("neonatal_withdrawal.illicit_duration_ratio", 0.7, 0.3, 1.5, "x methadone",
          "NOWS duration after illicit short-acting opioids relative to methadone",
          "guess: short-acting opioids clear faster (mechanisms.md s1b acute withdrawal "
          "4-10 d vs 10-20 d for methadone)"),
    Param("neonatal_withdrawal.care_treatment_rr", 1.0, 0.1, 1.0, "risk ratio",
          "Care model: multiplier on the share treated for NOWS (1 = usual NICU care)",
          "mechanisms.md s5: rooming-in RR 0.37 (MacMillan 2018); Eat, Sleep, Console "
          "19.5% vs 52% (Young 2023); the eat_sleep_console intervention sets 0.37"),
    Param("neonatal_withdrawal.care_duration_ratio", 1.0, 0.3, 1.0, "ratio",
          "Care model: multiplier on NOWS duration (1 = usual NICU care)",
          "mechanisms.md s5: ESC days to discharge readiness 8.2 vs 14.9 (rate ratio 0.55, "
          "Young 2023); the eat_sleep_console intervention sets 0.55"),
    # placement and the substitute caregiver (placement.py)
    Param("foster_placement.reunification_logit", -6.5, -12.0, -2.0, "logit/day",
          "Daily hazard of reunification with a living mother who did not use that day",
          "guess: about half of US children leaving foster care are reunified, after a "
          "median stay of about a year (AFCARS reports); -6.5 gives ~0.15%/day"),
    Param("foster_placement.use_tau", 30.0, 7.0, 180.0, "days",
          "Time constant of the recent use-day share that a CPS investigation and a "
          "reunification review weigh", "guess: investigations and case reviews look at "
          "the past weeks (toxicology, treatment records)"),
    Param("foster_placement.investigation_days", 45.0, 7.0, 120.0, "days",
          "Days an investigation stays open after the last report (reports inside it join it: "
          "one removal decision per episode)", "guess: CPS investigations are to close within "
          "30-60 days in most US states (Child Welfare Information Gateway)"),
    Param("foster_placement.removal_use_log_rr", 1.5, 0.0, 4.0, "log rate ratio",
          "Log rate ratio of removal after a report for a mother using every day vs one "
          "not using", "guess: continued parental substance use is the main reason for "
          "removal after a substance-related report (Grella 2009; Lloyd 2017)"),
    Param("foster_placement.repeat_report_log_rr", 0.5, 0.0, 2.0, "log rate ratio per report",
          "Log rate ratio of removal per earlier CPS report", "guess: re-reported families "
          "are more often substantiated and removed (Fluke 2008)"),
    Param("caregiver.substitute_parenting_mean", 0.72, 0.05, 0.95, "0-1",
          "Mean parenting (sensitivity) of substitute caregivers", "external: Salo 2009 "
          "(foster mothers above biological mothers with OUD on sensitivity, near controls); "
          "set at the low-risk mothers' mean parenting (~0.72 in this model)"),
    Param("caregiver.substitute_parenting_sd", 0.5, 0.0, 2.0, "logit SD",
          "Between-caregiver SD of substitute parenting (logit-normal)", "guess"),
    # the infant's own attachment (infant.py)
    Param("attachment.temperament_sd", 0.6, 0.0, 3.0, "logit SD",
          "Between-infant SD of the infant's own contribution to attachment security "
          "(temperament, regulation) on the logit scale of the security the first year's care "
          "builds", "set with a row in view (check sensitivity_security_r is therefore not "
          "evidence): the transmission gap (van IJzendoorn 1995; De Wolff & van IJzendoorn "
          "1997, observed r=.24) leaves most of the latent's variance to the infant; 0.6 "
          "gives r=.21 between mean parenting and a secure class in low-risk dyads (0.25 "
          "gave .41, 1.0 gave .17; 600 dyads); temperament alone relates weakly (Groh 2017)"),
    Param("attachment_disorganization.disruption_tau", 730.0, 90.0, 1825.0, "days",
          "Time constant over which the disorganizing effect of a change of caregiver fades",
          "guess: more disorganization persists in adoptees placed in infancy when assessed "
          "in the second year (van den Dries 2009), while foster infants organise an "
          "attachment to a sensitive new caregiver within months (Dozier 2001)"),
    Param("attachment_disorganization.disruption_early_weight", 0.8, 0.0, 1.0, "fraction",
          "Weight of a change of caregiver at birth relative to one after clear-cut "
          "attachment (disruption_sensitive_day)", "guess: age at adoption moderated "
          "security more than disorganization (van den Dries 2009), so an early change "
          "still counts for most of a later one"),
    Param("attachment_disorganization.disruption_sensitive_day", 210.0, 90.0, 365.0,
          "postpartum days", "Age from which a change of caregiver is the loss of a "
          "clear-cut attachment figure (full weight)", "Bowlby 1969; Schaffer & Emerson "
          "1964: clear-cut attachment to particular figures from about 7 months"),
    # attachment classification (Strange Situation)
    Param("attachment.classification_day", 365.0, 240.0, 600.0, "postpartum days",
          "Age at the Strange Situation", "Reese 2021 / SSP at 12-20 months"),
    Param("attachment_classification.disorganized_logit", -2.0, -8.0, 2.0, "logit",
          "Logit of a disorganized classification with no disorganizing care",
          "fitted: set so low-risk dyads come out near 15% disorganized (van IJzendoorn "
          "1999); calibrated later"),
    Param("attachment_classification.secure_logit", -9.6, -20.0, 5.0, "logit",
          "Threshold of the secure class on the latent security: secure when secure_logit + "
          "w x security > 0 (w the attachment -> classification weight; threshold "
          "-secure_logit / w = 0.80)", "fitted: set so low-risk dyads come out near 60% "
          "secure inside Ainsworth's 57-73% (check secure_low_risk is therefore not "
          "evidence)"),
    Param("attachment_classification.avoidant_logit", 4.0, -5.0, 8.0, "logit",
          "Logit of avoidant (vs resistant) among insecure-organized infants with "
          "consistent, unresponsive care", "fitted: set so low-risk dyads (after the "
          "default burn-in) give Ainsworth's A:C of about 22:12 inside the 15-32% avoidant "
          "range"),
    Param("attachment_classification.inconsistency_weight", 8.0, 0.0, 30.0, "logit per unit",
          "How much inconsistent availability shifts insecure infants from avoidant to "
          "resistant", "guess: Cassidy & Berlin 1994 (inconsistent care -> resistant)"),
    Param("attachment_classification.effect_avoidant", 0.39, 0.0, 2.0, "x insecure effect",
          "Well-being effect of an avoidant class relative to the attachment->class weight",
          "Fearon 2010: avoidant d=0.12 vs insecure 0.31"),
    Param("attachment_classification.effect_resistant", 0.35, 0.0, 2.0, "x insecure effect",
          "Well-being effect of a resistant class relative to the attachment->class weight",
          "Fearon 2010: resistant d=0.11 vs insecure 0.31"),
    Param("attachment_classification.effect_disorganized", 1.1, 0.0, 3.0, "x insecure effect",
          "Well-being effect of a disorganized class relative to the attachment->class "
          "weight", "Fearon 2010: disorganized d=0.34 vs insecure 0.31"),
    # child well-being domains
    Param("child_wellbeing.domain_tau", 180.0, 30.0, 730.0, "days",
          "Time constant of each well-being domain", "guess"),
    Param("child_wellbeing.cognitive_attachment_share", 0.5, 0.0, 1.0, "fraction",
          "Share of the cognitive domain's input from attachment (the rest: NOWS history)",
          "guess: the cognitive domain depends on both"),
    # per-domain baselines of child well-being (guesses: a low-risk child sits near 0.7-0.8)
    Param("child_wellbeing.physical_bias", 1.5, -5.0, 5.0, "logit",
          "Baseline logit of the physical domain", "guess"),
    Param("child_wellbeing.psychological_bias", 0.0, -5.0, 5.0, "logit",
          "Baseline logit of the psychological domain", "guess"),
    Param("child_wellbeing.cognitive_bias", 0.5, -5.0, 5.0, "logit",
          "Baseline logit of the cognitive domain", "guess"),
    Param("child_wellbeing.social_bias", 0.0, -5.0, 5.0, "logit",
          "Baseline logit of the social domain", "guess"),
    Param("child_wellbeing.economic_bias", 1.5, -5.0, 5.0, "logit",
          "Baseline logit of the economic domain", "guess"),
    Param("child_wellbeing.physical_trait_sd", 0.6, 0.0, 2.0, "logit SD",
          "Between-child SD of the logit of the physical domain's target (constitution and "
          "the pace of motor development)", "WHO Multicentre Growth Reference Study Group "
          "2006 (Acta Paediatr Suppl 450:86): healthy children reach gross-motor milestones "
          "over wide windows (walking alone 8.2-17.6 months, 1st-99th centile); size a guess"),
    # intervention skills (Figure 2): growth from sessions and home practice
    Param("skill.session_gain", 0.06, 0.0, 0.5, "per session",
          "Fractional skill gain per attended session", "guess: tuned so 8 MORE sessions "
          "give g~0.5 in trait mindfulness (Visted 2015)"),
    Param("skill.practice_gain", 0.006, 0.0, 0.05, "per practice day",
          "Fractional skill gain per day of home practice", "guess: practice->outcome r~0.26 "
          "(Parsons 2017)"),
    Param("skill.adherence_concentration", 4.0, 0.5, 100.0, "beta concentration",
          "Between-person spread of attendance and home practice around the course means "
          "(beta with this concentration: smaller = more varied)", "guess: Parsons 2017 "
          "reports wide variation in practice (60-69% on average)"),
    Param("skill.baseline", 0.3, 0.0, 1.0, "0-1",
          "Untrained skill level (trait mindfulness without training): the population "
          "median of the per-person trait", "guess"),
    Param("mindfulness.trait_sd", 0.6, 0.0, 2.0, "logit SD",
          "Between-person SD of the logit of untrained (trait) mindfulness around "
          "skill.baseline", "Baer 2006: trait mindfulness (FFMQ) varies between people and "
          "persists; size a guess (latent SD ~0.11 at skill.baseline 0.3). Measured: 8 MORE "
          "sessions raise mindfulness by ~1.5 of these SDs, more than the g~0.5 of Visted "
          "2015 (a departure of skill.session_gain, left to calibration)"),
    Param("reappraisal.trait_sd", 0.6, 0.0, 2.0, "logit SD",
          "Between-person SD of the logit of the untrained (habitual) use of reappraisal "
          "around skill.baseline", "Gross & John 2003: habitual reappraisal (ERQ) is a "
          "stable individual difference; size a guess, the same as mindfulness.trait_sd"),
    # individual differences ("for some mothers")
    Param("individual.neuroadaptation_sd", 0.4, 0.0, 1.5, "log multiplier SD",
          "Between-mother SD of the log weight of use -> stress sensitization and reward "
          "dysregulation", "Reese 2021 abstract: 'for some mothers'; size a guess"),
    Param("individual.use_propensity_sd", 0.6, 0.0, 4.0, "logit SD",
          "Between-person SD of the daily logit of use (a random intercept: frailty, the "
          "residual beyond the person's own states)",
          "guess: people differ in how readily they use (Burgess-Hull & Epstein 2021; "
          "person-specific craving-use models, Neuropsychopharmacology 2022), but use is "
          "a state process (issue 18 item 1; DESIGN.md s2: courses come from the "
          "mechanisms): the between-mother differences are carried by her drawn and "
          "persistent states (habit, salience, sensitization, depression), so the residual "
          "intercept is set at 0.6 so that the dynamic mechanisms carry >= 60% of the "
          "logit's variance in untreated pregnancy (benchmarks/use_decomposition.py). Was "
          "2.0 for Smyth 2010's falling relapse hazard. No source bounds it: the upper bound "
          "stays at 4 because the shipped posterior, fitted under the earlier structure, "
          "puts it at 1.4-3.2 (5-95%); the refit (issue 19) decides"),
    Param("individual.skill_responsiveness_sd", 0.3, 0.0, 1.5, "log multiplier SD",
          "Between-mother SD of the log skill gain", "guess"),
    Param("individual.appraisal_sd", 0.5, 0.0, 2.0, "logit SD",
          "Between-person SD of the logit of threat appraisal (a persistent appraisal "
          "style: a random intercept of cognitive_appraisal)", "Lee 2012: PSS-10 test-retest "
          "> .70 in 4 studies, so appraised stress is largely a stable disposition; size a "
          "guess: with 0.5 the PSS-10's 28-day retest is 0.76, inside its range"),
)


def _declare() -> dict[str, Param]:
    out: dict[str, Param] = {}

    def add(p: Param) -> None:
        if p.name in out:
            raise RuntimeError(f"parameter {p.name} declared twice")
        out[p.name] = p

    for n in NODES:
        if n.dynamics in ("relax", "event", "derived"):
            add(Param(f"{n.id}.bias", n.bias, n.bias - 8.0, n.bias + 8.0, "logit",
                      f"Baseline logit of the {n.label.lower()} target / daily probability",
                      "guess: sets the untreated population level; calibrated in issue 4"))
        if n.dynamics in ("relax",) and n.noise > 0:
            add(Param(f"{n.id}.noise", n.noise, 0.0, 3.0 * n.noise + 0.5, "logit/day",
                      f"Daily process noise on the {n.label.lower()} target",
                      "guess: between-day variability (Stull 2022: day-level variance large)"))
        if n.tau is not None:
            add(Param(f"{n.id}.tau", n.tau, max(0.5, n.tau / 10), n.tau * 10, "days",
                      f"Time constant of {n.label.lower()}"
                      + (" (rise)" if n.id in ASYMMETRIC_TAU else ""), n.tau_source))
        if n.id in ASYMMETRIC_TAU:
            tau, src = ASYMMETRIC_TAU[n.id]
            add(Param(f"{n.id}.tau_down", tau, max(1.0, tau / 10), tau * 10, "days",
                      f"Time constant of {n.label.lower()} recovery (fall)", src))
    for e in EDGES:
        lo, hi = e.weight_bounds or (0.0, max(4.0 * e.weight, 1.0))
        add(Param(e.weight_name, e.weight, lo, hi, e.weight_unit,
                  f"Weight of the edge {e.source} -> {e.target} ({e.type}, sign {e.sign})",
                  e.weight_source))
    for p in _MECHANISM:
        add(p)
    return out


PARAMS: dict[str, Param] = _declare()


class Parameters(Mapping[str, float]):
    """An immutable, validated parameter set: the defaults with ``overrides`` applied."""

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        values = {k: p.default for k, p in PARAMS.items()}
        for name, value in (overrides or {}).items():
            if name not in PARAMS:
                raise ParameterError(f"unknown parameter {name!r} (see `dyadsim params`)")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(f"parameter {name!r} must be a number, got {value!r}")
            spec = PARAMS[name]
            v = float(value)
            if not (spec.lo <= v <= spec.hi):
                raise ParameterError(
                    f"parameter {name!r} = {v:g} is outside its bounds [{spec.lo:g}, {spec.hi:g}]"
                )
            values[name] = v
        self._values = values

    def __getitem__(self, key: str) -> float:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, overrides: Mapping[str, float]) -> Parameters:
        """A new parameter set with ``overrides`` applied on top of this one."""
        return Parameters({**self.changed(), **overrides})

    def changed(self) -> dict[str, float]:
        """The values that differ from the declared defaults."""
        return {k: v for k, v in self._values.items() if v != PARAMS[k].default}

    def to_dict(self) -> dict[str, float]:
        return dict(self._values)


def apply_to_population(theta: Mapping[str, float],
                        base: Mapping[str, float]) -> dict[str, float]:
    """The parameter overrides a study runs with under draw ``theta``. A value the study's
    population (preset or design) sets itself describes that population; ``theta`` moves it
    by the draw's departure from the declared default (a shift on the parameter's scale:
    added for a linear parameter, multiplied for a log-scale one), clipped to the bounds."""
    out = dict(theta)
    for k, v in base.items():
        p = PARAMS[k]
        if k not in theta:
            out[k] = float(v)
            continue
        if p.scale == "log":
            moved = v * theta[k] / p.default if p.default > 0 and v > 0 else theta[k]
        else:
            moved = v + theta[k] - p.default
        out[k] = float(min(max(moved, p.lo), p.hi))
    return out


def run_parameters(population: Mapping[str, float], *,
                   theta: Mapping[str, float] | None = None,
                   interventions: Mapping[str, float] | None = None,
                   scenario: Mapping[str, float] | None = None,
                   overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The one place parameter precedence is decided: the overrides of the declared
    defaults a run uses. Lowest first:

    1. the declared defaults (:data:`PARAMS`; not repeated in the result);
    2. ``population``: the preset's values, then the scenario's or trial spec's own
       ``[population] params``;
    3. ``theta``, a parameter draw (posterior or prior), applied to the population: a value
       the population sets is moved by the draw's departure from the default
       (:func:`apply_to_population`), every other parameter takes the draw's value;
    4. ``interventions``: what the run's interventions set (an arm's, a scenario's courses);
    5. ``scenario``: the scenario's ``[params]``;
    6. ``overrides``: explicit values (``--set``, ``params=``, a batch's parameter set).

    A draw sits below the interventions: it describes the population, and an intervention
    changes what it changes in whatever population it meets."""
    base = dict(population) if theta is None else apply_to_population(theta, population)
    return {**base, **(interventions or {}), **(scenario or {}), **(overrides or {})}
