"""The outcome registry (model/outcomes.py): one conformance check per entry, as
scikit-learn's check_estimator does for estimators."""

import numpy as np
import pytest

from dyadsim.model import outcomes
from dyadsim.model.infant import ATTACHMENT_CLASSES

ROWS = 6


def _accumulated(rng) -> dict[str, np.ndarray]:
    """Accumulators as the engine hands them back (its sentinels included): two rows with no
    event, one pregnancy loss (death before the birth), a run with no birth."""
    acc = {k: rng.uniform(0, 1, ROWS).astype(np.float32) for k in outcomes.ACCUMULATORS}
    acc["days_observed"] = acc["postpartum_days"] = np.full(ROWS, 60, np.float32)
    for k in ("use_days", "use_days_pregnancy", "use_days_postpartum", "moud_days",
              "parenting_postpartum_sum", "misuse_amount", "overdoses"):
        acc[k] = np.floor(acc[k] * 60)
    for k in outcomes.DAY_OUTCOMES:
        acc[k][:2] = -1.0
    acc["attachment_class"] = rng.integers(0, len(ATTACHMENT_CLASSES), ROWS).astype(np.float32)
    acc["moud_at_12m"] = np.array([-1, 0, 1, 1, 0, 1], np.float32)
    acc["nows_diagnosed"] = np.array([0, 1, 1, 0, 1, 0], np.float32)
    acc["birth_day"] = np.array([100, 100, 100, 100, 100, 10**8], np.float32)
    acc["maternal_death_day"] = np.array([-1, -1, 50, 200, 300, 20], np.float32)
    return acc


@pytest.mark.parametrize("name", list(outcomes.OUTCOMES))
def test_every_outcome_derives_one_value_per_row(name):
    o = outcomes.OUTCOMES[name]
    acc = _accumulated(np.random.default_rng(0))
    v = outcomes.value_of(o, acc)
    assert v.shape == (ROWS,)
    assert o.meaning and o.unit
    if o.numeric:
        assert v.dtype.kind == "f"
        finite = v[np.isfinite(v)]
        if o.unit in ("0-1", "0/1"):
            assert ((finite >= 0) & (finite <= 1)).all()
        if o.unit == "study day":  # the engine's -1 "no event" is not a day
            assert np.isnan(v[:2]).all() or name == "birth_day"
    if o.infant:  # row 2: the mother died on day 50, before the birth on day 100
        assert (v[2] == "none") if not o.numeric else np.isnan(v[2])
        assert not outcomes.pregnancy_lost(acc)[3]  # died after the birth: an infant


def test_the_registry_is_what_a_run_reports():
    import dyadsim

    for population, pregnancy in (("pregnant_oud_moud", True), ("adult_after_detox", False)):
        ds = dyadsim.simulate(population=population, dyads=3, horizon="3d", record="none",
                              burn_in_days=0)
        want = [k for k, o in outcomes.OUTCOMES.items() if pregnancy or not o.pregnancy]
        assert list(ds.data_vars) == want
        for k in want:
            assert ds[k].attrs["units"] == outcomes.OUTCOMES[k].unit
