"""Known-answer tests of the indirect effect from multiply imputed data
(:mod:`dyadsim.stats.mediation`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dyadsim.stats.mediation import ols_paths, pooled_indirect_effect


def _data(rng, n=80, a=0.4, b=0.6):
    t = (np.arange(n) < n // 2).astype(float)
    z = rng.normal(size=n)
    m = a * t + 0.5 * z + rng.normal(size=n)
    y = b * m + 0.2 * t + 0.3 * z + rng.normal(size=n)
    return t, m, y, z[:, None]


def test_paths_are_the_ols_coefficients_and_variances():
    import statsmodels.api as sm

    t, m, y, z = _data(np.random.default_rng(0))
    a, va, b, vb = ols_paths(t, m, y, z)
    fa = sm.OLS(m, np.column_stack([np.ones_like(t), t, z])).fit()
    fb = sm.OLS(y, np.column_stack([np.ones_like(t), m, t, z])).fit()
    assert a == pytest.approx(fa.params[1], rel=1e-10)
    assert va == pytest.approx(fa.bse[1] ** 2, rel=1e-10)
    assert b == pytest.approx(fb.params[1], rel=1e-10)
    assert vb == pytest.approx(fb.bse[1] ** 2, rel=1e-10)


def test_with_a_sure_b_path_the_test_is_the_t_test_of_a():
    """b / SE = 100: a*b's Monte Carlo p is the a path's t test p and the CI is b times
    the a path's t interval, each to about 4 Monte Carlo SE (p: SE 0.0004 at p = 0.015;
    a 2.5% quantile of t: SE about 0.009, times b * SE(a) = 0.4 gives 0.0036 per bound;
    tolerance 0.015)."""
    a, va, b, vb, n = 0.5, 0.04, 2.0, 0.0004, 60
    r = pooled_indirect_effect([(a, va, b, vb)], n=n, n_covariates=1, alpha=0.05, seed=1)
    df = n - 2 - 1
    t_p = 2 * stats.t.sf(a / va**0.5, df)
    assert r["p"] == pytest.approx(t_p, abs=0.002)
    half = stats.t.ppf(0.975, df) * va**0.5
    assert [r["ci_lower"], r["ci_upper"]] == pytest.approx([b * (a - half), b * (a + half)],
                                                           abs=0.015)
    assert r["estimate"] == pytest.approx(a * b)
    assert r["a_path"]["df"] == df and r["b_path"]["df"] == n - 3 - 1


def test_paths_pool_by_rubins_rules_and_the_ci_agrees_with_p():
    from dyadsim.stats.missing import rubin

    rng = np.random.default_rng(3)
    for _ in range(20):
        sets = [(0.3 + rng.normal(0, 0.1), 0.02, 0.5 + rng.normal(0, 0.1), 0.01)
                for _ in range(5)]
        r = pooled_indirect_effect(sets, n=50, n_covariates=0, alpha=0.05, seed=7)
        pa = rubin([s[0] for s in sets], [s[1] for s in sets], df_complete=48)
        assert r["a_path"]["estimate"] == pytest.approx(pa["estimate"])
        assert r["a_path"]["se"] == pytest.approx(pa["se"])
        assert r["a_path"]["df"] == pytest.approx(pa["df"])
        excludes = r["ci_lower"] > 0 or r["ci_upper"] < 0
        assert excludes == (r["p"] < 0.05)
    again = pooled_indirect_effect(sets, n=50, n_covariates=0, alpha=0.05, seed=7)
    assert again == r  # seeded Monte Carlo draws: the same result
