"""``dyadsim graph``, ``params``, ``populations``, ``interventions``, ``methods``,
``outcomes`` and ``instruments``: what the model holds (its causal graph as JSON, Graphviz DOT
or Mermaid; its parameters; its population presets) and the names a scenario or a trial spec
may use, as a table or JSON (``instruments --check`` simulates each instrument's reference
population).
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ..model.graph import EDGES, NODES, graph_dict
from ..model.params import PARAMS
from ..model.populations import PRESETS
from ._common import (
    _console,
    _fail,
    _input_errors,
    _stdout,
    app,
)


class GraphFormat(StrEnum):
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class PopulationFormat(StrEnum):
    table = "table"
    json = "json"


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


_KIND_FILL = {"maternal": "#fde0dd", "infant": "#deebf7", "dyad": "#e5f5e0",
              "intervention": "#fff7bc", "context": "#f0f0f0"}
_POS, _NEG = "#1b7837", "#c51b7d"


def _edge_label(e) -> str:
    if e.type == "gain":
        return f"gain {e.sign} on " + ",".join(f"{m}->{e.target}" for m in e.modulates)
    if e.type == "windowed" and e.window:
        return f"{e.sign} pp days {e.window[0]}..{e.window[1]}"
    return e.sign


def graph_dot() -> str:
    """Graphviz DOT. Colour and style by sign (+ green solid, - red dashed), gain edges
    dotted with a label, Figure 2 (MORE) edges bold with an open arrowhead, text-only
    (figure 0) edges thin."""
    lines = [
        "digraph dyadsim {",
        '  graph [rankdir=LR, fontname="Helvetica", label="Reese, Conradt, Riquino & Garland '
        '2021: Figures 1 and 2 as executed by dyadsim", labelloc=t];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for n in NODES:
        lines.append(f"  {_dot_quote(n.id)} [label={_dot_quote(n.label)}, "
                     f"fillcolor={_dot_quote(_KIND_FILL.get(n.kind, 'white'))}, "
                     f"tooltip={_dot_quote(n.meaning)}];")
    for e in EDGES:
        attrs = {"color": _POS if e.sign == "+" else _NEG}
        if e.type == "gain":
            attrs.update(style="dotted", label=_edge_label(e))
        else:
            attrs["style"] = "solid" if e.sign == "+" else "dashed"
            if e.type == "windowed":
                attrs["label"] = _edge_label(e)
        if e.figure == 2:
            attrs.update(penwidth="2.5", arrowhead="vee")
        elif e.figure == 0:
            attrs["penwidth"] = "0.7"
        attrs["tooltip"] = f"{e.weight_name} ({e.type}, {e.sign}, figure {e.figure}, " \
                           f"{e.basis}): {e.citation}"
        body = ", ".join(f"{k}={_dot_quote(str(v))}" for k, v in attrs.items())
        lines.append(f"  {_dot_quote(e.source)} -> {_dot_quote(e.target)} [{body}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_mermaid() -> str:
    """Mermaid ``flowchart LR``: ``-->|+|`` direct edges, ``==>`` Figure 2 (MORE) edges,
    ``-.->|gain ...|`` gain edges; negative edges drawn red."""
    lines = ["flowchart LR"]
    for n in NODES:
        label = n.label.replace('"', "#quot;")
        lines.append(f'  {n.id}["{label}"]:::{n.kind}')
    neg = []
    for i, e in enumerate(EDGES):
        arrow = "-.->" if e.type == "gain" else "==>" if e.figure == 2 else "-->"
        label = _edge_label(e).replace("|", "/")
        lines.append(f"  {e.source} {arrow}|{label}| {e.target}")
        if e.sign == "-":
            neg.append(i)
    for kind, fill in _KIND_FILL.items():
        lines.append(f"  classDef {kind} fill:{fill},stroke:#555")
    for start in range(0, len(neg), 40):
        idx = ",".join(map(str, neg[start:start + 40]))
        lines.append(f"  linkStyle {idx} stroke:{_NEG},color:{_NEG}")
    return "\n".join(lines) + "\n"


@app.command("graph")
def graph_cmd(
    format: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")]
    = GraphFormat.json,
) -> None:
    """Print the model's causal graph (Figures 1 and 2): every node and edge with its sign,
    type, figure, basis and citation. Only the graph is printed, so it can be piped, e.g.
    `dyadsim graph --format dot | dot -Tsvg > graph.svg`."""
    if format is GraphFormat.json:
        _stdout(json.dumps(graph_dict(), indent=2, ensure_ascii=False))
    elif format is GraphFormat.dot:
        _stdout(graph_dot())
    else:
        _stdout(graph_mermaid())


@app.command("params")
def params_cmd(
    guesses_only: Annotated[bool, typer.Option("--guesses-only",
                                               help="Only parameters whose value is a guess.")]
    = False,
    format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]
    = TableFormat.table,
) -> None:
    """List every model parameter: name, default, bounds, unit, meaning and source
    (guesses highlighted)."""
    ps = [p for p in PARAMS.values() if p.is_guess or not guesses_only]
    fields = ("name", "default", "lo", "hi", "unit", "guess", "source", "meaning")
    records = [{"name": p.name, "default": p.default, "lo": p.lo, "hi": p.hi, "unit": p.unit,
                "guess": p.is_guess, "source": p.source, "meaning": p.meaning} for p in ps]
    if format is TableFormat.json:
        _stdout(json.dumps(records, indent=2, ensure_ascii=False))
        return
    if format is TableFormat.csv:
        w = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(records)
        sys.stdout.flush()
        return
    n_guess = sum(p.is_guess for p in ps)
    table = Table(title=f"dyadsim parameters ({len(ps)}; {n_guess} guesses, in yellow)",
                  title_justify="left")
    console = _console()
    longest = max((len(p.name) for p in ps), default=4)
    table.add_column("name", style="bold", overflow="fold",
                     max_width=longest if console.width >= 2 * longest + 60 else 42)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("bounds", justify="right", no_wrap=True)
    table.add_column("unit", max_width=18)
    table.add_column("source", ratio=1)
    for p in ps:
        table.add_row(Text(p.name), f"{p.default:g}", Text(f"[{p.lo:g}, {p.hi:g}]"),
                      Text(p.unit),
                      Text(p.source, style="yellow" if p.is_guess else "green"))
    console.print(table)


@app.command("populations")
def populations_cmd(
    format: Annotated[PopulationFormat, typer.Option("--format", "-f",
                                                     help="table, or json (every field).")]
    = PopulationFormat.table,
) -> None:
    """List the population presets (use a name with `simulate --population`)."""
    if format is PopulationFormat.json:
        _stdout(json.dumps({k: p.to_dict() for k, p in PRESETS.items()}, indent=2,
                           ensure_ascii=False))
        return
    table = Table(title="dyadsim population presets", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("pregnancy", no_wrap=True)
    table.add_column("start", no_wrap=True)
    table.add_column("description", ratio=1)
    table.add_column("init", justify="right", no_wrap=True)
    table.add_column("parameter overrides", max_width=28)
    for p in PRESETS.values():
        table.add_row(Text(p.name), "yes" if p.pregnancy else "no", Text(p.default_start),
                      Text(p.description),
                      str(len(p.init)),
                      ", ".join(f"{k}={v:g}" for k, v in p.params.items()) or "-")
    _console().print(table)


def _listing(title: str, rows: list[dict[str, Any]], json_out: bool,
             columns: tuple[str, ...] | None = None) -> None:
    """Print ``rows`` as a table of ``columns`` (default all; the first never wraps), or
    every field as JSON."""
    if json_out:
        _stdout(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    cols = columns or tuple(rows[0])
    table = Table(title=Text(title), title_justify="left")
    for i, col in enumerate(cols):
        table.add_column(col, no_wrap=i == 0, style="bold" if i == 0 else None)
    for r in rows:
        table.add_row(*(Text("-" if r[c] is None else str(r[c])) for c in cols))
    _console().print(table)


JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


@app.command("interventions")
def interventions_cmd(json_out: JsonOption = False) -> None:
    """List the interventions a trial arm or a scenario may name (`interventions = [...]`):
    sessions per component, attendance and practice when engaged, source."""
    from ..interventions.library import LIBRARY

    rows = [{"name": iv.name, "label": iv.label,
             "sessions": ", ".join(f"{c.skill} {c.sessions}" for c in iv.components) or "-",
             "moud": iv.moud_drug or ("yes" if iv.moud else "-"),
             "source": iv.citation, "guess": iv.guess or "-"} for iv in LIBRARY.values()]
    _listing("dyadsim interventions (trial arms: interventions = [...]; --json for sources "
             "and guesses)", rows, json_out, ("name", "sessions", "moud", "label"))


@app.command("methods")
def methods_cmd(json_out: JsonOption = False) -> None:
    """List the analysis methods a trial's [[analysis]] may name: the effects each reports
    (the first is the default) and the fields it uses (docs/trial-spec.md)."""
    from ..trials.methods import METHODS

    rows = [{"method": m.name, "effects": ", ".join(m.effects),
             "fields": ", ".join(sorted(m.fields)), "estimate": m.summary}
            for m in METHODS.values()]
    _listing("dyadsim analysis methods ([[analysis]] method = ...)", rows, json_out)


@app.command("outcomes")
def outcomes_cmd(json_out: JsonOption = False) -> None:
    """List the outcome names: per-dyad outcomes (--outcome/--outcomes of mechanisms,
    knockout, sensitivity; any node id works too) and the events of a trial's cox
    analysis (event = ...)."""
    from ..analysis.outcomes import OUTCOMES
    from ..trials.spec import EVENTS

    rows = [{"name": o.name, "where": "--outcome(s)", "meaning": o.meaning}
            for o in OUTCOMES.values()]
    rows.append({"name": "<node id>", "where": "--outcome(s)",
                 "meaning": "a node's value on the last simulated day (`dyadsim graph`)"})
    rows += [{"name": e, "where": "trial event", "meaning": "time to the first "
              + e.replace("_", " ") + " ([[analysis]] method = \"cox\")"} for e in EVENTS]
    _listing("dyadsim outcomes", rows, json_out)


@app.command("instruments")
def instruments_cmd(
    population: Annotated[str | None, typer.Option(
        "--population", metavar="PRESET", help="Only the instruments a trial of this "
        "population may use (the others listed below the table with the reason).",
        show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="Simulate each instrument's "
                                        "reference population and print published vs "
                                        "realised reliability, SD and test-retest r.")]
    = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON: with --check a list, one "
                                           "object per instrument.")] = False,
    dyads: Annotated[int, typer.Option(help="Dyads per reference population (--check).")]
    = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the reference simulations (--check); "
                                      "not the calibration's 20260131, so item scales' "
                                      "alpha, omega and parallel-forms r are out of "
                                      "sample.")]
    = 20260207,
) -> None:
    """List the measurement instruments; --check compares each with its published figures
    in its reference population (published in plain, declared guesses in brackets)."""
    from ..trials.instruments import INSTRUMENTS, registry_table
    from ..trials.instruments.calibrate import CHECK_COLUMNS, format_rows
    from ..trials.instruments.calibrate import check as check_instruments

    if dyads < 10:
        _fail(f"--dyads must be at least 10, got {dyads}")
    if population is not None and not check:
        from ..trials.reference import instrument_rows

        with _input_errors():
            rows = instrument_rows(population)
        usable = [r for r in rows if not r["use"].startswith("not in")]
        if json_out:
            _stdout(json.dumps(usable, indent=2, ensure_ascii=False))
            return
        _listing(f"dyadsim instruments a trial of {population} may use", usable, False,
                 ("name", "use", "reads", "window_days", "label"))
        for r in rows:
            if r not in usable:
                _stdout(f"{r['name']}: {r['use']}")
        return
    if not check:
        table_df = registry_table()
        if json_out:
            _stdout(table_df.to_json(orient="records", indent=2))
            return
        table = Table(title="dyadsim instruments", title_justify="left")
        for col in ("name", "kind", "reference", "reliability", "label"):
            table.add_column(col, no_wrap=col in ("name", "kind", "reliability"),
                             ratio=1 if col == "label" else None)
        for row in table_df.itertuples():
            rel = "-" if row.reliability is None or row.reliability != row.reliability \
                else f"{row.reliability:g}"
            table.add_row(Text(row.name), row.kind, Text(row.reference or "-"), rel,
                          Text(row.label))
        _console().print(table)
        return
    err = _console(stderr=True)
    with err.status("simulating reference populations") as status, _input_errors():
        rows = check_instruments(
            INSTRUMENTS, dyads=dyads, seed=seed,
            on_population=lambda p: status.update(f"simulating reference population {p}"))
    if json_out:
        _stdout(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"dyadsim instruments: published vs realised ({dyads} dyads per "
                  f"reference population, seed {seed})", title_justify="left",
                  caption="published -> realised; (declared guess) -> realised; n/p = not "
                  "published. Reliability: share of observed variance that is true-score "
                  "variance; item scales (answered item by item) add Cronbach's alpha, "
                  "McDonald's omega and the parallel-forms r, measured on a seed other "
                  "than the calibration's, and (indented) rows for the other populations "
                  "their examples use them in. Floor / ceiling: shares at the scale's "
                  "ends.", caption_justify="left")
    for col in CHECK_COLUMNS:
        table.add_column(col, no_wrap=col != "remark", ratio=1 if col == "remark" else None)
    for cells in format_rows(rows):
        table.add_row(*(Text(c) for c in cells))
    _console().print(table)
