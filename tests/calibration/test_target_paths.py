"""A targets file reads design specs from its own folder only (issue 23): an absolute
path, a ``..`` or a link out of it is a one-line error unless explicitly allowed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dyadsim.calibration import load_targets
from dyadsim.calibration.targets import TargetError, published_targets_path
from dyadsim.cli import app

DESIGN = published_targets_path().parent / "designs" / "garland2022_more_vs_sg.toml"
TARGET = """
[[target]]
id = "t"
source = "x"
statistic = "cohens_d"
design = "{design}"
[target.measure]
instrument = "comm"
timepoint = "m9"
contrast = ["MORE", "SG"]
[target.observed]
value = -0.3
"""


@pytest.fixture
def folders(tmp_path):
    """targets/ for the targets file, outside/ beside it holding a design spec."""
    (tmp_path / "targets").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "d.toml").write_text(DESIGN.read_text())
    return tmp_path


def _targets(folders, design: str):
    p = folders / "targets" / "targets.toml"
    p.write_text(TARGET.format(design=design))
    return p


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "link"])
def test_a_design_outside_the_folder_is_refused_unless_allowed(folders, kind):
    if kind == "link":
        (folders / "targets" / "d.toml").symlink_to(folders / "outside" / "d.toml")
    design = {"absolute": (folders / "outside" / "d.toml").as_posix(),
              "dotdot": "../outside/d.toml", "link": "d.toml"}[kind]
    path = _targets(folders, design)
    with pytest.raises(TargetError, match=r"^target 't': design: .* lies outside the targets "
                                          r"file's folder") as err:
        load_targets(path)
    assert "\n" not in str(err.value)
    assert "t" in load_targets(path, allow_outside=True).designs


def test_a_design_inside_the_folder_loads(folders):
    (folders / "targets" / "designs").mkdir()
    (folders / "targets" / "designs" / "d.toml").write_text(DESIGN.read_text())
    assert "t" in load_targets(_targets(folders, "designs/d.toml")).designs
    assert len(load_targets()) > 0  # the shipped targets keep their designs beside them


def test_the_cli_refuses_in_one_line_and_names_the_option(folders, tmp_path):
    path = _targets(folders, "../outside/d.toml")
    res = CliRunner().invoke(app, ["validate", "--targets", str(path), "--out",
                                   str(tmp_path / "v")])
    assert res.exit_code == 2 and res.stderr.startswith("error: target 't': design:")
    assert "--allow-outside-paths" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
