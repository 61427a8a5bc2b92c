"""Where each node of Figures 1 and 2 sits in a drawing (Reese et al. 2021).

Figure 1 reads left to right: a stressor is appraised, coping and affect follow, allostasis
drives the addiction cycle, reward dysregulation lowers the salience of infant cues,
parenting shapes the infant, and attachment leads to child well-being; the infant's
affect feeds back to the mother's stress. Figure 2 sets MORE's components (mindfulness,
reappraisal, savoring) beside the mechanisms they target. The groups below follow the
paper's sections; a node added to the graph later and not listed here is drawn in an
"Other" column, so a drawing never loses a node.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.graph import NODES

# (group title, node ids top to bottom). Columns of Figure 1, left to right.
FIGURE1_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Context", ("aces", "poverty", "structural_barriers", "chronic_pain", "polysubstance")),
    ("Stress & appraisal", ("stressor", "coping_resources", "cognitive_appraisal",
                            "stress_arousal", "problem_focused_coping",
                            "emotion_focused_coping", "positive_affect", "negative_affect",
                            "resilience")),
    ("Addiction cycle", ("allostatic_load", "stress_sensitization", "drug_cue",
                         "action_schema", "attentional_bias", "craving", "opioid_use",
                         "opioid_dose", "tolerance", "physical_dependence", "withdrawal",
                         "executive_control", "moud", "overdose")),
    ("Reward & infant cues", ("drug_reward_salience", "natural_reward_responsiveness",
                              "reward_dysregulation", "motivation_for_change",
                              "maternal_hormones", "prenatal_bonding",
                              "salience_of_infant_cues")),
    ("Parenting", ("shame_self_judgment", "maternal_depression", "parenting_behavior",
                   "dyadic_synchrony")),
    ("Infant", ("neonatal_withdrawal", "infant_affect_behavior", "infant_positive_affect",
                "infant_self_regulation", "infant_stress_reactivity", "attachment")),
    ("Outcomes", ("child_wellbeing", "cps_report")),
)
# Figure 2: MORE's components and the other interventions' skills, drawn beside (below).
FIGURE2_GROUP: tuple[str, tuple[str, ...]] = (
    "MORE & other interventions (Figure 2)",
    ("mindfulness", "reappraisal", "savoring", "mindful_parenting", "parenting_program",
     "supportive_group"))

NODE_W, NODE_H = 150.0, 34.0
COL_W, ROW_H = 178.0, 44.0
MARGIN, HEADER = 16.0, 30.0


@dataclass(frozen=True)
class Placed:
    """A node's box: centre (x, y) in drawing units, and its group."""

    id: str
    x: float
    y: float
    group: str


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Placed]
    groups: tuple[tuple[str, float, float, float, float], ...]  # title, x0, y0, x1, y1
    width: float
    height: float


def layout() -> Layout:
    """Positions of every node of :data:`dyadsim.model.graph.NODES`."""
    known = {n.id for n in NODES}
    listed = {i for _, ids in FIGURE1_GROUPS for i in ids} | set(FIGURE2_GROUP[1])
    columns = [(t, tuple(i for i in ids if i in known)) for t, ids in FIGURE1_GROUPS]
    other = tuple(n.id for n in NODES if n.id not in listed)
    if other:
        columns.append(("Other", other))
    rows = max(len(ids) for _, ids in columns)
    placed: dict[str, Placed] = {}
    groups = []
    top = MARGIN + HEADER
    for c, (title, ids) in enumerate(columns):
        x0 = MARGIN + c * COL_W
        for r, node in enumerate(ids):
            placed[node] = Placed(node, x0 + COL_W / 2, top + r * ROW_H + NODE_H / 2, title)
        groups.append((title, x0 + 4, MARGIN, x0 + COL_W - 4, top + rows * ROW_H))
    width = MARGIN * 2 + len(columns) * COL_W
    title, ids = FIGURE2_GROUP
    ids = tuple(i for i in ids if i in known)
    y_band = top + rows * ROW_H + 16
    step = (width - 2 * MARGIN) / max(len(ids), 1)
    for k, node in enumerate(ids):
        placed[node] = Placed(node, MARGIN + step * (k + 0.5), y_band + HEADER + NODE_H / 2,
                              title)
    groups.append((title, MARGIN + 4, y_band, width - MARGIN - 4,
                   y_band + HEADER + NODE_H + 12))
    return Layout(placed, tuple(groups), width, y_band + HEADER + NODE_H + 12 + MARGIN)
