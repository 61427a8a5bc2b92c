"""The addiction cycle (Koob & Volkow 2016; Tiffany 1990) and its pharmacology.

Drug cues trigger the action schema. Unimpeded, the schema runs automatically: use with no
craving. Impeded (motivation to change, an abstinence goal), it produces craving. Craving,
braked by executive control and mindfulness, drives use; use builds the schema, tolerance,
dependence and (in :mod:`allostasis`) sensitization and reward dysregulation. Dependence
unrelieved by use or MOUD is withdrawal. MOUD starts and stops as random events.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from ._core import drive, event, fast, relax, weight


def _cue_x_schema(target, s, p, dyad):
    """Tiffany's product: cue exposure x schema strength, with the edge weights of both."""
    cue = weight("drug_cue", target, s, p, dyad) * s["drug_cue"]
    schema = 1.0 - jnp.exp(-weight("action_schema", target, s, p, dyad) * s["action_schema"])
    return cue * schema


def drug_cue(s, p, dyad, clock, z, u):
    """A cue-exposure day; attentional bias makes cues noticed (Field & Cox 2008)."""
    return {"drug_cue": event("drug_cue", s, p, dyad, clock, u["drug_cue"])}


def action_schema(s, p, dyad, clock, z, u):
    return {"action_schema": fast("action_schema", s, p, dyad, clock, z["action_schema"])}


def attentional_bias(s, p, dyad, clock, z, u):
    return {"attentional_bias": fast("attentional_bias", s, p, dyad, clock,
                                     z["attentional_bias"])}


def craving(s, p, dyad, clock, z, u):
    """Blocked-schema craving (cue x schema, amplified by the impediment of motivation,
    damped by mindfulness) plus affective, allostatic and withdrawal-driven craving."""
    return {"craving": fast("craving", s, p, dyad, clock, z["craving"],
                            extra=_cue_x_schema("craving", s, p, dyad))}


def opioid_use(s, p, dyad, clock, z, u):
    """A use day: craving-driven use plus the automatic cue x schema path."""
    return {"opioid_use": event("opioid_use", s, p, dyad, clock, u["opioid_use"],
                                extra=_cue_x_schema("opioid_use", s, p, dyad))}


def tolerance(s, p, dyad, clock, z, u):
    return {"tolerance": fast("tolerance", s, p, dyad, clock, 0.0)}


def physical_dependence(s, p, dyad, clock, z, u):
    """Follows use; agonist MOUD sustains it."""
    return {"physical_dependence": fast("physical_dependence", s, p, dyad, clock, 0.0)}


def withdrawal(s, p, dyad, clock, z, u):
    """Dependence not relieved by a use day or by MOUD (dose coverage)."""
    relief_use = jnp.clip(weight("opioid_use", "withdrawal", s, p, dyad) * s["opioid_use"], 0, 1)
    relief_moud = jnp.clip(weight("moud", "withdrawal", s, p, dyad) * s["moud"], 0, 1)
    unrelieved = (weight("physical_dependence", "withdrawal", s, p, dyad)
                  * s["physical_dependence"] * (1 - relief_use) * (1 - relief_moud))
    return {"withdrawal": fast("withdrawal", s, p, dyad, clock, z["withdrawal"],
                               extra=unrelieved)}


def executive_control(s, p, dyad, clock, z, u):
    return {"executive_control": fast("executive_control", s, p, dyad, clock,
                                      z["executive_control"])}


def moud(s, p, dyad, clock, z, u):
    """MOUD level: off (0) until a start event (daily hazard, raised by motivation, lowered
    by structural barriers; only once MOUD is offered), then titrated towards full dose
    with ``moud.tau``; a discontinuation event (hazard lowered by motivation) sets it to 0."""
    motivation = weight("motivation_for_change", "moud", s, p, dyad) * s["motivation_for_change"]
    barriers = weight("structural_barriers", "moud", s, p, dyad) * s["structural_barriers"]
    on = s["moud"] > 0
    offered = clock["day"] >= dyad["moud.offer_day"]
    start = offered & (u["moud"] < sigmoid(p["moud.start_logit"] + motivation - barriers))
    stop = u["moud"] < sigmoid(p["moud.stop_logit"] - motivation + barriers)
    titrated = relax(s["moud"], 1.0, p["moud.tau"])
    new = jnp.where(on, jnp.where(stop, 0.0, titrated),
                    jnp.where(start, p["moud.induction_level"], 0.0))
    return {"moud": new.astype(jnp.float32)}


def overdose(s, p, dyad, clock, z, u):
    """Only on a use day; risk rises when tolerance has been lost (return to use after
    abstinence), with polysubstance co-use, and falls on MOUD."""
    use = s["opioid_use"]
    logit = (p["overdose.bias"] + weight("opioid_use", "overdose", s, p, dyad) * use
             - weight("tolerance", "overdose", s, p, dyad) * s["tolerance"]
             + weight("polysubstance", "overdose", s, p, dyad) * s["polysubstance"]
             - weight("moud", "overdose", s, p, dyad) * s["moud"]
             + drive("overdose", s, p, dyad, clock))
    return {"overdose": (use * (u["overdose"] < sigmoid(logit))).astype(jnp.float32)}
