"""The plan of a trial: what a run needs, resolved from a validated spec (the population,
the simulated window with its run-in, each arm's interventions, parameters and course start,
the recorded nodes and the instrument objects).

The window (see :mod:`.spec` for the declared choices): study day 0 is the population's
start; the simulation starts ``run_in`` days earlier so that baseline windows have days to
look back on (default: the longest look-back of any assessment, rounded up to whole weeks
for a start in gestation, limited by gestational week 4, or birth for a postpartum start).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: spec.py runs validate() on every parsed spec
    from .spec import TrialSpec

__all__ = ["DAYS_PER_MONTH", "OUTCOME_READS", "Plan", "Window", "plan_trial", "study_window"]

DAYS_PER_MONTH = 365.25 / 12
#: Instrument reads that are per-dyad outcomes of a pregnant population, not node series.
OUTCOME_READS = ("attachment_class", "wellbeing_physical", "wellbeing_psychological",
                 "wellbeing_cognitive", "wellbeing_social", "wellbeing_economic")


@dataclass(frozen=True)
class Window:
    """The study window: the population (with the spec's overrides), where study day 0
    lies (gestational day ``gd`` >= 0, or postpartum day ``pp``), and its length."""

    population: Any
    pregnancy: bool
    study_start: str
    gd: int
    pp: int
    horizon_days: int
    study_days: int


@dataclass(frozen=True)
class Plan:
    """What a run needs, resolved from a spec."""

    population: Any  # dyadsim.model.populations.Population (with overrides)
    pregnancy: bool
    study_start: str  # the population start (study day 0)
    sim_start: str  # where the simulation starts (study_start minus the run-in)
    run_in: int  # days simulated before study day 0
    horizon_days: int
    sim_horizon: int | str  # simulate()'s horizon argument
    total_days: int  # simulated days (run-in included)
    study_days: int  # study days 0 .. study_days - 1
    study_start_pp: int  # postpartum day at study day 0 for a postpartum start, else -1
    arm_interventions: tuple[tuple[Any, ...], ...]
    arm_params: tuple[dict[str, float], ...]
    arm_course: tuple[tuple[int, bool], ...]  # (study day or postpartum day, from_birth)
    nodes: tuple[str, ...]
    instruments: dict[str, Any]
    pop_offers_moud: bool

    def arm_schedule(self, arm: int, n: int):
        """Arm ``arm``'s schedule for ``n`` dyads: its interventions from the arm's start,
        the run-in and the population's own MOUD access applied once
        (:func:`dyadsim.interventions.schedule.course_schedule`)."""
        from ..interventions.schedule import course_schedule

        course = self.arm_course[arm]
        return course_schedule([(iv, course) for iv in self.arm_interventions[arm]], n,
                               run_in=self.run_in, moud_access=self.pop_offers_moud)


def study_window(spec: TrialSpec) -> Window:
    """The population and the study window of ``spec`` (raises ValueError on a bad preset,
    override, start or horizon; :mod:`.validation` names the field)."""
    from ..model.populations import get_population
    from ..timepoints import parse_horizon, parse_start, total_days

    ps = spec.population
    pop = get_population(ps.preset).with_overrides(ps.init, ps.params)
    study_start = (ps.start or pop.default_start).strip().lower()
    gd, pp = parse_start(study_start, pop.pregnancy, pop.default_start)
    horizon_days = parse_horizon(spec.trial.horizon)
    study_days = total_days(pop, gd, pp, horizon_days)
    return Window(population=pop, pregnancy=pop.pregnancy, study_start=study_start, gd=gd,
                  pp=pp, horizon_days=horizon_days, study_days=study_days)


def instruments_of(spec: TrialSpec) -> dict[str, Any]:
    """The instrument objects of every assessment and EMA period."""
    from .instruments import get_instrument

    names = [n for a in spec.assessments for n in a.instruments]
    names += [n for b in spec.ema for n in b.instruments]
    return {n: get_instrument(n) for n in dict.fromkeys(names)}


def _lookback(spec: TrialSpec, instruments: Mapping[str, Any], study_start_pp: int) -> int:
    """Days before study day 0 that the assessments' windows reach."""
    need = 0
    for a in spec.assessments:
        if a.day is not None:
            end = a.day
        elif study_start_pp >= 0:
            end = a.postpartum_day - study_start_pp
        else:
            continue  # after birth: always well after a gestational start
        for name in a.instruments:
            need = max(need, instruments[name].window_days - 1 - end)
    return need


def plan_trial(spec: TrialSpec) -> Plan:
    """Resolve a validated spec into a :class:`Plan`."""
    from ..interventions import get_intervention
    from ..interventions.library import combined_params
    from ..interventions.schedule import parse_course_start

    w = study_window(spec)
    pop, gd, pp = w.population, w.gd, w.pp
    instruments = instruments_of(spec)
    want = (spec.trial.run_in_days if spec.trial.run_in_days is not None
            else _lookback(spec, instruments, pp))
    want = max(0, int(want))
    if pop.pregnancy and gd >= 0:
        weeks = min(math.ceil(want / 7), gd // 7 - 4)
        run_in = 7 * max(weeks, 0)
        sim_start = f"gw{gd // 7 - run_in // 7}"
        sim_horizon: int | str = w.horizon_days
        total = w.study_days + run_in
    elif pop.pregnancy:
        run_in = min(want, pp)
        sim_start = f"pp{pp - run_in}"
        sim_horizon = w.horizon_days
        total = w.study_days + run_in
    else:
        run_in = want
        sim_start = w.study_start
        sim_horizon = w.horizon_days + run_in
        total = w.horizon_days + run_in
    arm_ivs, arm_params, arm_course = [], [], []
    for arm in spec.arms:
        ivs = tuple(get_intervention(name) for name in arm.interventions)
        arm_ivs.append(ivs)
        arm_params.append(combined_params(list(ivs)))
        arm_course.append(parse_course_start(arm.start, pregnancy=pop.pregnancy,
                                             study_start=w.study_start))
    offered = pop.init.get("moud.offered")
    return Plan(population=pop, pregnancy=pop.pregnancy, study_start=w.study_start,
                sim_start=sim_start, run_in=run_in, horizon_days=w.horizon_days,
                sim_horizon=sim_horizon, total_days=total, study_days=w.study_days,
                study_start_pp=pp if pop.pregnancy and gd < 0 else -1,
                arm_interventions=tuple(arm_ivs), arm_params=tuple(arm_params),
                arm_course=tuple(arm_course), nodes=_nodes(spec, instruments),
                instruments=instruments,
                pop_offers_moud=offered is not None and offered.kind == "fixed"
                and offered.a >= 0.5)


def _nodes(spec: TrialSpec, instruments: Mapping[str, Any]) -> tuple[str, ...]:
    from ..model.graph import NODE_BY_ID
    from .methods import METHODS

    nodes = {"opioid_use", "moud"}
    if any(inst.subject != "mother" for inst in instruments.values()):
        nodes.add("foster_placement")  # who cares for the infant (.measurement)
    for inst in instruments.values():
        nodes.update(r for r in inst.reads if r in NODE_BY_ID)
    nodes.update(spec.randomization.strata)
    for a in spec.analysis:
        nodes.update(METHODS[a.method].nodes(a))
    return tuple(sorted(nodes))


def schedule_check(ivs: list[Any], course: tuple[int, bool]) -> None:
    """Raise ValueError if the interventions cannot be scheduled from ``course``."""
    from ..interventions.schedule import course_schedule

    course_schedule([(iv, course) for iv in ivs], 1)
