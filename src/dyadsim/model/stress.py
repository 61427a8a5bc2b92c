"""Stress and appraisal (Reese 2021, 'Stress and Cognitive Appraisal' and 'Problem-Focused
and Emotion-Focused Coping'; Lazarus & Folkman 1984; allostasis, McEwen 2003).

stressor -> cognitive appraisal (threat = demand relative to resources) -> stress arousal
-> negative affect; threat engages coping, whose success lifts positive affect and lowers
negative affect; manageable appraisals build resilience.

Nodes with the default relaxation (``_core.relax_node``: towards the logistic of bias +
declared parents; the edges in ``graph.py`` say what moves them):
- ``coping_resources``: social support and finances; poverty lowers them, a supportive group
  raises them;
- ``stress_arousal``: SAM/HPA response to threat; mindfulness speeds recovery (Garland 2014);
- ``problem_focused_coping``: engaged by threat; succeeds with resources, executive control
  and mindfulness, less so with recent use;
- ``emotion_focused_coping``: emotion-focused coping incl. positive reappraisal;
- ``negative_affect``: stress arousal, withdrawal, shame, depression and pain raise it;
  coping, reappraisal and a use day (acute relief) lower it;
- ``positive_affect``: successful coping, hormones, savoring, reappraisal, hedonic capacity
  and the infant's positive affect (scaled by salience) raise it;
- ``resilience``: manageable appraisals and successful coping build it slowly;
- ``employment``: paid work; use days, depression and structural barriers cost it; it feeds
  the economic domain of child well-being (Pollard & Lee 2003) beside poverty.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from ._core import fast, weight


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
