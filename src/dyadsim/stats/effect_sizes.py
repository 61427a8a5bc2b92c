"""Effect sizes of two groups: the standardised mean difference (Cohen's d, Hedges' g with
the exact small-sample correction) and its variance, the odds ratio of a 2x2 table, and the
pooled test of two proportions."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln


def hedges_j(df: float) -> float:
    """Hedges' (1981) exact small-sample correction of d on ``df`` degrees of freedom:
    J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)); the approximation 1 - 3/(4 df - 1)
    (Borenstein et al. 2009, ch. 4) is within 0.2% of it from df = 10."""
    return float(math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2)))


def standardized_difference(xt: np.ndarray, xc: np.ndarray) -> dict[str, float]:
    """Cohen's d = (mean_t - mean_c) / pooled SD (Cohen 1988), Hedges' g = J d and their
    large-sample variances (Hedges & Olkin 1985): Var(d) = (n1 + n2)/(n1 n2) + d^2/(2 (n1 +
    n2)), Var(g) = J^2 Var(d). NaN where a group has fewer than 2 values or no spread."""
    xt, xc = np.asarray(xt, float), np.asarray(xc, float)
    n1, n2 = xt.size, xc.size
    nan = {"d": math.nan, "g": math.nan, "j": math.nan, "var_d": math.nan,
           "var_g": math.nan, "pooled_sd": math.nan, "n1": n1, "n2": n2}
    if n1 < 2 or n2 < 2:
        return nan
    sp = math.sqrt(((n1 - 1) * xt.var(ddof=1) + (n2 - 1) * xc.var(ddof=1)) / (n1 + n2 - 2))
    if not sp > 0:
        return {**nan, "pooled_sd": sp}
    d = float(xt.mean() - xc.mean()) / sp
    j = hedges_j(n1 + n2 - 2)
    var_d = (n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2))
    return {"d": d, "g": j * d, "j": j, "var_d": var_d, "var_g": j**2 * var_d,
            "pooled_sd": sp, "n1": n1, "n2": n2}


def odds_ratio_cells(a: float, b: float, c: float, d: float) -> tuple[float, bool]:
    """The odds ratio a d / (b c) of a 2x2 table (rows treatment/control, columns event/no
    event) with the Haldane-Anscombe correction (+0.5 to every cell) when a cell is 0, and
    whether it was applied."""
    zero = min(a, b, c, d) == 0
    if zero:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return (a * d / (b * c) if b * c > 0 else math.nan), zero


def two_proportion_test(e1: int, n1: int, e0: int, n0: int) -> float:
    """Two-sided p of the pooled two-proportion z test of equal shares (the score test at
    a difference of 0, statsmodels ``test_proportions_2indep``, ``method="score"``, no
    small-sample correction); 1 when the pooled share is 0 or 1."""
    from statsmodels.stats.proportion import test_proportions_2indep

    pool = (e1 + e0) / (n1 + n0)
    if pool in (0.0, 1.0):
        return 1.0
    r = test_proportions_2indep(e1, n1, e0, n0, value=0, method="score",
                                compare="diff", correction=False)
    return float(r.pvalue)
