"""``dyadsim report`` (one self-contained HTML report of a run) and ``explore`` (the local web
explorer).

Typer lists the commands in the order they are registered, so these two, which ``dyadsim
--help`` has always listed after ``sensitivity`` and before ``validate``, have a module of
their own that ``dyadsim.cli`` imports between ``analysis`` and ``calibration``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .._io import note_output
from ._common import (
    InputError,
    _input_errors,
    _report,
    _stdout,
    app,
)


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


@app.command("explore")
def explore_cmd(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8501,
) -> None:
    """Start the explorer (a local web app at http://127.0.0.1:PORT, never reachable from
    another machine): pick a population, switch interventions on and off, knock out an
    edge or clamp a node, and see the graph, trajectories and outcomes against a baseline.
    The server replaces this process, so SIGTERM or Ctrl-C stops all of it."""
    from ..app import streamlit_command

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
