"""What the step reads of a dyad's treatment: per-dyad schedule arrays.

Built by :mod:`dyadsim.interventions` from a trial arm's interventions, read by the skill,
MOUD and taper mechanisms through the per-dyad constants (``<skill>.start``,
``<skill>.sessions``, ``tx.*``, ``moud.*``). It names no particular treatment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .graph import SKILLS

FAR = 10**8  # a day that never comes (no birth, no MOUD offer, no session)


@dataclass(frozen=True)
class Schedule:
    """Per-dyad intervention schedule arrays (built by :mod:`dyadsim.interventions`)."""

    arrays: Mapping[str, np.ndarray]

    @staticmethod
    def none(n: int) -> Schedule:
        """No treatment beyond what the population itself has."""
        a = {}
        for k in SKILLS:
            a[f"{k}.start"] = np.full(n, FAR, np.int32)
            a[f"{k}.sessions"] = np.zeros(n, np.int32)
        a["tx.from_birth"] = np.zeros(n, np.int32)
        a["tx.attendance_mean"] = np.zeros(n, np.float32)
        a["tx.practice_mean"] = np.zeros(n, np.float32)
        a["moud.offer_day"] = np.full(n, -1, np.int32)  # -1: use the population's access
        a["moud.drug"] = np.full(n, -1, np.int32)  # -1: the population's; 0 methadone, 1 bup.
        a["moud.taper_day"] = np.full(n, FAR, np.int32)  # a scheduled taper starts that day
        return Schedule(a)
