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


Course = tuple[Intervention, tuple[int, bool]]


def course_schedule(courses: Sequence[Course], n: int, *, run_in: int = 0,
                    moud_access: bool = False) -> Schedule:
    """The one schedule builder: schedule arrays for ``n`` dyads each receiving every course
    (an intervention and its start as ``(day, from_birth)``, :func:`parse_course_start`).

    ``run_in``: days simulated before the study's day 0 (a trial's run-in), added once here
    to every start counted on the study clock. ``moud_access``: the population already
    offers MOUD from day 0, and an intervention's offer never removes that access. The
    engine keeps one course clock per dyad, so courses with sessions must all count from
    birth or all from the study start; one skill is trained by one course at most.
    Raises ``InterventionError`` with a one-line message."""
    arrays = {k: v.copy() for k, v in Schedule.none(n).arrays.items()}
    if len({from_birth for iv, (_, from_birth) in courses if iv.components}) > 1:
        raise InterventionError("interventions with sessions must all start in pregnancy "
                                "(gwN) or all postpartum (ppN)")
    for iv, (day, from_birth) in courses:
        day = day if from_birth else day + run_in
        for c in iv.components:
            if arrays[f"{c.skill}.sessions"].max() > 0:
                raise InterventionError(f"two interventions train {c.skill}")
            arrays[f"{c.skill}.start"][:] = day + (c.first_week - 1) * SESSION_DAYS
            arrays[f"{c.skill}.sessions"][:] = c.sessions
        if iv.moud:
            if from_birth:
                raise InterventionError("MOUD offered from a postpartum day is not "
                                        "supported; offer it from a study day")
            arrays["moud.offer_day"][:] = 0 if moud_access else day
            arrays["moud.drug"][:] = MOUD_DRUGS[iv.moud_drug]
        if iv.components:
            arrays["tx.attendance_mean"] = np.maximum(arrays["tx.attendance_mean"],
                                                      iv.attendance)
            arrays["tx.practice_mean"] = np.maximum(arrays["tx.practice_mean"], iv.practice)
            arrays["tx.from_birth"][:] = int(from_birth)
    for k in SKILLS:
        arrays[f"{k}.start"] = np.where(arrays[f"{k}.sessions"] > 0, arrays[f"{k}.start"],
                                        FAR).astype(np.int32)
    return Schedule(arrays)


def build_schedule(arm_interventions: Sequence[Sequence[Intervention]],
                   arm_starts: Sequence[tuple[int, bool]], arm_of_dyad: np.ndarray) -> Schedule:
    """Schedule arrays for dyads whose arm index is ``arm_of_dyad``: each arm's
    interventions from the arm's start (:func:`course_schedule`)."""
    n = len(arm_of_dyad)
    arrays = {k: v.copy() for k, v in Schedule.none(n).arrays.items()}
    for a, (ivs, course) in enumerate(zip(arm_interventions, arm_starts, strict=True)):
        rows = np.asarray(arm_of_dyad) == a
        if rows.any():
            one = course_schedule([(iv, course) for iv in ivs], int(rows.sum())).arrays
            for k, v in one.items():
                arrays[k][rows] = v
    return Schedule(arrays)
