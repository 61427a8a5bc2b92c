"""The listing commands a trial author needs (issue 23): interventions, methods, outcomes
and instruments per population, each from its registry; `trial --help` points to the
generated reference."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dyadsim.analysis.outcomes import OUTCOMES
from dyadsim.cli import app
from dyadsim.interventions.library import LIBRARY
from dyadsim.trials.instruments import INSTRUMENTS
from dyadsim.trials.methods import METHODS
from dyadsim.trials.spec import EVENTS

runner = CliRunner()


def _json(*args: str):
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_interventions_lists_the_library():
    assert [r["name"] for r in _json("interventions")] == list(LIBRARY)
    res = runner.invoke(app, ["interventions"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and all(name in res.stdout for name in LIBRARY)


def test_methods_list_every_method_with_its_effects():
    rows = {r["method"]: r for r in _json("methods")}
    assert list(rows) == list(METHODS)
    for name, m in METHODS.items():
        assert rows[name]["effects"].split(", ") == list(m.effects)


def test_outcomes_list_the_registry_and_the_trial_events():
    names = [r["name"] for r in _json("outcomes")]
    assert set(OUTCOMES) | set(EVENTS) <= set(names)


def test_instruments_per_population_leave_out_what_it_cannot_measure():
    with_pregnancy = {r["name"] for r in _json("instruments", "--population",
                                               "pregnant_oud_moud")}
    assert with_pregnancy == set(INSTRUMENTS)
    adults = {r["name"] for r in _json("instruments", "--population", "adult_methadone")}
    assert "ssp" not in adults and "comm" in adults and adults < with_pregnancy
    res = runner.invoke(app, ["instruments", "--population", "adult_methadone"],
                        env={"COLUMNS": "200"})
    assert "ssp: not in adult_methadone: reads attachment_class" in res.stdout


def test_an_unknown_population_is_one_line():
    res = runner.invoke(app, ["instruments", "--population", "nope"])
    assert res.exit_code == 2 and res.stderr.startswith("error: unknown population 'nope'")
    assert len(res.stderr.strip().splitlines()) == 1


def test_trial_help_points_to_the_reference_and_the_listings():
    res = runner.invoke(app, ["trial", "--help"], env={"COLUMNS": "200"})
    text = " ".join(res.stdout.split())
    assert "docs/trial-spec.md" in text
    for cmd in ("dyadsim interventions", "dyadsim methods", "dyadsim outcomes"):
        assert cmd in text
