"""The engine: padded fixed-size chunks of dyads, a jitted ``lax.scan`` over days, and the
random streams (one per (seed, dyad id))."""

from ._engine import CHUNK as CHUNK
from ._engine import Schedule as Schedule

__all__ = ["CHUNK", "Schedule"]
