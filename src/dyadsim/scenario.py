"""A scenario: who is simulated, from when, for how long, under which interventions and
parameter changes. :meth:`Scenario.read` is the one reader of scenario files and dicts
(``dyadsim simulate FILE``, :func:`dyadsim.simulate`, :func:`dyadsim.simulate_over_draws`);
keyword options override the file's entries.

A frozen dataclass built by one reader that names each problem in one line
(:class:`~dyadsim.timepoints.ScenarioError`), not a pydantic model: the scenario has a
dozen flat entries whose messages users and tests rely on, and pydantic's error texts would
need the translation layer the trial spec carries (:mod:`dyadsim.trials.spec`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .interventions import get_intervention
from .interventions.library import InterventionError, combined_params
from .interventions.schedule import Course, course_schedule, parse_course_start
from .model.graph import NODE_BY_ID
from .model.params import run_parameters
from .model.populations import Population, get_population
from .model.schedule import Schedule
from .timepoints import ScenarioError, parse_horizon, parse_start, total_days

__all__ = ["RECORD_PERIODS", "SCENARIO_KEYS", "Scenario", "load_scenario"]

RECORD_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30}
SCENARIO_KEYS = {"population", "params", "do", "start", "horizon", "record", "dyads", "seed",
                 "name", "description", "interventions"}
DEFAULT_POPULATION = "pregnant_oud_moud"


def load_scenario(path: str | Path) -> dict:
    """A scenario TOML file as a dict (ScenarioError if missing or malformed)."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"scenario file not found: {p}")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML in {p}: {exc}") from None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. ``population`` carries the scenario's own ``[population]``
    init, params and burn-in; ``courses`` the interventions with their starts;
    ``scenario_params`` the ``[params]`` table and ``overrides`` the explicit ``params=``
    (``--set``), kept apart because they sit at different places in the precedence order
    (:meth:`parameters`)."""

    population: Population
    start: str
    start_gest_day: int
    start_pp_day: int
    horizon_days: int
    total_days: int
    record: str
    dyads: int
    seed: int
    courses: tuple[Course, ...] = ()
    scenario_params: Mapping[str, float] = field(default_factory=dict)
    overrides: Mapping[str, float] = field(default_factory=dict)
    do: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def read(cls, source: Scenario | str | Path | Mapping[str, Any] | None = None, *,
             population: str | None = None, start: str | None = None,
             horizon: int | str | None = None, record: str | None = None,
             dyads: int | None = None, seed: int | None = None,
             params: Mapping[str, float] | None = None,
             do: Mapping[str, float] | None = None,
             burn_in_days: int | None = None) -> Scenario:
        """Read a scenario file or dict; a keyword given replaces the scenario's entry
        (``params`` and ``do`` add to its tables). A Scenario already read is returned as
        it is (no keyword may be given then). Raises ``ScenarioError``, ``ParameterError``
        or ``PopulationError`` with a one-line message."""
        options = (population, start, horizon, record, dyads, seed, params, do, burn_in_days)
        if isinstance(source, Scenario):
            if any(o is not None for o in options):
                raise ScenarioError("options go to Scenario.read with the scenario's source, "
                                    "not with a Scenario already read")
            return source
        sc = dict(load_scenario(source) if isinstance(source, str | Path) else (source or {}))
        unknown = set(sc) - SCENARIO_KEYS
        if unknown:
            raise ScenarioError(f"unknown scenario key(s): {', '.join(sorted(unknown))}")
        pop = _population(sc.get("population", DEFAULT_POPULATION), population, burn_in_days)
        for key in ("params", "do"):
            if not isinstance(sc.get(key, {}), Mapping):
                raise ScenarioError(f"scenario {key} must be a table")
        start_text = start or sc.get("start") or pop.default_start
        courses = _courses(sc.get("interventions", []), pop.pregnancy, start_text)
        n = dyads if dyads is not None else sc.get("dyads", 1000)
        sd = seed if seed is not None else sc.get("seed", 0)
        for name, v, lo, hi in (("dyads", n, 1, 10**8), ("seed", sd, 0, 2**31 - 1)):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ScenarioError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
        rec = record or sc.get("record", "weekly")
        if rec not in (*RECORD_PERIODS, "none"):
            raise ScenarioError(f"record must be one of daily, weekly, monthly, none; "
                                f"got {rec!r}")
        start_gd, start_pp = parse_start(start or sc.get("start"), pop.pregnancy,
                                         pop.default_start)
        horizon_days = parse_horizon(horizon if horizon is not None else sc.get("horizon"))
        total = total_days(pop, start_gd, start_pp, horizon_days)
        for i, (iv, (day, from_birth)) in enumerate(courses):
            last = horizon_days if from_birth and pop.pregnancy else total - 1
            clock = "postpartum" if from_birth else "study"
            if day > last:
                raise ScenarioError(f"interventions[{i}] ({iv.name}) starts on {clock} day "
                                    f"{day}, after the horizon ({clock} day {last}): no dyad "
                                    "would receive it")
        return cls(pop, start_text, start_gd, start_pp, horizon_days, total, rec, n, sd,
                   tuple(courses), dict(sc.get("params", {})), dict(params or {}),
                   _validate_do({**sc.get("do", {}), **(do or {})}))

    def parameters(self, theta: Mapping[str, float] | None = None) -> dict[str, float]:
        """The parameter overrides the run uses (under draw ``theta``), in the one
        precedence order (:func:`dyadsim.model.params.run_parameters`)."""
        return run_parameters(self.population.params, theta=theta,
                              interventions=combined_params([iv for iv, _ in self.courses]),
                              scenario=self.scenario_params, overrides=self.overrides)

    def setting(self, n: int, theta: Mapping[str, float] | None = None):
        """The engine :class:`~dyadsim.engine.batch.Setting` of this scenario for ``n``
        dyads (a parameter batch runs on it; its rows reproduce :func:`dyadsim.simulate`):
        the population, the window, the courses' schedule and parameters, the scenario's
        ``[params]`` and explicit overrides, ``do`` and an optional draw ``theta``."""
        from .engine.batch import Setting

        explicit = {**combined_params([iv for iv, _ in self.courses]),
                    **self.scenario_params, **self.overrides}
        return Setting(self.population, self.start_gest_day, self.start_pp_day,
                       self.total_days, explicit, dict(self.schedule(n).arrays),
                       dict(self.do), None if theta is None else dict(theta))

    def schedule(self, n: int) -> Schedule:
        """Every course for ``n`` dyads (ScenarioError if they cannot run together)."""
        try:
            return course_schedule(self.courses, n)
        except InterventionError as exc:
            raise ScenarioError(str(exc)) from None


def _population(entry: Any, preset: str | None, burn_in_days: int | None) -> Population:
    """The ``population`` entry (a preset name, or a table with ``preset``, ``init``,
    ``params``, ``burn_in_days``) as a Population with its overrides."""
    init: Mapping[str, Any] = {}
    params: Mapping[str, Any] = {}
    burn = burn_in_days
    name = entry
    if isinstance(entry, Mapping):
        extra = set(entry) - {"preset", "init", "params", "burn_in_days"}
        if extra:
            raise ScenarioError(f"unknown key(s) in [population]: {', '.join(sorted(extra))}")
        name = entry.get("preset", DEFAULT_POPULATION)
        init, params = entry.get("init", {}), entry.get("params", {})
        if not isinstance(init, Mapping) or not isinstance(params, Mapping):
            raise ScenarioError("[population] init and params must be tables")
        if burn is None:
            burn = entry.get("burn_in_days")
    name = preset or name
    if not isinstance(name, str):
        raise ScenarioError("population must be a preset name")
    if burn is not None and (isinstance(burn, bool) or not isinstance(burn, int) or burn < 0):
        raise ScenarioError(f"burn_in_days must be a whole number of days >= 0, got {burn!r}")
    return get_population(name).with_overrides(init, params, burn)


def _courses(entries: Any, pregnancy: bool, study_start: str) -> list[Course]:
    """A scenario's ``[[interventions]]`` (``name`` from the library, ``start`` such as
    ``gw24`` or ``pp6w``; default the run's start), given to every dyad."""
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


def _validate_do(do: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for node, value in do.items():
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
