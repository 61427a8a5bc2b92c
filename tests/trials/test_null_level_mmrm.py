"""The level of the repeated-measures primary (MMRM, unstructured covariance,
Kenward-Roger) on the production path: 1,000 null trials, 20 per arm, 40% of follow-up
missing at random, analysed by the ``lmm`` registry entry. Same window as the MI cells in
test_null_level.py ([17, 69] of 1,000: a true size of 7% fails). Kept in its own file so
the test runner can give it its own worker (it is the slowest cell: one REML fit each).

Measured with benchmarks/null_sims.py (seed 1): 5.9% (MC SE 0.75%) for this cell; the
random-intercept model rejected 8.0%, Satterthwaite df without the Kenward-Roger covariance
adjustment 7.1% (docs/trial-statistics.md)."""

from __future__ import annotations

from scipy import stats

from dyadsim.trials.null_trials import run_cell

TRIALS = 1000
HI = int(stats.binom.ppf(0.995, TRIALS, 0.05))  # 69, as in test_null_level.py
LO = int(stats.binom.ppf(0.005, TRIALS, 0.03))  # 17


def test_mmrm_holds_its_level_with_mar_dropout():
    r = run_cell("lmm", 20, 0.4, "MAR", TRIALS, seed=2026, imputations=5)
    rejections = round(r["type_i"] * TRIALS)
    assert r["failed"] == 0
    assert LO <= rejections <= HI, r
