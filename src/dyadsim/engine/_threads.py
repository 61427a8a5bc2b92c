"""Threads of XLA's CPU client. By default it sizes its thread pool to the machine and
hands the engine's small per-day kernels (one chunk of dyads each) between threads; on the
engine's shapes the hand-offs cost more CPU and wall time than they save (measured in
benchmarks/README.md, "Issue 10: engine speed"). dyadsim therefore asks for one thread unless
the user chose a number (``PJRT_NPROC`` or ``NPROC``); parallelism comes from worker
processes (``dyadsim.analysis.scale``). Takes effect only if set before JAX starts its CPU
backend."""

from __future__ import annotations

import os

THREADS_ENV = ("PJRT_NPROC", "NPROC")  # read by XLA's PjRt CPU client, in this order


def limit_xla_threads(threads: int = 1) -> None:
    if not any(os.environ.get(name) for name in THREADS_ENV):
        os.environ["PJRT_NPROC"] = str(threads)
