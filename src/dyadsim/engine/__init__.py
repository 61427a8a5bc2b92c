"""The engine: padded fixed-size chunks of dyads, a jitted ``lax.scan`` over days, and the
random streams (one per (seed, dyad id))."""

from ..model.schedule import Schedule as Schedule
from ._engine import CHUNK as CHUNK
from ._jax import configure_jax as configure_jax

__all__ = ["CHUNK", "Schedule", "configure_jax"]
