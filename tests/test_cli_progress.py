"""Progress bars: shown with an ETA on a terminal, silent elsewhere or with --quiet."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import TimeRemainingColumn

from dyadsim.cli._common import _progress, _stage_progress


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=100)


def test_bars_show_an_eta_on_a_terminal_only_without_quiet():
    for make in (_progress, _stage_progress):
        shown = make(_terminal())
        assert not shown.disable
        assert any(isinstance(c, TimeRemainingColumn) for c in shown.columns)
        assert make(_terminal(), quiet=True).disable
        assert make(Console(file=io.StringIO(), force_terminal=False)).disable


def test_a_terminal_bar_draws_and_a_quiet_one_does_not():
    out = {}
    for quiet in (False, True):
        console = _terminal()
        with _stage_progress(console, quiet) as prog:
            task = prog.add_task("simulating", total=4)
            prog.update(task, completed=2)
            prog.refresh()
        out[quiet] = console.file.getvalue()
    assert "simulating" in out[False] and out[True] == ""
