"""Cross-field checks of a trial spec, against the model's catalogues (populations,
interventions, instruments, nodes) and the study window.

:func:`validate` only reads: it never builds a plan and never changes the spec (the spec's
models are frozen; implicit choices are filled in by :func:`dyadsim.trials.spec._fill_defaults`
before they are built). Each problem raises ``ValueError("field: message")``; the spec
loader turns it into a one-line :class:`~dyadsim.trials.spec.TrialSpecError`. The checks
of one analysis method live with the method (:data:`dyadsim.trials.methods.METHODS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: spec.py runs validate() on every parsed spec
    from .spec import TrialSpec

__all__ = ["SpecContext", "validate"]

RESERVED_NAMES = ("arms", "dropout", "trial", "analyses")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")


def err(field: str, msg: str) -> ValueError:
    return ValueError(f"{field}: {msg}")


@dataclass(frozen=True)
class SpecContext:
    """What the analysis checks read: the spec, its instruments, what is measured when,
    the EMA periods per instrument and the study window."""

    spec: TrialSpec
    instruments: dict[str, Any]
    measured: dict[str, set[str]]
    ema_periods: dict[str, list[tuple[int, int]]]
    pregnancy: bool

    @property
    def baseline(self) -> str:
        return self.spec.baseline

    def numeric(self, instrument: str) -> bool:
        from .instruments import CodedClassification

        return not isinstance(self.instruments[instrument], CodedClassification)


def validate(spec: TrialSpec) -> None:
    """Raise ValueError with every problem of ``spec`` found, one 'field: message' a line
    (a check that needs an earlier part, e.g. the study window, runs once that part is
    valid)."""
    problems: list[str] = []

    def attempt(check, *args):
        try:
            return check(*args)
        except ValueError as exc:
            problems.append(str(exc))
            return None

    attempt(_check_names_and_randomisation, spec)
    window = attempt(_check_window, spec)
    instruments = attempt(_check_instruments, spec)
    if window is not None:
        for i, arm in enumerate(spec.arms):
            attempt(_check_arm, window, i, arm)
    if window is not None and instruments is not None:
        attempt(_check_run_in, spec, window, instruments)
        measured = attempt(_check_assessments, spec, window, instruments)
        ema = attempt(_check_ema, spec, window, instruments)
        if measured is not None and ema is not None:
            ctx = SpecContext(spec=spec, instruments=instruments, measured=measured,
                              ema_periods=ema, pregnancy=window.pregnancy)
            anames = [a.name for a in spec.analysis]
            for i, a in enumerate(spec.analysis):
                attempt(_check_named_analysis, ctx, a, i, anames)
    if problems:
        raise ValueError("\n".join(problems))


def _check_named_analysis(ctx: SpecContext, a, i: int, anames: list[str]) -> None:
    where = f"analysis[{i}:{a.name}]"
    if a.name in anames[:i]:
        raise err(f"{where}.name", f"duplicate analysis name {a.name!r}")
    if a.name in RESERVED_NAMES:
        raise err(f"{where}.name", f"{a.name!r} is reserved")
    _check_analysis(ctx, a, where)


def _check_names_and_randomisation(spec: TrialSpec) -> None:
    from ..model.graph import NODE_BY_ID

    if not _NAME.fullmatch(spec.trial.name):
        raise err("trial.name", "use letters, digits, '_', '-', '.' or '+' only")
    names = [a.name for a in spec.arms]
    for i, a in enumerate(spec.arms):
        if a.name in names[:i]:
            raise err(f"arms[{i}].name", f"duplicate arm name {a.name!r}")
    if spec.trial.n < len(spec.arms):
        raise err("trial.n", f"{spec.trial.n} dyads cannot fill {len(spec.arms)} arms")
    r = spec.randomization
    total_alloc = sum(a.allocation for a in spec.arms)
    if r.method == "simple":
        if r.block_size is not None:
            raise err("randomization.block_size", "only for permuted_block or stratified")
    elif r.block_size is not None and r.block_size % total_alloc:
        raise err("randomization.block_size",
                  f"{r.block_size} is not a multiple of the allocation total {total_alloc}")
    if r.method == "stratified":
        if not r.strata:
            raise err("randomization.strata", "stratified randomisation needs at least one "
                      "stratum node")
        for s in r.strata:
            if s not in NODE_BY_ID:
                raise err("randomization.strata", f"unknown node {s!r} (see `dyadsim graph`)")
        if len(set(r.strata)) != len(r.strata) or len(r.strata) > 4:
            raise err("randomization.strata", "give 1-4 distinct nodes")
    elif r.strata:
        raise err("randomization.strata", "only for method = 'stratified'")


def _check_window(spec: TrialSpec):
    from ..model.params import Parameters
    from ..model.populations import get_population
    from ..timepoints import parse_horizon, parse_start
    from .plan import study_window

    ps = spec.population
    try:
        pop = get_population(ps.preset)
    except ValueError as exc:
        raise err("population.preset", str(exc)) from None
    try:
        pop = pop.with_overrides(ps.init, ps.params)
    except ValueError as exc:
        raise err("population.init", str(exc)) from None
    try:
        Parameters(pop.params)
    except ValueError as exc:
        raise err("population.params", str(exc)) from None
    try:
        parse_start((ps.start or pop.default_start).strip().lower(), pop.pregnancy,
                    pop.default_start)
    except ValueError as exc:
        raise err("population.start", str(exc)) from None
    try:
        parse_horizon(spec.trial.horizon)
    except ValueError as exc:
        raise err("trial.horizon", str(exc)) from None
    window = study_window(spec)
    if window.study_days < 1:
        raise err("trial.horizon", "the horizon ends before the postpartum start")
    return window


def _check_instruments(spec: TrialSpec) -> dict[str, Any]:
    from .instruments import get_instrument

    out: dict[str, Any] = {}
    for i, a in enumerate(spec.assessments):
        for name in a.instruments:
            try:
                out[name] = get_instrument(name)
            except ValueError as exc:
                raise err(f"assessments[{i}:{a.name}].instruments", str(exc)) from None
    for i, block in enumerate(spec.ema):
        for name in block.instruments:
            try:
                out[name] = get_instrument(name)
            except ValueError as exc:
                raise err(f"ema[{i}].instruments", str(exc)) from None
    return out


def _check_arm(window, i: int, arm) -> None:
    from ..interventions import get_intervention
    from ..interventions.library import combined_params
    from ..interventions.schedule import parse_course_start
    from ..model.params import Parameters, run_parameters
    from .plan import schedule_check

    where = f"arms[{i}:{arm.name}]"
    ivs = []
    for name in arm.interventions:
        try:
            ivs.append(get_intervention(name))
        except ValueError as exc:
            raise err(f"{where}.interventions", str(exc)) from None
    if len(set(arm.interventions)) != len(arm.interventions):
        raise err(f"{where}.interventions", "an intervention is listed twice")
    try:
        Parameters(run_parameters(window.population.params,
                                  interventions=combined_params(ivs)))
    except ValueError as exc:
        raise err(f"{where}.interventions", str(exc)) from None
    try:
        course = parse_course_start(arm.start, pregnancy=window.pregnancy,
                                    study_start=window.study_start)
    except ValueError as exc:
        raise err(f"{where}.start", str(exc)) from None
    day, from_birth = course
    if not from_birth and day >= window.study_days:
        raise err(f"{where}.start", f"study day {day} is after the end of the study "
                  f"(last study day {window.study_days - 1})")
    if from_birth and day > window.horizon_days:
        raise err(f"{where}.start", f"postpartum day {day} is after the horizon "
                  f"(postpartum day {window.horizon_days}): no dyad would receive "
                  f"{', '.join(arm.interventions)}")
    if from_birth and window.pp >= 0 and day < window.pp:
        raise err(f"{where}.start", f"postpartum day {day} is before the study start "
                  f"({window.study_start})")
    try:
        schedule_check(ivs, course)
    except ValueError as exc:
        raise err(f"{where}.interventions", str(exc)) from None


def _check_run_in(spec: TrialSpec, window, instruments) -> None:
    from .plan import _lookback

    if window.pregnancy:
        return
    want = (spec.trial.run_in_days if spec.trial.run_in_days is not None
            else _lookback(spec, instruments, -1))
    if window.horizon_days + max(0, int(want)) > 20 * 365:
        raise err("trial.horizon", "horizon plus run-in exceeds 20 years")


def _check_assessments(spec: TrialSpec, window, instruments) -> dict[str, set[str]]:
    from .plan import OUTCOME_READS

    last = window.study_days - 1
    study_start_pp = window.pp if window.pregnancy and window.gd < 0 else -1
    tps = [a.name for a in spec.assessments]
    for i, a in enumerate(spec.assessments):
        where = f"assessments[{i}:{a.name}]"
        if a.name in tps[:i]:
            raise err(f"{where}.name", f"duplicate assessment name {a.name!r}")
        if a.name == "ema":
            raise err(f"{where}.name", "'ema' is reserved for EMA rows")
        if len(set(a.instruments)) != len(a.instruments):
            raise err(f"{where}.instruments", "an instrument is listed twice")
        if a.day is not None and a.day > last:
            raise err(f"{where}.day", f"study day {a.day} is after the end of the study "
                      f"(last study day {last}; extend trial.horizon)")
        if a.postpartum_day is not None:
            if not window.pregnancy:
                raise err(f"{where}.postpartum_day", "needs a population with a pregnancy")
            if a.postpartum_day > window.horizon_days:
                raise err(f"{where}.postpartum_day", f"postpartum day {a.postpartum_day} is "
                          f"after the horizon ({window.horizon_days} days after birth)")
            if study_start_pp > a.postpartum_day:
                raise err(f"{where}.postpartum_day", "is before the study start "
                          f"({window.study_start})")
        for name in a.instruments:
            outs = [x for x in instruments[name].reads if x in OUTCOME_READS]
            if outs and not window.pregnancy:
                raise err(f"{where}.instruments", f"{name} reads {outs[0]}, which needs a "
                          "population with a pregnancy")
    return {a.name: set(a.instruments) for a in spec.assessments}


def _check_ema(spec: TrialSpec, window, instruments) -> dict[str, list[tuple[int, int]]]:
    from .instruments import EMAScale

    last = window.study_days - 1
    periods: dict[str, list[tuple[int, int]]] = {}
    for i, b in enumerate(spec.ema):
        where = f"ema[{i}]"
        if b.to_day < b.from_day:
            raise err(f"{where}.to_day", "must not be before from_day")
        if b.to_day > last:
            raise err(f"{where}.to_day", f"study day {b.to_day} is after the end of the "
                      f"study (last study day {last})")
        for name in b.instruments:
            if not isinstance(instruments[name], EMAScale):
                raise err(f"{where}.instruments", f"{name} is not an EMA instrument (EMA "
                          "instruments: ema_craving, ema_stress, ema_positive_affect)")
            for lo, hi in periods.get(name, []):
                if b.from_day <= hi and lo <= b.to_day:
                    raise err(f"{where}.instruments", f"{name} has overlapping EMA periods")
            periods.setdefault(name, []).append((b.from_day, b.to_day))
    return periods


#: Optional analysis fields and the methods that use them (the rest must be left out).
_FIELDS = ("instrument", "event", "timepoint", "cutoff", "category", "mediator",
           "mediator_timepoint")


def _check_analysis(ctx: SpecContext, a, where: str) -> None:
    """The checks every method shares (arms, effect, direction, fields it does not use),
    then the method's own (:attr:`dyadsim.trials.methods.Method.check`)."""
    from .methods import METHODS

    if a.method not in METHODS:
        raise err(f"{where}.method", f"unknown method {a.method!r}; choose from "
                  f"{', '.join(METHODS)}")
    m = METHODS[a.method]
    names = ctx.spec.arm_names
    for role in ("treatment", "control"):
        arm = getattr(a, role)
        if arm is not None and arm not in names:
            raise err(f"{where}.{role}", f"unknown arm {arm!r}; arms: {', '.join(names)}")
    if m.within_arm:
        if a.control is not None:
            raise err(f"{where}.control", f"{a.method} is a within-arm change: no control arm")
    elif not (m.single_arm_effect and a.control is None and a.treatment is not None):
        if a.treatment is None or a.control is None:
            missing = "treatment" if a.treatment is None else "control"
            raise err(f"{where}.{missing}", "required (the trial does not have exactly two "
                      "arms)" if a.treatment is None and a.control is None else "required")
        if a.treatment == a.control:
            raise err(f"{where}.control", "must differ from treatment")
    if a.effect not in m.effects:
        raise err(f"{where}.effect", f"{a.effect!r} is not an effect of method {a.method!r}; "
                  f"choose from {', '.join(m.effects)}")
    if a.effect == m.single_arm_effect and not m.within_arm:
        if a.direction is not None:
            raise err(f"{where}.direction", "a single arm's share has no test, so no "
                      "direction")
    elif a.control is None and not m.within_arm:
        raise err(f"{where}.control", f"required for effect = {a.effect!r}")
    for f in _FIELDS:
        given = getattr(a, f)
        if given is not None and f not in m.fields:
            raise err(f"{where}.{f}", f"not used by {a.method}")
    m.check(ctx, a, where)
