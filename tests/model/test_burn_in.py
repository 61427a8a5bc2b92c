"""The burn-in before enrolment (issue 6 item 9): a run starts from the stationary
distribution of the mother's states under her population's own conditions, so an untreated
arm does not drift, and the burn-in leaves what the population fixes (context, treatment,
the state just after detox) and everything about the infant untouched."""

import numpy as np
import pytest

import dyadsim
from dyadsim.model.graph import NODES
from dyadsim.model.initial import BURNED_IN
from dyadsim.model.populations import BURN_IN_DAYS, PRESETS, PopulationError, get_population
from dyadsim.simulation import ScenarioError

MATERNAL = [n for n in BURNED_IN if n in {m.id for m in NODES}
            and next(m for m in NODES if m.id == n).dynamics == "relax"]
DYADS = 512
WEEKS = 8


def _drift(population: str, burn_in_days: int, do: dict) -> dict[str, float]:
    """Change of each maternal node's mean over the first 8 weeks of an untreated run."""
    ds = dyadsim.simulate(population=population, horizon=f"{WEEKS * 7 + 6}d", dyads=DYADS,
                          seed=11, record="weekly", nodes=MATERNAL, do=do,
                          burn_in_days=burn_in_days)
    return {n: float(abs(ds[n].isel(time=WEEKS).mean() - ds[n].isel(time=0).mean()))
            for n in MATERNAL}


# Methadone patients who stop during the run lose dependence: that is treatment dynamics,
# not drift, so there the MOUD status is held (as the burn-in holds it).
@pytest.mark.parametrize(("population", "do"), [("adult_chronic_pain_ltot", {}),
                                                ("adult_methadone", {"moud": 1.0})])
def test_untreated_maternal_means_are_stationary_after_the_burn_in(population, do):
    burned = _drift(population, BURN_IN_DAYS, do)
    assert max(burned.values()) < 0.02, sorted(burned.items(), key=lambda kv: -kv[1])[:3]
    # without the burn-in the same arm drifts: the test can fail
    cold = _drift(population, 0, do)
    assert max(cold.values()) > 0.02


def test_presets_burn_in_by_default_unless_asked():
    assert all(p.burn_in_days == BURN_IN_DAYS for p in PRESETS.values())
    assert get_population("adult_methadone").with_overrides(burn_in_days=0).burn_in_days == 0
    kw = dict(population="adult_methadone", horizon="1d", dyads=32, seed=5, record="daily")
    default = dyadsim.simulate(**kw)
    asked = dyadsim.simulate(**kw, burn_in_days=BURN_IN_DAYS)
    cold = dyadsim.simulate(**kw, burn_in_days=0)
    np.testing.assert_array_equal(default["tolerance"].values, asked["tolerance"].values)
    assert not np.array_equal(default["tolerance"].values, cold["tolerance"].values)


def test_the_burn_in_keeps_context_treatment_and_infant_states():
    """Context, MOUD status and the (not yet born) infant are what the population drew; the
    mother is alive; the burned-in states differ from the drawn ones."""
    kw = dict(population="postpartum_oud", horizon="1d", dyads=64, seed=3, record="daily")
    cold = dyadsim.simulate(**kw, burn_in_days=0)
    warm = dyadsim.simulate(**kw, burn_in_days=BURN_IN_DAYS)
    for node in ("aces", "poverty", "structural_barriers", "polysubstance", "mindfulness"):
        np.testing.assert_array_equal(warm[node].values, cold[node].values)
    # MOUD status at enrolment is the drawn one (a day's stop is possible in both runs)
    assert np.mean(warm["moud"].values[:, 0] == cold["moud"].values[:, 0]) > 0.9
    assert not np.any(warm["maternal_death_day"].values >= 0)
    assert not np.allclose(warm["allostatic_load"].values, cold["allostatic_load"].values)


def test_after_detox_the_detox_state_is_imposed_at_enrolment():
    """Dependence and tolerance at enrolment are the drawn after-detox ones, while the habit
    and salience come from the burn-in (a person who used until the detox)."""
    kw = dict(population="adult_after_detox", horizon="1d", dyads=256, seed=4,
              record="daily")
    cold = dyadsim.simulate(**kw, burn_in_days=0)
    warm = dyadsim.simulate(**kw, burn_in_days=BURN_IN_DAYS)
    # read after the first day: among those who did not use on it in either run (a use
    # day raises tolerance at once, and the burned-in craving makes one likelier)
    none = (warm["opioid_use"].values[:, 0] == 0) & (cold["opioid_use"].values[:, 0] == 0)
    assert none.sum() > 50
    for node in ("physical_dependence", "tolerance"):
        w, c = warm[node].values[none, 0], cold[node].values[none, 0]
        assert abs(float(w.mean() - c.mean())) < 0.02, node
    assert abs(float(warm["action_schema"].mean() - cold["action_schema"].mean())) > 0.02


def test_bad_burn_in_is_a_clear_error():
    with pytest.raises(ScenarioError, match="burn_in_days"):
        dyadsim.simulate(population="adult_methadone", dyads=4, horizon="1d", burn_in_days=-1)
    with pytest.raises(PopulationError, match="at_enrolment"):
        get_population("adult_methadone").__class__(
            **{**get_population("adult_methadone").__dict__, "at_enrolment": ("craving",)})
