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
    hazard for a living mother). State 1 placed, 0 with mother.

    What CPS weighs is the mother's course, not the report alone: her recent use (substate
    ``.recent_use``, the use-day share relaxed with time constant ``use_tau``), her MOUD
    engagement (``moud -> foster_placement``) and the report history (substate
    ``.reports``, earlier investigations). A report opens an investigation unless one is
    open (substate ``.open``: days left; reports inside ``investigation_days`` of the last
    one join it), and the investigation leads to removal with probability
    1 - exp(-w_report x exp(removal_use_log_rr x recent use + repeat_report_log_rr x
    earlier investigations - w_moud x on MOUD)): one decision per episode, so the days a
    NOWS course keeps generating reports do not each draw a removal. Reunification's daily
    logit falls with recent use (``opioid_use -> foster_placement``) and rises on MOUD
    (Hall 2016)."""
    placed = s["foster_placement"]
    pp = clock["postpartum_day"]
    recent = s["foster_placement.recent_use"]
    recent = recent + (s["opioid_use"] - recent) * rate(p["foster_placement.use_tau"])
    reports = s["foster_placement.reports"]
    is_open = s["foster_placement.open"]
    report = s["cps_report"]
    investigation = report * (is_open < 1.0)  # fewer than one day left: closed
    on_moud = (s["moud"] > 0).astype(jnp.float32)
    w_moud = weight("moud", "foster_placement", s, p, dyad)
    risk = jnp.exp(p["foster_placement.removal_use_log_rr"] * recent
                   + p["foster_placement.repeat_report_log_rr"] * reports - w_moud * on_moud)
    removal = 1.0 - ((1.0 - _chance(weight("cps_report", "foster_placement", s, p, dyad)
                                    * investigation * risk))
                     * (1.0 - _chance(weight("maternal_death", "foster_placement", s, p, dyad)
                                      * s["maternal_death"])))
    hazard = sigmoid(p["foster_placement.reunification_logit"]
                     - weight("opioid_use", "foster_placement", s, p, dyad) * recent
                     + w_moud * on_moud)
    reunify = hazard * (1.0 - s["maternal_death"])
    draw = u["placement"]
    enter = (draw < removal).astype(jnp.float32)
    leave = (draw < reunify).astype(jnp.float32)
    new = placed * (1.0 - leave) + (1.0 - placed) * enter
    born = pp >= 0
    return {"foster_placement": jnp.where(born, new, placed),
            "foster_placement.recent_use": recent.astype(jnp.float32),
            "foster_placement.reports": jnp.where(born, reports + investigation,
                                                  reports).astype(jnp.float32),
            "foster_placement.open": jnp.where(
                born, jnp.where(report > 0, p["foster_placement.investigation_days"],
                                jnp.maximum(is_open - 1.0, 0.0)), is_open).astype(jnp.float32)}


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
