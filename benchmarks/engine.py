"""Engine throughput benchmark: dyad-days per second through the public ``dyadsim.simulate``,
compared with the cost of drawing the same random numbers and nothing else (the RNG floor).

    .venv/bin/python benchmarks/engine.py --dyads 1000,10000 [--horizon 24m | --days 885]
        [--repeats 3] [--population pregnant_oud_moud] [--record none] [--linearity]
        [--profile] [--rng-variants] [--burn-in-days 0] [--warmup chunk|full] [--cold-cache]

Prints one JSON line per ``--dyads`` setting (see benchmarks/README.md for the fields).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from functools import partial


def _parse_dyads(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        if not part:
            continue
        value = int(float(part))  # accepts 1e5
        if value < 1:
            raise argparse.ArgumentTypeError(f"dyads must be >= 1, got {value}")
        out.append(value)
    if not out:
        raise argparse.ArgumentTypeError("no dyad count given")
    return out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dyads", type=_parse_dyads, required=True,
                    help="dyad count, or a comma-separated list (one JSON line each)")
    span = ap.add_mutually_exclusive_group()
    span.add_argument("--days", type=int, default=None,
                      help="simulated days per dyad (the horizon is derived from it)")
    span.add_argument("--horizon", default=None,
                      help="horizon as simulate() takes it (default 24m after birth)")
    ap.add_argument("--start", default=None, help="start, e.g. gw20 (population default)")
    ap.add_argument("--population", default="pregnant_oud_moud")
    ap.add_argument("--record", default="none", choices=("none", "daily", "weekly", "monthly"))
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed repeats (median; 3 or more for timings)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--burn-in-days", type=int, default=0,
                    help="burn-in before enrolment (default 0: only the enrolled days the "
                         "throughput counts; benchmarks/burn_in.py times the burn-in)")
    ap.add_argument("--warmup", default="chunk", choices=("chunk", "full"),
                    help="warm-up call on one chunk of dyads (compiles the same program) or "
                         "on all the dyads")
    ap.add_argument("--linearity", action="store_true",
                    help="also time (N, 2D) and (2N, D) and report time ratios")
    ap.add_argument("--profile", action="store_true",
                    help="also time the engine with the RNG replaced by cheap pseudo-draws")
    ap.add_argument("--rng-variants", action="store_true",
                    help="also time the engine with the earlier random-number schemes "
                         "(side by side with the current one, same process)")
    ap.add_argument("--threads", type=int, default=None,
                    help="chunks run at once (simulate(threads=); default: DYADSIM_THREADS or "
                         "the CPU count); XLA's pool is PJRT_NPROC, set before the run")
    ap.add_argument("--no-floor", action="store_true", help="skip the RNG floor")
    ap.add_argument("--cold-cache", action="store_true",
                    help="use an empty persistent compilation cache (honest compile_s)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    if args.repeats < 3:
        print("warning: fewer than 3 timed runs: the figures are not medians (use this only "
              "for memory checks such as 10^6 dyads)", file=sys.stderr)
    if args.threads is not None and args.threads < 1:
        ap.error("--threads must be >= 1")
    if args.burn_in_days < 0:
        ap.error("--burn-in-days must be >= 0")
    if args.days is not None and args.days < 1:
        ap.error("--days must be >= 1")
    return args


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or ""


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(kb / 1024 / (1024 if sys.platform == "darwin" else 1), 1)


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.cold_cache:
        # Must be set before configure_jax() below (it enables the cache).
        os.environ["DYADSIM_JAX_CACHE"] = tempfile.mkdtemp(prefix="dyadsim-bench-jax-")
    from dyadsim.engine import configure_jax

    configure_jax()  # an entry point: JAX's settings before the first computation

    import jax
    import jax.numpy as jnp
    import numpy as np

    import dyadsim
    import dyadsim.simulation as simmod
    from dyadsim.engine import rng
    from dyadsim.engine._engine import chunks, pick_chunk, run_chunk
    from dyadsim.engine._threads import check_threads, map_in_order
    from dyadsim.model.populations import get_population
    from dyadsim.model.step import N_NORMAL, N_UNIFORM

    threads = check_threads(args.threads)
    pop = get_population(args.population)
    start_gd, start_pp = simmod.parse_start(args.start, pop.pregnancy, pop.default_start)

    def total_days(horizon_days: int) -> int:
        """Days simulate() runs for this horizon (mirrors simulate)."""
        if pop.pregnancy and start_gd >= 0:
            return 42 * 7 - start_gd + horizon_days + 1
        if pop.pregnancy:
            return horizon_days - start_pp + 1
        return horizon_days

    def horizon_for(days: int) -> int:
        """The horizon (days) for which simulate() runs ``days`` days."""
        if pop.pregnancy and start_gd >= 0:
            h = days - (42 * 7 - start_gd) - 1
        elif pop.pregnancy:
            h = days + start_pp - 1
        else:
            h = days
        if h < 1 or total_days(h) != days:
            raise SystemExit(f"--days {days} is too short for start "
                             f"{args.start or pop.default_start} of {args.population}")
        return h

    def shape(horizon_days: int) -> tuple[int, int, int]:
        """(simulated days, period, n_periods) exactly as simulate() chunks the time loop."""
        total = total_days(horizon_days)
        period = simmod.RECORD_PERIODS.get(args.record, total)
        n_periods = math.ceil(total / period)
        return n_periods * period, period, n_periods

    base_horizon = (horizon_for(args.days) if args.days is not None
                    else simmod.parse_horizon(args.horizon))

    # ---- the engine, through the public API -------------------------------------------
    def chunk_for(n: int, horizon_days: int) -> int:
        """The chunk size simulate() picks for ``n`` dyads (mirrors simulate)."""
        _, _, n_periods = shape(horizon_days)
        recorded = 0 if args.record == "none" else n_periods * (len(simmod.NODE_IDS) + 1) * 4
        return pick_chunk(n, threads, recorded)

    def run_engine(n: int, horizon_days: int, chunk_size: int | None = None) -> float:
        t0 = time.perf_counter()
        ds = dyadsim.simulate(dyads=n, seed=args.seed, population=args.population,
                              start=args.start, horizon=horizon_days, record=args.record,
                              burn_in_days=args.burn_in_days, threads=args.threads,
                              chunk_size=chunk_size)
        # simulate() already converts every chunk to numpy; touch the result anyway.
        np.asarray(ds["use_days"].values).sum()
        return time.perf_counter() - t0

    # ---- the RNG floor: same keys, same draws (rng.day_draws), same chunks ------------
    @partial(jax.jit, static_argnames=("n_periods", "period"))
    def rng_chunk(ids, seed, *, n_periods: int, period: int):
        keys = rng.dyad_keys(seed, ids)

        def one_day(day, acc):
            z, u = rng.day_draws(keys, day)
            return acc + z.sum(axis=1) + u.sum(axis=1)

        def one_period(acc, k):
            acc = jax.lax.fori_loop(k * period, (k + 1) * period, one_day, acc)
            return acc, None

        acc, _ = jax.lax.scan(one_period, jnp.zeros(ids.shape[0], jnp.float32),
                              jnp.arange(n_periods))
        return acc

    def run_floor(n: int, horizon_days: int, chunk_size: int | None = None) -> float:
        _, period, n_periods = shape(horizon_days)
        size = chunk_size or chunk_for(n, horizon_days)
        def one(ids):  # blocks, like simulate() does per chunk, on as many threads
            out = rng_chunk(jnp.asarray(ids), args.seed, n_periods=n_periods, period=period)
            return float(np.asarray(out).sum())

        t0 = time.perf_counter()
        sum(map_in_order(one, (ids for _first, ids in chunks(n, size)), threads))
        return time.perf_counter() - t0

    # ---- step only: the engine with the RNG replaced by cheap pseudo-draws -------------
    def cheap_draws(keys, day):
        """Stand-in draws without a generator: arithmetic only (no libm call; ``jnp.mod``
        was one, ``fmodf``), laid out column by dyad as ``rng.day_draws`` computes them."""
        c = keys.shape[0]
        t = (day + 1).astype(jnp.float32)
        dyad = jnp.arange(c, dtype=jnp.float32)[None, :]
        zc = jnp.arange(N_NORMAL, dtype=jnp.float32)[:, None]
        uc = jnp.arange(N_UNIFORM, dtype=jnp.float32)[:, None]

        def frac(x):
            return x - jnp.floor(x)

        z = (frac(0.7548776 * t + 0.5698403 * dyad + 0.618034 * zc) - 0.5) * 3.4
        u = frac(0.7548776 * t + 0.4142136 * dyad + 0.3819660 * uc)
        return z.T, u.T

    # ---- earlier random-number schemes, for --rng-variants -----------------------------
    def fold_in_draws(keys, day):
        """Until issue 10: fold_in + split + jax.random.normal + jax.random.uniform per
        dyad-day (jax.random's rolled Threefry loops on CPU)."""
        def one(k):
            k = jax.random.fold_in(k, day + 1)
            k_u, k_z = jax.random.split(k)
            return (jax.random.normal(k_z, (N_NORMAL,), jnp.float32),
                    jax.random.uniform(k_u, (N_UNIFORM,), jnp.float32))
        return jax.vmap(one)(keys)

    def erfinv_draws(keys, day):
        """One unrolled Threefry call per dyad-day, 32-bit words, normals by
        sqrt(2) erfinv (as jax.random.normal)."""
        blocks = (N_NORMAL + N_UNIFORM + 1) // 2
        t = jnp.full((1, blocks), day + 1, dtype=jnp.uint32)
        j = jnp.arange(blocks, dtype=jnp.uint32)[None, :]
        w0, w1 = rng.threefry2x32(keys[:, :1], keys[:, 1:], t, j)
        bits = jax.lax.optimization_barrier(jnp.concatenate([w0, w1], axis=1))
        low = np.nextafter(np.float32(-1.0), np.float32(0.0))
        v = jnp.maximum(low, 2.0 * rng.to_uniform(bits[:, :N_NORMAL]) - 1.0)
        return (np.float32(np.sqrt(2.0)) * jax.lax.erf_inv(v),
                rng.to_uniform(bits[:, N_NORMAL:N_NORMAL + N_UNIFORM]))

    RNG_VARIANTS = {"fold_in_split": fold_in_draws, "threefry_erfinv": erfinv_draws}

    def with_draws(draws):
        """The engine with ``rng.day_draws`` replaced (its own jit, its own trace cache)."""
        def impl(*a, **k):
            return run_chunk.__wrapped__(*a, **k)

        jitted = jax.jit(impl, static_argnames=("n_periods", "period", "record"))

        def run(n: int, horizon_days: int, chunk_size: int | None = None) -> float:
            real_draws, real_run = rng.day_draws, simmod.run_chunk
            rng.day_draws, simmod.run_chunk = draws, jitted
            try:
                return run_engine(n, horizon_days, chunk_size)
            finally:
                rng.day_draws, simmod.run_chunk = real_draws, real_run
        return run

    run_step_only = with_draws(cheap_draws)

    def timed(fn, n: int, horizon_days: int) -> tuple[float, list[float], float, float]:
        """(first-call seconds, timed repeats, median wall, median process CPU seconds). The
        ``chunk`` warm-up runs one chunk of the size the timed calls use on each thread's
        device (each device loads its own executable)."""
        size = chunk_for(n, horizon_days)
        first = (fn(size * threads, horizon_days, size) if args.warmup == "chunk"
                 else fn(n, horizon_days))
        times, cpu = [], []
        for _ in range(args.repeats):
            c0 = time.process_time()
            times.append(fn(n, horizon_days))
            cpu.append(time.process_time() - c0)
        return first, times, _median(times), _median(cpu)

    dev = jax.devices()[0]
    machine = {
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device_kind": dev.device_kind,
        "devices": jax.device_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "xla_cpu_threads": os.environ.get("PJRT_NPROC") or os.environ.get("NPROC"),
    }

    for n in args.dyads:
        load_before = round(os.getloadavg()[0], 2)
        days, period, n_periods = shape(base_horizon)
        size = chunk_for(n, base_horizon)
        n_chunks = math.ceil(n / size)
        first, times, engine_s, engine_cpu = timed(run_engine, n, base_horizon)
        line: dict = {
            "dyads": n,
            "days": days,
            "dyad_days_per_s": round(n * days / engine_s, 1),
            "engine_s": round(engine_s, 4),
            "engine_s_all": [round(t, 4) for t in times],
            "engine_cpu_s": round(engine_cpu, 4),
            "compile_s": round(first, 4),
            "warmup": args.warmup,
            "repeats": args.repeats,
            "population": args.population,
            "start": args.start or pop.default_start,
            "horizon_days": base_horizon,
            "burn_in_days": args.burn_in_days,
            "record": args.record,
            "chunk": size,
            "chunks": n_chunks,
            "threads": threads,
            "padded_dyads": n_chunks * size,
            "draws_per_dyad_day": {"normal": N_NORMAL, "uniform": N_UNIFORM},
        "threefry_blocks_per_dyad_day": rng.DAY_BLOCKS,
        }
        if not args.no_floor:
            f_first, f_times, floor_s, floor_cpu = timed(run_floor, n, base_horizon)
            line.update({
                "rng_floor_s": round(floor_s, 4),
                "rng_floor_s_all": [round(t, 4) for t in f_times],
                "rng_floor_cpu_s": round(floor_cpu, 4),
                "rng_floor_compile_s": round(f_first, 4),
                "rng_floor_ratio": round(engine_s / floor_s, 3),
            })
        if args.profile:
            _, s_times, step_s, step_cpu = timed(run_step_only, n, base_horizon)
            line.update({
                "step_only_s": round(step_s, 4),
                "step_only_s_all": [round(t, 4) for t in s_times],
                "step_only_cpu_s": round(step_cpu, 4),
                "step_only_share": round(step_s / engine_s, 3),
            })
        if args.rng_variants:
            line["rng_variants"] = {}
            for name, draws in RNG_VARIANTS.items():
                _, v_times, v_s, v_cpu = timed(with_draws(draws), n, base_horizon)
                line["rng_variants"][name] = {
                    "engine_s": round(v_s, 4), "engine_s_all": [round(t, 4) for t in v_times],
                    "engine_cpu_s": round(v_cpu, 4),
                    "dyad_days_per_s": round(n * days / v_s, 1),
                    "current_speedup": round(v_s / engine_s, 3)}
        if args.linearity:
            double_h = horizon_for(2 * days)
            _, _, t_2d, _ = timed(run_engine, n, double_h)
            _, _, t_2n, _ = timed(run_engine, 2 * n, base_horizon)
            line["linearity"] = {
                "days_2x": shape(double_h)[0],
                "engine_s_2x_days": round(t_2d, 4),
                "ratio_2x_days": round(t_2d / engine_s, 3),
                "dyads_2x": 2 * n,
                "engine_s_2x_dyads": round(t_2n, 4),
                "ratio_2x_dyads": round(t_2n / engine_s, 3),
            }
        line["peak_rss_mb"] = _peak_rss_mb()
        line["loadavg_1m"] = [load_before, round(os.getloadavg()[0], 2)]
        line["machine"] = machine
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
