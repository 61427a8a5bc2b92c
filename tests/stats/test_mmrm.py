"""Known-answer tests of the MMRM (:mod:`dyadsim.stats.mmrm`).

With complete data and saturated means (one mean per arm and visit) the REML estimate of an
unstructured covariance is the pooled within-arm sample covariance and GLS equals OLS, so a
contrast of change from baseline between arms is exactly the two-sample t test on change
scores: same estimate, same t; Kenward-Roger reproduces the exact t and Hotelling T^2 tests
there (relative tolerance 1e-6: the REML optimum is found numerically)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dyadsim.stats.mmrm import fit_mmrm


def _saturated(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    arm = np.repeat([1.0, 0.0], n)
    X = np.zeros((2 * n, k, 2 * k))
    for j in range(k):
        X[:, j, j] = 1.0
        X[:, j, k + j] = arm
    return X, arm


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_complete_saturated_mmrm_is_the_t_test_on_change(seed):
    rng = np.random.default_rng(seed)
    n, k = 25, 3
    A = rng.normal(size=(k, k))
    Y = rng.multivariate_normal(np.zeros(k), A @ A.T + np.eye(k), size=2 * n)
    X, arm = _saturated(n, k)
    fit = fit_mmrm(Y, X)
    assert fit.converged
    c = np.zeros(2 * k)
    c[k], c[k + 2] = -1.0, 1.0  # arm difference at the last visit minus at baseline
    change = Y[:, 2] - Y[:, 0]
    t = stats.ttest_ind(change[arm == 1], change[arm == 0])
    est, se = c @ fit.params, np.sqrt(c @ fit.cov @ c)
    assert est == pytest.approx(change[arm == 1].mean() - change[arm == 0].mean(), rel=1e-9)
    assert est / se == pytest.approx(t.statistic, rel=1e-6)
    # the pooled within-arm covariance (divisor n - 2) is the REML estimate
    resid = Y - np.where(arm[:, None] == 1, Y[arm == 1].mean(0), Y[arm == 0].mean(0))
    assert fit.sigma == pytest.approx(resid.T @ resid / (2 * n - 2), rel=1e-5)
    # Kenward-Roger is exact here (Kenward & Roger 1997, sec. 4): no adjustment of the
    # covariance, F = t^2 on (1, n - 2), scaling 1
    assert fit.cov_kr == pytest.approx(fit.cov, rel=1e-8, abs=1e-12)
    kr = fit.kenward_roger(c[None])
    assert kr["f"] == pytest.approx(t.statistic**2, rel=1e-6)
    assert kr["df2"] == pytest.approx(2 * n - 2, rel=1e-8)
    assert kr["scaling"] == pytest.approx(1.0, rel=1e-8)
    assert kr["p"] == pytest.approx(t.pvalue, rel=1e-5)
    # the arm differences at all k visits at once: the exact test is Hotelling's
    # two-sample T^2, F = (N - k - 1) / (k (N - 2)) T^2 on (k, N - k - 1)
    L = np.eye(2 * k)[k:]
    d = Y[arm == 1].mean(0) - Y[arm == 0].mean(0)
    S = resid.T @ resid / (2 * n - 2)
    t2 = float(d @ np.linalg.solve(S * (2 / n), d))
    f_exact = (2 * n - k - 1) / (k * (2 * n - 2)) * t2
    kr3 = fit.kenward_roger(L)
    assert kr3["f"] == pytest.approx(f_exact, rel=1e-6)
    assert kr3["df2"] == pytest.approx(2 * n - k - 1, rel=1e-6)


def test_mmrm_recovers_a_known_effect_under_mar_dropout():
    """800 dyads, an AR(1)-like covariance (not compound symmetric), an arm effect of 2.0
    at visit 2 and 1.0 at visit 3, dropout at the last visit depending on the observed second visit
    (MAR, so more treated dyads drop out): the estimate of the last-visit difference within
    3 SE of 1.0, where the completers' mean difference is biased by more than 3 SE."""
    rng = np.random.default_rng(1)
    n, k = 400, 3
    rho = 0.7 ** np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    sd = np.array([1.0, 1.5, 2.0])
    X, arm = _saturated(n, k)
    Y = rng.multivariate_normal(np.zeros(k), rho * np.outer(sd, sd), size=2 * n)
    Y[:, 1] += 2.0 * arm  # the arm moves visit 2, so more treated dyads drop out
    Y[:, 2] += 1.0 * arm
    gone = rng.random(2 * n) < 1 / (1 + np.exp(-3.0 * (Y[:, 1] - 1.0)))
    Y[gone, 2] = np.nan
    fit = fit_mmrm(Y, X)
    c = np.zeros(2 * k)
    c[k + 2] = 1.0
    se = np.sqrt(c @ fit.cov @ c)
    assert abs(c @ fit.params - 1.0) < 3 * se
    naive = np.nanmean(Y[arm == 1, 2]) - np.nanmean(Y[arm == 0, 2])
    assert abs(naive - 1.0) > 3 * se  # the design has real MAR bias to remove
