"""The posterior file's diagnostics and what predictions do with uncalibrated parameters
(issue 19 items 5 and 10)."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsim.model.params import PARAMS
from dyadsim.uncertainty import ParameterSource
from dyadsim.uncertainty.prior import (
    Posterior,
    PosteriorError,
    effective_size,
    ess_problem,
    parse_posterior,
)


def _post(diagnostics=None, others="default", weights=None) -> Posterior:
    samples = np.column_stack([np.linspace(-3, -2, 200), np.linspace(0.5, 1.5, 200)])
    return Posterior(("craving.bias", "craving.tau"), samples,
                     np.ones(200) if weights is None else weights, "abc", "0.1.0", "test",
                     others=others, diagnostics=diagnostics or {})


def test_diagnostics_round_trip_and_set_the_ess():
    """MCMC diagnostics survive the file; the ESS a user is warned about is the smallest
    bulk ESS, not the count of rows."""
    d = {"min_ess_bulk": 57.0, "max_rhat": 1.02, "active_sets": {"t": {"reason": "r"}}}
    back = parse_posterior(_post(d).to_dict())
    assert back.diagnostics == d
    assert effective_size(back) == (57.0, "smallest bulk ESS over the calibrated "
                                           "parameters (arviz)")
    assert "57.0 < 100" in ess_problem(back, "x.json")
    with pytest.raises(PosteriorError, match="diagnostics must be a JSON object"):
        parse_posterior({**_post(d).to_dict(), "diagnostics": [1]})


def test_without_diagnostics_the_ess_is_kish_of_the_weights():
    w = np.zeros(200)
    w[:4] = 1.0  # four rows carry the weight
    post = _post(weights=w)
    assert effective_size(post)[0] == pytest.approx(4.0)
    assert ess_problem(_post(), "x") is None  # 200 equal weights


def test_uncalibrated_parameters_are_held_at_defaults_and_listed():
    """With ``others = "default"`` a draw sets only the calibrated parameters (the rest run
    at their defaults) and the provenance lists the rest; with ``"prior"`` they are drawn
    and the provenance says so."""
    src = ParameterSource("file", _post())
    draws = src.draws(5, seed=1)
    assert all(set(d) == {"craving.bias", "craving.tau"} for d in draws)
    unc = src.provenance()["uncalibrated"]
    assert unc["count"] == len(PARAMS) - 2 and "craving.bias" not in unc["names"]
    assert set(unc["names"]) == set(PARAMS) - {"craving.bias", "craving.tau"}
    assert "defaults" in unc["treatment"]
    wide = ParameterSource("file", _post(others="prior"))
    assert len(wide.draws(3, seed=1)[0]) == len(PARAMS)
    assert wide.provenance()["uncalibrated"]["names"] is None
    assert "PERT priors" in wide.provenance()["uncalibrated"]["treatment"]
