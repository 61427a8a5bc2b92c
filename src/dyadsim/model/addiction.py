"""The addiction cycle (Koob & Volkow 2016; Tiffany 1990) and its pharmacology.

Drug cues trigger the action schema. Unimpeded, the schema runs automatically: use with no
craving. Impeded (motivation to change, an abstinence goal), it produces craving. Craving,
braked by executive control and mindfulness, drives use; use builds the schema, tolerance,
dependence and (in :mod:`allostasis`) sensitization and reward dysregulation. Dependence
unrelieved by use or MOUD is withdrawal. MOUD starts and stops as random events.

Nodes with the default relaxation (``_core.relax_node``; the edges in ``graph.py`` say what
moves them): ``action_schema``, ``attentional_bias``, ``tolerance`` (no process noise) and
``executive_control``; ``drug_cue`` is a default event (``_core.event_node``: a cue-exposure
day, attentional bias makes cues noticed, Field & Cox 2008).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from ._core import drive, event, fast, level, rate, relax, weight
from .skills import untrained_level


def _cue_x_schema(target, s, p, dyad):
    """Tiffany's product: cue exposure x schema strength, with the edge weights of both."""
    cue = weight("drug_cue", target, s, p, dyad) * s["drug_cue"]
    schema = 1.0 - jnp.exp(-weight("action_schema", target, s, p, dyad) * s["action_schema"])
    return cue * schema


def craving(s, p, dyad, clock, z, u):
    """Blocked-schema craving (cue x schema, amplified by the impediment of motivation,
    damped by mindfulness) plus affective, allostatic and withdrawal-driven craving."""
    return {"craving": fast("craving", s, p, dyad, clock, z["craving"],
                            extra=_cue_x_schema("craving", s, p, dyad))}


def opioid_use(s, p, dyad, clock, z, u):
    """A use day: craving-driven use plus the automatic cue x schema path, around the
    person's own propensity (a random intercept; ``individual.use_propensity_sd``)."""
    return {"opioid_use": event("opioid_use", s, p, dyad, clock, u["opioid_use"],
                                extra=_cue_x_schema("opioid_use", s, p, dyad)
                                + dyad["opioid_use.trait"])}


def opioid_dose(s, p, dyad, clock, z, u):
    """The amount taken today beyond any prescription (Koob & Volkow 2016: escalation of
    intake). A use day takes the habitual amount (0 otherwise); on each use day the habitual
    amount closes a share (weight of ``opioid_use -> opioid_dose``) of the gap to the amount
    tolerance and pain call for, logistic(bias + tolerance + pain), less what a prescribed
    opioid covers: tolerance drives escalation, and a lower pain (MORE) a lower amount."""
    called_for = sigmoid(p["opioid_dose.bias"]
                         + weight("tolerance", "opioid_dose", s, p, dyad) * s["tolerance"]
                         + weight("chronic_pain", "opioid_dose", s, p, dyad)
                         * s["chronic_pain"])
    called_for = jnp.maximum(called_for - weight("prescribed_opioid", "opioid_dose", s, p, dyad)
                             * p["prescribed_opioid.full_dose"] * s["prescribed_opioid"], 0.0)
    use = s["opioid_use"]
    habitual = s["opioid_dose.habitual"]
    habitual = habitual + use * weight("opioid_use", "opioid_dose", s, p, dyad) * (
        called_for - habitual)
    return {"opioid_dose": (use * habitual).astype(jnp.float32),
            "opioid_dose.habitual": habitual.astype(jnp.float32)}


def called_for_dose(s, p):
    """The habitual amount a person starts a run with: the amount her tolerance and pain
    call for, less what a prescribed opioid covers (the escalation's equilibrium)."""
    called_for = sigmoid(p["opioid_dose.bias"] + p["tolerance->opioid_dose"] * s["tolerance"]
                         + p["chronic_pain->opioid_dose"] * s["chronic_pain"])
    return jnp.maximum(called_for - p["prescribed_opioid->opioid_dose"]
                       * p["prescribed_opioid.full_dose"] * s["prescribed_opioid"], 0.0)


def chronic_pain(s, p, dyad, clock, z, u):
    """Pain relaxes towards the person's own baseline (``chronic_pain.baseline_logit``: her
    initial pain, drawn by the population; ``chronic_pain.bias`` shifts every baseline), raised
    by withdrawal (hyperalgesia) and lowered by mindfulness and savoring above their
    untrained level (Garland 2014, 2019: MORE reduced pain severity)."""
    logit = (s["chronic_pain.baseline_logit"] + p["chronic_pain.bias"]
             + weight("withdrawal", "chronic_pain", s, p, dyad) * s["withdrawal"]
             - weight("mindfulness", "chronic_pain", s, p, dyad)
             * (s["mindfulness"] - untrained_level("mindfulness", p, dyad))
             - weight("savoring", "chronic_pain", s, p, dyad)
             * (s["savoring"] - untrained_level("savoring", p, dyad)))
    return {"chronic_pain": relax(s["chronic_pain"], sigmoid(logit), p["chronic_pain.tau"]),
            "chronic_pain.baseline_logit": s["chronic_pain.baseline_logit"]}


def physical_dependence(s, p, dyad, clock, z, u):
    """Follows use; agonist MOUD sustains it, buprenorphine (a partial agonist) less than
    methadone (``moud.buprenorphine_dependence``), so stopping it withdraws less; so does a
    prescribed opioid (LTOT) by its dose taken."""
    agonist = jnp.where(dyad["moud.buprenorphine"] > 0, p["moud.buprenorphine_dependence"], 1)
    sustained = (weight("moud", "physical_dependence", s, p, dyad) * agonist * s["moud"]
                 + weight("prescribed_opioid", "physical_dependence", s, p, dyad)
                 * s["prescribed_opioid"])
    return {"physical_dependence": fast("physical_dependence", s, p, dyad, clock, 0.0,
                                        extra=sustained)}


def withdrawal(s, p, dyad, clock, z, u):
    """Dependence not covered by the opioid on board: a use day, the MOUD dose and a
    prescribed opioid each cover part of the dependence (Koob & Volkow 2016; an adequate
    agonist dose suppresses withdrawal), and only the uncovered rest drives withdrawal. The
    dependence MOUD itself sustains never exceeds what its dose covers, so more coverage
    always means less withdrawal while it is taken; stopping leaves the dependence
    uncovered."""
    covered = (weight("opioid_use", "withdrawal", s, p, dyad) * s["opioid_use"]
               + weight("moud", "withdrawal", s, p, dyad) * s["moud"]
               + weight("prescribed_opioid", "withdrawal", s, p, dyad)
               * s["prescribed_opioid"])
    unrelieved = (weight("physical_dependence", "withdrawal", s, p, dyad)
                  * jnp.maximum(s["physical_dependence"] - covered, 0.0))
    return {"withdrawal": fast("withdrawal", s, p, dyad, clock, z["withdrawal"],
                               extra=unrelieved)}


def moud(s, p, dyad, clock, z, u):
    """MOUD with memory (Schiff 2021; mechanisms.md s6). Off (0) until a start event
    (daily hazard raised by motivation, lowered by structural barriers; once offered); then
    titrated towards the maintenance dose with ``moud.tau``; a recent non-fatal overdose
    raises the start hazard (``moud.overdose_contact``, a memory decaying with its own
    tau). The daily discontinuation hazard is highest in the first weeks and falls with
    time on treatment (``moud.stop_early_logit`` decaying with ``moud.stop_settle_tau``),
    is lowered by motivation and raised by barriers, a use day, withdrawal (an inadequate
    dose) and a recent CPS report (``moud.cps_contact``, a memory decaying with its own tau); it is
    higher on buprenorphine. A discontinuation is a taper (share ``moud.taper_share``: the
    dose falls linearly to 0 over ``moud.taper_days``, so dependence can follow it down) or
    an abrupt stop (dose 0 at once). A scheduled taper (``moud.taper_day``, set by an
    intervention) starts a taper on that day. On treatment the dose titrates towards
    ``moud.maintenance_level`` (clinic-dosed, observed)."""
    on = s["moud"] > 0
    tapering = s["moud.tapering"] > 0
    drive_ = (weight("motivation_for_change", "moud", s, p, dyad) * s["motivation_for_change"]
              - weight("structural_barriers", "moud", s, p, dyad) * s["structural_barriers"])
    cps_contact = jnp.maximum(s["moud.cps_contact"] * (1 - rate(p["moud.cps_contact_tau"])),
                              s["cps_report"])
    overdose_contact = jnp.maximum(
        s["moud.overdose_contact"] * (1 - rate(p["moud.overdose_contact_tau"])), s["overdose"])
    offered = clock["day"] >= dyad["moud.offer_day"]
    start = ~on & offered & (u["moud"] < sigmoid(
        p["moud.start_logit"] + drive_
        + weight("overdose", "moud", s, p, dyad) * overdose_contact))
    p_stop = sigmoid(p["moud.stop_logit"] - drive_
                     + p["moud.stop_early_logit"] * jnp.exp(-s["moud.days_on"]
                                                            / p["moud.stop_settle_tau"])
                     + p["moud.buprenorphine_stop_logit"] * dyad["moud.buprenorphine"]
                     + weight("opioid_use", "moud", s, p, dyad) * s["opioid_use"]
                     + weight("withdrawal", "moud", s, p, dyad) * s["withdrawal"]
                     + weight("cps_report", "moud", s, p, dyad) * cps_contact)
    stop = on & ~tapering & (u["moud"] < p_stop)
    # Given a stop, u / p_stop is uniform: the same draw decides taper vs abrupt.
    scheduled = on & (clock["day"] == dyad["moud.taper_day"])
    taper_now = (stop & (u["moud"] < p_stop * p["moud.taper_share"])) | scheduled
    tapering_new = on & (tapering | taper_now)
    prescribed = p["moud.maintenance_level"]
    titrated = relax(s["moud"], prescribed, p["moud.tau"])
    tapered = jnp.maximum(s["moud"] - prescribed / p["moud.taper_days"], 0.0)
    new = jnp.where(on, jnp.where(tapering_new, tapered,
                                  jnp.where(stop, 0.0, titrated)),
                    jnp.where(start, p["moud.induction_level"], 0.0)).astype(jnp.float32)
    still_on = new > 0
    return {"moud": new,
            "moud.days_on": jnp.where(still_on & on, s["moud.days_on"] + 1, 0.0),
            "moud.tapering": (still_on & tapering_new).astype(jnp.float32),
            "moud.cps_contact": cps_contact.astype(jnp.float32),
            "moud.overdose_contact": overdose_contact.astype(jnp.float32)}


def prescribed_opioid(s, p, dyad, clock, z, u):
    """Prescribed long-term opioid therapy, apart from MOUD (issue 18 item 9). Someone with a
    prescription (a dose above 0) takes part of it as needed: the dose taken relaxes (with
    the node's tau) towards ``prescription`` x (1 - self_titration x (1 - need /
    reference)), the analgesic need logistic(``titration_bias`` + pain + craving) as a share
    of the need the regimen was settled at (``prescribed_opioid.need_reference``, set on a
    run's first day), at most 1 (need beyond the prescription is ``opioid_dose``). Less pain
    and craving (MORE's mindfulness and savoring; Garland 2019/2020, 2024), less of the
    prescription taken; a taper lowers ``prescription``."""
    on = s["prescribed_opioid"] > 0
    need = sigmoid(p["prescribed_opioid.titration_bias"]
                   + weight("chronic_pain", "prescribed_opioid", s, p, dyad) * s["chronic_pain"]
                   + weight("craving", "prescribed_opioid", s, p, dyad) * s["craving"])
    reference = jnp.where(on & (s["prescribed_opioid.need_reference"] <= 0), need,
                          s["prescribed_opioid.need_reference"])
    settled = jnp.where(reference > 0, reference, need)
    share_of_need = jnp.minimum(need, settled) / settled
    taken = p["prescribed_opioid.prescription"] * (
        1 - p["prescribed_opioid.self_titration"] * (1 - share_of_need))
    dose = jnp.where(on, relax(s["prescribed_opioid"], taken, p["prescribed_opioid.tau"]), 0.0)
    return {"prescribed_opioid": dose.astype(jnp.float32),
            "prescribed_opioid.need_reference": reference.astype(jnp.float32)}


def overdose(s, p, dyad, clock, z, u):
    """Only on a day with an opioid on board: misuse (an amount taken) or a prescribed
    opioid; risk rises with the amount misused and with the prescribed dose taken (Dunn
    2010), when tolerance has been lost (return to use after abstinence), with
    polysubstance co-use, and falls on MOUD."""
    dose = s["opioid_dose"]
    use = ((dose > 0) | (s["prescribed_opioid"] > 0)).astype(jnp.float32)
    logit = (p["overdose.bias"]
             + weight("opioid_dose", "overdose", s, p, dyad) * level("opioid_dose", dose)
             + weight("prescribed_opioid", "overdose", s, p, dyad) * s["prescribed_opioid"]
             - weight("tolerance", "overdose", s, p, dyad) * s["tolerance"]
             + weight("polysubstance", "overdose", s, p, dyad) * s["polysubstance"]
             - weight("moud", "overdose", s, p, dyad) * s["moud"]
             + drive("overdose", s, p, dyad, clock))
    return {"overdose": (use * (u["overdose"] < sigmoid(logit))).astype(jnp.float32)}
