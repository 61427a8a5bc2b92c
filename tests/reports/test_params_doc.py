from pathlib import Path

from dyadsim.model.params import PARAMS
from dyadsim.reports.params_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"


def test_parameters_doc_is_current():
    assert DOC.read_text() == render(), "docs/parameters.md is stale: run `make docs`"


def test_every_parameter_is_listed_once():
    text = render()
    for name in PARAMS:
        assert text.count(f"| `{name}` |") == 1, name
