"""States stay bounded and finite for every parameter set inside the declared bounds."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyadsim import simulate
from dyadsim.model.graph import NODES
from dyadsim.model.params import PARAMS


def _draw(seed: int, mode: str) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in PARAMS.items():
        if mode == "lo":
            out[name] = p.lo
        elif mode == "hi":
            out[name] = p.hi
        elif p.lo > 0 and p.hi / p.lo > 20:  # time constants etc.: log-uniform
            out[name] = float(math.exp(rng.uniform(math.log(p.lo), math.log(p.hi))))
        else:
            out[name] = float(rng.uniform(p.lo, p.hi))
    return out


def _check_bounded(ds):
    for n in NODES:
        x = ds[n.id].values
        assert np.all(np.isfinite(x)), n.id
        assert x.min() >= n.lo - 1e-6 and x.max() <= n.hi + 1e-6, (n.id, x.min(), x.max())
    for v in ds.data_vars:
        if ds[v].dtype.kind == "f":
            assert not np.any(np.isinf(ds[v].values)), v


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1),
       population=st.sampled_from(["pregnant_oud_moud", "postpartum_oud", "adult_methadone"]))
def test_random_parameters_keep_states_bounded(seed, population):
    start = {"pregnant_oud_moud": "gw36", "postpartum_oud": "pp0", "adult_methadone": "day0"}
    ds = simulate(dyads=64, seed=seed % 1000, population=population, start=start[population],
                  horizon="60d", record="weekly", params=_draw(seed, "random"))
    _check_bounded(ds)


def test_extreme_parameters_keep_states_bounded():
    for mode in ("lo", "hi"):
        ds = simulate(dyads=64, seed=1, population="pregnant_oud_moud", start="gw36",
                      horizon="60d", record="weekly", params=_draw(0, mode))
        _check_bounded(ds)
