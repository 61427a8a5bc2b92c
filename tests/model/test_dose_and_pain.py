"""Use intensity, pain and the prescribed dose (issue 6 item 2): tolerance escalates the
amount taken, a taper lowers the prescribed dose and the measured MME, MORE lowers pain in
the LTOT population, and a non-fatal overdose raises MOUD entry (item 3)."""

import numpy as np
import pytest

from dyadsim import simulate
from dyadsim.model.graph import MME_FULL_SCALE
from dyadsim.trials.instruments import DoseRecall, get_instrument

N = 512
SEED = 3
LTOT = "adult_chronic_pain_ltot"


def _scenario(interventions=(), init=None, population=LTOT):
    return {"population": {"preset": population, "init": dict(init or {})},
            "interventions": [{"name": i, "start": "day0"} for i in interventions],
            "start": "day0"}


def test_the_mme_instrument_scores_prescribed_and_misused_dose():
    inst = get_instrument("tlfb_mme")
    assert isinstance(inst, DoseRecall) and inst.reads == ("opioid_dose", "prescribed_opioid")
    amount = np.zeros((3, 30))
    amount[1, ::2] = 0.5  # 15 use days of half the full scale
    coverage = np.ones((3, 30))
    coverage[2] = 0.0
    true = inst.true_score({"opioid_dose": amount, "prescribed_opioid": coverage})
    expected = [inst.prescribed_mme, inst.prescribed_mme + 0.25 * MME_FULL_SCALE, 0.0]
    np.testing.assert_allclose(true, expected)
    many = np.repeat(amount[1:2], 4000, axis=0), np.ones((4000, 30))
    obs = inst.measure({"opioid_dose": many[0], "prescribed_opioid": many[1]},
                      np.random.default_rng(0))
    obs = obs[np.isfinite(obs)]
    assert abs(obs.mean() - expected[1]) < 0.02 * expected[1]  # mean-unbiased recall
    assert 0.1 < np.std(np.log(obs)) < 0.3  # the declared recall error, not a copy


def test_tolerance_escalates_the_amount_of_untreated_use():
    """Daily use from lost tolerance: tolerance rises and the habitual amount follows it;
    with the tolerance -> opioid_dose edge cut it does not."""
    init = {"tolerance": 0.05, "moud": 0.0, "moud.offered": 0.0}
    sc = _scenario(init=init, population="adult_after_detox")

    def amounts(params=None):
        # the transient from the drawn after-detox state: no burn-in (under do(use) it
        # would already have escalated the habitual amount before enrolment)
        ds = simulate(sc, dyads=N, seed=SEED, horizon="60d", record="daily",
                      do={"opioid_use": 1.0}, params=params, nodes=["opioid_dose"],
                      burn_in_days=0)
        x = ds["opioid_dose"].values
        return x[:, 0].mean(), x[:, -1].mean()

    first, last = amounts()
    assert last > first * 1.5, (first, last)
    cut_first, cut_last = amounts({"tolerance->opioid_dose": 0.0})
    assert last - first > 3 * abs(cut_last - cut_first)


def test_a_taper_lowers_the_prescribed_dose_and_the_measured_mme():
    def run(interventions):
        return simulate(_scenario(interventions), dyads=N, seed=SEED, horizon="90d",
                        record="daily", nodes=["prescribed_opioid", "opioid_dose"])

    usual, taper = run(()), run(("opioid_taper",))
    rx = "prescribed_opioid"
    assert taper[rx].values[:, -1].mean() < 0.7 * usual[rx].values[:, -1].mean()
    inst = get_instrument("tlfb_mme")

    def mme(ds):
        window = slice(-30, None)
        return inst.true_score({"opioid_dose": ds["opioid_dose"].values[:, window],
                                "prescribed_opioid": ds["prescribed_opioid"].values[:, window]})

    # Direction, per dyad with common random numbers: misuse may make up part of the cut
    # (the taper's withdrawal drives use), not all of it.
    diff = mme(taper) - mme(usual)
    assert diff.mean() < -3 * diff.std(ddof=1) / np.sqrt(diff.size), diff.mean()


def test_more_lowers_pain_in_the_ltot_population():
    def pain(interventions):
        ds = simulate(_scenario(interventions), dyads=N, seed=SEED, horizon="56d",
                      record="weekly", nodes=["chronic_pain"])
        return ds["chronic_pain"].values[:, -1]

    diff = pain(("more",)) - pain(("supportive_group",))
    assert diff.mean() < -3 * diff.std(ddof=1) / np.sqrt(diff.size), diff.mean()


@pytest.mark.parametrize("weight, more_entries", [(2.0, True), (0.0, False)])
def test_a_non_fatal_overdose_raises_moud_entry(weight, more_entries):
    """Mothers off MOUD (offered) with an overdose every day vs none, deaths switched off:
    more of them start MOUD, unless overdose -> moud is cut."""
    params = {"overdose->maternal_death": 0.0, "overdose->moud": weight}

    def started(do):
        ds = simulate({"population": {"preset": "pregnant_oud_no_moud"}, "start": "gw20"},
                      dyads=N, seed=SEED, horizon="30d", record="none", do=do, params=params)
        return float((ds["moud_days"].values > 0).mean())

    with_overdose, without = started({"overdose": 1.0}), started({"overdose": 0.0})
    if more_entries:
        assert with_overdose > without + 0.05, (with_overdose, without)
    else:
        assert with_overdose == without
