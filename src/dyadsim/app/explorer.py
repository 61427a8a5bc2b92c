"""The dyadsim explorer page (Streamlit; started by ``dyadsim explore``).

Pick a population, switch interventions on and off and set when they start, knock out an
edge or clamp a node, change N and seed; the graph, trajectories and outcome table update
against a baseline run (same population, N and seed, nothing switched). Click a node or an
edge for its meaning, parameters, bounds and citation. Download the scenario as TOML
(``dyadsim simulate`` reproduces it exactly) and the HTML report.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dyadsim.app.domains import bundles, domains, node_edges
from dyadsim.app.scenario import (
    DEFAULT_N,
    HORIZONS,
    N_CHOICES,
    ExplorerScenario,
    Run,
    after_birth,
    difference_from_baseline,
    edge_details,
    edge_label,
    node_details,
    run,
)
from dyadsim.interventions import LIBRARY
from dyadsim.model.graph import EDGES, NODE_BY_ID, NODES
from dyadsim.model.populations import PRESETS
from dyadsim.reports.demo import outcome_rows
from dyadsim.reports.diagram import NEGATIVE, POSITIVE, Diagram, build_diagram, wrap_label
from dyadsim.reports.figures import TRAJECTORY_NODES, trajectory_nodes
from dyadsim.reports.layout import NODE_H, NODE_W
from dyadsim.reports.results import node_differences, node_levels

st.set_page_config(page_title="dyadsim explorer", layout="wide")


RUNS_KEPT = 16


@st.cache_resource(show_spinner=False)
def _runs() -> dict[str, Run]:
    """Runs already made in this server process, by scenario TOML (shared by sessions)."""
    return {}


def simulate_cached(scenario: ExplorerScenario) -> Run:
    """The run of ``scenario``: reused if made before, else simulated with a progress bar
    (the compiled engine is reused: every N runs in padded chunks of one shape)."""
    store, key = _runs(), scenario.to_toml()
    if key in store:
        return store[key]
    bar = st.progress(0.0, text=f"simulating {scenario.name}: {scenario.dyads} dyads")
    done = [0]

    def tick(m: int) -> None:
        done[0] += m
        bar.progress(min(done[0] / scenario.dyads, 1.0),
                     text=f"simulating {scenario.name}: {done[0]} of {scenario.dyads} dyads")

    try:
        result = run(scenario, progress=tick)
    finally:
        bar.empty()
    while len(store) >= RUNS_KEPT:
        store.pop(next(iter(store)))
    store[key] = result
    return result


# ----------------------------------------------------------------------------- settings
def sidebar() -> tuple[ExplorerScenario, str]:
    sb = st.sidebar
    sb.header("ExplorerScenario")
    pop = sb.selectbox("Population", list(PRESETS), index=0,
                       format_func=lambda k: f"{k}: {PRESETS[k].description[:60]}",
                       help="Who is simulated (see `dyadsim populations`).")
    pregnancy = PRESETS[pop].pregnancy
    n = sb.select_slider("Number of dyads (N)", options=N_CHOICES, value=DEFAULT_N,
                         help="More dyads: narrower intervals, longer runs.")
    seed = int(sb.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1))
    horizon = sb.radio("Follow-up after birth" if pregnancy else "Follow-up", HORIZONS,
                       index=1, horizontal=True)

    sb.header("Interventions")
    study_week = (int(PRESETS[pop].default_start[2:]) if PRESETS[pop].default_start
                  .startswith("gw") else None)
    chosen = []
    for name, iv in LIBRARY.items():
        if name == "tau":
            continue
        on = sb.toggle(iv.label, key=f"iv_{name}", help=f"{iv.description}. {iv.citation}")
        if not on:
            continue
        if pregnancy:
            options = (["in pregnancy", "postpartum"] if study_week is not None
                       else ["postpartum"])
            when = sb.radio(f"{iv.label} starts", options, key=f"when_{name}",
                            horizontal=True)
            if when == "in pregnancy":
                wk = int(sb.number_input("gestational week", min_value=4, max_value=40,
                                         value=max(study_week or 20, 24),
                                         key=f"gw_{name}"))
                chosen.append((name, f"gw{wk}"))
            else:
                wk = int(sb.number_input("postpartum week", min_value=0, max_value=100,
                                         value=6, key=f"pp_{name}"))
                chosen.append((name, f"pp{wk}w"))
        else:
            wk = int(sb.number_input("study week", min_value=0, max_value=100, value=0,
                                     key=f"day_{name}"))
            chosen.append((name, f"day{7 * wk}"))

    sb.header("Knock out or clamp")
    edges = [e.weight_name for e in EDGES]
    knock = sb.multiselect("Knock out edges (weight 0)", edges, format_func=edge_label,
                           key="knockouts", help="Cut a causal link of Figure 1 or 2.")
    nodes = [n.id for n in NODES if n.dynamics != "derived"]
    clamp_nodes = sb.multiselect("Clamp nodes (hold fixed)", nodes,
                                 format_func=lambda k: NODE_BY_ID[k].label, key="clamps",
                                 help="Pearl's do(): the node stays at a value all run.")
    clamps = []
    for node in clamp_nodes:
        nd = NODE_BY_ID[node]
        value = sb.slider(f"{nd.label} held at", float(nd.lo), float(nd.hi),
                          float((nd.lo + nd.hi) / 2), key=f"clamp_{node}")
        clamps.append((node, float(value)))
    colour_by = sb.radio("Colour the graph by", ["difference from baseline",
                                                 "level in this scenario"], key="colour_by")
    sc = ExplorerScenario(population=pop, dyads=int(n), seed=seed, horizon=horizon,
                          interventions=tuple(chosen), knockouts=tuple(knock),
                          clamps=tuple(clamps))
    return sc, colour_by


# ----------------------------------------------------------------------------- figures
def _bezier(points, k: int = 12):
    (x0, y0), (cx, cy), (x1, y1) = points
    t = np.linspace(0, 1, k)
    return ((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t ** 2 * x1,
            (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t ** 2 * y1)


def graph_figure(d: Diagram, focus: str | None = None) -> go.Figure:
    """The diagram as a Plotly figure: node boxes as shapes, clickable node centres and
    edge midpoints as markers (their customdata names the node or edge). With ``focus``
    (a node id) only that node's own edges are drawn strongly, the others faint."""
    own = set(node_edges(d, focus)) if focus else None
    fig = go.Figure()
    shapes, notes = [], []
    for title, x0, y0, x1, y1 in d.groups:
        shapes.append({"type": "rect", "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                       "fillcolor": "#fafafa", "line": {"color": "#d0d0d0"},
                       "layer": "below"})
        notes.append({"x": (x0 + x1) / 2, "y": y0 + 14, "text": f"<b>{title}</b>",
                      "showarrow": False, "font": {"size": 11, "color": "#444"}})
    buckets: dict[tuple[str, bool, float, bool], list] = {}
    for e in d.edges:
        faint = own is not None and e.weight_name not in own
        buckets.setdefault((e.colour, e.knocked_out, round(e.width * 2) / 2, faint),
                           []).append(e)
    for (col, knocked, width, faint), es in sorted(buckets.items(), key=lambda kv: kv[0][1]):
        xs, ys = [], []
        for e in es:
            bx, by = _bezier(e.points)
            xs += [*bx, None]
            ys += [*by, None]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", hoverinfo="skip",
            line={"color": col, "width": width, "dash": "dash" if knocked else "solid"},
            opacity=0.06 if faint else 0.9 if knocked or own is not None else 0.45,
            showlegend=knocked, name="knocked out (weight 0)" if knocked
            else "other edge" if faint else "edge"))
    mids = [_bezier(e.points, 3) for e in d.edges]
    fig.add_trace(go.Scatter(
        x=[m[0][1] for m in mids], y=[m[1][1] for m in mids], mode="markers",
        marker={"size": 7, "color": [e.colour for e in d.edges], "opacity": 0.8},
        customdata=[f"edge:{e.weight_name}" for e in d.edges],
        hovertext=[e.tooltip.replace("\n", "<br>") for e in d.edges], hoverinfo="text",
        name="edges (click for details)", showlegend=False))
    for n in d.nodes:
        shapes.append({"type": "rect", "x0": n.x - NODE_W / 2, "y0": n.y - NODE_H / 2,
                       "x1": n.x + NODE_W / 2, "y1": n.y + NODE_H / 2, "fillcolor": n.fill,
                       "line": {"color": "#555", "width": 0.8}})
        notes.append({"x": n.x, "y": n.y, "text": "<br>".join(wrap_label(n.label, 20)),
                      "showarrow": False, "font": {"size": 9, "color": n.text_colour}})
    fig.add_trace(go.Scatter(
        x=[n.x for n in d.nodes], y=[n.y for n in d.nodes], mode="markers",
        marker={"size": 26, "symbol": "square", "color": "rgba(0,0,0,0.01)"},
        customdata=[f"node:{n.id}" for n in d.nodes],
        hovertext=[n.tooltip.replace("\n", "<br>") for n in d.nodes], hoverinfo="text",
        name="nodes (click for details)", showlegend=False))
    fig.update_xaxes(visible=False, range=[0, d.width], fixedrange=True)
    fig.update_yaxes(visible=False, range=[d.height, 0], fixedrange=True)
    fig.update_layout(shapes=shapes, annotations=notes, height=int(d.height * 0.95),
                      margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      plot_bgcolor="white", dragmode=False, clickmode="event+select",
                      legend={"orientation": "h", "y": -0.02})
    return fig


def domain_figure(d: Diagram) -> go.Figure:
    """The graph at the level of the paper's domains: a box per domain coloured by its
    nodes' mean, a bundle per pair of domains as wide as its number of edges (green when
    most raise, magenta when most lower); centres and bundle midpoints are clickable."""
    fig = go.Figure()
    doms = domains(d)
    centre = {m.title: ((m.box[0] + m.box[2]) / 2, (m.box[1] + m.box[3]) / 2) for m in doms}
    mids = []
    for b in bundles(d):
        (x0, y0), (x1, y1) = centre[b.source], centre[b.target]
        # bend to the right of the direction, so A -> B and B -> A stay apart
        cx, cy = (x0 + x1) / 2 + (y1 - y0) * 0.15, (y0 + y1) / 2 - (x1 - x0) * 0.15
        bx, by = _bezier(((x0, y0), (cx, cy), (x1, y1)), 16)
        col = POSITIVE if b.raising >= b.lowering else NEGATIVE
        text = (f"{b.source} → {b.target}: {len(b.edges)} edge"
                f"{'s' if len(b.edges) > 1 else ''} ({b.raising} raise, {b.lowering} lower)")
        fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", hoverinfo="skip", opacity=0.5,
                                 line={"color": col, "width": 1 + 0.7 * len(b.edges)},
                                 showlegend=False, name="bundle"))
        fig.add_annotation(x=bx[-3], y=by[-3], ax=bx[-6], ay=by[-6], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2,
                           arrowcolor=col, arrowwidth=1.5, text="")
        mids.append((bx[8], by[8], f"bundle:{b.source}|{b.target}", text))
    fig.add_trace(go.Scatter(x=[m[0] for m in mids], y=[m[1] for m in mids], mode="markers",
                             marker={"size": 8, "color": "#666", "opacity": 0.7},
                             customdata=[m[2] for m in mids], hovertext=[m[3] for m in mids],
                             hoverinfo="text", showlegend=False, name="bundles"))
    shapes, notes = [], []
    for m in doms:
        x0, y0, x1, y1 = m.box
        shapes.append({"type": "rect", "x0": x0 + 8, "y0": y0 + 8, "x1": x1 - 8,
                       "y1": y1 - 8, "fillcolor": m.fill, "line": {"color": "#555"},
                       "layer": "below"})
        notes.append({"x": centre[m.title][0], "y": centre[m.title][1],
                      "text": f"<b>{m.title}</b><br>{len(m.nodes)} nodes",
                      "showarrow": False, "font": {"size": 12, "color": "#222"}})
    fig.add_trace(go.Scatter(
        x=[centre[m.title][0] for m in doms], y=[centre[m.title][1] for m in doms],
        mode="markers", marker={"size": 40, "symbol": "square", "color": "rgba(0,0,0,0.01)"},
        customdata=[f"domain:{m.title}" for m in doms],
        hovertext=[f"{m.title}: " + ", ".join(NODE_BY_ID[n].label for n in m.nodes)
                   for m in doms], hoverinfo="text", showlegend=False, name="domains"))
    fig.update_xaxes(visible=False, range=[0, d.width], fixedrange=True)
    fig.update_yaxes(visible=False, range=[d.height, 0], fixedrange=True)
    fig.update_layout(shapes=shapes, annotations=[*fig.layout.annotations, *notes],
                      height=int(d.height * 0.95), margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      plot_bgcolor="white", dragmode=False, clickmode="event+select")
    return fig


def trajectory_figure(runs: dict[str, Run]) -> go.Figure | None:
    groups = {k: r.ds for k, r in runs.items() if "time" in r.ds.dims}
    nodes = trajectory_nodes(groups, TRAJECTORY_NODES[:6]) if groups else []
    if not nodes:
        return None
    fig = make_subplots(rows=2, cols=3, subplot_titles=[NODE_BY_ID[n].label for n in nodes])
    colours = {"this scenario": "#d95f0e", "baseline": "#2166ac"}
    first = next(iter(groups.values()))
    births = first["birth_day"].values if "birth_day" in first else np.array([])
    births = births[np.isfinite(births)]
    birth = float(np.median(births)) if births.size else 0.0
    for i, node in enumerate(nodes):
        r, c = i // 3 + 1, i % 3 + 1
        for name, ds in groups.items():
            t = ds["time"].values.astype(float)
            x = (t - birth) / 7
            v = after_birth(ds, node)
            with np.errstate(all="ignore"):
                n = np.sum(np.isfinite(v), axis=0)
                mean = np.nanmean(v, axis=0)
                half = 1.96 * np.nanstd(v, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
            drawn = n >= 2  # an infant's states exist from its birth
            x, lo, hi, mean = x[drawn], (mean - half)[drawn], (mean + half)[drawn], mean[drawn]
            col = colours.get(name, "#555")
            fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]],
                                     fill="toself", fillcolor=col, opacity=0.15,
                                     line={"width": 0}, hoverinfo="skip", showlegend=False),
                          row=r, col=c)
            fig.add_trace(go.Scatter(x=x, y=mean, line={"color": col, "width": 2},
                                     name=name, showlegend=i == 0), row=r, col=c)
        if births.size:
            fig.add_vline(x=0, line_dash="dash", line_color="#444", row=r, col=c)
        fig.update_yaxes(title_text=NODE_BY_ID[node].unit, title_font={"size": 10},
                         row=r, col=c)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.12})
    fig.update_xaxes(title_text="weeks from birth" if births.size else "weeks",
                     title_font={"size": 10})
    return fig


def details_panel(item: str | None, parameters: dict[str, float],
                  d: Diagram | None = None) -> None:
    if not item:
        st.info("Click a box (node) or the dot in the middle of an arrow (edge) in the graph, "
                "or choose one below, to see what it means, its parameters, bounds and "
                "citation.")
        return
    kind, _, key = item.partition(":")
    if kind == "domain" and d is not None:
        m = next((m for m in domains(d) if m.title == key), None)
        if m is not None:
            st.subheader(m.title)
            st.write("Nodes: " + ", ".join(NODE_BY_ID[n].label for n in m.nodes))
            st.caption("Choose 'every node' above the graph to see them and their edges.")
        return
    if kind == "bundle" and d is not None:
        src, _, dst = key.partition("|")
        b = next((b for b in bundles(d) if (b.source, b.target) == (src, dst)), None)
        if b is not None:
            st.subheader(f"{src} → {dst}")
            st.markdown("\n".join(f"- {edge_label(w)}" for w in b.edges))
        return
    if kind == "node" and key in NODE_BY_ID:
        d = node_details(key)
        st.subheader(d["title"])
        st.write(d["meaning"])
        st.caption(f"{d['kind']} · range {d['range']} · {d['citation']}")
        if d["parameters"]:
            st.dataframe(pd.DataFrame(d["parameters"]), hide_index=True)
        st.markdown("**Pushed by:** " + ("; ".join(d["edges_in"]) or "nothing (an input)"))
        st.markdown("**Pushes:** " + ("; ".join(d["edges_out"]) or "nothing"))
    elif kind == "edge":
        d = edge_details(key, parameters.get(key))
        st.subheader(d["title"])
        st.write(d["meaning"])
        st.dataframe(pd.DataFrame(d["parameters"]), hide_index=True)
        st.caption(d["citation"])
        if d["note"]:
            st.caption(d["note"])


# ----------------------------------------------------------------------------- page
def main() -> None:
    st.title("dyadsim explorer")
    st.caption("The integrated model of perinatal opioid use, parenting, infant attachment and "
               "child well-being (Reese, Conradt, Riquino & Garland 2021), executable. Set a "
               "scenario on the left; every result is compared with a baseline run of the "
               "same population, N and seed with nothing switched on or off. Many parameters "
               "are uncalibrated guesses: these are model predictions, not clinical "
               "estimates.")
    scenario, colour_by = sidebar()
    t0 = time.perf_counter()
    try:
        scenario.check()
        base = simulate_cached(scenario.baseline())
        this = simulate_cached(scenario)
    except ValueError as exc:
        st.error(f"This setting cannot run: {exc}")
        return
    elapsed = time.perf_counter() - t0
    st.caption(f"Updated in {elapsed:.1f} s ({scenario.dyads} dyads per run; a run already "
               "made is reused).", help="Time from the change to the result on this machine.")
    st.session_state["last_update_s"] = elapsed

    params = this.meta()["parameters"]
    if colour_by == "difference from baseline":
        values = node_differences(this.ds, base.ds)
        d = build_diagram(values, params, "difference",
                          "standardized difference, this scenario minus baseline")
        legend = ("Box colour: how this scenario differs from the baseline, in standard "
                  "deviations between dyads (orange higher, blue lower, white the same).")
    else:
        d = build_diagram(node_levels(this.ds), params, "level", "mean level")
        legend = "Box colour: the average level in this scenario (white low, dark blue high)."

    st.subheader("The model's graph (Figures 1 and 2), driven by this result")
    level = st.radio("Graph", ["domains (Figure 1 boxes)", "every node"], horizontal=True,
                     key="graph_level", label_visibility="collapsed")
    col_graph, col_info = st.columns([3, 1])
    with col_graph:
        if level == "every node":
            fig = graph_figure(d, st.session_state.get("focus"))
            note = (" Arrows: green raises, magenta lowers; width is the weight; dashed grey "
                    "is knocked out. Click a node to see only its own edges.")
        else:
            fig = domain_figure(d)
            note = (" Box colour: the mean of its nodes. Bundles: all edges from one domain "
                    "to another (width: how many; green when most raise, magenta when most "
                    "lower); edges within a domain are not drawn here. Click a box or a "
                    "bundle's dot for what is in it.")
        event = st.plotly_chart(fig, key="graph" if level == "every node" else "domains",
                                on_select="rerun", selection_mode=("points",),
                                width="stretch", config={"displayModeBar": False})
        st.caption(legend + note + " Hover for details.")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    clicked = next((p.get("customdata") for p in points if p.get("customdata")), None)
    if level == "every node":
        # a click redraws the graph around the clicked node (which resets the chart's
        # selection), so the click is kept until the next one or a choice below
        if clicked is not None:
            st.session_state["picked"] = clicked
            focus = clicked[5:] if clicked.startswith("node:") else None
            if focus != st.session_state.get("focus"):
                st.session_state["focus"] = focus
                st.rerun()
        clicked = clicked or st.session_state.get("picked")
    choices = [f"node:{n.id}" for n in NODES] + [f"edge:{e.weight_name}" for e in EDGES]
    with col_info:
        pick = st.selectbox("Explain", [None, *choices], key="explain",
                            on_change=lambda: st.session_state.pop("picked", None),
                            format_func=lambda c: "(choose a node or edge)" if c is None else
                            NODE_BY_ID[c[5:]].label if c.startswith("node:") else
                            edge_label(c[5:]))
        details_panel(clicked or pick, params, d)

    st.subheader("Outcomes: this scenario against the baseline")
    rows_a, rows_b = outcome_rows(this.summary), outcome_rows(base.summary)
    table = pd.DataFrame([(a[0], a[1], b[1], difference_from_baseline(this.ds, base.ds, a[0]))
                          for a, b in zip(rows_a, rows_b, strict=True)],
                         columns=["outcome", "this scenario", "baseline",
                                  "difference from baseline (95% CI)"]).set_index("outcome")
    st.table(table)
    st.caption("Shares of dyads (or of days) in %, with 95% confidence intervals; parenting "
               "and well-being on 0-1 scales. Difference: this scenario minus the baseline, "
               "dyad by dyad (the same dyads with the same random numbers), in percentage "
               "points (pp) for shares; the mean over dyads of each dyad's share of days, "
               "so it can differ slightly from the pooled shares beside it.")

    fig = trajectory_figure({"this scenario": this, "baseline": base})
    if fig is not None:
        st.subheader("Trajectories")
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
        st.caption("Average over dyads (line) with its 95% confidence interval (band); each "
                   "axis in the node's unit. The dashed line marks birth (median birth day); "
                   "infant and dyad states start at each dyad's birth.")

    st.subheader("Take it with you")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button("Download scenario (TOML)", scenario.to_toml(),
                           file_name="scenario.toml", mime="application/toml",
                           key="download_toml")
        st.caption("Reproduce these numbers exactly: `dyadsim simulate scenario.toml "
                   "--out my_run`")
    with c2:
        if st.button("Build the report (HTML)", key="build_report"):
            from dyadsim.reports.html import simulation_report

            with st.spinner("writing the report"):
                st.session_state["report"] = (scenario.to_toml(), simulation_report(
                    this.ds, this.summary, this.meta(),
                    baseline=("baseline", base.ds, base.summary)))
        built = st.session_state.get("report")
        if built and built[0] == scenario.to_toml():
            st.download_button("Download the report", built[1], file_name="report.html",
                               mime="text/html", key="download_report")


main()
