"""The analysis methods of a trial: one registry entry per method.

An entry (:class:`Method`) says which effects the method reports (the first is the
default), which optional spec fields it uses, its own spec checks, the nodes it needs
recorded, and ``run()``, which analyses one replicate's data and returns a uniform
:class:`Estimate`: the summary estimate with CI and p, whether it is significant, the
estimand in words, the missing-data method in words, the method's full output
(``detail``) and, where the method has one, a sensitivity analysis. Adding a method is one
entry in :data:`METHODS` (the spec schema, validation, runner and power read it from here).

Significance is ``p < alpha`` for every method (mediation's p comes from the same
bootstrap as its interval). Contrasts are treatment minus control (or treatment / control
for ratios, whose null is 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..stats.missing import IMPUTATION_METHOD
from .analysis import (
    _jsonable,
    binary_outcome,
    cohens_d,
    cox_ph,
    ema_mlm,
    lmm_arm_by_time,
    mediation,
    standardized_mean_change,
    wilson_ci,
)

__all__ = ["METHODS", "AnalysisInput", "Estimate", "Method"]


@dataclass(frozen=True)
class Estimate:
    """One analysis of one trial, in the same shape for every method."""

    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    p: float | None
    estimand: str
    missing_data: str
    detail: Mapping[str, Any]
    sensitivity: Mapping[str, Any] | None = None
    flags: Mapping[str, Any] = field(default_factory=dict)

    def significant(self, alpha: float) -> bool | None:
        if self.p is None or not math.isfinite(self.p):
            return None
        return bool(self.p < alpha)

    def to_dict(self, alpha: float) -> dict[str, Any]:
        return _jsonable({"estimate": self.estimate, "ci_lower": self.ci_lower,
                          "ci_upper": self.ci_upper, "p": self.p,
                          "significant": self.significant(alpha), "estimand": self.estimand,
                          "missing_data": self.missing_data, "flags": dict(self.flags),
                          "sensitivity": self.sensitivity, "detail": self.detail})


@dataclass(frozen=True)
class AnalysisInput:
    """One replicate's data as an analysis sees it: the long table (after dropout), the
    dyads (ids in enrolment order) and their arm names, each dyad's last observed study
    day, the latent node series (for events), the plan, alpha and this analysis' seed."""

    spec: Any
    plan: Any
    data: pd.DataFrame
    ids: np.ndarray
    arms: np.ndarray
    dropout: np.ndarray
    nodes: Mapping[str, np.ndarray]
    seed: int
    alpha: float
    deaths: np.ndarray | None = None  # study day of maternal death per dyad (NaN: none)
    sensitivity: bool = True  # run the tipping-point analyses (replicate runs skip them)

    def values_at(self, instrument: str, timepoint: str, column: str = "value") -> np.ndarray:
        """One value per dyad (NaN / None where missing)."""
        d = self.data
        sub = d.loc[(d["instrument"] == instrument) & (d["timepoint"] == timepoint)]
        out = (np.full(self.ids.shape[0], np.nan) if column == "value"
               else np.full(self.ids.shape[0], None, dtype=object))
        out[sub["dyad_id"].to_numpy() - self.ids[0]] = sub[column].to_numpy()
        return out


Check = Callable[[Any, Any, str], None]
Run = Callable[[AnalysisInput, Any], Estimate]


@dataclass(frozen=True)
class Method:
    """A registry entry (see the module docstring)."""

    name: str
    effects: tuple[str, ...]
    fields: frozenset[str]
    check: Check
    run: Run
    summary: str
    within_arm: bool = False  # a change within one arm (pre_post): no control
    single_arm_effect: str | None = None  # the effect reported without a control arm
    nulls: Mapping[str, float] = field(default_factory=dict)
    event_nodes: Mapping[str, str] = field(default_factory=dict)

    def null(self, effect: str) -> float:
        """The value of ``effect`` under no difference (1 for ratios, else 0)."""
        return self.nulls.get(effect, 0.0)

    def nodes(self, a: Any) -> set[str]:
        """Latent nodes this analysis reads directly (beyond its instruments)."""
        return {self.event_nodes[a.event]} if a.event in self.event_nodes else set()


def _err(field_: str, msg: str) -> ValueError:
    return ValueError(f"{field_}: {msg}")


# ------------------------------------------------------------------------------ checks
def _check_instrument(ctx, a, where: str) -> Any:
    from .instruments import INSTRUMENTS

    if a.instrument is None:
        raise _err(f"{where}.instrument", "required")
    if a.instrument not in ctx.instruments:
        if a.instrument not in INSTRUMENTS:
            raise _err(f"{where}.instrument", f"unknown instrument {a.instrument!r}")
        raise _err(f"{where}.instrument", f"{a.instrument} is not measured in this trial")
    return ctx.instruments[a.instrument]


def _check_timepoint(ctx, a, where: str, required: bool) -> None:
    tps = list(ctx.measured)
    if a.timepoint is not None and a.timepoint not in ctx.measured:
        raise _err(f"{where}.timepoint", f"unknown timepoint {a.timepoint!r}; assessments: "
                   f"{', '.join(tps)}")
    if required and a.timepoint is None:
        raise _err(f"{where}.timepoint", "required")
    if a.timepoint is not None and a.instrument not in ctx.measured[a.timepoint]:
        raise _err(f"{where}.instrument", f"{a.instrument} is not measured at "
                   f"{a.timepoint!r}")


def _check_baseline(ctx, a, where: str) -> None:
    if a.instrument not in ctx.measured[ctx.baseline]:
        raise _err(f"{where}.instrument", f"{a.instrument} is not measured at the baseline "
                   f"({ctx.baseline!r})")
    if a.timepoint == ctx.baseline:
        raise _err(f"{where}.timepoint", "must be after the baseline")


def _check_numeric(ctx, a, where: str) -> None:
    if not ctx.numeric(a.instrument):
        raise _err(f"{where}.instrument", f"{a.instrument} is a coded class; use binary or "
                   "proportion with category")


def _check_scored(ctx, a, where: str) -> None:
    _check_instrument(ctx, a, where)
    _check_timepoint(ctx, a, where, required=True)
    inst = ctx.instruments[a.instrument]
    if a.category is not None:
        if ctx.numeric(a.instrument):
            raise _err(f"{where}.category", f"only for a coded instrument (ssp), not "
                       f"{a.instrument}")
        if a.category not in inst.categories:
            raise _err(f"{where}.category", f"unknown class {a.category!r}; one of "
                       f"{', '.join(inst.categories)}")
        if a.cutoff is not None:
            raise _err(f"{where}.cutoff", "give cutoff or category, not both")
    elif a.cutoff is None:
        raise _err(f"{where}.cutoff", "required (or category, for ssp)")
    elif not ctx.numeric(a.instrument):
        raise _err(f"{where}.category", f"required for {a.instrument} (a coded class)")


def _check_lmm(ctx, a, where: str) -> None:
    _check_instrument(ctx, a, where)
    _check_timepoint(ctx, a, where, required=False)
    _check_baseline(ctx, a, where)
    if sum(a.instrument in v for v in ctx.measured.values()) < 2:
        raise _err(f"{where}.instrument", f"{a.instrument} is measured at one timepoint "
                   "only; lmm needs repeated measures")
    _check_numeric(ctx, a, where)


def _check_between(ctx, a, where: str) -> None:
    _check_instrument(ctx, a, where)
    _check_timepoint(ctx, a, where, required=True)
    _check_numeric(ctx, a, where)


def _check_change(ctx, a, where: str) -> None:
    _check_between(ctx, a, where)
    _check_baseline(ctx, a, where)


def _check_ema(ctx, a, where: str) -> None:
    _check_instrument(ctx, a, where)
    if a.instrument not in ctx.ema_periods:
        raise _err(f"{where}.instrument", f"{a.instrument} has no [[ema]] period")


def _check_cox(ctx, a, where: str) -> None:
    if a.event is None:
        raise _err(f"{where}.event", f"required for cox: one of {', '.join(COX_EVENTS)}")


def _check_mediation(ctx, a, where: str) -> None:
    _check_between(ctx, a, where)
    if a.mediator is None:
        raise _err(f"{where}.mediator", "required for mediation")
    if a.mediator_timepoint is not None:
        if a.mediator_timepoint not in ctx.measured:
            raise _err(f"{where}.mediator_timepoint", f"unknown timepoint "
                       f"{a.mediator_timepoint!r}; assessments: {', '.join(ctx.measured)}")
        if a.mediator not in ctx.measured[a.mediator_timepoint]:
            raise _err(f"{where}.mediator", f"{a.mediator} is not measured at "
                       f"{a.mediator_timepoint!r}")
        days = {x.name: x.day for x in ctx.spec.assessments}
        if (days.get(a.mediator_timepoint) is not None and days.get(a.timepoint) is not None
                and days[a.mediator_timepoint] > days[a.timepoint]):
            raise _err(f"{where}.mediator_timepoint", f"{a.mediator_timepoint!r} is after "
                       f"the outcome ({a.timepoint!r}); measure the mediator first")
    elif a.mediator not in ctx.ema_periods:
        raise _err(f"{where}.mediator", f"{a.mediator} has no [[ema]] period (or give "
                   "mediator_timepoint)")
    if not ctx.numeric(a.mediator):
        raise _err(f"{where}.mediator", "must be a numeric instrument")


# ------------------------------------------------------------------------------ helpers
def _scored(inp: AnalysisInput, a) -> np.ndarray:
    """0/1 (NaN missing) outcome of a binary / proportion analysis."""
    if a.category is not None:
        cats = inp.values_at(a.instrument, a.timepoint, "category")
        return np.array([np.nan if c is None else float(c == a.category) for c in cats])
    v = inp.values_at(a.instrument, a.timepoint)
    pos = (v < a.cutoff) if a.below else (v >= a.cutoff)
    return np.where(np.isnan(v), np.nan, pos.astype(float))


def _pick(d: Mapping[str, Any], p_from: Mapping[str, Any] | None = None):
    return (d["estimate"], d["ci_lower"], d["ci_upper"],
            (p_from if p_from is not None else d)["p"])


def intercurrent_strategy(inp: AnalysisInput, a) -> str:
    """The analysis' strategy for the intercurrent events maternal death and out-of-home
    placement of the infant (ICH E9(R1) addendum, 2019; :mod:`.measurement`), in words."""
    if a.method == "cox":
        return ("maternal death: the event time is censored at her death (while-alive "
                "strategy: cause-specific hazard among living mothers); out-of-home placement: "
                "ignored, the event is followed whoever cares for the infant (treatment "
                "policy)")
    subjects = {inp.plan.instruments[i].subject for i in (a.instrument, a.mediator)
                if i is not None and i in inp.plan.instruments}
    if subjects == {"infant"}:
        return ("maternal death and out-of-home placement: the infant is measured whoever "
                "cares for it (treatment-policy strategy); the caregiver is recorded per "
                "value ('caregiver')")
    events = "maternal death" + (" and, for an instrument about her care of the infant, "
                                 "out-of-home placement" if "care" in subjects else "")
    how = ("the likelihood-based model estimates the mean had they not happened, under MAR"
           if a.method in ("lmm", "ema") else
           "they are multiply imputed under MAR as if the event had not happened")
    return (f"{events}: values after the event are missing (reason in 'missing_reason') "
            f"and {how} (hypothetical strategy)")


COMPLETE_CASE = "complete case (dyads with the outcome observed)"
MULTIPLE_IMPUTATION = ("multiple imputation (m per the spec) under MAR given arm, the outcome "
                       f"at every assessment and the baseline of the other instruments ("
                       f"{IMPUTATION_METHOD}); delta-adjusted tipping point for MNAR in "
                       "'sensitivity'")


@dataclass(frozen=True)
class Wide:
    """Per-dyad wide data for imputation: ``values`` (dyads x variables, NaN missing), the
    dyads' arms, the column of the analysed outcome and of its baseline (or None)."""

    values: np.ndarray
    arms: np.ndarray
    target: int
    baseline: int | None
    columns: tuple[str, ...]


def _wide(inp: AnalysisInput, a, arms: list[str], indicator: np.ndarray | None = None,
          timepoint: str | None = None, other_visits: bool | None = None) -> Wide:
    """The analysed instrument at every assessment that measures it (``indicator`` replaces
    the value at the analysed timepoint: a 0/1 event; the instrument's other visits are kept
    only with ``other_visits``, by default when there is no indicator: a coded class has no
    numeric value), plus the baseline of every other numeric instrument as auxiliary
    variables; rows: the dyads of ``arms``."""
    if other_visits is None:
        other_visits = indicator is None
    rows = np.isin(inp.arms, arms)
    spec = inp.spec
    timepoint = timepoint or a.timepoint
    cols, names = [], []
    target = baseline = None
    for asmt in spec.assessments:
        if a.instrument in asmt.instruments:
            if asmt.name == timepoint:
                target = len(cols)
                cols.append(indicator if indicator is not None
                            else inp.values_at(a.instrument, asmt.name))
            elif other_visits:
                if asmt.name == spec.baseline:
                    baseline = len(cols)
                cols.append(inp.values_at(a.instrument, asmt.name))
            else:
                continue
            names.append(f"{a.instrument}@{asmt.name}")
    aux, aux_names = _baseline_auxiliaries(inp, a.instrument, rows)
    cols += aux
    names += aux_names
    if target is None:
        raise ValueError(f"{a.instrument} is not measured at {timepoint!r}")
    values = np.column_stack(cols)[rows]
    return Wide(values=values, arms=inp.arms[rows], target=target, baseline=baseline,
                columns=tuple(names))


def _baseline_auxiliaries(inp: AnalysisInput, skip: str | None,
                          rows: np.ndarray) -> tuple[list[np.ndarray], list[str]]:
    """The baseline of every numeric instrument but ``skip`` with spread among ``rows``:
    auxiliary variables of an imputation (one value per dyad, NaN missing)."""
    from .instruments import CodedClassification

    spec = inp.spec
    base = next(x for x in spec.assessments if x.name == spec.baseline)
    numeric = {n for n, inst in inp.plan.instruments.items()
               if not isinstance(inst, CodedClassification)}
    cols, names = [], []
    for other in base.instruments:
        if other != skip and other in numeric:
            v = inp.values_at(other, spec.baseline)
            if np.isfinite(v[rows]).sum() >= 2 and np.nanstd(v[rows]) > 0:
                cols.append(v)
                names.append(f"{other}@{spec.baseline}")
    return cols, names


def _favourable(a, estimate: float, null: float) -> float:
    """+1 if the pre-specified direction (else the estimate's side of the null) is an
    increase of the effect, -1 if a decrease."""
    if a.direction is not None:
        return 1.0 if a.direction == "increase" else -1.0
    return 1.0 if estimate >= null else -1.0


def _multiply_imputed(inp: AnalysisInput, a, w: Wide, analyse, *, treatment: str,
                      score_sign: float, df_complete: float, back=float, tipping: bool = True,
                      null: float = 0.0) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The MI estimate of ``analyse`` (values, arms) -> (estimate, variance) on ``w``, and
    its delta-adjusted tipping-point analysis (None without ``tipping``). ``score_sign``:
    +1 if a higher outcome value raises the effect, -1 if it lowers it; ``df_complete``:
    the analysis' complete-data df (Barnard-Rubin)."""
    from ..stats.missing import mi_estimate, tipping_point

    rng = np.random.default_rng(inp.seed)
    m = a.imputations
    mar = mi_estimate(w.values, w.arms, w.target, analyse, m=m, rng=rng, alpha=inp.alpha,
                      df_complete=df_complete)
    pooled = {k: mar[k] for k in ("estimate", "se", "ci_lower", "ci_upper", "p", "df", "m",
                                  "df_complete", "fraction_missing_information",
                                  "n_imputed")}
    pooled.update({"scale": "analysis scale (log for ratios)", "columns": list(w.columns),
                   "df_method": "Barnard & Rubin (1999) from the complete-data df"})
    if not tipping or mar["n_imputed"] == 0 or not inp.sensitivity:
        return pooled, None
    favourable = _favourable(a, back(mar["estimate"]), null)
    sd = float(np.nanstd(w.values[:, w.target]))
    if not sd > 0:
        return pooled, None
    tp = tipping_point(w.values, w.arms, w.target, analyse, treatment=treatment,
                       unfavourable=-favourable * score_sign, scale=sd,
                       completed=mar["completed"], alpha=inp.alpha, rng=rng, m=m, back=back,
                       df_complete=df_complete)
    return pooled, tp
LIKELIHOOD_MAR = "all observed values, likelihood-based (valid under MAR given the model)"


# ------------------------------------------------------------------------------ runs
def _run_lmm(inp: AnalysisInput, a) -> Estimate:
    d = lmm_arm_by_time(inp.data.loc[inp.data["timepoint"] != "ema"], a.instrument,
                        treatment=a.treatment, control=a.control,
                        baseline=inp.spec.baseline, alpha=inp.alpha)
    tp = a.timepoint or d["timepoints"][-1]
    c = d["contrasts"].get(tp)
    if c is None:
        raise ValueError(f"no contrast at timepoint {tp!r}")
    tip = (_lmm_tipping_point(inp, a, tp, c, mmrm=d["method"].startswith("mmrm"))
           if inp.sensitivity else None)
    return Estimate(*_pick(c), estimand=f"difference in mean change from baseline to {tp} "
                    f"({a.treatment} - {a.control}), all randomised dyads with a baseline",
                    missing_data=LIKELIHOOD_MAR + "; delta-adjusted tipping point of the same "
                    "cLDA model (multiple imputation, imputed follow-up of the treatment arm "
                    "shifted, model refitted on each completed set) in 'sensitivity'",
                    detail=d, sensitivity=tip,
                    flags={"converged": d["converged"], "boundary": d["boundary"],
                           "fallback": d["fallback_reason"] is not None,
                           "df": d["df"]})


def _lmm_tipping_point(inp: AnalysisInput, a, tp: str, primary: Mapping[str, Any], *,
                       mmrm: bool) -> dict[str, Any] | None:
    """Delta-adjusted tipping point of the reported cLDA contrast at ``tp`` (MMRM, or the
    random-intercept model when the MMRM fell back to it: ``mmrm``): the outcome at
    every assessment (and the other instruments' baselines) multiply imputed under MAR, the
    imputed follow-up values of the treatment arm shifted against it by delta SD of the
    outcome at ``tp``, the same constrained LMM (:func:`.analysis.lmm_arm_by_time`) refitted
    on each completed set and pooled by Rubin's rules (Barnard-Rubin df from the model's
    between-within df on complete data). The delta 0 row is the reported analysis
    (likelihood-based, MAR); the MI refit at delta 0 is ``mi_at_mar``. None when no
    follow-up value is missing."""
    from ..stats.missing import tipping_point

    w = _wide(inp, a, [a.treatment, a.control], timepoint=tp)
    prefix = f"{a.instrument}@"
    tps = [c[len(prefix):] for c in w.columns if c.startswith(prefix)]
    follow = [j for j, c in enumerate(w.columns) if c.startswith(prefix) and j != w.baseline]
    if w.baseline is None or not np.isnan(w.values[:, follow]).any():
        return None
    data = inp.data
    days = {t: float(data.loc[(data["timepoint"] == t), "day"].median()) for t in tps}
    n = w.values.shape[0]
    ids = np.arange(n)
    long = pd.DataFrame({"dyad_id": np.tile(ids, len(tps)),
                         "arm": np.tile(w.arms, len(tps)),
                         "timepoint": np.repeat(np.array(tps, dtype=object), n),
                         "day": np.repeat([days[t] for t in tps], n),
                         "instrument": a.instrument})
    cols = [w.columns.index(prefix + t) for t in tps]

    def analyse(v: np.ndarray, arms: np.ndarray) -> tuple[float, float]:
        frame = long.assign(value=v[:, cols].T.reshape(-1))
        r = lmm_arm_by_time(frame, a.instrument, treatment=a.treatment, control=a.control,
                            baseline=inp.spec.baseline, alpha=inp.alpha,
                            covariance="unstructured" if mmrm else "compound_symmetry")
        c = r["contrasts"][tp]
        return float(c["estimate"]), float(c["se"]) ** 2

    rng = np.random.default_rng(inp.seed)
    sd = float(np.nanstd(w.values[:, w.target]))
    if not sd > 0:
        return None
    from ..stats.missing import impute

    completed = impute(w.values, a.imputations, rng, arm=w.arms)
    favourable = _favourable(a, float(primary["estimate"]), 0.0)
    # complete-data df for Barnard-Rubin: the MMRM's Satterthwaite df with no missing
    # values, n - 2 (exact for the saturated model: the t test on change scores); the
    # random-intercept fallback's between-within df otherwise
    df_complete = float(n - 2) if mmrm else float(n * len(tps) - n - 2 * (len(tps) - 1))
    out = tipping_point(w.values, w.arms, follow, analyse, treatment=a.treatment,
                        unfavourable=-favourable, scale=sd, completed=completed,
                        alpha=inp.alpha, rng=rng, m=a.imputations, df_complete=df_complete,
                        primary=primary, steps=LMM_TIPPING_STEPS)
    out["analysis"] = (f"the reported cLDA contrast at {tp}, refitted on each completed set "
                       "(imputed follow-up values of the treatment arm shifted by delta)")
    return out


#: Shifts (outcome SD) of the LMM tipping point: fewer than the default grid, since each
#: step refits the mixed model once per imputation.
LMM_TIPPING_STEPS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)


def _run_ancova(inp: AnalysisInput, a) -> Estimate:
    from ..stats.missing import ancova

    w = _wide(inp, a, [a.treatment, a.control])
    if w.baseline is None:
        raise ValueError(f"{a.instrument} has no baseline value")

    def analyse(v: np.ndarray, arms: np.ndarray) -> tuple[float, float]:
        return ancova(v[:, w.target], v[:, w.baseline], arms == a.treatment)

    seen = ~np.isnan(w.values[:, w.target]) & ~np.isnan(w.values[:, w.baseline])
    est, var = analyse(w.values[seen], w.arms[seen])
    n_cc = int(seen.sum())
    from .analysis import _t_summary

    cc = _t_summary(est, math.sqrt(var), n_cc - 3, inp.alpha)
    cc["n"] = n_cc
    pooled, tip = _multiply_imputed(inp, a, w, analyse, treatment=a.treatment,
                                    score_sign=1.0, df_complete=w.values.shape[0] - 3)
    return Estimate(pooled["estimate"], pooled["ci_lower"], pooled["ci_upper"], pooled["p"],
                    estimand=f"difference in mean {a.instrument} at {a.timepoint} adjusted "
                    f"for its baseline ({a.treatment} - {a.control}), all randomised dyads",
                    missing_data=MULTIPLE_IMPUTATION,
                    detail={"multiple_imputation": pooled, "complete_case": cc},
                    sensitivity=tip)


def _binary_risks(adjust: int | None, target: int, treatment: str):
    """(completed values, arms) -> the two arms' marginal risks of the 0/1 column ``target``
    and their covariance: standardised over a logistic model on arm and the outcome's
    baseline (column ``adjust``; :func:`dyadsim.stats.binary.standardized_risks`: the same
    estimand, more precise, congenial with the imputation model, which uses the baseline);
    the arms' shares where that model cannot be fitted, or without a baseline."""
    from ..stats.binary import standardized_risks, table_risks

    def risks(values: np.ndarray, arms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, treated = values[:, target], arms == treatment
        if adjust is not None:
            fitted = standardized_risks(y, treated, values[:, adjust])
            if fitted is not None:
                return fitted
        return table_risks(y, treated)
    return risks


#: Shifts (log odds of the event) of the binary tipping point: the imputed outcomes of the
#: treatment arm's dropouts are drawn with this much lower (or higher) log odds than MAR.
BINARY_TIPPING_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def _run_binary(inp: AnalysisInput, a) -> Estimate:
    from ..stats.binary import pooled_binary_effect
    from ..stats.missing import impute, shift_binary_imputations, tipping_grid

    y = _scored(inp, a)
    cc = binary_outcome(y, inp.arms, treatment=a.treatment, control=a.control,
                        alpha=inp.alpha)
    # the event itself is imputed (logistic), not the score it is read from: an imputation
    # model that knows the continuous score is superefficient for the 0/1 analysis and its
    # between-imputation variance is too large (Meng 1994; issue 20: 0.7% type I at 20 per
    # arm, 40% MAR); the score's other visits stay as predictors
    w = _wide(inp, a, [a.treatment, a.control], indicator=y,
              other_visits=a.category is None)
    adjust = w.baseline if w.baseline is not None and w.baseline != w.target else None
    risks = _binary_risks(adjust, w.target, a.treatment)
    df_complete = w.values.shape[0] - (2 if adjust is None else 3)
    rng = np.random.default_rng(inp.seed)

    def pooled(completed: list[np.ndarray]) -> dict[str, Any]:
        fitted = [risks(v, w.arms) for v in completed]
        return pooled_binary_effect([f[0] for f in fitted], [f[1] for f in fitted],
                                    effect=a.effect, df_complete=df_complete,
                                    alpha=inp.alpha)

    completed = impute(w.values, a.imputations, rng, arm=w.arms)
    mar = pooled(completed)
    n_imputed = int(np.isnan(w.values[:, w.target]).sum())
    mar.update({"n_imputed": n_imputed, "df_complete": float(df_complete),
                "columns": list(w.columns), "scale": "natural (risks pooled)",
                "df_method": "Barnard & Rubin (1999) from the complete-data df"})
    tip = None
    if inp.sensitivity and n_imputed:
        # a higher effect value means more events in the treatment arm, except for 1 - RR
        more_events = -1.0 if a.effect == "relative_reduction" else 1.0
        null = METHODS["binary"].null(a.effect)
        unfavourable = -_favourable(a, mar["estimate"], null) * more_events
        tip = tipping_grid(
            lambda d: pooled(shift_binary_imputations(w.values, completed, w.arms, w.target,
                                                      {a.treatment: d}, rng)),
            unfavourable=unfavourable, scale=1.0, alpha=inp.alpha,
            steps=BINARY_TIPPING_STEPS, primary=mar,
            method="delta adjustment of the imputed events of the treatment arm's "
            "dropouts (their log odds shifted against the treatment; pattern mixture), "
            "multiple imputation, risks pooled by Rubin's rules",
            delta_unit="log odds of the event")
        tip["conclusion"] = tip["conclusion"].replace(" units", " in the log odds")
    return Estimate(mar["estimate"], mar["ci_lower"], mar["ci_upper"], mar["p"],
                    estimand=f"{a.effect.replace('_', ' ')} of {_outcome_text(a)} at "
                    f"{a.timepoint} ({a.treatment} vs {a.control}), all randomised dyads"
                    + ("; marginal risks standardised over a logistic model on arm and "
                       f"baseline {a.instrument} (g-computation)" if adjust is not None else ""),
                    missing_data=MULTIPLE_IMPUTATION + "; the 0/1 outcome itself imputed; "
                    "the arms' risks pooled, the test of no effect their pooled difference, "
                    "a ratio's CI by test inversion",
                    detail={"multiple_imputation": mar, "complete_case": cc},
                    sensitivity=tip,
                    flags={"zero_cell_correction": cc["haldane_correction"],
                           "ci_unbounded": math.isinf(mar["ci_upper"])
                           or math.isinf(mar["ci_lower"])})


def _outcome_text(a) -> str:
    if a.category is not None:
        return f"{a.instrument} = {a.category}"
    return f"{a.instrument} {'<' if a.below else '>='} {a.cutoff:g}"


def _d_and_variance(xt: np.ndarray, xc: np.ndarray, hedges: bool) -> tuple[float, float]:
    """Standardised mean difference and its Hedges & Olkin (1985) variance."""
    d = cohens_d(xt, xc, hedges=hedges)
    return float(d["estimate"]), float(d["se"]) ** 2


def _run_between_d(inp: AnalysisInput, a, change: bool) -> Estimate:
    w = _wide(inp, a, [a.treatment, a.control])
    if change and w.baseline is None:
        raise ValueError(f"{a.instrument} has no baseline value")
    hedges = a.effect == "hedges_g"

    def outcome(v: np.ndarray) -> np.ndarray:
        return v[:, w.target] - v[:, w.baseline] if change else v[:, w.target]

    def analyse(v: np.ndarray, arms: np.ndarray) -> tuple[float, float]:
        y = outcome(v)
        return _d_and_variance(y[arms == a.treatment], y[arms == a.control], hedges)

    cc_y = outcome(w.values)
    cc = cohens_d(cc_y[w.arms == a.treatment], cc_y[w.arms == a.control], hedges=hedges,
                  alpha=inp.alpha)
    pooled, tip = _multiply_imputed(inp, a, w, analyse, treatment=a.treatment,
                                    score_sign=1.0, df_complete=w.values.shape[0] - 2)
    what = "change from baseline in " if change else ""
    return Estimate(pooled["estimate"], pooled["ci_lower"], pooled["ci_upper"], pooled["p"],
                    estimand=f"standardised difference ({a.effect}) in {what}{a.instrument} "
                    f"at {a.timepoint} ({a.treatment} - {a.control}), all randomised dyads",
                    missing_data=MULTIPLE_IMPUTATION,
                    detail={"multiple_imputation": pooled, "complete_case": cc},
                    sensitivity=tip)


def _run_pre_post(inp: AnalysisInput, a) -> Estimate:
    arms = [a.treatment] if a.treatment is not None else list(inp.spec.arm_names)
    w = _wide(inp, a, arms)
    if w.baseline is None:
        raise ValueError(f"{a.instrument} has no baseline value")

    def analyse(v: np.ndarray, _arms: np.ndarray) -> tuple[float, float]:
        d = standardized_mean_change(v[:, w.baseline], v[:, w.target], kind=a.effect)
        return float(d["estimate"]), float(d["se"]) ** 2

    cc = standardized_mean_change(w.values[:, w.baseline], w.values[:, w.target],
                                  kind=a.effect, alpha=inp.alpha)
    one = np.full(w.arms.shape, "all", dtype=object) if a.treatment is None else w.arms
    w = Wide(w.values, one, w.target, w.baseline, w.columns)
    pooled, tip = _multiply_imputed(inp, a, w, analyse, treatment=one[0], score_sign=1.0,
                                    df_complete=w.values.shape[0] - 1)
    who = a.treatment or "all dyads"
    return Estimate(pooled["estimate"], pooled["ci_lower"], pooled["ci_upper"], pooled["p"],
                    estimand=f"standardised mean change ({a.effect}) in {a.instrument} from "
                    f"baseline to {a.timepoint}, {who}, all enrolled",
                    missing_data=MULTIPLE_IMPUTATION,
                    detail={"multiple_imputation": pooled, "complete_case": cc},
                    sensitivity=tip)


def _run_ema(inp: AnalysisInput, a) -> Estimate:
    data = inp.data
    sub = data.loc[(data["timepoint"] == "ema") & (data["instrument"] == a.instrument),
                   ["dyad_id", "arm", "day", "prompt", "value"]].copy()
    sub["prompt"] = sub["prompt"].astype(np.int64)
    d = ema_mlm(sub, treatment=a.treatment, control=a.control, alpha=inp.alpha)
    if a.effect == "difference":
        est = _pick(d["arm_effect"])
    else:
        est = _pick(d["relative_difference"], d["arm_effect"])
    tip = _ema_tipping_point(inp, a, sub, d) if inp.sensitivity else None
    return Estimate(*est, estimand=f"{a.effect.replace('_', ' ')} in mean EMA "
                    f"{a.instrument} over the EMA period ({a.treatment} vs {a.control})",
                    missing_data="all answered prompts, likelihood-based (MAR); "
                    "delta-adjusted tipping point in 'sensitivity' (delta 0: this analysis; "
                    "other rows: MI of the weekly means, contrast of per-dyad means)",
                    detail=d, sensitivity=tip,
                    flags={"converged": d["converged"], "boundary": d["boundary"],
                           "fallback": d["fallback_reason"] is not None})


def _ema_tipping_point(inp: AnalysisInput, a, sub: pd.DataFrame,
                       reported: Mapping[str, Any]) -> dict[str, Any] | None:
    """Delta-adjusted tipping point of an EMA contrast: each dyad's weekly mean over the
    EMA period (NaN for a week without an answered prompt, e.g. after dropout) and the
    baseline of the other instruments are multiply imputed within arm; the imputed weekly
    means of the treatment arm are shifted against it; each completed set is analysed as
    the contrast (the method's effect: difference, or ratio for relative_difference) of the
    per-dyad period means. The delta 0 row is the reported MLM result (``reported``, the
    :func:`.analysis.ema_mlm` output); the MI at delta 0 is ``mi_at_mar``. None when no
    week is missing."""
    block = next(b for b in inp.spec.ema if a.instrument in b.instruments)
    weeks = (block.to_day - block.from_day) // 7 + 1
    rows = np.isin(inp.arms, [a.treatment, a.control])
    week = (sub["day"].to_numpy() - block.from_day) // 7
    weekly = np.full((inp.ids.shape[0], weeks), np.nan)
    means = sub.assign(week=week).groupby(["dyad_id", "week"])["value"].mean()
    dyad_idx = means.index.get_level_values(0).to_numpy() - inp.ids[0]
    weekly[dyad_idx, means.index.get_level_values(1).to_numpy()] = means.to_numpy()
    aux, aux_names = _baseline_auxiliaries(inp, None, rows)
    values = np.column_stack([weekly, *aux])[rows]
    observed = np.isfinite(values[:, :weeks]).sum(axis=0)
    if (observed < 2).any() or np.isfinite(values[:, :weeks]).all():
        return None
    w = Wide(values=values, arms=inp.arms[rows], target=0, baseline=None,
             columns=tuple([f"{a.instrument}@week{k + 1}" for k in range(weeks)] + aux_names))
    ratio = a.effect != "difference"

    def analyse(v: np.ndarray, arms: np.ndarray) -> tuple[float, float]:
        y = v[:, :weeks].mean(axis=1)
        yt, yc = y[arms == a.treatment], y[arms == a.control]
        mt, mc = float(yt.mean()), float(yc.mean())
        vt, vc = float(yt.var(ddof=1)) / yt.size, float(yc.var(ddof=1)) / yc.size
        if ratio:
            return math.log(mt / mc), vt / mt**2 + vc / mc**2
        return mt - mc, vt + vc

    from ..stats.missing import mi_estimate, tipping_point

    rng = np.random.default_rng(inp.seed)
    targets = list(range(weeks))
    df_complete = w.values.shape[0] - 2
    mar = mi_estimate(w.values, w.arms, targets, analyse, m=a.imputations, rng=rng,
                      alpha=inp.alpha, df_complete=df_complete)
    back = (lambda x: math.exp(x) - 1.0) if ratio else float
    favourable = _favourable(a, back(mar["estimate"]), 0.0)
    sd = float(np.nanstd(np.nanmean(values[:, :weeks], axis=1)))
    if not sd > 0:
        return None
    arm_effect = reported["arm_effect"]
    if ratio:
        rel = reported["relative_difference"]
        if min(rel["ci_lower"], rel["estimate"]) <= -1.0:
            return None
        primary = {"estimate": math.log1p(rel["estimate"]),
                   "ci_lower": math.log1p(rel["ci_lower"]),
                   "ci_upper": math.log1p(rel["ci_upper"]), "p": arm_effect["p"]}
    else:
        primary = arm_effect
    out = tipping_point(w.values, w.arms, targets, analyse, treatment=a.treatment,
                        unfavourable=-favourable, scale=sd, completed=mar["completed"],
                        alpha=inp.alpha, rng=rng, m=a.imputations, back=back,
                        df_complete=df_complete, primary=primary)
    out["analysis"] = (f"{'ratio' if ratio else 'difference'} of per-dyad mean weekly "
                       f"{a.instrument} over the EMA period, multiple imputation of "
                       "missing weeks")
    out["n_dyads_with_missing_weeks"] = mar["n_imputed"]
    return out


COX_EVENTS = ("first_use", "moud_discontinuation", "overdose", "cps_report")


def event_days(inp: AnalysisInput, event: str) -> tuple[np.ndarray, np.ndarray]:
    """(study day of the first event or NaN, eligible) per dyad. A dyad is at risk of a
    first event only if the event is not already under way at study day 0: ``first_use``
    (time to first use after randomisation) excludes dyads using on day 0,
    ``moud_discontinuation`` includes only dyads on MOUD at day 0."""
    r0 = inp.plan.run_in
    if event == "moud_discontinuation":
        m = inp.nodes["moud"][:, r0:]
        eligible = m[:, 0] > 0
        hit = m <= 0
    else:
        node = {"first_use": "opioid_use", "overdose": "overdose", "cps_report": "cps_report"}
        series = inp.nodes[node[event]][:, r0:] > 0
        eligible = ~series[:, 0] if event == "first_use" else np.ones(series.shape[0], bool)
        hit = series.copy()
        if event == "first_use":
            hit[:, 0] = False
    any_hit = hit.any(axis=1)
    return np.where(any_hit, hit.argmax(axis=1).astype(np.float64), np.nan), eligible


def _run_cox(inp: AnalysisInput, a) -> Estimate:
    event_day, eligible = event_days(inp, a.event)
    in_arms = np.isin(inp.arms, [a.treatment, a.control])
    rows = eligible & in_arms
    last = float(inp.plan.study_days - 1)
    cens = np.minimum(inp.dropout, last)
    deaths = "no maternal deaths recorded"
    if inp.deaths is not None:
        died = np.nan_to_num(inp.deaths, nan=np.inf)
        cens = np.minimum(cens, died)
        deaths = "maternal death censors (cause-specific hazard)"
    happened = ~np.isnan(event_day) & (np.nan_to_num(event_day, nan=np.inf) <= cens)
    time = np.where(happened, event_day, cens) + 1.0
    d = cox_ph(time[rows], happened[rows].astype(float),
               (inp.arms[rows] == a.treatment).astype(float), alpha=inp.alpha)
    lost = ~happened & (inp.dropout < last) & (cens == np.minimum(inp.dropout, last))
    tip = _cox_tipping_point(inp, a, time[rows], happened[rows], lost[rows], inp.arms[rows],
                             horizon=last + 1.0, hr=d["hazard_ratio"],
                             logrank_p=d["logrank_p"]) \
        if inp.sensitivity else None
    d["n_excluded_not_eligible"] = int((~eligible & in_arms).sum())
    d["competing_events"] = deaths
    h = d["hazard_ratio"]
    at_risk = {"first_use": "dyads not using at study day 0",
               "moud_discontinuation": "dyads on MOUD at study day 0"}.get(a.event,
                                                                           "all dyads")
    d["inference"] = COX_INFERENCE
    return Estimate(h["estimate"], h["ci_lower"], h["ci_upper"], d["logrank_p"],
                    estimand=f"hazard ratio of {a.event} ({a.treatment} / "
                    f"{a.control}) among {at_risk}; {COX_INFERENCE}",
                    missing_data="censored at loss to follow-up (non-informative censoring "
                    "assumed); " + deaths + "; delta-adjusted MI tipping point (hazard after "
                    "loss to follow-up raised in the treatment arm) in 'sensitivity'",
                    detail=d, sensitivity=tip, flags={"converged": d["converged"]})


#: How the Cox primary is tested: the log-rank test is the Cox model's score test and holds
#: its level with few events, where the Wald test of log HR does not (null trials, 20 per
#: arm, 40% MAR, about 12 events: Wald 2.9%, log-rank 4.8% of 2,000; docs/trial-statistics).
COX_INFERENCE = ("p: log-rank (the Cox model's score) test; hazard ratio and 95% CI: Cox PH "
                 "(Efron ties), Wald")

#: Shifts of the log hazard after loss to follow-up in a Cox tipping-point analysis.
COX_TIPPING_STEPS = (0.0, 0.25, 0.5, 1.0, 2.0)


def _cox_tipping_point(inp: AnalysisInput, a, time: np.ndarray, happened: np.ndarray,
                       lost: np.ndarray, arms: np.ndarray, *, horizon: float,
                       hr: Mapping[str, Any], logrank_p: float) -> dict[str, Any] | None:
    """Delta-adjusted tipping point of the hazard ratio: the event times of dyads lost to
    follow-up are multiply imputed from their arm's Kaplan-Meier curve with the treatment
    arm's hazard after loss multiplied by exp(delta) (delta against the treatment; the same
    imputation draws at every delta), :func:`.missing.event_time_mi`; the delta 0 row is
    the reported result (``hr``, the Cox fit's ``hazard_ratio``, with the log-rank
    ``logrank_p``); None when nobody was lost."""
    from ..stats.missing import event_time_mi, tipping_grid

    if not lost.any():
        return None

    def analyse(completed: np.ndarray, arm: np.ndarray) -> tuple[float, float]:
        h = cox_ph(completed[:, 0], completed[:, 1], (arm == a.treatment).astype(float),
                   alpha=inp.alpha)["hazard_ratio"]
        return float(h["log_estimate"]), float(h["log_se"]) ** 2

    def at(delta: float) -> dict[str, Any]:
        return event_time_mi(time, happened.astype(float), lost, arms, horizon, analyse,
                             m=a.imputations, rng=np.random.default_rng(inp.seed),
                             alpha=inp.alpha, delta={a.treatment: delta},
                             df_complete=time.size - 1)

    log_hr = float(hr["log_estimate"])
    unfavourable = -_favourable(a, log_hr, 0.0)  # against the treatment's favoured side
    primary = {"estimate": log_hr, "ci_lower": math.log(hr["ci_lower"]),
               "ci_upper": math.log(hr["ci_upper"]), "p": logrank_p}
    out = tipping_grid(at, unfavourable=unfavourable, scale=1.0, alpha=inp.alpha,
                       steps=COX_TIPPING_STEPS, back=math.exp, primary=primary,
                       method="event times after loss to follow-up multiply imputed from "
                       "the arm's Kaplan-Meier curve, the treatment arm's hazard after loss "
                       "multiplied by exp(delta); Cox PH on each; Rubin's rules on log HR",
                       delta_unit="log hazard multiplier after loss to follow-up")
    out["n_lost"] = int(lost.sum())
    return out


def _run_mediation(inp: AnalysisInput, a) -> Estimate:
    rows = np.isin(inp.arms, [a.treatment, a.control])
    outcome = inp.values_at(a.instrument, a.timepoint)
    if a.mediator_timepoint is not None:
        med = inp.values_at(a.mediator, a.mediator_timepoint)
    else:
        data = inp.data
        sub = data.loc[(data["timepoint"] == "ema") & (data["instrument"] == a.mediator)]
        means = sub.groupby("dyad_id")["value"].mean()
        med = np.full(len(inp.ids), np.nan)
        med[means.index.to_numpy() - inp.ids[0]] = means.to_numpy()
    frame = pd.DataFrame({"treatment": (inp.arms[rows] == a.treatment).astype(float),
                          "mediator": med[rows], "outcome": outcome[rows]})
    # adjust for the baseline mediator and outcome where the trial measures them
    base = inp.spec.baseline
    measured = next(x for x in inp.spec.assessments if x.name == base).instruments
    covariates = []
    for name, inst, when in (("baseline_mediator", a.mediator, a.mediator_timepoint),
                             ("baseline_outcome", a.instrument, a.timepoint)):
        if inst in measured and when != base:
            frame[name] = inp.values_at(inst, base)[rows]
            covariates.append(name)
    cc = mediation(frame, treatment_col="treatment", mediator_col="mediator",
                   outcome_col="outcome", covariates=covariates, n_boot=a.n_boot,
                   seed=inp.seed, alpha=inp.alpha)
    pooled, tip = _mediation_mi(inp, a, med, covariates)
    timing = _mediator_timing(inp, a)
    detail = {"multiple_imputation": pooled, "complete_case": cc,
              "inference": pooled["inference"]}
    if timing is not None:
        detail["warnings"] = [timing]
    return Estimate(pooled["estimate"], pooled["ci_lower"], pooled["ci_upper"], pooled["p"],
                    estimand=f"indirect effect a*b of {a.treatment} vs {a.control} on "
                    f"{a.instrument} at {a.timepoint} through {a.mediator}, adjusted for "
                    f"{', '.join(covariates) or 'nothing at baseline'}, all randomised dyads",
                    missing_data=MEDIATION_MI, detail=detail, sensitivity=tip,
                    flags={"mediator_not_before_outcome": timing is not None})


def _mediator_timing(inp: AnalysisInput, a) -> str | None:
    """A warning when the mediator is not measured before the outcome's visit (the same
    visit, or an EMA period reaching it): a*b then assumes the mediator precedes the
    outcome without the design showing it (temporal precedence; Kraemer et al. 2002,
    Arch Gen Psychiatry 59:877; VanderWeele 2015, ch. 2); None when it is measured before."""
    days = {x.name: x.day for x in inp.spec.assessments}
    out_day = days.get(a.timepoint)
    if a.mediator_timepoint is not None:
        m_day = days.get(a.mediator_timepoint)
        where = f"at {a.mediator_timepoint!r}"
    else:
        block = next((b for b in inp.spec.ema if a.mediator in b.instruments), None)
        m_day = None if block is None else block.to_day
        where = "over its EMA period"
    if out_day is None or m_day is None:  # postpartum-day visits: no common clock
        return None
    if m_day < out_day:
        return None
    return (f"mediator {a.mediator} is measured {where}, not before the outcome's visit "
            f"({a.timepoint!r}, day {out_day}): the indirect effect assumes the mediator "
            "precedes the outcome")


MEDIATION_MI = ("multiple imputation under MAR of outcome, mediator and their baselines "
                f"given arm and the baseline of the other instruments ({IMPUTATION_METHOD}); "
                "the a and b paths pooled by Rubin's rules (Barnard-Rubin df from each "
                "path's residual df), a*b their product with a Monte Carlo CI and p "
                "(MacKinnon et al. 2004); delta-adjusted tipping point for MNAR (imputed "
                "mediator and outcome of the treatment arm shifted against it) in "
                "'sensitivity'; the complete-case BCa analysis in 'detail'")
#: How the indirect effect is tested, in words (quoted by the power summary).
MEDIATION_INFERENCE = ("Monte Carlo test of a*b: the a and b paths pooled by Rubin's rules, "
                       "their product's Monte Carlo distribution gives the CI and two-sided "
                       "p (MacKinnon et al. 2004); the complete-case BCa bootstrap CI is in "
                       "'detail'")


def indirect_effect_mi(values: np.ndarray, arms: np.ndarray, *, treatment: str,
                       mediator: int, outcome: int, covariates: list[int], m: int,
                       seed: int, alpha: float, direction: str | None = None,
                       names: tuple[str, str] = ("mediator", "outcome"),
                       tipping: bool = True) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """MI estimate of the indirect effect a*b on the wide data ``values`` (dyads x
    variables, NaN missing; columns ``mediator``, ``outcome`` and ``covariates``): impute
    with the arm in the model (:func:`.missing.mi_estimate`), in each completed set the a
    and b paths by OLS, pooled path by path and multiplied, with a Monte Carlo CI and p
    (:func:`dyadsim.stats.mediation.pooled_indirect_effect`). And its delta-adjusted
    tipping point (None without ``tipping`` or without missing values): the imputed mediator
    and outcome of the ``treatment`` arm are shifted by delta SD each, against the
    treatment: the outcome towards the unfavourable side of a*b (``direction``, else the
    estimate's sign), the mediator so that the change of a, times b, does the same; both
    together move a treated dropout along the b path, a patient worse than MAR predicts on
    both (Cro et al. 2020; :func:`.missing.tipping_point`)."""
    from ..stats.mediation import ols_paths, pooled_indirect_effect
    from ..stats.missing import mi_estimate, tipping_point

    v = np.asarray(values, dtype=float)
    n = v.shape[0]

    def pool(sets: Sequence[np.ndarray], arm: np.ndarray) -> dict[str, Any]:
        t = (arm == treatment).astype(float)
        paths = [ols_paths(t, d[:, mediator], d[:, outcome], d[:, covariates]) for d in sets]
        return pooled_indirect_effect(paths, n=n, n_covariates=len(covariates), alpha=alpha,
                                      seed=[seed, 2])

    rng = np.random.default_rng(seed)
    targets = [mediator, outcome]
    df_complete = n - 3 - len(covariates)  # the b path's residual df
    mar = mi_estimate(v, arms, targets, None, m=m, rng=rng, alpha=alpha,
                      df_complete=df_complete, pool=pool)
    pooled = {k: mar[k] for k in ("estimate", "se", "ci_lower", "ci_upper", "p", "df", "m",
                                  "df_complete", "fraction_missing_information",
                                  "n_imputed", "a_path", "b_path", "monte_carlo_draws")}
    pooled["inference"] = MEDIATION_INFERENCE
    if not tipping or mar["n_imputed"] == 0:
        return pooled, None
    sds = np.array([np.nanstd(v[:, j]) for j in targets])
    if not (sds > 0).all():
        return pooled, None
    favourable = (1.0 if direction == "increase" else -1.0 if direction == "decrease"
                  else 1.0 if mar["estimate"] >= 0 else -1.0)
    b_mar = float(mar["b_path"]["estimate"])
    tip = tipping_point(v, arms, targets, None, treatment=treatment,
                        unfavourable=[-favourable * (1.0 if b_mar >= 0 else -1.0),
                                      -favourable], scale=sds, completed=mar["completed"],
                        alpha=alpha, rng=rng, m=m, names=names, df_complete=df_complete,
                        pool=pool)
    tip["analysis"] = ("indirect effect a*b, multiple imputation, paths pooled by Rubin's "
                       "rules, Monte Carlo CI and p")
    tip["b_path_under_mar"] = b_mar
    return pooled, tip


def _mediation_mi(inp: AnalysisInput, a, med: np.ndarray, covariates: list[str]
                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The wide data of a mediation analysis (outcome at every assessment, the mediator,
    the other instruments' baselines) and its :func:`indirect_effect_mi`."""
    w = _wide(inp, a, [a.treatment, a.control])
    rows = np.isin(inp.arms, [a.treatment, a.control])
    base_name = f"{a.mediator}@{inp.spec.baseline}"
    if a.mediator_timepoint is not None and \
            f"{a.mediator}@{a.mediator_timepoint}" in w.columns:
        m_col = w.columns.index(f"{a.mediator}@{a.mediator_timepoint}")
        values = w.values
    else:
        m_col = w.values.shape[1]
        values = np.column_stack([w.values, med[rows]])
    cov_cols = []
    if "baseline_mediator" in covariates:
        cov_cols.append(w.columns.index(base_name))
    if "baseline_outcome" in covariates and w.baseline is not None:
        cov_cols.append(w.baseline)
    return indirect_effect_mi(values, w.arms, treatment=a.treatment, mediator=m_col,
                              outcome=w.target, covariates=cov_cols, m=a.imputations,
                              seed=inp.seed, alpha=inp.alpha, direction=a.direction,
                              names=(a.mediator, a.instrument), tipping=inp.sensitivity)


def _proportion_cc(inp: AnalysisInput, a, y: np.ndarray) -> dict[str, Any]:
    """Complete-case shares (Wilson) and their difference (Newcombe hybrid score CI,
    statsmodels ``confint_proportions_2indep``; pooled z test, or Fisher's exact test when
    an expected count is below 5)."""
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    arms, alpha = inp.arms, inp.alpha
    per = {}
    for name in inp.spec.arm_names:
        yy = y[(arms == name) & ~np.isnan(y)]
        k, n = float(yy.sum()), int(yy.size)
        lo, hi = wilson_ci(k, n, alpha)
        per[name] = {"share": k / n if n else math.nan, "ci_lower": lo, "ci_upper": hi,
                     "events": int(k), "n": n,
                     "n_missing": int(((arms == name) & np.isnan(y)).sum())}
    detail: dict[str, Any] = {"arms": per, "ci_method": "Wilson score", "alpha": alpha,
                              "outcome": _outcome_text(a)}
    if a.control is None:
        if a.treatment is None:
            yy = y[~np.isnan(y)]
            lo, hi = wilson_ci(float(yy.sum()), yy.size, alpha)
            detail["all"] = {"share": float(yy.mean()) if yy.size else math.nan,
                             "ci_lower": lo, "ci_upper": hi}
        return detail
    t, c = per[a.treatment], per[a.control]
    if t["n"] == 0 or c["n"] == 0:
        raise ValueError(f"no non-missing outcomes in arm "
                         f"{a.treatment if t['n'] == 0 else a.control!r}")
    diff = t["share"] - c["share"]
    lo, hi = confint_proportions_2indep(t["events"], t["n"], c["events"], c["n"],
                                        method="newcomb", alpha=alpha)
    table = [[t["events"], t["n"] - t["events"]], [c["events"], c["n"] - c["events"]]]
    expected = np.outer(np.sum(table, axis=1), np.sum(table, axis=0)) / (t["n"] + c["n"])
    if expected.min() < 5:
        p, test = float(stats.fisher_exact(table)[1]), "Fisher's exact test"
    else:
        from ..stats import two_proportion_test

        p = two_proportion_test(t["events"], t["n"], c["events"], c["n"])
        test = "two-proportion z test (pooled; statsmodels test_proportions_2indep, score)"
    detail["difference"] = {"estimate": diff, "ci_lower": float(lo), "ci_upper": float(hi),
                            "p": p, "ci_method": "Newcombe hybrid score", "test": test}
    return detail


def _run_proportion(inp: AnalysisInput, a) -> Estimate:
    y = _scored(inp, a)
    cc = _proportion_cc(inp, a, y)
    arms = ([a.treatment, a.control] if a.control is not None
            else [a.treatment] if a.treatment is not None else list(inp.spec.arm_names))
    if a.category is not None:
        w = _wide(inp, a, arms, indicator=y)
        def event(v): return (v[:, w.target] >= 0.5).astype(float)
        sign = 1.0
    else:
        w = _wide(inp, a, arms)
        def event(v): return ((v[:, w.target] < a.cutoff) if a.below
                              else (v[:, w.target] >= a.cutoff)).astype(float)
        sign = -1.0 if a.below else 1.0
    if a.control is not None:
        def analyse(v: np.ndarray, arm: np.ndarray) -> tuple[float, float]:
            yy, treated = event(v), arm == a.treatment
            r1, r0 = float(yy[treated].mean()), float(yy[~treated].mean())
            return r1 - r0, (r1 * (1 - r1) / treated.sum() + r0 * (1 - r0) / (~treated).sum())
        estimand = (f"difference in the share with {_outcome_text(a)} at {a.timepoint} "
                    f"({a.treatment} - {a.control}), all randomised dyads")
        treatment = a.treatment
    else:
        def analyse(v: np.ndarray, arm: np.ndarray) -> tuple[float, float]:
            yy = event(v)
            r = float(yy.mean())
            return r, r * (1 - r) / yy.size
        estimand = (f"share with {_outcome_text(a)} at {a.timepoint}, "
                    f"{a.treatment or 'all dyads'}, all randomised dyads")
        treatment = None
    pooled, tip = _multiply_imputed(inp, a, w, analyse, treatment=treatment, score_sign=sign,
                                    df_complete=w.values.shape[0] - (2 if a.control else 1),
                                    tipping=a.category is None and treatment is not None)
    p = pooled["p"] if a.control is not None else None
    return Estimate(pooled["estimate"], max(pooled["ci_lower"], -1.0),
                    min(pooled["ci_upper"], 1.0), p, estimand=estimand,
                    missing_data=MULTIPLE_IMPUTATION,
                    detail={"multiple_imputation": pooled, "complete_case": cc},
                    sensitivity=tip)


_RATIO_NULLS = {"risk_ratio": 1.0, "odds_ratio": 1.0, "hazard_ratio": 1.0}

#: The registry: method name -> :class:`Method`.
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("lmm", ("difference",), frozenset({"instrument", "timepoint"}), _check_lmm,
           _run_lmm, "arm x time contrast at the timepoint (default: the last)"),
    Method("binary", ("risk_ratio", "odds_ratio", "relative_reduction", "risk_difference"),
           frozenset({"instrument", "timepoint", "cutoff", "category"}), _check_scored,
           _run_binary, "risk ratio (or odds ratio, 1 - RR, risk difference)",
           nulls=_RATIO_NULLS),
    Method("cohens_d", ("d", "hedges_g"), frozenset({"instrument", "timepoint"}),
           _check_between, lambda inp, a: _run_between_d(inp, a, change=False),
           "standardised difference between arms at the timepoint"),
    Method("change_d", ("d", "hedges_g"), frozenset({"instrument", "timepoint"}),
           _check_change, lambda inp, a: _run_between_d(inp, a, change=True),
           "standardised difference between arms in change from baseline"),
    Method("ancova", ("difference",), frozenset({"instrument", "timepoint"}), _check_change,
           _run_ancova, "difference at the timepoint adjusted for baseline (ANCOVA)"),
    Method("pre_post", ("d_av", "d_z"), frozenset({"instrument", "timepoint"}),
           _check_change, _run_pre_post, "standardised within-arm change",
           within_arm=True),
    Method("ema", ("relative_difference", "difference"), frozenset({"instrument"}),
           _check_ema, _run_ema, "relative difference of model-based EMA means"),
    Method("cox", ("hazard_ratio",), frozenset({"event"}), _check_cox, _run_cox,
           "hazard ratio", nulls=_RATIO_NULLS,
           event_nodes={"overdose": "overdose", "cps_report": "cps_report"}),
    Method("mediation", ("indirect",),
           frozenset({"instrument", "timepoint", "mediator", "mediator_timepoint"}),
           _check_mediation, _run_mediation, "indirect effect a*b"),
    Method("proportion", ("difference", "share"),
           frozenset({"instrument", "timepoint", "cutoff", "category"}), _check_scored,
           _run_proportion, "difference in shares (or one arm's share)",
           single_arm_effect="share"),
)}
