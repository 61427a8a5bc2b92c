"""Time points as people write them: ``gw20`` (gestational week), ``pp42`` / ``pp6w``
(postpartum day / week), ``day14`` (study day); a run's start, horizon and length in days.

Ground floor: nothing here imports dyadsim, so the engine, the simulation and the studies
read time the same way."""

from __future__ import annotations

import re
from typing import Protocol


class ScenarioError(ValueError):
    """A scenario, start, horizon, record option or do-intervention is invalid."""


class _HasPregnancy(Protocol):
    @property
    def pregnancy(self) -> bool: ...


_PATTERN = re.compile(r"(gw|pp|day)(\d+)(w?)")


def parse_time_point(text: str) -> tuple[str, int] | None:
    """('gw', week) | ('pp', postpartum day) | ('day', study day); None if malformed."""
    m = _PATTERN.fullmatch(text.strip().lower())
    if not m or (m.group(3) and m.group(1) != "pp"):
        return None
    num = int(m.group(2))
    return m.group(1), num * 7 if m.group(3) else num


def cohort_day(text: str) -> tuple[str, int] | None:
    """A cohort time point: 'enrolment' (= day 0), 'dayN' (study day) or 'ppN' / 'ppNw'
    (postpartum day / week); None if malformed."""
    if text == "enrolment":
        return "day", 0
    point = parse_time_point(text)
    if point is None or point[0] == "gw":
        return None
    return point


def parse_start(start: str | None, pregnancy: bool, default: str) -> tuple[int, int]:
    """Return (gestational day at start, postpartum day at start); one of them is -1."""
    text = start or default
    point = parse_time_point(text)
    if point is None:
        raise ScenarioError(f"start {text!r} must look like 'gw20' (gestational week), "
                            "'pp42' or 'pp6w' (postpartum day/week) or 'day0'")
    kind, num = point
    if kind == "gw":
        if not pregnancy:
            raise ScenarioError("start in gestation needs a population with a pregnancy")
        if not 4 <= num <= 36:
            raise ScenarioError(f"gestational week {num} at start must be within 4-36")
        return num * 7, -1
    if kind == "pp":
        if not pregnancy:
            raise ScenarioError("a postpartum start needs a population with a pregnancy")
        return -1, num
    if pregnancy:
        raise ScenarioError("start 'dayN' is for populations without a pregnancy; use gwN or ppN")
    return -1, -1


def parse_horizon(horizon: int | str | None) -> int:
    """Days (int) or '24m', '40w', '90d'; months are 365.25/12 days."""
    if horizon is None:
        horizon = "24m"
    if isinstance(horizon, bool):
        raise ScenarioError("horizon must be days or a string like '24m'")
    if isinstance(horizon, int):
        days = horizon
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([dwm]?)\s*", str(horizon))
        if not m:
            raise ScenarioError(f"horizon {horizon!r} must be days or like '24m', '40w', '90d'")
        n, unit = int(m.group(1)), m.group(2) or "d"
        days = round(n * {"d": 1, "w": 7, "m": 365.25 / 12}[unit])
    if not 1 <= days <= 20 * 365:
        raise ScenarioError(f"horizon of {days} days must be within 1 day and 20 years")
    return int(days)


def total_days(pop: _HasPregnancy, start_gd: int, start_pp: int, horizon_days: int) -> int:
    """Days simulated: from a gestational start through the latest possible birth (42 weeks)
    to the horizon, from a postpartum start to the horizon, or the horizon itself for a
    population without a pregnancy."""
    if pop.pregnancy and start_gd >= 0:
        return 42 * 7 - start_gd + horizon_days + 1
    if pop.pregnancy:
        total = horizon_days - start_pp + 1
        if total < 1:
            raise ScenarioError("horizon ends before the postpartum start")
        return total
    return horizon_days
