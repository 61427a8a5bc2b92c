"""Scale-out: the same tasks on this machine's processes or on a Dask cluster.

Every analysis splits its work into tasks whose results depend only on their inputs (the
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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


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
    from ..trials.executor import owned_executor

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
