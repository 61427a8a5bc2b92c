"""History matching with Gaussian-process emulators, then a posterior inside what remains.

The method of Vernon, Goldstein & Bower (2010) and Andrianakis et al. (2015) for expensive
stochastic simulators with many inputs and few targets, written for any simulator:

1. **Space-filling design.** Wave 1 runs a scrambled Sobol sample of the prior's unit cube
   (every input drawn in every run, so inputs no target informs are marginalised, not
   frozen).
   Wave 1 also runs ``replicate_points`` points ``replicate_seeds`` times each (same
   inputs, different seeds): the pooled within-point covariance of the outputs is the
   simulator's run-to-run (co)variance, i.e. the replicated study's sampling noise.
2. **Screening.** Per output, the active inputs are found by cross-validated lasso on the
   wave's runs (Vernon et al. 2010 choose active variables by regression before fitting the
   Gaussian process to what remains), inside the output's ``candidates`` (the inputs that
   can reach it: :mod:`dyadsim.calibration.active`); at most ``max_active`` per output.
3. **Emulation.** One Gaussian process per output on its active inputs (scikit-learn;
   constant x anisotropic RBF plus a white-noise term fixed at the replicate estimate of the
   run-to-run variance, so the noise cannot absorb misfit), on the output's link scale
   (logit for a share, log for a ratio, the observation mapped by the delta method).
   Before use each emulator is validated on held-out runs (``holdout``; Bastos & O'Hagan
   2009): standardised errors ``(y - E) / sqrt(V_em + V_sim)``; an emulator whose errors
   are improbable for a calibrated one (sum of squares vs chi^2, count beyond 2 SD vs a
   binomial, at :data:`VALIDATION_ALPHA`) fails, is reported and neither cuts nor enters
   the likelihood. The emulator is then refitted on every run.
4. **Implausibility.** ``I(x) = |z - E[f(x)]| / sqrt(V_em(x) + max(V_sim, V_obs) + V_md)``
   per output: emulator variance, the larger of the simulator's run-to-run variance and the
   observation's variance (both are the sampling noise of one study of the published
   design, estimated two ways), and model discrepancy (declared per observation with its
   reason; else ``discrepancy_fraction`` of the wave-1 spread, reported as undeclared). A
   range constraint (``Observation.interval``: a plausibility check, not a measurement)
   has implausibility 0 inside the range and the distance to it outside. A point is not
   ruled out yet (NROY) when its ``rank``-th largest implausibility (2: the second maximum,
   Vernon et al. 2010, so one poorly emulated output cannot cut alone) is below ``cutoff``
   (3: Pukelsheim's three-sigma rule) under every wave's emulators.
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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Emulator", "HistoryMatch", "Observation", "PriorSpace", "Settings", "Wave",
           "fit_emulator", "history_match", "implausibility", "link", "replicate_covariance",
           "screen", "validate_emulator"]

Simulator = Callable[[np.ndarray, np.ndarray], np.ndarray]
Progress = Callable[[str, int, int], None]


#: Validation of an emulator on held-out runs (Bastos & O'Hagan 2009): it fails when its
#: standardised errors are improbable for a calibrated Gaussian emulator at this level:
#: their sum of squares against chi^2 with n degrees of freedom, or the count beyond 2 SD
#: against Binomial(n, 0.0455) (one-sided tests, so small held-out sets are judged by what
#: they can show).
VALIDATION_ALPHA = 0.01
#: Floor of a GP's fixed noise, as a share of the output's variance (numerical jitter for a
#: deterministic output).
NOISE_FLOOR = 1e-6
#: Smallest ratio on the log scale, and the clip of a share without its N on the logit
#: scale (an empty or full share of a study of N uses the empirical logit, Cox 1970).
LOG_FLOOR = 1e-3
LOGIT_EPS = 1e-3

LINKS = ("identity", "logit", "log")


def link(kind: str, x: np.ndarray | float, n: int | None = None) -> np.ndarray:
    """An output on its link scale: ``logit`` for a share (empirical logit
    ``(x n + 1/2) / (n + 1)`` when the study's N is known), ``log`` for a ratio, else as is."""
    x = np.asarray(x, dtype=float)
    if kind == "logit":
        p = (x * n + 0.5) / (n + 1.0) if n else np.clip(x, LOGIT_EPS, 1 - LOGIT_EPS)
        return np.log(p) - np.log1p(-p)
    if kind == "log":
        return np.log(np.maximum(x, LOG_FLOOR))
    return x


def _link_slope(kind: str, x: float, n: int | None) -> float:
    """d link / dx at ``x`` (the delta method for an observation's variance)."""
    if kind == "logit":
        p = (x * n + 0.5) / (n + 1.0) if n else min(max(x, LOGIT_EPS), 1 - LOGIT_EPS)
        return (n / (n + 1.0) if n else 1.0) / (p * (1 - p))
    if kind == "log":
        return 1.0 / max(x, LOG_FLOOR)
    return 1.0


@dataclass(frozen=True)
class Observation:
    """One observed scalar: its value and the variance of its observation error, the link
    scale it is emulated on, its declared model discrepancy (variance on the link scale,
    with the reason) and the study it comes from (outputs of one study are correlated).
    With ``interval`` it is a plausibility range instead of a measurement."""

    id: str
    value: float
    var_obs: float = 0.0
    link: str = "identity"
    n: int | None = None
    var_md: float | None = None
    discrepancy: str = ""
    study: str = ""
    interval: tuple[float, float] | None = None
    #: Components of one compositional target (the shares of a distribution) share a
    #: group: their emulators stand or fall together (see :func:`_emulate`).
    group: str = ""

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ValueError(f"observation {self.id}: link must be one of {LINKS}")
        if self.interval is not None and not self.interval[0] < self.interval[1]:
            raise ValueError(f"observation {self.id}: interval must be [low, high], low < high")

    def on_link(self) -> tuple[float, float]:
        """The observed value and its variance on the link scale (delta method)."""
        z = float(link(self.link, self.value, self.n))
        return z, self.var_obs * _link_slope(self.link, self.value, self.n) ** 2

    def range_on_link(self) -> tuple[float, float]:
        lo, hi = link(self.link, np.array(self.interval, dtype=float), self.n)
        return float(lo), float(hi)


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
    rank: int = 2
    max_active: int = 6
    discrepancy_fraction: float = 0.1
    gp_restarts: int = 2
    pmc_rounds: int = 3
    pmc_particles: int = 4096
    replicate_points: int = 4
    replicate_seeds: int = 4
    holdout: float = 0.2

    def __post_init__(self) -> None:
        if not self.runs or any(int(n) < 8 for n in self.runs):
            raise ValueError(f"runs: every wave needs at least 8 runs, got {self.runs}")
        if self.cutoff <= 0 or self.rank < 1 or self.max_active < 1:
            raise ValueError("cutoff must be > 0, rank and max_active >= 1")
        if not 0 <= self.discrepancy_fraction < 10:
            raise ValueError("discrepancy_fraction must be in [0, 10)")
        if self.replicate_points < 0 or (self.replicate_points and self.replicate_seeds < 2):
            raise ValueError("replicate_points must be >= 0, replicate_seeds >= 2")
        if not 0 <= self.holdout < 0.5:
            raise ValueError("holdout must be in [0, 0.5)")


@dataclass
class Emulator:
    """A Gaussian process for one output (on its link scale) on its active inputs (unit-cube
    coordinates). ``var_sim`` is the run-to-run variance it uses (``noise_source``:
    ``replicates`` or ``gp_white_noise`` when no replicates were run); ``validation`` its
    held-out diagnostics; an emulator that is not ``valid`` neither cuts nor weighs."""

    output: str
    active: tuple[int, ...]
    gp: Any  # sklearn GaussianProcessRegressor, or None for a constant emulator
    mean: float
    var_noise: float
    var_md: float
    n_train: int
    r2_loo: float = math.nan
    var_sim: float = math.nan
    noise_source: str = "gp_white_noise"
    var_const: float = 0.0
    validation: dict[str, Any] | None = None
    valid: bool = True
    #: The part of the GP's white noise that is the emulator's own uncertainty: the
    #: variation the inactive inputs cause (Andrianakis et al. 2015 s. 2.2), fitted when
    #: the run-to-run variance is known from replicates; 0 when the white noise stands in
    #: for the run-to-run variance.
    var_inactive: float = 0.0

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulator mean of the simulator's expected output and the emulator's own
        variance (the inactive inputs' variation included, the run-to-run noise
        excluded)."""
        if self.gp is None:
            return np.full(len(u), self.mean), np.full(len(u), self.var_const)
        m, sd = self.gp.predict(u[:, list(self.active)], return_std=True)
        return m, np.maximum(sd**2 - (self.var_noise - self.var_inactive), 0.0)

    @property
    def run_to_run(self) -> float:
        return self.var_sim if math.isfinite(self.var_sim) else self.var_noise


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
    replicate_cov: np.ndarray | None = None
    replicate_runs: int = 0

    def restricted(self, keep: Sequence[bool]) -> HistoryMatch:
        """The same match seen through the observations flagged in ``keep`` only (their
        emulators, their block of the replicate covariance): a posterior sampled on it
        ignores the others, and its calibrated inputs are those the kept emulators
        inform (leave-one-study-out, :mod:`dyadsim.calibration.validate`)."""
        if len(keep) != len(self.observations):
            raise ValueError("keep: one flag per observation")
        idx = [j for j, k in enumerate(keep) if k]
        waves = [replace(w, y=w.y[:, idx], emulators=[w.emulators[j] for j in idx])
                 for w in self.waves]
        cov = None if self.replicate_cov is None else self.replicate_cov[np.ix_(idx, idx)]
        return replace(self, observations=tuple(self.observations[j] for j in idx),
                       waves=waves, replicate_cov=cov)

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

    @property
    def failed_emulators(self) -> list[str]:
        """Outputs whose last-wave emulator failed validation (they cut nothing)."""
        return [e.output for e in self.waves[-1].emulators if not e.valid]

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
           relative: float = 0.1, candidates: Sequence[int] | None = None
           ) -> tuple[int, ...]:
    """Active inputs of one output: a cross-validated lasso (``sklearn.linear_model.
    LassoCV``) on each input's linear and quadratic term (a quadratic term finds an input
    whose effect peaks inside its range); an input's weight is the sum of its two absolute
    standardised coefficients; kept are those with at least ``relative`` of the largest
    weight, at most ``max_active``; none when the lasso keeps no input. With
    ``candidates`` the lasso sees only those columns (the inputs that can reach the output);
    an empty candidate set has no active input."""
    from sklearn.linear_model import LassoCV

    if candidates is not None:
        cols = [int(j) for j in candidates]
        if not cols:
            return ()
        inner = screen(u[:, cols], y, max_active=max_active, seed=seed, relative=relative)
        return tuple(sorted(cols[j] for j in inner))
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
                 var_md: float, seed: int, restarts: int = 2,
                 var_sim: float | None = None) -> Emulator:
    """A Gaussian process of ``y`` on the ``active`` columns of ``u`` (normalised output,
    ARD RBF length scales in [0.05, 100]). With ``var_sim`` (the replicate estimate of the
    run-to-run variance) that variance is a fixed diagonal term and a fitted white-noise
    term in [1e-6, 10] of the output variance carries the variation of the inactive inputs,
    which belongs to the emulator's uncertainty (Andrianakis et al. 2015 s. 2.2; with the
    run-to-run variance alone as the nugget the emulators were overconfident: 14 of 31
    failed held-out validation in the 2026-12-08 refit). Without it, one fitted white-noise
    term stands for both. A constant emulator (mean and variance of ``y``, less the
    run-to-run variance) with no active input."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    ok = np.isfinite(y)
    u, y = u[ok], y[ok]
    active = tuple(int(j) for j in active)
    known = var_sim is not None and math.isfinite(var_sim)
    source = "replicates" if known else "gp_white_noise"
    if len(y) < 8:  # too few defined runs to say anything: rules nothing out
        return Emulator(output, (), None, math.nan, math.inf, var_md, int(len(y)))
    if not active:
        var_y = float(np.var(y, ddof=1))
        if known:
            return Emulator(output, (), None, float(np.mean(y)), float(var_sim), var_md,
                            int(len(y)), var_sim=float(var_sim), noise_source=source,
                            var_const=max(var_y - float(var_sim), 0.0) + var_y / len(y))
        return Emulator(output, (), None, float(np.mean(y)), var_y, var_md, int(len(y)))
    var_y = float(np.var(y))
    # normalize_y divides by the SD of y: the fixed run-to-run term in those units
    alpha = max(float(var_sim) / var_y, NOISE_FLOOR) if known and var_y > 0 else 1e-10
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * RBF(length_scale=np.full(len(active), 0.5), length_scale_bounds=(0.05, 100.0))
              + WhiteKernel(0.1, (1e-6, 10.0)))
    gp = GaussianProcessRegressor(kernel=kernel, alpha=alpha, normalize_y=True,
                                  n_restarts_optimizer=int(restarts),
                                  random_state=int(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes of L-BFGS at a bound
        gp.fit(u[:, list(active)], y)
    scale = float(gp._y_train_std) ** 2
    white = float(gp.kernel_.k2.noise_level) * scale
    return Emulator(output, active, gp, float(np.mean(y)), white, var_md, int(len(y)),
                    _loo_r2(gp, u[:, list(active)], y),
                    var_sim=float(var_sim) if known else white, noise_source=source,
                    var_inactive=white if known else 0.0)


def validate_emulator(em: Emulator, u: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Held-out diagnostics of an emulator (Bastos & O'Hagan 2009): standardised errors
    ``(y - E) / sqrt(V_em + V_sim)`` of runs it was not fitted to, their 2-SD coverage and
    RMS, the held-out R^2, and the p-values of the two tests of :data:`VALIDATION_ALPHA`;
    ``passed`` when neither rejects."""
    from scipy import stats

    ok = np.isfinite(y)
    u, y = u[ok], y[ok]
    if len(y) < 3 or not math.isfinite(em.mean):
        return {"n": int(len(y)), "passed": True, "note": "too few held-out runs"}
    m, v = em.predict(u)
    e = (y - m) / np.sqrt(np.maximum(v + em.run_to_run, 1e-300))
    cov2 = float(np.mean(np.abs(e) <= 2.0))
    rms = float(np.sqrt(np.mean(e**2)))
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = float(1 - np.sum((y - m) ** 2) / total) if total > 0 else math.nan
    p_chi2 = float(stats.chi2.sf(float(np.sum(e**2)), len(e)))
    outside = int(np.sum(np.abs(e) > 2.0))
    p_out = float(stats.binom.sf(outside - 1, len(e), 2 * stats.norm.sf(2.0)))
    return {"n": int(len(y)), "coverage_2sd": round(cov2, 4), "rms_std_error": round(rms, 4),
            "max_abs_std_error": round(float(np.max(np.abs(e))), 4),
            "r2_heldout": round(r2, 4) if math.isfinite(r2) else None,
            "p_chi2": round(p_chi2, 6), "p_outside_2sd": round(p_out, 6),
            "passed": bool(min(p_chi2, p_out) >= VALIDATION_ALPHA)}


def _loo_r2(gp: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Share of the variance of ``y`` that the emulator's leave-one-out predictions
    explain (closed form for a GP with fixed hyperparameters)."""
    k = gp.kernel_(x) + np.eye(len(x)) * gp.alpha  # the fixed run-to-run term too
    try:
        kinv = np.linalg.inv(k)
    except np.linalg.LinAlgError:
        return math.nan
    yn = (y - gp._y_train_mean) / gp._y_train_std
    resid = (kinv @ yn) / np.diag(kinv) * gp._y_train_std
    total = float(np.var(y))
    return float(1.0 - np.mean(resid**2) / total) if total > 0 else math.nan


def _distance(em: Emulator, obs: Observation, u: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """The link-scale distance from the emulator's mean to the observation (to the range
    of a constraint; 0 inside) and its variance; None when the output cannot be used (not
    emulated, or its emulator failed validation)."""
    if not em.valid or not math.isfinite(em.mean):
        return None
    m, v_em = em.predict(u)
    if obs.interval is not None:
        lo, hi = obs.range_on_link()
        d = np.maximum(np.maximum(lo - m, m - hi), 0.0)
        return d, v_em + em.run_to_run + em.var_md
    z, var_obs = obs.on_link()
    return z - m, v_em + max(em.run_to_run, var_obs) + em.var_md


def implausibility(emulators: Sequence[Emulator], observations: Sequence[Observation],
                   u: np.ndarray) -> np.ndarray:
    """Implausibility of each point (rows) for each output (columns); 0 for an output that
    cannot be used (undefined statistic, or an emulator that failed validation)."""
    out = np.zeros((len(u), len(emulators)))
    for j, (em, obs) in enumerate(zip(emulators, observations, strict=True)):
        got = _distance(em, obs, u)
        if got is not None:
            d, var = got
            out[:, j] = np.nan_to_num(np.abs(d) / np.sqrt(np.maximum(var, 1e-300)), nan=0.0)
    return out


def _rank_max(imp: np.ndarray, rank: int) -> np.ndarray:
    """The ``rank``-th largest implausibility of each row (1 = the maximum)."""
    if imp.shape[1] == 0:
        return np.zeros(len(imp))
    r = min(rank, imp.shape[1])
    return -np.sort(-imp, axis=1)[:, r - 1]


def _log_likelihood(emulators: Sequence[Emulator], observations: Sequence[Observation],
                    u: np.ndarray) -> np.ndarray:
    """Independent Gaussian likelihood on the link scale (a range: flat inside, Gaussian
    tails outside); the joint one with replicate covariances is :mod:`.mcmc`'s."""
    ll = np.zeros(len(u))
    for em, obs in zip(emulators, observations, strict=True):
        got = _distance(em, obs, u)
        if got is None:
            continue
        d, var = got
        var = np.maximum(var, 1e-300)
        ll += -0.5 * (d**2 / var + np.log(2 * math.pi * var))
    return ll


def replicate_covariance(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Pooled within-group covariance of the columns of ``y`` (rows of one group share their
    inputs and differ in seed): the run-to-run covariance; pairwise over finite rows."""
    centred = np.full_like(y, np.nan)
    for g in np.unique(groups):
        rows = groups == g
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an output undefined in every replicate
            centred[rows] = y[rows] - np.nanmean(y[rows], axis=0)
    k = y.shape[1]
    cov = np.full((k, k), np.nan)
    n_groups = len(np.unique(groups))
    for a in range(k):
        for b in range(a, k):
            ok = np.isfinite(centred[:, a]) & np.isfinite(centred[:, b])
            dof = ok.sum() - n_groups
            if dof > 0:
                cov[a, b] = cov[b, a] = float(np.sum(centred[ok, a] * centred[ok, b]) / dof)
    return cov


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


def _on_link(y: np.ndarray, observations: Sequence[Observation]) -> np.ndarray:
    return np.column_stack([link(o.link, y[:, j], o.n) for j, o in enumerate(observations)]) \
        if len(observations) else y


def _emulate(u: np.ndarray, y: np.ndarray, design: np.ndarray,
             observations: Sequence[Observation], var_md: np.ndarray, var_sim: np.ndarray,
             candidates: Sequence[Sequence[int] | None], settings: Settings,
             seed: int) -> list[Emulator]:
    """One emulator per output on the link-scale runs ``y``: screened inside its candidates
    and validated on a held-out share of the design runs (``design`` marks them; replicate
    runs always train), then refitted on every run."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(700,)))
    idx = np.flatnonzero(design)
    n_out = int(round(settings.holdout * len(idx)))
    test = np.zeros(len(u), dtype=bool)
    if n_out >= 3:
        test[rng.choice(idx, size=n_out, replace=False)] = True
    ems = []
    for j, obs in enumerate(observations):
        vs = float(var_sim[j]) if math.isfinite(var_sim[j]) else None
        validation = None
        if test.any():
            train = ~test & np.isfinite(y[:, j])
            active = screen(u[train], y[train, j], max_active=settings.max_active,
                            seed=seed + j, candidates=candidates[j])
            held = fit_emulator(obs.id, u[~test], y[~test, j], active=active,
                                var_md=float(var_md[j]), seed=seed + j,
                                restarts=settings.gp_restarts, var_sim=vs)
            validation = validate_emulator(held, u[test], y[test, j])
        ok = np.isfinite(y[:, j])
        active = screen(u[ok], y[ok, j], max_active=settings.max_active, seed=seed + j,
                        candidates=candidates[j])
        em = fit_emulator(obs.id, u, y[:, j], active=active, var_md=float(var_md[j]),
                          seed=seed + j, restarts=settings.gp_restarts, var_sim=vs)
        em.validation = validation
        em.valid = validation is None or bool(validation["passed"])
        ems.append(em)
    # The shares of one distribution sum to 1: fitting some of them while ignoring a
    # component whose emulator failed moves the ignored one without check (a posterior
    # that raises the resistant share by lowering the secure share). One failed component
    # sets the whole group aside.
    failed = {o.group for o, e in zip(observations, ems, strict=True) if o.group and not e.valid}
    for o, e in zip(observations, ems, strict=True):
        if o.group in failed and e.valid:
            e.valid = False
            if e.validation is not None:
                e.validation["failed_with_group"] = o.group
    return ems


def history_match(simulator: Simulator, observations: Sequence[Observation],
                  prior: PriorSpace, *, settings: Settings | None = None, seed: int = 1,
                  progress: Progress | None = None,
                  candidates: Sequence[Sequence[int] | None] | None = None) -> HistoryMatch:
    """Run the waves of ``settings.runs`` simulations and the emulator-weighted posterior.

    ``simulator(values, run_ids)`` gets prior-scale inputs (rows) and a unique integer per
    run (its seed stream) and returns one row of outputs per run, columns as
    ``observations``, NaN where undefined. ``candidates`` gives, per observation, the input
    columns that can reach it (None: every input)."""
    settings = settings or Settings()
    observations = tuple(observations)
    candidates = list(candidates) if candidates is not None else [None] * len(observations)
    if len(candidates) != len(observations):
        raise ValueError("candidates: one entry per observation")
    hm = HistoryMatch(prior, observations, settings)
    us: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    designs: list[np.ndarray] = []
    var_md = np.zeros(len(observations))
    var_sim = np.full(len(observations), math.nan)
    run_id = 0
    for k, n_runs in enumerate(settings.runs):
        n_rep = 0
        if k == 0:
            u = _sobol(int(n_runs), prior.dim, seed, stream=0)
            share, n_cand = 1.0, 0
            if settings.replicate_points:
                points = _sobol(settings.replicate_points, prior.dim, seed, stream=500)
                u = np.vstack([u, np.repeat(points, settings.replicate_seeds, axis=0)])
                n_rep = settings.replicate_points * settings.replicate_seeds
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
        yl = _on_link(y, observations)
        if n_rep:
            groups = np.repeat(np.arange(settings.replicate_points), settings.replicate_seeds)
            hm.replicate_cov = replicate_covariance(yl[-n_rep:], groups)
            hm.replicate_runs = n_rep
            var_sim = np.diag(hm.replicate_cov).copy()
        us.append(u)
        ys.append(yl)
        designs.append(np.arange(len(u)) < len(u) - n_rep)
        if k == 0:
            spread = np.array([np.var(c[np.isfinite(c)]) if np.isfinite(c).sum() > 1 else 0.0
                               for c in yl.T])
            var_md = np.array([o.var_md if o.var_md is not None
                               else settings.discrepancy_fraction**2 * spread[j]
                               for j, o in enumerate(observations)], dtype=float)
        if progress is not None:
            progress(f"wave {k + 1}: emulating", len(u), len(u))
        ems = _emulate(np.vstack(us), np.vstack(ys), np.concatenate(designs), observations,
                       var_md, var_sim, candidates, settings, seed + 1000 * k)
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
