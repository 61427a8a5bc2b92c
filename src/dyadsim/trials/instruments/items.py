"""Item-level instruments: each item answered from a graded-response model of the latent,
the total scored as the manual scores it.

A multi-item questionnaire (PSS-10, COMM, FFMQ, EPDS, PBQ, the KIPS items, each ASQ-3
domain) is simulated item by item (issue 20 item 4), so its reliability is an observable
property of the responses, not a constant of the map:

- **the latent**: the instrument's composite of the model's nodes (as for a
  :class:`~.kinds.ScaleScore`), standardised in its reference population (``theta = (c -
  m) / s``, ``m`` and ``s`` the composite's mean and SD there, calibrated), which is the
  metric IRT parameters are published in (theta ~ N(0, 1) in the calibration sample);
- **the items**: Samejima's (1969) graded-response model. Item ``j`` has discrimination
  ``a_j`` and ordered thresholds ``b_j1 < ... < b_j(K-1)``; ``P(X_j >= k | theta) =
  1 / (1 + exp(-a_j (theta - b_jk)))``, items independent given theta (local
  independence). ``X_j`` is the keyed response (0 = least of the construct);
- **the form**: a reverse-keyed item is printed the other way round, so the response on
  the form is ``K - 1 - X_j`` and the manual's key reverses it back; the total is the
  manual's sum (or mean) of the item scores (``points`` per keyed category: 0-4, 1-5, the
  ASQ-3's 0/5/10).

Where an instrument has no published item parameters (none of those here do in the shared
references), the parameters are a declared guess with one rule, said in the instrument's
``guess``: equal discriminations, item locations evenly spread over
+-:data:`ITEM_LOCATION_SPREAD`, equally spaced thresholds; the common discrimination, the
location and the threshold spacing are then *derived* (:func:`derive_pattern`, by
Gauss-Hermite quadrature over theta ~ N(0, 1), no simulation) so that the total's mean, SD
and Cronbach's alpha are the norm's published (or declared) figures. The model's own
latent is not normal (skewed, clipped, flat in some populations), so the alpha, omega and
parallel-forms r realised in a simulated population are measurements, reported by
``dyadsim instruments --check``, not figures true by construction.

References: Samejima F (1969) Psychometrika Monograph 17; Cronbach LJ (1951) Psychometrika
16:297; McDonald RP (1999) *Test Theory: A Unified Treatment* (omega); Lord & Novick (1968)
(parallel forms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .kinds import (
    MIN_LATENT_SD,
    Instrument,
    LatentScale,
    NotCalibratedError,
    weighted_composite,
)

#: Bounds every item parameter must lie in (a check on declarations, not a prior):
#: discriminations of 0.2-6 and thresholds within +-8 SD of the reference population span
#: the values reported for questionnaire items (guess: wider than any GRM table seen).
DISCRIMINATION_BOUNDS = (0.2, 6.0)
THRESHOLD_BOUNDS = (-8.0, 8.0)

#: Guess: item locations evenly spread over +-0.5 theta (items differ in how common their
#: symptom or behaviour is; no published item locations were retrieved).
ITEM_LOCATION_SPREAD = 0.5

#: Gauss-Hermite nodes of the closed-form (quadrature) moments.
QUADRATURE_NODES = 121


@dataclass(frozen=True)
class ItemDesign:
    """The manual's items: how many, the response options, their scores and the key.

    ``options`` are the response options in keyed order (least of the construct first);
    ``points`` the score of each keyed option; ``reverse_keyed`` the 1-based numbers of the
    items the manual reverse-scores; ``scoring`` ``"sum"`` or ``"mean"`` of the item
    scores; ``source`` where items, options and key come from.
    """

    items: int
    options: tuple[str, ...]
    points: tuple[float, ...]
    reverse_keyed: tuple[int, ...]
    scoring: Literal["sum", "mean"]
    source: str

    def __post_init__(self) -> None:
        if self.items < 2:
            raise ValueError("an item design needs at least 2 items")
        if len(self.options) < 2 or len(self.points) != len(self.options):
            raise ValueError("an item design needs >= 2 options, one score for each")
        if list(self.points) != sorted(self.points) or len(set(self.points)) != len(self.points):
            raise ValueError("option scores must increase in keyed order")
        if not set(self.reverse_keyed) <= set(range(1, self.items + 1)):
            raise ValueError("reverse_keyed must name items 1..items")
        if self.scoring not in ("sum", "mean"):
            raise ValueError("scoring must be 'sum' or 'mean'")

    @property
    def categories(self) -> int:
        return len(self.options)

    @property
    def total_range(self) -> tuple[float, float]:
        k = 1 if self.scoring == "mean" else self.items
        return (k * self.points[0], k * self.points[-1])

    def reversed_mask(self) -> np.ndarray:
        mask = np.zeros(self.items, dtype=bool)
        mask[[j - 1 for j in self.reverse_keyed]] = True
        return mask

    def score(self, responses: Any) -> np.ndarray:
        """The manual's total from responses as printed on the form, shape (n, items)
        (NaN rows give NaN): reverse-keyed items are reversed, options scored, summed (or
        averaged)."""
        r = np.asarray(responses, dtype=float)
        keyed = np.where(self.reversed_mask()[None, :], self.categories - 1 - r, r)
        pts = np.asarray(self.points, dtype=float)
        idx = np.nan_to_num(keyed, nan=0).astype(np.int64)
        s = np.where(np.isnan(keyed), np.nan, pts[idx])
        return s.mean(axis=1) if self.scoring == "mean" else s.sum(axis=1)


@dataclass(frozen=True)
class GradedResponse:
    """Samejima's graded-response item parameters: ``discrimination`` (one ``a`` per item)
    and ``thresholds`` (one increasing tuple of ``K - 1`` per item), on the theta metric of
    the reference population. ``source`` cites them, or says ``guess`` and why."""

    discrimination: tuple[float, ...]
    thresholds: tuple[tuple[float, ...], ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.discrimination) != len(self.thresholds):
            raise ValueError("one discrimination and one threshold tuple per item")
        lo, hi = DISCRIMINATION_BOUNDS
        if any(not lo <= a <= hi for a in self.discrimination):
            raise ValueError(f"discriminations must lie in [{lo}, {hi}]")
        tlo, thi = THRESHOLD_BOUNDS
        for b in self.thresholds:
            if any(not tlo <= x <= thi for x in b) or any(
                    x >= y for x, y in zip(b, b[1:], strict=False)):
                raise ValueError(f"thresholds must increase and lie in [{tlo}, {thi}]")
        if not self.source:
            raise ValueError("item parameters need a source (or the word guess and why)")

    @property
    def a(self) -> np.ndarray:
        return np.asarray(self.discrimination, dtype=float)

    @property
    def b(self) -> np.ndarray:
        return np.asarray(self.thresholds, dtype=float)

    def cumulative(self, theta: np.ndarray) -> np.ndarray:
        """``P(X_j >= k | theta)`` for k = 1..K-1, shape (n, items, K-1)."""
        t = np.asarray(theta, dtype=float)[:, None, None]
        z = self.a[None, :, None] * (t - self.b[None, :, :])
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    def category_probabilities(self, theta: np.ndarray) -> np.ndarray:
        """``P(X_j = k | theta)``, shape (n, items, K)."""
        c = self.cumulative(theta)
        n, j, _ = c.shape
        upper = np.concatenate([np.ones((n, j, 1)), c], axis=2)
        lower = np.concatenate([c, np.zeros((n, j, 1))], axis=2)
        return upper - lower

    def draw(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Keyed responses (0..K-1), shape (n, items): one uniform per item, compared with
        the nested cumulative probabilities."""
        c = self.cumulative(theta)
        u = rng.random(c.shape[:2])
        return (u[:, :, None] < c).sum(axis=2).astype(float)


def _moments(design: ItemDesign, model: GradedResponse
             ) -> dict[str, float | np.ndarray]:
    """Population moments of the total under theta ~ N(0, 1), by Gauss-Hermite quadrature:
    mean, SD, Cronbach's alpha, reliability (true-score share), item variances."""
    x, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    w = w / w.sum()
    p = model.category_probabilities(x)  # (q, J, K)
    pts = np.asarray(design.points, dtype=float)
    m = (p * pts).sum(axis=2)  # E[score_j | theta]
    v = (p * pts**2).sum(axis=2) - m**2  # Var[score_j | theta]
    item_mean = w @ m
    item_var = w @ v + w @ (m - item_mean) ** 2
    true_total = m.sum(axis=1)
    true_var = float(w @ (true_total - true_total @ w) ** 2)
    total_var = float(w @ v.sum(axis=1)) + true_var
    j = design.items
    alpha = j / (j - 1) * (1.0 - float(item_var.sum()) / total_var) if total_var > 0 else 0.0
    k = 1.0 / j if design.scoring == "mean" else 1.0
    return {"mean": k * float(item_mean.sum()), "sd": k * math.sqrt(total_var),
            "alpha": alpha, "reliability": true_var / total_var if total_var > 0 else 0.0,
            "item_var": item_var * k**2}


def population_moments(design: ItemDesign, model: GradedResponse) -> dict[str, float]:
    """Mean, SD, Cronbach's alpha and reliability of the total when theta ~ N(0, 1)
    (closed form by quadrature: the known answer the simulated figures are tested against)."""
    got = _moments(design, model)
    return {k: float(v) for k, v in got.items() if k != "item_var"}  # type: ignore[arg-type]


def patterned(design: ItemDesign, a: float, location: float, spacing: float,
              source: str) -> GradedResponse:
    """Item parameters of the guess rule (module docstring): discrimination ``a`` for every
    item, item ``j`` located at ``location + offset_j`` (offsets evenly over
    +-:data:`ITEM_LOCATION_SPREAD`), thresholds ``spacing`` apart around it."""
    j, k = design.items, design.categories
    offsets = np.linspace(-ITEM_LOCATION_SPREAD, ITEM_LOCATION_SPREAD, j)
    steps = (np.arange(k - 1) - (k - 2) / 2.0) * spacing
    tlo, thi = THRESHOLD_BOUNDS
    b = np.clip(location + offsets[:, None] + steps[None, :], tlo, thi)
    return GradedResponse(discrimination=(float(a),) * j,
                          thresholds=tuple(tuple(float(x) for x in row) for row in b),
                          source=source)


#: Bounds of the guess rule's threshold spacing (theta units).
SPACING_BOUNDS = (0.05, 4.0)


def derive_pattern(design: ItemDesign, mean: float, sd: float, alpha: float
                   ) -> tuple[float, float, float]:
    """The guess rule's (discrimination, location, spacing) (:func:`patterned`) whose total
    has ``mean``, ``sd`` and Cronbach's ``alpha`` when theta ~ N(0, 1): least squares on
    the three closed-form moments over (log a, location, log spacing), no simulation. A
    figure the item design cannot reach is missed (:func:`population_moments` of the
    result says by how much)."""
    from scipy.optimize import least_squares

    lo, hi = design.total_range

    def unpack(v: np.ndarray) -> tuple[float, float, float]:
        return (float(np.clip(math.exp(v[0]), *DISCRIMINATION_BOUNDS)), float(v[1]),
                float(np.clip(math.exp(v[2]), *SPACING_BOUNDS)))

    def resid(v: np.ndarray) -> np.ndarray:
        got = _moments(design, patterned(design, *unpack(v), source="derivation"))
        return np.array([(float(got["mean"]) - mean) / (hi - lo) * 10,
                         (float(got["sd"]) - sd) / sd, (float(got["alpha"]) - alpha) * 5])

    # start: the location that puts the mean option at the norm's mean item score
    pts = np.asarray(design.points, dtype=float)
    item_mean = mean if design.scoring == "mean" else mean / design.items
    share = (item_mean - pts[0]) / (pts[-1] - pts[0])
    start_loc = -math.log(max(share, 1e-3) / max(1 - share, 1e-3))
    best = None
    for a0 in (1.0, 2.5):
        fit = least_squares(resid, np.array([math.log(a0), start_loc, 0.0]),
                            xtol=1e-10, ftol=1e-10)
        if best is None or fit.cost < best.cost:
            best = fit
    assert best is not None
    a, loc, spacing = unpack(best.x)
    return round(a, 6), round(loc, 6), round(spacing, 6)


@dataclass(frozen=True, kw_only=True)
class ItemScale(Instrument):
    """A multi-item questionnaire answered item by item (module docstring).

    ``weights`` align with ``reads`` (a negative weight reverses that read) and form the
    latent composite; ``latent`` is its mean and SD in the reference population
    (calibrated, the theta metric); ``design`` the manual's items and key; ``items`` the
    graded-response parameters. ``reliability`` holds the norm's (published or declared)
    figure the item parameters were derived from; the realised one is measured.
    """

    weights: tuple[float, ...]
    design: ItemDesign
    items: GradedResponse
    latent: LatentScale | None = None
    #: the populations (and time points) the shipped examples give the instrument in,
    #: besides its reference population: the check measures it there too.
    used_in: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.norm is None:
            raise ValueError(f"instrument {self.name!r}: an item scale needs a norm")
        if len(self.weights) != len(self.reads) or not any(self.weights):
            raise ValueError(f"instrument {self.name!r}: weights must align with reads")
        if len(self.items.discrimination) != self.design.items:
            raise ValueError(f"instrument {self.name!r}: one item parameter set per item")
        if self.items.b.shape[1] != self.design.categories - 1:
            raise ValueError(f"instrument {self.name!r}: K - 1 thresholds per item")
        if tuple(float(s) for s in self.scale) != self.design.total_range:
            raise ValueError(f"instrument {self.name!r}: scale must be the total's range "
                             f"{self.design.total_range}")

    @property
    def latent_unit(self) -> float:
        if self.latent is None:
            raise NotCalibratedError(
                f"instrument {self.name!r} has no calibrated latent scale; run "
                "python -m dyadsim.trials.instruments.calibrate")
        if self.latent.sd < MIN_LATENT_SD:
            raise NotCalibratedError(
                f"instrument {self.name!r}: its latent composite has no spread in the "
                f"reference population (SD {self.latent.sd:.2g})")
        return self.latent.sd

    def composite(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """The weighted latent composite in [0, 1] the items respond to."""
        arrays, _ = self._prepare(inputs)
        return self._composite(arrays)

    def _composite(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return weighted_composite(arrays, self.reads, self.weights)

    def theta(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The latent on the reference population's standard metric."""
        unit = self.latent_unit
        return (self._composite(arrays) - self.latent.mean) / unit  # type: ignore[union-attr]

    def responses(self, inputs: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        """Item responses as printed on the form (0 = the first option), shape
        (n, items); a reverse-keyed item's response is the keyed one turned round. Rows of
        NaN where the latent is missing; no instrument-level missingness."""
        arrays, _ = self._prepare(inputs)
        return self._responses(arrays, rng)

    def _responses(self, arrays: dict[str, np.ndarray], rng: np.random.Generator
                   ) -> np.ndarray:
        th = self.theta(arrays)
        nan = np.isnan(th)
        keyed = self.items.draw(np.where(nan, 0.0, th), rng)
        k = self.design.categories
        form = np.where(self.design.reversed_mask()[None, :], k - 1 - keyed, keyed)
        form[nan] = np.nan
        return form

    def administer(self, inputs: Mapping[str, Any], rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(responses, totals): the form's item responses and the manual's totals, with the
        instrument's missingness applied to both (a missing questionnaire is a NaN row)."""
        arrays, _ = self._prepare(inputs)
        form = self._responses(arrays, rng)
        total = self._apply_missing(self.design.score(form), rng)
        form[np.isnan(total)] = np.nan
        return form, total

    def measure(self, inputs: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
        return self.administer(inputs, rng)[1]

    def _true(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The expected total given theta (the IRT true score)."""
        th = self.theta(arrays)
        nan = np.isnan(th)
        p = self.items.category_probabilities(np.where(nan, 0.0, th))
        m = (p * np.asarray(self.design.points, dtype=float)).sum(axis=2)
        out = m.mean(axis=1) if self.design.scoring == "mean" else m.sum(axis=1)
        out[nan] = np.nan
        return out

    def keyed(self, responses: Any) -> np.ndarray:
        """The form's responses with reverse-keyed items turned round (0 = least of the
        construct on every item): what alpha and omega are computed on, as the manual's
        key scores them."""
        r = np.asarray(responses, dtype=float)
        return np.where(self.design.reversed_mask()[None, :],
                        self.design.categories - 1 - r, r)

    def with_latent(self, latent: LatentScale) -> ItemScale:
        return replace(self, latent=latent)


# ---------------------------------------------------------------------------------------
# observable reliability: alpha (pingouin), omega (semopy), parallel forms
# ---------------------------------------------------------------------------------------


def _answered(responses: Any) -> np.ndarray:
    r = np.asarray(responses, dtype=float)
    return r[~np.isnan(r).any(axis=1)]


def cronbach_alpha(responses: Any) -> float | None:
    """Cronbach's (1951) alpha of the items (rows with any missing item dropped), by
    ``pingouin.cronbach_alpha``; None with fewer than 3 respondents or no total variance.
    Alpha is the same for the form's responses and the keyed ones only when no item is
    reverse-keyed: pass keyed responses (:meth:`ItemScale.keyed`)."""
    import pandas as pd
    import pingouin

    x = _answered(responses)
    if x.shape[0] < 3 or x.sum(axis=1).std() < 1e-12:
        return None
    return float(pingouin.cronbach_alpha(data=pd.DataFrame(x))[0])


def mcdonald_omega(responses: Any) -> float | None:
    """McDonald's (1999) omega total of the items' sum: a one-factor CFA (``semopy``, ML on
    the covariance matrix), omega = (sum of loadings)^2 / ((sum of loadings)^2 + sum of
    unique variances). Items without variance carry no information and are left out; None
    with fewer than 3 varying items or 10 respondents. Pass keyed responses."""
    import warnings

    import pandas as pd
    import semopy

    x = _answered(responses)
    x = x[:, x.std(axis=0) > 1e-12]
    if x.shape[1] < 3 or x.shape[0] < 10:
        return None
    cols = [f"item{j + 1}" for j in range(x.shape[1])]
    model = semopy.Model("construct =~ " + " + ".join(cols))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(pd.DataFrame(x, columns=cols))
        est = model.inspect()
    loading = est[(est["op"] == "~") & (est["rval"] == "construct")]
    lam = dict(zip(loading["lval"], loading["Estimate"].astype(float), strict=True))
    var = est[(est["op"] == "~~") & (est["lval"] == est["rval"])]
    v = dict(zip(var["lval"], var["Estimate"].astype(float), strict=True))
    factor_sd = math.sqrt(max(v["construct"], 0.0))
    lam_sum = abs(sum(lam[c] for c in cols)) * factor_sd
    unique = sum(max(v[c], 0.0) for c in cols)
    if lam_sum**2 + unique <= 0:
        return None
    return float(lam_sum**2 / (lam_sum**2 + unique))


def parallel_forms_r(total_a: Any, total_b: Any) -> float | None:
    """Correlation of two parallel forms: the same respondents, the same latent, the items
    answered twice with fresh responses (Lord & Novick 1968: its expectation is the
    reliability). None with fewer than 3 pairs or no variance."""
    a, b = np.asarray(total_a, dtype=float), np.asarray(total_b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() < 1e-12 or b[ok].std() < 1e-12:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


# ---------------------------------------------------------------------------------------
# the generated item parameters
# ---------------------------------------------------------------------------------------

ITEM_PARAMETERS_PATH = Path(__file__).with_name("item_parameters.py")


def render_item_parameters(derived: Mapping[str, tuple[tuple[float, float, float],
                                                        tuple[float, float, float]]]) -> str:
    """Source text of the generated ``item_parameters.py``: per instrument, the norm's
    (mean, SD, alpha) the parameters were derived from and the guess rule's (a, location,
    spacing)."""
    lines = [
        '"""Generated by ``python -m dyadsim.trials.instruments.item_generator``; do not edit.',
        "",
        "Graded-response item parameters of the guess rule (items.py), derived by quadrature",
        "over theta ~ N(0, 1) from each item scale's norm (no simulation). Rerun after",
        "changing an item design or a norm's mean, SD or reliability.",
        '"""',
        "",
        "#: instrument -> ((norm mean, SD, alpha), (discrimination, location, spacing))",
        "ITEM_PARAMETERS: dict[str, tuple[tuple[float, float, float], "
        "tuple[float, float, float]]] = {",
    ]
    for name in sorted(derived):
        target, got = derived[name]
        lines.append(f'    "{name}": ({tuple(float(x) for x in target)!r}, '
                     f'{tuple(float(x) for x in got)!r}),')
    lines.append("}")
    return "\n".join(lines) + "\n"


def item_parameters(name: str, design: ItemDesign, mean: float, sd: float, alpha: float,
                    source: str) -> GradedResponse:
    """The instrument's item parameters: the generated ones when they were derived from
    these figures, else derived now (slow; rerun the generator)."""
    from .item_parameters import ITEM_PARAMETERS

    stored = ITEM_PARAMETERS.get(name)
    if stored is not None and stored[0] == (float(mean), float(sd), float(alpha)):
        a, loc, spacing = stored[1]
    else:
        a, loc, spacing = derive_pattern(design, mean, sd, alpha)
    return patterned(design, a, loc, spacing, source)
