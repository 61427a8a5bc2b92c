"""One implementation of each shared statistic (dyadsim.stats), used by the trials and by
calibration alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dyadsim.calibration.statistics import Groups, compute_statistic
from dyadsim.stats import hedges_j, odds_ratio_cells, standardized_difference, two_proportion_test
from dyadsim.trials.analysis import cohens_d


def test_pooled_two_proportion_test_is_the_textbook_z():
    e1, n1, e0, n0 = 30, 80, 18, 75
    pool = (e1 + e0) / (n1 + n0)
    z = (e1 / n1 - e0 / n0) / math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0))
    assert two_proportion_test(e1, n1, e0, n0) == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert two_proportion_test(0, 10, 0, 12) == 1.0


def test_hedges_j_exact_and_its_approximation():
    assert hedges_j(2) == pytest.approx(1 / math.sqrt(math.pi))  # Gamma(1)/Gamma(1/2)
    for df in (10, 50, 200):
        assert hedges_j(df) == pytest.approx(1 - 3 / (4 * df - 1), rel=2e-3)


def test_trials_and_calibration_report_the_same_d_g_and_or():
    rng = np.random.default_rng(3)
    xt, xc = rng.normal(0.4, 1, 12), rng.normal(0, 1, 15)
    ref = standardized_difference(xt, xc)
    y = np.concatenate([xt, xc])
    arm = np.array(["T"] * 12 + ["C"] * 15, dtype=object)
    g = Groups(y=y, arm=arm, treatment="T", control="C")
    assert compute_statistic("cohens_d", g) == pytest.approx(ref["d"], rel=1e-12)
    assert compute_statistic("smd", g) == pytest.approx(ref["g"], rel=1e-12)
    trial = cohens_d(xt, xc, hedges=True)
    assert trial["estimate"] == pytest.approx(ref["g"], rel=1e-12)
    assert trial["se"] == pytest.approx(math.sqrt(ref["var_g"]), rel=1e-12)
    b = Groups(y=np.array([1, 1, 0, 0, 0, 0, 0.0]), arm=np.array(list("TTTCCCC"), dtype=object),
               treatment="T", control="C")
    assert compute_statistic("odds_ratio", b) == pytest.approx(odds_ratio_cells(2, 1, 0, 4)[0])
    assert odds_ratio_cells(2, 1, 0, 4) == (pytest.approx(2.5 * 4.5 / (1.5 * 0.5)), True)
