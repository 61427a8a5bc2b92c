"""The arms of a trial spec as engine settings: the same population, start and horizon as
``dyadsim trial`` simulates them, each arm's parameters and intervention schedule given to
every dyad (counterfactual worlds compare the same dyads under each arm)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.batch import Setting


@dataclass(frozen=True)
class TrialArms:
    setting: Setting
    names: tuple[str, ...]
    params: dict[str, dict[str, float]]
    plan: Any
    seed: int

    def schedule(self, arm: str, dyads: int) -> dict[str, np.ndarray]:
        """The arm's schedule for ``dyads`` dyads (as the trial runner builds it)."""
        return dict(self.plan.arm_schedule(self.names.index(arm), dyads).arrays)


def load_arms(spec: str | Path | Any) -> TrialArms:
    """Read and validate a trial spec (TrialSpecError on bad input)."""
    from ..trials.design import load_spec, plan_trial

    s = load_spec(spec)
    plan = plan_trial(s)
    setting = Setting.from_population(plan.population, start=plan.sim_start,
                                      horizon=plan.sim_horizon)
    names = tuple(a.name for a in s.arms)
    if setting.total_days != plan.total_days:
        raise ValueError(f"trial plan has {plan.total_days} days, the engine setting "
                         f"{setting.total_days}: start/horizon read differently")
    return TrialArms(setting, names, {n: dict(plan.arm_params[i]) for i, n in enumerate(names)},
                     plan, s.trial.seed)


def default_contrast(spec: str | Path | Any) -> tuple[str, str]:
    """(treatment, control) of the spec's primary analysis, else of its first analysis that
    names both, else (first arm, last arm)."""
    from ..trials.design import load_spec

    s = load_spec(spec)
    pairs = [(a.treatment, a.control) for a in sorted(s.analysis, key=lambda a: not a.primary)
             if a.treatment and a.control]
    return pairs[0] if pairs else (s.arms[0].name, s.arms[-1].name)


def arm_setting(spec: str | Path | Any, arm: str, dyads: int) -> tuple[Setting, int]:
    """(the setting of one arm for ``dyads`` dyads, the spec's seed)."""
    arms = load_arms(spec)
    if arm not in arms.names:
        raise ValueError(f"unknown arm {arm!r}: one of {', '.join(arms.names)}")
    s = arms.setting
    return Setting(s.population, s.start_gest_day, s.start_pp_day, s.total_days,
                   arms.params[arm], arms.schedule(arm, dyads), s.do), arms.seed
