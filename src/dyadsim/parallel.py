"""Executors: where independent tasks run (ground floor; every layer that fans work out
uses these, nothing here imports dyadsim).

:func:`owned_executor` gives the executor a run should use: the caller's own (any
``concurrent.futures.Executor``, e.g. a Dask ``Client.get_executor()``), none (serial, in
this process) or a ``ProcessPoolExecutor`` of "spawn" workers that it shuts down at the end.
Its workers die with their parent: each runs a watchdog thread that ends the worker once
its parent process is gone (``kill -9`` of ``dyadsim trial`` leaves no orphans holding
hundreds of MB).

Scale-out: every analysis splits its work into tasks whose results depend only on their inputs (the
parameter sets, the dyads and the seed: a dyad's draws depend only on (seed, dyad id)), so
the result never depends on where a task runs, on how many workers there are or on the order
in which tasks finish. :func:`executor` gives a ``concurrent.futures`` executor:

* ``scheduler=None``: a local process pool (``workers`` processes; 1 = in this process);
* ``scheduler="tcp://host:8786"``: a Dask distributed cluster, through
  ``Client(address).get_executor()``. Multi-node use: start ``dask scheduler`` on one node
  and ``dask worker tcp://SCHEDULER:8786 --nworkers N --nthreads 1`` on each node (every node
  with the same dyadsim installed, e.g. ``pip install --require-hashes -r requirements.lock
  && pip install -e .``), then pass ``--scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["default_workers", "executor", "map_tasks", "owned_executor"]

T = TypeVar("T")

#: Seconds between a worker's checks that its parent is still alive.
WATCHDOG_INTERVAL_S = 0.5


def default_workers() -> int:
    """Worker processes when none are asked for: the CPU count."""
    return max(1, os.cpu_count() or 1)


def _watch_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # orphaned: the parent was killed; no cleanup is owed to anyone
        time.sleep(WATCHDOG_INTERVAL_S)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: start the watchdog that ends this process when ``parent_pid``
    is no longer its parent."""
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="dyadsim-watchdog",
                     daemon=True).start()


@contextlib.contextmanager
def owned_executor(executor: cf.Executor | None, workers: int | None,
                   tasks: int) -> Iterator[tuple[cf.Executor | None, int | None]]:
    """``(executor, workers)`` for a run of ``tasks`` tasks: the caller's ``executor``
    (workers None), or a process pool of ``workers`` (default: CPU count, at most
    ``tasks``) spawned here and shut down on exit, or ``(None, 1)``: run serially."""
    if executor is not None:
        yield executor, None
        return
    want = workers or default_workers()
    if want <= 1 or tasks <= 1:
        yield None, 1
        return
    pool = cf.ProcessPoolExecutor(max_workers=min(want, tasks),
                                  mp_context=multiprocessing.get_context("spawn"),
                                  initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        yield pool, None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def executor(scheduler: str | None = None, workers: int | None = None,
             tasks: int = 2) -> Iterator[cf.Executor | None]:
    """An executor for ``tasks`` tasks (None: run serially in this process)."""
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a locked dependency
            raise RuntimeError("--scheduler needs dask[distributed]: pip install "
                               "'dask[distributed]'") from exc
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
        return
    with owned_executor(None, workers, tasks) as (pool, _):
        yield pool


def map_tasks(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]],
              pool: cf.Executor | None,
              done: Callable[[int, T], None] | None = None) -> list[T]:
    """``[fn(*task) for task in tasks]`` on ``pool`` (in task order, whatever order they
    finish in); ``done(i, result)`` is called as each finishes (checkpoints, progress)."""
    results: list[Any] = [None] * len(tasks)
    if pool is None:
        for i, t in enumerate(tasks):
            results[i] = fn(*t)
            if done is not None:
                done(i, results[i])
        return results
    futures = {pool.submit(fn, *t): i for i, t in enumerate(tasks)}
    for fut in cf.as_completed(futures):
        i = futures[fut]
        results[i] = fut.result()
        if done is not None:
            done(i, results[i])
    return results
