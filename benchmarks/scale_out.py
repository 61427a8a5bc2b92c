"""2-worker efficiency of the scale-out: the same knock-out ranking run serially in one
process and on a Dask LocalCluster of 2 single-threaded worker processes (both warm: the
first run on each compiles and is not timed; then ``--repeats`` timed runs each). Prints one
JSON line with serial_s, dask_s (medians; every run in serial_s_all, dask_s_all), speedup and
efficiency = serial_s / (workers x dask_s), and whether the tables are equal.

    python benchmarks/scale_out.py --edges 64 --dyads 200 --horizon 6m

Both sides run one chunk at a time on one core (``DYADSIM_THREADS=1``, set here before
dyadsim is imported, which is also what a worker process does by default), and both start
every timed run with an empty burn-in cache (otherwise the serial rerun would find all its
burn-ins cached while a worker finds only those of the tasks it happened to run before).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ["DYADSIM_THREADS"] = "1"

from dask.distributed import Client, LocalCluster  # noqa: E402

from dyadsim.analysis.knockout import plan_knockouts, run_knockouts  # noqa: E402
from dyadsim.engine.batch import Setting  # noqa: E402
from dyadsim.engine.burn_in import clear_cache  # noqa: E402
from dyadsim.model.graph import EDGES  # noqa: E402
from dyadsim.parallel import executor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=64)
    ap.add_argument("--dyads", type=int, default=200)
    ap.add_argument("--horizon", default="6m")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--block", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs on each side")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error("--repeats must be >= 1")
    setting = Setting.from_population("pregnant_oud_moud", start="gw20", horizon=a.horizon)
    kos = plan_knockouts([e.weight_name for e in EDGES[:a.edges]])
    outs = ["use_share", "parenting_mean"]

    def run(pool):
        t0 = time.perf_counter()
        table = run_knockouts(setting, kos, outs, dyads=a.dyads, seed=1, pool=pool,
                              block=a.block)
        return table, time.perf_counter() - t0

    run(None)
    serial_all = []
    for _ in range(a.repeats):
        clear_cache()
        serial, seconds = run(None)
        serial_all.append(seconds)
    dask_all = []
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, \
            Client(cluster) as client, executor(cluster.scheduler_address) as pool:
        run(pool)
        for _ in range(a.repeats):
            client.run(clear_cache)
            dask, seconds = run(pool)
            dask_all.append(seconds)
    serial_s, dask_s = statistics.median(serial_all), statistics.median(dask_all)
    print(json.dumps({"knockouts": len(kos), "dyads": a.dyads, "horizon": a.horizon,
                      "workers": a.workers, "serial_s": round(serial_s, 2),
                      "dask_s": round(dask_s, 2),
                      "serial_s_all": [round(t, 2) for t in serial_all],
                      "dask_s_all": [round(t, 2) for t in dask_all],
                      "block": a.block, "speedup": round(serial_s / dask_s, 2),
                      "efficiency": round(serial_s / (a.workers * dask_s), 2),
                      "identical": bool(serial.equals(dask))}))


if __name__ == "__main__":
    main()
