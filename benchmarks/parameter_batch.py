"""Parameter batch vs a Python loop over parameter sets (what calibration and sensitivity
analysis would otherwise do): P parameter sets x D dyads each, one JSON line.

    python benchmarks/parameter_batch.py --sets 32 --dyads 64 --horizon 6m

Both paths are warmed up (compiled) before timing; the batch is bit-identical to the loop
(tests/engine/test_batch.py)."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from dyadsim import simulate
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.model.params import PARAMS

EDGE = "craving->opioid_use"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=32)
    ap.add_argument("--dyads", type=int, default=64)
    ap.add_argument("--horizon", default="6m")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    lo, hi = PARAMS[EDGE].lo, PARAMS[EDGE].hi
    sets = [{EDGE: float(v)} for v in np.linspace(lo, hi, a.sets)]
    setting = Setting.from_population("pregnant_oud_moud", horizon=a.horizon)
    simulate_batch(setting, sets, dyads=a.dyads, seed=a.seed)  # compile
    simulate(dyads=a.dyads, seed=a.seed, horizon=a.horizon, record="none", params=sets[0])
    t0 = time.perf_counter()
    batch = simulate_batch(setting, sets, dyads=a.dyads, seed=a.seed)
    batch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = [simulate(dyads=a.dyads, seed=a.seed, horizon=a.horizon, record="none",
                     params=ps)["use_days"].values for ps in sets]
    loop_s = time.perf_counter() - t0
    same = all(np.array_equal(x, batch.outcomes["use_days"][i]) for i, x in enumerate(loop))
    print(json.dumps({"sets": a.sets, "dyads_per_set": a.dyads, "horizon": a.horizon,
                      "days": setting.total_days, "loop_s": round(loop_s, 2),
                      "batch_s": round(batch_s, 2), "speedup": round(loop_s / batch_s, 1),
                      "identical": same}))


if __name__ == "__main__":
    main()
