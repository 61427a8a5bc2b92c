"""Stress and appraisal (Reese 2021, 'Stress and Cognitive Appraisal' and 'Problem-Focused
and Emotion-Focused Coping'; Lazarus & Folkman 1984; allostasis, McEwen 2003).

stressor -> cognitive appraisal (threat = demand relative to resources) -> stress arousal
-> negative affect; threat engages coping, whose success lifts positive affect and lowers
negative affect; manageable appraisals build resilience.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from ._core import fast, weight


def coping_resources(s, p, dyad, clock, z, u):
    """Social support and finances; poverty lowers them, a supportive group raises them."""
    return {"coping_resources": fast("coping_resources", s, p, dyad, clock, z["coping_resources"])}


def life_event_logit(s, p, dyad):
    """Daily logit of a life event: poverty, structural barriers (discrimination, punitive
    contact) and the consequences of use (legal, financial, relational) raise it."""
    return (p["stressor.event_logit"]
            + weight("poverty", "stressor", s, p, dyad) * s["poverty"]
            + weight("structural_barriers", "stressor", s, p, dyad) * s["structural_barriers"]
            + weight("opioid_use", "stressor", s, p, dyad) * s["opioid_use"])


def stressor(s, p, dyad, clock, z, u):
    """Two streams: life events (a daily hazard, :func:`life_event_logit`) and infant care
    (infant distress and bids, Figure 1 legend)."""
    life_event = (u["stressor_event"] < sigmoid(life_event_logit(s, p, dyad))).astype(
        jnp.float32)
    return {"stressor": fast("stressor", s, p, dyad, clock, z["stressor"],
                             extra=p["stressor.event_size"] * life_event)}


def cognitive_appraisal(s, p, dyad, clock, z, u):
    """Threat appraisal: stressor (gained by stress sensitization) against resources,
    shifted by the person's appraisal style (``cognitive_appraisal.trait``, a random
    intercept: PSS-10 retest > .70, Lee 2012)."""
    return {"cognitive_appraisal": fast("cognitive_appraisal", s, p, dyad, clock,
                                        z["cognitive_appraisal"],
                                        extra=dyad["cognitive_appraisal.trait"])}


def stress_arousal(s, p, dyad, clock, z, u):
    """SAM/HPA response to threat; mindfulness speeds recovery (Garland 2014)."""
    return {"stress_arousal": fast("stress_arousal", s, p, dyad, clock, z["stress_arousal"])}


def problem_focused_coping(s, p, dyad, clock, z, u):
    """Engaged by threat; succeeds with resources, executive control and mindfulness,
    less so with recent use."""
    return {"problem_focused_coping": fast("problem_focused_coping", s, p, dyad, clock,
                                           z["problem_focused_coping"])}


def emotion_focused_coping(s, p, dyad, clock, z, u):
    """Emotion-focused coping incl. positive reappraisal."""
    return {"emotion_focused_coping": fast("emotion_focused_coping", s, p, dyad, clock,
                                           z["emotion_focused_coping"])}


def negative_affect(s, p, dyad, clock, z, u):
    """Stress arousal, withdrawal, shame, depression and pain raise it; coping,
    reappraisal and a use day (acute relief) lower it."""
    return {"negative_affect": fast("negative_affect", s, p, dyad, clock, z["negative_affect"])}


def positive_affect(s, p, dyad, clock, z, u):
    """Successful coping, hormones, savoring, reappraisal, hedonic capacity and the
    infant's positive affect (scaled by salience) raise it."""
    return {"positive_affect": fast("positive_affect", s, p, dyad, clock, z["positive_affect"])}


def resilience(s, p, dyad, clock, z, u):
    """Manageable appraisals and successful coping build resilience slowly."""
    return {"resilience": fast("resilience", s, p, dyad, clock, z["resilience"])}
