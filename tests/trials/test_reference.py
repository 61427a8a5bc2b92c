"""docs/trial-spec.md is generated from the schema (issue 23): it is current, documents
every key with its type, default and an example, and its first trial runs as written."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dyadsim.trials import reference
from dyadsim.trials.spec import TrialSpec, load_spec

DOC = Path(__file__).resolve().parents[2] / "docs" / "trial-spec.md"


def test_the_committed_reference_is_current():
    assert DOC.read_text() == reference.render(), \
        "docs/trial-spec.md is stale: run `make docs`"


def test_every_key_of_every_section_is_documented():
    text = reference.render()
    for field, f in TrialSpec.model_fields.items():
        model = next(a for a in (f.annotation, *getattr(f.annotation, "__args__", ()))
                     if isinstance(a, type) and issubclass(a, reference.BaseModel))
        assert f"[{field}]" in text, field
        for key in model.model_fields:
            meaning, example = reference.KEYS[f"{field}.{key}"]
            assert f"| `{key}` |" in text and f"`{key} = {example}`" in text, (field, key)


def test_a_key_the_reference_does_not_know_fails_the_render(monkeypatch):
    keys = dict(reference.KEYS)
    del keys["trial.alpha"]
    monkeypatch.setattr(reference, "KEYS", keys)
    with pytest.raises(KeyError, match="undocumented.*trial.alpha"):
        reference.render()


def test_each_example_value_is_valid_toml_of_the_documented_type():
    for key, (_, example) in reference.KEYS.items():
        tomllib.loads(f"x = {example}")  # raises on a malformed example
        assert key.split(".")[0] in TrialSpec.model_fields


def test_the_first_trial_of_the_reference_validates():
    spec = load_spec(tomllib.loads(reference.EXAMPLE))
    assert spec.n == 120 and spec.arm_names == ["MORE", "TAU"]
    assert reference.EXAMPLE in DOC.read_text()
