"""Intervention skills: the Figure 2 components of MORE (mindfulness, reappraisal,
savoring), mindful parenting (Duncan 2009), an attachment-based parenting programme and a
supportive group.

A skill grows with attended sessions and home practice (``skill.session_gain``,
``skill.practice_gain``; attendance and practice vary between people and, day by day, with
the mother's treatment engagement: motivation, depression and use that day), and fades towards
its untrained level with its ``tau`` when practice stops: the fading is a guess
(mechanisms.md s7: practice and its link to mindfulness fade over 2-6 months). MORE is
sequenced: reappraisal and savoring gains scale with the current level of mindfulness
(declared edges ``mindfulness -> reappraisal`` and ``mindfulness -> savoring``), so
"MORE without mindfulness" weakens them too.

The schedule of each skill lives in the per-dyad arrays ``<skill>.start`` (day of the first
session: a study day, or a postpartum day where ``tx.from_birth`` is 1) and
``<skill>.sessions`` (number of weekly sessions; 0 = not offered), built by
:mod:`dyadsim.interventions`; nothing here names a particular treatment.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid
from jax.scipy.special import logit

from ._core import drive, weight

# Skills with a non-zero untrained level (a trait everyone has some of).
TRAIT_SKILLS = ("mindfulness", "reappraisal", "savoring")
# Trait skills whose untrained level differs between people (``<skill>.trait_sd``): the
# per-person level ``<skill>.trait`` (FFMQ and ERQ measure it, Baer 2006, Gross & John 2003).
PERSONAL_TRAIT_SKILLS = ("mindfulness", "reappraisal")
SESSION_INTERVAL_DAYS = 7


def trait_levels(p, z):
    """Each person's untrained level of the personal trait skills: logit-normal around
    ``skill.baseline`` with the skill's ``trait_sd``; ``z`` holds one standard normal per
    person (rows) and skill of :data:`PERSONAL_TRAIT_SKILLS` (columns)."""
    base = logit(p["skill.baseline"])
    return {f"{k}.trait": sigmoid(base + p[f"{k}.trait_sd"] * z[:, i])
            for i, k in enumerate(PERSONAL_TRAIT_SKILLS)}


def untrained_level(skill, p, dyad):
    """The level a skill starts at and fades back to: the person's trait (personal trait
    skills), ``skill.baseline`` (other trait skills) or 0."""
    if skill in PERSONAL_TRAIT_SKILLS:
        return dyad[f"{skill}.trait"]
    return p["skill.baseline"] if skill in TRAIT_SKILLS else 0.0


def treatment_engagement(s, p, dyad, clock, z, u):
    """Readiness today to attend and practise (derived): motivation raises it, depression
    and a use day lower it (DESIGN.md: motivation drives attendance and adherence)."""
    logit = p["treatment_engagement.bias"] + drive("treatment_engagement", s, p, dyad, clock)
    return {"treatment_engagement": sigmoid(logit)}


def _power(base, exponent):
    """``base ** exponent`` for base in [0, 1] and exponent >= 0, as exp(exponent x
    log(base)): vectorised, where XLA's ``pow`` on CPU calls the scalar libm routine
    (0 ** 0 = 1)."""
    return jnp.where(base > 0, jnp.exp(exponent * jnp.log(base)),
                     (exponent == 0).astype(jnp.float32))


def _dose(skill, s, p, dyad, clock, u):
    """Today's skill dose. A person attends a session (practises at home) with probability
    propensity x engagement^w: ``tx.attendance``/``tx.practice`` are the person's
    propensities when fully engaged, w the weight of ``treatment_engagement -> skill``."""
    start = dyad[f"{skill}.start"] + dyad["tx.from_birth"] * dyad["birth_day"]
    days_in = clock["day"] - start
    in_course = (days_in >= 0) & (days_in < dyad[f"{skill}.sessions"] * SESSION_INTERVAL_DAYS)
    session = in_course & (days_in % SESSION_INTERVAL_DAYS == 0)
    engaged = _power(s["treatment_engagement"],
                     weight("treatment_engagement", skill, s, p, dyad))
    attended = session & (u["attend"] < dyad["tx.attendance"] * engaged)
    practiced = in_course & (u["practice"] < dyad["tx.practice"] * engaged)
    return (p["skill.session_gain"] * attended + p["skill.practice_gain"] * practiced)


def skill_node(skill):
    """The default mechanism of a ``skill`` node: growth with attended sessions and
    practice, fading to the untrained level (:func:`_grow`)."""
    def mechanism(s, p, dyad, clock, z, u):
        return _grow(skill, s, p, dyad, clock, u)
    mechanism.__name__ = mechanism.__qualname__ = f"skill_node[{skill}]"
    return mechanism


def _grow(skill, s, p, dyad, clock, u, dependence=1.0):
    x = s[skill]
    growth = _dose(skill, s, p, dyad, clock, u) * dyad["re.skill_responsiveness"] * dependence
    fade = (x - untrained_level(skill, p, dyad)) * (1.0 - jnp.exp(-1.0 / p[f"{skill}.tau"]))
    return {skill: jnp.clip(x + growth * (1.0 - x) - fade, 0.0, 1.0)}


def _mindfulness_dependence(skill, s, p, dyad):
    """Gain multiplier from current mindfulness, normalised to 1 at full mindfulness; with
    the edge knocked out (weight 0) its limit, the mindfulness level itself."""
    w = weight("mindfulness", skill, s, p, dyad)
    m = s["mindfulness"]
    safe_w = jnp.where(w > 0, w, 1)
    return jnp.where(w > 0, (1 - jnp.exp(-safe_w * m)) / (1 - jnp.exp(-safe_w)), m)


def reappraisal(s, p, dyad, clock, z, u):
    return _grow("reappraisal", s, p, dyad, clock, u,
                 _mindfulness_dependence("reappraisal", s, p, dyad))


def savoring(s, p, dyad, clock, z, u):
    return _grow("savoring", s, p, dyad, clock, u,
                 _mindfulness_dependence("savoring", s, p, dyad))


def parenting_program(s, p, dyad, clock, z, u):
    """Attachment-based programmes act postpartum only: sessions before birth do nothing."""
    out = _grow("parenting_program", s, p, dyad, clock, u)
    return {"parenting_program": jnp.where(clock["postpartum_day"] >= 0,
                                           out["parenting_program"], s["parenting_program"])}
