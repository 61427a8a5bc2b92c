"""The Mesa 3 reference model (benchmarks/engine_vs_mesa.py: one agent per dyad, its own
numpy random stream) and the engine give the same distributions of key outputs at 1,000
dyads within Monte Carlo error (independent draws, so equal only in distribution)."""

import importlib.util
from pathlib import Path

import numpy as np
from scipy import stats

_spec = importlib.util.spec_from_file_location(
    "engine_vs_mesa", Path(__file__).parents[2] / "benchmarks" / "engine_vs_mesa.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

DYADS, DAYS = 1000, 10  # a short horizon keeps the agent-by-agent reference fast


def test_mesa_reference_and_engine_agree_in_distribution():
    mesa_out = bench.mesa_outputs(DYADS, DAYS, seed=7)
    engine_out = bench.engine_outputs(DYADS, DAYS, seed=7)
    for k in bench.KEY_OUTPUTS:
        a, b = mesa_out[k], engine_out[k]
        assert a.shape == b.shape == (DYADS,)
        se = np.sqrt(a.var(ddof=1) / DYADS + b.var(ddof=1) / DYADS)
        assert abs(a.mean() - b.mean()) <= 4 * se + 1e-9, (k, a.mean(), b.mean(), se)
        if np.unique(b).size > 20:  # continuous states: the whole distribution
            assert stats.ks_2samp(a, b).pvalue > 1e-3, k
    # the random streams differ (otherwise the test would compare a run with itself)
    assert not np.array_equal(mesa_out["craving"], engine_out["craving"])
