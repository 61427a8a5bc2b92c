"""Allostatic load, stress sensitization and reward dysregulation (Reese 2021, 'Allostatic
Load Leads to Stress Sensitization, Reward Dysregulation, and Craving'; Koob & Volkow 2016,
stage 2; Koob & Le Moal 2008).

Slow states: they integrate sustained negative affect, arousal and use over weeks to months
and recover slowly (declared ``tau``/``tau_down``).

Nodes with the default relaxation (``_core.relax_node``: towards the logistic of bias +
declared parents; the edges in ``graph.py`` say what moves them):
- ``allostatic_load``: wear and tear from sustained negative affect and stress arousal;
- ``stress_sensitization``: anti-reward, rises with allostatic load, use and repeated
  withdrawal; resilience and mindfulness oppose it; decays over ~a year (persists into
  protracted abstinence);
- ``natural_reward_responsiveness``: hedonic capacity for natural rewards, lowered by use and
  allostatic load (anhedonia), restored by savoring (MORE restructures reward);
- ``drug_reward_salience``: incentive salience of the drug, sensitised by use, lowered by
  savoring.
"""

from __future__ import annotations

from jax.nn import sigmoid

from ._core import drive


def reward_dysregulation(s, p, dyad, clock, z, u):
    """Derived, instantaneous: drug salience over natural reward (plus depression)."""
    logit = p["reward_dysregulation.bias"] + drive("reward_dysregulation", s, p, dyad, clock)
    return {"reward_dysregulation": sigmoid(logit)}
