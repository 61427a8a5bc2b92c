"""Missing outcome data as trialists handle them: multiple imputation for the primary ITT
analysis, Rubin's rules, and a delta-adjusted tipping-point analysis for data missing not at
random.

Loss to follow-up in a trial depends on recent use (:mod:`.measurement`), which also drives
COMM and TLFB: the data are missing not at random. The primary analyses therefore use every
randomised dyad under missing at random given the arm and what was observed (multiple
imputation), and a sensitivity analysis asks how far the imputed outcomes of the treatment
arm would have to be shifted against the treatment before the conclusion changes (the
tipping point; Ratitch, O'Kelly & Tosiello 2013; Cro et al. 2020, Stat Med 39:2815).

Imputation (:func:`impute`): chained equations (van Buuren & Groothuis-Oudshoorn 2011) over
the columns with missing values, each imputed from all the others plus the arm (indicator
columns: "arm in the imputation model", White, Royston & Wood 2011, Stat Med 30:377):

* a continuous column by the Bayesian normal linear model with a draw of its parameters
  (Rubin 1987, sec. 5.3; van Buuren 2018, *Flexible Imputation of Missing Data*, Algorithm
  3.1, ``mice.impute.norm``): sigma^2 from its scaled inverse-chi^2 posterior, beta from
  N(beta_hat, sigma^2 (X'X)^-1), the imputed value X beta + sigma z;
* a 0/1 column by logistic regression with a draw of its coefficients from their normal
  approximation (van Buuren 2018, Algorithm 3.4, ``mice.impute.logreg``), a weak ridge
  penalty keeping separated data finite.

Predictive mean matching (the previous imputer, 10 donors within arm) is not used: with
the arm's few observed donors it understated the between-imputation variance and the MI
ANCOVA rejected a true null in 11.4% of trials at 10 per arm, 9.2% at 20 (issue 20;
``benchmarks/null_sims.py`` measures the level of this imputer, docs/trial-statistics.md).
statsmodels' ``BayesGaussMI`` (statsmodels.imputation.bayes_mi) draws from a multivariate
normal with a Gibbs sampler instead of chained regressions; with the arm in it, it is the
same model for continuous columns, but it has no model for a 0/1 column and needs a burn-in
per data set. ``MICEData`` refits a patsy formula at every step (about 2.3 s for 20
imputations of 60 dyads against tens of ms here), too slow inside the power curves and the
null simulations of thousands of trials.

Pooling (:func:`rubin`): Rubin's rules with the Barnard & Rubin (1999) small-sample degrees
of freedom: every caller passes the complete-data degrees of freedom of its analysis; t-based
CI and p.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["IMPUTATION_METHOD", "ancova", "event_time_mi", "impute", "mi_estimate", "rubin",
           "shift_binary_imputations", "tipping_grid", "tipping_point"]

#: Chained-equation sweeps per imputation (a monotone pattern needs one; mice's default 5).
SWEEPS = 5
#: Ridge added to the diagonal of X'X, relative to it (mice's ``ridge`` default 1e-5): keeps
#: the normal model solvable with nearly collinear predictors.
RIDGE = 1e-5
#: L2 penalty on the logistic coefficients (a N(0, 1/0.1) prior; guess: weak enough not to
#: move an estimable coefficient, strong enough to keep separated data finite).
LOGISTIC_PENALTY = 0.1
#: Residual degrees of freedom the normal model keeps at least; with fewer observed rows
#: the predictors least correlated with the column are left out of its model.
MIN_RESIDUAL_DF = 4

#: What the imputer does, in words (quoted by every analysis' ``missing_data``).
IMPUTATION_METHOD = ("chained equations with the arm in every imputation model: continuous "
                     "variables by the Bayesian normal linear model with parameter draws "
                     "(Rubin 1987; mice 'norm'), 0/1 variables by logistic regression with "
                     "parameter draws (mice 'logreg'); Rubin's rules with Barnard-Rubin "
                     "(1999) small-sample df")


def _select(y: np.ndarray, X: np.ndarray, keep: int, n_obs: int) -> np.ndarray:
    """Columns of ``X`` in the model of ``y``: the first ``keep`` (intercept, arm) always,
    then the others by absolute correlation with ``y`` while ``n_obs - k >= MIN_RESIDUAL_DF``."""
    k_max = max(n_obs - MIN_RESIDUAL_DF, keep)
    if X.shape[1] <= k_max:
        return np.arange(X.shape[1])
    rest = np.arange(keep, X.shape[1])
    with np.errstate(all="ignore"):
        r = np.array([abs(np.corrcoef(y, X[:, j])[0, 1]) for j in rest])
    order = rest[np.argsort(-np.nan_to_num(r), kind="stable")]
    return np.concatenate([np.arange(keep), order[:k_max - keep]])


def _norm_column(y: np.ndarray, X: np.ndarray, miss: np.ndarray, keep: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Impute ``y[miss]`` by the Bayesian normal linear model with parameter draws."""
    obs = ~miss
    cols = _select(y[obs], X[obs], keep, int(obs.sum()))
    Xo, yo = X[obs][:, cols], y[obs]
    n_obs, k = Xo.shape
    xtx = Xo.T @ Xo
    xtx[np.diag_indices(k)] += RIDGE * np.maximum(np.diag(xtx), 1e-12)
    v = np.linalg.inv(xtx)
    beta = v @ (Xo.T @ yo)
    resid = yo - Xo @ beta
    sigma = math.sqrt(float(resid @ resid) / rng.chisquare(max(n_obs - k, 1)))
    chol = np.linalg.cholesky((v + v.T) / 2)
    beta_draw = beta + sigma * (chol @ rng.standard_normal(k))
    out = y.copy()
    out[miss] = X[miss][:, cols] @ beta_draw + sigma * rng.standard_normal(int(miss.sum()))
    return out


def _logistic_column(y: np.ndarray, X: np.ndarray, miss: np.ndarray, keep: int,
                     rng: np.random.Generator, offset: np.ndarray | float = 0.0) -> np.ndarray:
    """Impute the 0/1 ``y[miss]`` by logistic regression with a draw of its coefficients
    (penalised Newton-Raphson fit, normal approximation of the posterior); ``offset`` (one
    per missing row, or one for all) is added to the imputed rows' log odds (a
    pattern-mixture shift; 0 under MAR)."""
    obs = ~miss
    cols = _select(y[obs], X[obs], keep, int(obs.sum()))
    Xo, yo = X[obs][:, cols], y[obs]
    k = Xo.shape[1]
    pen = np.full(k, LOGISTIC_PENALTY)
    beta = np.zeros(k)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(Xo @ beta, -30, 30)))
        grad = Xo.T @ (yo - p) - pen * beta
        hess = (Xo * (p * (1 - p))[:, None]).T @ Xo + np.diag(pen) + 1e-9 * np.eye(k)
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    cov = np.linalg.inv(hess)
    beta_draw = beta + np.linalg.cholesky((cov + cov.T) / 2) @ rng.standard_normal(k)
    p_mis = 1.0 / (1.0 + np.exp(-np.clip(X[miss][:, cols] @ beta_draw + offset, -30, 30)))
    out = y.copy()
    out[miss] = (rng.random(p_mis.size) < p_mis).astype(float)
    return out


def _arm_columns(arm: np.ndarray | None, n: int) -> np.ndarray:
    """Indicator columns of every arm but the first (none without ``arm``)."""
    if arm is None:
        return np.zeros((n, 0))
    arm = np.asarray(arm, dtype=object)
    levels = list(dict.fromkeys(arm.tolist()))
    return np.column_stack([(arm == a).astype(float) for a in levels[1:]]) if len(
        levels) > 1 else np.zeros((n, 0))


def impute(values: np.ndarray, m: int, rng: np.random.Generator,
           arm: np.ndarray | None = None) -> list[np.ndarray]:
    """``m`` completed copies of ``values`` (dyads x variables, NaN = missing) by chained
    equations (:data:`IMPUTATION_METHOD`), with ``arm`` (one label per dyad) a predictor of
    every variable. A column with fewer than 2 observed values cannot be imputed
    (ValueError)."""
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
    binary = {j: bool(np.isin(v[~miss[:, j], j], (0.0, 1.0)).all()) for j in todo}
    out = []
    for _ in range(m):
        cur = v.copy()
        for j in todo:  # start from a random draw of the observed values (as mice)
            seen = v[~miss[:, j], j]
            cur[miss[:, j], j] = rng.choice(seen, int(miss[:, j].sum()))
        for _sweep in range(SWEEPS if len(todo) > 1 else 1):
            for j in todo:
                X, keep = _predictors(v, cur, j, arm)
                column = _logistic_column if binary[j] else _norm_column
                cur[:, j] = column(v[:, j], X, miss[:, j], keep, rng)
        out.append(cur)
    return out


def _predictors(v: np.ndarray, cur: np.ndarray, j: int,
                arm: np.ndarray | None) -> tuple[np.ndarray, int]:
    """The design of column ``j``'s imputation model: intercept, arm indicators (always
    kept: the first ``keep`` columns), then every other variable of the current completed
    data ``cur`` with spread in the data ``v`` (a column without spread predicts nothing)."""
    n = v.shape[0]
    fixed = np.column_stack([np.ones(n), _arm_columns(arm, n)])
    pred = [i for i in range(v.shape[1]) if i != j and np.nanstd(v[:, i]) > 0]
    return np.column_stack([fixed] + [cur[:, i] for i in pred]), fixed.shape[1]


def shift_binary_imputations(values: np.ndarray, completed: Sequence[np.ndarray],
                             arm: np.ndarray, target: int, shift: Mapping[Any, float],
                             rng: np.random.Generator) -> list[np.ndarray]:
    """Delta adjustment of an imputed 0/1 variable (Ratitch, O'Kelly & Tosiello 2013, the
    binary case): in each completed data set, the missing values of column ``target`` of
    the dyads of each arm in ``shift`` are drawn again from the logistic imputation model
    (:func:`impute`'s, given that completed set's other variables) with ``shift[arm]``
    added to their log odds of the event: dropouts of that arm have that much higher
    (> 0) or lower log odds than MAR predicts. Other arms' values are kept."""
    v = np.asarray(values, dtype=float)
    arm = np.asarray(arm, dtype=object)
    miss = np.isnan(v[:, target])
    redraw = miss & np.isin(arm, list(shift))
    if not redraw.any():
        return [np.array(c, dtype=float, copy=True) for c in completed]
    offset = np.array([shift.get(a, 0.0) for a in arm[miss]], dtype=float)
    observed = np.where(miss, np.nan, v[:, target])
    out = []
    for full in completed:
        cur = np.array(full, dtype=float, copy=True)
        X, keep = _predictors(v, cur, target, arm)
        drawn = _logistic_column(observed, X, miss, keep, rng, offset=offset)
        cur[redraw, target] = drawn[redraw]
        out.append(cur)
    return out


def rubin(estimates: Sequence[float] | np.ndarray, variances: Sequence[float] | np.ndarray,
          *, alpha: float = 0.05, df_complete: float | None = None) -> dict[str, Any]:
    """Pool ``m`` complete-data estimates and their variances by Rubin's rules (Rubin 1987):
    total variance T = W + (1 + 1/m) B; degrees of freedom of Barnard & Rubin (1999) when
    ``df_complete`` is given, else Rubin's; t-based CI and two-sided p."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.size
    if df_complete is not None and not math.isfinite(df_complete):
        df_complete = None
    if df_complete is not None and df_complete <= 0:
        raise ValueError(f"complete-data df must be positive, got {df_complete}")
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


#: Pools a list of completed data sets (and the arm labels) into one result with at least
#: ``estimate``, ``ci_lower``, ``ci_upper`` and ``p``: an analysis whose estimate is not
#: pooled by Rubin's rules on one scalar (e.g. an indirect effect from its two pooled paths).
Pool = Callable[[Sequence[np.ndarray], np.ndarray], dict[str, Any]]


def mi_estimate(values: np.ndarray, arm: np.ndarray, target: int | Sequence[int],
                analyse: Analyse | None, *,
                m: int, rng: np.random.Generator, df_complete: float, alpha: float = 0.05,
                delta: Mapping[Any, float | Sequence[float] | np.ndarray] | None = None,
                completed: Sequence[np.ndarray] | None = None,
                pool: Pool | None = None) -> dict[str, Any]:
    """Multiply-imputed estimate: impute ``values`` (dyads x variables) with the arm in the
    imputation model (:func:`impute`), add ``delta[arm]`` to the imputed cells of column
    ``target`` (or of each of several columns: one shift for all, or one per column; a
    pattern-mixture shift: dropouts of that arm are that much worse or better than MAR
    predicts), analyse each completed data set with ``analyse(values, arm) -> (estimate,
    variance)`` and pool them with :func:`rubin` on the Barnard-Rubin df of the analysis'
    complete-data df ``df_complete`` (``math.inf`` for a large-sample analysis: Rubin's
    1987 df); or, with ``pool``, hand the (shifted) completed sets to ``pool`` instead of
    ``analyse`` and Rubin's rules. Pass ``completed`` (from an earlier call's
    ``"completed"``) to reuse the imputations for another delta."""
    v = np.asarray(values, dtype=float)
    arm = np.asarray(arm, dtype=object)
    if completed is None:
        completed = impute(v, m, rng, arm=arm)
    targets = [target] if isinstance(target, int | np.integer) else list(target)
    miss = np.isnan(v[:, targets])
    sets = []
    for full in completed:
        data = full
        if delta:
            data = full.copy()
            for a, d in delta.items():
                shifts = np.broadcast_to(np.asarray(d, dtype=float), (len(targets),))
                for j, col in enumerate(targets):
                    rows = miss[:, j] & (arm == a)
                    data[rows, col] = data[rows, col] + shifts[j]
        sets.append(data)
    if pool is not None:
        out = pool(sets, arm)
    elif analyse is None:
        raise ValueError("give analyse (pooled by Rubin's rules) or pool")
    else:
        fits = [analyse(data, arm) for data in sets]
        out = rubin([f[0] for f in fits], [f[1] for f in fits], alpha=alpha,
                    df_complete=df_complete)
    out["df_complete"] = float(df_complete)
    out["n_imputed"] = int(miss.any(axis=1).sum())
    out["completed"] = completed
    return out


def tipping_grid(estimate_at: Callable[[float], Mapping[str, Any]], *, unfavourable: float,
                 scale: float, alpha: float, steps: Sequence[float], method: str,
                 delta_unit: str, back: Callable[[float], float] = float,
                 primary: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The tipping-point grid: ``estimate_at(delta)`` (a pooled :func:`rubin` result) for
    ``delta = unfavourable * step * scale`` at each ``step``; the tipping point is the
    smallest step at which a significant result at ``delta = 0`` (MAR) is no longer
    significant (None if it never tips within the grid, or if the MAR result is not
    significant). With ``primary`` (the reported analysis under MAR, on the analysis scale:
    ``estimate``, ``ci_lower``, ``ci_upper``, ``p``) the delta 0 row is that result, so the
    grid starts from the estimate the trial reports; the multiply-imputed refit at delta 0
    is kept as ``mi_at_mar``."""
    rows = []
    tip = None
    significant_at_mar = None
    mi_at_mar = None
    for s in steps:
        d = unfavourable * s * scale
        r = estimate_at(d)
        if s == 0 and primary is not None:
            mi_at_mar = {k: r[k] for k in ("estimate", "ci_lower", "ci_upper", "p")}
            mi_at_mar.update({k: back(r[k]) for k in ("estimate", "ci_lower", "ci_upper")})
            r = primary
        sig = r["p"] < alpha
        if s == 0:
            significant_at_mar = sig
        elif significant_at_mar and not sig and tip is None:
            tip = s
        rows.append({"delta": d, "delta_sd": s, "estimate": back(r["estimate"]),
                     "ci_lower": back(r["ci_lower"]), "ci_upper": back(r["ci_upper"]),
                     "p": r["p"]})
    conclusion = ("not significant under MAR: nothing to tip" if not significant_at_mar
                  else f"significance lost at a shift of {tip} units" if tip is not None
                  else f"still significant at a shift of {steps[-1]} units")
    out: dict[str, Any] = {
        "method": method, "delta_unit": delta_unit, "direction": "against the treatment",
        "grid": rows, "tipping_point_sd": tip,
        "tipping_point": None if tip is None else unfavourable * tip * scale,
        "conclusion": conclusion}
    if primary is not None:
        out["delta_0_row"] = "the reported primary analysis (MAR)"
        out["mi_at_mar"] = mi_at_mar
    return out


#: The default grid of shifts (in units of ``scale``) of a tipping-point analysis.
TIPPING_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)


def tipping_point(values: np.ndarray, arm: np.ndarray, target: int | Sequence[int],
                  analyse: Analyse | None, *, treatment: Any,
                  unfavourable: float | Sequence[float], scale: float | Sequence[float],
                  completed, alpha: float = 0.05, steps: Sequence[float] = TIPPING_STEPS,
                  rng: np.random.Generator, m: int, df_complete: float,
                  back: Callable[[float], float] = float,
                  names: Sequence[str] | None = None,
                  primary: Mapping[str, Any] | None = None,
                  pool: Pool | None = None) -> dict[str, Any]:
    """Delta-adjusted sensitivity analysis: the imputed outcomes of the ``treatment`` arm are
    shifted by ``delta = unfavourable * step * scale`` (``unfavourable`` = +1 or -1: the
    direction that works against the treatment; ``scale``: the outcome's observed SD), for
    each ``step`` (:func:`tipping_grid`). With one ``unfavourable`` and ``scale`` per target
    column (named by ``names``; e.g. a mediator and an outcome) each column is shifted by
    ``step`` of its own SD in its own direction, and the grid's delta is ``step``.
    ``primary``: the reported result, the grid's delta 0 row (:func:`tipping_grid`);
    ``pool``: as :func:`mi_estimate`'s."""
    if np.ndim(unfavourable) == 0 and np.ndim(scale) == 0:
        def at(d: float) -> Mapping[str, Any]:
            return mi_estimate(values, arm, target, analyse, m=m, rng=rng, alpha=alpha,
                               delta={treatment: d}, completed=completed,
                               df_complete=df_complete, pool=pool)

        sd = float(np.asarray(scale, dtype=float))
        out = tipping_grid(at, unfavourable=float(np.asarray(unfavourable, dtype=float)),
                           scale=sd, alpha=alpha, steps=steps, back=back, primary=primary,
                           method="delta adjustment of the imputed treatment-arm outcomes "
                           "(pattern mixture), multiple imputation, Rubin's rules",
                           delta_unit=f"observed SD of the outcome ({sd:.4g})")
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
                           delta={treatment: per_sd * d}, completed=completed,
                           df_complete=df_complete, pool=pool)

    sds = ", ".join(f"{n} {abs(s):.4g}" for n, s in zip(names, per_sd, strict=True))
    out = tipping_grid(joint, unfavourable=1.0, scale=1.0, alpha=alpha, steps=steps,
                       back=back, primary=primary,
                       method="delta adjustment of the imputed treatment-arm "
                       f"values of {' and '.join(names)}, each by delta of its own SD "
                       "against the treatment (pattern mixture), multiple imputation, "
                       "Rubin's rules", delta_unit=f"observed SD of each shifted variable "
                       f"({sds})")
    out["conclusion"] = out["conclusion"].replace(" units", " SD")
    out["shift_per_sd"] = {n: float(s) for n, s in zip(names, per_sd, strict=True)}
    return out


def event_time_mi(time: np.ndarray, event: np.ndarray, lost: np.ndarray, arm: np.ndarray,
                  horizon: float, analyse: Analyse, *, m: int, rng: np.random.Generator,
                  alpha: float = 0.05, delta: Mapping[Any, float] | None = None,
                  df_complete: float = math.inf) -> dict[str, Any]:
    """Multiply-imputed time-to-event analysis with a delta-adjusted hazard after loss to
    follow-up (Lipkovich, Ratitch & O'Kelly 2016, Pharm Stat 15:216; Jackson et al. 2014,
    Stat Med 33:4681). For each imputation and arm, the Kaplan-Meier curve of a bootstrap
    sample of the arm (approximate Bayesian bootstrap: a proper imputation) gives each dyad
    ``lost`` to follow-up at ``time`` an event time from the conditional survival
    ``(S(t) / S(time)) ** exp(delta[arm])`` (``delta`` = 0: censoring at random; > 0: a higher
    hazard after loss); beyond the curve's last time, or past ``horizon``, the dyad is
    censored at ``horizon``. Dyads censored otherwise (end of study, death) stay censored.
    ``analyse(completed, arm) -> (estimate, variance)`` takes a (dyads x 2) array of time
    and event; pooled by :func:`rubin` (``df_complete``: the analysis' complete-data df;
    the default, infinite, for the large-sample Cox model)."""
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
    out = rubin(ests, variances, alpha=alpha, df_complete=df_complete)
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
