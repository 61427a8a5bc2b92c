"""The indirect effect a*b of a randomised arm through a mediator, from multiply imputed
data: each path pooled by Rubin's rules, the product's CI and p by the Monte Carlo method.

The a path (mediator ~ arm + covariates) and the b path (outcome ~ mediator + arm +
covariates) are fitted by OLS in each completed data set (Baron & Kenny 1986; the
product-of-coefficients estimator, MacKinnon 2008). Each path is pooled by Rubin's rules
with Barnard-Rubin df from its own residual df (:func:`.missing.rubin`): a path and b
path are scalars with a t reference, which Rubin's rules are made for. The product a*b is
not: its sampling distribution is skewed and, at a = 0, far from normal, and a Wald test of
the pooled product with a bootstrap variance in each set rejected a true null (a = 0, b
large) in 0.8% of null trials with 40% of outcomes missing (6.3% with none; issue 20).
The CI is the Monte Carlo CI of the product (MacKinnon, Lockwood & Williams 2004,
Multivariate Behav Res 39:99; Preacher & Selig 2012, Commun Methods Meas 6:77): draws of
a and b from their pooled t distributions, independent (the two OLS estimates are
uncorrelated: Sobel 1982), the percentiles of their product; p is the matching two-sided
Monte Carlo p, 2 min(P(ab <= 0), P(ab >= 0)), so the CI excludes 0 exactly when p < alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MONTE_CARLO_DRAWS", "ols_paths", "pooled_indirect_effect"]

#: Draws of the Monte Carlo distribution of a*b (MacKinnon et al. 2004 used 1,000 for a CI;
#: 100,000 puts the p value's Monte Carlo SE at 0.0007 at p = 0.05 and a 2.5% quantile's
#: at about 0.01 SE of the path; a few ms).
MONTE_CARLO_DRAWS = 100_000


def ols_paths(treated: np.ndarray, mediator: np.ndarray, outcome: np.ndarray,
              covariates: np.ndarray) -> tuple[float, float, float, float]:
    """(a, var a, b, var b) by OLS: a the arm's coefficient in ``mediator ~ arm +
    covariates``, b the mediator's in ``outcome ~ mediator + arm + covariates``, each with
    its usual variance s^2 (X'X)^-1."""
    t = np.asarray(treated, float)
    cov = np.asarray(covariates, float).reshape(t.size, -1)
    ones = np.ones_like(t)

    def coefficient(X: np.ndarray, y: np.ndarray, j: int) -> tuple[float, float]:
        xtx_inv = np.linalg.inv(X.T @ X)
        beta = xtx_inv @ (X.T @ y)
        resid = y - X @ beta
        s2 = float(resid @ resid) / (y.size - X.shape[1])
        return float(beta[j]), s2 * float(xtx_inv[j, j])

    a, var_a = coefficient(np.column_stack([ones, t, cov]), np.asarray(mediator, float), 1)
    b, var_b = coefficient(np.column_stack([ones, mediator, t, cov]),
                           np.asarray(outcome, float), 1)
    return a, var_a, b, var_b


def pooled_indirect_effect(paths: Sequence[tuple[float, float, float, float]], *, n: int,
                           n_covariates: int, alpha: float, seed: int | Sequence[int]
                           ) -> dict[str, Any]:
    """Pool the (a, var a, b, var b) of each completed set (:func:`ols_paths`): a and b by
    Rubin's rules (Barnard-Rubin df from n - 2 - c and n - 3 - c, c covariates), the
    estimate their product, the CI and p by :data:`MONTE_CARLO_DRAWS` Monte Carlo draws
    seeded by ``seed`` (the same draws for every call with that seed, so a tipping grid
    moves smoothly). ``se`` is the first-order-plus (Aroian 1947) SE of the product, for
    information only."""
    from .missing import rubin

    p = np.asarray(paths, float).reshape(-1, 4)
    if len(p) == 1:  # one data set: nothing to pool, B = 0
        p = np.repeat(p, 2, axis=0)
    pa = rubin(p[:, 0], p[:, 1], alpha=alpha, df_complete=n - 2 - n_covariates)
    pb = rubin(p[:, 2], p[:, 3], alpha=alpha, df_complete=n - 3 - n_covariates)
    rng = np.random.default_rng(seed)
    draws = []
    for pooled in (pa, pb):
        z = (rng.standard_t(pooled["df"], MONTE_CARLO_DRAWS) if math.isfinite(pooled["df"])
             else rng.standard_normal(MONTE_CARLO_DRAWS))
        draws.append(pooled["estimate"] + pooled["se"] * z)
    product = draws[0] * draws[1]
    a, b = pa["estimate"], pb["estimate"]
    va, vb = pa["se"] ** 2, pb["se"] ** 2
    lo, hi = np.quantile(product, [alpha / 2, 1 - alpha / 2])
    p_value = min(1.0, 2 * min(float(np.mean(product <= 0)), float(np.mean(product >= 0))))

    def summary(r: dict[str, Any]) -> dict[str, Any]:
        return {k: r[k] for k in ("estimate", "se", "ci_lower", "ci_upper", "p", "df",
                                  "fraction_missing_information")}
    return {"estimate": a * b, "ci_lower": float(lo), "ci_upper": float(hi), "p": p_value,
            "se": math.sqrt(b * b * va + a * a * vb + va * vb), "m": len(paths),
            "a_path": summary(pa), "b_path": summary(pb),
            "fraction_missing_information": max(pa["fraction_missing_information"],
                                                pb["fraction_missing_information"]),
            "df": min(pa["df"], pb["df"]), "monte_carlo_draws": MONTE_CARLO_DRAWS}
