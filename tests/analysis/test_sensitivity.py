"""Global sensitivity: SALib pipeline known answer (Ishigami) and resumable evaluation."""

import numpy as np
import pytest
from SALib.test_functions import Ishigami

from dyadsim.analysis import sensitivity as sa

# Analytic indices of the Ishigami function (a=7, b=0.1; Ishigami & Homma 1990).
S1 = np.array([0.3139, 0.4424, 0.0])
ST = np.array([0.5576, 0.4424, 0.2437])
TOL = 0.06  # stated tolerance at N = 2048 base samples


def _ishigami_problem():
    return {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def test_sobol_pipeline_recovers_ishigami_indices():
    prob = _ishigami_problem()
    x = sa.sample(prob, "sobol", 2048, seed=1)
    y = sa.evaluate(x, lambda b: Ishigami.evaluate(b)[:, None], checkpoint=None, block=997)
    t = sa.analyze(prob, "sobol", x, y, ["y"], seed=1)
    assert np.allclose(t["S1"], S1, atol=TOL)
    assert np.allclose(t["ST"], ST, atol=TOL)
    assert (t["ST_low"] <= t["ST"]).all() and (t["ST"] <= t["ST_high"]).all()


def test_morris_ranks_ishigami_x3_as_interacting_only():
    prob = _ishigami_problem()
    x = sa.sample(prob, "morris", 200, seed=2)
    y = sa.evaluate(x, lambda b: Ishigami.evaluate(b)[:, None], checkpoint=None)
    t = sa.analyze(prob, "morris", x, y, ["y"], seed=2)
    # x3 acts only through its interaction with x1: small mean effect, large spread
    assert abs(t["mu"][2]) < 0.2 * t["mu_star"][0]
    assert t["sigma"][2] > 1.0


@pytest.mark.parametrize("method", ["sobol", "morris"])
@pytest.mark.parametrize("seed", [0, 5])
def test_bootstrap_intervals_are_the_same_for_one_seed(method, seed):
    """Issue 23: SALib's Sobol analysis treats seed 0 as no seed; two analyses with one seed
    (seed 0 included) give the same intervals, another seed other intervals."""
    prob = _ishigami_problem()
    x = sa.sample(prob, method, 64, seed=seed)
    y = Ishigami.evaluate(x)[:, None]
    one, two = (sa.analyze(prob, method, x, y, ["y"], seed=seed) for _ in range(2))
    assert one.equals(two)
    other = sa.analyze(prob, method, x, y, ["y"], seed=seed + 1)
    low = "S1_low" if method == "sobol" else "mu_star_low"
    assert not np.allclose(one[low], other[low])


def test_checkpointed_evaluation_resumes_to_the_same_outputs(tmp_path):
    prob = _ishigami_problem()
    x = sa.sample(prob, "sobol", 64, seed=3)
    calls = []

    def f(b):
        calls.append(len(b))
        return Ishigami.evaluate(b)[:, None]

    full = sa.evaluate(x, f, checkpoint=tmp_path / "ck", block=50, fingerprint="a")
    n_blocks = len(calls)
    (tmp_path / "ck" / "block_000002.npy").unlink()
    again = sa.evaluate(x, f, checkpoint=tmp_path / "ck", block=50, fingerprint="a")
    assert len(calls) == n_blocks + 1  # only the missing block was computed
    assert np.array_equal(full, again)
    with pytest.raises(ValueError, match="another run"):
        sa.evaluate(x, f, checkpoint=tmp_path / "ck", block=50, fingerprint="b")


def test_bad_parameters_and_sample_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="unknown parameter"):
        sa.problem(["no.such_parameter", "craving.tau"])
    with pytest.raises(ValueError, match="power of two"):
        sa.sample(sa.problem(["craving.tau", "craving->opioid_use"]), "sobol", 100, seed=1)
