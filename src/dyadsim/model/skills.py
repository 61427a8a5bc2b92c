"""Intervention skills: the Figure 2 components of MORE (mindfulness, reappraisal,
savoring), mindful parenting (Duncan 2009), an attachment-based parenting programme and a
supportive group.

A skill grows with attended sessions and home practice (``skill.session_gain``,
``skill.practice_gain``; attendance and practice vary between people), and fades towards
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

from ._core import weight

SKILLS = ("mindfulness", "reappraisal", "savoring", "mindful_parenting", "parenting_program",
          "supportive_group")
# Skills with a non-zero untrained level (a trait everyone has some of).
TRAIT_SKILLS = ("mindfulness", "reappraisal", "savoring")
SESSION_INTERVAL_DAYS = 7


def untrained_level(skill, p):
    return p["skill.baseline"] if skill in TRAIT_SKILLS else 0.0


def _dose(skill, p, dyad, clock, u):
    start = dyad[f"{skill}.start"] + dyad["tx.from_birth"] * dyad["birth_day"]
    days_in = clock["day"] - start
    in_course = (days_in >= 0) & (days_in < dyad[f"{skill}.sessions"] * SESSION_INTERVAL_DAYS)
    session = in_course & (days_in % SESSION_INTERVAL_DAYS == 0)
    attended = session & (u["attend"] < dyad["tx.attendance"])
    practiced = in_course & (u["practice"] < dyad["tx.practice"])
    return (p["skill.session_gain"] * attended + p["skill.practice_gain"] * practiced)


def _grow(skill, s, p, dyad, clock, u, dependence=1.0):
    x = s[skill]
    growth = _dose(skill, p, dyad, clock, u) * dyad["re.skill_responsiveness"] * dependence
    fade = (x - untrained_level(skill, p)) * (1.0 - jnp.exp(-1.0 / p[f"{skill}.tau"]))
    return {skill: jnp.clip(x + growth * (1.0 - x) - fade, 0.0, 1.0)}


def _mindfulness_dependence(skill, s, p, dyad):
    """Gain multiplier from current mindfulness, normalised to 1 at full mindfulness."""
    w = weight("mindfulness", skill, s, p, dyad)
    return (1.0 - jnp.exp(-w * s["mindfulness"])) / jnp.maximum(1.0 - jnp.exp(-w), 1e-6)


def mindfulness(s, p, dyad, clock, z, u):
    return _grow("mindfulness", s, p, dyad, clock, u)


def reappraisal(s, p, dyad, clock, z, u):
    return _grow("reappraisal", s, p, dyad, clock, u,
                 _mindfulness_dependence("reappraisal", s, p, dyad))


def savoring(s, p, dyad, clock, z, u):
    return _grow("savoring", s, p, dyad, clock, u,
                 _mindfulness_dependence("savoring", s, p, dyad))


def mindful_parenting(s, p, dyad, clock, z, u):
    return _grow("mindful_parenting", s, p, dyad, clock, u)


def parenting_program(s, p, dyad, clock, z, u):
    """Attachment-based programmes act postpartum only: sessions before birth do nothing."""
    out = _grow("parenting_program", s, p, dyad, clock, u)
    return {"parenting_program": jnp.where(clock["postpartum_day"] >= 0,
                                           out["parenting_program"], s["parenting_program"])}


def supportive_group(s, p, dyad, clock, z, u):
    return _grow("supportive_group", s, p, dyad, clock, u)
