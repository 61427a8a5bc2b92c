"""The perinatal course (issue 6): fetal exposure and NOWS, death and placement, attachment
that forms over the first year."""

from functools import cache

import jax.numpy as jnp
import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.model import infant
from dyadsim.model.params import PARAMS

N = 2048
STABLE = {"preset": "pregnant_oud_no_moud", "init": {"moud.offered": 0.0}}


@cache
def _nows(population, start, params=()):
    pop = population if isinstance(population, str) else dict(population)
    ds = simulate({"population": pop}, dyads=N, seed=1, start=start, horizon="30d",
                  record="none", params=dict(params))
    return ds


def test_untreated_prenatal_exposure_gives_published_nows_share():
    """mechanisms.md s5: NOWS after untreated prenatal exposure in 30-95%."""
    share = _nows("pregnant_oud_no_moud", "gw20")["nows"].mean().item()
    assert 0.30 <= share <= 0.95, share


def test_enrolment_week_changes_nows_by_less_than_3_points():
    """The fetal exposure carried in at enrolment is the prenatal history, so the same
    population enrolled at gw20 or gw36 has the same NOWS share."""
    early = simulate({"population": STABLE}, dyads=N, seed=1, start="gw20", horizon="30d",
                     record="none")["nows"].mean().item()
    late = simulate({"population": STABLE}, dyads=N, seed=1, start="gw36", horizon="30d",
                    record="none")["nows"].mean().item()
    assert abs(early - late) < 0.03, (early, late)


@pytest.mark.parametrize("shift", [{"opioid_use.bias": -1.5}, {"opioid_use.bias": 1.5},
                                   {"opioid_dose.bias": 2.0}], ids=str)
def test_enrolment_week_invariance_holds_away_from_the_defaults(shift):
    """Issue 18 item 7: the exposure carried in is burned in from her own use and amount, so
    the invariance does not rest on ``prenatal.use_share`` matching the default dynamics
    (measured 2,048 dyads: gaps +0.006, +0.002, -0.0000 for these shifts; NOWS 0.27-0.69)."""
    params = {k: PARAMS[k].default + v for k, v in shift.items()}
    early, late = (simulate({"population": STABLE}, dyads=N, seed=1, start=start,
                            horizon="30d", record="none", params=params)["nows"].mean().item()
                   for start in ("gw20", "gw36"))
    assert abs(early - late) < 0.03, (early, late)


def test_postpartum_start_carries_the_prenatal_exposure_in():
    """A study enrolling at delivery still sees NOWS (was 0.2% when exposure started at 0)."""
    share = _nows("postpartum_oud", "pp0")["nows"].mean().item()
    assert share > 0.2, share


def test_nows_depends_on_drug_and_care_model():
    """Methadone > buprenorphine (MOTHER 57% vs 47%); Eat, Sleep, Console lowers the share
    treated by its published risk ratio (same draws: the ratio is the multiplier)."""
    met = {"preset": "pregnant_oud_moud", "init": {"moud.buprenorphine": 0.0}}
    bup = {"preset": "pregnant_oud_moud", "init": {"moud.buprenorphine": 1.0}}
    m = simulate({"population": met}, dyads=N, seed=1, start="gw36", horizon="30d",
                 record="none")["nows"].mean().item()
    b = simulate({"population": bup}, dyads=N, seed=1, start="gw36", horizon="30d",
                 record="none")["nows"].mean().item()
    assert m > b + 0.05, (m, b)
    from dyadsim.interventions.library import LIBRARY

    esc = LIBRARY["eat_sleep_console"].params
    usual = simulate({"population": met}, dyads=N, seed=1, start="gw36", horizon="30d",
                     record="none")["nows"].mean().item()
    rooming = simulate({"population": met}, dyads=N, seed=1, start="gw36", horizon="30d",
                       record="none", params=esc)["nows"].mean().item()
    assert abs(rooming / usual - esc["neonatal_withdrawal.care_treatment_rr"]) < 0.08


def test_nows_onset_is_earlier_after_illicit_opioids_than_after_methadone():
    ds = simulate({"population": {"preset": "postpartum_oud",
                                  "init": {"moud": 0.0, "moud.offered": 0.0}}},
                  dyads=512, seed=2, start="pp0", horizon="10d", record="daily",
                  nodes=["neonatal_withdrawal"])
    illicit = ds["neonatal_withdrawal"].values
    ds = simulate({"population": {"preset": "postpartum_oud",
                                  "init": {"moud": 1.0, "moud.buprenorphine": 0.0,
                                           "prenatal.use_share": 0.0}}},
                  dyads=512, seed=2, start="pp0", horizon="10d", record="daily",
                  nodes=["neonatal_withdrawal"])
    methadone = ds["neonatal_withdrawal"].values
    peak_day = [np.argmax(x[x.max(axis=1) > 0].mean(axis=0)) for x in (illicit, methadone)]
    assert peak_day[0] < peak_day[1], peak_day


# ------------------------------------------------------------------ death and placement
DEATHS = {"overdose.bias": -3.0, "overdose->maternal_death": 1.0}
NODES = ["opioid_use", "moud", "overdose", "drug_cue", "parenting_behavior", "maternal_death",
         "foster_placement"]


@cache
def _deaths(extra=()):
    return simulate(dyads=512, seed=3, population="postpartum_oud", start="pp0",
                    horizon="60d", record="daily", nodes=NODES,
                    params={**DEATHS, **dict(extra)})


def test_a_mother_who_dies_uses_and_parents_no_more():
    ds = _deaths()
    died = ds["maternal_death"].values > 0
    assert died[:, -1].sum() > 50, "too few deaths to test"
    after = np.zeros_like(died)
    after[:, 1:] = died[:, :-1]  # the days after the day of death
    for node in ("opioid_use", "moud", "overdose", "drug_cue"):
        assert np.all(ds[node].values[after] == 0), node
    # her infant is placed with a substitute caregiver: the mother's own parenting
    # parameters no longer matter a few days after her death
    other = _deaths((("maternal_depression->parenting_behavior", 6.0),))
    day = ds["maternal_death_day"].values
    same = np.isfinite(day) & (day == other["maternal_death_day"].values) & (day < 50)
    assert same.sum() > 20
    a = ds["parenting_behavior"].values[same, -1]
    b = other["parenting_behavior"].values[same, -1]
    alive = ~np.isfinite(day)
    assert np.allclose(a, b, atol=1e-4)
    assert not np.allclose(ds["parenting_behavior"].values[alive, -1],
                           other["parenting_behavior"].values[alive, -1], atol=1e-3)
    assert np.all(ds["foster_placement"].values[same, -1] == 1)


def test_placement_changes_the_caregiver():
    """A CPS report leads to removal; the placed infant's care moves to the substitute
    caregiver's level; reunification is recorded when the infant returns."""
    # one removal decision per investigation: a high removal weight so most dyads move
    params = {"cps_report.bias": -3.0, "cps_report->foster_placement": 1.7,
              "caregiver.substitute_parenting_mean": 0.95,
              "caregiver.substitute_parenting_sd": 0.0,
              "foster_placement.reunification_logit": -4.0}
    ds = simulate(dyads=512, seed=4, population="postpartum_oud", start="pp0", horizon="60d",
                  record="daily", nodes=["parenting_behavior", "foster_placement"],
                  params=params)
    placed = ds["foster_placement"].values > 0
    assert placed.any(axis=1).mean() > 0.3
    settled = np.zeros_like(placed)
    settled[:, 5:] = placed[:, :-5] & placed[:, 1:-4] & placed[:, 2:-3] & placed[:, 3:-2] \
        & placed[:, 4:-1] & placed[:, 5:]
    care = ds["parenting_behavior"].values
    assert np.abs(care[settled] - 0.95).max() < 0.01
    assert care[~placed].mean() < 0.8
    day = ds["placement_day"].values
    back = ds["reunification_day"].values
    assert np.isnan(day[~placed.any(axis=1)]).all()
    assert np.isfinite(back).sum() > 0 and np.all(back[np.isfinite(back)] > day[np.isfinite(back)])


def test_life_course_days_are_nan_when_nothing_happens():
    ds = simulate(dyads=64, seed=1, population="low_risk_mothers", start="gw36", horizon="30d",
                  record="none")
    for var in ("maternal_death_day", "placement_day", "reunification_day"):
        assert ds[var].dtype.kind == "f" and np.isnan(ds[var].values).all(), var


# ------------------------------------------------------------------ attachment that forms
def _first_year(parenting_by_day, placed_on=None, n=2000, use=0.0):
    """Run the attachment mechanisms over a year of given care (a pure-function harness)."""
    p = {k: jnp.float32(v.default) for k, v in PARAMS.items()}
    s = {k: jnp.zeros(n, jnp.float32) for k in (
        "attachment", "attachment_disorganization", "attachment_classification",
        "attachment_disorganization.caregiver", "attachment_disorganization.care",
        "attachment_disorganization.disruption", "attachment_classification.availability",
        "attachment_classification.inconsistency", "dyadic_synchrony", "aces",
        "neonatal_withdrawal")}
    rng = np.random.default_rng(0)
    dyad = {k: jnp.asarray(rng.uniform(size=n), jnp.float32)
            for k in ("u.attach_d", "u.attach_ar")}
    dyad["attachment.temperament"] = jnp.asarray(
        rng.normal(size=n) * float(p["attachment.temperament_sd"]), jnp.float32)
    z = {k: jnp.zeros(n, jnp.float32) for k in ("attachment", "attachment_disorganization")}
    s["dyadic_synchrony"] = jnp.full(n, 0.4)
    for day, level in enumerate(parenting_by_day):
        s["parenting_behavior"] = jnp.full(n, level, jnp.float32)
        s["opioid_use"] = jnp.asarray(rng.uniform(size=n) < use, jnp.float32)
        s["foster_placement"] = jnp.full(n, float(placed_on is not None and day >= placed_on))
        clock = {"day": jnp.int32(day), "postpartum_day": jnp.int32(day)}
        for mech in (infant.attachment, infant.attachment_disorganization,
                     infant.attachment_classification):
            s.update(mech(s, p, dyad, clock, z, {}))
    return s


def _classes(s):
    code = np.asarray(s["attachment_classification"])
    return {c: np.mean(code == infant.CLASS_CODE[c]) for c in infant.ATTACHMENT_CLASSES[1:]}


YEAR = int(PARAMS["attachment.classification_day"].default) + 1


def test_early_months_count_for_security():
    """Care in months 0-6 carries about half the weight of security at 12 months (it was
    ~13% with a 90-day relaxation)."""
    early_poor = _first_year([0.2] * (YEAR // 2) + [0.8] * (YEAR - YEAR // 2), n=4)
    late_poor = _first_year([0.8] * (YEAR // 2) + [0.2] * (YEAR - YEAR // 2), n=4)
    all_good = _first_year([0.8] * YEAR, n=4)
    all_poor = _first_year([0.2] * YEAR, n=4)
    span = float(all_good["attachment"][0] - all_poor["attachment"][0])
    early_weight = float(all_good["attachment"][0] - early_poor["attachment"][0]) / span
    late_weight = float(all_good["attachment"][0] - late_poor["attachment"][0]) / span
    assert 0.4 < early_weight < 0.6 and abs(early_weight - late_weight) < 0.1


def test_class_depends_on_early_care():
    poor_start = _classes(_first_year([0.1] * 90 + [0.85] * (YEAR - 90)))
    good_start = _classes(_first_year([0.85] * YEAR))
    assert good_start["secure"] > poor_start["secure"] + 0.05, (good_start, poor_start)


def test_class_depends_on_caregiver_disruption():
    stable = _classes(_first_year([0.7] * YEAR))
    disrupted = _classes(_first_year([0.7] * YEAR, placed_on=120))
    assert disrupted["disorganized"] > stable["disorganized"] + 0.05, (stable, disrupted)


def test_disruption_depends_on_timing_and_fades_rather_than_on_being_recent():
    """A placement at 6-11 months does not give far more disorganization than one in the
    first 60 days (it gave 92% vs 41% when a disruption counted by recency in a running
    mean); both give more than no placement; the disruption fades after the event."""
    stable = _classes(_first_year([0.7] * YEAR))["disorganized"]
    early = _classes(_first_year([0.7] * YEAR, placed_on=30))["disorganized"]
    late = _classes(_first_year([0.7] * YEAR, placed_on=270))["disorganized"]
    assert early > stable + 0.2 and late > stable + 0.2, (stable, early, late)
    assert late < 1.5 * early, (early, late)
    soon = _first_year([0.7] * 40, placed_on=30)["attachment_disorganization.disruption"]
    later = _first_year([0.7] * YEAR, placed_on=30)["attachment_disorganization.disruption"]
    assert float(later.mean()) < 0.8 * float(soon.mean())


def test_subtype_follows_the_pattern_of_care():
    """Consistently unresponsive care -> avoidant; inconsistent (intoxicated days) ->
    resistant (Ainsworth 1978; Cassidy & Berlin 1994)."""
    unresponsive = _classes(_first_year([0.3] * YEAR))
    inconsistent = _classes(_first_year([0.6] * YEAR, use=0.4))
    ratio = lambda c: c["avoidant"] / max(c["avoidant"] + c["resistant"], 1e-9)  # noqa: E731
    assert ratio(unresponsive) > ratio(inconsistent) + 0.15, (unresponsive, inconsistent)


def test_no_infant_outcomes_when_the_mother_dies_before_the_birth():
    ds = simulate(dyads=512, seed=5, population="pregnant_oud_no_moud", start="gw36",
                  horizon="30d", record="none",
                  params={"overdose.bias": -3.0, "overdose->maternal_death": 1.0})
    died, born = ds["maternal_death_day"].values, ds["birth_day"].values
    lost = np.isfinite(died) & (died < born)
    assert lost.sum() > 5
    assert np.isnan(ds["nows"].values[lost]).all()
    assert (ds["attachment_class"].values[lost] == "none").all()
    assert np.isfinite(ds["nows"].values[~lost]).all()
