"""One day of one dyad (vectorised over dyads): a pure function

    (state, parameters, per-dyad constants, draws, day, do) -> state

Nodes are updated in ``ORDER`` (Gauss-Seidel: a node sees the values its parents already
took today, so a stressor can become threat, arousal and craving the same day). Each
mechanism function reads only its declared parents (tested), and a ``do`` clamp replaces a
node's own update right after it (Pearl's do: downstream nodes respond, the node does not).
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from . import addiction, allostasis, infant, parenting, placement, skills, stress
from ._core import event_node, relax_node
from .graph import NODE_BY_ID, NODE_IDS, NODES
from .infant import DOMAINS

Mechanism = Callable[..., dict]

# The day's update order (Gauss-Seidel): a node sees what its parents took today.
UPDATE_ORDER: tuple[str, ...] = (
    "treatment_engagement", "mindfulness", "reappraisal", "savoring", "chronic_pain",
    "mindful_parenting", "parenting_program", "supportive_group", "maternal_hormones",
    "motivation_for_change", "coping_resources", "stressor", "cognitive_appraisal",
    "stress_arousal", "problem_focused_coping", "emotion_focused_coping", "drug_cue", "moud",
    "prescribed_opioid", "craving", "opioid_use", "opioid_dose", "overdose", "maternal_death",
    "tolerance",
    "physical_dependence", "withdrawal", "negative_affect", "positive_affect", "resilience",
    "allostatic_load", "stress_sensitization", "natural_reward_responsiveness",
    "drug_reward_salience", "reward_dysregulation", "action_schema", "attentional_bias",
    "executive_control", "shame_self_judgment", "maternal_depression", "employment",
    "prenatal_bonding",
    "salience_of_infant_cues", "parenting_behavior", "neonatal_withdrawal",
    "infant_affect_behavior", "infant_positive_affect", "dyadic_synchrony",
    "infant_self_regulation", "infant_stress_reactivity", "attachment",
    "attachment_disorganization", "attachment_classification", "child_wellbeing", "cps_report",
    "foster_placement",
)
# Nodes whose dynamics need their own function; every other node takes the default of its
# ``Node.dynamics``: relaxation towards its declared parents, a Bernoulli event, or a skill
# trained by sessions and practice.
SPECIFIC: dict[str, Mechanism] = {
    "treatment_engagement": skills.treatment_engagement,
    "reappraisal": skills.reappraisal,
    "savoring": skills.savoring,
    "chronic_pain": addiction.chronic_pain,
    "parenting_program": skills.parenting_program,
    "maternal_hormones": parenting.maternal_hormones,
    "motivation_for_change": parenting.motivation_for_change,
    "stressor": stress.stressor,
    "cognitive_appraisal": stress.cognitive_appraisal,
    "moud": addiction.moud,
    "prescribed_opioid": addiction.prescribed_opioid,
    "craving": addiction.craving,
    "opioid_use": addiction.opioid_use,
    "opioid_dose": addiction.opioid_dose,
    "overdose": addiction.overdose,
    "maternal_death": placement.maternal_death,
    "physical_dependence": addiction.physical_dependence,
    "withdrawal": addiction.withdrawal,
    "reward_dysregulation": allostasis.reward_dysregulation,
    "prenatal_bonding": parenting.prenatal_bonding,
    "parenting_behavior": placement.with_substitute_caregiver(parenting.parenting_behavior),
    "neonatal_withdrawal": infant.neonatal_withdrawal,
    "infant_affect_behavior": infant.infant_affect_behavior,
    "infant_positive_affect": infant.infant_positive_affect,
    "dyadic_synchrony": infant.dyadic_synchrony,
    "infant_self_regulation": infant.infant_self_regulation,
    "infant_stress_reactivity": infant.infant_stress_reactivity,
    "attachment": infant.attachment,
    "attachment_disorganization": infant.attachment_disorganization,
    "attachment_classification": infant.attachment_classification,
    "child_wellbeing": infant.child_wellbeing,
    "cps_report": infant.cps_report,
    "foster_placement": placement.foster_placement,
}


DEFAULT: dict[str, Callable[[str], Mechanism]] = {
    "relax": relax_node, "event": event_node, "skill": skills.skill_node}


def _mechanism(node: str) -> Mechanism:
    if node in SPECIFIC:
        return SPECIFIC[node]
    dynamics = NODE_BY_ID[node].dynamics
    if dynamics not in DEFAULT:
        raise TypeError(f"node {node!r} ({dynamics}) needs its own mechanism")
    return DEFAULT[dynamics](node)


ORDER: tuple[tuple[str, Mechanism], ...] = tuple((n, _mechanism(n)) for n in UPDATE_ORDER)
MECHANISM: dict[str, Mechanism] = dict(ORDER)

# Internal state owned by one node (updated only by that node's mechanism).
SUBSTATES: dict[str, tuple[str, ...]] = {
    "moud": ("moud.days_on", "moud.tapering", "moud.cps_contact", "moud.overdose_contact"),
    "prescribed_opioid": ("prescribed_opioid.need_reference",),
    "chronic_pain": ("chronic_pain.baseline_logit",),
    "opioid_dose": ("opioid_dose.habitual",),
    "neonatal_withdrawal": ("neonatal_withdrawal.exposure", "neonatal_withdrawal.diagnosed",
                            "neonatal_withdrawal.onset", "neonatal_withdrawal.duration",
                            "neonatal_withdrawal.peak"),
    "attachment_disorganization": ("attachment_disorganization.caregiver",
                                   "attachment_disorganization.care",
                                   "attachment_disorganization.disruption"),
    "foster_placement": ("foster_placement.recent_use", "foster_placement.reports",
                         "foster_placement.open"),
    "attachment_classification": ("attachment_classification.availability",
                                  "attachment_classification.inconsistency"),
    "child_wellbeing": ("child_wellbeing.nows_history",)
    + tuple(f"child_wellbeing.{d}" for d in DOMAINS),
}
STATE_KEYS: tuple[str, ...] = NODE_IDS + tuple(k for v in SUBSTATES.values() for k in v)

# Maternal death is absorbing (placement.py): from the day she dies these are held at 0.
ENDED_BY_DEATH: tuple[str, ...] = ("drug_cue", "moud", "prescribed_opioid", "opioid_use",
                                   "opioid_dose", "overdose")

CONTEXT_NODES = tuple(n for n in NODE_IDS if NODE_BY_ID[n].dynamics == "context")
NOISE_NODES: tuple[str, ...] = tuple(
    n for n in NODE_IDS if NODE_BY_ID[n].dynamics == "relax" and NODE_BY_ID[n].noise > 0
)
# Uniform draws per dyad-day, by name: each node's declared ``draws``, in node order.
UNIFORMS: tuple[str, ...] = tuple(d for n in NODES for d in n.draws)
N_NORMAL = len(NOISE_NODES)
N_UNIFORM = len(UNIFORMS)


def unpack_draws(z_vec, u_vec):
    """Name the columns of the day's normal (dyads x N_NORMAL) and uniform draws."""
    z = {n: z_vec[:, i] for i, n in enumerate(NOISE_NODES)}
    u = {n: u_vec[:, i] for i, n in enumerate(UNIFORMS)}
    return z, u


def make_clock(day, dyad):
    return {"day": day, "postpartum_day": day - dyad["birth_day"]}


def step(s, p, dyad, day, z, u, do_mask, do_value, inputs=None):
    """Advance every dyad by one day. ``do_mask``/``do_value`` map node -> scalar (or one
    value per dyad). ``inputs`` ({target: {source: value}}) is what one mechanism reads of
    a parent instead of the state, NaN where it reads the state: an edge-level
    counterfactual (engine ``edge_paths``)."""
    clock = make_clock(day, dyad)
    # 1 at run time (XLA does not fold 0 * x for floats). Dividing a node's new value by it
    # is exact, and a division is an operation XLA will not duplicate: the clamped value is
    # computed and stored once, not re-evaluated inside every later kernel that reads the
    # node (run_chunk 1.36x faster, benchmarks/README.md).
    one = 1.0 + 0.0 * jnp.asarray(day, jnp.float32)
    s = dict(s)
    inputs = inputs or {}
    for node, mechanism in ORDER:
        seen = s if node not in inputs else {
            **s, **{k: jnp.where(jnp.isnan(v), s[k], v) for k, v in inputs[node].items()}}
        for key, value in mechanism(seen, p, dyad, clock, z, u).items():
            s[key] = value
        if node in ENDED_BY_DEATH:
            s[node] = jnp.where(s["maternal_death"] > 0, 0.0, s[node])
        s[node] = jnp.where(do_mask[node], do_value[node], s[node]).astype(jnp.float32) / one
    return s
