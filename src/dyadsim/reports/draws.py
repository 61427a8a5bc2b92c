"""The model checks under parameter uncertainty: each check run once per posterior (or
prior) draw, all draws of a run in one simulation
(:func:`dyadsim.simulation.simulate_over_draws`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..model.populations import PRESETS
from ..simulation import simulate_over_draws
from .checks import CHECKS, RUNS, evaluate

__all__ = ["check_over_draws"]


def check_over_draws(thetas: Sequence[Mapping[str, float]], dyads_per_draw: int, seed: int,
                     params: Mapping[str, float] | None = None,
                     progress: Callable[[str], None] | None = None) -> list[list[dict]]:
    """The model checks (:mod:`dyadsim.reports.checks`) under each draw: each run simulated
    once with ``dyads_per_draw`` dyads per draw (all draws in one simulation); returns, per
    draw, the rows of :func:`dyadsim.reports.checks.run_checks`."""
    k = len(thetas)
    per_draw: list[dict[str, Any]] = [{} for _ in range(k)]
    for name, run in RUNS.items():
        if run.population not in PRESETS:
            continue
        if progress is not None:
            progress(name)
        kw = {"nodes": list(run.nodes)} if run.nodes else {}
        ds = simulate_over_draws(run.scenario(), thetas, dyads=dyads_per_draw * k, seed=seed,
                                 params=params, **kw)
        draw = ds["posterior_draw"].values
        for i in range(k):
            per_draw[i][name] = ds.isel(dyad=np.flatnonzero(draw == i))
    return [[evaluate(c, datasets) for c in CHECKS] for datasets in per_draw]
