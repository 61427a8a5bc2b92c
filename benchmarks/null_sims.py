"""Type-I error and 95% CI coverage of every primary trial analysis, on the production path.

Each trial is a synthetic two-arm data set with NO treatment effect, analysed by the
method's own registry entry (:mod:`dyadsim.trials.null_trials` describes the data): the
same code, imputation, pooling and degrees of freedom a trial runs; the tipping-point
sensitivity analyses are skipped, as in replicate runs. Cells: n per arm x share of dyads
with follow-up missing x mechanism (MCAR, or MAR on the baselines). Printed per cell:
trials, type-I error (p < 0.05) and 95% CI coverage of the true value (0, or 1 for a
ratio), each with its Monte Carlo SE sqrt(p (1 - p) / trials) (Morris, White & Crowther
2019), the share of trials whose analysis failed (counted as non-rejections) and seconds.

Usage: ``python benchmarks/null_sims.py [--trials 2000] [--methods ancova,lmm]
[--cells 10:0.4:MAR,20:0.4:MAR] [--seed 1] [--imputations 20] [--out table.md]``.
Without ``--cells`` every cell (n 10, 20, 50, 150; missing 0, 0.2, 0.4; MCAR, MAR) is run:
hours of CPU for the mixed models, so a shared machine runs a reduced set (``--cells``).
"""

from __future__ import annotations

import argparse
import sys
from itertools import product

from dyadsim.trials.null_trials import ALL_METHODS, MECHANISMS, run_cell

NS = (10, 20, 50, 150)
MISSING = (0.0, 0.2, 0.4)


def _cells(text: str | None) -> list[tuple[int, float, str]]:
    if not text:
        return list(product(NS, MISSING, MECHANISMS))
    out = []
    for c in text.split(","):
        n, share, mech = c.split(":")
        if mech not in MECHANISMS:
            raise SystemExit(f"error: mechanism must be MCAR or MAR, got {mech!r}")
        out.append((int(n), float(share), mech))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=2000)
    p.add_argument("--methods", default=",".join(ALL_METHODS))
    p.add_argument("--cells", default=None, help="n:missing:mechanism,... (default: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--imputations", type=int, default=20)
    p.add_argument("--out", default=None, help="append the table rows (markdown) here")
    args = p.parse_args(argv)
    methods = args.methods.split(",")
    bad = [m for m in methods if m not in ALL_METHODS]
    if bad:
        print(f"error: unknown method(s) {bad}; choose from {', '.join(ALL_METHODS)}",
              file=sys.stderr)
        return 2
    header = ("| method | n/arm | missing | mechanism | trials | type I (MC SE) | "
              "coverage (MC SE) | failed | s |")
    print(header)
    print("|" + "---|" * 9)
    for method in methods:
        for n, share, mech in _cells(args.cells):
            if share == 0 and mech == "MAR":
                continue  # nothing missing: the MCAR cell is the same trial
            r = run_cell(method, n, share, mech, args.trials, args.seed, args.imputations)
            line = (f"| {method} | {n} | {share:.0%} | {mech if share else '-'} | "
                    f"{r['trials']} | {r['type_i']:.4f} ({r['type_i_mcse']:.4f}) | "
                    f"{r['coverage']:.4f} ({r['coverage_mcse']:.4f}) | {r['failed']:.3f} | "
                    f"{r['seconds']:.0f} |")
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
