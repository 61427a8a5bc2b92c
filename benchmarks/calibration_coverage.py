"""Calibration checked on the real problem (issue 19 item 7): coverage of the posterior's
90% intervals at known parameter vectors, at the real dimension (every declared parameter
in the design, every published target).

Method. The first wave of a real calibration is rebuilt from its stored runs (its
space-filling design plus replicate runs; no new simulation when the store and the code
match): one validated emulator per target on the graph's active sets, as
``dyadsim calibrate`` fits them. Then, for each of ``--truths`` parameter vectors (the
calibrated inputs drawn from the prior, every other parameter at its default, as the
posterior assumes), every study is simulated once at the truth (run ids from 3,000,000:
fresh seeds), its outputs replace the published values as the observations (same
observation variances, same discrepancies), and the posterior is sampled by the
calibration's sampler (adaptive tempered SMC, 4 runs of ``--draws`` particles) on the
first-wave emulators. Printed: per truth and overall, the share of calibrated inputs whose
90% central posterior interval covers the truth (goal 80-97%), the truth's rank among the
posterior draws (uniform if calibrated: a chi-squared test over 10 bins), R-hat and ESS.

Not the whole method: later waves (their NROY designs depend on the observations) are not
redone per truth, so the emulators are the first wave's only (wider where later waves
would have refined them). Uses the store of a calibration run with the same seed and first
wave size, e.g. the refit's:

    python benchmarks/calibration_coverage.py --store refit.store/replications.jsonl \\
        --first-wave 112 --replicates 6x4 --truths 10 [--draws 500] [--workers 2] \\
        [--out coverage.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--first-wave", type=int, default=112)
    ap.add_argument("--replicates", default="6x4")
    ap.add_argument("--truths", type=int, default=10)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1,
                    help="the calibration's seed (its first wave is rebuilt with it); the "
                         "truths are drawn from it too")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    from dyadsim.calibration import load_targets
    from dyadsim.calibration.active import active_sets
    from dyadsim.calibration.fit import (
        _defined,
        _history_match,
        _Simulator,
        observations_of,
        prior_space,
    )
    from dyadsim.calibration.history_matching import Settings
    from dyadsim.calibration.mcmc import calibrated_columns, sample_smc
    from dyadsim.calibration.replicate import ReplicationStore, studies_of
    from dyadsim.model.params import PARAMS
    from dyadsim.parallel import executor

    points, _, seeds = args.replicates.partition("x")
    targets = load_targets(None)
    studies, outputs = studies_of(targets), observations_of(targets)
    prior = prior_space()
    store = ReplicationStore(args.store)
    settings = Settings(runs=(args.first_wave,), replicate_points=int(points),
                        replicate_seeds=int(seeds), pmc_rounds=0)
    t0 = time.perf_counter()
    with executor(None, args.workers, 2) as pool:
        sim = _Simulator(studies, outputs, prior.names, args.seed, store, pool, None)
        call = _defined(sim)
        hm = _history_match(call, outputs, prior, active_sets(targets, prior.names),
                            settings, args.seed, None)
        rebuilt = sim.calls
        cols = list(calibrated_columns(hm))
        rng = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(77,)))
        u_truth = rng.random((args.truths, len(cols)))
        u = np.full((args.truths, prior.dim), 0.5)
        u[:, cols] = u_truth
        values = prior.ppf(u)
        rest = [j for j in range(prior.dim) if j not in set(cols)]
        values[:, rest] = np.array([PARAMS[k].default for k in prior.names])[rest]
        y = call(values, np.arange(3 * 10**6, 3 * 10**6 + args.truths))
    t1 = time.perf_counter()
    print(f"first wave rebuilt with {rebuilt} new replications; {len(cols)} calibrated "
          f"inputs; {sum(e.valid for e in hm.waves[-1].emulators)} of {len(outputs)} "
          f"emulators valid; truths simulated in {t1 - t0:.0f} s")
    rows, all_cover, all_rank = [], [], []
    for k in range(args.truths):
        obs = tuple(dataclasses.replace(o, value=float(y[k, j]))
                    if np.isfinite(y[k, j]) else o for j, o in enumerate(hm.observations))
        keep = [bool(np.isfinite(y[k, j])) for j in range(len(obs))]
        hk = dataclasses.replace(hm, observations=obs).restricted(keep)
        res = sample_smc(hk, runs=4, particles=args.draws, seed=args.seed + k,
                         columns=tuple(cols))
        flat = res.flat()
        lo, hi = np.percentile(flat, [5, 95], axis=0)
        cover = (lo <= u_truth[k]) & (u_truth[k] <= hi)
        rank = (flat < u_truth[k]).mean(axis=0)
        all_cover.extend(cover.tolist())
        all_rank.extend(rank.tolist())
        s = res.summary()
        rows.append({"truth": k, "coverage_90": float(cover.mean()),
                     "max_rhat": s["max_rhat"], "min_ess_bulk": s["min_ess_bulk"],
                     "divergences": s["divergences"], "seconds": s["seconds"],
                     "uncovered": [prior.names[c] for c, ok in zip(cols, cover, strict=True)
                                   if not ok]})
        print(f"truth {k}: 90% intervals cover {cover.mean():.3f} of {len(cols)} inputs; "
              f"R-hat {s['max_rhat']}, ESS {s['min_ess_bulk']}, {s['seconds']} s")
    from scipy import stats

    counts = np.histogram(all_rank, bins=10, range=(0, 1))[0]
    chi2 = stats.chisquare(counts)
    cover = float(np.mean(all_cover))
    print(f"overall: 90% intervals cover the truth in {cover:.3f} of "
          f"{len(all_cover)} (input, truth) pairs (goal 0.80-0.97); rank histogram "
          f"{counts.tolist()}, chi-squared p = {chi2.pvalue:.3g}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"coverage_90": cover, "pairs": len(all_cover),
                       "rank_histogram": counts.tolist(), "chi2_p": float(chi2.pvalue),
                       "calibrated": [prior.names[c] for c in cols],
                       "rebuilt_replications": rebuilt, "truths": rows,
                       "settings": vars(args)}, fh, indent=1)


if __name__ == "__main__":
    main()
