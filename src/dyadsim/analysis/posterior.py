"""The analyses under parameter uncertainty: a posterior (``--posterior shipped|PATH``) or the
prior (``--posterior prior``), as :mod:`dyadsim.uncertainty` carries it into runs.

* Mechanisms and knock-outs average over ``K`` parameter draws
  (:meth:`dyadsim.uncertainty.ParameterSource.draws`): the dyads are split into ``K``
  contiguous blocks (dyad ``i`` runs under draw ``i * K // N``, as ``simulate --posterior``
  assigns them), every world of a block runs under that block's draw on the same dyads and
  random draws (common random numbers within a draw), and a draw's parameters reach the
  population as calibration replicates a study
  (:func:`dyadsim.model.params.apply_to_population`: a value the population sets itself
  moves by the draw's departure from the default), the arm's or the run's own parameters
  kept. The estimand is the effect averaged over the posterior (the mean over draws of the
  draw's effect in the population); its interval is a cluster-robust interval over draws
  (:func:`draw_interval`), so it holds the Monte Carlo error and the spread between draws.
* Sensitivity samples the chosen parameters from the posterior's weighted marginals
  (:func:`marginal_ppf`, the inverse CDF of each), **as if independent**: the posterior's
  correlations are not kept; the other parameters sit at :func:`point_values`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
from scipy import stats

from ..engine.batch import Setting
from ..model.params import PARAMS
from ..uncertainty import ParameterSource, draw_of_dyad
from ..uncertainty.prior import _pert_ppf

ESTIMAND = ("effect averaged over {k} parameter draws from {source} (dyads split into {k} "
            "blocks, block k under draw k; worlds compared on the same dyads and random draws "
            "within a draw); 95% interval cluster-robust over draws (t, K-1 df): Monte Carlo "
            "error and parameter uncertainty; draws_q05/draws_q95: 5th-95th percentile of the "
            "per-draw effects (each a mean over N/K dyads, so Monte Carlo noise widens it)")


def under_draw(setting: Setting, theta: Mapping[str, float]) -> Setting:
    """``setting`` under parameter draw ``theta``: the population's own values moved by the
    draw's departure from the defaults, the setting's own parameters (an arm's) kept
    (:meth:`dyadsim.engine.batch.Setting.parameters`)."""
    return replace(setting, theta=dict(theta))


def draw_blocks(dyads: int, draws: int) -> list[np.ndarray]:
    """The dyad ids of each draw's block (``i * K // N``; ValueError unless 1 <= K <= N)."""
    draw = draw_of_dyad(dyads, draws)
    return [np.flatnonzero(draw == k) for k in range(draws)]


def draw_interval(diff: np.ndarray, groups: np.ndarray,
                  level: float = 0.95) -> tuple[float, float, float, list[float]]:
    """(mean, low, high, per-draw means) of per-dyad differences ``diff`` from independent
    draws ``groups``: the pooled mean with a CR1 cluster-robust standard error over draws
    (Cameron & Miller 2015, J Hum Resour 50:317) and a t interval on K - 1 degrees of freedom;
    NaN bounds with fewer than two draws."""
    ks = np.unique(groups)
    n = np.array([np.sum(groups == k) for k in ks], float)
    g = np.array([np.mean(diff[groups == k]) for k in ks])
    mean = float(np.sum(n * g) / n.sum())
    if ks.size < 2:
        return mean, float("nan"), float("nan"), g.tolist()
    se = float(np.sqrt(ks.size / (ks.size - 1) * np.sum((n * (g - mean)) ** 2)) / n.sum())
    t = float(stats.t.ppf((1 + level) / 2, ks.size - 1))
    return mean, mean - t * se, mean + t * se, g.tolist()


def point_values(source: ParameterSource) -> dict[str, float]:
    """A point in parameter space for the parameters an analysis does not vary: the weighted
    median of each calibrated parameter's posterior marginal; every other parameter at its
    declared default (the prior's mode)."""
    p = source.posterior
    if p is None:
        return {}
    return {k: float(marginal_ppf(source, k, np.array([0.5]))[0]) for k in p.parameters}


def marginal_ppf(source: ParameterSource, name: str, u: np.ndarray) -> np.ndarray:
    """The inverse CDF of parameter ``name``'s marginal at ``u`` in [0, 1]: the posterior's
    weighted empirical marginal (a step function over its samples) for a calibrated
    parameter, else its prior (PERT between the declared bounds), unless the posterior holds
    the uncalibrated parameters at their defaults (ValueError: nothing to vary)."""
    if name not in PARAMS:
        raise ValueError(f"unknown parameter {name!r} (see `dyadsim params`)")
    u = np.clip(np.asarray(u, float), 0.0, 1.0)
    p = source.posterior
    if p is not None and name in p.parameters:
        kept = p.weights > 0
        col, w = p.samples[kept, p.parameters.index(name)], p.weights[kept]
        order = np.argsort(col, kind="stable")
        cdf = np.cumsum(w[order]) / w.sum()
        idx = np.minimum(np.searchsorted(cdf, u, side="left"), col.size - 1)
        return col[order][idx]
    if p is not None and p.others == "default":
        raise ValueError(f"the posterior holds {name} at its default (it calibrated "
                         f"{len(p.parameters)} parameters): nothing to vary")
    return _pert_ppf(PARAMS[name], np.clip(u, 1e-12, 1 - 1e-12))


def marginal_sample(source: ParameterSource, names: Sequence[str], u: np.ndarray) -> np.ndarray:
    """Rows of unit-cube points ``u`` (sets x names) mapped through each marginal's inverse
    CDF: a sample from the product of the marginals."""
    return np.column_stack([marginal_ppf(source, n, u[:, j]) for j, n in enumerate(names)])
