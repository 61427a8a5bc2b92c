"""Suite-wide fixtures."""

import os

# pytest-xdist already runs one worker per core: each runs the engine's chunks one at a time
# (on one CPU device), as a worker process of dyadsim's own pools does. ``TEST_WORKERS=1 make
# test`` keeps the default (chunks on all cores); tests/engine/test_threads.py runs the
# multi-device path in a fresh interpreter either way.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("DYADSIM_THREADS", "1")

import jax  # noqa: E402
import pytest  # noqa: E402

from dyadsim.engine import configure_jax  # noqa: E402

# The suite is an entry point: JAX's settings before any test computes, as the CLI and
# simulate() apply them (dyadsim changes nothing on import; tests/test_layers.py).
configure_jax()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's in-memory compiled programs after each test file: a long-lived pytest-xdist
    worker otherwise keeps every engine program it ever compiled (several GB over the suite);
    the next file that needs one reloads it from the persistent compilation cache."""
    yield
    jax.clear_caches()
