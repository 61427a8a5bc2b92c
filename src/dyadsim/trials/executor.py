"""One executor helper for the CLI, the replicate runner and power curves.

:func:`owned_executor` gives the executor a run should use: the caller's own (any
``concurrent.futures.Executor``, e.g. a Dask ``Client.get_executor()``), none (serial, in
this process) or a ``ProcessPoolExecutor`` of "spawn" workers that it shuts down at the end.
Its workers die with their parent: each runs a watchdog thread that ends the worker once
its parent process is gone (``kill -9`` of ``dyadsim trial`` leaves no orphans holding
hundreds of MB).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator

__all__ = ["default_workers", "owned_executor"]

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
