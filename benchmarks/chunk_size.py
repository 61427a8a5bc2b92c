"""Chunk size against time per dyad-day: the same ``dyadsim.simulate`` run with every chunk
size in turn (alternating, in one process, so load hits all sizes alike), one engine thread
unless ``--threads``. Prints one JSON line per size with the median time and its cost per
dyad-day relative to the smallest size: the figures behind ``engine._engine.CHUNK_COST``.

    python benchmarks/chunk_size.py [--sizes 512,1024,2048,4096] [--dyads 8192] [--days 400]
        [--threads 1] [--repeats 5]

Pin it to one core for the one-thread figures (``taskset -c 1``). Results are checked equal
across sizes bit for bit (a chunk size changes speed, never results).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

import dyadsim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="512,1024,2048,4096")
    ap.add_argument("--dyads", type=int, default=8192)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.days < 156:
        ap.error("--days must be >= 156 (the run starts at gestational week 20)")
    # gw20 start: 42 * 7 - 140 = 154 days of pregnancy window, then the horizon, plus 1
    kw = dict(dyads=a.dyads, seed=0, horizon=f"{a.days - 155}d", record="none",
              burn_in_days=0, threads=a.threads)
    reference = None
    for size in sizes:  # warm-up: compile every size, check the results are identical
        ds = dyadsim.simulate(**kw, chunk_size=size)
        values = {v: ds[v].values for v in ds.data_vars}
        if reference is None:
            reference = values
        elif any(not np.array_equal(values[v], reference[v],
                                    equal_nan=values[v].dtype.kind == "f") for v in values):
            raise SystemExit(f"chunk size {size} changed the results")
    times: dict[int, list[float]] = {s: [] for s in sizes}
    for _ in range(a.repeats):
        for size in sizes:
            t0 = time.perf_counter()
            dyadsim.simulate(**kw, chunk_size=size)
            times[size].append(time.perf_counter() - t0)
    base = statistics.median(times[sizes[0]])
    for size in sizes:
        med = statistics.median(times[size])
        print(json.dumps({
            "chunk": size, "dyads": a.dyads, "days": a.days, "threads": a.threads,
            "engine_s": round(med, 4), "engine_s_all": [round(t, 4) for t in times[size]],
            "ns_per_dyad_day": round(1e9 * med / (a.dyads * a.days), 1),
            "relative_cost": round(med / base, 3),
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "loadavg_1m": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
