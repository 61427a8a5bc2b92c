"""Chunks run on several threads at once: results equal the sequential loop bit for bit,
whatever the number of threads; progress is reported once per chunk, in order."""

import os
import threading

import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.engine._threads import check_threads, engine_threads, map_in_order
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.engine.burn_in import clear_cache
from dyadsim.model.params import PARAMS
from dyadsim.simulation import ScenarioError

# the shapes of tests/engine/test_determinism.py and test_batch.py (compiled once)
RUN = dict(dyads=600, seed=3, horizon="2m", record="monthly", chunk_size=256)
SETTING = Setting.from_population("pregnant_oud_moud", start="gw20", horizon="2m")
SETS = [{}, {"craving->opioid_use": PARAMS["craving->opioid_use"].hi}, {"craving.tau": 3.0}]


def _same_dataset(a, b):
    assert list(a.data_vars) == list(b.data_vars)
    for v in a.data_vars:
        assert np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == "f"), v


def test_simulate_threads_give_the_sequential_result_bit_for_bit():
    counts: dict[int, list[int]] = {}
    runs = {}
    for threads in (1, 2, 3):
        clear_cache()  # so that each run burns in (2 chunks) on its own threads
        counts[threads] = []
        runs[threads] = simulate(**RUN, threads=threads, progress=counts[threads].append)
    _same_dataset(runs[1], runs[2])
    _same_dataset(runs[1], runs[3])
    assert counts[1] == counts[2] == counts[3] == [256, 256, 88]


def test_simulate_batch_threads_give_the_sequential_result_bit_for_bit():
    kw = dict(dyads=60, seed=4, record_daily=("craving",), chunk_size=64)
    one = simulate_batch(SETTING, SETS, threads=1, **kw)
    rows: list[int] = []
    three = simulate_batch(SETTING, SETS, threads=3, progress=rows.append, **kw)
    for part in ("outcomes", "final", "daily"):
        a, b = getattr(one, part), getattr(three, part)
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(a[k], b[k], equal_nan=True), (part, k)
    assert rows == [64, 64, 52]


def test_chunks_run_at_once_in_order_with_bounded_look_ahead():
    both_running = threading.Barrier(2, timeout=10)  # broken unless two calls overlap
    started, lock = [], threading.Lock()

    def work(i):
        with lock:
            started.append(i)
        if i < 2:
            both_running.wait()
        return i * i

    got = []
    for value in map_in_order(work, range(8), threads=2):
        got.append(value)
        with lock:
            assert len(started) - len(got) <= 2  # at most `threads` beyond the consumed one
    assert got == [i * i for i in range(8)]


def test_thread_counts_are_checked(monkeypatch):
    assert check_threads(3) == 3
    monkeypatch.setenv("DYADSIM_THREADS", "5")
    assert engine_threads() == check_threads(None) == 5
    monkeypatch.setenv("DYADSIM_THREADS", "many")
    with pytest.raises(ValueError, match="DYADSIM_THREADS"):
        engine_threads()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            check_threads(bad)
    with pytest.raises(ScenarioError, match="threads"):
        simulate(dyads=10, threads=0)


def test_workers_default_to_one_thread_and_the_users_xla_pool_is_kept(monkeypatch):
    import multiprocessing

    from dyadsim.engine import _threads

    monkeypatch.delenv("DYADSIM_THREADS", raising=False)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: None)
    assert engine_threads() == (os.cpu_count() or 1)
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    assert engine_threads() == 1  # a pool or Dask worker: the pool uses the cores
    monkeypatch.delenv("PJRT_NPROC", raising=False)
    monkeypatch.delenv("NPROC", raising=False)
    _threads.configure_xla_cpu()
    assert os.environ["PJRT_NPROC"] == "1"  # one XLA thread per call
    monkeypatch.setenv("PJRT_NPROC", "7")
    _threads.configure_xla_cpu()
    assert os.environ["PJRT_NPROC"] == "7"  # a value the user set is kept


def test_xla_cpu_flags_are_added_unless_the_user_set_them(monkeypatch):
    from dyadsim.engine import _threads

    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    _threads.configure_xla_cpu()
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_cpu_prefer_vector_width=512"
    _threads.configure_xla_cpu()  # idempotent
    assert os.environ["XLA_FLAGS"].count("prefer_vector_width") == 1
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_prefer_vector_width=256")
    _threads.configure_xla_cpu()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_prefer_vector_width=256"
    monkeypatch.delenv("XLA_FLAGS")
    _threads.configure_xla_cpu()
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_prefer_vector_width=512"


def test_chunks_take_turns_on_the_cpu_devices():
    import jax
    import jax.numpy as jnp

    devices = jax.devices()
    assert len(devices) == engine_threads()  # one CPU device per engine thread
    placed = list(map_in_order(lambda k: jnp.zeros(1).devices().pop(), range(4), threads=2))
    assert placed == [devices[k % len(devices)] for k in range(4)]


def test_two_devices_in_a_fresh_interpreter_give_the_one_thread_result():
    """The device-rotation path whatever this process was started with (under pytest-xdist
    a worker runs one thread on one device): a fresh interpreter with two engine threads has
    two CPU devices, and its threaded run equals its one-thread run bit for bit."""
    import subprocess
    import sys

    code = (
        "import jax, numpy as np, dyadsim\n"
        "kw = dict(dyads=600, seed=3, horizon='2m', record='monthly', chunk_size=256)\n"
        "a = dyadsim.simulate(**kw, threads=1)\n"
        "assert len(jax.devices()) == 2, jax.devices()  # simulate() configured JAX first\n"
        "from dyadsim.engine.burn_in import clear_cache\n"
        "clear_cache()\n"
        "b = dyadsim.simulate(**kw, threads=2)\n"
        "assert all(np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == 'f')"
        " for v in a.data_vars)\n"
        "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_NUM_CPU_DEVICES",)}
    env["DYADSIM_THREADS"] = "2"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
