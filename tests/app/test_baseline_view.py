"""What the explorer shows a clinician beside the baseline (issue 23): the difference of
each outcome from the baseline with its interval, and infant states only from birth."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsim.app.scenario import (
    DIFFERENCE_VALUES,
    ExplorerScenario,
    after_birth,
    difference_from_baseline,
    run,
)
from dyadsim.reports.demo import ROWS

SMALL = dict(dyads=60, seed=4, horizon="12m", record="monthly")


@pytest.fixture(scope="module")
def runs():
    base = run(ExplorerScenario(population="pregnant_oud_moud", **SMALL))
    more = run(ExplorerScenario(population="pregnant_oud_moud",
                                interventions=(("more", "gw24"),), **SMALL))
    return base, more


def test_every_outcome_row_has_a_difference():
    assert set(DIFFERENCE_VALUES) == {label for label, _ in ROWS}


def test_the_baseline_differs_from_itself_by_nothing(runs):
    base, _ = runs
    text = difference_from_baseline(base.ds, base.ds, "Opioid use: share of days")
    assert text == "+0 pp (+0 to +0)"


def test_a_scenario_shows_its_paired_difference_with_an_interval(runs):
    base, more = runs
    v, _ = DIFFERENCE_VALUES["Parenting quality (mean, 0-1)"]
    d = v(more.ds) - v(base.ds)
    text = difference_from_baseline(more.ds, base.ds, "Parenting quality (mean, 0-1)")
    mean, lo, hi = (float(x) for x in text.replace("(", "").replace(")", "")
                    .replace(" to ", " ").split())
    assert mean == pytest.approx(float(f"{np.nanmean(d):.3g}"))
    assert lo < mean < hi
    assert "pp" in difference_from_baseline(more.ds, base.ds, "Opioid use: any")


def test_an_outcome_the_run_lacks_is_a_dash(runs):
    base, more = runs
    assert difference_from_baseline(more.ds, base.ds, "no such row") == "-"
    # 12 months: well-being at 24 months is never reached
    assert difference_from_baseline(more.ds, base.ds,
                                    "Well-being at 24 months: physical (0-1)") == "-"


def test_infant_states_are_not_drawn_before_birth(runs):
    base, _ = runs
    pp = base.ds["postpartum_day"].values
    attachment = after_birth(base.ds, "attachment")
    assert np.isnan(attachment[pp < 0]).all() and np.isfinite(attachment[pp >= 0]).all()
    craving = after_birth(base.ds, "craving")  # the mother's states exist throughout
    assert np.isfinite(craving).all()
