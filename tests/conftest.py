"""Suite-wide fixtures."""

import jax
import pytest


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's in-memory compiled programs after each test file: a long-lived pytest-xdist
    worker otherwise keeps every engine program it ever compiled (several GB over the suite);
    the next file that needs one reloads it from the persistent compilation cache."""
    yield
    jax.clear_caches()
