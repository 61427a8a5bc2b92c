"""Threads. The engine runs ``threads`` padded chunks at once (default: the CPU count in a
main process, 1 in a worker process, or ``DYADSIM_THREADS``); chunks are independent
computations of the same shape, so results do not depend on ``threads``.

How, on the CPU backend: XLA's CPU client is kept on one thread per call (``PJRT_NPROC=1``
unless the user chose ``PJRT_NPROC``/``NPROC``): its thread pool, handing the engine's small
per-day kernels between threads, made one chunk 24% slower on two threads than on one
(benchmarks/README.md, "Issue 10, third pass"). Parallelism instead comes from several CPU
*devices* (``jax_num_cpu_devices`` = the engine's threads): chunk ``k`` runs on device
``k mod devices`` from its own Python thread, and two devices execute at the same time.
Every device runs the same compiled code, so a chunk's result does not depend on its device
(``tests/engine/test_threads.py``).

XLA:CPU also gets ``--xla_cpu_prefer_vector_width=512`` (added to ``XLA_FLAGS`` unless the
user set that flag): on a CPU with AVX-512 XLA otherwise emits 256-bit vectors, and the
512-bit ones made a 400-day chunk 1.3x faster with bit-identical results
(benchmarks/README.md, "Issue 10, fourth pass"); a CPU without AVX-512 ignores the hint.

These settings take effect only if made before JAX starts its CPU backend (dyadsim makes them
when an entry point calls :func:`dyadsim.engine.configure_jax`, never on import). On another
backend (a GPU) chunks run one after another on the default device."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

THREADS_ENV = ("PJRT_NPROC", "NPROC")  # read by XLA's PjRt CPU client, in this order
#: XLA:CPU flags dyadsim adds to ``XLA_FLAGS`` unless the user gave them (module docstring).
XLA_CPU_FLAGS = {"xla_cpu_prefer_vector_width": "512"}
ENGINE_THREADS_ENV = "DYADSIM_THREADS"

T = TypeVar("T")
R = TypeVar("R")


def engine_threads() -> int:
    """Chunks run at once by default: ``DYADSIM_THREADS``, else the CPU count in a main
    process and 1 in a worker process (a process pool's or a Dask worker's: the pool already
    runs one task per core)."""
    text = os.environ.get(ENGINE_THREADS_ENV, "")
    if text.strip():
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{ENGINE_THREADS_ENV} must be a positive integer, got {text!r}")
        return value
    if multiprocessing.parent_process() is not None:
        return 1
    return os.cpu_count() or 1


def configure_xla_cpu() -> None:
    """One XLA thread per call (unless the user chose ``PJRT_NPROC``/``NPROC``), one CPU
    device per engine thread (unless the user chose ``jax_num_cpu_devices``) and
    :data:`XLA_CPU_FLAGS` (each unless the user set it in ``XLA_FLAGS``)."""
    import jax

    if not any(os.environ.get(name) for name in THREADS_ENV):
        os.environ["PJRT_NPROC"] = "1"
    flags = os.environ.get("XLA_FLAGS", "")
    added = [f"--{name}={value}" for name, value in XLA_CPU_FLAGS.items()
             if f"--{name}=" not in flags]
    if added:
        os.environ["XLA_FLAGS"] = " ".join([flags, *added]).strip()
    # jax.config's options are attributes made at run time, unknown to a type checker
    devices = jax.config.jax_num_cpu_devices  # type: ignore[attr-defined]
    if devices in (None, -1) and not os.environ.get("JAX_NUM_CPU_DEVICES"):
        try:
            jax.config.update("jax_num_cpu_devices", engine_threads())
        except (RuntimeError, ValueError):  # the backend has started: keep what it has
            pass


def check_threads(threads: int | None) -> int:
    """``threads`` as given (a positive integer) or the default; ValueError otherwise."""
    if threads is None:
        return engine_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return threads


def _engine_devices() -> list:
    import jax

    devices = jax.devices()
    return devices if devices[0].platform == "cpu" else devices[:1]


def map_in_order(fn: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``fn`` over ``items`` on ``threads`` threads, results in the order of ``items``; at
    most ``threads`` results wait or run beyond the one being consumed (bounded memory).
    Item ``k`` runs with JAX's default device set to CPU device ``k mod devices``.
    ``threads=1`` runs in the calling thread, on the default device."""
    if threads == 1:
        yield from map(fn, items)
        return
    import jax

    devices = _engine_devices()

    def on_device(k: int, item: T) -> R:
        with jax.default_device(devices[k % len(devices)]):
            return fn(item)

    with ThreadPoolExecutor(threads, thread_name_prefix="dyadsim-chunk") as pool:
        pending: deque = deque()
        try:
            for k, item in enumerate(items):
                pending.append(pool.submit(on_device, k, item))
                if len(pending) > threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
