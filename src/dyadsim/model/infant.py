"""Infant and child (Reese 2021, 'Infant Affect and Behavior', 'Attachment and Child
Well-Being'): the infant sub-model exists from birth, with prenatal exposure carried in.

Before birth the infant nodes hold their initial values, except that the fetal opioid
exposure (substate ``neonatal_withdrawal.exposure``) follows the mother's opioid level:
illicit use plus the MOUD dose weighted by drug (methadone; buprenorphine at
``buprenorphine_potency``). At enrolment it starts from the population's prenatal history
(:func:`prenatal_exposure`), so a study that enrols late or after delivery carries in the
exposure of the weeks it did not observe. At birth a NOWS diagnosis (pharmacological
treatment) is drawn from that exposure; its onset and duration depend on the drug on
board at delivery (mechanisms.md s5) and the care model (rooming-in / Eat, Sleep, Console:
``care_*`` parameters). Attachment security and disorganization consolidate over the first
year (:func:`dyadsim.model.placement.consolidating_rate`); the Strange Situation class is
drawn from them and from the pattern of care (:func:`attachment_classification`) and feeds child
well-being.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid
from jax.scipy.special import logit

from ._core import drive, event, fast, rate, weight
from .placement import consolidating_rate

DOMAINS = ("physical", "psychological", "cognitive", "social", "economic")
ATTACHMENT_CLASSES = ("none", "secure", "avoidant", "resistant", "disorganized")
CLASS_CODE = {name: float(i) for i, name in enumerate(ATTACHMENT_CLASSES)}


def _after_birth(clock, new, old):
    return jnp.where(clock["postpartum_day"] >= 0, new, old)


def _on_buprenorphine(dyad):
    return dyad["moud.buprenorphine"] > 0


def fetal_opioid_level(use, dose, moud, s, p, dyad):
    """The day's opioid level reaching the fetus: illicit use plus the MOUD dose,
    buprenorphine at its potency relative to methadone (Gaalema 2012), plus a prescribed
    opioid's dose taken. A use day carries the
    ``opioid_use -> neonatal_withdrawal`` weight; the ``opioid_dose -> neonatal_withdrawal``
    weight is the share of that which scales with the amount taken (``dose``, today's
    ``opioid_dose``, the amount of a use day) over ``reference_dose`` (issue 18 item 7): 0
    counts use days only, 1 makes a use day's exposure proportional to its amount."""
    potency = jnp.where(_on_buprenorphine(dyad), p["neonatal_withdrawal.buprenorphine_potency"],
                        1.0)
    amount_share = weight("opioid_dose", "neonatal_withdrawal", s, p, dyad)
    amount = 1.0 + amount_share * (dose / p["neonatal_withdrawal.reference_dose"] - 1.0)
    return (weight("opioid_use", "neonatal_withdrawal", s, p, dyad) * use * amount
            + weight("moud", "neonatal_withdrawal", s, p, dyad) * potency * moud
            + weight("prescribed_opioid", "neonatal_withdrawal", s, p, dyad)
            * s["prescribed_opioid"])


def prenatal_exposure(s, p, dyad):
    """Exposure carried in at enrolment: the level the prenatal history sustains, i.e. the
    MOUD dose at enrolment and the share of use days: the population's typical share
    (``prenatal.use_share``) shifted on the logit scale by the mother's own use propensity
    (``opioid_use.trait``, when the model draws one), so her history matches her dynamics,
    each use day at her habitual amount."""
    share = sigmoid(logit(dyad["prenatal.use_share"]) + dyad.get("opioid_use.trait", 0.0))
    return fetal_opioid_level(share, s["opioid_dose.habitual"], s["moud"], s, p,
                              dyad).astype(jnp.float32)


def neonatal_withdrawal(s, p, dyad, clock, z, u):
    """Fetal exposure averages the mother's opioid level over gestation (time constant
    ``exposure_tau``); NOWS is drawn at birth with probability care_rr x max_share x
    e / (e + half), polysubstance co-exposure lowering the half-exposure. Severity rises
    linearly to its peak (e / (e + half)) over the drug's onset and then resolves with the
    drug's duration."""
    pp = clock["postpartum_day"]
    exposure = s["neonatal_withdrawal.exposure"]
    level = fetal_opioid_level(s["opioid_use"], s["opioid_dose"], s["moud"], s, p, dyad)
    in_utero = exposure + (level - exposure) * rate(p["neonatal_withdrawal.exposure_tau"])
    exposure = jnp.where(pp < 0, in_utero, exposure)
    half = p["neonatal_withdrawal.half_exposure"] * jnp.exp(
        -weight("polysubstance", "neonatal_withdrawal", s, p, dyad) * s["polysubstance"])
    saturation = exposure / (exposure + half)
    p_dx = (p["neonatal_withdrawal.care_treatment_rr"] * p["neonatal_withdrawal.max_share"]
            * saturation)
    at_birth = pp == 0
    diagnosed = jnp.where(at_birth, (dyad["u.nows"] < p_dx).astype(jnp.float32),
                          s["neonatal_withdrawal.diagnosed"])
    on_moud = s["moud"] > 0
    bup = _on_buprenorphine(dyad)
    onset = jnp.where(on_moud, jnp.where(bup, p["neonatal_withdrawal.onset_days_buprenorphine"],
                                         p["neonatal_withdrawal.onset_days"]),
                      p["neonatal_withdrawal.onset_days_illicit"])
    ratio = jnp.where(on_moud, jnp.where(bup, p["neonatal_withdrawal.buprenorphine_duration_ratio"],
                                         1.0),
                      p["neonatal_withdrawal.illicit_duration_ratio"])
    duration = p["neonatal_withdrawal.tau"] * ratio * p["neonatal_withdrawal.care_duration_ratio"]
    onset = jnp.where(at_birth, onset, s["neonatal_withdrawal.onset"])
    duration = jnp.where(at_birth, duration, s["neonatal_withdrawal.duration"])
    peak = jnp.where(at_birth, diagnosed * saturation, s["neonatal_withdrawal.peak"])
    days = pp.astype(jnp.float32)
    course = jnp.where(days < onset, days / onset, jnp.exp(-(days - onset) / duration))
    severity = jnp.where(pp < 0, 0.0, peak * course)
    return {"neonatal_withdrawal": severity.astype(jnp.float32),
            "neonatal_withdrawal.exposure": exposure,
            "neonatal_withdrawal.diagnosed": diagnosed,
            "neonatal_withdrawal.onset": onset.astype(jnp.float32),
            "neonatal_withdrawal.duration": duration.astype(jnp.float32),
            "neonatal_withdrawal.peak": peak.astype(jnp.float32)}


def infant_affect_behavior(s, p, dyad, clock, z, u):
    new = fast("infant_affect_behavior", s, p, dyad, clock, z["infant_affect_behavior"])
    return {"infant_affect_behavior": _after_birth(clock, new, s["infant_affect_behavior"])}


def infant_positive_affect(s, p, dyad, clock, z, u):
    new = fast("infant_positive_affect", s, p, dyad, clock, z["infant_positive_affect"])
    return {"infant_positive_affect": _after_birth(clock, new, s["infant_positive_affect"])}


def dyadic_synchrony(s, p, dyad, clock, z, u):
    """Co-regulation: engaged care attuned to salient cues (parenting x salience), plus the
    infant's positive affect (infant -> mother coupling, Chow 2010)."""
    attuned = (weight("parenting_behavior", "dyadic_synchrony", s, p, dyad)
               * weight("salience_of_infant_cues", "dyadic_synchrony", s, p, dyad)
               * s["parenting_behavior"] * s["salience_of_infant_cues"])
    new = fast("dyadic_synchrony", s, p, dyad, clock, z["dyadic_synchrony"], extra=attuned)
    return {"dyadic_synchrony": _after_birth(clock, new, s["dyadic_synchrony"])}


def infant_self_regulation(s, p, dyad, clock, z, u):
    new = fast("infant_self_regulation", s, p, dyad, clock, z["infant_self_regulation"])
    return {"infant_self_regulation": _after_birth(clock, new, s["infant_self_regulation"])}


def infant_stress_reactivity(s, p, dyad, clock, z, u):
    new = fast("infant_stress_reactivity", s, p, dyad, clock, z["infant_stress_reactivity"])
    return {"infant_stress_reactivity": _after_birth(clock, new, s["infant_stress_reactivity"])}


def _consolidate(node, s, p, dyad, clock, z, extra=0.0, x=None):
    """Move ``node`` (or the state ``x`` that stands for it) towards logistic(bias + drive +
    extra + noise) at the consolidating rate of the first year; held before birth."""
    logit_ = p[f"{node}.bias"] + drive(node, s, p, dyad, clock) + extra + p[f"{node}.noise"] * z
    x = s[node] if x is None else x
    new = x + (sigmoid(logit_) - x) * consolidating_rate(clock["postpartum_day"], p[f"{node}.tau"])
    return _after_birth(clock, new, x)


def attachment(s, p, dyad, clock, z, u):
    """The infant's own latent security: formed from early care (engaged parenting and
    synchrony, less the dysregulation of the NOWS weeks) over the first year, every day since
    birth counting alike (De Wolff & van IJzendoorn 1997), on top of the infant's own
    constitution (``attachment.temperament``, a per-infant draw with SD
    ``attachment.temperament_sd``), so security has its own between-dyad variance and care
    moves it without fixing it (the transmission gap, van IJzendoorn 1995)."""
    return {"attachment": _consolidate("attachment", s, p, dyad, clock, z["attachment"],
                                       extra=dyad["attachment.temperament"])}


def disruption_timing(postpartum_day, p):
    """Weight of a change of caregiver by the infant's age: ``disruption_early_weight`` at
    birth, rising linearly to 1 at ``disruption_sensitive_day`` (clear-cut attachment to a
    particular figure, Bowlby 1969), 1 after."""
    age = jnp.maximum(postpartum_day, 0).astype(jnp.float32)
    early = p["attachment_disorganization.disruption_early_weight"]
    ramp = jnp.minimum(age / p["attachment_disorganization.disruption_sensitive_day"], 1.0)
    return early + (1.0 - early) * ramp


def attachment_disorganization(s, p, dyad, clock, z, u):
    """Disorganizing care consolidates like security (substate ``.care``): intoxicated care
    days (a use day while the infant is with the mother), frightening care from the mother's
    unresolved trauma (ACEs) against sensitive care. Each change of caregiver (removal, the
    mother's death, reunification) adds a disruption (substate ``.disruption``) weighed by
    the infant's age at the event (:func:`disruption_timing`) that then decays with time
    constant ``disruption_tau`` (van IJzendoorn 1999; van den Dries 2009; Dozier 2001): a
    disruption's effect depends on when it happened and how long ago, not on being the
    latest day of a running mean. The node is care + (1 - care) x disruption."""
    placed = s["foster_placement"]
    pp = clock["postpartum_day"]
    intoxicated = (weight("opioid_use", "attachment_disorganization", s, p, dyad)
                   * s["opioid_use"] * (1.0 - placed))
    care = _consolidate("attachment_disorganization", s, p, dyad, clock,
                        z["attachment_disorganization"], extra=intoxicated,
                        x=s["attachment_disorganization.care"])
    change = jnp.abs(placed - s["attachment_disorganization.caregiver"])
    pulse = (1.0 - jnp.exp(-weight("foster_placement", "attachment_disorganization", s, p, dyad)
                           * change)) * disruption_timing(pp, p)
    disruption = s["attachment_disorganization.disruption"] * (
        1.0 - rate(p["attachment_disorganization.disruption_tau"]))
    disruption = disruption + (1.0 - disruption) * pulse
    held = pp < 0
    disruption = jnp.where(held, s["attachment_disorganization.disruption"], disruption)
    new = care + (1.0 - care) * disruption
    return {"attachment_disorganization": _after_birth(clock, new,
                                                       s["attachment_disorganization"]),
            "attachment_disorganization.care": care,
            "attachment_disorganization.disruption": disruption,
            "attachment_disorganization.caregiver": placed}


def attachment_classification(s, p, dyad, clock, z, u):
    """The pattern of care (availability = parenting on a sober day, less on a use day;
    inconsistency = mean absolute deviation from its running mean) consolidates over the
    first year; at ``attachment.classification_day`` the Strange Situation class is drawn:
    disorganized from disorganization; else secure when the latent security passes its
    threshold (``-secure_logit / w``, w the attachment -> classification weight); else
    avoidant when care was consistently unresponsive, resistant when it was inconsistent
    (Ainsworth 1978; Cassidy & Berlin 1994)."""
    pp = clock["postpartum_day"]
    r = consolidating_rate(pp, p["attachment.tau"])
    availability = s["parenting_behavior"] * jnp.exp(
        -weight("opioid_use", "attachment_classification", s, p, dyad) * s["opioid_use"])
    mean = s["attachment_classification.availability"]
    mean = mean + (availability - mean) * r
    spread = s["attachment_classification.inconsistency"]
    spread = spread + (jnp.abs(availability - mean) - spread) * r
    p_d = sigmoid(p["attachment_classification.disorganized_logit"]
                  + weight("attachment_disorganization", "attachment_classification", s, p, dyad)
                  * s["attachment_disorganization"])
    # A threshold on the infant's latent security (no coin flip: the latent carries the
    # infant's own variance): secure when secure_logit + w x security > 0.
    secure = (p["attachment_classification.secure_logit"]
              + weight("attachment", "attachment_classification", s, p, dyad)
              * s["attachment"]) > 0
    p_avoidant = sigmoid(p["attachment_classification.avoidant_logit"]
                         - weight("parenting_behavior", "attachment_classification", s, p, dyad)
                         * mean
                         - p["attachment_classification.inconsistency_weight"] * spread)
    code = jnp.where(dyad["u.attach_d"] < p_d, CLASS_CODE["disorganized"],
                     jnp.where(secure, CLASS_CODE["secure"],
                               jnp.where(dyad["u.attach_ar"] < p_avoidant,
                                         CLASS_CODE["avoidant"], CLASS_CODE["resistant"])))
    due = (pp >= p["attachment.classification_day"]) & (s["attachment_classification"] < 1)
    born = pp >= 0
    held = s["attachment_classification"]
    return {"attachment_classification": jnp.where(due, code, held).astype(jnp.float32),
            "attachment_classification.availability": jnp.where(born, mean, s[
                "attachment_classification.availability"]),
            "attachment_classification.inconsistency": jnp.where(born, spread, s[
                "attachment_classification.inconsistency"])}


def child_wellbeing(s, p, dyad, clock, z, u):
    """Five domains (Pollard & Lee 2003) relaxing towards their own inputs; the node is
    their mean. NOWS history (peak severity) weighs on the physical and cognitive domains;
    security, the attachment class (Fearon 2010 effect sizes), self-regulation and HPA
    reactivity on the psychological domain; synchrony on the cognitive and social domains;
    placement on the social domain; the mother's employment and poverty on the economic
    domain (DESIGN.md s1)."""
    nows_history = jnp.maximum(s["child_wellbeing.nows_history"], s["neonatal_withdrawal"])
    att = weight("attachment", "child_wellbeing", s, p, dyad) * s["attachment"]
    hpa = weight("infant_stress_reactivity", "child_wellbeing", s, p, dyad) * s[
        "infant_stress_reactivity"]
    nows = weight("neonatal_withdrawal", "child_wellbeing", s, p, dyad) * nows_history
    econ = (weight("employment", "child_wellbeing", s, p, dyad) * s["employment"]
            - weight("poverty", "child_wellbeing", s, p, dyad) * s["poverty"])
    code = jnp.round(s["attachment_classification"])
    insecurity = sum(p[f"attachment_classification.effect_{c}"] * (code == CLASS_CODE[c])
                     for c in ("avoidant", "resistant", "disorganized"))
    cls = weight("attachment_classification", "child_wellbeing", s, p, dyad) * insecurity
    regulation = weight("infant_self_regulation", "child_wellbeing", s, p, dyad) * s[
        "infant_self_regulation"]
    sync = weight("dyadic_synchrony", "child_wellbeing", s, p, dyad) * s["dyadic_synchrony"]
    placed = weight("foster_placement", "child_wellbeing", s, p, dyad) * s["foster_placement"]
    share = p["child_wellbeing.cognitive_attachment_share"]
    inputs = {
        # the child's own constitution and pace of motor development (WHO MGRS 2006)
        "physical": dyad["child_wellbeing.physical_trait"] - nows,
        "psychological": att - hpa - cls + regulation,
        "cognitive": share * att - (1.0 - share) * nows + sync,
        "social": att - hpa + sync - placed,
        "economic": econ,
    }
    out = {"child_wellbeing.nows_history": _after_birth(clock, nows_history,
                                                         s["child_wellbeing.nows_history"])}
    for d in DOMAINS:
        key = f"child_wellbeing.{d}"
        target = sigmoid(p[f"child_wellbeing.{d}_bias"] + inputs[d])
        new = s[key] + (target - s[key]) * rate(p["child_wellbeing.domain_tau"])
        out[key] = _after_birth(clock, new, s[key])
    out["child_wellbeing"] = sum(out[f"child_wellbeing.{d}"] for d in DOMAINS) / len(DOMAINS)
    return out


def cps_report(s, p, dyad, clock, z, u):
    """Neglect hazard from disengaged parenting; notification after NOWS."""
    new = event("cps_report", s, p, dyad, clock, u["cps_report"])
    return {"cps_report": jnp.where(clock["postpartum_day"] >= 0, new, 0.0)}

