"""Known-answer tests of the history-matching calibration on toy simulators whose truth is
known (issue 8 s6): parameter recovery, simulation-based calibration, screening and
determinism. Tolerances are stated with each test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dyadsim.calibration.history_matching import (
    Observation,
    PriorSpace,
    Settings,
    history_match,
    implausibility,
    screen,
)

SIGMA = 0.05  # run-to-run noise of the toy simulators (one "study")
UNIT = PriorSpace(("a", "b", "c"), lambda u: u)  # uniform prior on the unit cube


def _toy(u: np.ndarray) -> np.ndarray:
    """Two outputs: one linear in a and b, one peaked in b and interacting a x c."""
    return np.column_stack([u[:, 0] + 0.5 * u[:, 1], np.sin(2 * u[:, 1]) + u[:, 0] * u[:, 2]])


def _simulator(stream: int):
    def sim(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([stream, int(ids[0])])
        return _toy(values) + SIGMA * rng.standard_normal((len(values), 2))
    return sim


def _observe(truth: np.ndarray, rng: np.random.Generator) -> list[Observation]:
    z = _toy(truth[None])[0] + SIGMA * rng.standard_normal(2)
    return [Observation(f"y{j}", float(z[j]), SIGMA**2) for j in range(2)]


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, q: list[float]) -> np.ndarray:
    order = np.argsort(x)
    cdf = np.cumsum(w[order]) / w.sum()
    return np.interp(q, cdf, x[order])


SMALL = Settings(runs=(30, 20), candidates=2048, posterior_candidates=4096, gp_restarts=0)


def test_screening_finds_the_inputs_that_move_an_output():
    """12 inputs, the output moves with inputs 2 (linearly) and 7 (peaked mid-range, no
    linear trend): both found, nothing else (lasso on linear and quadratic terms)."""
    rng = np.random.default_rng(4)
    u = rng.random((120, 12))
    y = 2 * u[:, 2] + 3 * (u[:, 7] - 0.5) ** 2 * 4 + 0.05 * rng.standard_normal(120)
    assert screen(u, y, max_active=6, seed=0) == (2, 7)


def test_recovery_posterior_covers_the_truth_and_learns():
    """Observations simulated at a known point: the 95% posterior interval of each input
    the outputs inform covers it, and the posterior of a (informed by both outputs) is at
    most half as wide as its prior (prior SD 0.289)."""
    truth = np.array([0.3, 0.6, 0.5])
    obs = _observe(truth, np.random.default_rng(11))
    hm = history_match(_simulator(1), obs, UNIT, settings=SMALL, seed=5)
    assert hm.runs == 50
    imp = implausibility(hm.waves[-1].emulators, obs, truth[None])
    assert imp.max() < 3.0  # the truth is not ruled out
    w, u = hm.posterior_weights, hm.posterior_u
    for j in (0, 1):
        lo, hi = _weighted_quantiles(u[:, j], w, [0.025, 0.975])
        assert lo <= truth[j] <= hi, (j, lo, hi)
    mean = np.sum(w * u[:, 0])
    sd = np.sqrt(np.sum(w * (u[:, 0] - mean) ** 2))
    assert sd < 0.5 * np.sqrt(1 / 12), sd
    assert hm.ess > 50


def test_simulation_based_calibration_rank_histogram_is_uniform():
    """SBC (Talts et al. 2018): 30 truths drawn from the prior, each observed with noise
    and calibrated; the posterior CDF at the truth must be uniform for every input
    (Kolmogorov-Smirnov p >= 0.01) and the central 90% intervals must cover it in at least
    75% of the 30 fits (binomial 1st percentile at 90% is 0.77; the emulators' model
    discrepancy term makes the posterior, if anything, wider)."""
    rng = np.random.default_rng(0)
    q = []
    for k in range(30):
        truth = rng.random(3)
        hm = history_match(_simulator(100 + k), _observe(truth, rng), UNIT, settings=SMALL,
                           seed=k)
        w, u = hm.posterior_weights, hm.posterior_u
        q.append([float(np.sum(w * (u[:, j] < truth[j]))) for j in range(3)])
    q = np.array(q)
    for j in range(3):
        assert stats.kstest(q[:, j], "uniform").pvalue >= 0.01, (j, np.sort(q[:, j]))
        assert np.mean((q[:, j] > 0.05) & (q[:, j] < 0.95)) >= 0.75, (j, q[:, j])


def test_history_match_is_deterministic_given_the_seed():
    obs = _observe(np.array([0.5, 0.5, 0.5]), np.random.default_rng(2))
    a = history_match(_simulator(3), obs, UNIT, settings=SMALL, seed=9)
    b = history_match(_simulator(3), obs, UNIT, settings=SMALL, seed=9)
    assert np.array_equal(a.posterior_u, b.posterior_u)
    assert np.array_equal(a.posterior_weights, b.posterior_weights)


def test_an_undefined_output_rules_nothing_out():
    """An output the simulator never defines (NaN) gives an implausibility of 0."""
    def sim(values, ids):
        y = _simulator(4)(values, ids)
        y[:, 1] = np.nan
        return y

    obs = _observe(np.array([0.5, 0.5, 0.5]), np.random.default_rng(3))
    hm = history_match(sim, obs, UNIT, settings=SMALL, seed=1)
    imp = implausibility(hm.waves[-1].emulators, obs, np.random.default_rng(0).random((50, 3)))
    assert np.all(imp[:, 1] == 0.0)
    assert np.isfinite(hm.posterior_weights).all()


@pytest.mark.parametrize("bad", [dict(runs=(4,)), dict(runs=()), dict(cutoff=0.0),
                                 dict(rank=0), dict(discrepancy_fraction=-1.0)])
def test_settings_refuse_bad_values(bad):
    with pytest.raises(ValueError):
        Settings(**bad)
