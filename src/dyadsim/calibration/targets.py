"""Calibration targets: published results written down so that dyadsim can replicate them.

A targets file is TOML with one ``[[target]]`` table per published number (the format is
documented in ``docs/targets.md``). Each target says how its study was run (``design``: a
trial-spec path relative to the targets file or an inline trial spec; or ``cohort``: a
population preset with an enrolment point for a descriptive result), what was measured
(``[target.measure]``), which ``statistic`` was reported and what was observed
(``[target.observed]``: a value with its N, SE, CI or p, an interval, or a distribution).
:func:`load_targets` validates a file; every problem raises :class:`TargetError` with one
line naming the target id and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..trials.spec import error_text

__all__ = [
    "POINT_STATISTICS",
    "RATIO_STATISTICS",
    "STATISTICS",
    "Cohort",
    "Measure",
    "Observed",
    "Target",
    "TargetError",
    "TargetSet",
    "load_targets",
    "merge_targets",
    "observed_se",
    "plausibility_targets_path",
    "published_targets_path",
    "se_from_ci",
]

#: Every statistic a target may report (see :mod:`dyadsim.calibration.statistics`).
Statistic = Literal["proportion", "mean", "sd", "relative_reduction", "risk_ratio",
                    "odds_ratio", "hazard_ratio", "cohens_d", "smd", "ratio_of_means",
                    "correlation", "survival_points", "distribution",
                    "standardized_mean_change", "relative_change", "rate"]
STATISTICS: tuple[str, ...] = get_args(Statistic)
#: Statistics a target may pool over several designs (``pool_with``).
POOLED_STATISTICS = ("cohens_d", "smd")
#: Statistics of a change from ``measure.change_from`` that also read the baseline itself.
CHANGE_STATISTICS = ("standardized_mean_change", "relative_change")
#: Statistics reported as one number (the others have one number per component).
POINT_STATISTICS = tuple(s for s in STATISTICS if s not in ("survival_points", "distribution"))
#: Statistics whose sampling distribution is symmetric on the log scale.
RATIO_STATISTICS = ("risk_ratio", "odds_ratio", "hazard_ratio", "ratio_of_means")
#: Statistics that compare two arms (``measure.contrast``).
CONTRAST_STATISTICS = ("relative_reduction", "risk_ratio", "odds_ratio", "hazard_ratio",
                       "cohens_d", "smd", "ratio_of_means", "standardized_mean_change")
Z95 = 1.959963984540054


class TargetError(ValueError):
    """A target is malformed or cannot be replicated (the message names target and field)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Read(_Model):
    """One per-dyad quantity of the replicated study."""

    instrument: str | None = None
    outcome: str | None = None
    node: str | None = None
    timepoint: str | None = None
    change_from: str | None = None
    window: list[str] | None = Field(default=None, min_length=2, max_length=2)
    cutoff: float | None = None
    below: bool = False
    category: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Read:
        given = [k for k in ("instrument", "outcome", "node") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("instrument/outcome/node: give exactly one of instrument, "
                             "outcome and node")
        if self.cutoff is not None and self.category is not None:
            raise ValueError("cutoff/category: give at most one of cutoff and category")
        return self


class Measure(Read):
    """What was measured: a :class:`Read`, the arms compared (``contrast`` = [treatment,
    control]) or the one arm described (``arm``), and for a correlation its partner."""

    contrast: list[str] | None = Field(default=None, min_length=2, max_length=2)
    arm: str | None = None
    with_: Read | None = Field(default=None, alias="with")
    #: A ``rate``'s unit: events per this many person-days.
    per: float = Field(default=100_000.0, gt=0)


class Observed(_Model):
    """What the study reported: exactly one of ``value``, ``interval``, ``distribution``;
    the uncertainty of a value as ``se``, ``ci95``, ``p_value`` or ``n`` (with ``sd`` for
    a mean)."""

    value: float | None = None
    interval: list[float] | None = Field(default=None, min_length=2, max_length=2)
    distribution: dict[str, float | list[float]] | None = None
    n: int | None = Field(default=None, ge=1)
    sd: float | None = Field(default=None, gt=0)
    se: float | None = Field(default=None, gt=0)
    ci95: list[float] | None = Field(default=None, min_length=2, max_length=2)
    p_value: float | None = Field(default=None, gt=0, lt=1)
    derived_from: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Observed:
        given = [k for k in ("value", "interval", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("value/interval/distribution: give exactly one of value, interval "
                             "and distribution")
        if self.interval is not None and not self.interval[0] < self.interval[1]:
            raise ValueError("interval: must be [low, high] with low < high")
        if self.ci95 is not None and not self.ci95[0] < self.ci95[1]:
            raise ValueError("ci95: must be [low, high] with low < high")
        for key, v in (self.distribution or {}).items():
            if isinstance(v, list) and (len(v) != 2 or not v[0] < v[1]):
                raise ValueError(f"distribution.{key}: an interval must be [low, high], "
                                 "low < high")
        return self


class Cohort(_Model):
    """A descriptive study: ``n`` dyads of a population preset enrolled at ``start``
    (``gw20``, ``pp0``, ``day0``) and followed for ``horizon``."""

    preset: str
    start: str | None = None
    n: int = Field(ge=1, le=10**6)
    horizon: int | str
    init: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, float] = Field(default_factory=dict)


class Target(_Model):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    source: str = Field(min_length=1)
    statistic: Statistic
    design: str | dict[str, Any] | None = None
    #: More designs pooled with ``design`` into one fixed-effect (inverse-variance)
    #: meta-analytic estimate of a standardised effect (cohens_d or smd).
    pool_with: list[str | dict[str, Any]] | None = Field(default=None, min_length=1)
    cohort: Cohort | None = None
    #: A second population the statistic compares the cohort with (arms "cohort" and
    #: "reference" of ``measure.contrast``).
    reference: Cohort | None = None
    measure: Measure | None = None
    observed: Observed
    status: str = ""
    note: str = ""
    skip: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _design_or_cohort(self) -> Target:
        if self.skip is not None:
            return self
        if (self.design is None) == (self.cohort is None):
            raise ValueError("design/cohort: give exactly one of design (a trial spec path or "
                             "an inline [target.design]) and cohort, or say why the target "
                             "cannot be replicated in skip")
        if self.measure is None:
            raise ValueError("measure: required field missing")
        if self.pool_with is not None and self.design is None:
            raise ValueError("pool_with: designs are pooled with a design, not a cohort")
        if self.reference is not None and self.cohort is None:
            raise ValueError("reference: a reference population is compared with a cohort, "
                             "not with a design")
        return self


@dataclass(frozen=True)
class TargetSet:
    """Validated targets of one file: ``targets`` in file order, ``designs`` the parsed trial
    spec of each design target (by id), ``path`` and ``hash`` (sha256 of the canonical
    content, designs resolved)."""

    targets: tuple[Target, ...]
    designs: Mapping[str, Any]
    path: Path | None
    hash: str
    #: The further designs (``pool_with``) of each pooled target, by id.
    pooled: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def by_id(self, target_id: str) -> Target:
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def published_targets_path() -> Path:
    """The shipped targets file (the published results, converted)."""
    return Path(str(resources.files("dyadsim") / "data" / "targets" / "published.toml"))


# ------------------------------------------------------------------------------ uncertainty
def se_from_ci(low: float, high: float, statistic: str, *, z: float = Z95) -> float:
    """The standard error implied by a symmetric (95% by default) confidence interval:
    ``(high - low) / (2 z)``, on the log scale for a ratio statistic and mapped back to the
    natural scale at the interval's geometric centre (delta method; Altman & Bland 2011,
    BMJ 343:d2090)."""
    if not low < high:
        raise ValueError("a confidence interval needs low < high")
    if statistic in RATIO_STATISTICS:
        if low <= 0:
            raise ValueError("a ratio's confidence interval must be positive")
        se_log = (math.log(high) - math.log(low)) / (2 * z)
        return math.sqrt(low * high) * se_log
    return (high - low) / (2 * z)


def _se_from_p(value: float, p: float, statistic: str) -> float | None:
    """SE from a two-sided p of a Wald test of no effect (Altman & Bland 2011)."""
    from scipy import stats

    z = float(stats.norm.isf(p / 2))
    if statistic in RATIO_STATISTICS:
        return None if value <= 0 or value == 1 else value * abs(math.log(value)) / z
    if statistic == "relative_reduction":
        ratio = 1.0 - value
        return None if ratio <= 0 or ratio == 1 else ratio * abs(math.log(ratio)) / z
    return abs(value) / z if value != 0 else None


def _se_from_n(t: Target, n: int, arms: tuple[int, int] | None) -> float | None:
    v, stat = t.observed.value, t.statistic
    if stat == "proportion" and 0 <= v <= 1:
        return math.sqrt(max(v * (1 - v), 1e-12) / n)
    if stat == "mean" and t.observed.sd is not None:
        return t.observed.sd / math.sqrt(n)
    if stat == "sd" and n > 1:
        return v / math.sqrt(2 * (n - 1))
    if stat in ("cohens_d", "smd"):
        n1, n2 = arms if arms else (n / 2, n / 2)
        return math.sqrt((n1 + n2) / (n1 * n2) + v * v / (2 * (n1 + n2)))
    if stat == "correlation" and n > 3 and abs(v) < 1:
        return (1 - v * v) / math.sqrt(n - 1)
    return None


def observed_se(t: Target, design_n: int | None = None,
                arms_n: tuple[int, int] | None = None) -> tuple[float | None, str]:
    """The observed value's standard error and how it was obtained: given (``se``), from
    the 95% CI, from the p-value, from N (``observed.n`` or the design's N), or None."""
    o = t.observed
    if o.value is None:
        return None, "none"
    if o.se is not None:
        return o.se, "given"
    if o.ci95 is not None:
        return se_from_ci(o.ci95[0], o.ci95[1], t.statistic), "ci95"
    if o.p_value is not None:
        se = _se_from_p(o.value, o.p_value, t.statistic)
        if se is not None:
            return se, "p_value"
    n = o.n or design_n
    if n:
        se = _se_from_n(t, n, arms_n if o.n is None else None)
        if se is not None:
            return se, "n"
    return None, "none"


# ------------------------------------------------------------------------------ loading
def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "dict[str,any]", "list[float]", "float", "int"):
            continue
        else:
            out += ("." if out else "") + ("with" if part == "with_" else str(part))
    return out


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = _where(tuple(err["loc"]))
    msg = error_text(err)
    if err.get("type") == "value_error" and ": " in msg and loc:
        field, rest = msg.split(": ", 1)
        return f"{loc}.{field}: {rest}"
    return f"{loc}: {msg}" if loc else msg


def _fail(tid: str, field: str, msg: str) -> TargetError:
    return TargetError(" ".join(f"target {tid!r}: {field}: {msg}".split()))


def _resolve_design(t: Target, base: Path | None, allow_outside: bool = False,
                    design: str | dict[str, Any] | None = None, where: str = "design"):
    """The trial spec of a design target (analyses dropped: the calibration computes the
    reported statistic from the replicated data itself). A design path must lie inside the
    targets file's folder (no absolute path, no ``..`` out of it, no link leading out)
    unless ``allow_outside``."""
    from ..trials.design import TrialSpecError, parse_spec

    design = t.design if design is None else design
    if isinstance(design, str):
        path = Path(design)
        if not path.is_absolute():
            if base is None:
                raise _fail(t.id, where, "a design path needs a targets file to be "
                            "relative to")
            path = base / path
        if not allow_outside and (base is None or not path.resolve().is_relative_to(
                base.resolve())):
            raise _fail(t.id, where, f"{design!r} lies outside the targets file's "
                        f"folder {base}; move the spec there or allow it explicitly "
                        "(--allow-outside-paths)")
        if not path.is_file():
            raise _fail(t.id, where, f"trial spec file not found: {path}")
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _fail(t.id, where, f"malformed TOML in {path}: {exc}") from None
    else:
        data = dict(design)
    data.pop("analysis", None)  # the reported statistic is computed here, not by the trial
    try:
        return parse_spec(data)
    except TrialSpecError as exc:
        raise _fail(t.id, where, str(exc)) from None


def _check_read(t: Target, r: Read, where: str, spec, cohort: Cohort | None) -> None:
    from ..model.graph import NODE_BY_ID
    from ..trials.instruments import INSTRUMENTS
    from .statistics import OUTCOMES

    if r.instrument is not None:
        if r.instrument not in INSTRUMENTS:
            raise _fail(t.id, f"{where}.instrument", f"unknown instrument {r.instrument!r}")
        if r.timepoint is None:
            raise _fail(t.id, f"{where}.timepoint", "an instrument needs a timepoint")
        if spec is not None:
            names = {a.name: set(a.instruments) for a in spec.assessments}
            ema = {i for b in spec.ema for i in b.instruments}
            for tp in (r.timepoint, r.change_from):
                if tp is None:
                    continue
                if tp == "ema":
                    if r.instrument not in ema:
                        raise _fail(t.id, f"{where}.timepoint", f"the design has no EMA of "
                                    f"{r.instrument!r}")
                elif tp not in names:
                    raise _fail(t.id, f"{where}.timepoint", f"the design has no assessment "
                                f"{tp!r}; it has {', '.join(names)}")
                elif r.instrument not in names[tp]:
                    raise _fail(t.id, f"{where}.timepoint", f"assessment {tp!r} does not "
                                f"measure {r.instrument!r}")
        else:
            from ..timepoints import cohort_day

            for key, tp in (("timepoint", r.timepoint), ("change_from", r.change_from)):
                if tp is not None and cohort_day(tp) is None:
                    raise _fail(t.id, f"{where}.{key}", f"{tp!r} must be 'enrolment', 'dayN' "
                                "or 'ppN' / 'ppNw' in a cohort")
    if r.outcome is not None and r.outcome not in OUTCOMES:
        raise _fail(t.id, f"{where}.outcome", f"unknown outcome {r.outcome!r}; known: "
                    f"{', '.join(OUTCOMES)}")
    if r.node is not None:
        if cohort is None:
            raise _fail(t.id, f"{where}.node", "a latent node is read only in a cohort; a "
                        "trial reads instruments or outcomes")
        if r.node not in NODE_BY_ID:
            raise _fail(t.id, f"{where}.node", f"unknown node {r.node!r}")
        from ..timepoints import cohort_day

        if r.window is not None:
            if NODE_BY_ID[r.node].dynamics != "event":
                raise _fail(t.id, f"{where}.window", f"a window counts the events of an event "
                            f"node; {r.node!r} is not one")
            if r.timepoint is not None:
                raise _fail(t.id, f"{where}.timepoint", "give a timepoint or a window, not both")
            for tp in r.window:
                if cohort_day(tp) is None:
                    raise _fail(t.id, f"{where}.window", f"{tp!r} must be 'enrolment', 'dayN' "
                                "or 'ppN' / 'ppNw'")
        elif r.timepoint is None:
            raise _fail(t.id, f"{where}.timepoint", "a node needs a timepoint (or, for a rate, "
                        "a window = [from, to])")
        elif cohort_day(r.timepoint) is None:
            raise _fail(t.id, f"{where}.timepoint", f"{r.timepoint!r} must be 'enrolment', "
                        "'dayN' or 'ppN' / 'ppNw'")
    if r.change_from is not None and r.instrument is None:
        raise _fail(t.id, f"{where}.change_from", "a change score needs an instrument")


def _check_target(t: Target, spec) -> None:
    """Cross-field checks: can this target be replicated as written?"""
    from ..model.populations import PopulationError, get_population

    m, o, stat = t.measure, t.observed, t.statistic
    from ..timepoints import ScenarioError, parse_horizon, parse_start

    for where, c in (("cohort", t.cohort), ("reference", t.reference)):
        if c is None:
            continue
        try:
            pop = get_population(c.preset)
        except PopulationError as exc:
            raise _fail(t.id, f"{where}.preset", str(exc)) from None
        try:
            parse_start(c.start, pop.pregnancy, pop.default_start)
            parse_horizon(c.horizon)
        except ScenarioError as exc:
            raise _fail(t.id, where, str(exc)) from None
    arms = spec.arm_names if spec is not None else (
        ["cohort", "reference"] if t.reference is not None else ["cohort"])
    if t.reference is not None:
        if stat not in CONTRAST_STATISTICS or m.contrast is None \
                or sorted(m.contrast) != ["cohort", "reference"]:
            raise _fail(t.id, "measure.contrast", "a reference population is compared with "
                        "the cohort: a two-arm statistic with contrast = ['cohort', "
                        "'reference'] (or the reverse)")
        if any(r.instrument is not None for r in (m, m.with_) if r is not None):
            raise _fail(t.id, "reference", "a population contrast reads outcomes or nodes; "
                        "instruments are read in one population at a time")
    if m.contrast is not None:
        for a in m.contrast:
            if a not in arms:
                raise _fail(t.id, "measure.contrast", f"unknown arm {a!r}; arms: "
                            f"{', '.join(arms)}")
    if m.arm is not None and m.arm not in arms:
        raise _fail(t.id, "measure.arm", f"unknown arm {m.arm!r}; arms: {', '.join(arms)}")
    if stat in CONTRAST_STATISTICS and m.contrast is None:
        raise _fail(t.id, "measure.contrast", f"{stat} compares two arms: give contrast = "
                    "[treatment, control]")
    if stat not in CONTRAST_STATISTICS and m.contrast is not None:
        raise _fail(t.id, "measure.contrast", f"{stat} describes one group; use arm instead")
    _check_read(t, m, "measure", spec, t.cohort)
    if (stat == "rate") != (m.window is not None) or (stat == "rate" and m.node is None):
        raise _fail(t.id, "measure.window", "a rate counts an event node's events per "
                    "person-time in a window: give node and window = [from, to] (cohort time "
                    "points), and a window only for a rate")
    if stat in CHANGE_STATISTICS and (m.change_from is None or m.cutoff is not None
                                      or m.category is not None):
        raise _fail(t.id, "measure.change_from", f"{stat} reads a change of an instrument "
                    "score: give change_from (and no cutoff or category)")
    if stat == "correlation":
        if m.with_ is None:
            raise _fail(t.id, "measure.with", "a correlation needs a partner measure "
                        "[target.measure.with]")
        _check_read(t, m.with_, "measure.with", spec, t.cohort)
    elif m.with_ is not None:
        raise _fail(t.id, "measure.with", f"only a correlation takes a partner measure, not "
                    f"{stat}")
    if stat in ("survival_points", "distribution"):
        if o.distribution is None:
            raise _fail(t.id, "observed.distribution", f"{stat} is observed as a "
                        "distribution table")
        if stat == "survival_points":
            if m.outcome is None or not m.outcome.endswith("_day"):
                raise _fail(t.id, "measure.outcome", "survival points need an event-day "
                            "outcome (e.g. first_use_day)")
            bad = [k for k in o.distribution if not k.isdigit()]
            if bad:
                raise _fail(t.id, f"observed.distribution.{bad[0]}", "survival points are "
                            "keyed by study day (e.g. \"7\" = 0.59)")
    elif o.distribution is not None:
        raise _fail(t.id, "observed.distribution", f"{stat} is one number: give value or "
                    "interval")
    binary = m.cutoff is not None or m.category is not None or m.outcome in (
        "nows", "moud_at_12m")
    if stat in ("proportion", "risk_ratio", "odds_ratio") and not binary:
        raise _fail(t.id, "measure", f"{stat} needs a binary measure: a cutoff, a category "
                    "or a 0/1 outcome")


#: Measure keys added after targets were first hashed, left out of the hash while they hold
#: their default, so that a targets file that does not use them keeps its hash (and the
#: shipped posterior stays matched to the shipped targets).
_LATER_KEYS = {"window": None, "per": 100_000.0}
#: Target keys likewise.
_LATER_TARGET_KEYS = {"reference": None, "pool_with": None}


def _canonical(targets: list[Target], designs: Mapping[str, Any],
               pooled: Mapping[str, tuple[Any, ...]] | None = None) -> str:
    def without_later_defaults(read: Any) -> Any:
        if not isinstance(read, dict):
            return read
        return {k: without_later_defaults(v) if k == "with" else v for k, v in read.items()
                if not (k in _LATER_KEYS and v == _LATER_KEYS[k])}

    body = []
    for t in targets:
        dumped = {k: v for k, v in t.model_dump(mode="json", by_alias=True).items()
                  if not (k in _LATER_TARGET_KEYS and v == _LATER_TARGET_KEYS[k])}
        dumped["measure"] = without_later_defaults(dumped["measure"])
        if t.id in (pooled or {}):
            dumped["pool_with"] = [spec.to_dict() for spec in (pooled or {})[t.id]]
        body.append({**dumped, "design": designs[t.id].to_dict() if t.id in designs else None})
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def parse_targets(data: Mapping[str, Any], base: Path | None = None,
                  path: Path | None = None, allow_outside: bool = False) -> TargetSet:
    """Validate targets given as a dict (as read from TOML); ``base`` resolves design paths
    (which must lie inside it unless ``allow_outside``)."""
    if not isinstance(data, Mapping):
        raise TargetError("a targets file must be a table")
    unknown = set(data) - {"target"}
    if unknown:
        raise TargetError(f"unknown top-level key {sorted(unknown)[0]!r}: a targets file holds "
                          "[[target]] tables")
    raw = data.get("target")
    if not isinstance(raw, list) or not raw:
        raise TargetError("a targets file needs at least one [[target]] table")
    targets: list[Target] = []
    designs: dict[str, Any] = {}
    pooled: dict[str, tuple[Any, ...]] = {}
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        tid = entry.get("id") if isinstance(entry, Mapping) else None
        label = tid if isinstance(tid, str) and tid else f"#{i + 1}"
        try:
            t = Target.model_validate(entry)
        except ValidationError as exc:
            raise TargetError(" ".join(f"target {label!r}: {_validation_message(exc)}"
                                       .split())) from None
        if t.id in seen:
            raise _fail(t.id, "id", "duplicate target id")
        seen.add(t.id)
        if t.skip is None:
            spec = (_resolve_design(t, base, allow_outside) if t.design is not None
                    else None)
            _check_target(t, spec)
            if spec is not None:
                designs[t.id] = spec
            if t.pool_with is not None:
                if t.statistic not in POOLED_STATISTICS:
                    raise _fail(t.id, "pool_with", f"designs are pooled for "
                                f"{' or '.join(POOLED_STATISTICS)} (inverse-variance), not "
                                f"{t.statistic}")
                if t.observed.se is None and t.observed.ci95 is None:
                    raise _fail(t.id, "observed", "a pooled estimate gives its se or ci95")
                more = tuple(_resolve_design(t, base, allow_outside, d, f"pool_with[{i}]")
                             for i, d in enumerate(t.pool_with))
                for other in more:
                    _check_target(t, other)
                pooled[t.id] = more
        targets.append(t)
    digest = hashlib.sha256(_canonical(targets, designs, pooled).encode()).hexdigest()
    return TargetSet(tuple(targets), designs, path, digest, pooled)


def plausibility_targets_path() -> Path:
    """The shipped plausibility constraints: check-table rows as targets (issue 19 item 3)."""
    return published_targets_path().with_name("plausibility.toml")


def merge_targets(*sets: TargetSet) -> TargetSet:
    """One target set from several (ids unique across them); its hash covers every part."""
    ids = [t.id for ts in sets for t in ts]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _fail(dup[0], "id", "duplicate target id across the merged target files")
    digest = hashlib.sha256(json.dumps([ts.hash for ts in sets]).encode()).hexdigest()
    return TargetSet(tuple(t for ts in sets for t in ts),
                     {k: v for ts in sets for k, v in ts.designs.items()},
                     sets[0].path if sets else None, digest,
                     {k: v for ts in sets for k, v in ts.pooled.items()})


def load_targets(path: str | Path | None = None, allow_outside: bool = False,
                 plausibility: bool = False) -> TargetSet:
    """Read and validate a targets file (default: the shipped published targets); design
    paths outside its folder only with ``allow_outside``; with ``plausibility``, the shipped
    plausibility constraints beside them (:func:`plausibility_targets_path`)."""
    if plausibility:
        return merge_targets(load_targets(path, allow_outside),
                             load_targets(plausibility_targets_path()))
    p = Path(path) if path is not None else published_targets_path()
    if not p.is_file():
        raise TargetError(f"targets file not found: {p}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"malformed TOML in {p}: {exc}") from None
    except UnicodeDecodeError:
        raise TargetError(f"targets file {p} is not UTF-8 text") from None
    return parse_targets(data, base=p.resolve().parent, path=p, allow_outside=allow_outside)
