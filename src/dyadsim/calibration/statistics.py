"""The statistics a target may report, computed from one replicated study's per-dyad
values as the study's authors computed them (complete cases at the time point: a dyad lost
to follow-up or with a missing observation is left out, as in a completers' analysis).

A registry: each statistic is a pure function of per-dyad arrays. Binary measures are 0/1
(NaN missing); event-day outcomes are study days (NaN: no event in follow-up).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..model import outcomes as model_outcomes
from ..stats import odds_ratio_cells, standardized_difference

__all__ = ["OUTCOMES", "STATISTIC_FUNCTIONS", "Groups", "compute_statistic"]

#: Per-dyad outcomes of a simulation a target can read (``measure.outcome``): the registry's.
OUTCOMES: tuple[str, ...] = tuple(model_outcomes.OUTCOMES)


@dataclass(frozen=True)
class Groups:
    """The per-dyad values a statistic needs: ``y`` (the measure) and ``arm`` (arm name per
    dyad); ``z`` the partner measure of a correlation; ``baseline`` the measure at
    ``change_from`` when ``y`` is a change from it; ``exposure`` the person-days behind
    each dyad's event count ``y`` (a ``rate``, per ``per`` person-days);
    ``treatment``/``control`` or ``arm_name`` select dyads; ``keys`` the observed components;
    ``follow_up`` the last study day."""

    y: np.ndarray
    arm: np.ndarray
    z: np.ndarray | None = None
    baseline: np.ndarray | None = None
    exposure: np.ndarray | None = None
    per: float = 100_000.0
    treatment: str | None = None
    control: str | None = None
    arm_name: str | None = None
    keys: Sequence[str] = ()
    follow_up: float = math.inf

    def one(self) -> np.ndarray:
        rows = np.ones(self.y.shape[0], bool) if self.arm_name is None \
            else self.arm == self.arm_name
        return self.y[rows]

    def two(self) -> tuple[np.ndarray, np.ndarray]:
        return self.y[self.arm == self.treatment], self.y[self.arm == self.control]


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def _mean(x: np.ndarray) -> float:
    x = _finite(x)
    return float(x.mean()) if x.size else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b != 0 and math.isfinite(a) and math.isfinite(b) else math.nan


def proportion(g: Groups) -> float:
    return _mean(g.one())


def mean(g: Groups) -> float:
    return _mean(g.one())


def sd(g: Groups) -> float:
    x = _finite(g.one())
    return float(x.std(ddof=1)) if x.size > 1 else math.nan


def ratio_of_means(g: Groups) -> float:
    t, c = g.two()
    return _ratio(_mean(t), _mean(c))


def risk_ratio(g: Groups) -> float:
    return ratio_of_means(g)


def relative_reduction(g: Groups) -> float:
    """1 - treatment/control, of a risk or of a mean (Reese 2021: 'down by 63%')."""
    r = ratio_of_means(g)
    return 1.0 - r if math.isfinite(r) else math.nan


def odds_ratio(g: Groups) -> float:
    """Odds ratio of a 0/1 measure; 0.5 added to every cell when one is empty
    (Haldane-Anscombe; :func:`dyadsim.stats.odds_ratio_cells`)."""
    t, c = (_finite(x) for x in g.two())
    if t.size == 0 or c.size == 0:  # an empty arm: undefined, not 1 from the added halves
        return math.nan
    return odds_ratio_cells(t.sum(), t.size - t.sum(), c.sum(), c.size - c.sum())[0]


def cohens_d(g: Groups) -> float:
    """(mean treatment - mean control) / pooled SD (Cohen 1988;
    :func:`dyadsim.stats.standardized_difference`, as the trials' analyses)."""
    return standardized_difference(*(_finite(x) for x in g.two()))["d"]


def smd(g: Groups) -> float:
    """Hedges' g: Cohen's d with Hedges' exact small-sample correction J (Hedges 1981; the
    trials' analyses use the same, :func:`dyadsim.stats.hedges_j`), as meta-analyses report
    it."""
    return standardized_difference(*(_finite(x) for x in g.two()))["g"]


def _changes(g: Groups, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(change, baseline) of the complete pairs among ``rows``."""
    if g.baseline is None:
        return np.empty(0), np.empty(0)
    y, b = np.asarray(g.y, float)[rows], np.asarray(g.baseline, float)[rows]
    ok = np.isfinite(y) & np.isfinite(b)
    return y[ok], b[ok]


def standardized_mean_change(g: Groups) -> float:
    """The pre-post-control effect size of meta-analyses (Morris 2008, Organ Res Methods
    11:364, d_ppc2): the difference of the arms' mean changes over the pooled pre-test SD,
    times the small-sample correction 1 - 3 / (4 (n_T + n_C - 2) - 1); complete pairs."""
    (dt, bt), (dc, bc) = (_changes(g, g.arm == a) for a in (g.treatment, g.control))
    nt, nc = dt.size, dc.size
    if nt < 2 or nc < 2:
        return math.nan
    sd_pre = math.sqrt(((nt - 1) * bt.var(ddof=1) + (nc - 1) * bc.var(ddof=1))
                       / (nt + nc - 2))
    correction = 1 - 3 / (4 * (nt + nc - 2) - 1)
    return correction * float(dt.mean() - dc.mean()) / sd_pre if sd_pre > 0 else math.nan


def relative_change(g: Groups) -> float:
    """Within one group: mean at the time point over mean at ``change_from``, minus 1
    (e.g. 'pain fell by 30% from baseline'); complete pairs."""
    rows = np.ones(len(g.y), bool) if g.arm_name is None else g.arm == g.arm_name
    change, base = _changes(g, rows)
    return _ratio(float(change.mean()), float(base.mean())) if change.size else math.nan


def rate(g: Groups) -> float:
    """Events per ``per`` person-days at risk, pooled over the group's dyads (the
    incidence rate of cohort studies, e.g. overdoses per 100,000 person-days in the first
    postpartum year, person-time ending at death)."""
    if g.exposure is None:
        return math.nan
    rows = np.ones(len(g.y), bool) if g.arm_name is None else g.arm == g.arm_name
    y, t = np.asarray(g.y, float)[rows], np.asarray(g.exposure, float)[rows]
    ok = np.isfinite(y) & np.isfinite(t)
    return g.per * float(y[ok].sum()) / float(t[ok].sum()) if t[ok].sum() > 0 else math.nan


def hazard_ratio(g: Groups) -> float:
    """Cox proportional-hazards ratio of an event-day outcome, censored at the end of
    follow-up (:func:`dyadsim.trials.analysis.cox_ph`, as the trials' analyses fit it;
    NaN where it cannot be fitted)."""
    from ..trials.analysis import cox_ph

    rows = np.isin(g.arm, [g.treatment, g.control])
    day = np.asarray(g.y, float)[rows]
    event = np.isfinite(day) & (day <= g.follow_up)
    try:
        fit = cox_ph(np.where(event, day, g.follow_up) + 1.0, event.astype(float),
                     (g.arm[rows] == g.treatment).astype(float))
    except (ValueError, np.linalg.LinAlgError):
        return math.nan
    return float(fit["hazard_ratio"]["estimate"])


def correlation(g: Groups) -> float:
    """Pearson correlation of the measure with its partner over complete pairs
    (point-biserial when one is 0/1)."""
    y, z = np.asarray(g.y, float), np.asarray(g.z, float)
    if g.arm_name is not None:
        keep = g.arm == g.arm_name
        y, z = y[keep], z[keep]
    ok = np.isfinite(y) & np.isfinite(z)
    if ok.sum() < 3 or y[ok].std() == 0 or z[ok].std() == 0:
        return math.nan
    return float(np.corrcoef(y[ok], z[ok])[0, 1])


def survival_points(g: Groups) -> dict[str, float]:
    """Cumulative share with the event before study day k, for each observed key k
    (no event in follow-up counts as none; Smyth 2010 reports shares of those followed)."""
    day = np.asarray(g.one(), float)
    if day.size == 0:
        return {k: math.nan for k in g.keys}
    return {k: float((np.nan_to_num(day, nan=np.inf) < float(k)).mean()) for k in g.keys}


def distribution(g: Groups) -> dict[str, float]:
    """Share of each observed category among the dyads with a category."""
    cats = np.asarray(g.one(), dtype=object)
    cats = np.array([c for c in cats if c is not None and c == c and c != "none"], dtype=object)
    if cats.size == 0:
        return {k: math.nan for k in g.keys}
    return {k: float((cats == k).mean()) for k in g.keys}


STATISTIC_FUNCTIONS: dict[str, Callable[[Groups], float | dict[str, float]]] = {
    "proportion": proportion, "mean": mean, "sd": sd,
    "relative_reduction": relative_reduction, "risk_ratio": risk_ratio,
    "odds_ratio": odds_ratio, "hazard_ratio": hazard_ratio, "cohens_d": cohens_d,
    "smd": smd, "ratio_of_means": ratio_of_means, "correlation": correlation,
    "survival_points": survival_points, "distribution": distribution,
    "standardized_mean_change": standardized_mean_change, "relative_change": relative_change,
    "rate": rate,
}


def compute_statistic(statistic: str, groups: Groups) -> float | dict[str, float]:
    """The statistic of one replicated study (NaN where it is undefined, e.g. an empty arm)."""
    fn = STATISTIC_FUNCTIONS[statistic]
    with np.errstate(all="ignore"):
        out = fn(groups)
    if isinstance(out, Mapping):
        return {k: float(v) for k, v in out.items()}
    return float(out)
