"""The design of an in-silico trial, gathered from its parts: the spec schema
(:mod:`.spec`), its checks (:mod:`.validation`), the plan (:mod:`.plan`), the
randomisation (:mod:`.randomisation`) and the analysis methods (:mod:`.methods`)."""

from .methods import METHODS
from .plan import DAYS_PER_MONTH, OUTCOME_READS, Plan, plan_trial
from .randomisation import randomize, stratum_codes
from .spec import (
    EVENTS,
    Analysis,
    Arm,
    Assessment,
    Dropout,
    EMABlock,
    TrialSpec,
    TrialSpecError,
    load_spec,
    parse_spec,
)

#: Allowed ``effect`` values per method (the first is the default), from the registry.
EFFECTS: dict[str, tuple[str, ...]] = {name: m.effects for name, m in METHODS.items()}

__all__ = [
    "DAYS_PER_MONTH",
    "EFFECTS",
    "EVENTS",
    "METHODS",
    "OUTCOME_READS",
    "Analysis",
    "Arm",
    "Assessment",
    "Dropout",
    "EMABlock",
    "Plan",
    "TrialSpec",
    "TrialSpecError",
    "load_spec",
    "parse_spec",
    "plan_trial",
    "randomize",
    "stratum_codes",
]
