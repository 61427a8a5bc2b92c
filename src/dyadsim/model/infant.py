"""Infant and child (Reese 2021, 'Infant Affect and Behavior', 'Attachment and Child
Well-Being'): the infant sub-model exists from birth, with prenatal exposure carried in.

Before birth the infant nodes hold their initial values, except that the fetal opioid
exposure accumulates (substate ``neonatal_withdrawal.exposure``). At birth a neonatal
opioid withdrawal diagnosis is drawn from that exposure; NOWS severity peaks after
``neonatal_withdrawal.onset_days`` and resolves with its ``tau``. Attachment security
integrates parenting and synchrony; the 12-month classification is drawn in
:mod:`dyadsim.model.outcomes`.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from ._core import event, fast, relax, weight

DOMAINS = ("physical", "psychological", "cognitive", "social", "economic")


def _after_birth(clock, new, old):
    return jnp.where(clock["postpartum_day"] >= 0, new, old)


def neonatal_withdrawal(s, p, dyad, clock, z, u):
    """Fetal exposure (opioid use, MOUD) accumulates in late pregnancy; NOWS at birth.

    A diagnosed infant's peak severity is 0.5 + 0.5 x exposure (a guess: severity grows
    with exposure; MOTHER found severity higher after methadone, Gaalema 2012)."""
    pp = clock["postpartum_day"]
    exposure = s["neonatal_withdrawal.exposure"]
    dose = (weight("opioid_use", "neonatal_withdrawal", s, p, dyad) * s["opioid_use"]
            + weight("moud", "neonatal_withdrawal", s, p, dyad) * s["moud"])
    exposure_in_utero = relax(exposure, 1.0 - jnp.exp(-dose), p["neonatal_withdrawal.exposure_tau"])
    exposure = jnp.where(pp < 0, exposure_in_utero, exposure)
    p_dx = sigmoid(p["neonatal_withdrawal.diagnosis_logit"]
                   + p["neonatal_withdrawal.exposure_weight"] * exposure
                   + weight("polysubstance", "neonatal_withdrawal", s, p, dyad)
                   * s["polysubstance"])
    at_birth = pp == 0
    diagnosed = jnp.where(at_birth, (dyad["u.nows"] < p_dx).astype(jnp.float32),
                          s["neonatal_withdrawal.diagnosed"])
    peak = diagnosed * (0.5 + 0.5 * exposure)
    x = s["neonatal_withdrawal"]
    rising = relax(x, peak, p["neonatal_withdrawal.onset_days"] / 2.0)
    resolving = relax(x, 0.0, p["neonatal_withdrawal.tau"])
    onset = p["neonatal_withdrawal.onset_days"]
    severity = jnp.where(pp < 0, 0.0, jnp.where(pp < onset, rising, resolving))
    return {"neonatal_withdrawal": severity.astype(jnp.float32),
            "neonatal_withdrawal.exposure": exposure,
            "neonatal_withdrawal.diagnosed": diagnosed}


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


def attachment(s, p, dyad, clock, z, u):
    """Security integrates consistent engaged parenting and synchrony; a separate
    disorganization-risk state integrates use days (frightened/frightening care)."""
    new = fast("attachment", s, p, dyad, clock, z["attachment"])
    risk = jnp.clip(weight("opioid_use", "attachment", s, p, dyad) * s["opioid_use"], 0.0, 1.0)
    disorg = relax(s["attachment.disorganization"], risk, p["attachment.disorganization_tau"])
    return {"attachment": _after_birth(clock, new, s["attachment"]),
            "attachment.disorganization": _after_birth(clock, disorg,
                                                       s["attachment.disorganization"])}


def child_wellbeing(s, p, dyad, clock, z, u):
    """Five domains (Pollard & Lee 2003) relaxing towards their own inputs; the node is
    their mean. NOWS history (peak severity) weighs on the physical and cognitive domains.
    Which edge feeds which domain follows DESIGN.md s1; the cognitive domain takes half the
    weight of attachment and of NOWS history (a guess: it depends on both)."""
    nows_history = jnp.maximum(s["child_wellbeing.nows_history"], s["neonatal_withdrawal"])
    att = weight("attachment", "child_wellbeing", s, p, dyad) * s["attachment"]
    hpa = weight("infant_stress_reactivity", "child_wellbeing", s, p, dyad) * s[
        "infant_stress_reactivity"]
    nows = weight("neonatal_withdrawal", "child_wellbeing", s, p, dyad) * nows_history
    econ = weight("poverty", "child_wellbeing", s, p, dyad) * s["poverty"]
    inputs = {
        "physical": -nows,
        "psychological": att - hpa,
        "cognitive": 0.5 * att - 0.5 * nows,
        "social": att - hpa,
        "economic": -econ,
    }
    out = {"child_wellbeing.nows_history": _after_birth(clock, nows_history,
                                                         s["child_wellbeing.nows_history"])}
    for d in DOMAINS:
        key = f"child_wellbeing.{d}"
        logit = p["child_wellbeing.bias"] + p[f"child_wellbeing.{d}_bias"] + inputs[d]
        new = relax(s[key], sigmoid(logit), p["child_wellbeing.domain_tau"])
        out[key] = _after_birth(clock, new, s[key])
    out["child_wellbeing"] = sum(out[f"child_wellbeing.{d}"] for d in DOMAINS) / len(DOMAINS)
    return out


def cps_report(s, p, dyad, clock, z, u):
    """Neglect hazard from disengaged parenting; notification after NOWS."""
    new = event("cps_report", s, p, dyad, clock, u["cps_report"])
    return {"cps_report": jnp.where(clock["postpartum_day"] >= 0, new, 0.0)}

