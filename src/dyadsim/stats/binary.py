"""Covariate-adjusted (standardised) effects of a binary outcome in a two-arm trial.

The marginal risk in each arm is estimated by g-computation from a logistic working model
of the outcome on the arm and baseline covariates: every dyad's predicted risk as if
treated and as if control, averaged over all dyads (FDA 2023 guidance on covariate
adjustment, for the unconditional treatment effect; Ge et al. 2011, Drug Inf J 45:481).
The estimand is the same marginal risk ratio (odds ratio, risk difference) as the
unadjusted 2x2 table's; adjusting for a prognostic baseline makes it more precise and
congenial with an imputation model that uses that baseline. The variance is the delta
method on the working model's coefficients plus the sampling variance of the covariates'
distribution (Ge et al. 2011, eq. 5)."""

from __future__ import annotations

import math
import warnings

import numpy as np

__all__ = ["standardized_binary_effect"]

EFFECTS = ("log_risk_ratio", "log_odds_ratio", "risk_difference")


def standardized_binary_effect(y: np.ndarray, treated: np.ndarray, covariates: np.ndarray,
                               effect: str) -> tuple[float, float] | None:
    """(estimate on the analysis scale, variance) of ``effect`` (one of ``EFFECTS``), or
    None when the logistic working model cannot be fitted (an arm with no events or no
    non-events, separation, or a singular fit): the caller then uses the unadjusted table.

    Parameters
    ----------
    y : (n,) 0/1 outcome
    treated : (n,) bool
    covariates : (n, c) baseline covariates (complete)
    effect : "log_risk_ratio", "log_odds_ratio" or "risk_difference"
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {EFFECTS}, not {effect!r}")
    y = np.asarray(y, float)
    t = np.asarray(treated, bool)
    for arm in (t, ~t):
        if not 0 < y[arm].sum() < arm.sum():
            return None
    z = np.asarray(covariates, float).reshape(len(y), -1)
    X = np.column_stack([np.ones(len(y)), t.astype(float), z])
    with warnings.catch_warnings(), np.errstate(over="ignore"):  # IRLS may overshoot
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
        except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError):
            return None
    beta, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov))):
        return None
    X1, X0 = X.copy(), X.copy()
    X1[:, 1], X0[:, 1] = 1.0, 0.0
    p1i = 1.0 / (1.0 + np.exp(-X1 @ beta))
    p0i = 1.0 / (1.0 + np.exp(-X0 @ beta))
    p1, p0 = float(p1i.mean()), float(p0i.mean())
    d1 = (p1i * (1 - p1i)) @ X1 / len(y)  # d mean risk / d beta
    d0 = (p0i * (1 - p0i)) @ X0 / len(y)
    if effect == "log_risk_ratio":
        est, g, h = math.log(p1 / p0), d1 / p1 - d0 / p0, p1i / p1 - p0i / p0
    elif effect == "log_odds_ratio":
        a1, a0 = p1 * (1 - p1), p0 * (1 - p0)
        est = math.log(p1 / (1 - p1)) - math.log(p0 / (1 - p0))
        g, h = d1 / a1 - d0 / a0, p1i / a1 - p0i / a0
    else:
        est, g, h = p1 - p0, d1 - d0, p1i - p0i
    var = float(g @ cov @ g) + float(np.var(h, ddof=1)) / len(y)
    return est, var
