"""Turn interventions and their start times into the per-dyad schedule arrays the engine
reads (:class:`dyadsim.engine._engine.Schedule`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model.graph import SKILLS
from ..model.schedule import FAR, Schedule
from ..timepoints import parse_time_point
from .library import MOUD_DRUGS, Intervention, InterventionError

SESSION_DAYS = 7


def parse_course_start(start: str, *, pregnancy: bool, study_start: str) -> tuple[int, bool]:
    """An arm's start ('gw24', 'pp42', 'pp6w', 'day14') as (day, from_birth).

    A gestational-week start is converted to a study day from the study's own start
    ('gwN'); postpartum starts are counted from each dyad's birth.
    """
    point = parse_time_point(start)
    if point is None:
        raise InterventionError(f"intervention start {start!r} must look like gw20, pp42, "
                                "pp6w or day0")
    kind, num = point
    if kind == "pp":
        if not pregnancy:
            raise InterventionError("a postpartum start needs a population with a pregnancy")
        return num, True
    if kind == "gw":
        study = parse_time_point(study_start)
        if not pregnancy or study is None or study[0] != "gw":
            raise InterventionError("a gestational-week start needs a study starting in "
                                    "pregnancy (start = 'gwN')")
        day = (num - study[1]) * 7
        if day < 0:
            raise InterventionError(f"intervention start {start} is before the study start "
                                    f"{study_start}")
        return day, False
    return num, False


def build_schedule(arm_interventions: Sequence[Sequence[Intervention]],
                   arm_starts: Sequence[tuple[int, bool]], arm_of_dyad: np.ndarray) -> Schedule:
    """Schedule arrays for dyads whose arm index is ``arm_of_dyad``."""
    n = len(arm_of_dyad)
    sched = {k: v.copy() for k, v in Schedule.none(n).arrays.items()}
    for a, (ivs, (day, from_birth)) in enumerate(zip(arm_interventions, arm_starts,
                                                    strict=True)):
        rows = np.asarray(arm_of_dyad) == a
        if not rows.any():
            continue
        for iv in ivs:
            for c in iv.components:
                if sched[f"{c.skill}.sessions"][rows].max() > 0:
                    raise InterventionError(f"two interventions of arm {a} train {c.skill}")
                sched[f"{c.skill}.start"][rows] = day + (c.first_week - 1) * SESSION_DAYS
                sched[f"{c.skill}.sessions"][rows] = c.sessions
            if iv.moud:
                if from_birth:
                    raise InterventionError("MOUD offered from a postpartum day is not "
                                            "supported; offer it from a study day")
                sched["moud.offer_day"][rows] = day
                sched["moud.drug"][rows] = MOUD_DRUGS[iv.moud_drug]
        with_sessions = [iv for iv in ivs if iv.components]
        if with_sessions:
            sched["tx.attendance_mean"][rows] = max(iv.attendance for iv in with_sessions)
            sched["tx.practice_mean"][rows] = max(iv.practice for iv in with_sessions)
            sched["tx.from_birth"][rows] = int(from_birth)
    for k in SKILLS:
        sched[f"{k}.start"] = np.where(sched[f"{k}.sessions"] > 0, sched[f"{k}.start"],
                                       FAR).astype(np.int32)
    return Schedule(sched)
