"""NOWS rises with the amount the mother takes (issue 18 item 7): a use day adds to fetal
exposure in proportion to her habitual amount (``neonatal_withdrawal.reference_dose``).
Before, tripling the daily dose moved NOWS from 0.326 to 0.298 (use days alone counted)."""

import numpy as np

from dyadsim import simulate
from dyadsim.model.params import PARAMS

DYADS = 1500
SEED = 3


def _run(shift: float):
    bias = PARAMS["opioid_dose.bias"].default + shift
    ds = simulate(dyads=DYADS, seed=SEED, population="pregnant_oud_no_moud", start="gw20",
                  horizon="6m", record="none", params={"opioid_dose.bias": bias})
    nows = ds["nows"].values.astype(float)
    nows = nows[np.isfinite(nows)]
    return float(np.nanmean(ds["mme_per_use_day"].values)), nows


def test_nows_rises_with_the_amount_taken():
    mme_1x, nows_1x = _run(0.0)
    # +4 logits: about 2.8x the default amount, near the node's ceiling of 400 MME/day
    mme_3x, nows_3x = _run(4.0)
    assert mme_3x > 2.5 * mme_1x, (mme_1x, mme_3x)
    se = np.sqrt(nows_1x.var() / nows_1x.size + nows_3x.var() / nows_3x.size)
    assert nows_3x.mean() - nows_1x.mean() > 3 * se, (nows_1x.mean(), nows_3x.mean(), se)
