"""History matching with Gaussian-process emulators, then a posterior inside what remains.

The method of Vernon, Goldstein & Bower (2010) and Andrianakis et al. (2015) for expensive
stochastic simulators with many inputs and few targets, written for any simulator:

1. **Space-filling design.** Wave 1 runs a scrambled Sobol sample of the prior's unit cube
   (every input drawn in every run, so inputs no target informs are marginalised, not
   frozen).
2. **Screening.** Per output, the active inputs are found by cross-validated lasso on the
   wave's runs (Vernon et al. 2010 choose active variables by regression before fitting the
   Gaussian process to what remains); at most ``max_active`` per output.
3. **Emulation.** One Gaussian process per output on its active inputs (scikit-learn;
   constant x anisotropic RBF plus a white-noise term whose level estimates the
   simulator's run-to-run variance, i.e. the replicated study's sampling noise).
4. **Implausibility.** ``I(x) = |z - E[f(x)]| / sqrt(V_em(x) + max(V_sim, V_obs) + V_md)``
   per output: emulator variance, the larger of the simulator's run-to-run variance and the
   observation's variance (both are the sampling noise of one study of the published
   design, estimated two ways), and model discrepancy (a declared fraction of the wave-1
   spread of the output). A point is not ruled out yet (NROY) when its ``rank``-th largest
   implausibility is below ``cutoff`` (3: Pukelsheim's three-sigma rule) under every
   wave's emulators.
5. **Waves.** Each later wave runs the first NROY points of a fresh Sobol sample of the
   prior and refits the emulators on every run so far.
6. **Posterior.** Inside NROY, importance sampling with the prior as proposal and the
   emulators' Gaussian likelihood of the observations as weight (the emulator-based
   likelihood: Andrianakis et al. 2015 s. 5 use the emulators in the same way for their
   final sample), then ``pmc_rounds`` rounds of population Monte Carlo (Cappe et al.
   2004) that move the sample's active inputs towards where the weight is, so the
   effective sample size grows. The effective sample size of each round is reported.

Deterministic given the seed (Sobol scrambling, lasso folds and GP optimiser restarts all
seeded). Everything here is pure given the simulator: it takes the simulator as a function
``(values, run_ids) -> outputs`` so that storage, parallelism and progress stay with the
caller.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Emulator", "HistoryMatch", "Observation", "PriorSpace", "Settings", "Wave",
           "fit_emulator", "history_match", "implausibility", "screen"]

Simulator = Callable[[np.ndarray, np.ndarray], np.ndarray]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Observation:
    """One observed scalar: its value and the variance of its observation error."""

    id: str
    value: float
    var_obs: float = 0.0


@dataclass(frozen=True)
class PriorSpace:
    """The inputs and the map from the unit cube to their prior (column-wise inverse CDF)."""

    names: tuple[str, ...]
    ppf: Callable[[np.ndarray], np.ndarray]

    @property
    def dim(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Settings:
    """The budget and the declared choices of a history match."""

    runs: tuple[int, ...] = (96, 64)
    candidates: int = 2**14
    posterior_candidates: int = 2**15
    cutoff: float = 3.0
    rank: int = 1
    max_active: int = 6
    discrepancy_fraction: float = 0.1
    gp_restarts: int = 2
    pmc_rounds: int = 3
    pmc_particles: int = 4096

    def __post_init__(self) -> None:
        if not self.runs or any(int(n) < 8 for n in self.runs):
            raise ValueError(f"runs: every wave needs at least 8 runs, got {self.runs}")
        if self.cutoff <= 0 or self.rank < 1 or self.max_active < 1:
            raise ValueError("cutoff must be > 0, rank and max_active >= 1")
        if not 0 <= self.discrepancy_fraction < 10:
            raise ValueError("discrepancy_fraction must be in [0, 10)")


@dataclass
class Emulator:
    """A Gaussian process for one output on its active inputs (unit-cube coordinates)."""

    output: str
    active: tuple[int, ...]
    gp: Any  # sklearn GaussianProcessRegressor, or None for a constant emulator
    mean: float
    var_noise: float
    var_md: float
    n_train: int
    r2_loo: float = math.nan

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulator mean of the simulator's expected output and the emulator's own
        variance (the run-to-run noise excluded)."""
        if self.gp is None:
            return np.full(len(u), self.mean), np.zeros(len(u))
        m, sd = self.gp.predict(u[:, list(self.active)], return_std=True)
        return m, np.maximum(sd**2 - self.var_noise, 0.0)


@dataclass
class Wave:
    """One wave: its runs, its emulators and the share of candidates left NROY."""

    index: int
    u: np.ndarray
    y: np.ndarray
    emulators: list[Emulator]
    nroy_share: float = 1.0
    n_candidates: int = 0
    seconds_simulating: float = 0.0
    seconds_emulating: float = 0.0


@dataclass
class HistoryMatch:
    """The waves, the posterior sample inside NROY and its importance weights."""

    prior: PriorSpace
    observations: tuple[Observation, ...]
    settings: Settings
    waves: list[Wave] = field(default_factory=list)
    posterior_u: np.ndarray | None = None
    posterior_weights: np.ndarray | None = None
    posterior_nroy_share: float = math.nan
    posterior_ess_rounds: list[float] = field(default_factory=list)
    seconds_posterior: float = 0.0

    @property
    def active_inputs(self) -> tuple[int, ...]:
        """Inputs active for some output in the last wave (sorted)."""
        last = self.waves[-1].emulators
        return tuple(sorted({j for e in last for j in e.active}))

    @property
    def ess(self) -> float:
        w = self.posterior_weights
        if w is None or w.sum() <= 0:
            return 0.0
        w = w / w.sum()
        return float(1.0 / np.sum(w**2))

    @property
    def runs(self) -> int:
        return int(sum(len(w.u) for w in self.waves))

    def posterior_values(self) -> np.ndarray:
        return self.prior.ppf(self.posterior_u)


# ------------------------------------------------------------------------------ pieces
def _sobol(n: int, dim: int, seed: int, stream: int) -> np.ndarray:
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(stream),)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balance properties want n = 2^k; any n is valid
        u = qmc.Sobol(d=dim, scramble=True, seed=rng).random(n)
    return np.clip(u, 1e-9, 1 - 1e-9)


def screen(u: np.ndarray, y: np.ndarray, *, max_active: int, seed: int,
           relative: float = 0.1) -> tuple[int, ...]:
    """Active inputs of one output: a cross-validated lasso (``sklearn.linear_model.
    LassoCV``) on each input's linear and quadratic term (a quadratic term finds an input
    whose effect peaks inside its range); an input's weight is the sum of its two absolute
    standardised coefficients; kept are those with at least ``relative`` of the largest
    weight, at most ``max_active``; none when the lasso keeps no input."""
    from sklearn.linear_model import LassoCV

    x = (u - 0.5) * math.sqrt(12.0)  # unit variance under the uniform cube
    quad = (x**2 - 1.0) / math.sqrt(0.8)  # E = 0, Var = 1 under the uniform cube
    if len(y) < 8 or float(np.std(y)) == 0:
        return ()
    sd = float(np.std(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lasso = LassoCV(cv=5, random_state=int(seed), max_iter=5000,
                        alphas=50).fit(np.hstack([x, quad]), (y - y.mean()) / sd)
    d = u.shape[1]
    weight = np.abs(lasso.coef_[:d]) + np.abs(lasso.coef_[d:])
    if weight.max() <= 0:
        return ()
    order = [int(j) for j in np.argsort(-weight, kind="stable")
             if weight[j] >= relative * weight.max()]
    return tuple(sorted(order[:max_active]))


def fit_emulator(output: str, u: np.ndarray, y: np.ndarray, *, active: Sequence[int],
                 var_md: float, seed: int, restarts: int = 2) -> Emulator:
    """A Gaussian process of ``y`` on the ``active`` columns of ``u`` (normalised output,
    ARD RBF length scales in [0.05, 100], white noise in [1e-6, 10] of the output
    variance); a constant emulator (mean and variance of ``y``) with no active input."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    ok = np.isfinite(y)
    u, y = u[ok], y[ok]
    active = tuple(int(j) for j in active)
    if len(y) < 8:  # too few defined runs to say anything: rules nothing out
        return Emulator(output, (), None, math.nan, math.inf, var_md, int(len(y)))
    if not active:
        return Emulator(output, (), None, float(np.mean(y)), float(np.var(y, ddof=1)),
                        var_md, int(len(y)))
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * RBF(length_scale=np.full(len(active), 0.5), length_scale_bounds=(0.05, 100.0))
              + WhiteKernel(0.1, (1e-6, 10.0)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True,
                                  n_restarts_optimizer=int(restarts),
                                  random_state=int(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes of L-BFGS at a bound
        gp.fit(u[:, list(active)], y)
    scale = float(gp._y_train_std) ** 2
    var_noise = float(gp.kernel_.k2.noise_level) * scale
    return Emulator(output, active, gp, float(np.mean(y)), var_noise, var_md, int(len(y)),
                    _loo_r2(gp, u[:, list(active)], y, var_noise))


def _loo_r2(gp: Any, x: np.ndarray, y: np.ndarray, var_noise: float) -> float:
    """Share of the variance of ``y`` beyond the noise that the emulator's leave-one-out
    predictions explain (closed form for a GP with fixed hyperparameters)."""
    k = gp.kernel_(x)
    try:
        kinv = np.linalg.inv(k)
    except np.linalg.LinAlgError:
        return math.nan
    yn = (y - gp._y_train_mean) / gp._y_train_std
    resid = (kinv @ yn) / np.diag(kinv) * gp._y_train_std
    total = float(np.var(y))
    return float(1.0 - np.mean(resid**2) / total) if total > 0 else math.nan


def implausibility(emulators: Sequence[Emulator], observations: Sequence[Observation],
                   u: np.ndarray) -> np.ndarray:
    """Implausibility of each point (rows) for each output (columns)."""
    out = np.zeros((len(u), len(emulators)))
    for j, (em, obs) in enumerate(zip(emulators, observations, strict=True)):
        m, v_em = em.predict(u)
        var = v_em + max(em.var_noise, obs.var_obs) + em.var_md
        # an output that could not be emulated (undefined statistic) rules nothing out
        out[:, j] = np.nan_to_num(np.abs(obs.value - m) / np.sqrt(np.maximum(var, 1e-300)),
                                  nan=0.0)
    return out


def _rank_max(imp: np.ndarray, rank: int) -> np.ndarray:
    """The ``rank``-th largest implausibility of each row (1 = the maximum)."""
    if imp.shape[1] == 0:
        return np.zeros(len(imp))
    r = min(rank, imp.shape[1])
    return -np.sort(-imp, axis=1)[:, r - 1]


def _log_likelihood(emulators: Sequence[Emulator], observations: Sequence[Observation],
                    u: np.ndarray) -> np.ndarray:
    ll = np.zeros(len(u))
    for em, obs in zip(emulators, observations, strict=True):
        if not math.isfinite(em.mean):
            continue
        m, v_em = em.predict(u)
        var = np.maximum(v_em + max(em.var_noise, obs.var_obs) + em.var_md, 1e-300)
        ll += -0.5 * ((obs.value - m) ** 2 / var + np.log(2 * math.pi * var))
    return ll


# ------------------------------------------------------------------------------ the match
def _nroy(waves: Sequence[Wave], observations: Sequence[Observation], u: np.ndarray,
          settings: Settings) -> np.ndarray:
    keep = np.ones(len(u), dtype=bool)
    for w in waves:
        idx = np.flatnonzero(keep)
        if idx.size == 0:
            break
        imp = implausibility(w.emulators, observations, u[idx])
        keep[idx] = _rank_max(imp, settings.rank) < settings.cutoff
    return keep


def _emulate(u: np.ndarray, y: np.ndarray, observations: Sequence[Observation],
             var_md: np.ndarray, settings: Settings, seed: int) -> list[Emulator]:
    ems = []
    for j, obs in enumerate(observations):
        ok = np.isfinite(y[:, j])
        active = screen(u[ok], y[ok, j], max_active=settings.max_active, seed=seed + j)
        ems.append(fit_emulator(obs.id, u, y[:, j], active=active, var_md=float(var_md[j]),
                                seed=seed + j, restarts=settings.gp_restarts))
    return ems


def history_match(simulator: Simulator, observations: Sequence[Observation],
                  prior: PriorSpace, *, settings: Settings | None = None, seed: int = 1,
                  progress: Progress | None = None) -> HistoryMatch:
    """Run the waves of ``settings.runs`` simulations and the emulator-weighted posterior.

    ``simulator(values, run_ids)`` gets prior-scale inputs (rows) and a unique integer per
    run (its seed stream) and returns one row of outputs per run, columns as
    ``observations``, NaN where undefined."""
    settings = settings or Settings()
    observations = tuple(observations)
    hm = HistoryMatch(prior, observations, settings)
    us: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    var_md = np.zeros(len(observations))
    run_id = 0
    for k, n_runs in enumerate(settings.runs):
        if k == 0:
            u = _sobol(int(n_runs), prior.dim, seed, stream=0)
            share, n_cand = 1.0, 0
        else:
            cand = _sobol(settings.candidates, prior.dim, seed, stream=k)
            keep = _nroy(hm.waves, observations, cand, settings)
            share, n_cand = float(keep.mean()), int(keep.sum())
            u = cand[keep][: int(n_runs)]
            if len(u) == 0:
                break
        if progress is not None:
            progress(f"wave {k + 1}: simulating", 0, len(u))
        ids = np.arange(run_id, run_id + len(u))
        run_id += len(u)
        t0 = time.perf_counter()
        y = np.asarray(simulator(prior.ppf(u), ids), dtype=float).reshape(len(u), -1)
        t1 = time.perf_counter()
        us.append(u)
        ys.append(y)
        if k == 0:
            var_md = settings.discrepancy_fraction**2 * np.array(
                [np.var(c[np.isfinite(c)]) if np.isfinite(c).sum() > 1 else 0.0 for c in y.T])
        if progress is not None:
            progress(f"wave {k + 1}: emulating", len(u), len(u))
        u_all, y_all = np.vstack(us), np.vstack(ys)
        ems = _emulate(u_all, y_all, observations, var_md, settings, seed + 1000 * k)
        hm.waves.append(Wave(k + 1, u, y, ems, share, n_cand, t1 - t0,
                             time.perf_counter() - t1))
    t0 = time.perf_counter()
    cand = _sobol(settings.posterior_candidates, prior.dim, seed, stream=999)
    keep = _nroy(hm.waves, observations, cand, settings)
    hm.posterior_nroy_share = float(keep.mean())
    if not keep.any():  # nothing is left: weight every candidate by the likelihood
        keep[:] = True
    inside = cand[keep]
    ll = _log_likelihood(hm.waves[-1].emulators, observations, inside)
    w = np.exp(ll - ll.max())
    hm.posterior_u, hm.posterior_weights = inside, w / w.sum()
    hm.posterior_ess_rounds = [hm.ess]
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(998,)))
    for _ in range(settings.pmc_rounds):
        u, w = _pmc_round(hm, observations, settings, rng)
        if u is None or 1.0 / np.sum(w**2) <= hm.ess:  # keep the better of two valid samples
            break
        hm.posterior_u, hm.posterior_weights = u, w
        hm.posterior_ess_rounds.append(hm.ess)
    hm.seconds_posterior = time.perf_counter() - t0
    return hm


def _pmc_round(hm: HistoryMatch, observations: Sequence[Observation], settings: Settings,
               rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
    """One round of population Monte Carlo (Cappe et al. 2004) on the active inputs in
    logit coordinates (unbounded, so no move leaves the prior's support): resample the
    weighted sample, move each point by a Gaussian kernel (twice the weighted covariance,
    Beaumont et al. 2009), draw the other inputs afresh from the prior, and weight by
    prior x NROY x emulator likelihood / the proposal's mixture density (the prior, uniform
    on the unit cube, has density prod u(1 - u) in logit coordinates; the inactive inputs'
    proposal is the prior, so they cancel)."""
    active = list(hm.active_inputs)
    if not active:
        return None, None
    u0, w0 = hm.posterior_u, hm.posterior_weights
    n = settings.pmc_particles
    x0 = np.log(u0[:, active]) - np.log1p(-u0[:, active])
    mean = w0 @ x0
    cov = 2.0 * ((x0 - mean).T * w0) @ (x0 - mean) + 1e-6 * np.eye(len(active))
    chol = np.linalg.cholesky(cov)
    idx = rng.choice(len(w0), size=n, p=w0)
    x = x0[idx] + rng.standard_normal((n, len(active))) @ chol.T
    u = rng.random((n, hm.prior.dim))
    u[:, active] = np.clip(1.0 / (1.0 + np.exp(-x)), 1e-12, 1 - 1e-12)
    keep = _nroy(hm.waves, observations, u, hm.settings)
    if keep.sum() < 2:
        return None, None
    u, x = u[keep], x[keep]
    ua = u[:, active]
    log_prior = np.sum(np.log(ua) + np.log1p(-ua), axis=1)
    ll = _log_likelihood(hm.waves[-1].emulators, observations, u)
    prec = np.linalg.inv(cov)
    support = w0 > 0
    centres, cw = x0[support], w0[support]
    log_q = np.empty(len(x))
    for first in range(0, len(x), 256):
        d = x[first:first + 256, None, :] - centres[None, :, :]
        m = np.einsum("ijk,kl,ijl->ij", d, prec, d)
        a = -0.5 * m + np.log(cw)[None, :]
        top = a.max(axis=1)
        log_q[first:first + 256] = top + np.log(np.exp(a - top[:, None]).sum(axis=1))
    lw = ll + log_prior - log_q
    w = np.exp(lw - lw.max())
    return u, w / w.sum()
