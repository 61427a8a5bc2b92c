"""JAX's global configuration for dyadsim, applied by an explicit call at the entry points
(:func:`dyadsim.simulate`, :func:`dyadsim.engine.batch.simulate_batch`, the CLI, the test
suite), never on import: importing dyadsim leaves JAX and XLA as the host program set them.

:func:`configure_jax` sets the XLA:CPU threads, devices and flags
(:func:`dyadsim.engine._threads.configure_xla_cpu`; they take effect only if made before the
first JAX computation starts the CPU backend, which is why the entry points call it first)
and the persistent compilation cache (:func:`enable_compilation_cache`). Neither changes a
result: they change speed (``tests/engine/test_threads.py``).
"""

from __future__ import annotations

import os

import jax

from ._threads import configure_xla_cpu

__all__ = ["configure_jax", "enable_compilation_cache"]

_configured = False


def enable_compilation_cache() -> None:
    """Persistent XLA cache (tests and repeated CLI runs skip recompilation)."""
    path = os.environ.get("DYADSIM_JAX_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "dyadsim", "jax"))
    try:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    except Exception:  # noqa: BLE001 - an unwritable cache only costs speed
        pass


def configure_jax() -> None:
    """Apply dyadsim's JAX settings (once per process; later calls do nothing)."""
    global _configured
    if _configured:
        return
    configure_xla_cpu()
    enable_compilation_cache()
    _configured = True
