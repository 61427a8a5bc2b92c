"""Missing outcome data as trialists handle them: multiple imputation for the primary ITT
analysis, Rubin's rules, and a delta-adjusted tipping-point analysis for data missing not at
random.

Loss to follow-up in a trial depends on recent use (:mod:`.measurement`), which also drives
COMM and TLFB: the data are missing not at random. The primary analyses therefore use every
randomised dyad under missing at random given the arm and what was observed (multiple
imputation), and a sensitivity analysis asks how far the imputed outcomes of the treatment
arm would have to be shifted against the treatment before the conclusion changes (the
tipping point; Ratitch, O'Kelly & Tosiello 2013; Cro et al. 2020, Stat Med 39:2815).

Imputation (:func:`impute`): chained equations (van Buuren & Groothuis-Oudshoorn 2011)
with predictive mean matching (Little 1988; Morris, White & Royston 2014: 10 donors), run
separately in each arm (so every arm-by-covariate interaction is kept), each of ``m``
chains from the Bayesian normal linear model's posterior draw (Rubin 1987, sec. 5.3). The
columns are the outcome at every assessment plus the baseline of the trial's other
instruments (auxiliary variables). statsmodels' ``MICEData`` does the same but refits a
patsy formula at every step (about 2.3 s for 20 imputations of 60 dyads, against 16 ms
here), too slow inside power curves of hundreds of replicate trials.

Pooling (:func:`rubin`): Rubin's rules with the Barnard & Rubin (1999) small-sample degrees
of freedom; t-based CI and p.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["DONORS", "ancova", "event_time_mi", "impute", "mi_estimate", "rubin",
           "tipping_grid", "tipping_point"]

#: Donors per imputed value in predictive mean matching (Morris, White & Royston 2014).
DONORS = 10
#: Chained-equation sweeps per imputation (a monotone pattern needs one; 5 for the rest).
SWEEPS = 5


def _pmm_column(y: np.ndarray, X: np.ndarray, miss: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """Impute ``y[miss]`` from ``X`` by predictive mean matching with a posterior draw of
    the regression coefficients (type-1 matching: observed rows use the fitted
    coefficients, missing rows the drawn ones)."""
    obs = ~miss
    Xo, yo = X[obs], y[obs]
    n_obs, k = Xo.shape
    beta, *_ = np.linalg.lstsq(Xo, yo, rcond=None)
    resid = yo - Xo @ beta
    dof = max(n_obs - k, 1)
    sigma2 = float(resid @ resid) / rng.chisquare(dof)
    xtx_inv = np.linalg.pinv(Xo.T @ Xo)
    chol = np.linalg.cholesky(xtx_inv * sigma2 + 1e-12 * np.eye(k))
    beta_draw = beta + chol @ rng.standard_normal(k)
    pred_obs = Xo @ beta
    pred_mis = X[miss] @ beta_draw
    donors = min(DONORS, n_obs)
    dist = np.abs(pred_mis[:, None] - pred_obs[None, :])
    nearest = np.argpartition(dist, donors - 1, axis=1)[:, :donors]
    pick = nearest[np.arange(nearest.shape[0]), rng.integers(0, donors, nearest.shape[0])]
    out = y.copy()
    out[miss] = yo[pick]
    return out


def impute(values: np.ndarray, m: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``m`` completed copies of ``values`` (dyads x variables, NaN = missing), by chained
    equations with predictive mean matching. A column with fewer than 2 observed values
    cannot be imputed (ValueError)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a dyads x variables array")
    miss = np.isnan(v)
    n_obs = (~miss).sum(axis=0)
    if (n_obs < 2).any():
        raise ValueError("cannot impute a variable observed in fewer than 2 dyads")
    if not miss.any():
        return [v.copy() for _ in range(m)]
    todo = [j for j in range(v.shape[1]) if miss[:, j].any()]
    # a column without spread predicts nothing: leave it out of the predictors
    spread = np.array([np.nanstd(v[:, j]) > 0 for j in range(v.shape[1])])
    means = np.nanmean(v, axis=0)
    out = []
    for _ in range(m):
        cur = np.where(miss, means[None, :], v)
        for _sweep in range(SWEEPS if len(todo) > 1 else 1):
            for j in todo:
                pred = [i for i in range(v.shape[1]) if i != j and spread[i]]
                X = np.column_stack([np.ones(v.shape[0])] + [cur[:, i] for i in pred])
                cur[:, j] = _pmm_column(v[:, j], X, miss[:, j], rng)
        out.append(cur)
    return out


def rubin(estimates: Sequence[float], variances: Sequence[float], *, alpha: float = 0.05,
          df_complete: float | None = None) -> dict[str, Any]:
    """Pool ``m`` complete-data estimates and their variances by Rubin's rules (Rubin 1987):
    total variance T = W + (1 + 1/m) B; degrees of freedom of Barnard & Rubin (1999) when
    ``df_complete`` is given, else Rubin's; t-based CI and two-sided p."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.size
    if m < 2 or u.size != m:
        raise ValueError("rubin needs at least 2 estimates with one variance each")
    if not (np.isfinite(q).all() and np.isfinite(u).all()):
        raise ValueError("an imputed-data analysis gave a non-finite estimate or variance")
    qbar, w, b = float(q.mean()), float(u.mean()), float(q.var(ddof=1))
    t = w + (1 + 1 / m) * b
    if t <= 0:
        raise ValueError("pooled variance is zero")
    if b == 0:
        df = math.inf if df_complete is None else float(df_complete)
    else:
        r = (1 + 1 / m) * b / max(w, 1e-300)
        df = (m - 1) * (1 + 1 / r) ** 2
        if df_complete is not None:
            gamma = (1 + 1 / m) * b / t
            df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - gamma)
            df = 1 / (1 / df + 1 / df_obs)
    se = math.sqrt(t)
    crit = float(stats.t.ppf(1 - alpha / 2, df)) if math.isfinite(df) else float(
        stats.norm.ppf(1 - alpha / 2))
    tstat = qbar / se
    p = float(2 * (stats.t.sf(abs(tstat), df) if math.isfinite(df) else stats.norm.sf(
        abs(tstat))))
    return {"estimate": qbar, "se": se, "ci_lower": qbar - crit * se,
            "ci_upper": qbar + crit * se, "p": p, "df": df, "m": m,
            "within_variance": w, "between_variance": b,
            "fraction_missing_information": (1 + 1 / m) * b / t}


Analyse = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def mi_estimate(values: np.ndarray, arm: np.ndarray, target: int | Sequence[int],
                analyse: Analyse, *,
                m: int, rng: np.random.Generator, alpha: float = 0.05,
                delta: Mapping[Any, float | Sequence[float]] | None = None,
                completed: Sequence[np.ndarray] | None = None,
                df_complete: float | None = None) -> dict[str, Any]:
    """Multiply-imputed estimate: impute ``values`` (dyads x variables) within each arm,
    add ``delta[arm]`` to the imputed cells of column ``target`` (or of each of several
    columns: one shift for all, or one per column; a pattern-mixture shift: dropouts of
    that arm are that much worse or better than MAR predicts), analyse each
    completed data set with ``analyse(values, arm) -> (estimate, variance)`` and pool them
    with :func:`rubin`. Pass ``completed`` (from an earlier call's ``"completed"``) to
    reuse the imputations for another delta."""
    v = np.asarray(values, dtype=float)
    arm = np.asarray(arm, dtype=object)
    if completed is None:
        completed = []
        parts = {a: impute(v[arm == a], m, rng) for a in dict.fromkeys(arm.tolist())}
        for i in range(m):
            full = v.copy()
            for a, imps in parts.items():
                full[arm == a] = imps[i]
            completed.append(full)
    targets = [target] if isinstance(target, int | np.integer) else list(target)
    miss = np.isnan(v[:, targets])
    ests, variances = [], []
    for full in completed:
        data = full
        if delta:
            data = full.copy()
            for a, d in delta.items():
                shifts = np.broadcast_to(np.asarray(d, dtype=float), (len(targets),))
                for j, col in enumerate(targets):
                    rows = miss[:, j] & (arm == a)
                    data[rows, col] = data[rows, col] + shifts[j]
        est, var = analyse(data, arm)
        ests.append(est)
        variances.append(var)
    out = rubin(ests, variances, alpha=alpha, df_complete=df_complete)
    out["n_imputed"] = int(miss.any(axis=1).sum())
    out["completed"] = completed
    return out


def tipping_grid(estimate_at: Callable[[float], Mapping[str, Any]], *, unfavourable: float,
                 scale: float, alpha: float, steps: Sequence[float], method: str,
                 delta_unit: str, back: Callable[[float], float] = float) -> dict[str, Any]:
    """The tipping-point grid: ``estimate_at(delta)`` (a pooled :func:`rubin` result) for
    ``delta = unfavourable * step * scale`` at each ``step``; the tipping point is the
    smallest step at which a significant result at ``delta = 0`` (MAR) is no longer
    significant (None if it never tips within the grid, or if the MAR result is not
    significant)."""
    rows = []
    tip = None
    significant_at_mar = None
    for s in steps:
        d = unfavourable * s * scale
        r = estimate_at(d)
        sig = r["p"] < alpha
        if s == 0:
            significant_at_mar = sig
        elif significant_at_mar and not sig and tip is None:
            tip = s
        rows.append({"delta": d, "delta_sd": s, "estimate": back(r["estimate"]),
                     "ci_lower": back(r["ci_lower"]), "ci_upper": back(r["ci_upper"]),
                     "p": r["p"]})
    return {"method": method,
            "delta_unit": delta_unit,
            "direction": "against the treatment",
            "grid": rows,
            "tipping_point_sd": tip,
            "tipping_point": None if tip is None else unfavourable * tip * scale,
            "conclusion": ("not significant under MAR: nothing to tip" if not significant_at_mar
                           else f"significance lost at a shift of {tip} units"
                           if tip is not None else
                           f"still significant at a shift of {steps[-1]} units")}


#: The default grid of shifts (in units of ``scale``) of a tipping-point analysis.
TIPPING_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)


def tipping_point(values: np.ndarray, arm: np.ndarray, target: int | Sequence[int],
                  analyse: Analyse, *, treatment: Any,
                  unfavourable: float | Sequence[float], scale: float | Sequence[float],
                  completed, alpha: float = 0.05, steps: Sequence[float] = TIPPING_STEPS,
                  rng: np.random.Generator, m: int, back: Callable[[float], float] = float,
                  names: Sequence[str] | None = None) -> dict[str, Any]:
    """Delta-adjusted sensitivity analysis: the imputed outcomes of the ``treatment`` arm are
    shifted by ``delta = unfavourable * step * scale`` (``unfavourable`` = +1 or -1: the
    direction that works against the treatment; ``scale``: the outcome's observed SD), for
    each ``step`` (:func:`tipping_grid`). With one ``unfavourable`` and ``scale`` per target
    column (named by ``names``; e.g. a mediator and an outcome) each column is shifted by
    ``step`` of its own SD in its own direction, and the grid's delta is ``step``."""
    if np.ndim(unfavourable) == 0 and np.ndim(scale) == 0:
        def at(d: float) -> Mapping[str, Any]:
            return mi_estimate(values, arm, target, analyse, m=m, rng=rng, alpha=alpha,
                               delta={treatment: d}, completed=completed)

        out = tipping_grid(at, unfavourable=float(unfavourable), scale=float(scale),
                           alpha=alpha, steps=steps, back=back,
                           method="delta adjustment of the imputed treatment-arm outcomes "
                           "(pattern mixture), multiple imputation, Rubin's rules",
                           delta_unit=f"observed SD of the outcome ({float(scale):.4g})")
        out["conclusion"] = out["conclusion"].replace(" units", " SD")
        return out
    targets = [target] if isinstance(target, int | np.integer) else list(target)
    names = list(names) if names is not None else [f"column {j}" for j in targets]
    if len(names) != len(targets):
        raise ValueError("give one name per shifted column")
    per_sd = np.broadcast_to(np.asarray(unfavourable, dtype=float)
                             * np.asarray(scale, dtype=float), (len(targets),))

    def joint(d: float) -> Mapping[str, Any]:
        return mi_estimate(values, arm, targets, analyse, m=m, rng=rng, alpha=alpha,
                           delta={treatment: per_sd * d}, completed=completed)

    sds = ", ".join(f"{n} {abs(s):.4g}" for n, s in zip(names, per_sd, strict=True))
    out = tipping_grid(joint, unfavourable=1.0, scale=1.0, alpha=alpha, steps=steps,
                       back=back, method="delta adjustment of the imputed treatment-arm "
                       f"values of {' and '.join(names)}, each by delta of its own SD "
                       "against the treatment (pattern mixture), multiple imputation, "
                       "Rubin's rules", delta_unit=f"observed SD of each shifted variable "
                       f"({sds})")
    out["conclusion"] = out["conclusion"].replace(" units", " SD")
    out["shift_per_sd"] = {n: float(s) for n, s in zip(names, per_sd, strict=True)}
    return out


def event_time_mi(time: np.ndarray, event: np.ndarray, lost: np.ndarray, arm: np.ndarray,
                  horizon: float, analyse: Analyse, *, m: int, rng: np.random.Generator,
                  alpha: float = 0.05, delta: Mapping[Any, float] | None = None
                  ) -> dict[str, Any]:
    """Multiply-imputed time-to-event analysis with a delta-adjusted hazard after loss to
    follow-up (Lipkovich, Ratitch & O'Kelly 2016, Pharm Stat 15:216; Jackson et al. 2014,
    Stat Med 33:4681). For each imputation and arm, the Kaplan-Meier curve of a bootstrap
    sample of the arm (approximate Bayesian bootstrap: a proper imputation) gives each dyad
    ``lost`` to follow-up at ``time`` an event time from the conditional survival
    ``(S(t) / S(time)) ** exp(delta[arm])`` (``delta`` = 0: censoring at random; > 0: a higher
    hazard after loss); beyond the curve's last time, or past ``horizon``, the dyad is
    censored at ``horizon``. Dyads censored otherwise (end of study, death) stay censored.
    ``analyse(completed, arm) -> (estimate, variance)`` takes a (dyads x 2) array of time
    and event; pooled by :func:`rubin`."""
    from lifelines import KaplanMeierFitter

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    lost = np.asarray(lost, dtype=bool) & (event == 0)
    arm = np.asarray(arm, dtype=object)
    ests, variances = [], []
    for _ in range(m):
        t_new, e_new = time.copy(), event.copy()
        for a in dict.fromkeys(arm.tolist()):
            rows = np.flatnonzero(arm == a)
            todo = rows[lost[rows]]
            if todo.size == 0:
                continue
            boot = rng.choice(rows, rows.size, replace=True)
            km = KaplanMeierFitter().fit(time[boot], event[boot])
            grid = km.survival_function_.index.to_numpy(dtype=float)
            surv = km.survival_function_.iloc[:, 0].to_numpy(dtype=float)
            hazard_multiplier = math.exp((delta or {}).get(a, 0.0))
            at_loss = np.searchsorted(grid, time[todo], side="right") - 1
            s_c = np.where(at_loss >= 0, surv[np.maximum(at_loss, 0)], 1.0)
            # the first time t after the loss with (S(t) / S(c)) ** k <= u (S falls)
            threshold = s_c * rng.uniform(size=todo.size) ** (1.0 / hazard_multiplier)
            first = np.searchsorted(-surv, -threshold, side="left")
            hit = (s_c > 0) & (first < grid.size)
            when = grid[np.minimum(first, grid.size - 1)]
            hit &= (when > time[todo]) & (when <= horizon)
            t_new[todo] = np.where(hit, when, horizon)
            e_new[todo] = hit.astype(float)
        est, var = analyse(np.column_stack([t_new, e_new]), arm)
        ests.append(est)
        variances.append(var)
    out = rubin(ests, variances, alpha=alpha)
    out["n_imputed"] = int(lost.sum())
    return out


def ancova(y: np.ndarray, baseline: np.ndarray, treated: np.ndarray) -> tuple[float, float]:
    """ANCOVA ``y ~ treated + baseline`` by least squares: the treatment coefficient and its
    variance (the trialist's analysis of a follow-up score; Vickers & Altman 2001)."""
    X = np.column_stack([np.ones_like(y), treated.astype(float), baseline])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    dof = y.size - X.shape[1]
    if dof < 1:
        raise ValueError("too few dyads for ANCOVA")
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(X.T @ X)
    return float(beta[1]), float(cov[1, 1])
