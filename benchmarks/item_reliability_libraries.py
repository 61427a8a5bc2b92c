"""Which maintained library computes the item scales' alpha and omega (issue 20 item 4)?

Measures, on data with a known answer, the candidates the issue names: pingouin
(``cronbach_alpha``; it has no omega), factor_analyzer (one-factor ML loadings -> omega)
and semopy (a one-factor CFA -> omega), for accuracy (mean absolute error over replicates)
and time per call::

    .venv/bin/python benchmarks/item_reliability_libraries.py [--reps 20]

Known answers: (1) graded-response items (dyadsim's PSS-10 and FFMQ designs, theta ~ N(0,
1)): the population alpha by quadrature (:func:`population_moments`); (2) a linear
one-factor model with normal errors, loadings ``l`` and unique variances ``u``: omega =
(sum l)^2 / ((sum l)^2 + sum u) and alpha from the implied covariance. The result is
written down in docs/analysis.md ("Item-level instruments").
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def _alpha_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def omega_factor_analyzer(x: np.ndarray) -> float:
    from factor_analyzer import FactorAnalyzer

    fa = FactorAnalyzer(n_factors=1, rotation=None, method="ml")
    fa.fit(x)
    sd = x.std(axis=0, ddof=1)
    lam = np.abs(fa.loadings_[:, 0]) * sd
    psi = fa.get_uniquenesses() * sd**2
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()))


def omega_semopy(x: np.ndarray) -> float:
    import semopy

    cols = [f"i{j}" for j in range(x.shape[1])]
    df = pd.DataFrame(x, columns=cols)
    model = semopy.Model("f =~ " + " + ".join(cols))
    model.fit(df)
    est = model.inspect()
    lam = est[(est["op"] == "~") & (est["rval"] == "f")]["Estimate"].to_numpy()
    lam = np.concatenate([[1.0], lam]) if lam.size == len(cols) - 1 else lam
    var_f = est[(est["op"] == "~~") & (est["lval"] == "f")]["Estimate"].to_numpy()[0]
    psi = est[(est["op"] == "~~") & (est["lval"].isin(cols))
              & (est["lval"] == est["rval"])]["Estimate"].to_numpy()
    load = np.abs(lam) * np.sqrt(var_f)
    return float(load.sum() ** 2 / (load.sum() ** 2 + psi.sum()))


def alpha_pingouin(x: np.ndarray) -> float:
    import pingouin

    return float(pingouin.cronbach_alpha(data=pd.DataFrame(x))[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    from dyadsim.trials.instruments import INSTRUMENTS
    from dyadsim.trials.instruments.items import population_moments

    rng = np.random.default_rng(20)
    cases = []
    for name in ("pss10", "ffmq"):
        inst = INSTRUMENTS[name]
        truth = population_moments(inst.design, inst.items)
        cases.append((f"GRM {name} ({inst.design.items} items)", truth["alpha"], None,
                      lambda n, inst=inst: inst.items.draw(rng.standard_normal(n), rng)))
    lam = np.linspace(0.4, 0.9, 8)
    u = 1 - lam**2 + 0.2
    cov = np.outer(lam, lam) + np.diag(u)
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + u.sum())
    cases.append(("linear one-factor (8 items)", _alpha_cov(cov), omega,
                  lambda n: rng.standard_normal((n, 1)) * lam + rng.standard_normal((n, 8))
                  * np.sqrt(u)))
    funcs = {"alpha: pingouin.cronbach_alpha": (alpha_pingouin, "alpha"),
             "omega: factor_analyzer ML": (omega_factor_analyzer, "omega"),
             "omega: semopy CFA": (omega_semopy, "omega")}
    print(f"n = {args.n}, {args.reps} replicates per case; mean abs error vs the known "
          "value (GRM omega: vs the population alpha, which omega should not undercut), "
          "seconds per call")
    for label, alpha_true, omega_true, draw in cases:
        data = [draw(args.n) for _ in range(args.reps)]
        for fname, (f, what) in funcs.items():
            truth = alpha_true if what == "alpha" or omega_true is None else omega_true
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = np.array([f(x) for x in data])
            except Exception as exc:  # a library that does not run here is a result too
                print(f"{label:32s} {fname:32s} FAILS: {type(exc).__name__}: {exc}")
                continue
            secs = (time.perf_counter() - t0) / args.reps
            print(f"{label:32s} {fname:32s} truth {truth:.4f} mean {got.mean():.4f} "
                  f"MAE {np.abs(got - truth).mean():.4f}  {secs * 1000:.1f} ms")


if __name__ == "__main__":
    main()
