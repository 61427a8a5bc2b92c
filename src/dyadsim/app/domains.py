"""The graph at the level of the paper's domains (the boxes of Figure 1 and Figure 2's
interventions): one box per domain, coloured by the mean of its nodes' values, and one
bundle per pair of domains an edge joins, as wide as the number of edges in it. A node's
own edges are picked out with :func:`node_edges`. Pure functions of a
:class:`~dyadsim.reports.diagram.Diagram`; the page draws them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model.graph import EDGE_BY_WEIGHT
from ..reports.diagram import Diagram, colour


@dataclass(frozen=True)
class Domain:
    title: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as in the diagram
    nodes: tuple[str, ...]
    value: float | None  # mean of its nodes' values (None without any)
    fill: str


@dataclass(frozen=True)
class Bundle:
    source: str  # domain titles
    target: str
    edges: tuple[str, ...]  # weight names
    raising: int
    lowering: int


def domains(d: Diagram) -> list[Domain]:
    """The diagram's groups as domains, in the diagram's order (groups without a node
    left out)."""
    out = []
    for title, x0, y0, x1, y1 in d.groups:
        members = [n for n in d.nodes if n.group == title]
        if not members:
            continue
        vals = [n.value.value for n in members
                if n.value is not None and math.isfinite(n.value.value)]
        value = sum(vals) / len(vals) if vals else None
        out.append(Domain(title, (x0, y0, x1, y1), tuple(n.id for n in members), value,
                          colour(value, d.mode, d.scale)))
    return out


def bundles(d: Diagram) -> list[Bundle]:
    """One bundle per ordered pair of different domains joined by at least one edge."""
    group = {n.id: n.group for n in d.nodes}
    found: dict[tuple[str, str], list[str]] = {}
    for e in d.edges:
        a, b = group.get(e.source), group.get(e.target)
        if a is not None and b is not None and a != b:
            found.setdefault((a, b), []).append(e.weight_name)
    out = []
    for (a, b), names in found.items():
        up = sum(EDGE_BY_WEIGHT[w].sign == "+" for w in names)
        out.append(Bundle(a, b, tuple(names), up, len(names) - up))
    return out


def node_edges(d: Diagram, node: str) -> list[str]:
    """The weight names of the edges into or out of ``node``."""
    return [e.weight_name for e in d.edges if node in (e.source, e.target)]
