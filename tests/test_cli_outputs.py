"""Output folders never cost a user's file (issue 23): every folder dyadsim writes carries
a marker listing its files; ``--force`` replaces only such a folder, never the current or
home folder, never one with other files; temporary folders of killed runs are cleared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dyadsim._io import MARKER, OutputLocationError, atomic_dir, note_output
from dyadsim.cli import app

runner = CliRunner()


def _write(out, force=False, name="a.txt"):
    with atomic_dir(out, force=force) as tmp:
        (tmp / name).write_text("result")


def test_the_marker_lists_the_files_written(tmp_path):
    out = tmp_path / "out"
    _write(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert json.loads((out / MARKER).read_text())["files"] == ["a.txt"]
    _write(out, force=True, name="b.txt")  # a marked folder of its own files: replaced
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt"]


def test_force_refuses_a_folder_with_a_user_file(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputLocationError, match="not a dyadsim output folder"):
        _write(out, force=True)
    assert (out / "thesis.docx").read_text() == "years of work"


def test_force_refuses_a_dyadsim_folder_a_user_added_a_file_to(tmp_path):
    out = tmp_path / "out"
    _write(out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputLocationError, match=r"files dyadsim did not write \(notes.txt\)"):
        _write(out, force=True)
    assert (out / "notes.txt").exists() and (out / "a.txt").exists()
    note_output(out, "notes.txt")  # a file dyadsim wrote later (e.g. report.html) is listed
    _write(out, force=True)
    assert not (out / "notes.txt").exists()


def test_force_refuses_the_current_folder_and_its_parents(tmp_path, monkeypatch):
    here = tmp_path / "work"
    _write(here)  # even a folder dyadsim wrote, once it is where the user stands
    monkeypatch.chdir(here)
    for target in (".", str(tmp_path)):
        with pytest.raises(OutputLocationError, match="current folder"):
            _write(Path(target), force=True)
    assert (here / "a.txt").exists()


def test_force_refuses_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(OutputLocationError, match="your home folder"):
        _write(home, force=True)
    assert (home / ".bashrc").exists()


def test_cli_force_out_dot_is_one_line_and_deletes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("1,2\n")
    res = runner.invoke(app, ["simulate", "--dyads", "5", "--out", ".", "--force"])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: refusing to replace")
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_of_dead_runs_are_cleared(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / f"out.tmp-{_dead_pid()}"  # what a SIGKILLed run leaves
    stale.mkdir()
    (stale / MARKER).write_text('{"files": []}')
    (stale / "half.nc").write_text("half-written")
    live = tmp_path / "out.tmp-1"  # pid 1 runs: another run still writing
    live.mkdir()
    (live / MARKER).write_text('{"files": []}')
    unmarked = tmp_path / f"out.tmp-{_dead_pid()}"  # not dyadsim's: left alone
    unmarked.mkdir()
    (unmarked / "mine.txt").write_text("mine")
    _write(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", live.name,
                                                                 unmarked.name])
