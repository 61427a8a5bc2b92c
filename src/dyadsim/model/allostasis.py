"""Allostatic load, stress sensitization and reward dysregulation (Reese 2021, 'Allostatic
Load Leads to Stress Sensitization, Reward Dysregulation, and Craving'; Koob & Volkow 2016,
stage 2; Koob & Le Moal 2008).

Slow states: they integrate sustained negative affect, arousal and use over weeks to months
and recover slowly (declared ``tau``/``tau_down``).
"""

from __future__ import annotations

from jax.nn import sigmoid

from ._core import drive, fast


def allostatic_load(s, p, dyad, clock, z, u):
    """Wear and tear from sustained negative affect and stress arousal."""
    return {"allostatic_load": fast("allostatic_load", s, p, dyad, clock, z["allostatic_load"])}


def stress_sensitization(s, p, dyad, clock, z, u):
    """Anti-reward: rises with allostatic load, use and repeated withdrawal; resilience and
    mindfulness oppose it; decays over ~a year (persists into protracted abstinence)."""
    return {"stress_sensitization": fast("stress_sensitization", s, p, dyad, clock,
                                         z["stress_sensitization"])}


def natural_reward_responsiveness(s, p, dyad, clock, z, u):
    """Hedonic capacity for natural rewards: lowered by use and allostatic load (anhedonia),
    restored by savoring (MORE restructures reward)."""
    return {"natural_reward_responsiveness": fast("natural_reward_responsiveness", s, p, dyad,
                                                  clock, z["natural_reward_responsiveness"])}


def drug_reward_salience(s, p, dyad, clock, z, u):
    """Incentive salience of the drug: sensitised by use, lowered by savoring."""
    return {"drug_reward_salience": fast("drug_reward_salience", s, p, dyad, clock,
                                         z["drug_reward_salience"])}


def reward_dysregulation(s, p, dyad, clock, z, u):
    """Derived, instantaneous: drug salience over natural reward (plus depression)."""
    logit = p["reward_dysregulation.bias"] + drive("reward_dysregulation", s, p, dyad, clock)
    return {"reward_dysregulation": sigmoid(logit)}
