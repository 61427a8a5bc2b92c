"""The paper's graph driven by a result: Figures 1 and 2 (:mod:`.layout`) with each node
coloured by a run's result and each edge drawn with the weight the run used.

Two colourings, so any two runs read the same way:

- ``difference``: a standardized mean difference per node (arm A minus arm B, in pooled
  standard deviations of the dyads' time-averaged levels), diverging orange (higher in A)
  to blue (lower in A);
- ``level``: the node's mean level as a share of its declared range, white to dark blue.

Edge width is proportional to the magnitude of the edge's weight parameter in the run
(the same scale for every run); an edge whose weight is 0 (knocked out) is dashed grey.
Positive edges are green, negative magenta (as in ``dyadsim graph --format dot``).
:func:`build_diagram` is pure data; :func:`diagram_svg` renders it as inline SVG (no
external reference); the explorer renders the same data with Plotly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Literal

from ..model.graph import EDGES, NODE_BY_ID, Edge
from ..model.params import PARAMS
from .layout import NODE_H, NODE_W, layout

Mode = Literal["difference", "level"]
POSITIVE, NEGATIVE, KNOCKED_OUT = "#1b7837", "#c51b7d", "#8c8c8c"
_DIVERGING = ((0x21, 0x66, 0xAC), (0xF7, 0xF7, 0xF7), (0xD9, 0x5F, 0x0E))
_SEQUENTIAL = ((0xFF, 0xFF, 0xFF), (0x6B, 0xAE, 0xD6), (0x08, 0x30, 0x6B))
MAX_DEFAULT_WEIGHT = max(abs(PARAMS[e.weight_name].default) for e in EDGES
                         if e.weight_name in PARAMS)


@dataclass(frozen=True)
class NodeValue:
    """A node's result: ``value`` (a standardized difference or a 0-1 level) with an
    optional 95% interval."""

    value: float
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class DiagramNode:
    id: str
    label: str
    x: float
    y: float
    group: str
    fill: str
    text_colour: str
    value: NodeValue | None
    tooltip: str


@dataclass(frozen=True)
class DiagramEdge:
    weight_name: str
    source: str
    target: str
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]  # bezier
    width: float
    colour: str
    knocked_out: bool
    weight: float
    tooltip: str


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    groups: tuple[tuple[str, float, float, float, float], ...]
    width: float
    height: float
    mode: Mode
    scale: float  # the value drawn at full colour (difference mode: +-scale)
    legend: str


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[float, ...]:
    return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))


def colour(value: float | None, mode: Mode, scale: float = 1.0) -> str:
    """Hex colour of a value: diverging around 0 (``difference``, full colour at
    +-``scale``) or sequential over [0, 1] (``level``); white-grey for no value."""
    if value is None or not math.isfinite(value):
        return "#e0e0e0"
    if mode == "difference":
        t = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
        rgb = _mix(_DIVERGING[1], _DIVERGING[2], t) if t >= 0 else \
            _mix(_DIVERGING[1], _DIVERGING[0], -t)
    else:
        t = max(0.0, min(1.0, value))
        rgb = _mix(_SEQUENTIAL[0], _SEQUENTIAL[1], t * 2) if t < 0.5 else \
            _mix(_SEQUENTIAL[1], _SEQUENTIAL[2], t * 2 - 1)
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def _text_colour(fill: str) -> str:
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 120 else "#1a1a1a"


def _fmt_value(v: NodeValue | None, mode: Mode) -> str:
    if v is None:
        return "no result for this node in this run"
    what = "standardized difference" if mode == "difference" else "mean level (share of range)"
    ci = f" (95% CI {v.lo:+.2f} to {v.hi:+.2f})" if v.lo is not None and v.hi is not None \
        else ""
    return f"{what}: {v.value:+.2f}{ci}" if mode == "difference" else \
        f"{what}: {v.value:.2f}{ci.replace('+', '')}"


def _clip(cx: float, cy: float, dx: float, dy: float) -> tuple[float, float]:
    """Where a ray from a box centre in direction (dx, dy) leaves the box."""
    hw, hh = NODE_W / 2, NODE_H / 2
    tx = hw / abs(dx) if dx else math.inf
    ty = hh / abs(dy) if dy else math.inf
    t = min(tx, ty)
    return cx + dx * t, cy + dy * t


def _edge_points(a: tuple[float, float], b: tuple[float, float], bend: float):
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    mx, my = (x0 + x1) / 2 + nx * bend, (y0 + y1) / 2 + ny * bend
    start = _clip(x0, y0, mx - x0, my - y0)
    end = _clip(x1, y1, mx - x1, my - y1)
    return start, (mx, my), end


def edge_weight(edge: Edge, parameters: Mapping[str, float]) -> float:
    """The weight a run used for ``edge`` (its default when the run does not say)."""
    if edge.weight_name in parameters:
        return float(parameters[edge.weight_name])
    p = PARAMS.get(edge.weight_name)
    return float(p.default) if p is not None else float(edge.weight)


def build_diagram(values: Mapping[str, NodeValue], parameters: Mapping[str, float],
                  mode: Mode = "difference", legend: str = "") -> Diagram:
    """Nodes placed as in the paper and coloured by ``values``; edges sized by the
    ``parameters`` of the run (default weights where absent)."""
    lay = layout()
    finite = [abs(v.value) for v in values.values() if math.isfinite(v.value)]
    # full colour at the largest difference, but at most 1 SD (so one very large
    # difference, e.g. the trained skill itself, does not wash out the rest) and at least 0.2
    scale = min(1.0, max(0.2, max(finite, default=0.0))) if mode == "difference" else 1.0
    nodes = []
    for node_id, place in lay.nodes.items():
        node = NODE_BY_ID[node_id]
        v = values.get(node_id)
        fill = colour(None if v is None else v.value, mode, scale)
        tip = f"{node.label} ({node_id})\n{node.meaning}\n{_fmt_value(v, mode)}"
        nodes.append(DiagramNode(node_id, node.label, place.x, place.y, place.group, fill,
                                 _text_colour(fill), v, tip))
    edges = []
    seen: dict[tuple[str, str], int] = {}
    for e in EDGES:
        if e.source not in lay.nodes or e.target not in lay.nodes:
            continue
        a, b = lay.nodes[e.source], lay.nodes[e.target]
        k = seen.get((e.source, e.target), 0)
        seen[(e.source, e.target)] = k + 1
        same_column = abs(a.x - b.x) < 1
        bend = (60.0 if same_column else 18.0) * (1 + k) * (1 if a.y <= b.y else -1)
        points = _edge_points((a.x, a.y), (b.x, b.y), bend)
        w = edge_weight(e, parameters)
        knocked = w == 0.0
        width = 1.2 if knocked else 0.5 + 3.0 * min(abs(w) / MAX_DEFAULT_WEIGHT, 2.0)
        default = PARAMS[e.weight_name].default if e.weight_name in PARAMS else e.weight
        kind = {"direct": "pushes", "gain": "scales", "windowed": "pushes (in a window)"}
        tip = (f"{NODE_BY_ID[e.source].label} {kind.get(e.type, e.type)} "
               f"{NODE_BY_ID[e.target].label} ({e.sign})\nweight {e.weight_name} = {w:g}"
               f"{' (knocked out)' if knocked else ''}"
               f"{f' (default {default:g})' if w != default else ''}\n"
               f"Figure {e.figure or 'text only'}, {e.basis}: {e.citation}")
        edges.append(DiagramEdge(e.weight_name, e.source, e.target, points, width,
                                 KNOCKED_OUT if knocked else POSITIVE if e.sign == "+"
                                 else NEGATIVE, knocked, w, tip))
    return Diagram(tuple(nodes), tuple(edges), lay.groups, lay.width, lay.height, mode,
                   scale, legend)


def wrap_label(label: str, width: int = 22) -> list[str]:
    """A node label on at most two lines of about ``width`` characters."""
    words, lines, line = label.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return lines[:2]


def _legend_svg(d: Diagram, y: float) -> str:
    parts = []
    x = 16.0
    if d.mode == "difference":
        stops = [(-d.scale, f"-{d.scale:.2f}"), (0.0, "0"), (d.scale, f"+{d.scale:.2f}")]
    else:
        stops = [(0.0, "0"), (0.5, "0.5"), (1.0, "1")]
    for k in range(21):
        t = k / 20
        v = (-d.scale + 2 * d.scale * t) if d.mode == "difference" else t
        parts.append(f'<rect x="{x + k * 8:.0f}" y="{y:.0f}" width="8" height="12" '
                     f'fill="{colour(v, d.mode, d.scale)}"/>')
    for v, text in stops:
        t = (v + d.scale) / (2 * d.scale) if d.mode == "difference" else v
        parts.append(f'<text x="{x + t * 168:.0f}" y="{y + 24:.0f}" font-size="10" '
                     f'text-anchor="middle">{text}</text>')
    parts.append(f'<text x="{x + 180:.0f}" y="{y + 10:.0f}" font-size="11">'
                 f'{escape(d.legend)}</text>')
    lx = d.width - 430
    for i, (col, text, dash) in enumerate(((POSITIVE, "raises its target", ""),
                                           (NEGATIVE, "lowers its target", ""),
                                           (KNOCKED_OUT, "knocked out (weight 0)", "5 4"))):
        xx = lx + i * 140
        parts.append(f'<line x1="{xx}" y1="{y + 6:.0f}" x2="{xx + 26}" y2="{y + 6:.0f}" '
                     f'stroke="{col}" stroke-width="2"'
                     + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        parts.append(f'<text x="{xx + 30}" y="{y + 10:.0f}" font-size="10">{text}</text>')
    parts.append(f'<text x="{lx}" y="{y + 24:.0f}" font-size="10">edge width: weight '
                 f'magnitude in this run</text>')
    return "".join(parts)


def diagram_svg(d: Diagram, *, title: str = "") -> str:
    """The diagram as one inline ``<svg>`` element (no external reference). Nodes and edges
    carry ``data-node`` / ``data-edge`` attributes and a ``<title>`` tooltip."""
    legend_h = 40.0
    top = 24.0 if title else 0.0
    h = d.height + legend_h + top
    out = [f'<svg class="dyadsim-graph" viewBox="0 0 {d.width:.0f} {h:.0f}" '
           f'width="100%" role="img" aria-label="{escape(title or "model graph")}" '
           'font-family="Helvetica, Arial, sans-serif">',
           "<defs>"]
    for name, col in (("pos", POSITIVE), ("neg", NEGATIVE), ("ko", KNOCKED_OUT)):
        out.append(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
                   f'markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" '
                   'orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>')
    out.append("</defs>")
    if title:
        out.append(f'<text x="16" y="17" font-size="14" font-weight="bold">'
                   f'{escape(title)}</text>')
    out.append(f'<g transform="translate(0,{top:.0f})">')
    for name, x0, y0, x1, y1 in d.groups:
        out.append(f'<rect x="{x0:.0f}" y="{y0:.0f}" width="{x1 - x0:.0f}" '
                   f'height="{y1 - y0:.0f}" rx="8" fill="#fafafa" stroke="#d0d0d0"/>'
                   f'<text x="{(x0 + x1) / 2:.0f}" y="{y0 + 18:.0f}" font-size="12" '
                   f'font-weight="bold" text-anchor="middle" fill="#444">{escape(name)}</text>')
    for e in d.edges:
        (x0, y0), (cx, cy), (x1, y1) = e.points
        marker = "ko" if e.knocked_out else "pos" if e.colour == POSITIVE else "neg"
        dash = ' stroke-dasharray="5 4"' if e.knocked_out else ""
        cls = "edge knocked-out" if e.knocked_out else "edge"
        out.append(f'<path class="{cls}" data-edge="{escape(e.weight_name)}" '
                   f'd="M{x0:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {x1:.1f},{y1:.1f}" fill="none" '
                   f'stroke="{e.colour}" stroke-opacity="0.5" stroke-width="{e.width:.2f}"'
                   f'{dash} marker-end="url(#arrow-{marker})">'
                   f'<title>{escape(e.tooltip)}</title></path>')
    for n in d.nodes:
        out.append(f'<g class="node" data-node="{n.id}"><title>{escape(n.tooltip)}</title>'
                   f'<rect x="{n.x - NODE_W / 2:.1f}" y="{n.y - NODE_H / 2:.1f}" '
                   f'width="{NODE_W:.0f}" height="{NODE_H:.0f}" rx="6" fill="{n.fill}" '
                   f'stroke="#555" stroke-width="0.8"/>')
        lines = wrap_label(n.label)
        for i, line in enumerate(lines):
            dy = (i - (len(lines) - 1) / 2) * 12 + 4
            out.append(f'<text x="{n.x:.1f}" y="{n.y + dy:.1f}" font-size="10.5" '
                       f'text-anchor="middle" fill="{n.text_colour}">{escape(line)}</text>')
        out.append("</g>")
    out.append(_legend_svg(d, d.height + 6))
    out.append("</g></svg>")
    return "".join(out)
