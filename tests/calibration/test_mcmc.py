"""Known-answer tests of the MCMC posterior (issue 19 item 4): NUTS on an analytic
Gaussian, and the whole chain (history match with replicates, validated emulators, joint
study likelihood, NUTS, real runs at posterior draws) on a linear-Gaussian toy whose
posterior is analytic. Tolerances are stated with each test."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsim.calibration.history_matching import (
    Observation,
    PriorSpace,
    Settings,
    history_match,
)
from dyadsim.calibration.mcmc import (
    MAX_RHAT,
    MIN_ESS,
    arviz_diagnostics,
    calibrated_columns,
    log_density,
    posterior_runs,
    sample_nuts,
    sample_posterior,
    sample_smc,
)


def test_nuts_recovers_an_analytic_gaussian():
    """A correlated 2-D Gaussian (means 1, -2; SDs 1, 0.5; correlation 0.8): 4 chains of
    1,000 draws; R-hat <= 1.01 and bulk ESS >= 400 (arviz) for both coordinates; means
    within 0.15 SD, SDs within 10%, correlation within 0.05."""
    import jax.numpy as jnp

    mean = np.array([1.0, -2.0])
    sd = np.array([1.0, 0.5])
    cov = np.diag(sd) @ np.array([[1.0, 0.8], [0.8, 1.0]]) @ np.diag(sd)
    prec = np.linalg.inv(cov)

    def logp(x):
        d = x - mean
        return -0.5 * d @ jnp.asarray(prec) @ d

    init = np.array([[3.0, 0.0], [-1.0, -4.0], [2.0, -3.0], [0.0, -1.0]])
    x, div = sample_nuts(logp, init, warmup=500, draws=1000, seed=2)
    rhat, ess = arviz_diagnostics(x, ["a", "b"])
    assert max(rhat.values()) <= MAX_RHAT and min(ess.values()) >= MIN_ESS, (rhat, ess)
    flat = x.reshape(-1, 2)
    assert np.all(np.abs(flat.mean(0) - mean) <= 0.15 * sd), flat.mean(0)
    assert np.all(np.abs(flat.std(0) / sd - 1) <= 0.10), flat.std(0)
    assert abs(np.corrcoef(flat.T)[0, 1] - 0.8) <= 0.05
    assert div == 0


# A linear simulator of one study with two correlated outputs and an inert third input.
A = np.array([[1.0, 0.5, 0.0], [0.3, -1.0, 0.0]])
CHOL = np.array([[0.03, 0.0], [0.015, 0.026]])  # run-to-run noise: SDs 0.03, corr 0.5
UNIT = PriorSpace(("a", "b", "c"), lambda u: u)


def _sim(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return np.array([A @ v + CHOL @ np.random.default_rng([7, int(i)]).standard_normal(2)
                     for v, i in zip(values, ids, strict=True)])


@pytest.fixture(scope="module")
def toy():
    truth = np.array([0.4, 0.55, 0.5])
    s = CHOL @ CHOL.T
    z = A @ truth + CHOL @ np.random.default_rng(99).standard_normal(2)
    obs = [Observation(f"y{j}", float(z[j]), float(s[j, j]), var_md=1e-8, study="one")
           for j in range(2)]
    settings = Settings(runs=(40, 24), candidates=2048, posterior_candidates=4096,
                        gp_restarts=0, replicate_points=6, replicate_seeds=6)
    hm = history_match(_sim, obs, UNIT, settings=settings, seed=3,
                       candidates=[[0, 1], [0, 1]])
    return hm, z, sample_posterior(hm, chains=4, warmup=500, draws=1000, seed=1)


def test_replicates_estimate_the_run_to_run_covariance(toy):
    """36 replicate runs (6 points x 6 seeds, 30 degrees of freedom): each variance within
    50% of the truth (its relative SE is 26%), the correlation (0.5) within 0.3; the
    emulators use it, not a fitted white-noise term."""
    hm, _, _ = toy
    s = CHOL @ CHOL.T
    est = hm.replicate_cov
    assert np.all(np.abs(np.diag(est) / np.diag(s) - 1) <= 0.5), est
    assert abs(est[0, 1] / np.sqrt(est[0, 0] * est[1, 1]) - 0.5) <= 0.3
    for j, e in enumerate(hm.waves[-1].emulators):
        assert e.noise_source == "replicates" and e.run_to_run == pytest.approx(est[j, j])
        assert e.valid and e.validation["n"] >= 3


def _matches_the_analytic_posterior(hm, z: np.ndarray, x: np.ndarray) -> None:
    """Draws ``x`` of (a, b) against N(A^-1 z, (A' Sigma^-1 A)^-1), Sigma the covariance
    the likelihood uses: means within 0.3 SD, SDs within 15%, correlation within 0.1."""
    ems = hm.waves[-1].emulators
    d = np.sqrt([e.run_to_run for e in ems])
    corr = hm.replicate_cov[0, 1] / np.sqrt(hm.replicate_cov[0, 0] * hm.replicate_cov[1, 1])
    sigma = np.outer(d, d) * np.array([[1, corr], [corr, 1]]) + 1e-8 * np.eye(2)
    a2 = A[:, :2]
    cov = np.linalg.inv(a2.T @ np.linalg.inv(sigma) @ a2)
    mean = np.linalg.solve(a2, z)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(x.mean(0) - mean) <= 0.3 * sd), (x.mean(0), mean, sd)
    assert np.all(np.abs(x.std(0) / sd - 1) <= 0.15), (x.std(0), sd)
    assert abs(np.corrcoef(x.T)[0, 1] - cov[0, 1] / sd.prod()) <= 0.1


def test_toy_posterior_matches_the_analytic_posterior(toy):
    """Uniform prior, y = A u + e, e ~ N(0, Sigma) with Sigma the covariance the
    likelihood uses (replicate estimate + declared discrepancy): the posterior of (a, b) is
    N(A^-1 z, (A' Sigma^-1 A)^-1) (the interval lies well inside the cube, the emulator
    variance is < 5% of Sigma). The inert input c is not calibrated (not a candidate).
    R-hat <= 1.01 and bulk ESS >= 400; means within 0.3 SD (emulator mean error and Monte
    Carlo error), SDs within 15%, correlation within 0.1."""
    hm, z, res = toy
    assert res.names == ("a", "b") and calibrated_columns(hm) == (0, 1)
    assert res.converged, res.summary()
    _matches_the_analytic_posterior(hm, z, res.flat())


def test_posterior_runs_are_simulated_at_draws_with_the_rest_held(toy):
    """200 draws of the chains run through the simulator: calibrated inputs from the
    chains, the uncalibrated one at the given default; the simulated outputs scatter around
    the observation as the posterior predictive should (mean within 3 SE + 0.01, the
    emulator mean error)."""
    hm, z, res = toy
    values, y = posterior_runs(_sim, hm, res, n=200, defaults=np.array([0, 0, 0.25]))
    assert values.shape == (200, 3) and y.shape == (200, 2)
    assert np.all(values[:, 2] == 0.25)
    flat = res.flat()
    assert {tuple(r) for r in values[:, :2]} <= {tuple(r) for r in flat}
    assert len({tuple(r) for r in values[:, :2]}) >= 150  # distinct draws, not a few rows
    se = y.std(0) / np.sqrt(200)
    assert np.all(np.abs(y.mean(0) - z) <= 3 * se + 0.01), (y.mean(0), z)


def test_smc_matches_the_analytic_posterior(toy):
    """Adaptive tempered SMC (4 runs of 1,000 particles, 30 mutation moves) on the same
    toy: the same analytic posterior and tolerances as NUTS above (means within 0.3 SD, SDs
    within 15%, correlation within 0.1); the runs agree (R-hat <= 1.01, bulk ESS >= 400)."""
    hm, z, _ = toy
    res = sample_smc(hm, runs=4, particles=1000, steps=30, seed=2)
    assert res.names == ("a", "b") and res.u.shape == (4, 1000, 2)
    assert res.converged, res.summary()
    assert res.summary()["sampler"].startswith("adaptive tempered SMC")
    _matches_the_analytic_posterior(hm, z, res.flat())


def _sim_square(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return np.array([[(v[0] - 0.5) ** 2 + 0.003 * np.random.default_rng([9, int(i)])
                      .standard_normal()] for v, i in zip(values, ids, strict=True)])


def test_smc_weighs_two_separated_modes_and_nuts_chains_do_not_mix():
    """y = (a - 0.5)^2 observed at 0.04: two modes, a = 0.3 and a = 0.7, of equal mass
    and SD about 0.01, 0.4 apart. SMC puts 50% +- 10 points of its particles in each and its
    runs agree (R-hat <= 1.01); NUTS chains started in different modes stay there (R-hat
    above 1.1): the reason the calibration samples by SMC."""
    obs = [Observation("y", 0.04, 0.003**2, var_md=1e-8, study="one")]
    settings = Settings(runs=(40, 24), candidates=2048, posterior_candidates=4096,
                        gp_restarts=0, replicate_points=4, replicate_seeds=4)
    hm = history_match(_sim_square, obs, PriorSpace(("a", "b"), lambda u: u),
                       settings=settings, seed=5, candidates=[[0]])
    smc = sample_smc(hm, runs=4, particles=1000, steps=30, seed=3)
    a = smc.flat()[:, 0]
    assert abs(np.mean(a < 0.5) - 0.5) <= 0.1, np.mean(a < 0.5)
    assert abs(np.median(a[a < 0.5]) - 0.3) <= 0.03 and abs(np.median(a[a > 0.5]) - 0.7) <= 0.03
    assert max(smc.rhat.values()) <= 1.01, smc.rhat
    logp, _ = log_density(hm)
    init = np.log([[0.3], [0.7], [0.3], [0.7]]) - np.log1p(-np.array([[0.3], [0.7], [0.3],
                                                                       [0.7]]))
    x, _ = sample_nuts(logp, init, warmup=300, draws=300, seed=1)
    rhat, _ = arviz_diagnostics(x, ["a"])
    assert rhat["a"] > 1.1, rhat


def test_mcmc_settings_name_their_sampler():
    from dyadsim.calibration.fit import MCMCSettings

    assert MCMCSettings().sampler == "smc"
    with pytest.raises(ValueError, match="sampler must be one of smc, nuts"):
        MCMCSettings(sampler="gibbs")
