"""Parameter uncertainty in runs: a posterior (issue 8 s4) or the prior as parameter draws,
and how a run carries them.

A run under a posterior splits its dyads across ``K`` draws of ``Posterior.draws(K, seed)``
(contiguous blocks of dyad ids, as equal as can be): dyad ``i`` runs under draw
``i * K // N``, each draw's parameters applied to the population the way calibration
replicates a study (:func:`dyadsim.model.params.apply_to_population`: a value the
population sets itself is shifted by the draw's departure from the default). Parameters
the run sets explicitly (a scenario's ``[params]``, ``--set``, an intervention's own
parameters) keep their value; every declared parameter travels per dyad, so runs under
any posterior share one compiled shape. All draws run in one simulation (the draws travel as
per-dyad parameters), so results depend only on the seed, never on chunking or workers.

This package sits below the simulation: it says where parameters come from (the prior and
the posterior file, :mod:`dyadsim.uncertainty.prior`) and never runs the model. The run
itself is :func:`dyadsim.simulation.simulate_over_draws`; the model checks under each draw
are :func:`dyadsim.reports.draws.check_over_draws`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model.params import PARAMS
from .prior import (
    Posterior,
    PosteriorError,
    effective_size,
    load_posterior,
    prior_draws,
)

__all__ = ["ParameterSource", "draw_of_dyad", "load_source", "summarize_draws"]

#: What a prediction does with the parameters a posterior does not cover (issue 19 item 5):
#: a fit by :mod:`dyadsim.calibration.mcmc` holds them at their defaults; the posterior
#: shipped before it draws them from their (wide) PERT priors.
UNCALIBRATED = {"default": "held at their declared defaults (the fit does not inform them)",
                "prior": "drawn from their PERT priors over the declared bounds (wide; a "
                         "refit by MCMC holds them at their defaults instead)"}

PRIOR_METHOD = "prior: PERT over every declared parameter's bounds, mode at its default " \
               "(dyadsim.uncertainty.prior)"


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


def summarize_draws(values: Sequence[float]) -> dict[str, float | None]:
    """Median and 90% interval (5th-95th percentile) of finite values over draws."""
    v = np.asarray([x for x in values if x is not None], float)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"median": None, "q05": None, "q95": None, "n_draws": 0}
    return {"median": float(np.median(v)), "q05": float(np.percentile(v, 5)),
            "q95": float(np.percentile(v, 95)), "n_draws": int(v.size)}
