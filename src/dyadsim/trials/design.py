"""In-silico trial specifications (a TOML file) and randomisation.

A trial is a population, arms, a randomisation, an assessment schedule (instruments at
study days or postpartum days), optional EMA periods, optional loss to follow-up and a list
of analyses. :func:`load_spec` reads and validates one (pydantic v2 models, unknown keys
refused); every problem raises :class:`TrialSpecError` (a ``ValueError``) with one line
that names the field, e.g. ``arms[1].interventions: unknown intervention 'mor'``.

TOML format (sections and keys)::

    [trial]        name, citation, description?, n, seed, horizon, run_in_days?, alpha?
    [population]   preset, start?, init?, params?
    [randomization] method = simple | permuted_block | stratified, block_size?, strata?
    [[arms]]       name, interventions, allocation (integer ratio), start? (default day0)
    [[assessments]] name, day | postpartum_day, instruments
    [[ema]]        instruments, from_day, to_day (both inclusive), prompts_per_day,
                   compliance?
    [dropout]      monthly_rate, use_effect?
    [[analysis]]   name, method, instrument? | event?, timepoint?, cutoff?, below?,
                   category?, effect?, treatment?, control?, mediator?,
                   mediator_timepoint?, n_boot?, primary?, direction?

Declared choices (where the format leaves room):

* ``horizon`` is simulate()'s horizon: after birth for pregnant populations, after the
  study start otherwise. Study day 0 is the population's start (``[population] start``).
* Run-in: an instrument looks back over its window (e.g. 30 days for the COMM and TLFB), so
  a baseline at study day 0 needs days before the study start. The simulation therefore
  starts ``run_in_days`` before study day 0 (default: the longest look-back of any
  assessment, rounded up to whole weeks for a start in gestation, and limited by the
  earliest possible start: gestational week 4, or birth for a postpartum start). No
  intervention acts during the run-in; it is part of ``latent`` (negative study days). A
  window that still reaches before the simulated days is shortened to the days there are.
* ``monthly_rate`` is the probability of loss to follow-up within a month (30.44 days) for a
  dyad without recent use; the daily hazard is ``-log(1 - rate) / 30.44 x
  exp(use_effect x share of use days in the last 30 days)``. Dropout starts after each
  dyad's baseline assessment, which is always observed.
* The baseline is the assessment named ``baseline`` if there is one, else the first listed.
* ``allocation`` is an integer ratio; ``block_size`` (default twice the sum of the ratios)
  must be a multiple of that sum.
* ``treatment``/``control`` may be left out when the trial has exactly two arms (first
  arm = treatment). ``pre_post`` takes only ``treatment`` (the arm whose change is
  measured; default: the only arm, else all dyads pooled); ``proportion`` with only
  ``treatment`` reports that arm's share. ``pre_post`` (single-arm change, d_av) is a
  method beside the others; ``category`` (e.g. ``"secure"`` for the Strange Situation)
  replaces ``cutoff`` for the coded instrument ``ssp``; ``effect`` chooses the summary
  estimate (see :data:`EFFECTS`); ``n_boot`` sets the mediation bootstrap (default 1000);
  ``[trial] alpha`` (default 0.05) is the significance level of every analysis.
* ``direction`` (``"increase"`` or ``"decrease"``) is the pre-specified direction of the
  effect (treatment vs control, or post vs pre): the estimate above or below its null (1
  for ratios, 0 otherwise). Power counts only rejections in that direction, so it is
  required by power curves.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "EFFECTS",
    "EVENTS",
    "METHODS",
    "Analysis",
    "Arm",
    "Assessment",
    "Dropout",
    "EMABlock",
    "Plan",
    "TrialSpec",
    "TrialSpecError",
    "load_spec",
    "plan_trial",
    "randomize",
    "stratum_codes",
]

METHODS = ("lmm", "binary", "cohens_d", "change_d", "pre_post", "ema", "cox", "mediation",
           "proportion")
EVENTS = ("first_use", "moud_discontinuation", "overdose", "cps_report")
#: Allowed ``effect`` values per method (the first is the default).
EFFECTS: dict[str, tuple[str, ...]] = {
    "lmm": ("difference",),
    "binary": ("risk_ratio", "odds_ratio", "relative_reduction", "risk_difference"),
    "cohens_d": ("d", "hedges_g"),
    "change_d": ("d", "hedges_g"),
    "pre_post": ("d_av", "d_z"),
    "ema": ("relative_difference", "difference"),
    "cox": ("hazard_ratio",),
    "mediation": ("indirect",),
    "proportion": ("difference", "share"),
}
RESERVED_NAMES = ("arms", "dropout", "trial", "analyses")
MAX_SEED = 2**31 - 1
DAYS_PER_MONTH = 365.25 / 12
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")


class TrialSpecError(ValueError):
    """A trial specification is invalid (the message names the field)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TrialSection(_Model):
    name: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    description: str = ""
    n: int = Field(ge=1, le=10**7)
    seed: int = Field(ge=0, le=MAX_SEED)
    horizon: int | str
    run_in_days: int | None = Field(default=None, ge=0, le=365)
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)


class PopulationSection(_Model):
    preset: str
    start: str | None = None
    init: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, float] = Field(default_factory=dict)


class Randomization(_Model):
    method: Literal["simple", "permuted_block", "stratified"] = "simple"
    block_size: int | None = Field(default=None, ge=1)
    strata: list[str] = Field(default_factory=list)


class Arm(_Model):
    name: str = Field(min_length=1)
    interventions: list[str] = Field(min_length=1)
    allocation: int = Field(default=1, gt=0)
    start: str = "day0"


class Assessment(_Model):
    name: str = Field(min_length=1)
    day: int | None = Field(default=None, ge=0)
    postpartum_day: int | None = Field(default=None, ge=0)
    instruments: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_day(self) -> Assessment:
        if (self.day is None) == (self.postpartum_day is None):
            raise ValueError("day/postpartum_day: give exactly one of day and postpartum_day")
        return self


class EMABlock(_Model):
    instruments: list[str] = Field(min_length=1)
    from_day: int = Field(ge=0)
    to_day: int = Field(ge=0)
    prompts_per_day: int = Field(ge=1, le=24)
    compliance: float | None = Field(default=None, ge=0.0, le=1.0)


class Dropout(_Model):
    monthly_rate: float = Field(ge=0.0, lt=1.0)
    use_effect: float = Field(default=0.0, ge=-10.0, le=10.0)


class Analysis(_Model):
    name: str = Field(min_length=1)
    method: Literal["lmm", "binary", "cohens_d", "change_d", "pre_post", "ema", "cox",
                    "mediation", "proportion"]
    instrument: str | None = None
    event: Literal["first_use", "moud_discontinuation", "overdose", "cps_report"] | None = None
    timepoint: str | None = None
    cutoff: float | None = None
    below: bool = False
    category: str | None = None
    effect: str | None = None
    treatment: str | None = None
    control: str | None = None
    mediator: str | None = None
    mediator_timepoint: str | None = None
    n_boot: int = Field(default=1000, ge=10, le=100_000)
    primary: bool = False
    direction: Literal["increase", "decrease"] | None = None


class TrialSpec(_Model):
    """A validated trial specification (see the module docstring for the format)."""

    trial: TrialSection
    population: PopulationSection
    randomization: Randomization = Field(default_factory=Randomization)
    arms: list[Arm] = Field(min_length=1)
    assessments: list[Assessment] = Field(min_length=1)
    ema: list[EMABlock] = Field(default_factory=list)
    dropout: Dropout | None = None
    analysis: list[Analysis] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_check(self) -> TrialSpec:
        _check(self)
        return self

    # convenience ----------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return self.trial.seed

    @property
    def n(self) -> int:
        return self.trial.n

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.arms]

    @property
    def baseline(self) -> str:
        names = [a.name for a in self.assessments]
        return "baseline" if "baseline" in names else names[0]

    def to_dict(self) -> dict[str, Any]:
        """The spec as parsed (defaults filled in), JSON-able."""
        return self.model_dump(mode="json")

    def with_changes(self, *, n: int | None = None, seed: int | None = None,
                     alpha: float | None = None,
                     analyses: Sequence[str] | None = None) -> TrialSpec:
        """A re-validated copy with a different N, seed, alpha or subset of analyses."""
        d = self.to_dict()
        if n is not None:
            d["trial"]["n"] = n
        if seed is not None:
            d["trial"]["seed"] = seed
        if alpha is not None:
            d["trial"]["alpha"] = alpha
        if analyses is not None:
            known = {a["name"] for a in d["analysis"]}
            bad = [a for a in analyses if a not in known]
            if bad:
                raise TrialSpecError(f"analysis: unknown analysis {bad[0]!r}; known: "
                                     f"{', '.join(sorted(known)) or 'none'}")
            d["analysis"] = [a for a in d["analysis"] if a["name"] in set(analyses)]
        return parse_spec(d)


# ------------------------------------------------------------------------------ loading
def _loc(loc: Sequence[Any], data: Any) -> str:
    out, cur = "", data
    for part in loc:
        if isinstance(part, int):
            label = str(part)
            if isinstance(cur, list) and part < len(cur) and isinstance(cur[part], Mapping) \
                    and isinstance(cur[part].get("name"), str):
                label = f"{part}:{cur[part]['name']}"
            out += f"[{label}]"
            cur = cur[part] if isinstance(cur, list) and part < len(cur) else None
        else:
            out += ("." if out else "") + str(part)
            cur = cur.get(part) if isinstance(cur, Mapping) else None
    return out


_UNION_TAGS = {"int", "str", "float", "bool", "dict", "list", "none"}


def _message(err: Mapping[str, Any], data: Any) -> str:
    parts = [p for p in err["loc"]
             if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p))]
    loc = _loc(parts, data)
    kind, msg = err.get("type", ""), str(err.get("msg", "invalid"))
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required field missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "value_error" and loc and re.match(r"^[\w\[\]:./+\-]+: ", msg):
        return f"{loc}.{msg}"
    return f"{loc}: {msg}" if loc else msg


def parse_spec(data: Mapping[str, Any]) -> TrialSpec:
    """Validate a spec given as a dict (as read from TOML)."""
    if isinstance(data, TrialSpec):
        return data
    if not isinstance(data, Mapping):
        raise TrialSpecError("a trial spec must be a table")
    try:
        return TrialSpec.model_validate(dict(data))
    except ValidationError as exc:
        errs = exc.errors()
        # a union type gives one error per member: report the first, most specific one
        first = errs[0]
        more = len({tuple(e["loc"][:2]) for e in errs}) - 1
        text = _message(first, data)
        if more > 0:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise TrialSpecError(" ".join(text.split())) from None


def load_spec(source: str | Path | Mapping[str, Any] | TrialSpec) -> TrialSpec:
    """Read and validate a trial spec from a TOML file (or a dict / a TrialSpec)."""
    if isinstance(source, TrialSpec):
        return source
    if isinstance(source, Mapping):
        return parse_spec(source)
    p = Path(source)
    if not p.is_file():
        raise TrialSpecError(f"trial spec file not found: {p}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise TrialSpecError(f"malformed TOML in {p}: {exc}") from None
    except UnicodeDecodeError:
        raise TrialSpecError(f"trial spec {p} is not UTF-8 text") from None
    return parse_spec(data)


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class Plan:
    """What a run needs, resolved from a spec: the population, the simulation window
    (run-in, start, horizon), each arm's interventions, parameters and course start, the
    recorded nodes and the instrument objects."""

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


def _parse_start(start: str | None, pregnancy: bool, default: str):
    from ..simulation import parse_start

    return parse_start(start, pregnancy, default)


def _lookback(plan_inputs: dict, spec: TrialSpec, instruments: dict[str, Any]) -> int:
    """Days before study day 0 that the assessments' windows reach."""
    need = 0
    for a in spec.assessments:
        if a.day is not None:
            end = a.day
        elif plan_inputs["study_start_pp"] >= 0:
            end = a.postpartum_day - plan_inputs["study_start_pp"]
        else:
            continue  # after birth: always well after a gestational start
        for name in a.instruments:
            need = max(need, instruments[name].window_days - 1 - end)
    return need


def plan_trial(spec: TrialSpec) -> Plan:
    """Resolve a (validated) spec into a :class:`Plan`."""
    from ..interventions import get_intervention
    from ..interventions.library import combined_params
    from ..interventions.schedule import parse_course_start
    from ..model.params import Parameters
    from ..model.populations import get_population
    from ..simulation import parse_horizon
    from .instruments import get_instrument

    def fail(field: str, exc: Exception | str) -> TrialSpecError:
        return TrialSpecError(f"{field}: {exc}")

    ps = spec.population
    try:
        pop = get_population(ps.preset)
    except ValueError as exc:
        raise fail("population.preset", exc) from None
    try:
        pop = pop.with_overrides(ps.init, ps.params)
    except ValueError as exc:
        raise fail("population.init", exc) from None
    try:
        Parameters(pop.params)
    except ValueError as exc:
        raise fail("population.params", exc) from None
    study_start = (ps.start or pop.default_start).strip().lower()
    try:
        gd, pp = _parse_start(study_start, pop.pregnancy, pop.default_start)
    except ValueError as exc:
        raise fail("population.start", exc) from None
    try:
        horizon_days = parse_horizon(spec.trial.horizon)
    except ValueError as exc:
        raise fail("trial.horizon", exc) from None
    if pop.pregnancy and gd >= 0:
        study_days = 42 * 7 - gd + horizon_days + 1
    elif pop.pregnancy:
        study_days = horizon_days - pp + 1
        if study_days < 1:
            raise fail("trial.horizon", "the horizon ends before the postpartum start")
    else:
        study_days = horizon_days

    # instruments
    instruments: dict[str, Any] = {}
    for i, a in enumerate(spec.assessments):
        for name in a.instruments:
            try:
                instruments[name] = get_instrument(name)
            except ValueError as exc:
                raise fail(f"assessments[{i}:{a.name}].instruments", exc) from None
    for i, block in enumerate(spec.ema):
        for name in block.instruments:
            try:
                instruments[name] = get_instrument(name)
            except ValueError as exc:
                raise fail(f"ema[{i}].instruments", exc) from None

    # run-in
    if spec.trial.run_in_days is not None:
        want = spec.trial.run_in_days
    else:
        want = _lookback({"study_start_pp": pp}, spec, instruments)
    want = max(0, int(want))
    if pop.pregnancy and gd >= 0:
        weeks = min(math.ceil(want / 7), gd // 7 - 4)
        run_in = 7 * max(weeks, 0)
        sim_start = f"gw{gd // 7 - run_in // 7}"
        sim_horizon: int | str = horizon_days
        total = study_days + run_in
    elif pop.pregnancy:
        run_in = min(want, pp)
        sim_start = f"pp{pp - run_in}"
        sim_horizon = horizon_days
        total = study_days + run_in
    else:
        run_in = want
        sim_start = study_start
        sim_horizon = horizon_days + run_in
        total = horizon_days + run_in
        if total > 20 * 365:
            raise fail("trial.horizon", "horizon plus run-in exceeds 20 years")

    # arms
    arm_ivs, arm_params, arm_course = [], [], []
    for i, arm in enumerate(spec.arms):
        where = f"arms[{i}:{arm.name}]"
        ivs = []
        for name in arm.interventions:
            try:
                ivs.append(get_intervention(name))
            except ValueError as exc:
                raise fail(f"{where}.interventions", exc) from None
        if len(set(arm.interventions)) != len(arm.interventions):
            raise fail(f"{where}.interventions", "an intervention is listed twice")
        try:
            extra = combined_params(ivs)
            Parameters({**pop.params, **extra})
        except ValueError as exc:
            raise fail(f"{where}.interventions", exc) from None
        try:
            course = parse_course_start(arm.start, pregnancy=pop.pregnancy,
                                        study_start=study_start)
        except ValueError as exc:
            raise fail(f"{where}.start", exc) from None
        day, from_birth = course
        if not from_birth and day >= study_days:
            raise fail(f"{where}.start", f"study day {day} is after the end of the study "
                       f"(last study day {study_days - 1})")
        if from_birth and pp >= 0 and day < pp:
            raise fail(f"{where}.start", f"postpartum day {day} is before the study start "
                       f"({study_start})")
        try:
            from ..interventions import build_schedule

            build_schedule([ivs], [course], np.zeros(1, dtype=int))
        except ValueError as exc:
            raise fail(f"{where}.interventions", exc) from None
        arm_ivs.append(tuple(ivs))
        arm_params.append(extra)
        arm_course.append(course)

    nodes = _nodes(spec, instruments)
    offered = pop.init.get("moud.offered")
    pop_offers = offered is not None and offered.kind == "fixed" and offered.a >= 0.5
    return Plan(population=pop, pregnancy=pop.pregnancy, study_start=study_start,
                sim_start=sim_start, run_in=run_in, horizon_days=horizon_days,
                sim_horizon=sim_horizon, total_days=total, study_days=study_days,
                study_start_pp=pp if pop.pregnancy and gd < 0 else -1,
                arm_interventions=tuple(arm_ivs), arm_params=tuple(arm_params),
                arm_course=tuple(arm_course), nodes=nodes, instruments=instruments,
                pop_offers_moud=pop_offers)


def _nodes(spec: TrialSpec, instruments: Mapping[str, Any]) -> tuple[str, ...]:
    from ..model.graph import NODE_BY_ID

    nodes = {"opioid_use", "moud"}
    for inst in instruments.values():
        nodes.update(r for r in inst.reads if r in NODE_BY_ID)
    nodes.update(spec.randomization.strata)
    for a in spec.analysis:
        if a.event == "overdose":
            nodes.add("overdose")
        elif a.event == "cps_report":
            nodes.add("cps_report")
    return tuple(sorted(nodes))


#: Instrument reads that are per-dyad outcomes of a pregnant population, not node series.
OUTCOME_READS = ("attachment_class", "wellbeing_physical", "wellbeing_psychological",
                 "wellbeing_cognitive", "wellbeing_social", "wellbeing_economic")


def _numeric(inst: Any) -> bool:
    from .instruments import CodedClassification

    return not isinstance(inst, CodedClassification)


# ------------------------------------------------------------------------------ checks
def _check(spec: TrialSpec) -> None:
    """Cross-field checks; raise ValueError('field: message')."""
    from ..model.graph import NODE_BY_ID
    from .instruments import EMAScale

    def err(field: str, msg: str) -> ValueError:
        return ValueError(f"{field}: {msg}")

    if not _NAME.fullmatch(spec.trial.name):
        raise err("trial.name", "use letters, digits, '_', '-', '.' or '+' only")
    names = [a.name for a in spec.arms]
    for i, a in enumerate(spec.arms):
        if a.name in names[:i]:
            raise err(f"arms[{i}].name", f"duplicate arm name {a.name!r}")
        if a.name == "":
            raise err(f"arms[{i}].name", "must not be empty")
    if spec.trial.n < len(spec.arms):
        raise err("trial.n", f"{spec.trial.n} dyads cannot fill {len(spec.arms)} arms")

    # randomisation
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

    plan = plan_trial(spec)  # raises TrialSpecError (a ValueError) naming the field
    last = plan.study_days - 1

    # assessments
    tps = [a.name for a in spec.assessments]
    assess_by_name = {a.name: a for a in spec.assessments}
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
            if not plan.pregnancy:
                raise err(f"{where}.postpartum_day", "needs a population with a pregnancy")
            if a.postpartum_day > plan.horizon_days:
                raise err(f"{where}.postpartum_day", f"postpartum day {a.postpartum_day} is "
                          f"after the horizon ({plan.horizon_days} days after birth)")
            if plan.study_start_pp > a.postpartum_day:
                raise err(f"{where}.postpartum_day", "is before the study start "
                          f"({plan.study_start})")
        for name in a.instruments:
            inst = plan.instruments[name]
            outs = [x for x in inst.reads if x in OUTCOME_READS]
            if outs and not plan.pregnancy:
                raise err(f"{where}.instruments", f"{name} reads {outs[0]}, which needs a "
                          "population with a pregnancy")
    if spec.baseline not in tps:  # pragma: no cover - baseline is always an assessment
        raise err("assessments", "no baseline")

    # EMA
    ema_instruments: dict[str, list[tuple[int, int]]] = {}
    for i, b in enumerate(spec.ema):
        where = f"ema[{i}]"
        if b.to_day < b.from_day:
            raise err(f"{where}.to_day", "must not be before from_day")
        if b.to_day > last:
            raise err(f"{where}.to_day", f"study day {b.to_day} is after the end of the "
                      f"study (last study day {last})")
        for name in b.instruments:
            if not isinstance(plan.instruments[name], EMAScale):
                raise err(f"{where}.instruments", f"{name} is not an EMA instrument (EMA "
                          "instruments: ema_craving, ema_stress, ema_positive_affect)")
            for lo, hi in ema_instruments.get(name, []):
                if b.from_day <= hi and lo <= b.to_day:
                    raise err(f"{where}.instruments", f"{name} has overlapping EMA periods")
            ema_instruments.setdefault(name, []).append((b.from_day, b.to_day))

    # analyses
    measured = {t: set(assess_by_name[t].instruments) for t in tps}
    anames = [a.name for a in spec.analysis]
    for i, a in enumerate(spec.analysis):
        where = f"analysis[{i}:{a.name}]"
        if a.name in anames[:i]:
            raise err(f"{where}.name", f"duplicate analysis name {a.name!r}")
        if a.name in RESERVED_NAMES:
            raise err(f"{where}.name", f"{a.name!r} is reserved")
        _check_analysis(spec, a, where, measured, ema_instruments, plan, err)


def _check_analysis(spec, a: Analysis, where: str, measured, ema_instruments, plan, err):
    names = spec.arm_names
    m = a.method
    # arms
    for role in ("treatment", "control"):
        arm = getattr(a, role)
        if arm is not None and arm not in names:
            raise err(f"{where}.{role}", f"unknown arm {arm!r}; arms: {', '.join(names)}")
    if m == "pre_post":
        if a.control is not None:
            raise err(f"{where}.control", "pre_post is a within-arm change: no control arm")
        if a.treatment is None and len(names) == 1:
            a.treatment = names[0]
    elif m == "proportion" and len(names) == 1:
        if a.control is not None:
            raise err(f"{where}.control", "a single-arm trial has no control arm")
        a.treatment = a.treatment or names[0]
    elif not (m == "proportion" and a.treatment is not None and a.control is None):
        if a.treatment is None and a.control is None and len(names) == 2:
            a.treatment, a.control = names[0], names[1]
        if a.treatment is None or a.control is None:
            missing = "treatment" if a.treatment is None else "control"
            raise err(f"{where}.{missing}", "required (the trial does not have exactly two "
                      "arms)" if a.treatment is None and a.control is None else "required")
        if a.treatment == a.control:
            raise err(f"{where}.control", "must differ from treatment")
    # effect
    allowed = EFFECTS[m]
    if a.effect is None:
        a.effect = allowed[0]
        if m == "proportion" and a.control is None:
            a.effect = "share"
    elif a.effect not in allowed:
        raise err(f"{where}.effect", f"{a.effect!r} is not an effect of method {m!r}; "
                  f"choose from {', '.join(allowed)}")
    if m == "proportion" and a.effect == "difference" and a.control is None:
        raise err(f"{where}.control", "required for effect = 'difference'")
    if a.direction is not None and a.effect == "share":
        raise err(f"{where}.direction", "a single arm's share has no test, so no direction")

    # event / instrument
    if m == "cox":
        if a.event is None:
            raise err(f"{where}.event", f"required for cox: one of {', '.join(EVENTS)}")
        for f in ("instrument", "timepoint", "cutoff", "category", "mediator"):
            if getattr(a, f) not in (None, False):
                raise err(f"{where}.{f}", "not used by cox (give event)")
        return
    if a.event is not None:
        raise err(f"{where}.event", "only for method = 'cox'")
    if a.instrument is None:
        raise err(f"{where}.instrument", "required")
    if a.instrument not in plan.instruments:
        from .instruments import INSTRUMENTS

        if a.instrument not in INSTRUMENTS:
            raise err(f"{where}.instrument", f"unknown instrument {a.instrument!r}")
        raise err(f"{where}.instrument", f"{a.instrument} is not measured in this trial")
    inst = plan.instruments[a.instrument]

    if m == "ema":
        if a.instrument not in ema_instruments:
            raise err(f"{where}.instrument", f"{a.instrument} has no [[ema]] period")
        if a.timepoint is not None:
            raise err(f"{where}.timepoint", "not used by ema (the EMA period is used)")
        return

    # timepoints
    tps = list(measured)
    if a.timepoint is not None and a.timepoint not in measured:
        raise err(f"{where}.timepoint", f"unknown timepoint {a.timepoint!r}; assessments: "
                  f"{', '.join(tps)}")
    needs_tp = m in ("binary", "cohens_d", "change_d", "pre_post", "mediation", "proportion")
    if needs_tp and a.timepoint is None:
        raise err(f"{where}.timepoint", "required")
    if a.timepoint is not None and a.instrument not in measured[a.timepoint]:
        raise err(f"{where}.instrument", f"{a.instrument} is not measured at "
                  f"{a.timepoint!r}")
    base = spec.baseline
    if m in ("lmm", "change_d", "pre_post"):
        if a.instrument not in measured[base]:
            raise err(f"{where}.instrument", f"{a.instrument} is not measured at the "
                      f"baseline ({base!r})")
        if a.timepoint == base:
            raise err(f"{where}.timepoint", "must be after the baseline")
        if m == "lmm" and sum(a.instrument in v for v in measured.values()) < 2:
            raise err(f"{where}.instrument", f"{a.instrument} is measured at one "
                      "timepoint only; lmm needs repeated measures")

    # scoring a binary / proportion outcome
    if m in ("binary", "proportion"):
        if a.category is not None:
            if _numeric(inst):
                raise err(f"{where}.category", f"only for a coded instrument (ssp), not "
                          f"{a.instrument}")
            if a.category not in inst.categories:
                raise err(f"{where}.category", f"unknown class {a.category!r}; one of "
                          f"{', '.join(inst.categories)}")
            if a.cutoff is not None:
                raise err(f"{where}.cutoff", "give cutoff or category, not both")
        elif a.cutoff is None:
            raise err(f"{where}.cutoff", "required (or category, for ssp)")
        elif not _numeric(inst):
            raise err(f"{where}.category", f"required for {a.instrument} (a coded class)")
    else:
        if a.cutoff is not None:
            raise err(f"{where}.cutoff", f"not used by {m}")
        if a.category is not None:
            raise err(f"{where}.category", f"not used by {m}")
        if not _numeric(inst):
            raise err(f"{where}.instrument", f"{a.instrument} is a coded class; use "
                      "binary or proportion with category")

    if m == "mediation":
        if a.mediator is None:
            raise err(f"{where}.mediator", "required for mediation")
        if a.mediator_timepoint is not None:
            if a.mediator_timepoint not in measured:
                raise err(f"{where}.mediator_timepoint", f"unknown timepoint "
                          f"{a.mediator_timepoint!r}; assessments: {', '.join(tps)}")
            if a.mediator not in measured[a.mediator_timepoint]:
                raise err(f"{where}.mediator", f"{a.mediator} is not measured at "
                          f"{a.mediator_timepoint!r}")
        elif a.mediator not in ema_instruments:
            raise err(f"{where}.mediator", f"{a.mediator} has no [[ema]] period (or give "
                      "mediator_timepoint)")
        if not _numeric(plan.instruments[a.mediator]):
            raise err(f"{where}.mediator", "must be a numeric instrument")
    elif a.mediator is not None or a.mediator_timepoint is not None:
        raise err(f"{where}.mediator", "only for method = 'mediation'")


# ------------------------------------------------------------------------------ randomise
def stratum_codes(values: np.ndarray) -> np.ndarray:
    """Stratum index per dyad from baseline values (n, k): each column split at its sample
    median (above the median = 1), combined as a binary number."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    med = np.nanmedian(v, axis=0)
    high = (v > med).astype(np.int64)
    return (high * (2 ** np.arange(v.shape[1]))).sum(axis=1)


def _blocks(n: int, allocation: np.ndarray, block_size: int,
            rng: np.random.Generator) -> np.ndarray:
    per = allocation * (block_size // int(allocation.sum()))
    block = np.repeat(np.arange(len(allocation)), per)
    out = [rng.permutation(block) for _ in range(math.ceil(n / block_size))]
    return np.concatenate(out)[:n] if out else np.zeros(0, dtype=np.int64)


def randomize(n: int, allocation: Sequence[int], method: str, *, rng: np.random.Generator,
              block_size: int | None = None, strata: np.ndarray | None = None) -> np.ndarray:
    """Arm index (0-based, in enrolment = dyad-id order) for ``n`` dyads.

    ``simple``: independent draws with probabilities proportional to ``allocation``.
    ``permuted_block``: consecutive blocks of ``block_size`` (default twice the allocation
    total) each holding every arm in the allocation ratio, in random order (the last block
    may be cut short). ``stratified``: permuted blocks within each stratum (``strata``:
    one integer code per dyad, see :func:`stratum_codes`), strata taken in ascending order.
    """
    alloc = np.asarray(allocation, dtype=np.int64)
    if alloc.ndim != 1 or len(alloc) < 1 or (alloc <= 0).any():
        raise ValueError("allocation must be positive integers, one per arm")
    size = int(block_size) if block_size is not None else 2 * int(alloc.sum())
    if method != "simple" and size % int(alloc.sum()):
        raise ValueError(f"block_size {size} is not a multiple of the allocation total")
    if method == "simple":
        return rng.choice(len(alloc), size=n, p=alloc / alloc.sum()).astype(np.int64)
    if method == "permuted_block":
        return _blocks(n, alloc, size, rng).astype(np.int64)
    if method == "stratified":
        if strata is None or len(strata) != n:
            raise ValueError("stratified randomisation needs one stratum code per dyad")
        codes = np.asarray(strata)
        out = np.empty(n, dtype=np.int64)
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            out[rows] = _blocks(len(rows), alloc, size, rng)
        return out
    raise ValueError(f"unknown randomisation method {method!r}")
