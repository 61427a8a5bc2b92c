"""Trial statistics for in-silico randomized trials, done as a trial statistician would.

Pure functions on pandas / numpy data, no plotting. Every public function returns a plain,
JSON-serialisable ``dict`` (Python ``float``/``int``/``bool``/``str``/``None``/``list``/``dict``
only; non-finite numbers are reported as ``None`` so that ``json.dumps(..., allow_nan=False)``
works). Bad input raises ``ValueError`` with a message naming the problem.

Long-format trial data (one row per dyad x timepoint x instrument) must have at least the columns
``dyad_id`` (int), ``arm`` (str), ``timepoint`` (str, e.g. ``"baseline"``, ``"post"``, ``"3mo"``),
``day`` (int, study day), ``instrument`` (str) and ``value`` (float, ``NaN`` = missing).

Conventions: ``estimate``/``se``/``ci_lower``/``ci_upper``/``p`` keys; confidence level
``1 - alpha``; contrasts are always treatment minus control (or treatment / control for ratios).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "LONG_COLUMNS",
    "EMA_COLUMNS",
    "lmm_arm_by_time",
    "binary_outcome",
    "cohens_d",
    "standardized_mean_change",
    "cox_ph",
    "km_at",
    "ema_mlm",
    "mediation",
    "summarize_replicates",
]

LONG_COLUMNS: tuple[str, ...] = ("dyad_id", "arm", "timepoint", "day", "instrument", "value")
EMA_COLUMNS: tuple[str, ...] = ("dyad_id", "arm", "day", "prompt", "value")


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    """Recursively convert numpy scalars/arrays to plain Python; non-finite floats -> None."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        val = float(obj)
        return val if math.isfinite(val) else None
    if obj is None or isinstance(obj, str):
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def _check_alpha(alpha: float) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return a


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def _require_dataframe(data: Any, name: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _require_columns(df: pd.DataFrame, required: Iterable[str], name: str = "data") -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing required column(s) {missing}; it has {list(map(str, df.columns))}"
        )


def _require_numeric(df: pd.DataFrame, col: str, name: str = "data") -> None:
    if not (pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])):
        raise ValueError(f"{name} column {col!r} must be numeric, got dtype {df[col].dtype}")


def _check_arms(df: pd.DataFrame, treatment: str, control: str, name: str = "data") -> None:
    if treatment == control:
        raise ValueError(f"treatment and control must differ, both are {treatment!r}")
    present = set(df["arm"].dropna().unique().tolist())
    for label, arm in (("treatment", treatment), ("control", control)):
        if arm not in present:
            raise ValueError(
                f"unknown arm: {label} arm {arm!r} not found in {name}['arm'] "
                f"(arms present: {sorted(map(str, present))})"
            )


def _check_one_arm_per_dyad(df: pd.DataFrame, name: str = "data") -> None:
    n_arms = df.groupby("dyad_id")["arm"].nunique()
    bad = n_arms[n_arms > 1]
    if len(bad):
        raise ValueError(
            f"{name}: dyad_id(s) {bad.index.tolist()[:5]} appear in more than one arm; "
            "each dyad must be randomized to exactly one arm"
        )


def _as_1d_float(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric array-like") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _as_binary(x: Any, name: str, allow_nan: bool = False) -> np.ndarray:
    arr = _as_1d_float(x, name)
    if not allow_nan and np.isnan(arr).any():
        raise ValueError(f"{name} contains missing values (NaN)")
    observed = arr[~np.isnan(arr)]
    if not np.isin(observed, (0.0, 1.0)).all():
        raise ValueError(f"{name} must contain only 0/1 (or False/True) values")
    return arr


def wilson_ci(k: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` (Wilson 1927; statsmodels
    ``proportion_confint``); NaN for n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return math.nan, math.nan
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    share = k / n  # the bounds contain the share exactly (no 1 - 1e-16 at k = n)
    return min(float(lo), share), max(float(hi), share)


def _t_summary(est: float, se: float, df: float, alpha: float) -> dict[str, Any]:
    """Estimate with a t-based CI and two-sided p on ``df`` degrees of freedom."""
    if not (math.isfinite(se) and se > 0):
        return {"estimate": est, "se": se, "ci_lower": math.nan, "ci_upper": math.nan,
                "p": math.nan, "df": df}
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    return {"estimate": est, "se": se, "ci_lower": est - crit * se,
            "ci_upper": est + crit * se, "p": float(2 * stats.t.sf(abs(est / se), df)),
            "df": df}


def _wald(est: float, se: float, z: float) -> dict[str, Any]:
    """Normal-theory Wald summary for a scalar estimate."""
    if not (math.isfinite(se) and se > 0):
        return {
            "estimate": est,
            "se": se,
            "ci_lower": math.nan,
            "ci_upper": math.nan,
            "p": math.nan,
        }
    stat = est / se
    return {
        "estimate": est,
        "se": se,
        "ci_lower": est - z * se,
        "ci_upper": est + z * se,
        "p": float(2.0 * stats.norm.sf(abs(stat))),
    }


def _exp(x: float) -> float:
    """exp() that returns inf instead of raising OverflowError (reported as None later)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _format_warning(w: warnings.WarningMessage) -> str:
    return f"{w.category.__name__}: {w.message}"


def _dedupe(msgs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for m in msgs:
        if m not in out:
            out.append(m)
    return out


def _day_dummies(groups: np.ndarray, days: np.ndarray) -> dict[Any, np.ndarray]:
    """Per dyad, the 0/1 matrix of its rows by its days (MixedLM's ``exog_vc`` layout:
    rows in the order they appear for that group)."""
    out = {}
    frame = pd.DataFrame({"g": groups, "d": days})
    for g, sub in frame.groupby("g", sort=False):
        codes, _ = pd.factorize(sub["d"])
        m = np.zeros((len(sub), codes.max() + 1))
        m[np.arange(len(sub)), codes] = 1.0
        out[g] = m
    return out


class _Degenerate(Exception):
    """The data leave no within-dyad residual variance (found before fitting)."""


#: Within-dyad residual sum of squares below this share of the total counts as an exact fit.
DEGENERATE_RSS_SHARE = 1e-10


def _degenerate_within(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> str | None:
    """Why a random-intercept LMM of ``y`` on ``X`` is degenerate, or None.

    The residual variance of the LMM is estimated from the within-dyad residuals (the fixed
    effects plus one intercept per dyad). When those are all zero the data are an exact fit:
    the residual variance sits on its boundary (0) and the mixed model has no standard
    errors; what an optimiser returns then depends on its floating-point path. This check is
    ours (a least-squares fit with dyad-demeaned columns), so the fallback is deterministic.
    """
    frame = pd.DataFrame(np.column_stack([y, X]))
    within = (frame - frame.groupby(np.asarray(groups)).transform("mean")).to_numpy()
    yw, Xw = within[:, 0], within[:, 1:]
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return "the outcome is constant"
    beta = np.linalg.lstsq(Xw, yw, rcond=None)[0] if Xw.size else np.zeros(0)
    rss = float(np.sum((yw - Xw @ beta) ** 2)) if Xw.size else float(np.sum(yw**2))
    if rss <= DEGENERATE_RSS_SHARE * total:
        return ("exact fit: no within-dyad residual variance (the LMM residual variance is on "
                "its boundary, 0)")
    return None


def _fit_mixed_or_ols(
    y: np.ndarray,
    X: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str],
    *,
    reml: bool,
    maxiter: int | None,
    days: np.ndarray | None = None,
) -> dict[str, Any]:
    """Random-intercept LMM (statsmodels MixedLM) with recorded warnings and an OLS fallback.

    With ``days`` (one label per row) a variance component for the day within the dyad is
    added: prompts of one day share a day effect (EMA: prompts nested in days nested in
    persons; Bolger & Laurenceau 2013, ch. 4).

    The outcome is standardised before fitting (fixed effects and variance components are
    equivariant under affine rescaling of y, ML and REML alike) so that optimiser tolerances and
    statsmodels' absolute boundary threshold (0.01) act on a unit scale; results are transformed
    back. If MixedLM raises, or returns non-finite fixed-effect standard errors, the model is
    refitted by OLS with cluster-robust (by dyad) standard errors and ``method`` says so. Data
    that are an exact fit within dyads (:func:`_degenerate_within`) go straight to that
    fallback without calling MixedLM.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    center = float(np.mean(y))
    scale = float(np.std(y))
    ys = (y - center) / scale
    k = X.shape[1]
    # back-transform: beta = scale * beta_s, plus the centre on the intercept (column 0)
    shift = np.zeros(k)
    shift[0] = center

    msgs: list[str] = []
    fallback_reason: str | None = _degenerate_within(ys, X, groups)
    out: dict[str, Any] = {}
    fit_kwargs: dict[str, Any] = {} if maxiter is None else {"maxiter": int(maxiter)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if fallback_reason is not None:
                raise _Degenerate(fallback_reason)
            vc = None if days is None else {"day": _day_dummies(groups, days)}
            res = sm.MixedLM(ys, X, groups=groups, exog_re=np.ones((len(ys), 1)),
                             exog_vc=vc).fit(reml=reml, **fit_kwargs)
            params = np.asarray(res.fe_params, dtype=float)
            cov = np.asarray(res.cov_params(), dtype=float)[:k, :k]
            if not np.all(np.isfinite(np.diag(cov))) or np.any(np.diag(cov) < 0):
                fallback_reason = "MixedLM returned non-finite fixed-effect standard errors"
            else:
                out = {
                    "method": "mixedlm_reml" if reml else "mixedlm_ml",
                    "converged": bool(res.converged),
                    "params": params * scale + shift,
                    "cov": cov * scale**2,
                    "random_intercept_var": float(np.asarray(res.cov_re)[0, 0]) * scale**2,
                    "residual_var": float(res.scale) * scale**2,
                    "day_var": (float(np.asarray(res.vcomp)[0]) * scale**2
                                if days is not None else math.nan),
                }
        except _Degenerate:
            pass
        except (np.linalg.LinAlgError, ValueError, ArithmeticError, RuntimeError) as exc:
            fallback_reason = f"MixedLM raised {type(exc).__name__}: {exc}"
    msgs.extend(_format_warning(w) for w in caught)
    convergence_msgs = [
        _format_warning(w) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]

    if fallback_reason is not None:
        msgs.append(f"fallback to OLS with cluster-robust SEs by dyad: {fallback_reason}")
        with warnings.catch_warnings(record=True) as caught2:
            warnings.simplefilter("always")
            ols = sm.OLS(ys, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        msgs.extend(_format_warning(w) for w in caught2)
        out = {
            "method": "ols_cluster_robust",
            # `converged` refers to the pre-specified mixed model, which did not give a result.
            "converged": False,
            "params": np.asarray(ols.params, dtype=float) * scale + shift,
            "cov": np.asarray(ols.cov_params(), dtype=float) * scale**2,
            "random_intercept_var": math.nan,
            "day_var": math.nan,
            "residual_var": float(ols.scale) * scale**2,
        }
    out["warnings"] = _dedupe(msgs)
    out["convergence_warnings"] = _dedupe(convergence_msgs)
    out["fallback_reason"] = fallback_reason
    out["names"] = list(names)
    return out


def _fit_mmrm(obs: pd.DataFrame, X: np.ndarray, visits: Sequence[Any], names: Sequence[str],
              *, reml: bool) -> tuple[Any, dict[str, Any]]:
    """The MMRM of :func:`lmm_arm_by_time` on its long rows: dyads x visits wide, y
    standardised for the optimiser and transformed back (contrasts' df and the F test are
    invariant to that affine change). Returns (fit, summary), fit None
    with ``fallback_reason`` when the data are an exact fit or REML does not converge."""
    from ..stats.mmrm import fit_mmrm

    y = obs["value"].to_numpy(dtype=float)
    center, scale = float(np.mean(y)), float(np.std(y))
    ys = (y - center) / scale
    groups = obs["dyad_id"].to_numpy()
    out: dict[str, Any] = {"names": list(names), "warnings": [], "convergence_warnings": [],
                           "fallback_reason": _degenerate_within(ys, X, groups)}
    if out["fallback_reason"] is not None:
        return None, out
    dyads, row = np.unique(groups, return_inverse=True)
    col = pd.Index(list(visits)).get_indexer(obs["timepoint"])
    k, p = len(visits), X.shape[1]
    Yw = np.full((len(dyads), k), np.nan)
    Xw = np.zeros((len(dyads), k, p))
    Yw[row, col] = ys
    Xw[row, col] = X  # rows of visits a dyad missed stay 0: the likelihood skips them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_mmrm(Yw, Xw, reml=reml)
        except (np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
            out["fallback_reason"] = f"MMRM raised {type(exc).__name__}: {exc}"
            return None, out
    out["warnings"] = _dedupe(_format_warning(w) for w in caught)
    if not fit.converged:
        out["fallback_reason"] = f"MMRM (unstructured) did not converge: {fit.message}"
        return None, out
    shift = np.zeros(p)
    shift[0] = center
    out.update(method="mmrm_reml" if reml else "mmrm_ml", converged=True,
               params=fit.params * scale + shift, cov=fit.cov_kr * scale**2,
               visit_covariance=fit.sigma * scale**2, random_intercept_var=math.nan,
               residual_var=math.nan)
    return fit, out


# --------------------------------------------------------------------------------------------
# 1. repeated-measures LMM, arm x time
# --------------------------------------------------------------------------------------------


def lmm_arm_by_time(
    data: pd.DataFrame,
    instrument: str,
    *,
    treatment: str,
    control: str,
    baseline: str = "baseline",
    alpha: float = 0.05,
    reml: bool = True,
    maxiter: int | None = None,
    constrained_baseline: bool = True,
    covariance: str = "unstructured",
) -> dict[str, Any]:
    """Intention-to-treat linear mixed model for repeated measures (arm x time).

    ``covariance="unstructured"`` (default) is the MMRM trialists pre-specify
    (:mod:`dyadsim.stats.mmrm`: one unrestricted covariance of a dyad's visits, REML,
    Kenward-Roger adjusted covariance and df for each contrast and the F test); if it does
    not converge
    the random-intercept model below is fitted instead and ``fallback_reason`` says so.
    ``covariance="compound_symmetry"`` fits that random-intercept model directly (measured:
    8% type-I error with 40% MAR dropout at 20 and 50 per arm, docs/trial-statistics.md).

    Default: the constrained longitudinal data analysis (cLDA; Liang & Zeger 2000; Coffman et
    al. 2016, BMC Med Res Methodol 16:151): randomisation makes the arms' baseline means
    equal, so the model has one baseline mean (no arm main effect) and an arm difference at
    each later assessment; it uses every dyad with a baseline even if all follow-up is
    missing, and is close to ANCOVA on baseline with complete data. ``constrained_baseline=False``
    fits the unconstrained ``arm * time`` model. Inference uses t and F distributions with
    between-within denominator degrees of freedom (SAS DDFM=BW: observations minus dyads
    minus the within-dyad fixed effects), not the normal: the small-sample correction
    trialists report. ``boundary`` flags a random-intercept variance at (or within 1e-6 of
    the total variance from) zero.

    Model: ``value ~ C(timepoint) + arm:C(timepoint)`` (cLDA; plus ``arm`` when
    unconstrained; reference arm = ``control``, reference timepoint = ``baseline``) with a
    random intercept per dyad, fitted by REML with statsmodels ``MixedLM`` (Laird & Ware
    1982; Fitzmaurice, Laird & Ware, *Applied Longitudinal Analysis*, 2011). All available
    observations are used: a likelihood-based ITT analysis valid under missing at random.

    For each post-baseline timepoint the arm x time coefficient is the difference between arms
    in mean change from baseline (treatment minus control), with a t CI and p. The overall
    group x time test is the Wald test that all of them are zero, as an approximate F.

    Timepoints are ordered by their median study ``day``. Arms other than ``treatment`` and
    ``control`` are ignored. ``ConvergenceWarning``\\ s and other warnings raised while fitting are
    recorded in ``warnings`` (never hidden); ``converged`` is the optimiser's convergence flag. If
    fitting raises (or gives non-finite SEs), the same fixed-effects model is fitted by OLS with
    cluster-robust SEs by dyad, ``method == "ols_cluster_robust"`` and ``converged`` is False.
    """
    alpha = _check_alpha(alpha)
    df = _require_dataframe(data)
    _require_columns(df, LONG_COLUMNS)
    _require_numeric(df, "value")
    _require_numeric(df, "day")
    present = df["instrument"].dropna().unique().tolist()
    if instrument not in present:
        raise ValueError(
            f"instrument {instrument!r} not present in data (instruments: "
            f"{sorted(map(str, present))})"
        )
    df = df.loc[df["instrument"] == instrument]
    _check_arms(df, treatment, control, name=f"data for instrument {instrument!r}")
    df = df.loc[df["arm"].isin([treatment, control])]
    _check_one_arm_per_dyad(df)
    if baseline not in set(df["timepoint"]):
        raise ValueError(
            f"baseline timepoint {baseline!r} not found for instrument {instrument!r} "
            f"(timepoints: {sorted(map(str, df['timepoint'].unique()))})"
        )
    dup = df.duplicated(["dyad_id", "timepoint"])
    if dup.any():
        ex = df.loc[dup, ["dyad_id", "timepoint"]].iloc[0].tolist()
        raise ValueError(
            f"duplicate observations for (dyad_id, timepoint), e.g. {ex}, instrument "
            f"{instrument!r}; expected at most one value per dyad and timepoint"
        )
    n_randomized = {
        "treatment": int(df.loc[df["arm"] == treatment, "dyad_id"].nunique()),
        "control": int(df.loc[df["arm"] == control, "dyad_id"].nunique()),
    }
    obs = df.loc[df["value"].notna()].copy()
    if not np.isfinite(obs["value"].to_numpy(dtype=float)).all():
        raise ValueError("value contains infinite entries")
    tp_day = obs.groupby("timepoint", sort=False)["day"].median()
    if baseline not in tp_day.index:
        raise ValueError(f"no non-missing values at baseline timepoint {baseline!r}")
    post = [t for t in tp_day.sort_values(kind="stable").index if t != baseline]
    if not post:
        raise ValueError(
            f"no post-baseline timepoint with non-missing values for instrument {instrument!r}"
        )
    for t in post:
        arms_t = set(obs.loc[obs["timepoint"] == t, "arm"])
        if arms_t != {treatment, control}:
            raise ValueError(
                f"timepoint {t!r} has non-missing values in only {sorted(arms_t)}; the arm x "
                "time contrast needs observations in both arms"
            )
    y = obs["value"].to_numpy(dtype=float)
    if np.ptp(y) == 0:
        raise ValueError(f"value for instrument {instrument!r} is constant; nothing to model")

    treat = (obs["arm"] == treatment).to_numpy(dtype=float)
    cols = [np.ones(len(obs))]
    names = ["Intercept"]
    if not constrained_baseline:
        cols.append(treat)
        names.append("treatment")
    lead = len(cols)
    for t in post:
        cols.append((obs["timepoint"] == t).to_numpy(dtype=float))
        names.append(f"time[{t}]")
    for t in post:
        cols.append(treat * (obs["timepoint"] == t).to_numpy(dtype=float))
        names.append(f"treatment:time[{t}]")
    X = np.column_stack(cols)
    groups = obs["dyad_id"].to_numpy()
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("design matrix is rank deficient; check arms/timepoints coverage")

    if covariance not in ("unstructured", "compound_symmetry"):
        raise ValueError(f"covariance must be 'unstructured' or 'compound_symmetry', "
                         f"not {covariance!r}")
    k_post = len(post)
    n_dyads = int(obs["dyad_id"].nunique())
    idx = np.arange(lead + k_post, lead + 2 * k_post)
    visits = [baseline, *post]
    mmrm = None
    if covariance == "unstructured":
        mmrm, fit = _fit_mmrm(obs, X, visits, names, reml=reml)
    if mmrm is None:
        pre = fit["fallback_reason"] if covariance == "unstructured" else None
        fit = _fit_mixed_or_ols(y, X, groups, names, reml=reml, maxiter=maxiter)
        if pre is not None:
            fit["warnings"].insert(0, f"fallback to the random-intercept model: {pre}")
            fit["fallback_reason"] = fit["fallback_reason"] or pre
    b = fit["params"][idx]
    V = fit["cov"][np.ix_(idx, idx)]
    contrasts: dict[str, Any] = {}
    if mmrm is not None:  # Kenward-Roger: V is the adjusted covariance (fit["cov"])
        gxt = mmrm.kenward_roger(np.eye(X.shape[1])[idx])
        chi2, f_stat, p_f, df_f = gxt["chi2"], gxt["f"], gxt["p"], gxt["df2"]
        for j, t in enumerate(post):
            kr = mmrm.kenward_roger(np.eye(X.shape[1])[idx[j]])
            contrasts[str(t)] = _t_summary(float(b[j]), float(math.sqrt(max(V[j, j], 0.0))),
                                           kr["df2"], alpha)
        df_within = float(contrasts[str(post[-1])]["df"])
    else:
        df_within = df_f = max(len(obs) - n_dyads - 2 * k_post, 1)
        for j, t in enumerate(post):
            contrasts[str(t)] = _t_summary(float(b[j]), float(math.sqrt(max(V[j, j], 0.0))),
                                           df_within, alpha)
        try:
            chi2 = float(b @ np.linalg.solve(V, b))
            f_stat = chi2 / k_post
            p_f = float(stats.f.sf(f_stat, k_post, df_within))
        except np.linalg.LinAlgError:
            chi2 = f_stat = p_f = math.nan

    # model-based means by arm and timepoint
    means: dict[str, dict[str, float]] = {"treatment": {}, "control": {}}
    beta = fit["params"]
    arm_main = 0.0 if constrained_baseline else None
    for arm_key, a in (("treatment", 1.0), ("control", 0.0)):
        b_arm = a * (beta[1] if arm_main is None else 0.0)
        means[arm_key][str(baseline)] = float(beta[0] + b_arm)
        for j, t in enumerate(post):
            means[arm_key][str(t)] = float(
                beta[0] + b_arm + beta[lead + j] + a * beta[lead + k_post + j]
            )
    if mmrm is not None:
        ev = np.linalg.eigvalsh(fit["visit_covariance"])
        boundary = bool(ev[0] <= 1e-6 * ev[-1])
    else:
        vd, vr = fit["random_intercept_var"], fit["residual_var"]
        boundary = bool(math.isfinite(vd) and vd <= 1e-6 * (vd + vr))

    result = {
        "instrument": str(instrument),
        "treatment": str(treatment),
        "control": str(control),
        "baseline": str(baseline),
        "timepoints": [str(baseline)] + [str(t) for t in post],
        "method": fit["method"],
        "converged": fit["converged"],
        "warnings": fit["warnings"],
        "convergence_warnings": fit["convergence_warnings"],
        "fallback_reason": fit["fallback_reason"],
        "alpha": alpha,
        "contrast_definition": "(treatment - control) difference in change from baseline",
        "contrasts": contrasts,
        "model": ("constrained baseline (cLDA): common baseline mean, arm x time after"
                  if constrained_baseline else "unconstrained arm * time"),
        "covariance": ("unstructured (MMRM)" if mmrm is not None else
                       "compound symmetry (random intercept per dyad)"),
        "df_method": ("Kenward-Roger per contrast ('df' is the last timepoint's) and for "
                      "the F test, on the adjusted covariance" if mmrm is not None else
                      "between-within (observations - dyads - within-dyad fixed effects)"),
        "df": df_within,
        "boundary": boundary,
        "group_by_time": {
            "test": ("Kenward-Roger scaled Wald F on F(df1, df2)" if mmrm is not None else
                     "Wald F = chi2 / df1 on F(df1, df2), df2 between-within"),
            "chi2": chi2,
            "f": f_stat,
            "df1": k_post,
            "df2": df_f,
            "p": p_f,
        },
        "visit_covariance": (np.asarray(fit["visit_covariance"]).tolist()
                             if mmrm is not None else None),
        "model_means": means,
        "fixed_effects": {n: float(v) for n, v in zip(names, beta, strict=True)},
        "random_intercept_var": fit["random_intercept_var"],
        "residual_var": fit["residual_var"],
        "n_obs": int(len(obs)),
        "n_dyads": n_dyads,
        "n_randomized": n_randomized,
        "n_missing_values": int(df["value"].isna().sum()),
    }
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 2. binary outcome
# --------------------------------------------------------------------------------------------


def binary_outcome(
    data: pd.DataFrame | Sequence[float] | np.ndarray,
    arm: Sequence[Any] | np.ndarray | pd.Series | None = None,
    *,
    treatment: Any,
    control: Any,
    outcome_col: str = "outcome",
    arm_col: str = "arm",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Per-dyad binary outcome by arm: risks, RR, OR (logistic regression), RD.

    Pass either a DataFrame (one row per dyad; columns ``outcome_col`` and ``arm_col``) or two
    equal-length arrays ``data`` (0/1 outcome) and ``arm`` (arm labels). Rows with a missing
    outcome are dropped and counted in ``n_missing`` (complete-case).

    * risk ratio with CI on the log scale (Katz et al. 1978, via statsmodels ``Table2x2``);
      ``relative_reduction = 1 - RR`` (its CI is 1 minus the RR CI);
    * odds ratio from a logistic regression ``outcome ~ treatment`` (statsmodels GLM Binomial,
      fitted on the 2x2 cell counts as frequency weights -- identical to the per-dyad fit), with
      Wald CI and p-value; Fisher's exact p is also reported;
    * risk difference with Newcombe's hybrid score CI (statsmodels
      ``confint_proportions_2indep``); where an expected count is below 5 the p of the risk
      ratio and difference is Fisher's exact test.

    If any 2x2 cell is zero, the Haldane-Anscombe correction (add 0.5 to every cell) is applied
    to the RR and OR (``haldane_correction`` True and a ``note``); risks and RD use raw counts.
    """
    alpha = _check_alpha(alpha)
    if isinstance(data, pd.DataFrame):
        if arm is not None:
            raise ValueError("pass either a DataFrame or (outcome, arm) arrays, not both")
        _require_columns(data, [outcome_col, arm_col])
        if "dyad_id" in data.columns and data["dyad_id"].duplicated().any():
            raise ValueError("binary_outcome expects one row per dyad; dyad_id is duplicated")
        y_raw = data[outcome_col].to_numpy()
        arm_arr = data[arm_col].to_numpy()
    else:
        if arm is None:
            raise ValueError("arm labels are required when outcome is given as an array")
        y_raw = np.asarray(data)
        arm_arr = np.asarray(arm)
        if arm_arr.ndim != 1:
            raise ValueError(f"arm must be one-dimensional, got shape {arm_arr.shape}")
    y = _as_binary(y_raw, "outcome", allow_nan=True)
    if len(y) != len(arm_arr):
        raise ValueError(f"outcome and arm lengths differ ({len(y)} vs {len(arm_arr)})")
    if treatment == control:
        raise ValueError(f"treatment and control must differ, both are {treatment!r}")
    present = set(pd.unique(arm_arr).tolist())
    for label, a in (("treatment", treatment), ("control", control)):
        if a not in present:
            raise ValueError(
                f"unknown arm: {label} arm {a!r} not found in arm labels "
                f"(present: {sorted(map(str, present))})"
            )
    keep = ~np.isnan(y) & np.isin(arm_arr, [treatment, control])
    n_missing = int((np.isnan(y) & np.isin(arm_arr, [treatment, control])).sum())
    y = y[keep]
    is_t = arm_arr[keep] == treatment
    n1, n0 = int(is_t.sum()), int((~is_t).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"no non-missing outcomes in arm {treatment if n1 == 0 else control!r}")
    e1, e0 = float(y[is_t].sum()), float(y[~is_t].sum())
    a_, b_, c_, d_ = e1, n1 - e1, e0, n0 - e0  # 2x2: rows treatment/control, cols event/no event
    r1, r0 = e1 / n1, e0 / n0
    z = _z(alpha)

    haldane = min(a_, b_, c_, d_) == 0
    ca, cb, cc, cd = (x + 0.5 for x in (a_, b_, c_, d_)) if haldane else (a_, b_, c_, d_)

    # risk ratio on the log scale (statsmodels Table2x2: Katz et al. 1978), Haldane-corrected
    # only when a cell is zero
    from statsmodels.stats.contingency_tables import Table2x2
    from statsmodels.stats.proportion import confint_proportions_2indep

    # (statsmodels' own shift_zeros adds 0.5 to the zero cells only; Haldane-Anscombe adds it
    # to every cell, as for the odds ratio below)
    table = Table2x2(np.array([[ca, cb], [cc, cd]]), shift_zeros=False)
    log_rr, se_log_rr = float(table.log_riskratio), float(table.log_riskratio_se)
    w_rr = _wald(log_rr, se_log_rr, z)
    rr = _exp(log_rr)
    rr_lo, rr_hi = _exp(w_rr["ci_lower"]), _exp(w_rr["ci_upper"])
    expected = np.outer([n1, n0], [a_ + c_, b_ + d_]) / (n1 + n0)
    small = bool(expected.min() < 5)

    # odds ratio via logistic regression (GLM Binomial) on the cell counts
    import statsmodels.api as sm

    y_cells = np.array([1.0, 0.0, 1.0, 0.0])
    X_cells = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    fw = np.array([ca, cb, cc, cd], dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glm = sm.GLM(y_cells, X_cells, family=sm.families.Binomial(), freq_weights=fw).fit()
    log_or, se_log_or = float(glm.params[1]), float(glm.bse[1])
    w_or = _wald(log_or, se_log_or, z)

    # risk difference (raw counts): Newcombe's hybrid score CI (Newcombe 1998, method 10)
    se_rd = math.sqrt(r1 * (1 - r1) / n1 + r0 * (1 - r0) / n0)
    w_rd = _wald(r1 - r0, se_rd, z)
    rd_lo, rd_hi = confint_proportions_2indep(e1, n1, e0, n0, method="newcomb", alpha=alpha)
    w_rd.update({"ci_lower": float(rd_lo), "ci_upper": float(rd_hi),
                 "ci_method": "Newcombe hybrid score"})

    fisher_p = float(stats.fisher_exact([[a_, b_], [c_, d_]])[1])
    if small:  # an expected count below 5: the exact test, not the normal approximation
        w_rr["p"] = fisher_p
        w_rd["p"] = fisher_p
    note = (
        "zero cell in 2x2 table: Haldane-Anscombe correction (+0.5 to every cell) applied to "
        "risk ratio and odds ratio; risks and risk difference use raw counts"
        if haldane
        else None
    )
    result = {
        "treatment": str(treatment),
        "control": str(control),
        "n_treatment": n1,
        "n_control": n0,
        "events_treatment": int(e1),
        "events_control": int(e0),
        "n_missing": n_missing,
        "risk_treatment": r1,
        "risk_control": r0,
        "risk_ratio": {
            "estimate": rr,
            "ci_lower": rr_lo,
            "ci_upper": rr_hi,
            "p": w_rr["p"],
            "log_estimate": log_rr,
            "log_se": se_log_rr,
        },
        "relative_reduction": {"estimate": 1 - rr, "ci_lower": 1 - rr_hi, "ci_upper": 1 - rr_lo},
        "odds_ratio": {
            "estimate": _exp(log_or),
            "ci_lower": _exp(w_or["ci_lower"]) if math.isfinite(w_or["ci_lower"]) else math.nan,
            "ci_upper": _exp(w_or["ci_upper"]) if math.isfinite(w_or["ci_upper"]) else math.nan,
            "p": w_or["p"],
            "log_estimate": log_or,
            "log_se": se_log_or,
            "method": "logistic regression (statsmodels GLM Binomial), Wald CI",
        },
        "risk_difference": w_rd,
        "fisher_exact_p": fisher_p,
        "p_method": "Fisher's exact test (an expected count < 5)" if small else "Wald",
        "haldane_correction": haldane,
        "note": note,
        "warnings": _dedupe(_format_warning(w) for w in caught),
        "alpha": alpha,
    }
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 3. standardized effect sizes
# --------------------------------------------------------------------------------------------


def cohens_d(
    x_treat: Sequence[float] | np.ndarray,
    x_ctrl: Sequence[float] | np.ndarray,
    *,
    hedges: bool = False,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Standardized mean difference (treatment minus control) with pooled SD.

    ``d = (mean_t - mean_c) / s_pooled`` with ``s_pooled`` the (n-1)-weighted pooled SD
    (Cohen 1988). With ``hedges=True`` returns Hedges' g = J * d with the exact correction factor
    J (Hedges 1981). CI: estimate +- z * SE using the large-sample variance of Hedges & Olkin
    (1985): Var(d) = (n1 + n2)/(n1 n2) + d^2 / (2 (n1 + n2)); Var(g) = J^2 Var(d).
    NaNs are dropped.
    """
    alpha = _check_alpha(alpha)
    xt = _as_1d_float(x_treat, "x_treat")
    xc = _as_1d_float(x_ctrl, "x_ctrl")
    if np.isinf(xt).any() or np.isinf(xc).any():
        raise ValueError("x_treat / x_ctrl contain infinite values")
    xt, xc = xt[~np.isnan(xt)], xc[~np.isnan(xc)]
    n1, n2 = len(xt), len(xc)
    if n1 < 2 or n2 < 2:
        raise ValueError(f"need at least 2 non-missing values per group (got {n1} and {n2})")
    from ..stats import standardized_difference

    s1, s2 = float(np.std(xt, ddof=1)), float(np.std(xc, ddof=1))
    m1, m2 = float(np.mean(xt)), float(np.mean(xc))
    sd_ = standardized_difference(xt, xc)
    sp, d, j = sd_["pooled_sd"], sd_["d"], sd_["j"]
    if not sp > 0:
        raise ValueError("pooled standard deviation is zero; effect size undefined")
    if hedges:
        est, var, kind = sd_["g"], sd_["var_g"], "hedges_g"
    else:
        est, var, kind = d, sd_["var_d"], "cohens_d"
    w = _wald(est, math.sqrt(var), _z(alpha))
    result = {
        "kind": kind,
        "estimate": est,
        "se": w["se"],
        "ci_lower": w["ci_lower"],
        "ci_upper": w["ci_upper"],
        "d": d,
        "hedges_correction": j,
        "mean_treatment": m1,
        "mean_control": m2,
        "sd_treatment": s1,
        "sd_control": s2,
        "pooled_sd": sp,
        "n_treatment": n1,
        "n_control": n2,
        "variance_formula": "Hedges & Olkin (1985): (n1+n2)/(n1*n2) + d^2/(2(n1+n2))",
        "alpha": alpha,
    }
    return _jsonable(result)


def standardized_mean_change(
    pre: Sequence[float] | np.ndarray,
    post: Sequence[float] | np.ndarray,
    *,
    kind: str = "d_av",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Paired standardized mean change (post minus pre) with a large-sample CI.

    * ``kind="d_av"``: mean change / average SD, ``(sd_pre + sd_post) / 2`` (Cumming 2012;
      Lakens 2013). Large-sample delta-method variance under bivariate normality with equal
      pre/post variances and pre-post correlation r:
      Var = 2 (1 - r) / n + d^2 (1 + r^2) / (4 n).
    * ``kind="d_z"``: mean change / SD of the changes (Cohen 1988);
      Var = 1 / n + d_z^2 / (2 n).

    Pairs with a missing value in either ``pre`` or ``post`` are dropped.
    """
    alpha = _check_alpha(alpha)
    if kind not in ("d_av", "d_z"):
        raise ValueError(f"kind must be 'd_av' or 'd_z', got {kind!r}")
    a = _as_1d_float(pre, "pre")
    b = _as_1d_float(post, "post")
    if len(a) != len(b):
        raise ValueError(f"pre and post must be paired (equal length), got {len(a)} and {len(b)}")
    if np.isinf(a).any() or np.isinf(b).any():
        raise ValueError("pre / post contain infinite values")
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 3:
        raise ValueError(f"need at least 3 complete pre/post pairs, got {n}")
    diff = b - a
    mdiff = float(np.mean(diff))
    s_pre, s_post = float(np.std(a, ddof=1)), float(np.std(b, ddof=1))
    s_diff = float(np.std(diff, ddof=1))
    r = float(np.corrcoef(a, b)[0, 1]) if s_pre > 0 and s_post > 0 else math.nan
    if kind == "d_av":
        denom = (s_pre + s_post) / 2
        if denom == 0 or not math.isfinite(r):
            raise ValueError("pre/post standard deviation is zero; d_av undefined")
        d = mdiff / denom
        var = 2 * (1 - r) / n + d**2 * (1 + r**2) / (4 * n)
        formula = "2(1-r)/n + d^2(1+r^2)/(4n) (delta method, equal pre/post variances)"
    else:
        denom = s_diff
        if denom == 0:
            raise ValueError("standard deviation of the changes is zero; d_z undefined")
        d = mdiff / denom
        var = 1 / n + d**2 / (2 * n)
        formula = "1/n + d_z^2/(2n)"
    w = _wald(d, math.sqrt(var), _z(alpha))
    result = {
        "kind": kind,
        "estimate": d,
        "se": w["se"],
        "ci_lower": w["ci_lower"],
        "ci_upper": w["ci_upper"],
        "mean_change": mdiff,
        "sd_pre": s_pre,
        "sd_post": s_post,
        "sd_change": s_diff,
        "standardizer": denom,
        "r_pre_post": r,
        "n": n,
        "direction": "post - pre",
        "variance_formula": formula,
        "alpha": alpha,
    }
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 4. survival
# --------------------------------------------------------------------------------------------


def _check_survival(durations: Any, events: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _as_1d_float(durations, "durations")
    e = _as_binary(events, "events")
    if len(t) != len(e):
        raise ValueError(f"durations and events lengths differ ({len(t)} vs {len(e)})")
    if len(t) == 0:
        raise ValueError("durations is empty")
    if not np.isfinite(t).all():
        raise ValueError("durations must be finite (no NaN/inf)")
    if (t < 0).any():
        raise ValueError("durations must be non-negative")
    return t, e


def km_at(
    durations: Sequence[float] | np.ndarray,
    events: Sequence[float] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    arm: Sequence[Any] | np.ndarray | None = None,
    *,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Kaplan-Meier survival (Kaplan & Meier 1958; lifelines) at requested times, per arm.

    Returns ``{"groups": {label: [{"time", "survival", "ci_lower", "ci_upper", "n_at_risk"}]}}``
    with one group ``"all"`` when ``arm`` is None. The CI is lifelines' exponential Greenwood
    (log(-log)) interval. Beyond the largest observed time the last KM value is carried
    forward; check ``n_at_risk``.
    """
    from lifelines import KaplanMeierFitter

    alpha = _check_alpha(alpha)
    t, e = _check_survival(durations, events)
    tq = _as_1d_float(times, "times")
    if len(tq) == 0 or not np.isfinite(tq).all() or (tq < 0).any():
        raise ValueError("times must be a non-empty sequence of finite, non-negative numbers")
    if arm is None:
        labels = np.array(["all"] * len(t), dtype=object)
    else:
        labels = np.asarray(arm, dtype=object)
        if labels.ndim != 1 or len(labels) != len(t):
            raise ValueError(f"arm must be one-dimensional with length {len(t)}")
    out: dict[str, list[dict[str, Any]]] = {}
    for lab in pd.unique(labels):
        m = labels == lab
        kmf = KaplanMeierFitter(alpha=alpha).fit(t[m], e[m])
        surv = kmf.survival_function_at_times(tq).to_numpy(dtype=float)
        ci = kmf.confidence_interval_survival_function_
        ci_t = ci.index.to_numpy(dtype=float)
        rows = []
        for q, s in zip(tq, surv, strict=True):
            i = int(np.searchsorted(ci_t, q, side="right")) - 1
            lo, hi = (1.0, 1.0) if i < 0 else (float(ci.iloc[i, 0]), float(ci.iloc[i, 1]))
            rows.append(
                {
                    "time": float(q),
                    "survival": float(s),
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "n_at_risk": int((t[m] >= q).sum()),
                }
            )
        out[str(lab)] = rows
    return _jsonable({"groups": out, "alpha": alpha, "method": "Kaplan-Meier (lifelines)"})


def cox_ph(
    durations: Sequence[float] | np.ndarray,
    events: Sequence[float] | np.ndarray,
    arm_indicator: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    km_times: Sequence[float] | np.ndarray | None = None,
) -> dict[str, Any]:
    """Cox proportional-hazards model ``h(t) = h0(t) exp(beta * treatment)`` (Cox 1972).

    Fitted with lifelines ``CoxPHFitter`` (Efron ties). ``arm_indicator`` is 1 for treatment,
    0 for control. Reports the hazard ratio exp(beta) with Wald CI and p, the log-rank p-value,
    events per arm, ``converged`` (False if lifelines emitted a ``ConvergenceWarning``, e.g.
    complete separation) and all warnings. If ``km_times`` is given, Kaplan-Meier survival per
    arm at those times is added under ``km`` (see :func:`km_at`).
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.exceptions import ConvergenceWarning as LLConvergenceWarning
    from lifelines.statistics import logrank_test

    alpha = _check_alpha(alpha)
    t, e = _check_survival(durations, events)
    g = _as_binary(arm_indicator, "arm_indicator")
    if len(g) != len(t):
        raise ValueError(f"arm_indicator length {len(g)} differs from durations length {len(t)}")
    if g.min() == g.max():
        raise ValueError("arm_indicator must contain both arms (0 = control, 1 = treatment)")
    if e.sum() == 0:
        raise ValueError("no events observed; the hazard ratio is not estimable")
    frame = pd.DataFrame({"T": t, "E": e, "treatment": g})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cph = CoxPHFitter(alpha=alpha).fit(frame, duration_col="T", event_col="E")
        except ConvergenceError as exc:
            raise ValueError(f"Cox model could not be fitted (degenerate data?): {exc}") from exc
        lr = logrank_test(t[g == 1], t[g == 0], e[g == 1], e[g == 0])
    row = cph.summary.loc["treatment"]
    coef, se = float(row["coef"]), float(row["se(coef)"])
    w = _wald(coef, se, _z(alpha))
    hr_lo = _exp(w["ci_lower"]) if math.isfinite(w["ci_lower"]) else math.nan
    hr_hi = _exp(w["ci_upper"]) if math.isfinite(w["ci_upper"]) else math.nan
    conv = [w_ for w_ in caught if issubclass(w_.category, LLConvergenceWarning)]
    result: dict[str, Any] = {
        "hazard_ratio": {
            "estimate": _exp(coef),
            "ci_lower": hr_lo,
            "ci_upper": hr_hi,
            "p": float(row["p"]),
            "log_estimate": coef,
            "log_se": se,
        },
        "logrank_p": float(lr.p_value),
        "n": int(len(t)),
        "n_events": int(e.sum()),
        "n_treatment": int(g.sum()),
        "n_control": int((1 - g).sum()),
        "events_treatment": int(e[g == 1].sum()),
        "events_control": int(e[g == 0].sum()),
        "converged": len(conv) == 0,
        "warnings": _dedupe(_format_warning(w_) for w_ in caught),
        "method": "Cox PH (lifelines CoxPHFitter, Efron ties), Wald CI",
        "alpha": alpha,
    }
    if km_times is not None:
        labels = np.where(g == 1, "treatment", "control")
        result["km"] = km_at(t, e, km_times, labels, alpha=alpha)["groups"]
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 5. EMA multilevel model
# --------------------------------------------------------------------------------------------


def ema_mlm(
    ema_df: pd.DataFrame,
    *,
    treatment: str,
    control: str,
    adjust_day: bool = False,
    alpha: float = 0.05,
    reml: bool = True,
    maxiter: int | None = None,
    day_effect: bool = True,
) -> dict[str, Any]:
    """Multilevel model for EMA prompts: ``value ~ arm (+ day)`` with a random intercept per
    dyad and (``day_effect``, default) a random effect of each day within the dyad.

    Prompts (level 1) are nested in dyads (level 2); fitted by REML with statsmodels MixedLM
    (Raudenbush & Bryk 2002; Bolger & Laurenceau 2013). ``arm_effect`` is the treatment minus
    control difference in mean prompt value (Wald CI, p). With ``adjust_day=True`` a linear study
    ``day`` term (centred at the mean day) is added. ``relative_difference`` is
    treatment/control - 1 from the model-based means (control mean = intercept; at the mean day
    when adjusting), with a delta-method CI. ``converged``/``warnings``/``method`` as in
    :func:`lmm_arm_by_time` (OLS with cluster-robust SEs by dyad if the LMM fit raises).
    """
    alpha = _check_alpha(alpha)
    df = _require_dataframe(ema_df, "ema_df")
    _require_columns(df, EMA_COLUMNS, "ema_df")
    _require_numeric(df, "value", "ema_df")
    if adjust_day:
        _require_numeric(df, "day", "ema_df")
    _check_arms(df, treatment, control, "ema_df")
    df = df.loc[df["arm"].isin([treatment, control])]
    _check_one_arm_per_dyad(df, "ema_df")
    dup = df.duplicated(["dyad_id", "day", "prompt"])
    if dup.any():
        ex = df.loc[dup, ["dyad_id", "day", "prompt"]].iloc[0].tolist()
        raise ValueError(
            f"ema_df has duplicate (dyad_id, day, prompt) rows, e.g. {ex}; expected one row per "
            "prompt"
        )
    obs = df.loc[df["value"].notna()]
    if not np.isfinite(obs["value"].to_numpy(dtype=float)).all():
        raise ValueError("ema_df value contains infinite entries")
    n_dyads_arm = obs.groupby("arm")["dyad_id"].nunique()
    for a in (treatment, control):
        if n_dyads_arm.get(a, 0) < 2:
            raise ValueError(f"arm {a!r} has fewer than 2 dyads with non-missing EMA values")
    y = obs["value"].to_numpy(dtype=float)
    if np.ptp(y) == 0:
        raise ValueError("ema_df value is constant; nothing to model")
    treat = (obs["arm"] == treatment).to_numpy(dtype=float)
    cols = [np.ones(len(obs)), treat]
    names = ["Intercept", "treatment"]
    mean_day = math.nan
    if adjust_day:
        day = obs["day"].to_numpy(dtype=float)
        if np.isnan(day).any():
            raise ValueError("ema_df day has missing values; cannot adjust for day")
        mean_day = float(day.mean())
        cols.append(day - mean_day)
        names.append("day_centred")
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("design matrix is rank deficient (e.g. day is constant)")
    if day_effect:
        _require_numeric(df, "day", "ema_df")
    fit = _fit_mixed_or_ols(y, X, obs["dyad_id"].to_numpy(), names, reml=reml, maxiter=maxiter,
                            days=obs["day"].to_numpy() if day_effect else None)
    z = _z(alpha)
    beta, cov = fit["params"], fit["cov"]
    b0, b1 = float(beta[0]), float(beta[1])
    arm_effect = _wald(b1, math.sqrt(max(cov[1, 1], 0.0)), z)

    # relative difference (b0 + b1) / b0 - 1 = b1 / b0, delta method
    if abs(b0) > 1e-12 * max(1.0, float(np.std(y))):
        rel = b1 / b0
        grad = np.array([-b1 / b0**2, 1.0 / b0])
        var_rel = float(grad @ cov[:2, :2] @ grad)
        rel_w = _wald(rel, math.sqrt(max(var_rel, 0.0)), z)
    else:
        rel_w = {
            "estimate": math.nan,
            "se": math.nan,
            "ci_lower": math.nan,
            "ci_upper": math.nan,
            "p": math.nan,
        }
    vd, vr = fit["random_intercept_var"], fit["residual_var"]
    dyad_means = obs.groupby(["arm", "dyad_id"])["value"].mean()
    result = {
        "treatment": str(treatment),
        "control": str(control),
        "method": fit["method"],
        "converged": fit["converged"],
        "warnings": fit["warnings"],
        "convergence_warnings": fit["convergence_warnings"],
        "fallback_reason": fit["fallback_reason"],
        "adjust_day": bool(adjust_day),
        "mean_day": mean_day if adjust_day else None,
        "arm_effect": arm_effect,
        "mean_control": b0,
        "mean_treatment": b0 + b1,
        "relative_difference": {
            "estimate": rel_w["estimate"],
            "se": rel_w["se"],
            "ci_lower": rel_w["ci_lower"],
            "ci_upper": rel_w["ci_upper"],
            "definition": "model-based mean treatment / mean control - 1",
        },
        "observed_mean_treatment": float(obs.loc[treat == 1, "value"].mean()),
        "observed_mean_control": float(obs.loc[treat == 0, "value"].mean()),
        "observed_dyad_mean_treatment": float(dyad_means.loc[treatment].mean()),
        "observed_dyad_mean_control": float(dyad_means.loc[control].mean()),
        "random_intercept_var": vd,
        "day_var": fit["day_var"],
        "residual_var": vr,
        "icc": vd / (vd + vr) if math.isfinite(vd) and (vd + vr) > 0 else math.nan,
        "clustering": "prompts in days in dyads" if day_effect else "prompts in dyads",
        "boundary": bool(math.isfinite(vd) and vd <= 1e-6 * (vd + vr)),
        "fixed_effects": {n: float(v) for n, v in zip(names, beta, strict=True)},
        "n_prompts": int(len(obs)),
        "n_missing_prompts": int(df["value"].isna().sum()),
        "n_dyads_treatment": int(n_dyads_arm[treatment]),
        "n_dyads_control": int(n_dyads_arm[control]),
        "alpha": alpha,
    }
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 6. mediation
# --------------------------------------------------------------------------------------------


def _ols_coefs(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def mediation(
    df: pd.DataFrame,
    *,
    treatment_col: str,
    mediator_col: str,
    outcome_col: str,
    covariates: Sequence[str] = (),
    n_boot: int = 1000,
    seed: int,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Single-mediator analysis by the product of coefficients with a BCa bootstrap CI.

    a: ``mediator ~ treatment + covariates``; b and the direct effect c':
    ``outcome ~ mediator + treatment + covariates``; total effect c: ``outcome ~ treatment +
    covariates`` (OLS; c = c' + a*b exactly). In a trial the covariates are the baseline
    mediator and outcome (MacKinnon 2008, ch. 8; VanderWeele 2015: adjusting for baseline
    values of both removes their confounding of b). Indirect effect = a*b with a
    bias-corrected and accelerated bootstrap CI (Efron 1987; ``scipy.stats.bootstrap``,
    ``method="BCa"``; dyads resampled ``n_boot`` times from ``numpy.random.default_rng(seed)``)
    and the p of the same bootstrap: twice the smaller BCa tail beyond 0 (the BCa interval
    inverted at 0), so p < alpha exactly when the CI excludes 0, up to the resolution of the
    bootstrap. ``proportion_mediated`` = a*b / c (unstable when c is near 0). Rows with a
    missing value in any column are dropped (complete case).
    """
    import statsmodels.api as sm
    from scipy.special import ndtri

    alpha = _check_alpha(alpha)
    df = _require_dataframe(df, "df")
    cols = [treatment_col, mediator_col, outcome_col, *covariates]
    if len(set(cols)) != len(cols):
        raise ValueError(f"treatment, mediator, outcome and covariate columns must be "
                         f"distinct, got {cols}")
    _require_columns(df, cols, "df")
    for c in cols:
        if not pd.api.types.is_bool_dtype(df[c]):
            _require_numeric(df, c, "df")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if seed is None:
        raise ValueError("seed is required for a reproducible bootstrap")
    sub = df[cols].astype(float)
    complete = sub.notna().all(axis=1)
    arr = sub.loc[complete].to_numpy()
    if not np.isfinite(arr).all():
        raise ValueError("df contains infinite values in the mediation columns")
    n = len(arr)
    if n < 5 + len(covariates):
        raise ValueError(f"need at least {5 + len(covariates)} complete rows for mediation, "
                         f"got {n}")
    t, m, y, cov = arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3:]
    if np.ptp(t) == 0:
        raise ValueError(f"treatment column {treatment_col!r} has no variation")
    if np.ptp(m) == 0:
        raise ValueError(f"mediator column {mediator_col!r} has no variation")
    ones = np.ones(n)
    Xa = np.column_stack([ones, t, cov])
    Xb = np.column_stack([ones, m, t, cov])
    fa = sm.OLS(m, Xa).fit()
    fb = sm.OLS(y, Xb).fit()
    fc = sm.OLS(y, Xa).fit()
    a, b = float(fa.params[1]), float(fb.params[1])
    total = float(fc.params[1])
    indirect = a * b

    def ab(idx: np.ndarray) -> float:
        idx = np.asarray(idx, dtype=np.int64)
        return float(_ols_coefs(Xa[idx], m[idx])[1] * _ols_coefs(Xb[idx], y[idx])[1])

    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap((np.arange(n),), ab, n_resamples=int(n_boot), method="BCa",
                              confidence_level=1 - alpha, vectorized=False, rng=rng)
    boots = np.asarray(res.bootstrap_distribution, dtype=float)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    valid = boots[np.isfinite(boots)]
    if len(valid) >= 2:
        boot_se = float(np.std(valid, ddof=1))
        # BCa inverted at 0: the level q whose BCa endpoint is 0; p = 2 min(q, 1 - q)
        k = len(valid)
        z0 = float(ndtri(np.clip((np.sum(valid < indirect) + 0.5 * np.sum(valid == indirect))
                                 / k, 1 / (k + 1), k / (k + 1))))
        jack = np.array([ab(np.delete(np.arange(n), i)) for i in range(n)])
        dev = jack.mean() - jack
        denom = 6.0 * float(np.sum(dev**2)) ** 1.5
        acc = float(np.sum(dev**3)) / denom if denom > 0 else 0.0
        u = float(ndtri(np.clip(np.mean(valid <= 0.0), 1 / (k + 1), k / (k + 1)))) - z0
        q = float(stats.norm.cdf(u / (1 + acc * u) - z0))
        p_boot = min(1.0, 2.0 * min(q, 1.0 - q))
    else:
        boot_se = p_boot = math.nan
    sobel_se = math.sqrt(a**2 * float(fb.bse[1]) ** 2 + b**2 * float(fa.bse[1]) ** 2)

    def coef(fit: Any, j: int) -> dict[str, float]:
        return {
            "estimate": float(fit.params[j]),
            "se": float(fit.bse[j]),
            "p": float(fit.pvalues[j]),
        }

    result = {
        "a": coef(fa, 1),
        "b": coef(fb, 1),
        "direct": coef(fb, 2),
        "total": coef(fc, 1),
        "covariates": list(covariates),
        "indirect": {
            "estimate": indirect,
            "ci_lower": lo,
            "ci_upper": hi,
            "p": p_boot,
            "boot_se": boot_se,
            "sobel_se": sobel_se,
            "ci_method": "BCa bootstrap (scipy.stats.bootstrap)",
            "p_method": "the same BCa bootstrap, inverted at 0",
        },
        "proportion_mediated": indirect / total if total != 0 else math.nan,
        "n": n,
        "n_dropped_missing": int((~complete).sum()),
        "n_boot": int(n_boot),
        "seed": seed if isinstance(seed, (int, np.integer)) else str(seed),
        "alpha": alpha,
    }
    return _jsonable(result)


# --------------------------------------------------------------------------------------------
# 7. replicate summaries (operating characteristics of simulated trials)
# --------------------------------------------------------------------------------------------


def summarize_replicates(
    list_of_estimates: Sequence[Mapping[str, Any]],
    alpha: float = 0.05,
    *,
    estimate_key: str = "estimate",
    p_key: str = "p",
    direction: str | None = None,
    null: float = 0.0,
) -> dict[str, Any]:
    """Monte Carlo summary over replicate trials (Morris, White & Crowther 2019).

    Each replicate is a mapping with ``estimate`` and ``p``. Returns mean and SD (ddof=1) of the
    estimate, its 2.5th/97.5th percentiles over the replicates that gave one, and ``power`` =
    share of ALL replicates that reject (p < alpha; with ``direction`` "increase"/"decrease"
    only when the estimate lies on that side of ``null``) with its Monte Carlo SE
    sqrt(power (1 - power) / n). A replicate whose estimate or p is missing (a failed fit
    reported as None) is a non-rejection, counted in ``n_failed``; a significant result on
    the other side of ``null`` is counted in ``n_wrong_direction``.
    """
    alpha = _check_alpha(alpha)
    if direction not in (None, "increase", "decrease"):
        raise ValueError(f"direction must be 'increase', 'decrease' or None, got {direction!r}")
    if isinstance(list_of_estimates, (Mapping, str)) or not isinstance(list_of_estimates, Sequence):
        raise ValueError("list_of_estimates must be a list of dicts with 'estimate' and 'p'")
    if len(list_of_estimates) == 0:
        raise ValueError("list_of_estimates is empty")
    est, pv = [], []
    for i, rep in enumerate(list_of_estimates):
        if not isinstance(rep, Mapping):
            raise ValueError(f"replicate {i} is not a dict (got {type(rep).__name__})")
        missing = [k for k in (estimate_key, p_key) if k not in rep]
        if missing:
            raise ValueError(f"replicate {i} is missing key(s) {missing}")
        e_, p_ = rep[estimate_key], rep[p_key]
        e_ = math.nan if e_ is None else float(e_)
        p_ = math.nan if p_ is None else float(p_)
        if math.isfinite(p_) and not 0.0 <= p_ <= 1.0:
            raise ValueError(f"replicate {i} has p-value {p_} outside [0, 1]")
        est.append(e_)
        pv.append(p_)
    e_arr, p_arr = np.array(est), np.array(pv)
    ok = np.isfinite(e_arr) & np.isfinite(p_arr)
    n = len(list_of_estimates)
    n_valid = int(ok.sum())
    sig = ok & (np.nan_to_num(p_arr, nan=1.0) < alpha)
    if direction == "increase":
        right = sig & (e_arr > null)
    elif direction == "decrease":
        right = sig & (e_arr < null)
    else:
        right = sig
    power = float(right.sum() / n)
    e_ok = e_arr[np.isfinite(e_arr)]
    result = {
        "n": n,
        "n_valid": n_valid,
        "n_failed": n - n_valid,
        "n_wrong_direction": int((sig & ~right).sum()),
        "mean": float(np.mean(e_ok)) if e_ok.size else math.nan,
        "sd": float(np.std(e_ok, ddof=1)) if e_ok.size > 1 else math.nan,
        "q025": float(np.percentile(e_ok, 2.5)) if e_ok.size else math.nan,
        "q975": float(np.percentile(e_ok, 97.5)) if e_ok.size else math.nan,
        "power": power,
        "power_mcse": math.sqrt(power * (1 - power) / n),
        "power_definition": "rejections"
        + ("" if direction is None else f" with the estimate {direction}d from {null:g}")
        + " / all replicates (failed analyses count as non-rejections)",
        "alpha": alpha,
    }
    return _jsonable(result)
