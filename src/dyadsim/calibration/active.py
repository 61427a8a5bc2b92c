"""Which parameters can move a target: active-input candidates from the graph, before any
statistical screen (issue 19 item 1).

A lasso on a few hundred runs of several hundred inputs picks inputs by chance; Vernon et
al. (2010 s. 3.2) choose active variables from what the modeller knows first and screen
statistically only inside that set. Here what is known is the graph of Reese et al. (2021,
Figure 1; :mod:`dyadsim.model.graph`):

* every parameter is anchored at the node(s) it acts on: a node's own parameters
  (``<node>.bias``, ``.tau``, ``.noise``, mechanism parameters named ``<node>.*``) at the
  node, an edge weight at the edge's target, and the few mechanism parameters not named
  after a node at the nodes their mechanism sets (:data:`ANCHORS`, each with the mechanism
  that uses it);
* a target reads nodes (an instrument's ``reads``, an outcome's node, a node);
* a parameter is a candidate for a target when one of its anchors is a target node or an
  ancestor of one in the graph of the study's population: without a pregnancy (the adult
  MORE trial samples) the infant and dyad nodes and prenatal bonding do not run, so their
  parameters, the edges out of them and every path through them are removed; birth-timing
  and pregnancy-trajectory parameters need a pregnancy; the parameters of skill training
  by sessions need an arm that delivers sessions.

A target that reads only a covariate drawn from the population distribution (``aces``:
a context node) has no candidate: no parameter reaches it. Each decision carries its
reason, recorded per target in the calibration summary and the posterior file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from ..model.graph import EDGES, NODE_BY_ID
from ..model.params import PARAMS
from .targets import Read, Target, TargetSet

__all__ = ["ANCHORS", "OUTCOME_NODES", "ActiveSet", "active_sets", "candidate_inputs",
           "parameter_anchors", "parameter_sources", "read_nodes"]

#: Mechanism parameters not named after a node: the nodes their mechanism sets, and where.
ANCHORS: dict[str, tuple[tuple[str, ...], str]] = {
    "gestation.": (("neonatal_withdrawal", "maternal_hormones", "motivation_for_change"),
                   "model/initial.py: gestational age sets the birth day, hence neonatal "
                   "withdrawal and the perinatal hormone and motivation trajectories"),
    "caregiver.": (("foster_placement",), "model/placement.py: the substitute caregiver's "
                   "parenting once the infant is placed"),
    "attachment.classification_day": (("attachment_classification",),
                                      "model/infant.py: the day the Strange Situation "
                                      "classifies the infant"),
    "individual.appraisal_sd": (("cognitive_appraisal",), "model/initial.py: random "
                                "intercept of threat appraisal"),
    "individual.use_propensity_sd": (("opioid_use",), "model/initial.py: random intercept "
                                     "of use"),
    "individual.neuroadaptation_sd": (("stress_sensitization", "natural_reward_responsiveness",
                                       "drug_reward_salience"),
                                      "model/_core.py: per-person multiplier of the "
                                      "opioid_use -> neuroadaptation edges"),
    "individual.skill_responsiveness_sd": (("mindfulness", "reappraisal", "savoring",
                                            "mindful_parenting", "parenting_program",
                                            "supportive_group"),
                                           "model/skills.py: per-person gain of skill "
                                           "training"),
    "skill.baseline": (("mindfulness", "reappraisal", "savoring"),
                       "model/skills.py: untrained level of the trait skills"),
    "skill.": (("mindfulness", "reappraisal", "savoring", "mindful_parenting",
                "parenting_program", "supportive_group"),
               "model/skills.py: skill growth by sessions and home practice"),
}

#: Parameters that act only through a pregnancy or a birth (model/parenting.py: without a
#: pregnancy the hormone and motivation trajectories sit at their non-pregnant levels).
NEEDS_PREGNANCY = ("gestation.", "caregiver.", "attachment.", "maternal_hormones.birth_peak",
                   "maternal_hormones.rise_exponent", "maternal_hormones.postpartum_tau",
                   "motivation_for_change.pregnancy", "motivation_for_change.postpartum_tau")
#: Parameters that act only through skill training by sessions (an arm delivering them).
NEEDS_SESSIONS = ("skill.session_gain", "skill.practice_gain", "skill.adherence_concentration",
                  "individual.skill_responsiveness_sd")

#: Per-dyad outcomes of :func:`dyadsim.simulate` and the node each is a record of.
OUTCOME_NODES: dict[str, str] = {
    "use_days": "opioid_use", "use_share": "opioid_use", "use_days_pregnancy": "opioid_use",
    "use_days_postpartum": "opioid_use", "first_use_day": "opioid_use",
    "mme_per_use_day": "opioid_use", "overdoses": "overdose",
    "overdose_fatal_day": "overdose", "maternal_death_day": "maternal_death",
    "cps_report_day": "cps_report", "moud_days": "moud", "moud_share": "moud",
    "moud_at_12m": "moud", "moud_retained_12m": "moud", "moud_stop_day": "moud",
    "nows": "neonatal_withdrawal", "parenting_mean":
    "parenting_behavior", "attachment_class": "attachment_classification",
    "attachment_security_12m": "attachment", "placement_day": "foster_placement",
    "reunification_day": "foster_placement", "birth_day": "neonatal_withdrawal",
}
#: Latent names instruments read that are not node ids.
_READ_ALIASES = {"attachment_class": "attachment_classification"}

#: Node kinds that exist only once an infant is born, and the maternal node that forms
#: only in pregnancy (model/parenting.py).
_INFANT_KINDS = ("infant", "dyad")
_PREGNANCY_NODES = ("prenatal_bonding",)


def _prefix_rule(name: str) -> tuple[tuple[str, ...], str] | None:
    for key in sorted(ANCHORS, key=len, reverse=True):  # the most specific rule first
        if name == key or (key.endswith(".") and name.startswith(key)):
            return ANCHORS[key]
    return None


def parameter_sources(name: str) -> frozenset[str]:
    """The nodes an edge weight needs alive besides its target (its source and, for a gain
    edge, the sources it modulates); empty for any other parameter."""
    for e in EDGES:
        if e.weight_name == name:
            return frozenset({e.source, *e.modulates})
    return frozenset()


@cache
def parameter_anchors(name: str) -> tuple[frozenset[str], str]:
    """The nodes ``name`` acts on and why (raises KeyError for an unknown parameter)."""
    if name not in PARAMS:
        raise KeyError(name)
    for e in EDGES:
        if e.weight_name == name:
            return frozenset({e.target}), f"weight of the edge into {e.target}"
    rule = _prefix_rule(name)
    if rule is not None:
        return frozenset(rule[0]), rule[1]
    node = name.split(".", 1)[0]
    if node in NODE_BY_ID:
        return frozenset({node}), f"parameter of the node {node}"
    raise KeyError(f"{name}: no anchor node (add it to calibration.active.ANCHORS)")


def read_nodes(r: Read) -> frozenset[str]:
    """The nodes one read of a target records."""
    if r.node is not None:
        return frozenset({r.node})
    if r.outcome is not None:
        if r.outcome.startswith("wellbeing_"):
            return frozenset({"child_wellbeing"})
        return frozenset({OUTCOME_NODES[r.outcome]}) if r.outcome in OUTCOME_NODES \
            else frozenset()
    from ..trials.instruments.catalogue import get_instrument

    reads = get_instrument(r.instrument).reads
    out = set()
    for x in reads:
        x = _READ_ALIASES.get(x, x)
        if x in NODE_BY_ID:
            out.add(x)
        elif x.startswith("wellbeing_"):
            out.add("child_wellbeing")
    return frozenset(out)


def _ancestors(nodes: Iterable[str], alive: frozenset[str]) -> frozenset[str]:
    """``nodes`` and every node with a directed path into one of them, within ``alive``."""
    into: dict[str, set[str]] = {}
    for e in EDGES:
        if e.source in alive and e.target in alive:
            into.setdefault(e.target, set()).add(e.source)
            for m in e.modulates:  # a gain edge's modulator acts on the target too
                if m in alive:
                    into[e.target].add(m)
    seen = {n for n in nodes if n in alive}
    stack = list(seen)
    while stack:
        for parent in into.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return frozenset(seen)


@dataclass(frozen=True)
class StudyContext:
    """What the study of a target runs: its population's pregnancy and whether an arm
    delivers skill sessions."""

    preset: str
    pregnancy: bool
    sessions: bool


def study_context(t: Target, targets: TargetSet) -> StudyContext:
    from ..interventions import get_intervention
    from ..model.populations import get_population

    if t.id in targets.designs:
        specs = (targets.designs[t.id], *targets.pooled.get(t.id, ()))
        presets = tuple(dict.fromkeys(spec.population.preset for spec in specs))
        sessions = any(get_intervention(name).components for spec in specs
                       for arm in spec.arms for name in arm.interventions)
        return StudyContext(" + ".join(presets),
                            any(get_population(p).pregnancy for p in presets), sessions)
    preset = t.cohort.preset
    if t.reference is not None:  # two populations: a pregnancy in either counts
        both = (preset, t.reference.preset)
        return StudyContext(" vs ".join(both), any(get_population(p).pregnancy for p in both),
                            False)
    return StudyContext(preset, bool(get_population(preset).pregnancy), False)


@dataclass(frozen=True)
class ActiveSet:
    """The candidate inputs of one target, with the reason for each decision."""

    target: str
    nodes: tuple[str, ...]
    candidates: tuple[str, ...]
    reason: str
    excluded: Mapping[str, str]

    def to_dict(self) -> dict:
        return {"target": self.target, "reads": list(self.nodes),
                "candidates": len(self.candidates), "reason": self.reason}


def candidate_inputs(t: Target, targets: TargetSet, names: Sequence[str]) -> ActiveSet:
    """The parameters among ``names`` that can move target ``t`` (see the module docstring)."""
    ctx = study_context(t, targets)
    nodes = read_nodes(t.measure) | (read_nodes(t.measure.with_)
                                     if t.measure.with_ is not None else frozenset())
    alive = frozenset(n for n, node in NODE_BY_ID.items()
                      if ctx.pregnancy or (node.kind not in _INFANT_KINDS
                                           and n not in _PREGNANCY_NODES))
    upstream = _ancestors(nodes, alive)
    keep, excluded = [], {}
    for name in names:
        anchors, _why = parameter_anchors(name)
        if not ctx.pregnancy and name.startswith(NEEDS_PREGNANCY):
            excluded[name] = f"acts through a birth; {ctx.preset} has no pregnancy"
        elif not ctx.sessions and name.startswith(NEEDS_SESSIONS):
            excluded[name] = "acts through skill sessions; no arm of the study delivers them"
        elif not parameter_sources(name) <= alive:
            dead = sorted(parameter_sources(name) - alive)
            excluded[name] = f"an edge from {', '.join(dead)}, which {ctx.preset} does not run"
        elif not anchors & upstream:
            excluded[name] = (f"acts on {', '.join(sorted(anchors))}, which reach(es) none of "
                              f"{', '.join(sorted(nodes))} in {ctx.preset}")
        else:
            keep.append(name)
    covariates = sorted(n for n in nodes if NODE_BY_ID[n].kind == "context")
    if not keep and covariates and set(covariates) == set(nodes):
        reason = (f"reads {', '.join(covariates)}: a covariate drawn from the population "
                  f"distribution of {ctx.preset}; no parameter reaches it")
    else:
        reason = (f"reads {', '.join(sorted(nodes))}; {len(keep)} of {len(names)} parameters "
                  f"act on them or their ancestors in the graph of {ctx.preset} "
                  f"({'with' if ctx.pregnancy else 'without'} pregnancy, "
                  f"{'with' if ctx.sessions else 'without'} skill sessions)")
    return ActiveSet(t.id, tuple(sorted(nodes)), tuple(keep), reason, excluded)


def active_sets(targets: TargetSet, names: Sequence[str]) -> dict[str, ActiveSet]:
    """:func:`candidate_inputs` of every replicated target, by id."""
    return {t.id: candidate_inputs(t, targets, names) for t in targets if t.skip is None}
