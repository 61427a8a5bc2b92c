"""A posterior by MCMC on the emulators, then real simulator runs at its draws (issue 19
item 4).

The target density is over the calibrated inputs (those active in a validated emulator of
the last wave), in unconstrained coordinates ``x = logit(u)`` of the prior's unit cube (the
prior is uniform there, so its density in ``x`` is ``prod u (1 - u)``), times the emulator
likelihood of the observations on their link scales. The outputs of one study are joint:
within a study, ``z - E[f(u)] ~ N(0, diag(V_em(u) + V_md) + D R D)`` with ``R`` the
correlation of the study's outputs across replicate runs (same inputs, different seeds) and
``D = sqrt(max(V_sim, V_obs))`` (the sampling noise of one study, as in the
implausibility); a plausibility range is flat inside and Gaussian outside. The emulators
are the fitted scikit-learn Gaussian processes, evaluated in JAX (float64) so that NUTS
(Hoffman & Gelman 2014; numpyro) gets exact gradients. Convergence is judged by
rank-normalised split R-hat and bulk ESS (Vehtari et al. 2021; arviz).

:func:`posterior_runs` then runs the real simulator at draws of the chains (uncalibrated
inputs at their defaults) and keeps those runs: posterior predictions come from simulated
draws, not from emulator-weighted points.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .history_matching import Emulator, HistoryMatch, Observation

__all__ = ["MCMCResult", "arviz_diagnostics", "calibrated_columns", "log_density",
           "observation_table", "posterior_runs", "sample_nuts", "sample_posterior",
           "sample_smc", "thin", "x64"]

#: Convergence required of every calibrated input (Vehtari et al. 2021: R-hat < 1.01 and
#: bulk ESS > 400 for reliable posterior summaries).
MAX_RHAT = 1.01
MIN_ESS = 400.0


@dataclass
class MCMCResult:
    """Draws of the calibrated inputs (unit cube), chains x draws x inputs, and their
    convergence diagnostics."""

    names: tuple[str, ...]
    columns: tuple[int, ...]
    u: np.ndarray
    rhat: dict[str, float]
    ess_bulk: dict[str, float]
    divergences: int
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return bool(self.rhat) and max(self.rhat.values()) <= MAX_RHAT \
            and min(self.ess_bulk.values()) >= MIN_ESS

    def flat(self) -> np.ndarray:
        return self.u.reshape(-1, self.u.shape[-1])

    def summary(self) -> dict[str, Any]:
        return {"sampler": "NUTS (numpyro)", **self.settings,  # SMC names itself
                "chains": int(self.u.shape[0]), "draws_per_chain": int(self.u.shape[1]),
                "divergences": int(self.divergences), "seconds": round(self.seconds, 1),
                "max_rhat": _r(max(self.rhat.values())) if self.rhat else None,
                "min_ess_bulk": _r(min(self.ess_bulk.values())) if self.ess_bulk else None,
                "converged": self.converged,
                "rhat": {k: _r(v) for k, v in self.rhat.items()},
                "ess_bulk": {k: _r(v) for k, v in self.ess_bulk.items()}}


def _r(x: float, digits: int = 4) -> float | None:
    return round(float(x), digits) if x is not None and math.isfinite(x) else None


def arviz_diagnostics(draws: np.ndarray, names: Sequence[str]
                      ) -> tuple[dict[str, float], dict[str, float]]:
    """Rank-normalised split R-hat and bulk ESS (arviz) of each column of ``draws``
    (chains x draws x columns)."""
    import arviz as az

    rhat, ess = {}, {}
    for j, name in enumerate(names):
        x = np.asarray(draws[:, :, j], dtype=float)
        rhat[name] = float(az.rhat(x))
        ess[name] = float(az.ess(x, method="bulk"))
    return rhat, ess


def sample_nuts(log_density: Callable[[Any], Any], init: np.ndarray, *, warmup: int = 1000,
                draws: int = 1000, seed: int = 1, target_accept: float = 0.85
                ) -> tuple[np.ndarray, int]:
    """NUTS chains (numpyro) on an unnormalised log density of a vector, one chain per row
    of ``init``; returns the draws (chains x draws x dim) and the number of divergences."""
    import jax
    from numpyro.infer import MCMC, NUTS

    init = np.atleast_2d(np.asarray(init, dtype=np.float64))
    with x64():
        kernel = NUTS(potential_fn=lambda x: -log_density(x), target_accept_prob=target_accept)
        mcmc = MCMC(kernel, num_warmup=int(warmup), num_samples=int(draws),
                    num_chains=len(init), chain_method="sequential", progress_bar=False)
        mcmc.run(jax.random.PRNGKey(int(seed)), init_params=jax.numpy.asarray(init),
                 extra_fields=("diverging",))
        x = np.asarray(mcmc.get_samples(group_by_chain=True), dtype=float)
        div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    return x.reshape(len(init), int(draws), -1), div


def x64() -> Any:
    """Double precision for the emulators' algebra, for this block only (the engine stays
    in float32)."""
    import jax

    return jax.enable_x64(True)


def _gp_arrays(em: Emulator) -> dict[str, np.ndarray | float]:
    """The fitted GP's pieces: training inputs, length scales, amplitude, the weights
    ``K^-1 y`` and ``K^-1`` (normalised units), and the output's normalisation."""
    from scipy.linalg import cho_solve

    gp = em.gp
    k = gp.kernel_
    amp = float(k.k1.k1.constant_value)
    ls = np.atleast_1d(np.asarray(k.k1.k2.length_scale, dtype=float))
    kinv = cho_solve((gp.L_, True), np.eye(len(gp.X_train_)))
    return {"x": np.asarray(gp.X_train_, float), "ls": ls, "amp": amp,
            "alpha": np.asarray(gp.alpha_, float).ravel(), "kinv": kinv,
            "y_mean": float(np.ravel(gp._y_train_mean)[0]),
            "y_std": float(np.ravel(gp._y_train_std)[0])}


def _jax_emulator(em: Emulator, cols: Sequence[int]) -> Callable[[Any], tuple[Any, Any]]:
    """``u -> (E, V_em)`` of an emulator in JAX; ``cols`` are its active inputs' positions
    in the sampled vector."""
    import jax.numpy as jnp

    if em.gp is None:
        return lambda u: (jnp.asarray(em.mean), jnp.asarray(em.var_const))
    a = _gp_arrays(em)  # float64 numpy: traced as float64 constants inside _x64()
    x, ls, kinv, alpha = (a[k] for k in ("x", "ls", "kinv", "alpha"))
    idx = np.asarray(list(cols), dtype=int)

    def f(u):
        d = (u[idx][None, :] - x) / ls
        kstar = a["amp"] * jnp.exp(-0.5 * jnp.sum(d * d, axis=1))
        mean = a["y_mean"] + a["y_std"] * (kstar @ alpha)
        var = jnp.maximum(a["amp"] - kstar @ kinv @ kstar, 0.0) * a["y_std"] ** 2
        return mean, var + em.var_inactive

    return f


def _study_correlation(cov: np.ndarray | None, rows: Sequence[int]) -> np.ndarray:
    """The replicate correlation of outputs ``rows`` (identity where unknown), made
    positive definite (eigenvalues floored at 1e-6)."""
    k = len(rows)
    if cov is None or k == 1:
        return np.eye(k)
    c = cov[np.ix_(rows, rows)]
    sd = np.sqrt(np.clip(np.diag(c), 1e-300, None))
    r = np.nan_to_num(c / np.outer(sd, sd), nan=0.0)
    r = np.clip(r, -1.0, 1.0)
    np.fill_diagonal(r, 1.0)
    w, v = np.linalg.eigh(r)
    r = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(r))
    return r / np.outer(d, d)


def calibrated_columns(hm: HistoryMatch) -> tuple[int, ...]:
    """Inputs active in a validated last-wave emulator (the inputs the fit informs)."""
    return tuple(sorted({j for e in hm.waves[-1].emulators if e.valid for j in e.active}))


def log_density(hm: HistoryMatch, columns: Sequence[int] | None = None
                ) -> tuple[Callable[[Any], Any], tuple[int, ...]]:
    """The log posterior density (up to a constant) of ``x = logit(u)`` over ``columns``
    (default :func:`calibrated_columns`): prior in ``x`` times the joint emulator
    likelihood (see the module docstring). Returns the JAX function (evaluate it inside
    :func:`x64`: its constants are float64) and the columns."""
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    columns = tuple(columns) if columns is not None else calibrated_columns(hm)
    pos = {c: i for i, c in enumerate(columns)}
    ems = hm.waves[-1].emulators
    groups: dict[str, list[int]] = {}
    ranges: list[int] = []
    for j, (em, obs) in enumerate(zip(ems, hm.observations, strict=True)):
        if not em.valid or not math.isfinite(em.mean):
            continue
        if any(a not in pos for a in em.active):
            raise ValueError(f"{em.output}: an active input is not among the sampled columns")
        if obs.interval is not None:
            ranges.append(j)
        else:
            groups.setdefault(obs.study or obs.id, []).append(j)
    emus = {j: _jax_emulator(ems[j], [pos[a] for a in ems[j].active])
            for rows in (*groups.values(), ranges) for j in rows}
    blocks = []
    for rows in groups.values():
        z, noise, md = [], [], []
        for j in rows:
            zj, vobs = hm.observations[j].on_link()
            z.append(zj)
            noise.append(max(ems[j].run_to_run, vobs))
            md.append(ems[j].var_md)
        d = np.sqrt(np.asarray(noise))
        fixed = np.outer(d, d) * _study_correlation(hm.replicate_cov, rows) + np.diag(md)
        blocks.append((rows, np.asarray(z), fixed))
    bounds = {j: hm.observations[j].range_on_link() for j in ranges}

    def logp(x):
        u = 1.0 / (1.0 + jnp.exp(-x))
        total = jnp.sum(jnp.log(u) + jnp.log1p(-u))
        for rows, z, fixed in blocks:
            pred = [emus[j](u) for j in rows]
            m = jnp.stack([p[0] for p in pred])
            cov = fixed + jnp.diag(jnp.stack([p[1] for p in pred]))
            chol = jnp.linalg.cholesky(cov)
            r = solve_triangular(chol, z - m, lower=True)
            total = total - 0.5 * jnp.sum(r * r) - jnp.sum(jnp.log(jnp.diag(chol)))
        for j in ranges:
            m, v = emus[j](u)
            lo, hi = bounds[j]
            dist = jnp.maximum(jnp.maximum(lo - m, m - hi), 0.0)
            total = total - 0.5 * dist**2 / (v + ems[j].run_to_run + ems[j].var_md)
        return total

    return logp, columns


def _initial_points(hm: HistoryMatch, columns: Sequence[int], chains: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Chain starts: distinct points of the importance sample inside NROY drawn by weight
    (over-dispersed relative to the posterior, as R-hat assumes), in logit coordinates."""
    u, w = hm.posterior_u, hm.posterior_weights
    if u is None:
        pick = rng.random((chains, len(columns)))
    else:
        n = min(chains, int(np.sum(w > 0)))
        rows = rng.choice(len(w), size=n, replace=False, p=w / w.sum())
        pick = u[np.resize(rows, chains)][:, list(columns)]
    pick = np.clip(pick, 1e-6, 1 - 1e-6)
    return np.log(pick) - np.log1p(-pick)


def sample_posterior(hm: HistoryMatch, *, chains: int = 4, warmup: int = 1000,
                     draws: int = 1000, seed: int = 1,
                     columns: Sequence[int] | None = None) -> MCMCResult:
    """NUTS on :func:`log_density`; R-hat and bulk ESS per calibrated input (arviz)."""
    t0 = time.perf_counter()
    logp, cols = log_density(hm, columns)
    names = tuple(hm.prior.names[c] for c in cols)
    if not cols:
        return MCMCResult(names, cols, np.zeros((chains, draws, 0)), {}, {}, 0,
                          time.perf_counter() - t0, {"note": "no calibrated input"})
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(31,)))
    x, div = sample_nuts(logp, _initial_points(hm, cols, chains, rng), warmup=warmup,
                         draws=draws, seed=seed)
    rhat, ess = arviz_diagnostics(x, names)
    return MCMCResult(names, cols, 1.0 / (1.0 + np.exp(-x)), rhat, ess, div,
                      time.perf_counter() - t0,
                      {"warmup": int(warmup), "seed": int(seed),
                       "coordinates": "logit of the prior's unit cube"})


def sample_smc(hm: HistoryMatch, *, runs: int = 4, particles: int = 1000, steps: int = 30,
               seed: int = 1, target_ess: float = 0.5,
               columns: Sequence[int] | None = None) -> MCMCResult:
    """Adaptive tempered sequential Monte Carlo (blackjax; Del Moral, Doucet & Jasra 2006)
    on :func:`log_density`: ``particles`` drawn from the prior (uniform on the cube, i.e.
    logistic in ``x``) are moved through tempered posteriors prior x likelihood^t, each
    next t chosen so that the reweighted particles keep ``target_ess`` of their number
    (Jasra et al. 2011), then resampled (systematic) and mutated by ``steps`` random-walk
    Metropolis moves with proposal covariance (2.38^2 / d) x the particles' covariance
    (Roberts & Rosenthal 2001), until t = 1, and once more at t = 1 so that the returned
    particles are equally weighted. Unlike NUTS chains, the particles cross
    between separated modes in proportion to their mass (the emulator posterior of the
    use-level parameters is bimodal). ``runs`` independent runs are compared like chains:
    rank-normalised R-hat and bulk ESS across them (arviz)."""
    import blackjax
    import jax
    import jax.numpy as jnp
    from blackjax.mcmc.random_walk import normal
    from blackjax.smc import extend_params, resampling
    from blackjax.smc.tuning.from_particles import particles_covariance_matrix

    t0 = time.perf_counter()
    logp, cols = log_density(hm, columns)
    names = tuple(hm.prior.names[c] for c in cols)
    d = len(cols)
    if not cols:
        return MCMCResult(names, cols, np.zeros((runs, particles, 0)), {}, {}, 0,
                          time.perf_counter() - t0, {"note": "no calibrated input"})

    def logprior(x):
        return jnp.sum(jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x))

    def loglik(x):
        return logp(x) - logprior(x)

    def step_fn(key, state, logdensity, cov):
        return blackjax.additive_step_random_walk(logdensity, normal(cov)).step(key, state)

    def init_fn(position, logdensity):
        return blackjax.additive_step_random_walk.init(position, logdensity)

    def tune(key, state, info):
        cov = particles_covariance_matrix(state.particles) * (2.38**2 / d)
        return extend_params({"cov": cov + 1e-9 * jnp.eye(d)})

    out, stages = [], []
    with x64():
        kernel = blackjax.inner_kernel_tuning(
            smc_algorithm=blackjax.adaptive_tempered_smc, logprior_fn=logprior,
            loglikelihood_fn=loglik, mcmc_step_fn=step_fn, mcmc_init_fn=init_fn,
            resampling_fn=resampling.systematic, mcmc_parameter_update_fn=tune,
            initial_parameter_value=extend_params({"cov": 0.1 * jnp.eye(d)}),
            target_ess=target_ess, num_mcmc_steps=int(steps))
        step = jax.jit(kernel.step)
        for r in range(runs):
            key = jax.random.PRNGKey(int(seed) * 1000 + r)
            key, k0 = jax.random.split(key)
            u0 = jax.random.uniform(k0, (int(particles), d), minval=1e-9, maxval=1 - 1e-9)
            state = kernel.init(jnp.log(u0) - jnp.log1p(-u0))
            n = 0
            while float(state.sampler_state.tempering_param) < 1.0:
                key, k = jax.random.split(key)
                state, _ = step(k, state)
                n += 1
            # the last stage's particles carry its importance weights: one more step at
            # t = 1 resamples them by weight and mutates them, leaving equal weights
            state, _ = step(jax.random.split(key)[1], state)
            out.append(np.asarray(state.sampler_state.particles, dtype=float))
            stages.append(n)
    x = np.stack(out)
    rhat, ess = arviz_diagnostics(x, names)
    return MCMCResult(names, cols, 1.0 / (1.0 + np.exp(-x)), rhat, ess, 0,
                      time.perf_counter() - t0,
                      {"sampler": "adaptive tempered SMC (blackjax)", "seed": int(seed),
                       "particles": int(particles), "mutation_steps": int(steps),
                       "target_ess": float(target_ess), "tempering_stages": stages,
                       "coordinates": "logit of the prior's unit cube",
                       "chains_are": "independent SMC runs"})


def thin(result: MCMCResult, n: int) -> np.ndarray:
    """``n`` draws spread evenly over the pooled chains (unit cube, n x calibrated)."""
    flat = result.flat()
    if n > len(flat):
        raise ValueError(f"asked for {n} posterior draws, the chains hold {len(flat)}")
    return flat[np.linspace(0, len(flat) - 1, n).round().astype(int)]


def posterior_runs(simulator: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   hm: HistoryMatch, result: MCMCResult, *, n: int = 200,
                   defaults: np.ndarray | None = None, first_run: int = 10**6
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The real simulator at ``n`` posterior draws: calibrated inputs from the chains,
    every other input held at ``defaults`` (prior scale; default: the prior median), run
    ids from ``first_run`` (fresh seeds). Returns the prior-scale inputs and the outputs,
    one row per draw; the caller keeps them (the store, the posterior file)."""
    u_cal = thin(result, n)
    u = np.full((n, hm.prior.dim), 0.5)
    u[:, list(result.columns)] = u_cal
    values = hm.prior.ppf(u)
    if defaults is not None:
        rest = [j for j in range(hm.prior.dim) if j not in set(result.columns)]
        values[:, rest] = np.asarray(defaults, dtype=float)[rest]
    y = np.asarray(simulator(values, np.arange(first_run, first_run + n)), dtype=float)
    return values, y.reshape(n, -1)


def observation_table(observations: Sequence[Observation]) -> list[dict[str, Any]]:
    """What each observation is, for the report (link, discrepancy and its reason)."""
    out = []
    for o in observations:
        z, v = o.on_link()
        out.append({"id": o.id, "value": o.value, "sd": math.sqrt(o.var_obs),
                    "link": o.link, "study": o.study or None,
                    "interval": list(o.interval) if o.interval is not None else None,
                    "discrepancy_sd_link": None if o.var_md is None else
                    round(math.sqrt(o.var_md), 6),
                    "discrepancy": o.discrepancy or "undeclared: fraction of wave-1 spread",
                    "value_link": round(z, 6), "sd_link": round(math.sqrt(v), 6)})
    return out
