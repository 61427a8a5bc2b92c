"""Per-node results that colour the diagram (:mod:`.diagram`), computed from recorded
trajectories (``simulate``'s ``trajectories.nc``, a trial's ``latent.nc`` or a dataset from
:func:`dyadsim.simulate`).

A dyad's level of a node is its mean over the recorded time points (study day >= 0, so a
trial's run-in is left out). A node's ``level`` is the mean of those over dyads, as a share
of the node's declared range; a ``difference`` between two groups of dyads is the
standardized mean difference (Cohen's d, pooled SD) with the large-sample 95% interval of
Hedges & Olkin (1985): se = sqrt((n1 + n2)/(n1 n2) + d^2 / (2 (n1 + n2))).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..model.graph import NODE_BY_ID
from .diagram import NodeValue

Z95 = 1.959964


def node_variables(ds: xr.Dataset) -> list[str]:
    """The data variables of ``ds`` that are graph nodes recorded over time."""
    return [str(k) for k, v in ds.data_vars.items()
            if str(k) in NODE_BY_ID and v.dims == ("dyad", "time")]


def dyad_means(ds: xr.Dataset, node: str) -> np.ndarray:
    """Each dyad's mean level of ``node`` over recorded study days >= 0 (NaN if none)."""
    values = np.asarray(ds[node].values, dtype=float)
    if "time" in ds.coords:
        values = values[:, np.asarray(ds["time"].values) >= 0]
    if values.size == 0:
        return np.full(values.shape[0], np.nan)
    finite = np.isfinite(values)
    counts = finite.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(counts > 0, np.where(finite, values, 0.0).sum(axis=1) / counts, np.nan)


def node_levels(ds: xr.Dataset) -> dict[str, NodeValue]:
    """Each recorded node's mean level as a share of its range, with a 95% CI."""
    out = {}
    for node in node_variables(ds):
        x = dyad_means(ds, node)
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        n = NODE_BY_ID[node]
        span = (n.hi - n.lo) or 1.0
        m = (float(x.mean()) - n.lo) / span
        se = float(x.std(ddof=1)) / math.sqrt(x.size) / span if x.size > 1 else 0.0
        out[node] = NodeValue(m, m - Z95 * se, m + Z95 * se)
    return out


def standardized_difference(a: np.ndarray, b: np.ndarray) -> NodeValue | None:
    """Cohen's d of ``a`` minus ``b`` (pooled SD) with its 95% interval; None when
    either group is empty or neither varies."""
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return None
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    if not pooled > 1e-12:
        return None
    d = (float(a.mean()) - float(b.mean())) / pooled
    se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    return NodeValue(d, d - Z95 * se, d + Z95 * se)


def node_differences(ds_a: xr.Dataset, ds_b: xr.Dataset) -> dict[str, NodeValue]:
    """Standardized difference, A minus B, of every node recorded in both."""
    out = {}
    for node in node_variables(ds_a):
        if node not in ds_b:
            continue
        v = standardized_difference(dyad_means(ds_a, node), dyad_means(ds_b, node))
        if v is not None:
            out[node] = v
    return out


def split_arms(ds: xr.Dataset, arm_var: str = "arm") -> dict[str, xr.Dataset]:
    """A trial's latent dataset split by arm (in order of first appearance)."""
    arms = [str(a) for a in dict.fromkeys(ds[arm_var].values.tolist())]
    return {a: ds.isel(dyad=np.flatnonzero(ds[arm_var].values == a)) for a in arms}
