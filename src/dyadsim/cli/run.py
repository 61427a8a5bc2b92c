"""The ``dyadsim`` command line.

Commands: ``graph`` (the model's causal graph as JSON, Graphviz DOT or Mermaid), ``params``
(every declared parameter), ``populations`` (the population presets), ``simulate`` (run a
scenario and write trajectories, a per-dyad table, a summary and a manifest into a folder),
``demo`` (the default scenario against low-risk mothers, as one table), ``check`` (the
perinatal course at default parameters against published ranges), ``trial`` (run an
in-silico randomised trial from a TOML spec, once or as replicates), ``power`` (power
by simulation over sample sizes), ``report`` (one self-contained HTML report of a run) and
``explore`` (the local web explorer). Long commands show a progress bar with ETA on a
terminal only; ``--quiet`` hides it.

Bad input (a scenario, parameter, population, node, start, horizon or record option that
the model refuses) ends the command with one line ``error: ...`` on stderr and exit code 2,
before anything is written.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ._io import atomic_dir, check_out_dir, note_output
from ._io import git_commit as _git_commit
from ._version import __version__
from .model.graph import EDGES, NODES, graph_dict
from .model.params import PARAMS
from .model.populations import PRESETS

app = typer.Typer(
    name="dyadsim",
    help="Simulate opioid-exposed mother-infant dyads with the integrated mechanistic model "
         "of Reese, Conradt, Riquino & Garland (2021).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
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


class TrajectoryFormat(StrEnum):
    netcdf = "netcdf"


class InputError(ValueError):
    """Bad command-line input found by the CLI itself (not by the model)."""


# --------------------------------------------------------------------------- helpers
def _fail(message: str, code: int = 2) -> NoReturn:
    text = " ".join(str(message).split()) or "invalid input"
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def _input_errors(resumable: bool = False) -> Iterator[None]:
    """Turn the model's ValueErrors (ScenarioError, ParameterError, PopulationError) and
    every OSError (a full disk, a read-only folder, ...) into one line on stderr and exit
    code 2 (a trial spec with several problems: one line each); Ctrl-C into one line
    (saying how to resume where the work is checkpointed) and exit code 130."""
    try:
        yield
    except ValueError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]  # a trial spec's: every one
        for problem in problems[:-1]:
            typer.echo(f"error: {' '.join(str(problem).split())}", err=True)
        _fail(problems[-1])
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        _fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        typer.echo("interrupted; rerun the same command to resume" if resumable
                   else "interrupted", err=True)
        raise typer.Exit(130) from None


def _console(stderr: bool = False) -> Console:
    """A rich console; 120 columns when the output is not a terminal (a pipe or a file) and
    COLUMNS is unset, so tables stay readable there."""
    console = Console(stderr=stderr)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, width=120)
    return console


def _stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dyadsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                          is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """Simulate opioid-exposed mother-infant dyads (Reese et al. 2021 model)."""
    from .engine import configure_jax

    configure_jax()  # JAX's settings at the entry point, before any command computes


# --------------------------------------------------------------------------- graph
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


@app.command()
def graph(
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


# --------------------------------------------------------------------------- params
@app.command()
def params(
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


@app.command()
def populations(
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
    from .interventions.library import LIBRARY

    rows = [{"name": iv.name, "label": iv.label,
             "sessions": ", ".join(f"{c.skill} {c.sessions}" for c in iv.components) or "-",
             "moud": iv.moud_drug or ("yes" if iv.moud else "-"),
             "source": iv.citation, "guess": iv.guess or "-"} for iv in LIBRARY.values()]
    _listing("dyadsim interventions (trial arms: interventions = [...]; --json for sources "
             "and guesses)", rows, json_out, ("name", "sessions", "moud", "label"))


@app.command()
def methods(json_out: JsonOption = False) -> None:
    """List the analysis methods a trial's [[analysis]] may name: the effects each reports
    (the first is the default) and the fields it uses (docs/trial-spec.md)."""
    from .trials.methods import METHODS

    rows = [{"method": m.name, "effects": ", ".join(m.effects),
             "fields": ", ".join(sorted(m.fields)), "estimate": m.summary}
            for m in METHODS.values()]
    _listing("dyadsim analysis methods ([[analysis]] method = ...)", rows, json_out)


@app.command()
def outcomes(json_out: JsonOption = False) -> None:
    """List the outcome names: per-dyad outcomes (--outcome/--outcomes of mechanisms,
    knockout, sensitivity; any node id works too) and the events of a trial's cox
    analysis (event = ...)."""
    from .analysis.outcomes import OUTCOMES
    from .trials.spec import EVENTS

    rows = [{"name": o.name, "where": "--outcome(s)", "meaning": o.meaning}
            for o in OUTCOMES.values()]
    rows.append({"name": "<node id>", "where": "--outcome(s)",
                 "meaning": "a node's value on the last simulated day (`dyadsim graph`)"})
    rows += [{"name": e, "where": "trial event", "meaning": "time to the first "
              + e.replace("_", " ") + " ([[analysis]] method = \"cox\")"} for e in EVENTS]
    _listing("dyadsim outcomes", rows, json_out)


@app.command()
def instruments(
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
    seed: Annotated[int, typer.Option(help="Seed of the reference simulations (--check).")]
    = 20260131,
) -> None:
    """List the measurement instruments; --check compares each with its published figures
    in its reference population (published in plain, declared guesses in brackets)."""
    from .trials.instruments import INSTRUMENTS, registry_table
    from .trials.instruments.calibrate import check as check_instruments
    from .trials.instruments.calibrate import format_rows

    if dyads < 10:
        _fail(f"--dyads must be at least 10, got {dyads}")
    if population is not None and not check:
        from .trials.reference import instrument_rows

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
                  "variance.", caption_justify="left")
    for col in ("instrument", "reference", "reliability", "SD", "test-retest r", "remark"):
        table.add_column(col, no_wrap=col != "remark", ratio=1 if col == "remark" else None)
    for cells in format_rows(rows):
        table.add_row(*(Text(c) for c in cells))
    _console().print(table)


# --------------------------------------------------------------------------- simulate
def _pairs(items: list[str] | None, option: str, what: str) -> dict[str, float]:
    """Parse repeated ``name=value`` options; values are floats."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InputError(f"{option} {item!r} must look like {what}=value")
        try:
            out[name] = float(value)
        except ValueError:
            raise InputError(f"{option} {name}: value {value!r} is not a number") from None
    return out


def _have_h5py() -> bool:
    return importlib.util.find_spec("h5py") is not None


def _command_line(ctx: typer.Context) -> str:
    """The command as given (the options taken from the command line, in canonical form)."""
    parts = ["dyadsim", ctx.info_name or "simulate"]
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if source is None or source.name != "COMMANDLINE":
            continue
        value = ctx.params.get(param.name)
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            v = v.value if isinstance(v, Enum) else v
            if param.param_type_name == "argument":
                parts.append(str(v))
            elif getattr(param, "is_flag", False):
                if v:
                    parts.append(param.opts[0])
            else:
                parts += [param.opts[0], str(v)]
    return shlex.join(parts)


def _check_out(out: Path, force: bool) -> None:
    try:
        check_out_dir(out, force, hint="use --force to replace it")
    except FileExistsError as exc:
        raise InputError(str(exc)) from None


#: Bytes per dyad besides its trajectories (outcomes: 172 B in the result; the burn-in's
#: key table, its sort and the enrolment states), rounded up.
DYAD_BYTES = 1024
#: Copies of the trajectories held at the peak (the chunks' parts, the joined arrays, the
#: file being written): the peak grew 2.8x the result's size per added dyad (10,000 ->
#: 30,000 dyads recorded weekly: +1.7 GB for +0.6 GB of result).
TRAJECTORY_COPIES = 3


def _available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _size(b: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if b < 1000 or unit == "TB":
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} TB"


def _check_memory(sc: dict, dyads: int | None, record: str | None,
                  horizon: str | None) -> None:
    """Refuse, before simulating, a run whose dyads' data alone (trajectories and
    outcomes at their peak, beside the ~1 GB the engine and libraries hold whatever the
    size) would exceed the memory available: the estimate, and how to make the run fit.
    The estimate takes the most days possible (from gestational week 4) and is rough (see
    :data:`TRAJECTORY_COPIES`); a value simulate would refuse is left to simulate's own
    message."""
    from .model.graph import NODES as nodes
    from .simulation import RECORD_PERIODS, parse_horizon

    n = dyads if dyads is not None else sc.get("dyads", 1000)
    rec = record or sc.get("record", "weekly")
    try:
        days = 42 * 7 - 4 * 7 + parse_horizon(horizon if horizon is not None
                                              else sc.get("horizon")) + 1
    except ValueError:
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or not isinstance(rec, str):
        return
    periods = 0 if rec == "none" else -(-days // RECORD_PERIODS.get(rec, days))
    per_dyad = TRAJECTORY_COPIES * periods * (len(nodes) + 1) * 4 + DYAD_BYTES
    need, have = n * per_dyad, _available_memory()
    if have is None or need <= have:
        return
    fits = have // per_dyad
    hint = ("" if rec == "none" else "use --record none (outcomes only) or a coarser "
            "--record, or ") + (f"run at most about {fits:,} dyads at a time (several runs "
                                "with different --seed)" if fits else "free some memory")
    what = "(outcomes only)" if rec == "none" else f"recorded {rec}"
    raise InputError(f"{n:,} dyads {what} need about {_size(need)} of memory for their "
                     f"data, more than the {_size(have)} available; {hint}")


QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (it "
                                           "shows only on a terminal anyway).")]
PosteriorOption = Annotated[str | None, typer.Option(
    "--posterior", metavar="shipped|PATH|prior", help="Carry parameter uncertainty: draws "
    "from the shipped posterior, a posterior JSON file or the prior (issue 8).",
    show_default=False)]


def _parameter_source(posterior: str | None):
    """The ``--posterior`` source (None without one); a bad file is a one-line error."""
    if posterior is None:
        return None
    from .uncertainty import load_source

    return load_source(posterior)
ReportOption = Annotated[bool, typer.Option("--report", help="Also write OUT/report.html: "
                                            "one self-contained HTML report of the run.")]


def _progress(console: Console, quiet: bool = False) -> Progress:
    """A progress bar with ETA on a terminal; silent in a pipe, a file or with --quiet."""
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                    BarColumn(), MofNCompleteColumn(), TextColumn("dyads"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=console, transient=True,
                    disable=quiet or not console.is_terminal)


def _write_report(run_dir: Path, wanted: bool) -> Path | None:
    """``--report``: write RUN_DIR/report.html (atomically) after the run is written."""
    if not wanted:
        return None
    path = _report(run_dir, Path(run_dir) / "report.html")
    note_output(path.parent, path.name)
    return path


def _report(run_dir: Path, out: Path | None) -> Path:
    """Write the HTML report; each section it cannot build is a ``warning:`` line on
    stderr (and a note in the page)."""
    import warnings

    from .reports.html import ReportWarning, write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReportWarning)
        path = write_report(run_dir, out)
    for w in caught:
        if issubclass(w.category, ReportWarning):
            typer.echo(f"warning: {w.message}", err=True)
    return path


def _dyad_table(ds) -> Any:
    """One row per dyad: every variable with only the ``dyad`` dimension, and dyad_id."""
    import pandas as pd

    cols: dict[str, Any] = {"dyad_id": ds["dyad"].values}
    for name, var in ds.data_vars.items():
        if var.dims == ("dyad",):
            cols[str(name)] = var.values
    return pd.DataFrame(cols)


def _write_parquet(df, path: Path, meta: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[b"dyadsim"] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(md), path)


@app.command()
def simulate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; must not "
                                      "exist or be empty unless --force).",
                                      show_default=False)],
    scenario: Annotated[Path | None, typer.Argument(
        metavar="SCENARIO.toml",
        help="Scenario TOML (keys: population, params, do, start, horizon, record, dyads, "
             "seed, name, description). Options override its entries.",
        show_default=False)] = None,
    dyads: Annotated[int | None, typer.Option(
        help="Number of dyads (default: the scenario's, else 1000).", show_default=False)]
    = None,
    seed: Annotated[int | None, typer.Option(
        help="Random seed (default: the scenario's, else 0).", show_default=False)] = None,
    record: Annotated[str | None, typer.Option(
        help="Trajectory recording: daily, weekly, monthly or none (outcomes only) "
             "(default: the scenario's, else weekly).", show_default=False)] = None,
    population: Annotated[str | None, typer.Option(
        help="Population preset (see `dyadsim populations`) (default: the scenario's, else "
             "pregnant_oud_moud).", show_default=False)] = None,
    start: Annotated[str | None, typer.Option(
        help="Start: gw20 (gestational week), pp42 / pp6w (postpartum day/week) or day0 "
             "(default: the population's).", show_default=False)] = None,
    horizon: Annotated[str | None, typer.Option(
        help="Horizon after birth (or after the start without a pregnancy): days or "
             "'24m', '40w', '90d' (default: the scenario's, else 24m).", show_default=False)]
    = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="Override a parameter: name=value (repeatable; see `dyadsim params`).",
        show_default=False)] = None,
    do: Annotated[list[str] | None, typer.Option(
        "--do", metavar="NODE=VALUE",
        help="Clamp a node for the whole run: node=value (repeatable; see `dyadsim graph`).",
        show_default=False)] = None,
    format: Annotated[TrajectoryFormat, typer.Option(
        "--format", help="Trajectory file format.")] = TrajectoryFormat.netcdf,
    posterior: PosteriorOption = None,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", help="With --posterior: the dyads are split across this many "
        "parameter draws.")] = 20,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: ReportOption = False,
    quiet: QuietOption = False,
) -> None:
    """Simulate dyads and write OUT/trajectories.nc (unless --record none), dyads.parquet
    (one row per dyad), summary.json and manifest.json. The folder appears complete or not
    at all. With --posterior the dyads are split across --posterior-draws parameter draws
    (dyad i under draw i*K//N, column posterior_draw), so the results carry parameter
    uncertainty, not only sampling noise."""
    from ._io import read_toml
    from .reports.demo import outcome_rows
    from .reports.summary import summarize
    from .simulation import simulate as run_simulation

    with _input_errors():
        overrides = _pairs(set_, "--set", "name")
        clamps = _pairs(do, "--do", "node")
        _check_out(out, force)
        sc = read_toml(scenario, "scenario") if scenario is not None else {}
        if (record or sc.get("record", "weekly")) != "none" and not _have_h5py():
            _fail("writing trajectories.nc needs the h5py package (pip install h5py); "
                  "or run with --record none", code=1)
        _check_memory(sc, dyads, record, horizon)
        n = dyads if dyads is not None else sc.get("dyads", 1000)
        total = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None
        source = _parameter_source(posterior)
        with _progress(_console(stderr=True), quiet) as prog:
            task = prog.add_task("simulating", total=total)
            common = {"dyads": dyads, "seed": seed, "population": population,
                      "params": overrides, "do": clamps, "start": start, "horizon": horizon,
                      "record": record, "progress": lambda m: prog.advance(task, m)}
            if source is None:
                ds = run_simulation(sc, **common)
            else:
                from .simulation import simulate_over_draws

                sd = seed if seed is not None else sc.get("seed", 0)
                if isinstance(sd, bool) or not isinstance(sd, int) or sd < 0:
                    raise InputError(f"seed must be a non-negative integer, got {sd!r}")
                ds = simulate_over_draws(sc, source.draws(posterior_draws, sd), **common)
        _check_out(out, force)

    summary = summarize(ds)
    attrs = ds.attrs
    files = (["trajectories.nc"] if attrs["record"] != "none" else []) + \
        ["dyads.parquet", "summary.json", "manifest.json"]
    manifest = {
        "dyadsim_version": __version__,
        "git_commit": _git_commit(),
        "command": _command_line(ctx),
        "argv": list(sys.argv),
        "seed": int(attrs["seed"]),
        "dyads": int(attrs["dyads"]),
        "scenario": None if scenario is None else {
            "path": str(scenario.resolve()), "content": sc},
        "population": json.loads(attrs["population"]),
        "start": attrs["start"],
        "horizon": horizon if horizon is not None else sc.get("horizon", "24m"),
        "horizon_days": int(attrs["horizon_days"]),
        "record": attrs["record"],
        "do": json.loads(attrs["do"]),
        "changed_parameters": json.loads(attrs["changed_parameters"]),
        "parameters": json.loads(attrs["parameters"]),
        "trajectory_format": format.value if attrs["record"] != "none" else None,
        "posterior": None if source is None else {
            **source.provenance(), "draws": posterior_draws,
            "assignment": "dyad i runs under draw i*K//N (column posterior_draw); "
                          "parameters lists the run-wide values before the draws"},
        "files": files,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    out = out.absolute()
    # the location was checked before simulating; an error while writing is one line too
    with _input_errors(), atomic_dir(out, force=force, hint="use --force to replace it") \
            as tmp:
        if attrs["record"] != "none":
            ds.to_netcdf(tmp / "trajectories.nc", engine="h5netcdf")
        _write_parquet(_dyad_table(ds), tmp / "dyads.parquet",
                       {k: manifest[k] for k in ("dyadsim_version", "seed", "dyads",
                                                 "population", "start", "horizon_days",
                                                 "do", "parameters")})
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str, ensure_ascii=False) + "\n")
    if _write_report(out, report):
        files.append("report.html")

    title = (f"Simulated {manifest['dyads']} dyads ({manifest['population']['name']}, "
             f"seed {manifest['seed']})")
    caption = (f"start {manifest['start']}, horizon {manifest['horizon_days']} days, record "
               f"{manifest['record']}; wrote {out}: {', '.join(files)}")
    if source is not None:
        caption += (f"; dyads split across {posterior_draws} parameter draws from "
                    f"{posterior}: means over all draws, CIs as if dyads were "
                    "independent (per draw: group dyads.parquet by posterior_draw)")
    table = Table(title=Text(title), caption=Text(caption), title_justify="left",
                  caption_justify="left")
    table.add_column("Outcome", style="bold")
    table.add_column("mean (95% CI)", justify="right")
    for row in outcome_rows(summary, brief=True):
        table.add_row(*row)
    _console().print(table)


# --------------------------------------------------------------------------- demo
@app.command()
def demo(
    dyads: Annotated[int, typer.Option(min=1, help="Dyads per population.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (same for both).")] = 1,
    quiet: QuietOption = False,
) -> None:
    """Simulate pregnant women with OUD on MOUD and low-risk mothers from gestational week
    20 to 24 months postpartum, and print their main outcomes side by side."""
    from .reports.demo import DEMO_POPULATIONS, demo_rows, demo_table
    from .reports.summary import summarize
    from .simulation import simulate as run_simulation

    summaries = []
    with _input_errors(), _progress(_console(stderr=True), quiet) as prog:
        tasks = [prog.add_task(name, total=dyads) for name, _ in DEMO_POPULATIONS]
        for (name, _), task in zip(DEMO_POPULATIONS, tasks, strict=True):
            advance: Callable[[int], None] = lambda m, t=task: prog.advance(t, m)  # noqa: E731
            ds = run_simulation(None, dyads=dyads, seed=seed, population=name, start="gw20",
                                horizon="24m", record="none", progress=advance)
            summaries.append(summarize(ds))
    rows = demo_rows(summaries[0], summaries[1])
    headings = [f"{label}\n({name})" for name, label in DEMO_POPULATIONS]
    _console().print(demo_table(
        rows, headings,
        title=f"dyadsim demo: {dyads} dyads per population, seed {seed}, "
              "gestational week 20 to 24 months postpartum",
        caption="Shares in % (of dyads, or of days), with 95% CIs where available; "
                "parenting and well-being on 0-1 scales. Many parameters are still "
                "uncalibrated guesses (`dyadsim params --guesses-only`): these are the "
                "model's predictions, not clinical estimates."))


# --------------------------------------------------------------------------- trial
# --------------------------------------------------------------------------- check
@app.command()
def check(
    out: Annotated[Path, typer.Option("--out", help="Folder for checks.json and checks.md.")],
    dyads: Annotated[int, typer.Option(help="Dyads per simulated run (>= 10).")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE", help="Override a parameter (repeatable).")] = None,
    posterior: PosteriorOption = None,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", min=2, help="With --posterior: parameter draws (each one "
        "simulation of every run).")] = 20,
    posterior_dyads: Annotated[int | None, typer.Option(
        "--posterior-dyads", min=10, help="With --posterior: dyads per draw and run "
        "(default: --dyads / --posterior-draws).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: QuietOption = False,
    reach: Annotated[bool, typer.Option(
        "--reach", help="Instead of the check table: the reachability table of the "
        "calibration targets (reach.json, reach.md), the range each target takes over the "
        "defaults and --reach-draws points of the prior. Resumable: replications are kept "
        "in OUT.store/ until OUT is written.")] = False,
    reach_draws: Annotated[int, typer.Option(
        "--reach-draws", min=2, help="With --reach: scrambled Sobol points of the prior "
        "(each one replication of every study).")] = 32,
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="With --reach: targets TOML (default: the shipped published "
        "targets).", show_default=False)] = None,
    allow_outside_paths: AllowOutsideOption = False,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
) -> None:
    """Simulate the population presets at default parameters and compare the perinatal
    course with published ranges (docs/model-checks.md): writes checks.json and checks.md
    and prints the table. With --posterior every row also gets the median and 90% interval
    over --posterior-draws parameter draws (each draw one simulation of every run). Then
    the direction table (data/directions.toml: do()-contrasts with the direction the
    literature states) at --dyads / 4 dyads per world, written as directions.md.

    With --reach: the reachability table instead (docs/model-checks.md), for every target
    of the calibration the range the model produces over the prior and whether the
    observation lies inside it."""
    from .model.params import Parameters
    from .reports import directions as dirs
    from .reports.checks import RUNS, run_checks, write_checks

    if reach:
        _check_reach(out, targets, allow_outside_paths, reach_draws, seed, scheduler, workers,
                     force, quiet, conflicts={"--set": bool(set_),
                                              "--posterior": posterior is not None})
        return
    with _input_errors():
        overrides = _pairs(set_, "--set", "name")
        Parameters(overrides)
        _check_out(out, force)
        source = _parameter_source(posterior)
        per_draw = posterior_dyads or max(10, dyads // posterior_draws)
        with _progress(_console(stderr=True), quiet) as prog:
            task = prog.add_task("check", total=len(RUNS) * (1 + (source is not None))
                                 + len(dirs.load()))
            tick = lambda name: prog.update(task, advance=1, description=name)  # noqa: E731
            rows = run_checks(dyads, seed, overrides or None, progress=tick)
            if source is not None:
                from .reports.draws import check_over_draws
                from .uncertainty import summarize_draws

                by_draw = check_over_draws(source.draws(posterior_draws, seed), per_draw, seed,
                                           overrides or None,
                                           progress=lambda name: tick(f"{name} (draws)"))
                for i, r in enumerate(rows):
                    r["posterior"] = summarize_draws([d[i]["value"] for d in by_draw])
            direction_rows = dirs.evaluate_rows(
                [dict(Parameters(overrides))], max(10, dyads // 4), seed, progress=tick)
        meta = {"dyads": dyads, "seed": seed, "params": overrides,
                "dyadsim_version": __version__, "git_commit": _git_commit()}
        if source is not None:
            meta["posterior"] = {**source.provenance(), "draws": posterior_draws,
                                 "dyads_per_draw": per_draw,
                                 "assignment": "each draw one simulation of every run; "
                                               "rows' posterior: median and 5-95% over draws"}
        write_checks(rows, out, meta, force, directions=direction_rows)
    table = Table(title=Text(f"dyadsim check: {dyads} dyads per run, seed {seed}"),
                  caption=Text(f"wrote {out}: checks.json, checks.md"), title_justify="left",
                  caption_justify="left")
    cols = ("quantity", "model", "MC 95%", *(("posterior median (90%)",) if source else ()),
            "published", "inside", "range set a parameter", "source")
    for col in cols:
        table.add_column(col)
    for r in rows:
        value = "n/a" if r["value"] != r["value"] else f"{r['value']:.3g}"
        post = r.get("posterior")
        extra = () if post is None else (
            "n/a" if post["median"] is None else
            f"{post['median']:.3g} ({post['q05']:.3g}-{post['q95']:.3g})",)
        mc = "n/a" if r["mc_low"] != r["mc_low"] else f"{r['mc_low']:.3g}-{r['mc_high']:.3g}"
        table.add_row(r["quantity"], value, mc, *extra, f"{r['low']:.3g}-{r['high']:.3g}",
                      "yes" if r["inside"] else "no", r["used_for"] or "no (evidence)",
                      r["source"])
    _console().print(table)
    _console().print(dirs.rich_table(direction_rows))


def _check_seed(seed: int) -> None:
    """A seed the replication seeds can be derived from: in [0, 2^31)."""
    if not 0 <= seed < 2**31:
        raise InputError(f"--seed must be in [0, 2^31), got {seed}")


@contextlib.contextmanager
def _replication_run(out: Path, label: str, quiet: bool, scheduler: str | None,
                     workers: int | None) -> Iterator[tuple[Any, Any, Callable[..., None]]]:
    """(store, executor, progress callback) of a command that replicates studies: the store
    is OUT.store/replications.jsonl, kept until OUT is written (rerun to resume)."""
    from .calibration.replicate import ReplicationStore
    from .parallel import executor

    store_dir = out.absolute().with_name(f"{out.absolute().name}.store")
    store = ReplicationStore(store_dir / "replications.jsonl")
    with _analysis_progress(quiet) as prog, executor(scheduler, workers, 2) as pool:
        task = prog.add_task(label, total=None)

        def progress(stage: str, done: int, total: int) -> None:
            prog.update(task, description=stage, completed=done, total=total)

        yield store, pool, progress


def _check_reach(out: Path, targets: Path | None, allow_outside: bool, draws: int, seed: int,
                 scheduler: str | None, workers: int | None, force: bool, quiet: bool,
                 conflicts: dict[str, bool]) -> None:
    """`dyadsim check --reach`: the reachability table (dyadsim.calibration.reach)."""
    from ._io import atomic_text
    from .calibration import load_targets
    from .calibration.reach import reach_markdown, reachability

    with _input_errors(resumable=True):
        for flag, given in conflicts.items():
            if given:
                raise InputError(f"{flag} does not apply to --reach (it runs over the prior)")
        _check_out(out, force)
        _check_seed(seed)
        target_set = load_targets(targets, allow_outside=allow_outside)
        with _replication_run(out, "reachability", quiet, scheduler, workers) as (
                store, pool, progress):
            rows = reachability(target_set, store=store, draws=draws, seed=seed, pool=pool,
                                progress=progress)
        meta = {"draws": draws, "seed": seed, "targets_file": str(targets) if targets else
                "shipped", "targets_hash": target_set.hash, "dyadsim_version": __version__,
                "git_commit": _git_commit()}
        with atomic_dir(out, force=force, hint="use --force to replace it") as tmp:
            atomic_text(tmp / "reach.json", json.dumps(
                {**meta, "rows": [r.to_dict() for r in rows]}, indent=1, allow_nan=False))
            atomic_text(tmp / "reach.md", reach_markdown(rows, draws, seed))
        shutil.rmtree(store.path.parent, ignore_errors=True)
    table = Table(title=Text(f"dyadsim check --reach: defaults + {draws} prior draws, seed "
                             f"{seed}"), caption=Text(f"wrote {out}: reach.json, reach.md"),
                  title_justify="left", caption_justify="left")
    for col in ("output", "observed", "at defaults", "simulated min-max", "reachable", "why"):
        table.add_column(col)
    for r in rows:
        rng = "-" if r.sim_min is None else f"{r.sim_min:.3g} to {r.sim_max:.3g}"
        dft = "-" if r.at_defaults is None else f"{r.at_defaults:.3g}"
        table.add_row(r.output, f"{r.observed_low:.3g} to {r.observed_high:.3g}", dft, rng,
                      "yes" if r.reachable else "NO", r.why)
    _console().print(table)


def _stage_progress(console: Console, quiet: bool = False) -> Progress:
    """One bar per stage, with ETA, on a terminal; silent elsewhere or with --quiet."""
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                    BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=quiet or not console.is_terminal)


class _StageTasks:
    """A ``progress(stage, done, total)`` callback that keeps one rich task per stage."""

    def __init__(self, prog: Progress) -> None:
        self.prog = prog
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.prog.add_task(stage, total=total)
        self.prog.update(task, completed=done, total=total)


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _fmt_p(p: Any) -> str:
    return "-" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"


def _spec_with_seed(spec_path: Path, seed: int | None):
    from .trials.design import load_spec

    spec = load_spec(spec_path)
    return spec.with_changes(seed=seed) if seed is not None else spec


def _checkpoint_dir(out: Path) -> Path:
    """Where finished replicates are kept until OUT is written: running the same command
    again after a crash resumes from them (removed once OUT is complete)."""
    target = out.absolute()
    return target.with_name(f"{target.name}.checkpoint")


@app.command()
def trial(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML: every "
                                         "key in docs/trial-spec.md; names in `dyadsim "
                                         "interventions`, `dyadsim instruments --population "
                                         "P`, `dyadsim methods`, `dyadsim outcomes`.",
                                         show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; must not "
                                      "exist or be empty unless --force).",
                                      show_default=False)],
    replicates: Annotated[int, typer.Option(help="Replicate trials (R > 1 also writes "
                                            "replicates.json and replicates.parquet).")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, help="Trial seed (default: the spec's).",
                                             show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes for replicates "
                                                "(default: CPU count; 1 = serial).",
                                                show_default=False)] = None,
    posterior: PosteriorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: ReportOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run an in-silico randomised trial and write OUT/data.parquet (the trial's long
    table), latent.nc (latent trajectories), results.json (every analysis) and
    manifest.json; with --replicates R > 1 also replicates.json and replicates.parquet
    (each estimate over R replicate trials). The folder appears complete or not at all.
    With --posterior replicate r runs under posterior draw r (the single trial written
    under draw 0), so the share rejecting is assurance, not power at fixed parameters."""
    from .trials.runner import run_replicates, run_trial, write_trial

    with _input_errors(resumable=replicates > 1):
        if replicates < 1:
            raise InputError(f"--replicates must be a positive integer, got {replicates}")
        _check_out(out, force)
        s = _spec_with_seed(spec, seed)
        source = _parameter_source(posterior)
        thetas = None if source is None else source.draws(replicates, s.seed)
        if not _have_h5py():
            _fail("writing latent.nc needs the h5py package (pip install h5py)", code=1)
        with _stage_progress(_console(stderr=True), quiet) as prog:
            cb = _StageTasks(prog)
            result = run_trial(s, progress=cb, theta=None if thetas is None else thetas[0])
            rep = (run_replicates(s, replicates, workers=workers, progress=cb,
                                  checkpoint=_checkpoint_dir(out), parameter_draws=thetas)
                   if replicates > 1 else None)
        _check_out(out, force)
        write_trial(result, out, force=force, replicates=rep, command=_command_line(ctx),
                    posterior=None if source is None else {
                        **source.provenance(), "draws": replicates,
                        "assignment": "replicate r runs under draw r of "
                                      "draws(replicates, seed); the single trial under draw 0"})
        shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
        _write_report(out, report)

    arms = ", ".join(f"{k} {v}" for k, v in result.results["arms"].items())
    lost = result.results["dropout"]["overall"]
    if rep is None:
        table = Table(title=Text(f"{s.trial.name}: N = {s.n} ({arms}), seed {s.seed}"),
                      caption=Text(f"lost to follow-up by the last assessment: {lost:.0%}; "
                                   f"wrote {out.absolute()}"),
                      title_justify="left", caption_justify="left")
        table.add_column("analysis", style="bold")
        table.add_column("effect")
        table.add_column("estimate (95% CI)", justify="right")
        table.add_column("p", justify="right")
        for a in s.analysis:
            r = result.results[a.name]
            cell = (f"{_fmt(r['estimate'])} ({_fmt(r['ci_lower'])}, {_fmt(r['ci_upper'])})"
                    if r["error"] is None else f"failed: {r['error']}")
            table.add_row(Text(a.name + (" *" if a.primary else "")),
                          Text(f"{a.method}: {a.effect}"), Text(cell), _fmt_p(r["p"]))
    else:
        table = Table(title=Text(f"{s.trial.name}: {replicates} replicate trials of N = "
                                 f"{s.n}, seed {s.seed}"),
                      caption=Text(f"mean dropout {rep['dropout_mean']:.0%}; wrote "
                                   f"{out.absolute()}"),
                      title_justify="left", caption_justify="left")
        table.add_column("analysis", style="bold")
        table.add_column("effect")
        table.add_column("mean estimate", justify="right")
        table.add_column("2.5-97.5%", justify="right")
        table.add_column("assurance (95% CI)" if thetas is not None
                         else "rejecting (95% CI)", justify="right")
        table.add_column("failed", justify="right")
        for name, a in rep["analyses"].items():
            sm = a["summary"]
            ci = a["power_ci"]
            table.add_row(Text(name + (" *" if a["primary"] else "")),
                          Text(f"{a['method']}: {a['effect']}"
                               + (f" ({a['direction']})" if a.get("direction") else "")),
                          _fmt(sm.get("mean")),
                          f"{_fmt(sm.get('q025'))} to {_fmt(sm.get('q975'))}",
                          f"{a['power']:.2f} ({ci[0]:.2f}, {ci[1]:.2f})", str(a["n_failed"]))
    _console().print(table)


# --------------------------------------------------------------------------- power
def _parse_ns(text: str) -> list[int]:
    ns = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = int(part)
        except ValueError:
            raise InputError(f"--n {text!r}: {part!r} is not an integer") from None
        if v < 1:
            raise InputError(f"--n: sample sizes must be positive, got {v}")
        ns.append(v)
    if not ns:
        raise InputError("--n needs at least one sample size, e.g. --n 40,80,160")
    return ns


@app.command()
def power(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML.",
                                         show_default=False)],
    n: Annotated[str, typer.Option("--n", help="Total sample sizes, comma-separated.")]
    = "40,80,160,320",
    replicates: Annotated[int, typer.Option(help="Replicate trials per N.")] = 200,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", metavar="ANALYSIS_NAME",
        help="The [[analysis]] whose power is computed (default: the primary one).",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for power.json and "
                                             "power.png.", show_default=False)] = None,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Significance level.")]
    = 0.05,
    seed: Annotated[int | None, typer.Option(min=0, help="Trial seed (default: the spec's).",
                                             show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: "
                                                "CPU count; 1 = serial).",
                                                show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Run the replicates on this Dask scheduler "
        "(tcp://host:8786) instead of local processes.", show_default=False)] = None,
    posterior: PosteriorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: Annotated[bool, typer.Option("--report", help="Also write OUT/report.html (needs "
                                         "--out): one self-contained HTML report.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Power by simulation: run --replicates trials at each N in --n, print power with a
    95% CI per N and the N for 80% power; with --out write power.json and power.png. With
    --posterior replicate r (at every N) runs under posterior draw r: the curve is then
    assurance (power averaged over parameter uncertainty)."""
    from .trials.power import plot_power, power_curve

    with _input_errors(resumable=out is not None):
        if replicates < 1:
            raise InputError(f"--replicates must be a positive integer, got {replicates}")
        ns = _parse_ns(n)
        if report and out is None:
            raise InputError("--report needs --out (the report is written into that folder)")
        if out is not None:
            _check_out(out, force)
        s = _spec_with_seed(spec, seed)
        if not 0.0 < alpha < 1.0:
            raise InputError(f"--alpha must be in (0, 1), got {alpha}")
        source = _parameter_source(posterior)
        thetas = None if source is None else source.draws(replicates, s.seed)
        from .parallel import executor

        with _stage_progress(_console(stderr=True), quiet) as prog, \
                executor(scheduler, 1, 1) as pool:
            curve = power_curve(s, ns=ns, replicates=replicates, analysis=outcome,
                                alpha=alpha, executor=pool, workers=workers,
                                progress=_StageTasks(prog),
                                checkpoint=None if out is None else _checkpoint_dir(out),
                                parameter_draws=thetas)
        if source is not None:
            curve["posterior"] = {**source.provenance(), "draws": replicates,
                                  "assignment": "replicate r runs under draw r at every N"}
        if out is not None:
            _check_out(out, force)
            target = out.absolute()
            with atomic_dir(target, force=force, hint="use --force to replace it") as tmp:
                (tmp / "power.json").write_text(json.dumps(curve, indent=2, allow_nan=False)
                                                + "\n")
                plot_power(curve, tmp / "power.png")
            shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
            _write_report(target, report)

    kind = "assurance" if source is not None else "power"
    table = Table(title=Text(f"{curve['trial']}: {kind} of {curve['analysis']} "
                             f"({curve['method']}: {curve['effect']}; {curve['significance']}),"
                             f" {replicates} replicates per N"),
                  title_justify="left", caption_justify="left",
                  caption=Text(f"wrote {out.absolute()}: power.json, power.png")
                  if out is not None else None)
    table.add_column("N", justify="right")
    table.add_column(kind, justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("mean estimate", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("wrong direction", justify="right")
    for p in curve["points"]:
        table.add_row(str(p["n"]), f"{p['power']:.2f}",
                      f"{p['ci_lower']:.2f}-{p['ci_upper']:.2f}", _fmt(p["mean_estimate"]),
                      str(p["n_failed"]), str(p["n_wrong_direction"]))
    console = _console()
    console.print(table)
    console.print(Text(f"N for {curve['target']:.0%} {kind} "
                       f"(probit(power) ~ sqrt(N) over all replicates): "
                       f"{curve['n_for_power']['text']}"))


# --------------------------------------------------------------------------- predict
@app.command()
def predict(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML of a "
                                         "perinatal trial (e.g. "
                                         "examples/prenatal_more_trial.toml).",
                                         show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: predict.json and "
                                      "predict.png.", show_default=False)],
    posterior: Annotated[str, typer.Option(
        "--posterior", metavar="shipped|PATH|prior", help="Parameter draws: the shipped "
        "posterior, a posterior JSON file or the prior.")] = "shipped",
    draws: Annotated[int, typer.Option("--draws", min=2, help="Parameter draws for the "
                                       "effects.")] = 20,
    n: Annotated[int, typer.Option("--n", min=2, help="Dyads per arm and draw (the same "
                                   "dyads in every arm and draw).")] = 200,
    power_n: Annotated[str, typer.Option("--power-n", help="Total trial sizes for the "
                                         "assurance curve on attachment security, "
                                         "comma-separated, or 'none'.")] = "300,900",
    power_replicates: Annotated[int, typer.Option(
        "--power-replicates", min=1, help="Replicate trials per size (replicate r under "
        "draw r).")] = 20,
    analysis: Annotated[str | None, typer.Option(
        "--analysis", help="The attachment-security analysis (default: the spec's ssp "
        "'secure' analysis).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the spec's).",
                                             show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: QuietOption = False,
) -> None:
    """Posterior-predictive effects of a perinatal trial's arms (MORE in pregnancy vs
    postpartum vs usual care) on opioid use, NOWS, parenting, attachment security and child
    well-being, with 90% intervals over parameter draws, how much of each comes from the
    pregnancy-only parameters (held at their priors), and the N for 80% assurance on
    attachment security. Resumable: finished power replicates are kept in OUT.checkpoint/."""
    from ._io import atomic_text
    from .prediction import plot_prediction
    from .prediction import predict as run_prediction

    with _input_errors(resumable=True):
        _check_out(out, force)
        ns = [] if power_n.strip().lower() == "none" else _parse_ns(power_n)
        s = _spec_with_seed(spec, seed)
        source = _parameter_source(posterior)
        with _stage_progress(_console(stderr=True), quiet) as prog:
            result = run_prediction(s, source, draws=draws, dyads=n, power_ns=ns,
                                    power_replicates=power_replicates, analysis=analysis,
                                    checkpoint=_checkpoint_dir(out),
                                    progress=_StageTasks(prog))
        result.update({"dyadsim_version": __version__, "git_commit": _git_commit(),
                       "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                       "spec": str(spec)})
        _check_out(out, force)
        with atomic_dir(out.absolute(), force=force) as tmp:
            atomic_text(tmp / "predict.json", json.dumps(result, indent=2, allow_nan=False))
            plot_prediction(result, tmp / "predict.png")
        shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
    p = result["posterior"]
    t = Table(title=Text(f"{result['trial']}: posterior-predictive effects, {draws} draws "
                         f"({p['source']}), {n} dyads per arm, seed {result['seed']}"),
              caption=Text(f"{result['statement']} Wrote {out.absolute()}: predict.json, "
                           "predict.png"), title_justify="left", caption_justify="left")
    for col in ("contrast", "outcome", "median", "90% interval", "from pregnancy-only"):
        t.add_column(col, justify="left" if col in ("contrast", "outcome") else "right")
    for e in result["effects"]:
        share = e["share_from_pregnancy_only"]
        t.add_row(Text(e["contrast"]), Text(e["label"]), _fmt(e["median"]),
                  "-" if e["median"] is None else f"{e['q05']:.3g} to {e['q95']:.3g}",
                  "-" if share is None else f"{share:.0%}")
    console = _console()
    console.print(t)
    ap = result["attachment_power"]
    if ap is not None:
        console.print(Text(f"N for {ap['target']:.0%} assurance on {ap['analysis']}: "
                           f"{ap['n_for_target']['text']}"))


# --------------------------------------------------------------------------- mechanisms
def _csv_list(text: str | None, option: str) -> list[str]:
    items = [x.strip() for x in (text or "").split(",") if x.strip()]
    if text is not None and not items:
        raise InputError(f"{option} needs at least one name")
    return items


AllowOutsideOption = Annotated[bool, typer.Option(
    "--allow-outside-paths", help="Let a targets file name design specs outside its own "
    "folder (absolute paths, '..').")]
DyadsOption = Annotated[int, typer.Option(min=2, help="Simulated dyads (the same dyads and "
                                          "draws in every world).")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); default: local "
    "worker processes.", show_default=False)]
AnalysisQuiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (it shows "
                                            "only on a terminal anyway).")]
WorkersOption = Annotated[int | None, typer.Option(min=1, help="Local worker processes "
                                                   "(default: CPU count; 1 = serial).",
                                                   show_default=False)]
ArmOption = Annotated[str | None, typer.Option(show_default=False)]
PresetOption = Annotated[str, typer.Option(help="Population preset (without --spec).")]
StartOption = Annotated[str | None, typer.Option(show_default=False)]
SeedOption = Annotated[int | None, typer.Option(min=0, show_default=False)]
AnalysisPosteriorOption = Annotated[str | None, typer.Option(
    "--posterior", metavar="shipped|PATH|prior", help="Run under parameter uncertainty: "
    "draws from the shipped posterior, a posterior JSON file or the prior (see "
    "docs/analysis.md for the estimand).", show_default=False)]
AnalysisDrawsOption = Annotated[int, typer.Option(
    "--posterior-draws", min=2, help="With --posterior: the dyads are split across this many "
    "parameter draws and the effects averaged over them.")]


def _analysis_draws(posterior: str | None, draws: int, dyads: int, seed: int):
    """(parameter draws, the manifest's posterior entry), or (None, None) without
    --posterior; a bad posterior file is a one-line error."""
    source = _parameter_source(posterior)
    if source is None:
        return None, None
    from .analysis.posterior import ESTIMAND

    if draws > dyads:
        raise InputError(f"--posterior-draws {draws} is more than --dyads {dyads} (each draw "
                         "needs its own dyads)")
    return source.draws(draws, seed), {**source.provenance(), "draws": draws,
                                       "estimand": ESTIMAND.format(k=draws,
                                                                   source=source.source)}


def _analysis_progress(quiet: bool) -> Progress:
    """Progress with ETA on stderr, on a terminal only."""
    console = _console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                    BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                    transient=True,
                    disable=quiet or not console.is_terminal)


def _analysis_setting(spec: Path | None, arm: str | None, population: str, start: str | None,
                      horizon: str, dyads: int, seed: int | None):
    """(engine setting, seed) from a trial spec's arm or from a population preset."""
    from .analysis.arms import arm_setting
    from .engine.batch import Setting

    if spec is not None:
        if arm is None:
            raise InputError("--spec needs --arm (the arm whose model is analysed)")
        setting, spec_seed = arm_setting(spec, arm, dyads)
        return setting, spec_seed if seed is None else seed
    if arm is not None:
        raise InputError("--arm needs --spec")
    return Setting.from_population(population, start=start, horizon=horizon), seed or 0


@app.command()
def mechanisms(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML.",
                                         show_default=False)],
    outcome: Annotated[str, typer.Option(metavar="NODE_OR_OUTCOME", help="A per-dyad outcome "
                                         "(attachment_security_12m, secure_attachment, "
                                         "child_wellbeing_24m, use_share, parenting_mean, ...) "
                                         "or a node (its last-day value).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for effects.csv, "
                                      "effects.json and manifest.json.")],
    treatment: Annotated[str | None, typer.Option(help="Treatment arm (default: the primary "
                                                  "analysis').", show_default=False)] = None,
    control: Annotated[str | None, typer.Option(help="Control arm (default: the primary "
                                                "analysis').", show_default=False)] = None,
    mediator: Annotated[list[str] | None, typer.Option(
        help="Node for natural direct/indirect effects (repeatable).",
        show_default=False)] = None,
    dyads: DyadsOption = 2000,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the spec's).",
                                             show_default=False)] = None,
    posterior: AnalysisPosteriorOption = None,
    posterior_draws: AnalysisDrawsOption = 10,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Decompose the total effect of an arm contrast on an outcome into path-specific effects
    along MORE's declared paths and natural direct/indirect effects through --mediator
    nodes, by nested counterfactual simulation with common random numbers; with --posterior
    averaged over parameter draws."""
    from .analysis.arms import default_contrast, load_arms
    from .analysis.mechanisms import MORE_PATHS, TrialWorlds, check_paths, decompose
    from .analysis.mechanisms import mediator_nodes as _mediators
    from .analysis.output import manifest, write_folder

    with _input_errors():
        _check_out(out, force)
        t0, c0 = default_contrast(spec)
        meds = _mediators(mediator or [])
        check_paths(MORE_PATHS)
        thetas, drawn = _analysis_draws(posterior, posterior_draws, dyads,
                                        load_arms(spec).seed if seed is None else seed)
        with _analysis_progress(quiet) as prog:
            task = prog.add_task("worlds", total=dyads * (2 + len(MORE_PATHS) + len(meds)))
            worlds = TrialWorlds(spec, treatment or t0, control or c0, outcome, dyads=dyads,
                                 seed=seed, thetas=thetas,
                                 progress=lambda m: prog.advance(task, m))
            dec = decompose(worlds, MORE_PATHS, meds, groups=worlds.groups)
        table = _pd().DataFrame([e.to_dict() for e in dec.estimates])
        opts = {"spec": str(spec), "outcome": outcome, "treatment": worlds.arm["treatment"],
                "control": worlds.arm["control"], "mediators": meds, "dyads": dyads,
                "seed": worlds.seed, "paths": [p.__dict__ for p in MORE_PATHS],
                "posterior": drawn}
        write_folder(out, {"effects.csv": table, "effects.json": {**dec.to_dict(), **opts},
                           "manifest.json": manifest("mechanisms", opts)}, force=force)
    t = Table(title=Text(f"{outcome}: {worlds.arm['treatment']} vs {worlds.arm['control']}, "
                         f"{dec.dyads_used} dyads, seed {worlds.seed}"),
              caption=Text(f"path parts sum to {dec.sum_of_parts:.4g} (total "
                           f"{dec.total:.4g}); " + (
                               "95% Monte Carlo intervals" if drawn is None else
                               f"averaged over {posterior_draws} parameter draws from "
                               f"{drawn['source']}: 95% intervals over draws (Monte Carlo and "
                               "parameter uncertainty); 'draws 5-95%': spread of the per-draw "
                               "effects") + f"; wrote {out.absolute()}"),
              title_justify="left", caption_justify="left")
    cols = ["effect", "estimate", "95% interval"] + ([] if drawn is None else ["draws 5-95%"])
    for col in cols:
        t.add_column(col, justify="left" if col == "effect" else "right")
    for e in dec.estimates:
        d = e.to_dict()
        spread = [] if e.per_draw is None else [f"{d['draws_q05']:.4g} to {d['draws_q95']:.4g}"]
        t.add_row(Text(e.name), f"{e.mean:.4g}", f"{e.lo:.4g} to {e.hi:.4g}", *spread)
    _console().print(t)


def _pd():
    import pandas as pd

    return pd


# --------------------------------------------------------------------------- knockout
@app.command()
def knockout(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for knockouts.csv, "
                                      "ranking_<outcome>.csv and manifest.json.")],
    edges: Annotated[str | None, typer.Option(metavar="A->B,...", help="Edges to remove "
                                              "(weight 0).", show_default=False)] = None,
    loops: Annotated[str | None, typer.Option(metavar="NAME,...", help="Named loops to "
                                              "remove (all their edges).",
                                              show_default=False)] = None,
    all_edges: Annotated[bool, typer.Option("--all-edges", help="Knock out every edge, one "
                                            "at a time, and rank them.")] = False,
    outcomes: Annotated[str, typer.Option(metavar="NAME,...", help="Outcomes.")]
    = "attachment_security_12m,child_wellbeing_24m",
    spec: Annotated[Path | None, typer.Option(metavar="SPEC.toml", help="Analyse an arm of "
                                              "this trial spec (with --arm).",
                                              show_default=False)] = None,
    arm: ArmOption = None,
    population: PresetOption = "pregnant_oud_moud",
    start: StartOption = None,
    horizon: Annotated[str, typer.Option(help="After birth (e.g. 24m).")] = "24m",
    dyads: DyadsOption = 500,
    seed: SeedOption = None,
    posterior: AnalysisPosteriorOption = None,
    posterior_draws: AnalysisDrawsOption = 10,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Effect of removing edges (--edges), the paper's named loops (--loops) or every edge
    (--all-edges, ranked) on --outcomes, beside the intact model on the same dyads; with
    --posterior averaged over parameter draws."""
    from .analysis.knockout import BLOCK, plan_knockouts, rank, run_knockouts
    from .analysis.output import manifest, write_folder
    from .parallel import executor

    with _input_errors():
        _check_out(out, force)
        kos = plan_knockouts(_csv_list(edges, "--edges"), _csv_list(loops, "--loops"),
                             all_edges)
        outs = _csv_list(outcomes, "--outcomes")
        setting, sd = _analysis_setting(spec, arm, population, start, horizon, dyads, seed)
        thetas, drawn = _analysis_draws(posterior, posterior_draws, dyads, sd)
        k = 1 if thetas is None else len(thetas)
        with _analysis_progress(quiet) as prog, \
                executor(scheduler, workers, k * -(-len(kos) // BLOCK)) as pool:
            task = prog.add_task("knock-outs", total=len(kos) * k)
            table = run_knockouts(setting, kos, outs, dyads=dyads, seed=sd, pool=pool,
                                  thetas=thetas, progress=lambda m: prog.advance(task, m))
        opts = {"knockouts": kos, "outcomes": outs, "spec": str(spec) if spec else None,
                "arm": arm, "population": population, "start": start, "horizon": horizon,
                "dyads": dyads, "seed": sd, "posterior": drawn}
        files: dict[str, Any] = {"knockouts.csv": table,
                                 "manifest.json": manifest("knockout", opts)}
        for o in outs:
            files[f"ranking_{o}.csv"] = rank(table, o)
        write_folder(out, files, force=force)
    for o in outs:
        r = rank(table, o).head(10)
        under = "" if drawn is None else \
            f", averaged over {posterior_draws} draws from {drawn['source']}"
        t = Table(title=Text(f"{o}: largest knock-out effects ({dyads} dyads, seed {sd}"
                             f"{under})"), title_justify="left")
        for col in ("rank", "knockout", "effect", "95% interval"):
            t.add_column(col, justify="left" if col == "knockout" else "right")
        for _, row in r.iterrows():
            t.add_row(str(row["rank"]), Text(row["knockout"]), f"{row['effect']:.4g}",
                      f"{row['ci_low']:.4g} to {row['ci_high']:.4g}")
        _console().print(t)
    _stdout(f"wrote {out.absolute()}")


# --------------------------------------------------------------------------- sensitivity
class SAMethod(StrEnum):
    sobol = "sobol"
    morris = "morris"


@app.command()
def sensitivity(
    params: Annotated[str, typer.Option(metavar="NAME,...", help="Parameters varied over "
                                        "their declared bounds.")],
    outcomes: Annotated[str, typer.Option(metavar="NAME,...", help="Outcomes (dyad means).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for indices.csv, "
                                      "samples.csv, outputs.csv and manifest.json.")],
    method: Annotated[SAMethod, typer.Option(help="Sobol indices or Morris screening.")]
    = SAMethod.sobol,
    n: Annotated[int, typer.Option("--n", min=2, help="Base samples (Sobol: a power of two; "
                                   "Morris: trajectories).")] = 64,
    spec: Annotated[Path | None, typer.Option(metavar="SPEC.toml", show_default=False,
                                              help="Analyse an arm of this trial spec.")]
    = None,
    arm: ArmOption = None,
    population: PresetOption = "pregnant_oud_moud",
    start: StartOption = None,
    horizon: Annotated[str, typer.Option(help="After birth (e.g. 12m).")] = "12m",
    dyads: DyadsOption = 200,
    seed: SeedOption = None,
    posterior: Annotated[str | None, typer.Option(
        "--posterior", metavar="shipped|PATH|prior", help="Sample --params from the "
        "posterior's marginals (as independent), the other parameters at its point values, "
        "instead of uniformly over the declared bounds.", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a killed run from its "
                                         "checkpoint (OUT.checkpoint).")] = False,
    block: Annotated[int, typer.Option(min=1, help="Parameter sets per engine call and "
                                       "checkpoint (never changes results).")] = 32,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Global sensitivity with SALib: first- and total-order Sobol indices (or Morris mu*,
    sigma) of --outcomes to --params, with bootstrap 95% intervals; each block of parameter
    sets is one engine batch, checkpointed so that --resume after a crash gives the same
    files as an uninterrupted run."""
    from .analysis import posterior as pa
    from .analysis import sensitivity as sa
    from .analysis.output import manifest, write_folder
    from .parallel import executor

    with _input_errors():
        _check_out(out, force)
        names = _csv_list(params, "--params")
        outs = _csv_list(outcomes, "--outcomes")
        prob = sa.problem(names)
        setting, sd = _analysis_setting(spec, arm, population, start, horizon, dyads, seed)
        source = _parameter_source(posterior)
        drawn = None
        if source is None:
            x = u = sa.sample(prob, method.value, n, sd)
        else:
            point = pa.point_values(source)
            prob = sa.unit_problem(prob)
            u = sa.sample(prob, method.value, n, sd)
            x = pa.marginal_sample(source, names, u)
            setting = pa.under_draw(setting, point)
            drawn = {**source.provenance(), "point_values": point,
                     "distribution": "each --params parameter from its marginal (posterior: "
                     "weighted empirical inverse CDF; uncalibrated: prior), treated as "
                     "independent; the other parameters at point_values (weighted posterior "
                     "medians; uncalibrated ones at their defaults)"}
        model = sa.ModelBlock(setting, names, outs, dyads, sd, shift=source is not None)
        opts = {"method": method.value, "params": names, "outcomes": outs, "n": n,
                "spec": str(spec) if spec else None, "arm": arm, "population": population,
                "start": start, "horizon": horizon, "dyads": dyads, "seed": sd,
                "bounds": sa.problem(names)["bounds"], "posterior": drawn}
        ck = _checkpoint_dir(out)
        if ck.exists() and not resume:
            shutil.rmtree(ck)
        with _analysis_progress(quiet) as prog, \
                executor(scheduler, workers, -(-len(x) // block)) as pool:
            task = prog.add_task("parameter sets", total=len(x))
            y = sa.evaluate(x, model, checkpoint=ck, pool=pool, block=block,
                            fingerprint=sa.fingerprint(**opts, block=block),
                            progress=lambda m: prog.advance(task, m))
        table = sa.analyze(prob, method.value, u, y, outs, sd)
        pd = _pd()
        write_folder(out, {"indices.csv": table,
                           "samples.csv": pd.DataFrame(x, columns=names),
                           "outputs.csv": pd.DataFrame(y, columns=outs),
                           "manifest.json": manifest("sensitivity", opts)}, force=force)
        shutil.rmtree(ck, ignore_errors=True)
    cols = ["S1", "ST"] if method == SAMethod.sobol else ["mu_star", "sigma"]
    t = Table(title=Text(f"{method.value}: {len(x)} parameter sets x {dyads} dyads"),
              caption=Text(f"wrote {out.absolute()}"), title_justify="left",
              caption_justify="left")
    for col in ("outcome", "parameter", *cols):
        t.add_column(col, justify="right" if col in cols else "left")
    for _, row in table.iterrows():
        t.add_row(row["outcome"], row["parameter"], *(f"{row[c]:.3g}" for c in cols))
    _console().print(t)


# --------------------------------------------------------------------------- report
@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="An output folder of "
                                            "simulate, trial or power.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The HTML file (default: "
                                             "RUN_DIR/report.html).", show_default=False)]
    = None,
) -> None:
    """Write one self-contained HTML report of a run (no network reference: it opens
    offline and can be attached to an email): what was run, the paper's graph coloured by
    the result, trajectories, outcomes; for a trial the participant flow and a forest plot;
    for power the power curve."""
    with _input_errors():
        path = _report(run_dir, out)
        note_output(path.absolute().parent, path.name)
    _stdout(f"wrote {path.absolute()} ({path.stat().st_size / 1e6:.2f} MB)")


# --------------------------------------------------------------------------- explore
@app.command()
def explore(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8501,
) -> None:
    """Start the explorer (a local web app at http://127.0.0.1:PORT, never reachable from
    another machine): pick a population, switch interventions on and off, knock out an
    edge or clamp a node, and see the graph, trajectories and outcomes against a baseline.
    The server replaces this process, so SIGTERM or Ctrl-C stops all of it."""
    from .app import streamlit_command

    with _input_errors():
        cmd, env = streamlit_command(port)
        _check_port(port)
    typer.echo(f"dyadsim explorer on http://127.0.0.1:{port} (Ctrl-C to stop)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, env)


def _check_port(port: int) -> None:
    """Refuse a port of 127.0.0.1 that another program holds, before saying we serve it."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise InputError(f"port {port} of 127.0.0.1 is in use (another explorer?); "
                             "choose a free one with --port") from None


def _validation_table(result: dict[str, Any], out: Path) -> Table:
    t = Table(title=Text(f"dyadsim validate: score {_fmt(result['score'])} "
                         f"({result['n_passed']}/{result['n_scored']} targets pass), mean "
                         f"CRPS posterior {_fmt(result['mean_crps_posterior'])} vs prior "
                         f"{_fmt(result['mean_crps_prior'])}, {result['draws']} draws"),
              caption=Text(f"wrote {out.absolute()}; interval = 90% posterior-predictive "
                           "interval of the replicated study; CRPS standardised per target"),
              title_justify="left", caption_justify="left")
    for col in ("target", "statistic", "observed", "simulated (median)", "90% interval",
                "pass", "CRPS post", "CRPS prior"):
        t.add_column(col, justify="left" if col in ("target", "statistic") else "right")

    def show(v: Any) -> str:
        if isinstance(v, dict):
            return "; ".join(f"{k} {show(x)}" for k, x in v.items())
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return _fmt(v)

    for e in result["targets"]:
        ok = "-" if e["passed"] is None else "yes" if e["passed"] else "NO"
        t.add_row(e["id"], e["statistic"], show(e["observed"]), show(e["simulated_median"]),
                  show(e["interval_90"]), ok if e["passed"] is not None
                  else Text(e["status"], style="dim"), _fmt(e["crps_posterior"]),
                  _fmt(e["crps_prior"]))
    return t


@app.command()
def validate(
    out: Annotated[Path, typer.Option("--out", help="Output folder: validation.json and "
                                      "validation.png.", show_default=False)],
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Targets TOML (docs/targets.md); default: the shipped published "
        "targets.", show_default=False)] = None,
    posterior: Annotated[str, typer.Option(
        "--posterior", help="'shipped', a posterior JSON file, or 'prior' (the prior "
        "stands in for the posterior).")] = "shipped",
    draws: Annotated[int, typer.Option("--draws", help="Parameter draws per ensemble (each "
                                       "draw replicates every study once).")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws and the "
                                      "replications.")] = 1,
    allow_outside_paths: AllowOutsideOption = False,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty OUT.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Replicate every target as its study was run, under the posterior and under the
    prior; pass = observed value inside the 90% posterior-predictive interval. Resumable:
    finished replications are kept in OUT.store/ until OUT is written."""
    from ._io import atomic_text
    from .calibration import load_posterior, load_targets, run_validation
    from .calibration.replicate import ReplicationStore
    from .calibration.validate import write_figure
    from .parallel import executor
    from .uncertainty.prior import ess_problem

    with _input_errors():
        if isinstance(draws, bool) or draws < 2:
            raise InputError(f"--draws must be at least 2, got {draws}")
        _check_seed(seed)
        _check_out(out, force)
        target_set = load_targets(targets, allow_outside=allow_outside_paths)
        post = None if posterior == "prior" else load_posterior(posterior)
    if post is not None:
        problem = ess_problem(post, posterior)
        if problem is not None and posterior != "shipped":
            _fail(problem, code=1)
        if problem is not None:  # the shipped fit predates the check: warn, do not refuse
            typer.echo(f"warning: {problem}; refit it (docs/calibration.md)", err=True)
    store_dir = out.absolute().with_name(f"{out.absolute().name}.store")
    store = ReplicationStore(store_dir / "replications.jsonl")
    console = _console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
               BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=quiet or not console.is_terminal) as prog:
        task = prog.add_task("validating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            prog.update(task, description=stage, completed=done, total=total)

        with _input_errors(), executor(scheduler, workers, 2) as pool:
            result = run_validation(target_set, post, draws=draws, seed=seed, store=store,
                                    progress=progress, pool=pool)
    result["dyadsim_version"] = __version__
    result["git_commit"] = _git_commit()
    result["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    with _input_errors(), atomic_dir(out, force=force, hint="use --force to replace it") \
            as tmp:
        atomic_text(tmp / "validation.json", json.dumps(result, indent=2, allow_nan=False))
        write_figure(result, tmp / "validation.png")
    shutil.rmtree(store_dir, ignore_errors=True)
    _console().print(_validation_table(result, out))


@app.command()
def calibrate(
    out: Annotated[Path, typer.Option("--out", help="Output folder: posterior.json, "
                                      "calibration.json and replications.jsonl.",
                                      show_default=False)],
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Targets TOML (docs/targets.md); default: the shipped published "
        "targets.", show_default=False)] = None,
    budget: Annotated[int, typer.Option("--budget", help="Simulator runs in all (one run = "
                                        "one parameter set, every study replicated once).")]
    = 160,
    waves: Annotated[int, typer.Option("--waves", min=1, max=6, help="History-matching "
                                       "waves.")] = 2,
    params: Annotated[str | None, typer.Option(
        "--params", help="Comma-separated parameters to calibrate (default: every declared "
        "parameter; the others stay at their defaults).", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the designs, the "
                                      "replications and the emulator fits.")] = 1,
    allow_outside_paths: AllowOutsideOption = False,
    replicates: Annotated[str, typer.Option(
        "--replicates", help="POINTSxSEEDS: wave-1 points each run with several seeds, for "
        "the run-to-run (co)variance (0x0: none; the GP's noise term stands in).")] = "4x4",
    mcmc_draws: Annotated[int, typer.Option("--mcmc-draws", min=10, help="NUTS draws per "
                                            "chain (4 chains, as many warm-up).")] = 1000,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", min=2, help="Posterior draws run through the simulator (the "
        "rows of posterior.json).")] = 200,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty OUT.")] = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Fit the model to published targets: history matching with one validated
    Gaussian-process emulator per target on the parameters that can reach it in the graph,
    then a posterior by NUTS on the emulators and simulator runs at its draws
    (docs/calibration.md). Exit 1 when the posterior's effective sample size is below 100
    (written all the same, for inspection). Resumable: finished replications are kept in
    OUT.store/ until OUT is written; rerun the same command to resume."""

    from ._io import atomic_text
    from .calibration import load_targets
    from .calibration.fit import MCMCSettings, settings_for_budget
    from .calibration.fit import calibrate as run_calibration
    from .model.params import PARAMS
    from .uncertainty.prior import ess_problem

    with _input_errors(resumable=True):
        _check_out(out, force)
        _check_seed(seed)
        points, _, seeds = replicates.partition("x")
        if not (points.isdigit() and seeds.isdigit()):
            raise InputError(f"--replicates must be POINTSxSEEDS, e.g. 4x4, got {replicates!r}")
        try:
            settings = settings_for_budget(budget, waves, replicate_points=int(points),
                                           replicate_seeds=int(seeds))
            mcmc = MCMCSettings(warmup=mcmc_draws, draws=mcmc_draws,
                                posterior_draws=posterior_draws)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        names = _csv_list(params, "--params") if params is not None else None
        for k in names or []:
            if k not in PARAMS:
                raise InputError(f"--params: unknown parameter {k!r} (see `dyadsim params`)")
        target_set = load_targets(targets, allow_outside=allow_outside_paths)
        with _replication_run(out, "calibrating", quiet, scheduler, workers) as (
                store, pool, progress):
            result = run_calibration(target_set, store=store, settings=settings, seed=seed,
                                     pool=pool, progress=progress, names=names,
                                     version=__version__, mcmc=mcmc)
        summary = result.summary()
        summary.update({"dyadsim_version": __version__, "git_commit": _git_commit(),
                        "targets_file": str(targets) if targets else "shipped",
                        "targets_hash": target_set.hash, "seed": seed})
        with atomic_dir(out, force=force, hint="use --force to replace it") as tmp:
            atomic_text(tmp / "posterior.json",
                        json.dumps(result.posterior.to_dict(), indent=1, allow_nan=False))
            atomic_text(tmp / "calibration.json",
                        json.dumps(summary, indent=2, allow_nan=False))
            shutil.copyfile(store.path, tmp / "replications.jsonl")
        shutil.rmtree(store.path.parent, ignore_errors=True)
    c = _console()
    c.print(f"calibrated {len(result.posterior.parameters)} parameters to "
            f"{len(result.outputs)} observed values with {summary['simulator_runs']} "
            f"simulator runs and {summary['posterior_runs']} at posterior draws "
            f"({summary['replications_computed']} replications computed) in "
            f"{summary['seconds'] / 60:.1f} min; effective sample size "
            f"{summary['effective_sample_size']}; wrote {out.absolute()}")
    failed = summary["diagnostics"]["failed_emulators"]
    if failed:
        c.print(f"emulators that failed validation (they cut nothing): {', '.join(failed)}")
    problem = ess_problem(result.posterior, str(out / "posterior.json"))
    if problem is not None:
        _fail(problem, code=1)


def main() -> None:
    """Console-script entry point (``dyadsim``)."""
    app(prog_name="dyadsim")


if __name__ == "__main__":
    main()
