"""No hidden numbers (issue 6 item 11): a mechanism module may contain no numeric literal
other than 0 or 1, except the few on the allow-list, each with its reason (a unit). Every
other number is a declared parameter (model/params.py, model/graph.py) with bounds and a
source. Declaration modules (graph, params, populations) are where numbers belong."""

import ast
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[2] / "src" / "dyadsim" / "model"
DECLARATIONS = {"__init__.py", "graph.py", "params.py", "populations.py",
                # the per-dyad schedule arrays: only the "never" sentinel day
                "schedule.py",
                # the bookkeeping of the initial draws (column indices and counts of the
                # draw vectors, numerical guards of the beta draw); its one science number,
                # the gestation range, is declared in populations.py
                "initial.py",
                # the beta sampler (moved here from engine/ to keep imports downward): the
                # Marsaglia-Tsang algorithm's constants and block sizes, no science
                "_beta.py"}
# (module, value): why the literal is not a parameter.
ALLOWED = {
    ("skills.py", 7): "days per week: sessions are weekly (a unit)",
    ("outcomes.py", 12): "months per year (a unit) and the 12-month assessment age",
    ("outcomes.py", 24): "the 24-month assessment age (reported ages, not dynamics)",
    ("outcomes.py", 365.25): "days per year (a unit)",
}


def literals(path: Path) -> list[tuple[int, float]]:
    """(line, value) of every numeric literal other than 0 and 1 in a module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
                and not isinstance(node.value, bool) and node.value not in (0, 1)):
            out.append((node.lineno, node.value))
    return out


def hidden(path: Path) -> list[tuple[int, float]]:
    return [(line, v) for line, v in literals(path) if (path.name, v) not in ALLOWED]


MODULES = sorted(p for p in MODEL.glob("*.py") if p.name not in DECLARATIONS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_mechanism_module_has_no_hidden_number(path):
    assert hidden(path) == [], f"{path.name}: literals that should be declared parameters"


def test_the_scan_finds_a_literal(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    return 0.5 * x + 1 - 0\n")
    assert hidden(bad) == [(2, 0.5)]
