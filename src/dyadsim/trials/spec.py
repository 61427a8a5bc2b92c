"""In-silico trial specifications: the TOML schema (pydantic models, nothing else).

A trial is a population, arms, a randomisation, an assessment schedule (instruments at
study days or postpartum days), optional EMA periods, optional loss to follow-up and a list
of analyses. :func:`load_spec` reads and validates one (pydantic v2 models, unknown keys
refused, frozen once built); every problem raises :class:`TrialSpecError` (a
``ValueError``) with one line that names the field, e.g. ``arms[1].interventions: unknown
intervention 'mor'``. The cross-field checks are in :mod:`.validation` (they never build a
plan nor change the spec), the resolution into what a run needs in :mod:`.plan`, the
allocation in :mod:`.randomisation`, and each analysis method is one entry of
:mod:`.methods`.

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
  estimate (see :data:`dyadsim.trials.methods.METHODS`); ``n_boot`` sets the mediation
  bootstrap (default 1000); ``imputations`` the number of multiple imputations (default 20);
  ``[trial] alpha`` (default 0.05) is the significance level of every analysis.
* ``direction`` (``"increase"`` or ``"decrease"``) is the pre-specified direction of the
  effect (treatment vs control, or post vs pre): the estimate above or below its null (1
  for ratios, 0 otherwise). Power counts only rejections in that direction, so it is
  required by power curves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Analysis",
    "Arm",
    "Assessment",
    "Dropout",
    "EMABlock",
    "TrialSpec",
    "TrialSpecError",
    "load_spec",
    "parse_spec",
]

MAX_SEED = 2**31 - 1
EVENTS = ("first_use", "moud_discontinuation", "overdose", "cps_report")


class TrialSpecError(ValueError):
    """A trial specification is invalid: ``problems`` holds every problem found, one line
    each naming its field; the message joins them with '; '."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


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
    """One pre-specified analysis; ``method`` names an entry of
    :data:`dyadsim.trials.methods.METHODS` (which also says which fields it uses)."""

    name: str = Field(min_length=1)
    method: str
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
    imputations: int = Field(default=20, ge=2, le=500)


def _fill_defaults(data: Any) -> Any:
    """The implicit choices of the format, filled into the raw input before the models are
    built (so a built spec is never changed): ``treatment``/``control`` of a two-arm trial,
    the single arm of ``pre_post``/``proportion``, and each method's default ``effect``."""
    from .methods import METHODS

    if not isinstance(data, Mapping):
        return data
    arms = data.get("arms")
    names = ([a.get("name") for a in arms if isinstance(a, Mapping)]
             if isinstance(arms, list) else [])
    analyses = data.get("analysis")
    if not isinstance(analyses, list):
        return data
    filled = []
    for a in analyses:
        if not isinstance(a, Mapping) or a.get("method") not in METHODS:
            filled.append(a)
            continue
        a = dict(a)
        m = METHODS[a["method"]]
        single = m.within_arm or (m.single_arm_effect is not None and len(names) == 1)
        if single:
            if a.get("treatment") is None and len(names) == 1:
                a["treatment"] = names[0]
        elif not (m.single_arm_effect and a.get("treatment") is not None
                  and a.get("control") is None):
            if a.get("treatment") is None and a.get("control") is None and len(names) == 2:
                a["treatment"], a["control"] = names[0], names[1]
        if a.get("effect") is None:
            a["effect"] = (m.single_arm_effect if m.single_arm_effect is not None
                           and a.get("control") is None else m.effects[0])
        filled.append(a)
    return {**data, "analysis": filled}


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

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        return _fill_defaults(data)

    @model_validator(mode="after")
    def _cross_check(self) -> TrialSpec:
        from .validation import validate

        validate(self)
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


def error_text(err: Mapping[str, Any]) -> str:
    """The words of one pydantic error, as the one-line errors of specs and targets say
    them (unknown key, required field missing, or the validator's own message)."""
    kind, msg = err.get("type", ""), str(err.get("msg", "invalid"))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field missing"
    return msg.removeprefix("Value error, ")


def _message(err: Mapping[str, Any], data: Any) -> str:
    parts = [p for p in err["loc"]
             if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p))]
    loc = _loc(parts, data)
    kind, msg = err.get("type", ""), error_text(err)
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
        problems: list[str] = []
        seen: set[tuple] = set()
        for e in exc.errors():
            # a union type gives one error per member: report the first, most specific one
            key = tuple(p for p in e["loc"]
                        if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p)))
            if key in seen:
                continue
            seen.add(key)
            # the cross-field checks report every problem they find, one a line
            problems += [" ".join(line.split()) for line in _message(e, data).splitlines()
                         if line.strip()]
        raise TrialSpecError(problems) from None


def load_spec(source: str | Path | Mapping[str, Any] | TrialSpec) -> TrialSpec:
    """Read and validate a trial spec from a TOML file (or a dict / a TrialSpec)."""
    if isinstance(source, TrialSpec):
        return source
    if isinstance(source, Mapping):
        return parse_spec(source)
    from .._io import InputFileError, read_toml

    try:
        data = read_toml(Path(source), "trial spec")
    except InputFileError as exc:
        raise TrialSpecError(str(exc)) from None
    return parse_spec(data)
