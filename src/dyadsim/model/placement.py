"""The life course (DESIGN.md: some events end or change a life course): maternal death,
removal to foster care, reunification, and the substitute caregiver.

Maternal death is absorbing: a fatal overdose sets ``maternal_death`` to 1 for good, and
:func:`dyadsim.model.step.step` masks every maternal event from then on (no use, no MOUD,
no cues, no further overdoses). The infant lives on with a substitute caregiver: death
places the infant (``maternal_death -> foster_placement``), as a CPS report may
(``cps_report -> foster_placement``, Lisonkova 2024: 20-50% of NAS infants discharged to
foster care). A placed infant returns to a living mother with a daily reunification hazard
that a use day lowers. While placed, care comes from the substitute caregiver, whose
parenting is a per-dyad draw from a declared logit-normal distribution.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.nn import sigmoid
from jax.scipy.special import logit, ndtri

from ._core import rate, weight


def _chance(w: Array) -> Array:
    """Probability 1 - exp(-w) of an event whose edge weight is ``w`` (a hazard)."""
    return 1.0 - jnp.exp(-w)


def substitute_parenting(p, u: Array) -> Array:
    """Each dyad's substitute caregiver's parenting level: logit-normal with the declared
    mean and SD (``caregiver.substitute_parenting_*``), from one uniform draw."""
    centre = logit(p["caregiver.substitute_parenting_mean"])
    return sigmoid(centre + p["caregiver.substitute_parenting_sd"] * ndtri(u))


def maternal_death(s, p, dyad, clock, z, u):
    """Absorbing: once 1, always 1. An overdose is fatal with probability 1 - exp(-w)."""
    fatal = s["overdose"] * (u["overdose_fatal"] < _chance(
        weight("overdose", "maternal_death", s, p, dyad))).astype(jnp.float32)
    return {"maternal_death": jnp.maximum(s["maternal_death"], fatal)}


def foster_placement(s, p, dyad, clock, z, u):
    """Removal (after a CPS report, or on the mother's death) and reunification (a daily
    hazard for a living mother, lowered on a use day). State 1 placed, 0 with mother."""
    placed = s["foster_placement"]
    removal = 1.0 - ((1.0 - _chance(weight("cps_report", "foster_placement", s, p, dyad)
                                    * s["cps_report"]))
                     * (1.0 - _chance(weight("maternal_death", "foster_placement", s, p, dyad)
                                      * s["maternal_death"])))
    hazard = sigmoid(p["foster_placement.reunification_logit"]
                     - weight("opioid_use", "foster_placement", s, p, dyad) * s["opioid_use"])
    reunify = hazard * (1.0 - s["maternal_death"])
    draw = u["placement"]
    enter = (draw < removal).astype(jnp.float32)
    leave = (draw < reunify).astype(jnp.float32)
    new = placed * (1.0 - leave) + (1.0 - placed) * enter
    return {"foster_placement": jnp.where(clock["postpartum_day"] >= 0, new, placed)}


def with_substitute_caregiver(mechanism):
    """Wrap the mother's parenting mechanism: while the infant is placed, the infant's care
    switches to the substitute caregiver (each day closing a share 1 - exp(-w) of the gap,
    w the weight of ``foster_placement -> parenting_behavior``)."""

    def parenting_behavior(s, p, dyad, clock, z, u):
        out = dict(mechanism(s, p, dyad, clock, z, u))
        switch = _chance(weight("foster_placement", "parenting_behavior", s, p, dyad))
        previous = s["parenting_behavior"]
        substitute = previous + (dyad["caregiver.parenting"] - previous) * switch
        placed = s["foster_placement"]
        out["parenting_behavior"] = (out["parenting_behavior"] * (1.0 - placed)
                                     + substitute * placed)
        return out

    parenting_behavior.__doc__ = mechanism.__doc__
    return parenting_behavior


def consolidating_rate(postpartum_day: Array, tau: Array) -> Array:
    """Share of the gap a consolidating process closes today: a running mean from birth
    (every day of care counts alike, so early months weigh as much as late ones), never
    slower than relaxation with time constant ``tau`` (Bowlby 1969: attachment forms over
    the first year and stays revisable)."""
    age = jnp.maximum(postpartum_day, 0).astype(jnp.float32)
    return jnp.maximum(1.0 / (age + 1.0), rate(tau))
