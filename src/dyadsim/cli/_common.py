"""What the ``dyadsim`` commands of several topics share: the Typer ``app``, its root
callback and the entry point :func:`main`; bad input as one ``error: ...`` line and exit code
2; the console and the progress bars; the options and parsers used by more than one topic;
the output folder, its manifest's command line and the HTML report.

A helper used by one topic's commands only lives with them (``model``, ``run``, ``trials``,
``analysis``, ``view``, ``calibration``), but for the progress bars, which are kept together
here; this module imports none of those.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from enum import Enum
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

from .._io import check_out_dir, note_output
from .._version import __version__

# --------------------------------------------------------------------------- app
app = typer.Typer(
    name="dyadsim",
    help="Simulate opioid-exposed mother-infant dyads with the integrated mechanistic model "
         "of Reese, Conradt, Riquino & Garland (2021).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)


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
    from ..engine import configure_jax

    configure_jax()  # JAX's settings at the entry point, before any command computes


def main() -> None:
    """Console-script entry point (``dyadsim``)."""
    app(prog_name="dyadsim")


# --------------------------------------------------------------------------- errors
class InputError(ValueError):
    """Bad command-line input found by the CLI itself (not by the model)."""


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


# --------------------------------------------------------------------------- console
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


def _progress(console: Console, quiet: bool = False) -> Progress:
    """A progress bar with ETA on a terminal; silent in a pipe, a file or with --quiet."""
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                    BarColumn(), MofNCompleteColumn(), TextColumn("dyads"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=console, transient=True,
                    disable=quiet or not console.is_terminal)


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


def _analysis_progress(quiet: bool) -> Progress:
    """Progress with ETA on stderr, on a terminal only."""
    console = _console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
                    BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                    transient=True,
                    disable=quiet or not console.is_terminal)


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}" if isinstance(x, float) else str(x)


# --------------------------------------------------------------------------- options
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (it "
                                           "shows only on a terminal anyway).")]
AnalysisQuiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (it shows "
                                            "only on a terminal anyway).")]
PosteriorOption = Annotated[str | None, typer.Option(
    "--posterior", metavar="shipped|PATH|prior", help="Carry parameter uncertainty: draws "
    "from the shipped posterior, a posterior JSON file or the prior (issue 8).",
    show_default=False)]
ReportOption = Annotated[bool, typer.Option("--report", help="Also write OUT/report.html: "
                                            "one self-contained HTML report of the run.")]
AllowOutsideOption = Annotated[bool, typer.Option(
    "--allow-outside-paths", help="Let a targets file name design specs outside its own "
    "folder (absolute paths, '..').")]
PlausibilityOption = Annotated[bool, typer.Option(
    "--plausibility", help="Add the shipped plausibility constraints (check-table rows as "
    "targets, docs/targets.md) to the targets.")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786); default: local "
    "worker processes.", show_default=False)]
WorkersOption = Annotated[int | None, typer.Option(min=1, help="Local worker processes "
                                                   "(default: CPU count; 1 = serial).",
                                                   show_default=False)]


def _parameter_source(posterior: str | None):
    """The ``--posterior`` source (None without one); a bad file is a one-line error."""
    if posterior is None:
        return None
    from ..uncertainty import load_source

    return load_source(posterior)


def _csv_list(text: str | None, option: str) -> list[str]:
    items = [x.strip() for x in (text or "").split(",") if x.strip()]
    if text is not None and not items:
        raise InputError(f"{option} needs at least one name")
    return items


# --------------------------------------------------------------------------- output
def _check_out(out: Path, force: bool) -> None:
    try:
        check_out_dir(out, force, hint="use --force to replace it")
    except FileExistsError as exc:
        raise InputError(str(exc)) from None


def _checkpoint_dir(out: Path) -> Path:
    """Where finished replicates are kept until OUT is written: running the same command
    again after a crash resumes from them (removed once OUT is complete)."""
    target = out.absolute()
    return target.with_name(f"{target.name}.checkpoint")


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

    from ..reports.html import ReportWarning, write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReportWarning)
        path = write_report(run_dir, out)
    for w in caught:
        if issubclass(w.category, ReportWarning):
            typer.echo(f"warning: {w.message}", err=True)
    return path


# --------------------------------------------------------------------------- replications
def _check_seed(seed: int) -> None:
    """A seed the replication seeds can be derived from: in [0, 2^31)."""
    if not 0 <= seed < 2**31:
        raise InputError(f"--seed must be in [0, 2^31), got {seed}")


@contextlib.contextmanager
def _replication_run(out: Path, label: str, quiet: bool, scheduler: str | None,
                     workers: int | None) -> Iterator[tuple[Any, Any, Callable[..., None]]]:
    """(store, executor, progress callback) of a command that replicates studies: the store
    is OUT.store/replications.jsonl, kept until OUT is written (rerun to resume)."""
    from ..calibration.replicate import ReplicationStore
    from ..parallel import executor

    store_dir = out.absolute().with_name(f"{out.absolute().name}.store")
    store = ReplicationStore(store_dir / "replications.jsonl")
    with _analysis_progress(quiet) as prog, executor(scheduler, workers, 2) as pool:
        task = prog.add_task(label, total=None)

        def progress(stage: str, done: int, total: int) -> None:
            prog.update(task, description=stage, completed=done, total=total)

        yield store, pool, progress
