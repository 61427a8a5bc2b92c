"""The one entry point: :func:`simulate` -> ``xarray.Dataset``.

One data variable per node (named by node id; dimensions ``dyad``, ``time``), per-dyad
outcomes as extra variables, attrs holding the version, seed, scenario and the full
parameter set. Continuous nodes are recorded as their value at the end of each period;
event nodes (``opioid_use``, ``drug_cue``, ``overdose``, ``cps_report``) as the share of days
in the period with the event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._version import __version__
from .engine._engine import check_chunk_size
from .engine._jax import configure_jax
from .engine._threads import check_threads
from .engine.run import run_rows
from .model import outcomes
from .model.graph import NODE_BY_ID, NODE_IDS
from .model.params import PARAMS, Parameters
from .model.schedule import Schedule
from .scenario import RECORD_PERIODS, Scenario
from .timepoints import ScenarioError
from .uncertainty import draw_of_dyad

__all__ = ["ScenarioError", "simulate", "simulate_over_draws"]

#: simulate()'s keyword options that belong to the scenario (Scenario.read's).
_SCENARIO_OPTIONS = ("population", "start", "horizon", "record", "dyads", "seed", "params",
                     "do", "burn_in_days")


def simulate(
    scenario: Scenario | str | Path | Mapping[str, Any] | None = None,
    *,
    dyads: int | None = None,
    seed: int | None = None,
    population: str | None = None,
    params: Mapping[str, float] | None = None,
    do: Mapping[str, float] | None = None,
    start: str | None = None,
    horizon: int | str | None = None,
    record: str | None = None,
    schedule: Schedule | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int | None = None,
    dyad_ids: np.ndarray | None = None,
    nodes: Sequence[str] | None = None,
    row_params: Mapping[str, np.ndarray] | None = None,
    row_seeds: np.ndarray | None = None,
    burn_in_days: int | None = None,
    threads: int | None = None,
) -> xr.Dataset:
    """Simulate mother-infant dyads (or adults, for a population without a pregnancy)
    from the start to the horizon (after birth, or after the start when there is no
    pregnancy).

    Parameters
    ----------
    scenario : Scenario, path, dict or None
        A scenario file, a dict or a :class:`~dyadsim.scenario.Scenario`
        (:meth:`~dyadsim.scenario.Scenario.read`). The keyword options ``dyads``, ``seed``,
        ``population``, ``params``, ``do``, ``start``, ``horizon``, ``record`` and
        ``burn_in_days`` override its entries (``params`` and ``do`` add to its tables).
    dyads, seed : int, optional
        How many dyads (default 1000) and the seed (default 0).
    population : str, optional
        A population preset (``dyadsim populations``).
    params : mapping, optional
        Values of declared parameters, on top of everything else
        (:func:`dyadsim.model.params.run_parameters`).
    do : mapping, optional
        ``{"node": value}``: clamp a node for the whole run (Pearl's do()).
    start, horizon : str or int, optional
        ``gw20``, ``pp6w`` or ``day0``; the horizon in days or like ``24m``.
    record : {'daily', 'weekly', 'monthly', 'none'}, optional
        Trajectory resolution (default weekly); 'none' keeps only the per-dyad outcomes
        (use it for very large runs).
    schedule : Schedule, optional
        Per-dyad intervention schedule arrays, replacing the scenario's courses.
    progress : callable, optional
        Called with the number of dyads after each chunk.
    chunk_size, threads : int, optional
        Dyads per compiled call (default picked for speed within a memory cap,
        :func:`dyadsim.engine._engine.pick_chunk`) and chunks run at once (default the CPU
        count or ``DYADSIM_THREADS``): they change memory and speed, never results.
    dyad_ids : array of int, optional
        The dyads to run (default ``0..dyads-1``): a dyad's result depends only on (seed,
        id), which is how a trial runs each arm on its own randomised dyads.
    nodes : sequence of str, optional
        The nodes whose trajectories are recorded (default all).
    row_params : mapping of arrays, optional
        Parameters with one value per dyad (e.g. each dyad's posterior draw), replacing
        their run-wide value; ``attrs['parameters']`` then holds the run-wide values only.
    row_seeds : array of int, optional
        One seed per dyad: a dyad gets exactly what a run with that seed gives it, so
        replications with different seeds batch into one call.
    burn_in_days : int, optional
        Days simulated under the population's own conditions before enrolment, so the run
        starts near its stationary distribution (0: from the drawn initial state).

    Returns
    -------
    xarray.Dataset
        One variable per node (``dyad`` x ``time``) and per outcome of the registry
        (:data:`dyadsim.model.outcomes.OUTCOMES`, ``dyad``); attrs hold the version, seed,
        population, start, horizon, record, ``do`` and the parameter values.

    Raises
    ------
    ScenarioError, ParameterError, PopulationError
        With a one-line message, on bad input, before anything runs.
    """
    configure_jax()  # before the first JAX computation (an entry point; never on import)
    sc = Scenario.read(scenario, population=population, start=start, horizon=horizon,
                       record=record, dyads=dyads, seed=seed, params=params, do=do,
                       burn_in_days=burn_in_days)
    pop, n, sd, rec, total = sc.population, sc.dyads, sc.seed, sc.record, sc.total_days
    pars = Parameters(sc.parameters())
    keep = tuple(NODE_IDS) if nodes is None else tuple(nodes)
    bad = [k for k in keep if k not in NODE_BY_ID]
    if bad:
        raise ScenarioError(f"unknown node(s) to record: {', '.join(bad)}")
    period = RECORD_PERIODS.get(rec, total)
    n_periods = math.ceil(total / period)

    if dyad_ids is not None:
        dyad_ids = np.asarray(dyad_ids)
        if dyad_ids.ndim != 1 or dyad_ids.size != n or dyad_ids.dtype.kind not in "iu":
            raise ScenarioError("dyad_ids must be a 1-d integer array with one id per dyad")
        if dyad_ids.size and (dyad_ids.min() < 0 or dyad_ids.max() >= 2**31):
            raise ScenarioError("dyad_ids must lie in [0, 2^31)")
    ids_all = (np.arange(n, dtype=np.uint32) if dyad_ids is None
               else dyad_ids.astype(np.uint32))
    sched = schedule or sc.schedule(n)
    if any(len(v) != n for v in sched.arrays.values()):
        raise ScenarioError("schedule arrays must have one entry per dyad")
    values = pars.to_dict()
    rows = {k: np.asarray(v, np.float32) for k, v in (row_params or {}).items()}
    bad_rows = [k for k, v in rows.items() if k not in values or v.shape != (n,)]
    if bad_rows:
        raise ScenarioError(f"row_params[{bad_rows[0]!r}] must be a declared parameter with "
                            "one value per dyad")
    if row_seeds is not None and (np.shape(row_seeds) != (n,) or np.min(row_seeds) < 0
                                  or np.max(row_seeds) >= 2**31):
        raise ScenarioError("row_seeds must hold one seed in [0, 2^31) per dyad")
    try:  # a bad chunk_size or threads, named before any work starts
        check_threads(threads)
        check_chunk_size(chunk_size, n, 1)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    run = run_rows(population=pop, start_gest_day=sc.start_gest_day,
                   start_pp_day=sc.start_pp_day, total_days=total, ids=ids_all,
                   seeds=sd if row_seeds is None else np.asarray(row_seeds),
                   scalars=values, per_row=rows, schedule=sched.arrays, do=sc.do,
                   record=keep if rec != "none" else (), n_periods=n_periods, period=period,
                   chunk_size=chunk_size, threads=threads, progress=progress)

    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {"dyad": ids_all.astype(np.int64)}
    if run.trajectories:
        coords["time"] = np.minimum((np.arange(n_periods) + 1) * period, total) - 1
        for k, arr in run.trajectories.items():
            if k == "postpartum_day":
                data_vars[k] = (("dyad", "time"), arr.astype(np.int32))
            else:
                node = NODE_BY_ID[k]
                data_vars[k] = (("dyad", "time"), arr.astype(np.float32),
                                {"long_name": node.label, "units": node.unit,
                                 "meaning": node.meaning})
    for k, v in outcomes.per_dyad(run.outcomes, pop.pregnancy).items():
        o = outcomes.OUTCOMES[k]
        data_vars[k] = ("dyad", v, {"long_name": o.meaning, "units": o.unit})
    ds = xr.Dataset(data_vars, coords=coords)
    if "time" in ds.coords:
        ds["time"].attrs = {"long_name": "study day (end of recording period)", "units": "days"}
    ds.attrs = {
        "title": "dyadsim simulation",
        "dyadsim_version": __version__,
        "seed": sd,
        "dyads": n,
        "population": json.dumps(pop.to_dict()),
        "start": sc.start,
        "horizon_days": sc.horizon_days,
        "record": rec,
        "do": json.dumps(dict(sc.do)),
        "parameters": json.dumps(pars.to_dict()),
        "changed_parameters": json.dumps(pars.changed()),
    }
    return ds


def simulate_over_draws(scenario: Scenario | str | Path | Mapping[str, Any] | None,
                        thetas: Sequence[Mapping[str, float]], **kwargs: Any):
    """:func:`simulate` with the dyads split across ``thetas`` (see
    :mod:`dyadsim.uncertainty`: dyad ``i`` runs under draw ``i * K // N``, each draw applied to
    the population as calibration replicates a study,
    :meth:`dyadsim.scenario.Scenario.parameters`); the Dataset gains a per-dyad
    ``posterior_draw`` (the draw's index). ``kwargs`` as :func:`simulate` takes them."""
    read = {k: kwargs.pop(k) for k in _SCENARIO_OPTIONS if k in kwargs}
    sc = Scenario.read(scenario, **read)
    draw = draw_of_dyad(sc.dyads, len(thetas))
    full = [sc.parameters(theta=t) for t in thetas]
    table = np.array([[f.get(k, p.default) for k, p in PARAMS.items()] for f in full],
                     np.float32)
    rows = {k: table[draw, j] for j, k in enumerate(PARAMS)}
    ds = simulate(sc, row_params=rows, **kwargs)
    ds["posterior_draw"] = ("dyad", draw)
    ds["posterior_draw"].attrs = {"long_name": "index of the parameter draw this dyad ran "
                                               "under"}
    return ds
