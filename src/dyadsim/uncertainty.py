"""Parameter uncertainty in runs: a posterior (issue 8 s4) or the prior as parameter draws,
and how a run carries them.

A run under a posterior splits its dyads across ``K`` draws of ``Posterior.draws(K, seed)``
(contiguous blocks of dyad ids, as equal as can be): dyad ``i`` runs under draw
``i * K // N``, each draw's parameters applied to the population the way calibration
replicates a study (:func:`dyadsim.calibration.prior.apply_to_population`: a value the
population sets itself is shifted by the draw's departure from the default). Parameters
the run sets explicitly (a scenario's ``[params]``, ``--set``, an intervention's own
parameters) keep their value; every declared parameter travels per dyad, so runs under
any posterior share one compiled shape. All draws run in one simulation (the draws travel as
per-dyad parameters), so results depend only on the seed, never on chunking or workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .calibration.prior import (
    Posterior,
    PosteriorError,
    apply_to_population,
    effective_size,
    load_posterior,
    prior_draws,
)
from .model.params import PARAMS

__all__ = ["ParameterSource", "check_over_draws", "draw_of_dyad", "load_source",
           "simulate_over_draws"]

#: What a prediction does with the parameters a posterior does not cover (issue 19 item 5):
#: a fit by :mod:`dyadsim.calibration.mcmc` holds them at their defaults; the posterior
#: shipped before it draws them from their (wide) PERT priors.
UNCALIBRATED = {"default": "held at their declared defaults (the fit does not inform them)",
                "prior": "drawn from their PERT priors over the declared bounds (wide; a "
                         "refit by MCMC holds them at their defaults instead)"}

PRIOR_METHOD = "prior: PERT over every declared parameter's bounds, mode at its default " \
               "(dyadsim.calibration.prior)"


@dataclass(frozen=True)
class ParameterSource:
    """Where parameter draws come from: a posterior file (``shipped`` or a path) or the
    prior (``posterior is None``)."""

    source: str
    posterior: Posterior | None

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets (every declared parameter unless the posterior holds the
        rest at their defaults), reproducible from ``seed``."""
        if self.posterior is None:
            return prior_draws(n, seed)
        return self.posterior.draws(n, seed)

    def provenance(self) -> dict[str, Any]:
        """What a manifest records: source, path, targets_hash, method, dyadsim version."""
        if self.posterior is None:
            return {"source": "prior", "path": None, "targets_hash": None,
                    "method": PRIOR_METHOD, "dyadsim_version": None}
        p = self.posterior
        rest = [k for k in PARAMS if k not in set(p.parameters)]
        ess, how = effective_size(p)
        return {"source": self.source, "path": None if p.path is None else str(p.path),
                "targets_hash": p.targets_hash, "method": p.method,
                "dyadsim_version": p.dyadsim_version, "created_utc": p.created_utc,
                "calibrated_parameters": len(p.parameters), "others": p.others,
                "uncalibrated": {"count": len(rest), "treatment": UNCALIBRATED[p.others],
                                 "names": rest if p.others == "default" else None},
                "effective_sample_size": round(ess, 1), "effective_sample_size_from": how}


def load_source(source: str | Path) -> ParameterSource:
    """``"shipped"``, a posterior JSON path, or ``"prior"``; raises :class:`PosteriorError`
    (one line) for a missing or malformed file."""
    text = str(source)
    if not text.strip():
        raise PosteriorError("--posterior needs 'shipped', 'prior' or a posterior file")
    if text == "prior":
        return ParameterSource("prior", None)
    return ParameterSource(text, load_posterior(text))


def draw_of_dyad(dyads: int, draws: int) -> np.ndarray:
    """The draw index of each dyad: contiguous, balanced blocks (``i * K // N``)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= dyads:
        raise ValueError(f"posterior draws must be an integer in [1, {dyads}] (at most one "
                         f"draw per dyad), got {draws!r}")
    return (np.arange(dyads, dtype=np.int64) * draws) // dyads


def _explicit_and_base(sc: Mapping[str, Any], population: str | None,
                       params: Mapping[str, float] | None
                       ) -> tuple[dict[str, float], dict[str, float]]:
    """The population's own parameter values (preset plus scenario overrides) and the values
    the run sets explicitly (interventions, scenario ``[params]``, ``params``)."""
    from .interventions import get_intervention
    from .interventions.library import combined_params
    from .model.populations import get_population
    from .simulation import ScenarioError

    entry = sc.get("population", "pregnant_oud_moud")
    own: Mapping[str, Any] = {}
    name = entry
    if isinstance(entry, Mapping):
        name = entry.get("preset", "pregnant_oud_moud")
        own = entry.get("params", {}) if isinstance(entry.get("params", {}), Mapping) else {}
    name = population or name
    if not isinstance(name, str):
        raise ScenarioError("population must be a preset name")
    base = {**get_population(name).params, **own}
    ivs = sc.get("interventions", [])
    names = [e["name"] for e in ivs if isinstance(e, Mapping) and isinstance(e.get("name"), str)] \
        if isinstance(ivs, Sequence) and not isinstance(ivs, str) else []
    own_params = sc.get("params", {})
    explicit = {**combined_params([get_intervention(k) for k in names]),
                **(own_params if isinstance(own_params, Mapping) else {}), **(params or {})}
    return base, explicit


def simulate_over_draws(scenario: str | Path | Mapping[str, Any] | None,
                        thetas: Sequence[Mapping[str, float]], *, dyads: int | None = None,
                        population: str | None = None,
                        params: Mapping[str, float] | None = None, **kwargs: Any):
    """:func:`dyadsim.simulate` with the dyads split across ``thetas`` (see the module
    docstring); the Dataset gains a per-dyad ``posterior_draw`` (the draw's index)."""
    from .simulation import load_scenario, simulate

    sc = dict(load_scenario(scenario) if isinstance(scenario, str | Path) else (scenario or {}))
    n = dyads if dyads is not None else sc.get("dyads", 1000)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        from .simulation import ScenarioError

        raise ScenarioError(f"dyads must be a positive integer, got {n!r}")
    draw = draw_of_dyad(n, len(thetas))
    base, explicit = _explicit_and_base(sc, population, params)
    full = [{**apply_to_population(t, base), **explicit} for t in thetas]
    table = np.array([[f.get(k, p.default) for k, p in PARAMS.items()] for f in full],
                     np.float32)
    rows = {k: table[draw, j] for j, k in enumerate(PARAMS)}
    ds = simulate(sc, dyads=n, population=population, params=params, row_params=rows,
                  **kwargs)
    ds["posterior_draw"] = ("dyad", draw)
    ds["posterior_draw"].attrs = {"long_name": "index of the parameter draw this dyad ran "
                                               "under"}
    return ds


def check_over_draws(thetas: Sequence[Mapping[str, float]], dyads_per_draw: int, seed: int,
                     params: Mapping[str, float] | None = None,
                     progress: Callable[[str], None] | None = None) -> list[list[dict]]:
    """The model checks (:mod:`dyadsim.reports.checks`) under each draw: each run simulated
    once with ``dyads_per_draw`` dyads per draw (all draws in one simulation); returns, per
    draw, the rows of :func:`dyadsim.reports.checks.run_checks`."""
    from .model.populations import PRESETS
    from .reports.checks import CHECKS, RUNS, evaluate

    k = len(thetas)
    per_draw: list[dict[str, Any]] = [{} for _ in range(k)]
    for name, run in RUNS.items():
        if run.population not in PRESETS:
            continue
        if progress is not None:
            progress(name)
        ds = simulate_over_draws(run.scenario(), thetas, dyads=dyads_per_draw * k, seed=seed,
                                 params=params)
        draw = ds["posterior_draw"].values
        for i in range(k):
            per_draw[i][name] = ds.isel(dyad=np.flatnonzero(draw == i))
    return [[evaluate(c, datasets) for c in CHECKS] for datasets in per_draw]


def summarize_draws(values: Sequence[float]) -> dict[str, float | None]:
    """Median and 90% interval (5th-95th percentile) of finite values over draws."""
    v = np.asarray([x for x in values if x is not None], float)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"median": None, "q05": None, "q95": None, "n_draws": 0}
    return {"median": float(np.median(v)), "q05": float(np.percentile(v, 5)),
            "q95": float(np.percentile(v, 95)), "n_draws": int(v.size)}
