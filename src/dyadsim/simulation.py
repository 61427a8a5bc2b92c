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
import tomllib
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
from .interventions.library import InterventionError
from .interventions.schedule import course_schedule
from .model import outcomes
from .model.graph import NODE_BY_ID, NODE_IDS
from .model.params import PARAMS, Parameters
from .model.populations import get_population
from .model.schedule import Schedule
from .timepoints import (
    ScenarioError,
    parse_horizon,
    parse_start,
    total_days,
)
from .uncertainty import draw_of_dyad
from .uncertainty.prior import apply_to_population

RECORD_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30}
SCENARIO_KEYS = {"population", "params", "do", "start", "horizon", "record", "dyads", "seed",
                 "name", "description", "interventions"}


def load_scenario(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"scenario file not found: {p}")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML in {p}: {exc}") from None


def _validate_do(do: Mapping[str, Any] | None) -> dict[str, float]:
    out = {}
    for node, value in (do or {}).items():
        if node not in NODE_BY_ID:
            raise ScenarioError(f"unknown node {node!r} in do (see `dyadsim graph`)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"do[{node!r}] must be a number, got {value!r}")
        n = NODE_BY_ID[node]
        if not n.lo <= value <= n.hi:
            raise ScenarioError(f"do[{node!r}] = {value} is outside the node's range "
                                f"[{n.lo:g}, {n.hi:g}]")
        out[node] = float(value)
    return out


def simulate(
    scenario: str | Path | Mapping[str, Any] | None = None,
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
    """Simulate ``dyads`` mother-infant dyads (or adults, for a population without a
    pregnancy) from ``start`` to ``horizon`` (after birth, or after the start when there is
    no pregnancy). Keyword options override the scenario's entries.

    ``record``: 'daily', 'weekly' (default), 'monthly' or 'none' (outcomes only; use it
    for very large runs). ``do={"node": value}`` clamps a node for the whole run;
    ``params`` overrides declared parameters. Raises ``ScenarioError``,
    ``ParameterError`` or ``PopulationError`` with a one-line message on bad input.
    ``chunk_size`` (dyads per compiled batch; default picked for speed within a memory cap,
    :func:`dyadsim.engine._engine.pick_chunk`) changes memory and speed, never results;
    ``threads`` (chunks run at once; default the CPU count or ``DYADSIM_THREADS``) likewise.
    ``dyad_ids`` (default ``0..dyads-1``) names the dyads to run: a dyad's result depends
    only on (seed, id), which is how a trial runs each arm on its own randomised dyads.
    ``nodes`` limits the recorded trajectories to these nodes (default: all).
    ``row_params`` gives parameters one value per dyad (arrays of length ``dyads``, e.g.
    each dyad's posterior draw), replacing their run-wide value; ``attrs['parameters']``
    then holds the run-wide values only.
    ``row_seeds`` gives each dyad its own seed (one per dyad): a dyad then gets exactly the
    result it would get in a run with that seed, so replications with different seeds
    batch into one call.
    ``burn_in_days`` overrides the population's burn-in before enrolment (days simulated
    under the population's own conditions so the run starts near its stationary
    distribution; 0: start from the drawn initial state).
    """
    configure_jax()  # before the first JAX computation (an entry point; never on import)
    sc = dict(load_scenario(scenario) if isinstance(scenario, str | Path) else (scenario or {}))
    unknown = set(sc) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError(f"unknown scenario key(s): {', '.join(sorted(unknown))}")
    pop_entry = sc.get("population", "pregnant_oud_moud")
    pop_init, pop_params = {}, {}
    if isinstance(pop_entry, Mapping):
        extra = set(pop_entry) - {"preset", "init", "params", "burn_in_days"}
        if extra:
            raise ScenarioError(f"unknown key(s) in [population]: {', '.join(sorted(extra))}")
        pop_name = pop_entry.get("preset", "pregnant_oud_moud")
        pop_init, pop_params = pop_entry.get("init", {}), pop_entry.get("params", {})
        if not isinstance(pop_init, Mapping) or not isinstance(pop_params, Mapping):
            raise ScenarioError("[population] init and params must be tables")
    else:
        pop_name = pop_entry
    pop_name = population or pop_name
    if not isinstance(pop_name, str):
        raise ScenarioError("population must be a preset name")
    burn = burn_in_days if burn_in_days is not None else (
        pop_entry.get("burn_in_days") if isinstance(pop_entry, Mapping) else None)
    if burn is not None and (isinstance(burn, bool) or not isinstance(burn, int) or burn < 0):
        raise ScenarioError(f"burn_in_days must be a whole number of days >= 0, got {burn!r}")
    pop = get_population(pop_name).with_overrides(pop_init, pop_params, burn)

    for key, val in (("params", sc.get("params", {})), ("do", sc.get("do", {}))):
        if not isinstance(val, Mapping):
            raise ScenarioError(f"scenario {key} must be a table")
    start_text = start or sc.get("start") or pop.default_start
    courses = _scenario_interventions(sc.get("interventions", []), pop.pregnancy, start_text)
    course_params = _course_params(courses)
    pars = Parameters({**pop.params, **course_params, **sc.get("params", {}), **(params or {})})
    do_ = _validate_do({**sc.get("do", {}), **(do or {})})

    n = dyads if dyads is not None else sc.get("dyads", 1000)
    sd = seed if seed is not None else sc.get("seed", 0)
    for name, v, lo, hi in (("dyads", n, 1, 10**8), ("seed", sd, 0, 2**31 - 1)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ScenarioError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    keep = tuple(NODE_IDS) if nodes is None else tuple(nodes)
    bad = [k for k in keep if k not in NODE_BY_ID]
    if bad:
        raise ScenarioError(f"unknown node(s) to record: {', '.join(bad)}")
    rec = record or sc.get("record", "weekly")
    if rec not in (*RECORD_PERIODS, "none"):
        raise ScenarioError(f"record must be one of daily, weekly, monthly, none; got {rec!r}")
    start_gd, start_pp = parse_start(start or sc.get("start"), pop.pregnancy, pop.default_start)
    horizon_days = parse_horizon(horizon if horizon is not None else sc.get("horizon"))
    total = total_days(pop, start_gd, start_pp, horizon_days)
    for i, (iv, (day, from_birth)) in enumerate(courses):
        last = horizon_days if from_birth and pop.pregnancy else total - 1
        clock = "postpartum" if from_birth else "study"
        if day > last:
            raise ScenarioError(f"interventions[{i}] ({iv.name}) starts on {clock} day {day}, "
                                f"after the horizon ({clock} day {last}): no dyad would "
                                "receive it")
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
    try:
        sched = schedule or course_schedule(courses, n)
    except InterventionError as exc:
        raise ScenarioError(str(exc)) from None
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
    run = run_rows(population=pop, start_gest_day=start_gd, start_pp_day=start_pp,
                   total_days=total, ids=ids_all,
                   seeds=sd if row_seeds is None else np.asarray(row_seeds),
                   scalars=values, per_row=rows, schedule=sched.arrays, do=do_,
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
        "start": (start or sc.get("start") or pop.default_start),
        "horizon_days": horizon_days,
        "record": rec,
        "do": json.dumps(do_),
        "parameters": json.dumps(pars.to_dict()),
        "changed_parameters": json.dumps(pars.changed()),
    }
    return ds


def _explicit_and_base(sc: Mapping[str, Any], population: str | None,
                       params: Mapping[str, float] | None
                       ) -> tuple[dict[str, float], dict[str, float]]:
    """The population's own parameter values (preset plus scenario overrides) and the values
    the run sets explicitly (interventions, scenario ``[params]``, ``params``)."""
    from .interventions import get_intervention
    from .interventions.library import combined_params

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
    """:func:`simulate` with the dyads split across ``thetas`` (see
    :mod:`dyadsim.uncertainty`: dyad ``i`` runs under draw ``i * K // N``, each draw applied to
    the population as calibration replicates a study); the Dataset gains a per-dyad
    ``posterior_draw`` (the draw's index)."""

    sc = dict(load_scenario(scenario) if isinstance(scenario, str | Path) else (scenario or {}))
    n = dyads if dyads is not None else sc.get("dyads", 1000)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
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


def _scenario_interventions(entries: Any, pregnancy: bool, study_start: str) -> list[tuple]:
    """A scenario's ``[[interventions]]`` (``name`` from the library, ``start`` such as
    ``gw24`` or ``pp6w``; default the run's start), given to every dyad, as
    (intervention, (day, from_birth)) pairs."""
    from .interventions import get_intervention
    from .interventions.schedule import parse_course_start

    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise ScenarioError("scenario interventions must be a list of tables "
                            "([[interventions]] name = ..., start = ...)")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or set(entry) - {"name", "start"} \
                or not isinstance(entry.get("name"), str):
            raise ScenarioError(f"interventions[{i}] must be a table with a name and an "
                                "optional start, e.g. {name = 'more', start = 'gw24'}")
        iv = get_intervention(entry["name"])
        course = parse_course_start(str(entry.get("start", study_start)), pregnancy=pregnancy,
                                    study_start=study_start)
        out.append((iv, course))
    return out


def _course_params(courses: list[tuple]) -> dict[str, float]:
    from .interventions.library import combined_params

    return combined_params([iv for iv, _ in courses])
