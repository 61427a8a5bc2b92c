"""Shared test inputs for the analyses."""

import tomllib
from pathlib import Path

import pytest


@pytest.fixture
def short_prenatal_spec() -> dict:
    """The prenatal trial example cut to one month, the prenatal MORE arm against TAU, one
    assessment and no analyses: a quick run of the worlds a decomposition needs."""
    spec = tomllib.loads(Path("examples/prenatal_more_trial.toml").read_text())
    spec["trial"]["horizon"] = "1m"
    spec["randomization"] = {"method": "simple"}
    spec["arms"] = [a for a in spec["arms"] if a["name"] != "MORE_postpartum"]
    spec["analysis"] = []
    spec["assessments"] = spec["assessments"][:1]
    return spec
