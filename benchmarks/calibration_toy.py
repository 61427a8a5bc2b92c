"""The MCMC calibration on a linear-Gaussian toy whose posterior is analytic (issue 19):
prints the posterior means, SDs and correlation beside the analytic ones (under the noise
covariance the likelihood uses and under the true one), R-hat and bulk ESS (arviz), and the
time of each stage. The same toy as tests/calibration/test_mcmc.py.

    python benchmarks/calibration_toy.py [--draws 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from dyadsim.calibration.history_matching import Observation, PriorSpace, Settings, history_match
from dyadsim.calibration.mcmc import sample_posterior

A = np.array([[1.0, 0.5, 0.0], [0.3, -1.0, 0.0]])
CHOL = np.array([[0.03, 0.0], [0.015, 0.026]])


def sim(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    return np.array([A @ v + CHOL @ np.random.default_rng([7, int(i)]).standard_normal(2)
                     for v, i in zip(values, ids, strict=True)])


def analytic(sigma: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a2 = A[:, :2]
    return np.linalg.solve(a2, z), np.linalg.inv(a2.T @ np.linalg.inv(sigma) @ a2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    s = CHOL @ CHOL.T
    z = A @ np.array([0.4, 0.55, 0.5]) + CHOL @ np.random.default_rng(99).standard_normal(2)
    obs = [Observation(f"y{j}", float(z[j]), float(s[j, j]), var_md=1e-8, study="one")
           for j in range(2)]
    t0 = time.perf_counter()
    hm = history_match(sim, obs, PriorSpace(("a", "b", "c"), lambda u: u),
                       settings=Settings(runs=(40, 24), candidates=2048,
                                         posterior_candidates=4096, gp_restarts=0,
                                         replicate_points=6, replicate_seeds=6),
                       seed=3, candidates=[[0, 1], [0, 1]])
    t1 = time.perf_counter()
    res = sample_posterior(hm, chains=4, warmup=args.draws, draws=args.draws, seed=args.seed)
    t2 = time.perf_counter()
    x = res.flat()
    ems = hm.waves[-1].emulators
    d = np.sqrt([e.run_to_run for e in ems])
    c = hm.replicate_cov[0, 1] / np.sqrt(hm.replicate_cov[0, 0] * hm.replicate_cov[1, 1])
    used = np.outer(d, d) * np.array([[1, c], [c, 1]])
    print(f"history match {t1 - t0:.1f} s ({hm.runs} runs, {hm.replicate_runs} replicate); "
          f"NUTS {t2 - t1:.1f} s (4 chains x {args.draws} warm-up + {args.draws} draws)")
    print("emulator validation:", [e.validation for e in ems])
    print(f"R-hat {res.rhat}  bulk ESS {res.ess_bulk}  divergences {res.divergences}")
    print(f"MCMC      mean {x.mean(0).round(4)} sd {x.std(0).round(4)} "
          f"corr {np.corrcoef(x.T)[0, 1]:.3f}")
    for label, sigma in (("analytic (likelihood's covariance)", used),
                         ("analytic (true covariance)", s)):
        m, cov = analytic(sigma, z)
        sd = np.sqrt(np.diag(cov))
        print(f"{label}: mean {m.round(4)} sd {sd.round(4)} corr {cov[0, 1] / sd.prod():.3f}")


if __name__ == "__main__":
    main()
