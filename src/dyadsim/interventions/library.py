"""Interventions as data: a schedule (weekly sessions, daily home practice) plus the skills
(Figure 2 components) and parameters it moves. Nothing here is a special case in the step:
an intervention becomes per-dyad schedule arrays
(:func:`~dyadsim.interventions.schedule.course_schedule`) and, at most, parameter overrides
for the dyads of its arm.

Formats are those of the trials (not stated in Reese 2021): MORE = 8 weekly 2-hour group
sessions plus daily home practice (Garland 2014, 2022), sequenced mindfulness ->
reappraisal -> savoring; the week each component enters is a guess (mindfulness from
session 1, reappraisal from session 3, savoring from session 4). Attendance and practice
vary between people (a beta distribution around the declared means, drawn per dyad).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..model.graph import SKILLS


class InterventionError(ValueError):
    """An intervention name or field is invalid."""


# The MOUD drugs a schedule can set (code in the engine's ``moud.drug`` array).
MOUD_DRUGS = {"": -1, "methadone": 0, "buprenorphine": 1}


@dataclass(frozen=True)
class Component:
    """One trained skill: starts in week ``first_week`` of the course, ``sessions`` weekly
    sessions long."""

    skill: str
    sessions: int
    first_week: int = 1

    def __post_init__(self) -> None:
        if self.skill not in SKILLS:
            raise InterventionError(f"unknown skill {self.skill!r}; known: {', '.join(SKILLS)}")
        if self.sessions < 0 or self.first_week < 1:
            raise InterventionError(f"component {self.skill}: sessions >= 0, first_week >= 1")


@dataclass(frozen=True)
class Intervention:
    name: str
    label: str
    description: str
    citation: str
    components: tuple[Component, ...] = ()
    attendance: float = 0.0  # mean share of sessions attended when fully engaged
    practice: float = 0.0  # mean share of course days with home practice, fully engaged
    moud: bool = False  # MOUD offered (methadone or buprenorphine) from the start
    moud_drug: str = ""  # "methadone" or "buprenorphine": the drug offered ("": population's)
    params: Mapping[str, float] = field(default_factory=dict)
    guess: str = ""

    def __post_init__(self) -> None:
        for name, v in (("attendance", self.attendance), ("practice", self.practice)):
            if not 0.0 <= v <= 1.0:
                raise InterventionError(f"intervention {self.name}: {name} must be in [0, 1]")
        if self.moud_drug not in MOUD_DRUGS:
            raise InterventionError(f"intervention {self.name}: moud_drug must be one of "
                                    f"{', '.join(repr(d) for d in MOUD_DRUGS)}")

    def without(self, skill: str) -> Intervention:
        """Dismantling at equal session dose: the removed component's sessions become
        supportive-group sessions (contact without the skill, as the SG comparator of the
        MORE trials), so a dismantled arm differs from the full course by component, not
        by the number of sessions."""
        removed = [c for c in self.components if c.skill == skill]
        if not removed:
            raise InterventionError(f"{self.name} has no component {skill!r}")
        if any(c.skill == "supportive_group" for c in self.components):
            raise InterventionError(f"{self.name} already has supportive-group sessions")
        kept = tuple(c for c in self.components if c.skill != skill)
        filler = Component("supportive_group", removed[0].sessions, removed[0].first_week)
        return replace(self, name=f"{self.name}_without_{skill}",
                       label=f"{self.label} without {skill}", components=kept + (filler,))

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "description": self.description,
                "citation": self.citation, "attendance": self.attendance,
                "practice": self.practice, "moud": self.moud, "moud_drug": self.moud_drug,
                "params": dict(self.params),
                "components": [c.__dict__ for c in self.components], "guess": self.guess}


_MORE_COMPONENTS = (Component("mindfulness", 8, 1), Component("reappraisal", 6, 3),
                    Component("savoring", 5, 4))
_ATTEND_GUESS = ("attendance 0.75 when fully engaged is a guess (MORE attendance not found, "
                 "mechanisms.md s7); practice 0.64 of assigned days: Parsons 2017 (MBSR/MBCT); "
                 "the day's treatment engagement scales both")

LIBRARY: dict[str, Intervention] = {i.name: i for i in (
    Intervention("more", "MORE", "Mindfulness-Oriented Recovery Enhancement: 8 weekly "
                 "sessions, mindfulness then reappraisal then savoring, daily home practice",
                 "Garland 2014 J Consult Clin Psychol 82:448; Garland 2022 JAMA Intern Med",
                 _MORE_COMPONENTS, 0.75, 0.64, guess=_ATTEND_GUESS + "; component weeks guess"),
    Intervention("supportive_group", "Supportive group (SG)", "Therapist-led support group: "
                 "8 weekly sessions of emotional expression and social support, no skills",
                 "Garland 2014, 2022 (active control)",
                 (Component("supportive_group", 8),), 0.75, 0.0, guess=_ATTEND_GUESS),
    Intervention("tau", "Treatment as usual", "Usual care: no added sessions",
                 "Cooperman 2021 (methadone + usual care)"),
    Intervention("cbt", "CBT", "Cognitive-behavioural therapy: 8 weekly sessions of "
                 "cognitive restructuring (a reappraisal skill not preceded by mindfulness "
                 "training) with homework", "Reese 2021 Discussion (comparator)",
                 (Component("reappraisal", 8),), 0.75, 0.5,
                 guess="CBT modelled as reappraisal training; homework 0.5 a guess"),
    Intervention("methadone", "Methadone", "MOUD offered from the start (methadone)",
                 "Jones 2010 (MOTHER); Schiff 2021", moud=True, moud_drug="methadone"),
    Intervention("buprenorphine", "Buprenorphine", "MOUD offered from the start "
                 "(buprenorphine): less neonatal withdrawal than methadone",
                 "Gaalema 2012 (MOTHER: NOWS treated 47% vs 57%); meta-analysis RR 0.90",
                 moud=True, moud_drug="buprenorphine",
                 guess="the drug sets retention, sustained dependence and fetal exposure "
                 "through the moud.buprenorphine_* and neonatal_withdrawal parameters"),
    Intervention("eat_sleep_console", "Eat, Sleep, Console / rooming-in", "Care model for "
                 "infants with NOWS: rooming-in with the mother, function-based assessment, "
                 "non-pharmacological care first", "MacMillan 2018 JAMA Pediatr (rooming-in "
                 "pharmacotherapy RR 0.37); Young 2023 NEJM 388:2326 (ESC: days to discharge "
                 "readiness 8.2 vs 14.9, rate ratio 0.55)",
                 params={"neonatal_withdrawal.care_treatment_rr": 0.37,
                         "neonatal_withdrawal.care_duration_ratio": 0.55}),
    Intervention("opioid_taper", "Opioid taper (LTOT)", "Supervised taper of a long-term "
                 "opioid prescription to half the dose: the prescribed dose "
                 "(prescribed_opioid) falls towards half with its titration time constant "
                 "prescribed_opioid.tau (about two weeks per e-fold)",
                 "CDC 2022 opioid prescribing guideline (taper when harms outweigh benefits; "
                 "slow tapers of ~10% a month to ~10% a week)",
                 params={"prescribed_opioid.prescription": 0.5},
                 guess="a taper to half the dose over weeks"),
    Intervention("mindful_parenting", "Mindfulness-based parenting (MBP)", "12 weekly "
                 "sessions: mindfulness plus mindful-parenting skills (attention, "
                 "non-judgment, compassion, emotional awareness and self-regulation)",
                 "Duncan 2009; Gannon 2017 (MBP for mothers in OUD treatment)",
                 (Component("mindfulness", 12), Component("mindful_parenting", 12)), 0.7, 0.5,
                 guess="attendance 0.7 and practice 0.5 are guesses"),
    Intervention("attachment_parenting", "Attachment-based parenting programme",
                 "10 weekly sessions/home visits after birth (ABC, Mom Power family): "
                 "following the child's lead, sensitivity, parenting stress, depression",
                 "Berlin 2014 (ABC); Muzik 2015 (Mom Power)",
                 (Component("parenting_program", 10),), 0.8, 0.3,
                 guess="attendance 0.8 and practice 0.3 are guesses; acts only after birth"),
)}
for _skill in ("mindfulness", "reappraisal", "savoring"):
    _d = LIBRARY["more"].without(_skill)
    LIBRARY[_d.name] = _d


def get_intervention(name: str) -> Intervention:
    if name not in LIBRARY:
        raise InterventionError(f"unknown intervention {name!r}; known: {', '.join(LIBRARY)}")
    return LIBRARY[name]


def combined_params(interventions: Sequence[Intervention]) -> dict[str, float]:
    out: dict[str, float] = {}
    for i in interventions:
        for k, v in i.params.items():
            if k in out and out[k] != v:
                raise InterventionError(f"interventions disagree on parameter {k!r}")
            out[k] = v
    return out
