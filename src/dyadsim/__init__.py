"""dyadsim: the integrated mechanistic model of perinatal opioid use, parenting, infant
attachment and child well-being (Reese, Conradt, Riquino & Garland 2021), executable."""

from ._version import __version__ as __version__
from .model.graph import EDGES as EDGES
from .model.graph import NODES as NODES
from .model.params import Parameters as Parameters
from .simulation import simulate as simulate

__all__ = ["EDGES", "NODES", "Parameters", "simulate", "__version__"]
