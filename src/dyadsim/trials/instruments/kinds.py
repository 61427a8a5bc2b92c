"""Instrument kinds: how each kind of measurement turns latent states into observations.

A kind is a frozen dataclass (a subclass of :class:`Instrument`); the catalogue
(:mod:`.catalogue`) holds the instances, as data. Conventions for inputs (window means or
daily series in [0, 1], NaN propagates) are in the package docstring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...timepoints import parse_time_point

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


def as_float(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def nan_to_false(flag: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = flag.astype(float)
    out[np.isnan(x)] = np.nan
    return out


def weighted_composite(arrays: Mapping[str, np.ndarray], reads: Sequence[str],
                       weights: Sequence[float]) -> np.ndarray:
    """The latent composite in [0, 1]: the mean of the read latents weighted by |w|, a
    latent with w < 0 read reversed (1 - x)."""
    total = sum(abs(w) for w in weights)
    c = np.zeros_like(next(iter(arrays.values())), dtype=float)
    for r, w in zip(reads, weights, strict=True):
        x = arrays[r]
        c = c + abs(w) * (x if w > 0 else 1.0 - x)
    return c / total


def _round_to(x: np.ndarray, lo: float, step: float) -> np.ndarray:
    return lo + np.round((x - lo) / step) * step


@dataclass(frozen=True)
class Norm:
    """An instrument's figures in its reference population, and which are published.

    ``population`` is the preset that stands for the sample the figures describe
    (``sample`` says who and why), measured ``at`` ``dayN`` (N days after the preset's
    default start) or ``ppN`` (postpartum day N). ``mean`` and ``sd`` are the observed score
    mean and between-person SD (for a log link: geometric mean, SD of ln score);
    ``reliability`` is the share of observed variance that is true-score variance;
    (None where the kind does not use them and none is published);
    ``test_retest`` the (low, high) range of the retest correlation over ``retest_days``
    days (0 = the same period recalled twice). ``published`` names the figures that are
    published values (the rest are declared guesses, said in the instrument's ``guess``).
    """

    population: str
    at: str
    sample: str
    mean: float | None
    sd: float | None
    reliability: float
    test_retest: tuple[float, float] | None = None
    retest_days: int | None = None
    published: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if parse_time_point(self.at) is None or self.at.startswith("gw"):
            raise ValueError(f"norm of {self.population!r}: at must be 'dayN' or 'ppN'")
        if (self.sd is not None and self.sd <= 0) or not 0.0 < self.reliability <= 1.0:
            raise ValueError("norm: sd must be > 0 and reliability in (0, 1]")
        if (self.test_retest is None) != (self.retest_days is None):
            raise ValueError("norm: test_retest and retest_days go together")
        if self.retest_days is not None and (
            int(self.retest_days) != self.retest_days or self.retest_days < 0
        ):
            raise ValueError("norm: retest_days must be a whole number of days >= 0")
        if self.test_retest is not None and not (
            -1.0 <= self.test_retest[0] <= self.test_retest[1] <= 1.0
        ):
            raise ValueError("norm: test_retest must be a range (low, high) in [-1, 1]")
        for figure in ("mean", "sd"):
            if figure in self.published and getattr(self, figure) is None:
                raise ValueError(f"norm: a published {figure} needs its value")
        unknown = set(self.published) - set(NORM_FIGURES)
        if unknown:
            raise ValueError(f"norm: unknown published figure(s) {sorted(unknown)}")
        if "test_retest" in self.published and self.test_retest is None:
            raise ValueError("norm: a published test_retest needs its range")

    def is_published(self, figure: str) -> bool:
        return figure in self.published


#: Figures a :class:`Norm` may mark as published.
NORM_FIGURES: tuple[str, ...] = ("mean", "sd", "reliability", "test_retest")


@dataclass(frozen=True)
class LatentScale:
    """Mean and unit of an instrument's latent composite in its reference population: the
    composite's SD there, refined where floor, ceiling or rounding would miss the published
    reliability (a use-day recall: mean and SD of true use days).

    Computed by :mod:`dyadsim.trials.instruments.calibrate` (never typed by hand); the
    catalogue reads them from the generated module ``calibrated``.
    """

    mean: float
    sd: float


class NotCalibratedError(ValueError):
    """An instrument whose map needs calibrated constants that are missing."""


#: Below this SD the reference population gives the latent composite no spread to scale.
MIN_LATENT_SD = 1e-4


#: Whom an instrument reads (issue 18 item 4; ICH E9(R1) intercurrent events): ``mother``,
#: her own state or report (missing after her death); ``care``, the care the infant gets,
#: observed with its caregiver (e.g. KIPS: missing after her death and while the infant is
#: placed, when the substitute caregiver would be observed instead); ``infant``, the child
#: itself (measured whoever cares for it; the row says who the caregiver was).
SUBJECTS = {"mother": "the mother's own state or report",
            "care": "the mother's care of her infant, observed with the infant",
            "infant": "the infant, whoever cares for it"}


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """A measurement instrument (base class; concrete kinds are its subclasses).

    Fields: ``name`` (registry id), ``label``, ``construct``, ``reads`` (latent names
    needed), ``window_days`` (averaging window, or series length for ``series=True``),
    ``scale`` (lo, hi), ``integer``, ``reliability`` (used by the error model; None where the
    error model is not a reliability), ``error_model`` (text), ``missing_rate`` (probability
    an observation is missing at an attended assessment), ``source`` (citation), ``guess``
    (what in the map and error model is a declared guess; "" if none), ``series``,
    ``norm`` (the figures of its reference population, where it has one), ``subject``
    (whom it reads: :data:`SUBJECTS`).
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
    norm: Norm | None = None
    subject: str = "mother"

    def __post_init__(self) -> None:
        if not self.reads:
            raise ValueError(f"instrument {self.name!r}: reads must not be empty")
        if self.subject not in SUBJECTS:
            raise ValueError(f"instrument {self.name!r}: subject must be one of "
                             f"{', '.join(SUBJECTS)}")
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
        arr = as_float(value)
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

@dataclass(frozen=True, kw_only=True)
class ScaleScore(Instrument):
    """A continuous or summed score: a latent composite, a linear (or log-linear) map and
    classical-test-theory error.

    ``weights`` align with ``reads``; a negative weight reverses that read (``1 - x``).
    The map is one of two kinds:

    - ``norm`` (reference-scaled): the composite is standardised in the reference
      population (``latent``: its mean and SD there, calibrated) and mapped to the
      published mean with true-score SD ``sqrt(reliability) * sd``; the error SD is
      ``sqrt(1 - reliability) * sd``. So in the reference population the observed SD is
      ``sd`` and the true-score share of its variance is ``reliability`` (Lord & Novick
      1968, classical test theory), up to floor, ceiling and rounding. Where the model gives
      the composite no spread there, ``assumed_latent_sd`` (a declared guess) is the unit.
    - ``anchors``: the line through two declared points ``(composite, true score)`` with
      error SD ``sd_obs * sqrt(1 - reliability)`` (for an instrument whose error, not its
      population spread, is what is published: Finnegan's inter-rater SD).

    ``sd_obs`` and ``reliability`` are the norm's when there is one. ``resolution`` is the
    rounding step (default 1 when ``integer``, none otherwise).
    """

    weights: tuple[float, ...]
    sd_obs: float
    anchors: tuple[Anchor, Anchor] | None = None
    latent: LatentScale | None = None
    assumed_latent_sd: float | None = None
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
        if self.link not in ("linear", "log"):
            raise ValueError(f"instrument {self.name!r}: link must be 'linear' or 'log'")
        if self.sd_obs <= 0:
            raise ValueError(f"instrument {self.name!r}: sd_obs must be positive")
        if (self.anchors is None) == (self.norm is None):
            raise ValueError(f"instrument {self.name!r}: give either a norm or two anchors")
        lo, hi = self.scale
        if self.link == "log" and lo <= 0:
            raise ValueError(f"instrument {self.name!r}: a log link needs positive scores")
        if self.norm is not None:
            self._check_norm()
        else:
            self._check_anchors()
        step = self.step
        if step is not None and not math.isclose(((hi - lo) / step) % 1.0, 0.0, abs_tol=1e-9):
            raise ValueError(f"instrument {self.name!r}: scale is not a multiple of resolution")

    def _check_norm(self) -> None:
        norm = self.norm
        assert norm is not None
        if norm.mean is None or norm.sd is None:
            raise ValueError(f"instrument {self.name!r}: a reference-scaled score needs a "
                             "norm mean and SD")
        if norm.sd != self.sd_obs or norm.reliability != self.reliability:
            raise ValueError(
                f"instrument {self.name!r}: sd_obs and reliability must be the norm's"
            )
        if self.link == "log" and norm.mean <= 0:
            raise ValueError(f"instrument {self.name!r}: a log link needs a positive mean")
        if not self.scale[0] <= norm.mean <= self.scale[1]:
            raise ValueError(f"instrument {self.name!r}: norm mean outside the scale")
        if self.assumed_latent_sd is not None and self.assumed_latent_sd <= 0:
            raise ValueError(f"instrument {self.name!r}: assumed_latent_sd must be positive")

    def _check_anchors(self) -> None:
        anchors = self.anchors
        if anchors is None or len(anchors) != 2 or anchors[0].latent == anchors[1].latent:
            raise ValueError(f"instrument {self.name!r}: needs two anchors at distinct latents")
        if self.link == "log" and min(a.score for a in anchors) <= 0:
            raise ValueError(f"instrument {self.name!r}: a log link needs positive scores")
        lo, hi = self.scale
        ends = self.map_latent(np.array([0.0, 1.0]), clip=False)
        if ends.min() < lo - _TOL or ends.max() > hi + _TOL:
            raise ValueError(
                f"instrument {self.name!r}: the latent map runs from {ends[0]:g} to "
                f"{ends[1]:g}, outside the scale {self.scale}"
            )

    @property
    def step(self) -> float | None:
        """Rounding step of observed scores (None = not rounded)."""
        if self.resolution is not None:
            return float(self.resolution)
        return 1.0 if self.integer else None

    @property
    def sem(self) -> float:
        """Standard error of measurement, SD_obs*sqrt(1 - reliability)."""
        return float(self.sd_obs * math.sqrt(1.0 - float(self.reliability or 0.0)))

    @property
    def latent_unit(self) -> float:
        """The composite's SD in the reference population (the map's unit), or the declared
        ``assumed_latent_sd`` where the model gives it no spread there."""
        if self.latent is None:
            raise NotCalibratedError(
                f"instrument {self.name!r} has no calibrated latent scale; run "
                "python -m dyadsim.trials.instruments.calibrate"
            )
        if self.latent.sd >= MIN_LATENT_SD:
            return self.latent.sd
        if self.assumed_latent_sd is None:
            raise NotCalibratedError(
                f"instrument {self.name!r}: its latent composite has no spread in the "
                f"reference population {self.norm.population!r} (SD {self.latent.sd:.2g}); "
                "declare assumed_latent_sd"
            )
        return self.assumed_latent_sd

    def composite(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The weighted latent composite in [0, 1] that the score is a function of."""
        arrays, _ = self._prepare(inputs)
        return self._composite(arrays)

    def map_latent(self, c: Any, *, clip: bool = True) -> np.ndarray:
        """True score at latent composite ``c``."""
        c = as_float(c)
        if self.norm is not None:
            norm = self.norm
            unit = self.latent_unit  # raises NotCalibratedError before calibration
            z = (c - self.latent.mean) / unit  # type: ignore[union-attr]
            centre = math.log(norm.mean) if self.link == "log" else norm.mean
            out = centre + math.sqrt(norm.reliability) * norm.sd * z
            if self.link == "log":
                with np.errstate(over="ignore"):
                    out = np.exp(out)
        else:
            (a, b) = self.anchors  # type: ignore[misc]
            t = (c - a.latent) / (b.latent - a.latent)
            if self.link == "log":
                out = np.exp(math.log(a.score) + t * (math.log(b.score) - math.log(a.score)))
            else:
                out = a.score + t * (b.score - a.score)
        return np.clip(out, *self.scale) if clip else out

    def _composite(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return weighted_composite(arrays, self.reads, self.weights)

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

    A respondent under-reports by the share ``underreport`` (denial: reported = ``(1 -
    underreport) * true days``, the same at every recall, so it biases the count without
    lowering its retest reliability), then recall noise N(0, SEM) is added for anyone with
    at least one use day (abstinent respondents report 0). The SEM is set by the reference
    population (``latent``: mean and SD of true use days there, calibrated):
    ``SEM = (1 - underreport) * SD * sqrt((1 - reliability) / reliability)``, so that recall
    noise is the ``1 - reliability`` share of the reported days' variance there (classical
    test theory).
    """

    underreport: float = 0.2
    latent: LatentScale | None = None
    series: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.underreport < 1.0:
            raise ValueError(f"instrument {self.name!r}: underreport must be in [0, 1)")
        if tuple(self.scale) != (0, self.window_days):
            raise ValueError(f"instrument {self.name!r}: scale must be (0, window_days)")
        if self.reliability is None:
            raise ValueError(f"instrument {self.name!r}: recall needs a reliability")

    @property
    def sem(self) -> float:
        """Recall-noise SD in days (see the class docstring)."""
        if self.latent is None:
            raise NotCalibratedError(
                f"instrument {self.name!r} has no calibrated use-day SD; run "
                "python -m dyadsim.trials.instruments.calibrate"
            )
        rel = float(self.reliability or 1.0)
        return float((1.0 - self.underreport) * self.latent.sd * math.sqrt((1.0 - rel) / rel))

    def with_window(self, days: int) -> UseDaysRecall:
        """A copy recalling ``days`` days; the use-day scale is resized in proportion."""
        k = int(days) / self.window_days
        latent = None if self.latent is None else LatentScale(
            self.latent.mean * k, self.latent.sd * k)
        return replace(self, window_days=int(days), scale=(0, int(days)), latent=latent)

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        x = arrays[self.reads[0]]
        return x.sum(axis=1)  # NaN anywhere in the window -> NaN

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        nan = np.isnan(true)
        days = np.where(nan, 0, true).astype(np.int64)
        reported = days * (1.0 - self.underreport)
        noise = rng.normal(0.0, self.sem, size=n)
        reported = np.where(days > 0, reported + noise, 0.0)
        reported = np.clip(np.round(np.clip(reported, *self.scale)), *self.scale)
        reported[nan] = np.nan
        return reported


@dataclass(frozen=True, kw_only=True)
class DoseRecall(Instrument):
    """Timeline follow-back of opioid doses: the mean daily dose over the window in oral
    morphine milligram equivalents (MME/day).

    Reads two daily series: the amount taken beyond any prescription (a share of
    ``mme_full_scale``) and the prescribed opioid's dose coverage (1 = the full prescribed
    dose of ``prescribed_mme``). True dose = window mean of ``mme_full_scale * amount +
    prescribed_mme * coverage``. The respondent recalls it with a multiplicative error,
    ``true * exp(N(0, recall_sd) - recall_sd**2 / 2)`` (mean-unbiased, proportional to the
    dose), rounded to 1 MME and clipped to the scale.
    """

    mme_full_scale: float
    prescribed_mme: float
    recall_sd: float
    series: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.reads) != 2:
            raise ValueError(f"instrument {self.name!r}: reads (amount, prescribed coverage)")
        if self.mme_full_scale <= 0 or self.prescribed_mme < 0 or self.recall_sd < 0:
            raise ValueError(f"instrument {self.name!r}: MME scales and recall_sd must be "
                             ">= 0 (full scale > 0)")
        if tuple(self.scale) != (0, self.mme_full_scale + self.prescribed_mme):
            raise ValueError(f"instrument {self.name!r}: scale must be (0, full scale + "
                             "prescribed MME)")

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        amount, coverage = (arrays[r] for r in self.reads)
        return (self.mme_full_scale * amount + self.prescribed_mme * coverage).mean(axis=1)

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        true = self._true(arrays)
        sd = self.recall_sd
        recalled = true * np.exp(rng.normal(-0.5 * sd**2, sd, size=n))
        return np.clip(np.round(recalled), *self.scale)


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
        return nan_to_false(pos, true)


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
    comp = as_float(compliance)
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
    s = as_float(series)
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
        return nan_to_false(np.nan_to_num(last) > 0.0, last)

    def _observe(
        self, arrays: dict[str, np.ndarray], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        return self._true(arrays)

