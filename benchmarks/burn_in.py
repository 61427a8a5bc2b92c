"""What the default burn-in costs, and what running it once per unique dyad saves.

Prints one JSON line per population with, for ``simulate()`` of ``--dyads`` dyads over
``--horizon``, the median wall and process CPU time without a burn-in (``burn_in_days=0``)
and with the default one (cache cleared before every timed call), and for a batch of
``--worlds`` worlds on the same dyads and parameters (as a mediation analysis runs them) the
time with the per-row deduplication against ``--worlds`` separate runs (cache cleared before
each). Medians of ``--repeats`` runs after an untimed warm-up (compilation).

    .venv/bin/python benchmarks/burn_in.py --dyads 1000 --horizon 8w
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import dyadsim
from dyadsim.engine import burn_in
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.model.populations import BURN_IN_DAYS, get_population


def _timed(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up: compilation or the persistent cache
    wall, cpu = [], []
    for _ in range(repeats):
        burn_in.clear_cache()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return round(statistics.median(wall), 3), round(statistics.median(cpu), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dyads", type=int, default=1000)
    ap.add_argument("--horizon", default="8w")
    ap.add_argument("--worlds", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--populations", default="adult_chronic_pain_ltot,pregnant_oud_moud")
    a = ap.parse_args()
    for name in a.populations.split(","):
        kw = dict(population=name, horizon=a.horizon, dyads=a.dyads, seed=1, record="none")
        off = _timed(lambda kw=kw: dyadsim.simulate(**kw, burn_in_days=0), a.repeats)
        on = _timed(lambda kw=kw: dyadsim.simulate(**kw), a.repeats)
        setting = Setting.from_population(get_population(name), horizon=a.horizon)
        worlds = [{}] * a.worlds

        def separate(setting=setting) -> None:
            for _ in range(a.worlds):
                burn_in.clear_cache()
                simulate_batch(setting, [{}], dyads=a.dyads, seed=1)

        batched = _timed(lambda setting=setting, worlds=worlds: simulate_batch(
            setting, worlds, dyads=a.dyads, seed=1), a.repeats)
        apart = _timed(separate, a.repeats)
        print(json.dumps({
            "population": name, "dyads": a.dyads, "horizon": a.horizon,
            "burn_in_days": BURN_IN_DAYS,
            "no_burn_in_s": off[0], "no_burn_in_cpu_s": off[1],
            "burn_in_s": on[0], "burn_in_cpu_s": on[1],
            "burn_in_cost_ratio": round(on[0] / off[0], 2),
            "worlds": a.worlds, "worlds_deduplicated_s": batched[0],
            "worlds_separate_s": apart[0],
            "deduplication_speedup": round(apart[0] / batched[0], 2),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor()
                        or platform.machine(), "python": platform.python_version()},
        }), flush=True)


if __name__ == "__main__":
    main()
