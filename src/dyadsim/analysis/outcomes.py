"""Per-dyad outcomes an analysis can target, by name (a registry), plus any node of the
graph (its value on the last simulated day). Each takes a batch's ``outcomes`` and ``final``
arrays (any leading shape) and returns one float per row, NaN where undefined (e.g.
attachment before 12 months)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..model import outcomes as model_outcomes
from ..model.graph import NODE_BY_ID

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Outcome:
    name: str
    meaning: str
    value: Callable[[Arrays, Arrays], np.ndarray]


def _class_share(label: str) -> Callable[[Arrays, Arrays], np.ndarray]:
    code = model_outcomes.ATTACHMENT_CLASSES.index(label)

    def value(out: Arrays, final: Arrays) -> np.ndarray:
        c = out["attachment_class"]
        return np.where(c > 0, (c == code).astype(np.float64), np.nan)
    return value


def _wellbeing(months: int) -> Callable[[Arrays, Arrays], np.ndarray]:
    def value(out: Arrays, final: Arrays) -> np.ndarray:
        return np.mean([out[f"wellbeing_{d}_{months}m"] for d in model_outcomes.DOMAINS],
                       axis=0).astype(np.float64)
    return value


def _ratio(num: str, den: str) -> Callable[[Arrays, Arrays], np.ndarray]:
    def value(out: Arrays, final: Arrays) -> np.ndarray:
        return (out[num] / np.maximum(out[den], 1)).astype(np.float64)
    return value


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("attachment_security_12m", "attachment security (0-1) at 12 months postpartum",
            lambda out, final: out["attachment_security_12m"].astype(np.float64)),
    Outcome("secure_attachment", "Strange Situation class secure at 12 months (share)",
            _class_share("secure")),
    Outcome("disorganized_attachment", "Strange Situation class disorganized (share)",
            _class_share("disorganized")),
    Outcome("child_wellbeing_24m", "child well-being at 24 months, mean of the five domains",
            _wellbeing(24)),
    Outcome("child_wellbeing_12m", "child well-being at 12 months, mean of the five domains",
            _wellbeing(12)),
    Outcome("use_share", "share of observed days with opioid use",
            _ratio("use_days", "days_observed")),
    Outcome("parenting_mean", "mean postpartum parenting quality (0-1)",
            _ratio("parenting_postpartum_sum", "postpartum_days")),
    Outcome("nows", "neonatal opioid withdrawal diagnosed (share)",
            lambda out, final: out["nows_diagnosed"].astype(np.float64)),
)}


def outcome_names() -> list[str]:
    return sorted(OUTCOMES) + ["<any node id>"]


def get_outcome(name: str) -> Outcome:
    """A registered outcome, or a node's value on the last day. ValueError if neither."""
    if name in OUTCOMES:
        return OUTCOMES[name]
    if name in NODE_BY_ID:
        return Outcome(name, f"{NODE_BY_ID[name].label} on the last simulated day",
                       lambda out, final: final[name].astype(np.float64))
    raise ValueError(f"unknown outcome {name!r}: one of {', '.join(sorted(OUTCOMES))} "
                     "or a node id (see `dyadsim graph`)")
