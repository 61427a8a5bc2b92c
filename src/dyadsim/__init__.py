"""dyadsim: the integrated mechanistic model of perinatal opioid use, parenting, infant
attachment and child well-being (Reese, Conradt, Riquino & Garland 2021), executable."""

__version__ = "0.1.0"

from .model.graph import EDGES as EDGES  # noqa: E402
from .model.graph import NODES as NODES  # noqa: E402
from .model.params import Parameters as Parameters  # noqa: E402
from .simulation import simulate as simulate  # noqa: E402

__all__ = ["EDGES", "NODES", "Parameters", "simulate", "__version__"]
