"""Measurement layer: how a trial observes the simulator's latent states.

Every instrument turns latent node values into what a cited study would have recorded: a
score on the instrument's own scale, with measurement error, floor and ceiling, rounding
and missing data. Facts (scales, reliabilities, means, cut-offs, compliance) come from
``shared/reference/instruments.md`` unless a ``source`` says otherwise; every number that
is not sourced is named in the instrument's ``guess`` text.

Inputs
------
Latent nodes are floats in [0, 1] (0 = absent/low, 1 = maximal) except ``opioid_use``,
``overdose`` and ``cps_report`` (daily 0/1 events), ``moud`` (0 off, (0, 1] dose coverage)
and ``attachment_class`` (one of :data:`ATTACHMENT_CLASSES` per dyad). For an instrument
with ``series=False`` the caller passes, for each name in ``reads``, the per-dyad mean of
that latent over the last ``window_days`` days, shape ``(n,)``. For ``series=True`` the
caller passes the daily series, shape ``(n, days)`` with ``days >= window_days``; the last
``window_days`` columns (the last column is the assessment day) are used. ``NaN`` inputs
give ``NaN`` observations.

Scores (:class:`ScaleScore`)
----------------------------
The reads are combined into a composite ``c`` in [0, 1]: a weighted mean of the reads,
with a read entering as ``1 - x`` when its weight is negative (a reversed read). The true
score is the straight line through two declared :class:`Anchor` points ``(c, score)``
(``link="log"``: the line is on the log scale). Where an anchor's score is published, the
anchor says so; the latent position at which it is placed is always a declaration of this
module (the simulator's latent scale has no published units) and is listed in ``guess``.
Because the map is linear, the mean observed score of a group is the map of its mean
latent (up to floor/ceiling effects), so a published group mean is reproduced by a group
whose mean composite equals the anchor's latent position.

Error model: classical test theory, ``observed = true + N(0, SEM)`` with
``SEM = sd_obs * sqrt(1 - reliability)``; ``sd_obs`` is the between-person SD of observed
scores that the reliability refers to (stated per instrument). Observations are clipped to
``scale`` and rounded to the scale's resolution (1 for integer scales, 5 for ASQ-3), then
each is missing with probability ``missing_rate``.

Randomness: every draw comes from the ``numpy.random.Generator`` passed in; the same
generator state and inputs give identical output. Nothing here touches global state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ATTACHMENT_CLASSES",
    "ASQ3_DOMAINS",
    "ASQ3_REFERRAL_CUTOFF",
    "COMM_CUTOFF_PAIN_CLINIC",
    "COMM_CUTOFF_PRIMARY_CARE",
    "EPDS_CUTOFF",
    "EVENT_NODES",
    "INSTRUMENTS",
    "PBQ_TOTAL_CUTOFF",
    "UDS_WINDOW_DAYS",
    "Anchor",
    "CodedClassification",
    "EMAScale",
    "EventRecords",
    "Instrument",
    "RetentionRecord",
    "ScaleScore",
    "UnknownInstrumentError",
    "UrineScreen",
    "UseDaysRecall",
    "asq3_referral",
    "ema_prompts",
    "epds_positive",
    "finnegan_scores",
    "finnegan_treatment_rule",
    "get_instrument",
    "kips_band",
    "misuse_positive",
    "pbq_positive",
    "registry_table",
]

#: Latent nodes that are daily 0/1 events; their daily series must be 0/1 (or NaN).
EVENT_NODES: frozenset[str] = frozenset({"opioid_use", "overdose", "cps_report"})

#: Strange Situation classes, in the order used for the category index.
ATTACHMENT_CLASSES: tuple[str, ...] = ("secure", "avoidant", "resistant", "disorganized")

_TOL = 1e-9


# ---------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A point ``(latent composite, true score)`` the latent-to-score line passes through.

    ``published`` is True when ``score`` is a published value (the latent position is still
    a declaration); ``label`` names the group or reason.
    """

    latent: float
    score: float
    label: str
    published: bool = False


def _as_float(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _nan_to_false(flag: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = flag.astype(float)
    out[np.isnan(x)] = np.nan
    return out


def _round_to(x: np.ndarray, lo: float, step: float) -> np.ndarray:
    return lo + np.round((x - lo) / step) * step


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """A measurement instrument (base class; concrete kinds are its subclasses).

    Fields: ``name`` (registry id), ``label``, ``construct``, ``reads`` (latent names
    needed), ``window_days`` (averaging window, or series length for ``series=True``),
    ``scale`` (lo, hi), ``integer``, ``reliability`` (used by the error model; None where the
    error model is not a reliability), ``error_model`` (text), ``missing_rate`` (probability
    an observation is missing at an attended assessment), ``source`` (citation), ``guess``
    (what in the map and error model is a declared guess; "" if none), ``series``.
    """

    name: str
    label: str
    construct: str
    reads: tuple[str, ...]
    window_days: int
    scale: tuple[float, float]
    integer: bool
    reliability: float | None
    error_model: str
    missing_rate: float
    source: str
    guess: str
    series: bool = False

    def __post_init__(self) -> None:
        if not self.reads:
            raise ValueError(f"instrument {self.name!r}: reads must not be empty")
        if int(self.window_days) != self.window_days or self.window_days < 1:
            raise ValueError(f"instrument {self.name!r}: window_days must be a positive int")
        lo, hi = self.scale
        if not lo < hi:
            raise ValueError(f"instrument {self.name!r}: scale must satisfy lo < hi")
        if not 0.0 <= self.missing_rate < 1.0:
            raise ValueError(f"instrument {self.name!r}: missing_rate must be in [0, 1)")
        if self.reliability is not None and not 0.0 < self.reliability <= 1.0:
            raise ValueError(f"instrument {self.name!r}: reliability must be in (0, 1]")

    # -- public API ---------------------------------------------------------------------

    def measure(self, inputs: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """Observed values for n dyads (float array, NaN = missing).

        ``inputs`` maps each name in ``reads`` to a per-dyad window mean, shape (n,), or for
        ``series=True`` to the daily series, shape (n, days >= window_days).
        """
        arrays, n = self._prepare(inputs)
        obs = self._observe(arrays, n, rng)
        return self._apply_missing(obs, rng)

    def true_score(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The error-free score the instrument would record (no noise, no missingness)."""
        arrays, _ = self._prepare(inputs)
        return self._true(arrays)

    def with_window(self, days: int) -> Instrument:
        """A copy observing a different window (count scales are resized with it)."""
        return replace(self, window_days=int(days))

    # -- to be provided by subclasses ---------------------------------------------------

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define a true score")

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define an observation")

    # -- shared machinery ---------------------------------------------------------------

    def _apply_missing(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.missing_rate <= 0.0 or obs.size == 0:
            return obs
        miss = rng.random(obs.shape[0]) < self.missing_rate
        out = np.array(obs, dtype=float, copy=True)
        out[miss] = np.nan
        return out

    def _prepare_one(self, key: str, value: Any) -> np.ndarray:
        arr = _as_float(value)
        if self.series:
            if arr.ndim != 2:
                raise ValueError(
                    f"instrument {self.name!r} reads a daily series of {key!r}: expected shape "
                    f"(n, days) with days >= {self.window_days}, got shape {arr.shape}"
                )
            if arr.shape[1] < self.window_days:
                raise ValueError(
                    f"instrument {self.name!r} needs at least {self.window_days} days of "
                    f"{key!r}, got {arr.shape[1]}"
                )
            arr = arr[:, arr.shape[1] - self.window_days :]
        else:
            arr = np.atleast_1d(arr)
            if arr.ndim != 1:
                raise ValueError(
                    f"instrument {self.name!r} reads the window mean of {key!r}: expected "
                    f"shape (n,), got {arr.shape}"
                )
        finite = arr[np.isfinite(arr)]
        if np.isinf(arr).any():
            raise ValueError(f"instrument {self.name!r}: {key!r} contains infinite values")
        if finite.size and (finite.min() < -_TOL or finite.max() > 1.0 + _TOL):
            raise ValueError(
                f"instrument {self.name!r}: latent {key!r} must lie in [0, 1], got values in "
                f"[{finite.min():g}, {finite.max():g}]"
            )
        if self.series and key in EVENT_NODES and not np.isin(finite, (0.0, 1.0)).all():
            raise ValueError(f"instrument {self.name!r}: daily {key!r} must be 0/1 events (or NaN)")
        return np.clip(arr, 0.0, 1.0)

    def _prepare(self, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
        missing = [r for r in self.reads if r not in inputs]
        if missing:
            raise ValueError(
                f"instrument {self.name!r} reads {list(self.reads)}; inputs lack {missing}"
            )
        arrays = {r: self._prepare_one(r, inputs[r]) for r in self.reads}
        sizes = {a.shape[0] for a in arrays.values()}
        if len(sizes) > 1:
            n = max(sizes)
            for r, a in arrays.items():
                if a.shape[0] == 1 and not self.series:
                    arrays[r] = np.broadcast_to(a, (n,)).copy()
            sizes = {a.shape[0] for a in arrays.values()}
            if len(sizes) > 1:
                shapes = {r: a.shape for r, a in arrays.items()}
                raise ValueError(f"instrument {self.name!r}: inputs disagree on n: {shapes}")
        return arrays, sizes.pop()


def _ctt_text(sd: float, rel: float, unit: str, sd_note: str, rel_note: str) -> str:
    sem = sd * math.sqrt(1.0 - rel)
    return (
        f"Classical test theory: observed = true + N(0, SEM), SEM = SD_obs*sqrt(1-r) = "
        f"{sd:g}*sqrt(1-{rel:g}) = {sem:.2f} {unit}; SD_obs {sd:g} ({sd_note}); "
        f"r = {rel:g} ({rel_note}). Clipped to the scale, rounded to its resolution."
    )


@dataclass(frozen=True, kw_only=True)
class ScaleScore(Instrument):
    """A continuous or summed score with a linear (or log-linear) map and CTT error.

    ``weights`` align with ``reads``; a negative weight reverses that read (``1 - x``).
    ``anchors`` are two points of the latent-composite-to-true-score line. ``sd_obs`` is the
    observed between-person SD used for the SEM (on the log scale when ``link="log"``).
    ``resolution`` is the rounding step (default 1 when ``integer``, none otherwise).
    """

    weights: tuple[float, ...]
    anchors: tuple[Anchor, Anchor]
    sd_obs: float
    link: Literal["linear", "log"] = "linear"
    resolution: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reliability is None:
            raise ValueError(f"instrument {self.name!r}: a ScaleScore needs a reliability")
        if len(self.weights) != len(self.reads) or not any(self.weights):
            raise ValueError(
                f"instrument {self.name!r}: weights must align with reads and not all be 0"
            )
        if len(self.anchors) != 2 or self.anchors[0].latent == self.anchors[1].latent:
            raise ValueError(f"instrument {self.name!r}: needs two anchors at distinct latents")
        if self.link not in ("linear", "log"):
            raise ValueError(f"instrument {self.name!r}: link must be 'linear' or 'log'")
        if self.link == "log" and (min(a.score for a in self.anchors) <= 0 or self.scale[0] <= 0):
            raise ValueError(f"instrument {self.name!r}: a log link needs positive scores")
        if self.sd_obs <= 0:
            raise ValueError(f"instrument {self.name!r}: sd_obs must be positive")
        lo, hi = self.scale
        ends = self.map_latent(np.array([0.0, 1.0]), clip=False)
        if ends.min() < lo - _TOL or ends.max() > hi + _TOL:
            raise ValueError(
                f"instrument {self.name!r}: the latent map runs from {ends[0]:g} to "
                f"{ends[1]:g}, outside the scale {self.scale}"
            )
        step = self.step
        if step is not None and not math.isclose(((hi - lo) / step) % 1.0, 0.0, abs_tol=1e-9):
            raise ValueError(f"instrument {self.name!r}: scale is not a multiple of resolution")

    @property
    def step(self) -> float | None:
        """Rounding step of observed scores (None = not rounded)."""
        if self.resolution is not None:
            return float(self.resolution)
        return 1.0 if self.integer else None

    @property
    def sem(self) -> float:
        """Standard error of measurement, SD_obs*sqrt(1 - reliability)."""
        assert self.reliability is not None
        return float(self.sd_obs * math.sqrt(1.0 - self.reliability))

    def composite(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The weighted latent composite in [0, 1] that the score is a function of."""
        arrays, _ = self._prepare(inputs)
        return self._composite(arrays)

    def map_latent(self, c: Any, *, clip: bool = True) -> np.ndarray:
        """True score at latent composite ``c`` (the line through the two anchors)."""
        c = _as_float(c)
        (a, b) = self.anchors
        t = (c - a.latent) / (b.latent - a.latent)
        if self.link == "log":
            out = np.exp(math.log(a.score) + t * (math.log(b.score) - math.log(a.score)))
        else:
            out = a.score + t * (b.score - a.score)
        return np.clip(out, *self.scale) if clip else out

    def _composite(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        total = sum(abs(w) for w in self.weights)
        c = np.zeros_like(next(iter(arrays.values())), dtype=float)
        for r, w in zip(self.reads, self.weights, strict=True):
            x = arrays[r]
            c = c + abs(w) * (x if w > 0 else 1.0 - x)
        return c / total

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self.map_latent(self._composite(arrays))

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        noise = rng.normal(0.0, self.sem, size=n)
        if self.link == "log":
            with np.errstate(over="ignore"):
                obs = true * np.exp(noise)
        else:
            obs = true + noise
        return self._finish(obs)

    def _finish(self, obs: np.ndarray) -> np.ndarray:
        lo, hi = self.scale
        obs = np.clip(obs, lo, hi)
        step = self.step
        if step is not None:
            obs = np.clip(_round_to(obs, lo, step), lo, hi)
        return obs


@dataclass(frozen=True, kw_only=True)
class UseDaysRecall(Instrument):
    """Timeline follow-back: self-reported number of use days in the window.

    Each true use day is reported with probability ``1 - underreport`` (denial), then
    recall noise N(0, SEM) is added for anyone with at least one use day (abstinent
    respondents report 0). ``SEM = sd_fraction * window_days * sqrt(1 - reliability)``.
    """

    underreport: float = 0.2
    sd_fraction: float = 0.3
    series: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.underreport < 1.0:
            raise ValueError(f"instrument {self.name!r}: underreport must be in [0, 1)")
        if tuple(self.scale) != (0, self.window_days):
            raise ValueError(f"instrument {self.name!r}: scale must be (0, window_days)")

    @property
    def sem(self) -> float:
        assert self.reliability is not None
        return float(self.sd_fraction * self.window_days * math.sqrt(1.0 - self.reliability))

    def with_window(self, days: int) -> UseDaysRecall:
        return replace(self, window_days=int(days), scale=(0, int(days)))

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        x = arrays[self.reads[0]]
        return x.sum(axis=1)  # NaN anywhere in the window -> NaN

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        nan = np.isnan(true)
        days = np.where(nan, 0, true).astype(np.int64)
        reported = rng.binomial(days, 1.0 - self.underreport).astype(float)
        noise = rng.normal(0.0, self.sem, size=n)
        reported = np.where(days > 0, reported + noise, 0.0)
        reported = np.clip(np.round(np.clip(reported, *self.scale)), *self.scale)
        reported[nan] = np.nan
        return reported


#: Urine detection windows in days (ASAM 2017 chart via studylib; Huhn 2020 for regular
#: fentanyl). Use with ``INSTRUMENTS["uds_opioid"].with_window(UDS_WINDOW_DAYS[...])``.
UDS_WINDOW_DAYS: dict[str, int] = {
    "6mam": 1,
    "morphine": 3,
    "methadone": 3,
    "eddp": 6,
    "buprenorphine": 7,
    "fentanyl_occasional": 3,
    "fentanyl_regular": 7,
}


@dataclass(frozen=True, kw_only=True)
class UrineScreen(Instrument):
    """Urine screen: positive (1) if any use day lies within the detection window.

    The window is the last ``window_days`` days of the series, ending on the test day (the
    last column). The assay then errs with ``false_negative`` / ``false_positive``.
    """

    false_positive: float = 0.01
    false_negative: float = 0.02
    series: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for p in (self.false_positive, self.false_negative):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"instrument {self.name!r}: error rates must be in [0, 1)")

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        x = arrays[self.reads[0]]
        any_use = np.nan_to_num(x, nan=0.0).max(axis=1, initial=0.0) > 0.5
        unknown = np.isnan(x).any(axis=1) & ~any_use
        out = any_use.astype(float)
        out[unknown] = np.nan
        return out

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        u = rng.random(n)
        pos = np.where(true == 1.0, u >= self.false_negative, u < self.false_positive)
        return _nan_to_false(pos, true)


@dataclass(frozen=True, kw_only=True)
class EMAScale(Instrument):
    """Ecological momentary assessment of one latent on a 0-10 scale.

    ``prompts_per_day`` random prompts a day; each is answered with probability
    ``1 - missing_rate`` (= ``compliance``); an answer is ``lo + (hi-lo)*latent_day +
    N(0, momentary_sd)``, clipped and (``integer_prompts``) rounded. :meth:`measure` returns
    each dyad's mean over its answered prompts in the window (NaN if none answered);
    :meth:`prompts` returns the prompt-level long table.
    """

    prompts_per_day: int = 3
    momentary_sd: float = 1.0
    integer_prompts: bool = True
    series: bool = True

    @property
    def compliance(self) -> float:
        return 1.0 - self.missing_rate

    def _values(self, series: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _ema_values(
            series,
            self.prompts_per_day,
            self.compliance,
            rng,
            momentary_sd=self.momentary_sd,
            scale=self.scale,
            integer=self.integer_prompts,
        )

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        lo, hi = self.scale
        return lo + (hi - lo) * arrays[self.reads[0]].mean(axis=1)

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        vals = self._values(arrays[self.reads[0]], rng).reshape(n, -1)
        answered = ~np.isnan(vals)
        count = answered.sum(axis=1)
        total = np.where(answered, vals, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def _apply_missing(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return obs  # missingness is per prompt (compliance), applied in _observe

    def prompts(
        self,
        inputs: Mapping[str, Any],
        rng: np.random.Generator,
        dyad_ids: Sequence[Any] | None = None,
    ) -> pd.DataFrame:
        """Prompt-level long table (dyad_id, day, prompt, value) for this instrument."""
        arrays, _ = self._prepare(inputs)
        return ema_prompts(
            arrays[self.reads[0]],
            self.prompts_per_day,
            self.compliance,
            rng,
            momentary_sd=self.momentary_sd,
            scale=self.scale,
            integer=self.integer_prompts,
            dyad_ids=dyad_ids,
        )


def _ema_values(
    series: np.ndarray,
    prompts_per_day: int,
    compliance: float | np.ndarray,
    rng: np.random.Generator,
    *,
    momentary_sd: float,
    scale: tuple[float, float],
    integer: bool,
) -> np.ndarray:
    n, days = series.shape
    k = int(prompts_per_day)
    if k < 1:
        raise ValueError("prompts_per_day must be >= 1")
    comp = _as_float(compliance)
    if comp.ndim == 1:
        if comp.shape[0] != n:
            raise ValueError(f"compliance has {comp.shape[0]} values for {n} dyads")
        comp = comp[:, None, None]
    elif comp.ndim != 0:
        raise ValueError("compliance must be a scalar or one value per dyad")
    if np.any((comp < 0) | (comp > 1)):
        raise ValueError("compliance must lie in [0, 1]")
    lo, hi = scale
    true = lo + (hi - lo) * series[:, :, None]
    vals = true + rng.normal(0.0, momentary_sd, size=(n, days, k))
    answered = rng.random((n, days, k)) < comp
    vals = np.clip(vals, lo, hi)
    if integer:
        vals = np.clip(np.round(vals), lo, hi)
    return np.where(answered, vals, np.nan)


def ema_prompts(
    series: Any,
    prompts_per_day: int,
    compliance: float | Any,
    rng: np.random.Generator,
    *,
    momentary_sd: float = 1.0,
    scale: tuple[float, float] = (0.0, 10.0),
    integer: bool = True,
    dyad_ids: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Simulate EMA prompts from a daily latent series.

    ``series``: latent in [0, 1], shape (n, days) (1-D = one dyad). Each day has
    ``prompts_per_day`` prompts; each is answered with probability ``compliance`` (scalar or
    one per dyad; Jones et al. 2019: 0.70 per prompt in dependent samples). An answer is
    ``lo + (hi-lo)*latent_day + N(0, momentary_sd)``, clipped to ``scale`` and rounded when
    ``integer``. ``momentary_sd`` (within-day, person x moment noise) is a declared guess:
    Stull et al. 2022 found that variance component comparatively small, with no number.

    Returns a long DataFrame with one row per scheduled prompt: ``dyad_id`` (row index of
    ``series`` unless ``dyad_ids`` is given), ``day`` (0-based within the series),
    ``prompt`` (0-based within the day) and ``value`` (NaN = prompt not answered).
    """
    s = _as_float(series)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2:
        raise ValueError(f"series must have shape (n, days), got {s.shape}")
    finite = s[np.isfinite(s)]
    if finite.size and (finite.min() < -_TOL or finite.max() > 1 + _TOL):
        raise ValueError("EMA latent series must lie in [0, 1]")
    s = np.clip(s, 0.0, 1.0)
    n, days = s.shape
    vals = _ema_values(
        s,
        prompts_per_day,
        compliance,
        rng,
        momentary_sd=momentary_sd,
        scale=scale,
        integer=integer,
    )
    k = vals.shape[2]
    ids = np.arange(n) if dyad_ids is None else np.asarray(dyad_ids)
    if ids.shape[0] != n:
        raise ValueError(f"dyad_ids has {ids.shape[0]} entries for {n} dyads")
    return pd.DataFrame(
        {
            "dyad_id": np.repeat(ids, days * k),
            "day": np.tile(np.repeat(np.arange(days), k), n),
            "prompt": np.tile(np.arange(k), n * days),
            "value": vals.ravel(),
        }
    )


@dataclass(frozen=True, kw_only=True)
class CodedClassification(Instrument):
    """A coded category (Strange Situation): the latent class, misclassified by the coder.

    With probability ``misclassification`` the coder records one of the other categories,
    uniformly. Returns an object array of category strings, ``None`` = missing. ``scale``
    is the category index range (0 .. len(categories) - 1), for the record only.
    """

    categories: tuple[str, ...] = ATTACHMENT_CLASSES
    misclassification: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.misclassification <= 1.0:
            raise ValueError(f"instrument {self.name!r}: misclassification must be in [0, 1]")
        if len(set(self.categories)) != len(self.categories) or len(self.categories) < 2:
            raise ValueError(f"instrument {self.name!r}: needs >= 2 distinct categories")

    def _prepare(self, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
        key = self.reads[0]
        if key not in inputs:
            raise ValueError(f"instrument {self.name!r} reads [{key!r}]; inputs lack it")
        raw = np.atleast_1d(np.asarray(inputs[key], dtype=object))
        if raw.ndim != 1:
            raise ValueError(f"instrument {self.name!r}: {key!r} must have shape (n,)")
        lookup = {c: i for i, c in enumerate(self.categories)}
        idx = np.full(raw.shape[0], -1, dtype=np.int64)
        for i, v in enumerate(raw):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if v not in lookup:
                raise ValueError(
                    f"instrument {self.name!r}: unknown class {v!r}; expected one of "
                    f"{list(self.categories)}"
                )
            idx[i] = lookup[v]
        return {key: idx}, raw.shape[0]

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        cats = np.array(self.categories, dtype=object)
        out = np.empty(idx.shape[0], dtype=object)
        ok = idx >= 0
        out[ok] = cats[idx[ok]]
        out[~ok] = None
        return out

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self._labels(arrays[self.reads[0]])

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        idx = arrays[self.reads[0]]
        k = len(self.categories)
        flip = rng.random(n) < self.misclassification
        shift = rng.integers(1, k, size=n)
        coded = np.where(flip & (idx >= 0), (idx + shift) % k, idx)
        return self._labels(coded)

    def _apply_missing(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.missing_rate <= 0.0 or obs.size == 0:
            return obs
        out = obs.copy()
        out[rng.random(obs.shape[0]) < self.missing_rate] = None
        return out


@dataclass(frozen=True, kw_only=True)
class EventRecords(Instrument):
    """Count of recorded events (daily 0/1 series) in the window; each event is recorded
    with probability ``sensitivity``; no false records."""

    sensitivity: float = 0.98
    series: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.sensitivity <= 1.0:
            raise ValueError(f"instrument {self.name!r}: sensitivity must be in [0, 1]")
        if tuple(self.scale) != (0, self.window_days):
            raise ValueError(f"instrument {self.name!r}: scale must be (0, window_days)")

    def with_window(self, days: int) -> EventRecords:
        return replace(self, window_days=int(days), scale=(0, int(days)))

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return arrays[self.reads[0]].sum(axis=1)

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        nan = np.isnan(true)
        out = rng.binomial(np.where(nan, 0, true).astype(np.int64), self.sensitivity)
        out = out.astype(float)
        out[nan] = np.nan
        return out


@dataclass(frozen=True, kw_only=True)
class RetentionRecord(Instrument):
    """Retained (1) if the dose-coverage series is > 0 on the last day of the window."""

    series: bool = True

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        last = arrays[self.reads[0]][:, -1]
        return _nan_to_false(np.nan_to_num(last) > 0.0, last)

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        return self._true(arrays)


# ---------------------------------------------------------------------------------------
# cut-offs and decision rules
# ---------------------------------------------------------------------------------------

#: COMM cut-offs: >= 9 pain clinic (Butler 2007); >= 13 primary care (Meltzer 2011:
#: sensitivity = specificity = 0.77, AUC .84).
COMM_CUTOFF_PAIN_CLINIC = 9.0
COMM_CUTOFF_PRIMARY_CARE = 13.0
#: EPDS >= 13 (the 12/13 threshold of Cox, Holden & Sagovsky 1987).
EPDS_CUTOFF = 13.0
#: PBQ total >= 13 (Torres-Gimenez 2021, Spanish clinical sample: sens .92, spec .87).
PBQ_TOTAL_CUTOFF = 13.0
#: ASQ-3 referral: a domain score below this (declared guess; the real, age-specific values
#: are mean - 2 SD from User's Guide Table 18, not retrieved).
ASQ3_REFERRAL_CUTOFF = 30.0


def _flag(score: Any, cutoff: float, *, below: bool = False) -> np.ndarray:
    s = _as_float(score)
    hit = s < cutoff if below else s >= cutoff
    return _nan_to_false(np.asarray(hit), np.asarray(s))


def misuse_positive(comm_score: Any, cutoff: float = COMM_CUTOFF_PRIMARY_CARE) -> np.ndarray:
    """COMM screen: 1.0 if score >= cutoff, 0.0 if not, NaN if the score is missing.

    Use ``cutoff=COMM_CUTOFF_PAIN_CLINIC`` (9) for the original pain-clinic rule (Butler
    2007) or the default 13 for primary care (Meltzer 2011). With a primary-care
    no-disorder mean of 8.4, the choice changes prevalence substantially.
    """
    return _flag(comm_score, cutoff)


def epds_positive(score: Any, cutoff: float = EPDS_CUTOFF) -> np.ndarray:
    """EPDS screen: 1.0 if score >= cutoff (default 13), NaN if missing."""
    return _flag(score, cutoff)


def pbq_positive(total: Any, cutoff: float = PBQ_TOTAL_CUTOFF) -> np.ndarray:
    """PBQ total-score screen: 1.0 if total >= cutoff (default 13), NaN if missing."""
    return _flag(total, cutoff)


def asq3_referral(score: Any, cutoff: float = ASQ3_REFERRAL_CUTOFF) -> np.ndarray:
    """ASQ-3 referral flag: 1.0 if a domain score is below ``cutoff``, NaN if missing."""
    return _flag(score, cutoff, below=True)


def kips_band(score: Any) -> np.ndarray:
    """KIPS quality band: "low" (1.0-2.9), "moderate" (3.0-3.9), "high" (4.0-5.0).

    Bands from nctsn.org (no clinical cut-off exists). Returns an object array, None for
    missing scores.
    """
    s = np.atleast_1d(_as_float(score))
    out = np.empty(s.shape, dtype=object)
    out[:] = None
    ok = ~np.isnan(s)
    out[ok & (s < 3.0)] = "low"
    out[ok & (s >= 3.0) & (s < 4.0)] = "moderate"
    out[ok & (s >= 4.0)] = "high"
    return out


def finnegan_treatment_rule(
    scores: Any,
    *,
    run_low: int = 3,
    threshold_low: float = 8.0,
    run_high: int = 2,
    threshold_high: float = 12.0,
) -> bool | np.ndarray:
    """Finnegan pharmacotherapy rule: 3 consecutive scores >= 8, or 2 consecutive >= 12.

    ``scores``: one infant's sequence (1-D -> returns a bool) or (n, scorings) (-> bool
    array). NaN marks a scoring not done; it is skipped, so "consecutive" means consecutive
    recorded scores.
    """
    s = _as_float(scores)
    single = s.ndim == 1
    rows = s[None, :] if single else s
    if rows.ndim != 2:
        raise ValueError(f"scores must be 1-D or 2-D, got shape {s.shape}")

    def longest_run(x: np.ndarray, thr: float) -> int:
        best = cur = 0
        for v in x:
            cur = cur + 1 if v >= thr else 0
            best = max(best, cur)
        return best

    out = np.zeros(rows.shape[0], dtype=bool)
    for i, row in enumerate(rows):
        rec = row[~np.isnan(row)]
        out[i] = (
            longest_run(rec, threshold_low) >= run_low
            or longest_run(rec, threshold_high) >= run_high
        )
    return bool(out[0]) if single else out


def finnegan_scores(
    series: Any,
    rng: np.random.Generator,
    scorings_per_day: int = 8,
    instrument: ScaleScore | None = None,
) -> np.ndarray:
    """Repeated nurse Finnegan scorings from a daily NOWS-severity series.

    ``series``: daily ``neonatal_withdrawal`` in [0, 1], shape (n, days). Each day is scored
    ``scorings_per_day`` times (every 3 h by default; the schedule is every 3-4 h), each
    scoring an independent nurse's measurement (true + N(0, ~3.3), missing at the
    instrument's rate). Returns shape (n, days * scorings_per_day), ready for
    :func:`finnegan_treatment_rule`.
    """
    inst = instrument if instrument is not None else INSTRUMENTS["finnegan"]
    s = _as_float(series)
    if s.ndim == 1:
        s = s[None, :]
    if s.ndim != 2:
        raise ValueError(f"series must have shape (n, days), got {s.shape}")
    k = int(scorings_per_day)
    if k < 1:
        raise ValueError("scorings_per_day must be >= 1")
    flat = np.repeat(s, k, axis=1).ravel()
    return inst.measure({inst.reads[0]: flat}, rng).reshape(s.shape[0], s.shape[1] * k)


# ---------------------------------------------------------------------------------------
# the instruments
# ---------------------------------------------------------------------------------------

_MISSING_GUESS = "missing_rate {:g} (non-response at an attended assessment) is a guess"

_PSS10 = ScaleScore(
    name="pss10",
    label="Perceived Stress Scale, 10 items",
    construct="appraised stress over the past month (threat appraisal and negative affect)",
    reads=("cognitive_appraisal", "negative_affect"),
    weights=(0.5, 0.5),
    window_days=30,
    scale=(0, 40),
    integer=True,
    anchors=(
        Anchor(0.35, 16.14, "US general-population women (SD 7.56)", published=True),
        Anchor(0.60, 21.49, "perinatal OUD, mostly on buprenorphine (Lord 2025)", published=True),
    ),
    reliability=0.80,
    sd_obs=7.56,
    error_model=_ctt_text(
        7.56, 0.80, "points", "US women norm", "alpha > .70 in 12 studies; .78-.85 reported"
    )
    + " Matches the derived SEM of about 3.4 in instruments.md.",
    missing_rate=0.03,
    source=(
        "Cohen & Williamson 1988; norms Cohen & Janicki-Deverts 2012 J Appl Soc Psychol "
        "42:1320 (women 16.14, SD 7.56); Lee 2012 Asian Nurs Res 6:121 (alpha > .70); "
        "Lord 2025 Ann Med (perinatal OUD 21.49)"
    ),
    guess=(
        "equal weights of cognitive_appraisal and negative_affect; latent positions of the "
        "anchors (composite 0.35 = general-population women, 0.60 = perinatal OUD); "
        "r = 0.80 chosen inside the published .78-.85; " + _MISSING_GUESS.format(0.03)
    ),
)

_COMM = ScaleScore(
    name="comm",
    label="Current Opioid Misuse Measure (17 items)",
    construct="past-30-day aberrant opioid-related behaviour (misuse)",
    reads=("craving", "opioid_use"),
    weights=(0.5, 0.5),
    window_days=30,
    scale=(0, 68),
    integer=True,
    anchors=(
        Anchor(0.15, 8.4, "primary care, no prescription-opioid use disorder (SD 7.5)", True),
        Anchor(0.55, 20.4, "primary care, with the disorder (SD 10.8)", True),
    ),
    reliability=0.86,
    sd_obs=9.0,
    error_model=_ctt_text(
        9.0, 0.86, "points", "between the published 7.5 and 10.8", "alpha .86 (Butler 2007)"
    )
    + " instruments.md derives an SEM of 3-4 points.",
    missing_rate=0.03,
    source=(
        "Butler et al. 2007 Pain 130:144 (17 items 0-4, alpha .86); Butler 2010 Clin J Pain "
        "26:770 (alpha .83); Meltzer et al. 2011 Pain 152:397 (8.4 vs 20.4; >=13 cut-off)"
    ),
    guess=(
        "equal weights of craving and opioid-use frequency (window mean of daily use); "
        "latent positions of the anchors (composite 0.15 = no disorder, 0.55 = disorder); "
        "SD_obs 9.0; " + _MISSING_GUESS.format(0.03)
    ),
)

_TLFB = UseDaysRecall(
    name="tlfb_use_days",
    label="Timeline follow-back: days of opioid use",
    construct="self-reported number of non-medical opioid use days in the window",
    reads=("opioid_use",),
    window_days=30,
    scale=(0, 30),
    integer=True,
    reliability=0.95,
    underreport=0.2,
    sd_fraction=0.3,
    error_model=(
        "Each true use day is reported with probability 1 - underreport (default 0.2: "
        "denial where reporting has consequences; set 0 for research settings without). "
        "Respondents with any use add recall noise N(0, SEM), SEM = 0.3*window*sqrt(1-0.95) "
        "= 2.0 days for 30 days (ICC > .9); abstinent respondents report 0. Clipped to "
        "[0, window], rounded."
    ),
    missing_rate=0.03,
    source=(
        "Sobell & Sobell 1992; Fals-Stewart et al. 2000 J Consult Clin Psychol 68:134; "
        "J Addict Med 2025 (PubMed 39908533; opioid-day ICC > 0.9); Hilario et al. 2015 "
        "JSAT 48:85 (22.9% of opioid-positive urines denied)"
    ),
    guess=(
        "underreport 0.2 is one value inside the 0.2-0.45 range derived in instruments.md; "
        "reliability 0.95 for ICC > .9; between-person SD of use days = 30% of the window; "
        "no noise for abstinent respondents; " + _MISSING_GUESS.format(0.03)
    ),
)

_UDS = UrineScreen(
    name="uds_opioid",
    label="Urine drug screen, opiates (morphine/heroin immunoassay)",
    construct="any non-medical opioid use within the detection window",
    reads=("opioid_use",),
    window_days=UDS_WINDOW_DAYS["morphine"],
    scale=(0, 1),
    integer=True,
    reliability=None,
    false_positive=0.01,
    false_negative=0.02,
    error_model=(
        "Positive iff any use day within the detection window ending on the test day "
        "(3 days for morphine/heroin; UDS_WINDOW_DAYS has others); then false negative 0.02 "
        "and false positive 0.01 per test. MOUD (methadone, buprenorphine) does not trigger "
        "the opiates assay."
    ),
    missing_rate=0.05,
    source=(
        "ASAM 2017 J Addict Med 11:163 detection chart (via studylib; morphine 2-5 d, "
        "'up to 3 days' per FDA via Healthline); Huhn et al. 2020 DAD 214:108147 (fentanyl)"
    ),
    guess=(
        "false_positive 0.01 and false_negative 0.02; window 3 days within the published "
        "2-5; " + _MISSING_GUESS.format(0.05)
    ),
)


def _ema(name: str, node: str, label: str, construct: str) -> EMAScale:
    return EMAScale(
        name=name,
        label=label,
        construct=construct,
        reads=(node,),
        window_days=7,
        scale=(0, 10),
        integer=False,
        reliability=None,
        prompts_per_day=3,
        momentary_sd=1.0,
        error_model=(
            "3 random prompts/day; each answered with probability 0.70 (compliance); an "
            "answer = 10*latent(day) + N(0, 1.0), clipped to 0-10 and rounded to an integer. "
            "The observation is the mean of answered prompts in the window (NaN if none). "
            "The map has no intercept, so relative reductions in the latent carry over."
        ),
        missing_rate=0.30,
        source=(
            "Jones et al. 2019 Addiction 114:609 (compliance 69.8% in dependent samples); "
            "Preston 2018 Psychopharmacology 235:2713 (3 prompts/day); Garland 2019 DAD "
            "203:61 (MORE EMA); Stull et al. 2022 Psychol Assess (variance structure)"
        ),
        guess=(
            "map 0-1 -> 0-10 with no intercept; momentary noise SD 1.0 scale points "
            "(person x moment variance 'comparatively small', no number published); "
            "constant compliance over time (Allen 2025 reports a decline, unquantified)"
        ),
    )


_EMA_CRAVING = _ema("ema_craving", "craving", "EMA craving (0-10)", "momentary opioid craving")
_EMA_STRESS = _ema(
    "ema_stress", "stress_arousal", "EMA stress (0-10)", "momentary subjective stress"
)
_EMA_PA = _ema(
    "ema_positive_affect",
    "positive_affect",
    "EMA positive affect (0-10)",
    "momentary positive affect",
)

_DOT_PROBE = ScaleScore(
    name="dot_probe_ms",
    label="Dot-probe opioid attentional bias, 200 ms (ms)",
    construct="attentional bias to opioid cues: RT(probe behind neutral) - RT(behind opioid)",
    reads=("attentional_bias",),
    weights=(1.0,),
    window_days=1,
    scale=(-250.0, 250.0),
    integer=False,
    anchors=(Anchor(0.0, 0.0, "no bias"), Anchor(1.0, 50.0, "maximal bias (guess)")),
    reliability=0.30,
    sd_obs=18.0,
    error_model=_ctt_text(
        18.0,
        0.30,
        "ms",
        "guess; implies a true between-person SD of about 10 ms",
        "'poor' reliability, upper end of the 0-0.3 range in instruments.md",
    ),
    missing_rate=0.05,
    source=(
        "Garland 2013 J Behav Med; Garland 2014 DAD 144:283; Ataya et al. 2012 DAD 121:148 "
        "and Jones, Christiansen & Field 2018 (poor reliability)"
    ),
    guess=(
        "whole map (0 ms at no bias, 50 ms at maximal bias; no ms values published); "
        "SD_obs 18 ms; r = 0.30 (sources say only 'poor'/'inadequate'); scale limits "
        "+-250 ms; " + _MISSING_GUESS.format(0.05)
    ),
)

_HRV = ScaleScore(
    name="hrv_reward_response",
    label="HRV response to natural-reward vs drug cues (standardized difference)",
    construct="cardiac (HR deceleration / HRV increase) response to natural-reward cues "
    "minus the response to opioid cues",
    reads=("natural_reward_responsiveness", "drug_reward_salience"),
    weights=(0.5, -0.5),
    window_days=1,
    scale=(-5.0, 5.0),
    integer=False,
    anchors=(
        Anchor(0.5, 0.0, "equal responsiveness to both cue types"),
        Anchor(1.0, 1.5, "maximal natural-reward and no drug-cue response (guess)"),
    ),
    reliability=0.50,
    sd_obs=1.0,
    error_model=_ctt_text(1.0, 0.50, "SD units", "standardized units", "guess"),
    missing_rate=0.05,
    source=(
        "Garland, Froeliger & Howard 2014 Psychopharmacology 231:3229; Garland et al. 2020 "
        "Am Psychol 75:840 (no numeric HRV values retrieved)"
    ),
    guess=(
        "entire error model and map: equal weights, +-1.5 SD at the extremes, r = 0.50, "
        "scale +-5 SD, " + _MISSING_GUESS.format(0.05)
    ),
)

_CSOSI = ScaleScore(
    name="csosi",
    label="Calgary Symptoms of Stress Inventory (56 items)",
    construct="physical and psychological stress-arousal symptoms, past week",
    reads=("stress_arousal",),
    weights=(1.0,),
    window_days=7,
    scale=(0, 224),
    integer=True,
    anchors=(Anchor(0.0, 15.0, "no arousal (guess)"), Anchor(1.0, 140.0, "maximal (guess)")),
    reliability=0.90,
    sd_obs=25.0,
    error_model=_ctt_text(
        25.0, 0.90, "points", "guess", "guess; subscale alphas .80-.95 (Carlson & Thomas 2007)"
    ),
    missing_rate=0.03,
    source=(
        "Carlson & Thomas 2007 Int J Behav Med 14:249 (PubMed 18001241): 56 items, 8 "
        "subscales, subscale alpha .80-.95. NOT in instruments.md."
    ),
    guess=(
        "C-SOSI is not in instruments.md; the 0-224 range assumes 56 items scored 0-4 "
        "(UNVERIFIED); map 15-140, total r = 0.90, SD_obs 25, 7-day window and "
        + _MISSING_GUESS.format(0.03)
    ),
)

_FFMQ = ScaleScore(
    name="ffmq",
    label="Five Facet Mindfulness Questionnaire (39 items)",
    construct="trait mindfulness",
    reads=("mindfulness",),
    weights=(1.0,),
    window_days=30,
    scale=(39, 195),
    integer=True,
    anchors=(Anchor(0.0, 90.0, "no mindfulness (guess)"), Anchor(1.0, 170.0, "maximal (guess)")),
    reliability=0.90,
    sd_obs=18.0,
    error_model=_ctt_text(18.0, 0.90, "points", "guess", "guess; facet alphas .72-.92 (Baer 2006)"),
    missing_rate=0.03,
    source=(
        "Baer, Smith, Hopkins, Krietemeyer & Toney 2006 Assessment 13:27 (39 items 1-5, "
        "total 39-195, facet alpha .72-.92; via report.stpatricks.ie). NOT in instruments.md."
    ),
    guess=(
        "FFMQ is not in instruments.md; map 90-170 (no norm anchor), total r = 0.90, SD_obs "
        "18 and " + _MISSING_GUESS.format(0.03)
    ),
)

_ERQ = ScaleScore(
    name="erq_reappraisal",
    label="Emotion Regulation Questionnaire, cognitive reappraisal (mean of 6 items, 1-7)",
    construct="habitual use of cognitive reappraisal",
    reads=("reappraisal",),
    weights=(1.0,),
    window_days=30,
    scale=(1.0, 7.0),
    integer=False,
    anchors=(Anchor(0.0, 2.0, "no reappraisal (guess)"), Anchor(1.0, 6.5, "maximal (guess)")),
    reliability=0.79,
    sd_obs=1.1,
    error_model=_ctt_text(1.1, 0.79, "points", "guess", "alpha .79, UNVERIFIED (memory)"),
    missing_rate=0.03,
    source="Gross & John 2003 J Pers Soc Psychol 85:348. NOT in instruments.md.",
    guess=(
        "ERQ is not in instruments.md: scale, map 2.0-6.5, alpha .79 and SD_obs 1.1 are "
        "from memory or guessed; " + _MISSING_GUESS.format(0.03)
    ),
)

_EPDS = ScaleScore(
    name="epds",
    label="Edinburgh Postnatal Depression Scale (10 items)",
    construct="maternal depressive symptoms, past 7 days",
    reads=("maternal_depression",),
    weights=(1.0,),
    window_days=7,
    scale=(0, 30),
    integer=True,
    anchors=(Anchor(0.0, 2.0, "no depression (guess)"), Anchor(1.0, 26.0, "maximal (guess)")),
    reliability=0.80,
    sd_obs=5.5,
    error_model=_ctt_text(
        5.5, 0.80, "points", "guess", "alphas .76-.79 (Kubota 2018; Iran 2012), .87 Cox 1987"
    ),
    missing_rate=0.03,
    source=(
        "Cox, Holden & Sagovsky 1987 Br J Psychiatry 150:782 (10 items 0-3, cut-off 12/13); "
        "alpha .79 (PMC3470287), .76-.77 (PMC6281669). NOT in instruments.md."
    ),
    guess=(
        "EPDS is not in instruments.md; map 2-26 (>= 13 at latent 0.46), r = 0.80, SD_obs "
        "5.5 and " + _MISSING_GUESS.format(0.03)
    ),
)

_KIPS = ScaleScore(
    name="kips",
    label="Keys to Interactive Parenting Scale (mean of 12 items, 1-5)",
    construct="observed parenting quality in 15-20 min of parent-child play",
    reads=("parenting_behavior",),
    weights=(1.0,),
    window_days=1,
    scale=(1.0, 5.0),
    integer=False,
    anchors=(Anchor(0.0, 1.0, "disengaged"), Anchor(1.0, 5.0, "engaged, sensitive")),
    reliability=0.95,
    sd_obs=0.8,
    error_model=_ctt_text(
        0.8, 0.95, "points", "guess", "alpha .95 (Comfort 2011); test-retest .88"
    ),
    missing_rate=0.05,
    source=(
        "Comfort & Gordon 2006 NHSA Dialog 9:22; Comfort, Gordon & Naples 2011 Infants Young "
        "Child 24:56 (alpha .95, retest .88); bands nctsn.org; Gannon et al. 2017 J Addict "
        "Med 11:368 (OUD mothers 'low' -> 'moderate')"
    ),
    guess=(
        "identity map 1 + 4*latent (bands: low < 0.5, moderate 0.5-0.75, high >= 0.75 on "
        "the latent), so the published low -> moderate shift of OUD mothers corresponds to "
        "parenting_behavior crossing 0.5; SD_obs 0.8; " + _MISSING_GUESS.format(0.05)
    ),
)

_PSI = ScaleScore(
    name="psi_sf",
    label="Parenting Stress Index, Short Form (36 items)",
    construct="parenting stress: parental distress, difficult child, dysfunctional interaction",
    reads=("stressor", "infant_affect_behavior", "parenting_behavior"),
    weights=(0.4, 0.3, -0.3),
    window_days=30,
    scale=(36, 180),
    integer=True,
    anchors=(Anchor(0.0, 45.0, "no stress (guess)"), Anchor(1.0, 150.0, "maximal (guess)")),
    reliability=0.90,
    sd_obs=18.0,
    error_model=_ctt_text(
        18.0, 0.90, "points", "guess", "full-PSI total alpha > .90; SF alpha .91 UNVERIFIED"
    ),
    missing_rate=0.03,
    source=(
        "Abidin 1995 PSI manual (SF 36-180, subscales 12-60); Barroso et al. 2016 Psychol "
        "Assess (PMC4877285); Sarfi et al. 2022 Front Pediatr (OMT mothers, more distress)"
    ),
    guess=(
        "weights 0.4 stressor (parental distress), 0.3 infant distress (difficult child), "
        "0.3 disengaged parenting (dysfunctional interaction); map 45-150 (no means "
        "retrieved); SD_obs 18; " + _MISSING_GUESS.format(0.03)
    ),
)

_PBQ = ScaleScore(
    name="pbq",
    label="Postpartum Bonding Questionnaire (25 items; higher = worse)",
    construct="impaired mother-infant bonding (rejection, anger, infant-focused anxiety)",
    reads=("prenatal_bonding", "salience_of_infant_cues"),
    weights=(-0.5, -0.5),
    window_days=30,
    scale=(0, 125),
    integer=True,
    anchors=(
        Anchor(0.0, 2.0, "strong bonding, salient infant cues (guess)"),
        Anchor(1.0, 60.0, "no bonding, no cue salience (guess)"),
    ),
    reliability=0.89,
    sd_obs=10.0,
    error_model=_ctt_text(10.0, 0.89, "points", "guess", "alpha .89 (Flemish 21-item version)"),
    missing_rate=0.03,
    source=(
        "Brockington et al. 2001 Arch Womens Ment Health 3:133; Brockington, Fraser & Wilson "
        "2006 AWMH 9:233; Torres-Gimenez 2021 Span J Psychol (total cut-off 13); Xu et al. "
        "2024 J Addict Med (MOUD mothers)"
    ),
    guess=(
        "reads reversed with equal weights; map 2-60 on the impairment composite (>= 13 at "
        "composite 0.19; no means retrieved); SD_obs 10; " + _MISSING_GUESS.format(0.03)
    ),
)

_INFANT_CUE = ScaleScore(
    name="infant_cue_reward",
    label="Reward response to own- vs unfamiliar-infant faces (standardized)",
    construct="salience of own-infant cues: reward-region response, own minus unfamiliar",
    reads=("salience_of_infant_cues",),
    weights=(1.0,),
    window_days=1,
    scale=(-5.0, 5.0),
    integer=False,
    anchors=(Anchor(0.0, -1.0, "no salience (guess)"), Anchor(1.0, 1.0, "maximal (guess)")),
    reliability=0.40,
    sd_obs=1.0,
    error_model=_ctt_text(1.0, 0.40, "SD units", "standardized units", "guess"),
    missing_rate=0.10,
    source=(
        "Kim et al. 2017 (reduced reward response to own-infant faces in mothers with "
        "substance use; cited in DESIGN.md section 4). NOT in instruments.md."
    ),
    guess=(
        "entire error model and map: +-1 SD at the extremes, r = 0.40 (task/imaging "
        "contrasts are noisy), " + _MISSING_GUESS.format(0.10) + " (data loss)"
    ),
)

_COREG = ScaleScore(
    name="coregulation",
    label="Coded co-regulation (proportion of coded intervals)",
    construct="dyadic synchrony: shared gaze, complementary affect, turn-taking",
    reads=("dyadic_synchrony",),
    weights=(1.0,),
    window_days=1,
    scale=(0.0, 1.0),
    integer=False,
    anchors=(Anchor(0.0, 0.05, "no synchrony (guess)"), Anchor(1.0, 0.85, "maximal (guess)")),
    reliability=0.80,
    sd_obs=0.15,
    error_model=_ctt_text(0.15, 0.80, "", "guess", "inter-coder ICC, guess"),
    missing_rate=0.05,
    source="Observational coding of dyadic interaction (DESIGN.md section 4). NOT in "
    "instruments.md.",
    guess="entire error model and map: 0.05-0.85, r = 0.80, SD_obs 0.15, "
    + _MISSING_GUESS.format(0.05),
)

_CORTISOL = ScaleScore(
    name="infant_cortisol",
    label="Infant salivary cortisol (nmol/L)",
    construct="infant HPA-axis stress reactivity",
    reads=("infant_stress_reactivity",),
    weights=(1.0,),
    window_days=1,
    scale=(0.1, 100.0),
    integer=False,
    link="log",
    anchors=(Anchor(0.0, 3.0, "low reactivity (guess)"), Anchor(1.0, 30.0, "maximal (guess)")),
    reliability=0.50,
    sd_obs=0.6,
    error_model=(
        "Log-normal: ln(observed) = ln(true) + N(0, SEM), SEM = 0.6*sqrt(1-0.5) = 0.42 on "
        "the natural-log scale (single saliva sample: sampling time, assay and state noise). "
        "Clipped to 0.1-100 nmol/L (assay range)."
    ),
    missing_rate=0.15,
    source=(
        "Infant salivary cortisol sampling (DESIGN.md section 4); no values in "
        "instruments.md; cortisol kinetics in mechanisms.md."
    ),
    guess=(
        "entire error model and map: log-linear 3-30 nmol/L, ln-SD 0.6, r = 0.50, "
        "assay range; missing_rate 0.15 (insufficient saliva) is a guess"
    ),
)

_FINNEGAN = ScaleScore(
    name="finnegan",
    label="Modified Finnegan Neonatal Abstinence Score (one scoring)",
    construct="NOWS severity (21 weighted signs)",
    reads=("neonatal_withdrawal",),
    weights=(1.0,),
    window_days=1,
    scale=(0, 40),
    integer=True,
    anchors=(Anchor(0.0, 1.0, "no withdrawal (guess)"), Anchor(1.0, 25.0, "severe (guess)")),
    reliability=0.694,
    sd_obs=3.306 / math.sqrt(1.0 - 0.694),
    error_model=(
        "Classical test theory with the published inter-rater spread: one nurse's score = "
        "true + N(0, 3.31) (122 nurses scoring one vignette, SD 3.306; single-measures ICC "
        ".694; SD_obs 5.98 is back-derived so SEM = 3.31). Clipped to 0-40, rounded."
    ),
    missing_rate=0.02,
    source=(
        "Finnegan et al. 1975; FNAST inter-rater poster (SD 3.306, ICC .694); treatment rule "
        "'3 consecutive >= 8 or 2 consecutive >= 12' (Royal Women's NAS guideline, "
        "docslib 5074301; grokipedia); Young et al. 2023 NEJM 388:2326 (ESC-NOW)"
    ),
    guess=(
        "map 1-25 (threshold 8 at latent 0.29, 12 at 0.46); scale maximum 40 is "
        "approximate; the vignette SD at true 13 is applied at every level; "
        + _MISSING_GUESS.format(0.02)
        + " (scoring skipped)"
    ),
)

_SSP = CodedClassification(
    name="ssp",
    label="Strange Situation Procedure classification (12-20 months)",
    construct="infant attachment class: secure, avoidant, resistant, disorganized",
    reads=("attachment_class",),
    window_days=1,
    scale=(0, len(ATTACHMENT_CLASSES) - 1),
    integer=True,
    reliability=0.94,
    misclassification=0.05,
    error_model=(
        "The coder records the latent class, except with probability 0.05 one of the three "
        "other classes, uniformly. Returns class strings (None = missing). reliability "
        "holds the published 94% coder agreement (not used in the draw)."
    ),
    missing_rate=0.05,
    source=(
        "Ainsworth, Blehar, Waters & Wall 1978; Main & Solomon 1990; 94% coder agreement "
        "(Ainsworth; Bick et al. 2012); van IJzendoorn 1999; Opie et al. 2021 (stability "
        "kappa .23)"
    ),
    guess=(
        "misclassification 0.05 (94% two-coder agreement implies about 3% per coder if "
        "errors were independent); errors uniform over the other classes; "
        + _MISSING_GUESS.format(0.05)
        + " (unclassifiable tapes)"
    ),
)

#: ASQ-3 domains and the child well-being domains (weights) each one reads.
ASQ3_DOMAINS: dict[str, dict[str, float]] = {
    "communication": {"wellbeing_cognitive": 0.5, "wellbeing_social": 0.5},
    "gross_motor": {"wellbeing_physical": 1.0},
    "fine_motor": {"wellbeing_physical": 0.7, "wellbeing_cognitive": 0.3},
    "problem_solving": {"wellbeing_cognitive": 1.0},
    "personal_social": {"wellbeing_social": 0.5, "wellbeing_psychological": 0.5},
}


def _asq3(domain: str, reads: dict[str, float]) -> ScaleScore:
    return ScaleScore(
        name=f"asq3_{domain}",
        label=f"ASQ-3 {domain.replace('_', ' ')} domain (0-60)",
        construct=f"parent-reported child development, {domain.replace('_', ' ')}",
        reads=tuple(reads),
        weights=tuple(reads.values()),
        window_days=30,
        scale=(0, 60),
        integer=True,
        resolution=5.0,
        anchors=(Anchor(0.0, 5.0, "not thriving (guess)"), Anchor(1.0, 60.0, "thriving")),
        reliability=0.80,
        sd_obs=10.0,
        error_model=_ctt_text(10.0, 0.80, "points", "guess", "test-retest .75-.82")
        + " Items score 0/5/10, so scores are multiples of 5.",
        missing_rate=0.05,
        source=(
            "Squires & Bricker 2009 ASQ-3 User's Guide; NINDS CDE (retest .75-.82, sens .86, "
            "spec .85); ASQ support KB (referral <= mean - 2 SD)"
        ),
        guess=(
            "mapping of well-being domains to ASQ-3 domains and their weights; map 5-60; "
            "SD_obs 10; 0-60 range derived (6 items x 10); referral cut-off 30 "
            "(age-specific values not retrieved); " + _MISSING_GUESS.format(0.05)
        ),
    )


_MOUD = RetentionRecord(
    name="moud_retained",
    label="MOUD retention (on medication at the assessment)",
    construct="retained in medication treatment for OUD",
    reads=("moud",),
    window_days=1,
    scale=(0, 1),
    integer=True,
    reliability=None,
    error_model=(
        "Read from clinic/pharmacy records: retained (1) iff MOUD coverage > 0 on the last "
        "day of the window, with no recording error. Pass the series up to the assessment "
        "day."
    ),
    missing_rate=0.0,
    source=(
        "Retention definitions and rates: O'Connor et al. 2020 PLoS One (PMC7224511); "
        "MarketScan 2024 Addict Sci Clin Pract; Schiff 2021 AJOG (postpartum 64.1%)"
    ),
    guess="records assumed complete and error-free",
)


def _records(name: str, node: str, label: str) -> EventRecords:
    return EventRecords(
        name=name,
        label=label,
        construct=f"{label.lower()} over the window",
        reads=(node,),
        window_days=90,
        scale=(0, 90),
        integer=True,
        reliability=None,
        sensitivity=0.98,
        error_model=(
            "Count of events in the window from records; each event recorded with "
            "probability 0.98, no false records."
        ),
        missing_rate=0.0,
        source="Administrative / medical records (DESIGN.md section 4); no source on "
        "recording completeness in instruments.md.",
        guess=(
            "near-perfect recording (sensitivity 0.98) is declared, not sourced; for "
            "overdoses it assumes every event reaches a record (medically unattended "
            "overdoses would need a lower sensitivity); window 90 days"
        ),
    )


_RECORDS_OD = _records("records_overdose", "overdose", "Overdose events")
_RECORDS_CPS = _records("records_cps", "cps_report", "CPS reports")


def _build_registry(items: Sequence[Instrument]) -> dict[str, Instrument]:
    reg: dict[str, Instrument] = {}
    for inst in items:
        if inst.name in reg:
            raise ValueError(f"duplicate instrument name {inst.name!r}")
        reg[inst.name] = inst
    return reg


#: All instruments by registry id.
INSTRUMENTS: dict[str, Instrument] = _build_registry(
    [
        _PSS10,
        _COMM,
        _TLFB,
        _UDS,
        _EMA_CRAVING,
        _EMA_STRESS,
        _EMA_PA,
        _DOT_PROBE,
        _HRV,
        _CSOSI,
        _FFMQ,
        _ERQ,
        _EPDS,
        _KIPS,
        _PSI,
        _PBQ,
        _INFANT_CUE,
        _COREG,
        _CORTISOL,
        _FINNEGAN,
        _SSP,
        *(_asq3(d, r) for d, r in ASQ3_DOMAINS.items()),
        _MOUD,
        _RECORDS_OD,
        _RECORDS_CPS,
    ]
)


class UnknownInstrumentError(KeyError, ValueError):
    """Raised by :func:`get_instrument` for a name not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def get_instrument(name: str) -> Instrument:
    """The registered instrument ``name``; raises :class:`UnknownInstrumentError`
    (a ``ValueError`` and ``KeyError``) naming it and listing the known ids."""
    try:
        return INSTRUMENTS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(INSTRUMENTS))
        raise UnknownInstrumentError(
            f"unknown instrument {name!r}; known instruments: {known}"
        ) from None


def registry_table() -> pd.DataFrame:
    """One row per instrument: id, label, reads, window, scale, reliability, SEM, missing
    rate, error model, guess and source (for reports and docs)."""
    rows = []
    for inst in INSTRUMENTS.values():
        sem = getattr(inst, "sem", None)
        rows.append(
            {
                "name": inst.name,
                "label": inst.label,
                "kind": type(inst).__name__,
                "reads": ", ".join(inst.reads),
                "series": inst.series,
                "window_days": inst.window_days,
                "scale_lo": inst.scale[0],
                "scale_hi": inst.scale[1],
                "integer": inst.integer,
                "reliability": inst.reliability,
                "sem": sem,
                "missing_rate": inst.missing_rate,
                "error_model": inst.error_model,
                "guess": inst.guess,
                "source": inst.source,
            }
        )
    return pd.DataFrame(rows)
