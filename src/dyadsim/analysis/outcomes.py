"""Per-dyad outcomes an analysis can target, by name: every numeric outcome of the
registry (:data:`dyadsim.model.outcomes.OUTCOMES`, the variables :func:`dyadsim.simulate`
reports) plus any node of the graph (its value on the last simulated day). Each takes a
batch's ``outcomes`` and ``final`` arrays (any leading shape) and returns one float per row,
NaN where undefined (e.g. attachment before 12 months, or after a pregnancy loss)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..model import outcomes as model_outcomes
from ..model.graph import NODE_BY_ID

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Outcome:
    name: str
    meaning: str
    value: Callable[[Arrays, Arrays], np.ndarray]


def _registered(o: model_outcomes.Outcome) -> Outcome:
    def value(out: Arrays, final: Arrays) -> np.ndarray:
        return model_outcomes.value_of(o, out).astype(np.float64)
    return Outcome(o.name, o.meaning, value)


OUTCOMES: dict[str, Outcome] = {o.name: _registered(o)
                                for o in model_outcomes.OUTCOMES.values() if o.numeric}


def outcome_names() -> list[str]:
    return sorted(OUTCOMES) + ["<any node id>"]


def get_outcome(name: str) -> Outcome:
    """A registered outcome, or a node's value on the last day. ValueError if neither."""
    if name in OUTCOMES:
        return OUTCOMES[name]
    if name in NODE_BY_ID:
        return Outcome(name, f"{NODE_BY_ID[name].label} on the last simulated day",
                       lambda out, final: final[name].astype(np.float64))
    raise ValueError(f"unknown outcome {name!r}: one of {', '.join(sorted(OUTCOMES))} "
                     "or a node id (see `dyadsim graph`)")
