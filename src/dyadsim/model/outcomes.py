"""Per-dyad outcomes: accumulated along the run: use, overdose (fatal and not), MOUD, CPS,
NOWS, maternal death, placement and reunification, the 12-month attachment classification
(drawn by the ``attachment_classification`` node,
:func:`dyadsim.model.infant.attachment_classification`) and
child well-being at 12 and 24 months; then the registry of what a run reports
(:data:`OUTCOMES`), each derived from those accumulators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from .graph import MME_FULL_SCALE
from .infant import ATTACHMENT_CLASSES, DOMAINS
from .schedule import FAR

__all__ = ["ACCUMULATORS", "AGES_MONTHS", "ATTACHMENT_CLASSES", "DAYS_PER_MONTH", "DOMAINS",
           "OUTCOMES", "Outcome", "initial_accumulators", "per_dyad", "pregnancy_lost",
           "update", "value_of"]

AGES_MONTHS = (12, 24)  # ages of the well-being assessments; the first is also MOUD at 12 m
DAYS_PER_MONTH = 365.25 / 12  # unit conversion

DAY_OUTCOMES = ("first_use_day", "overdose_fatal_day", "cps_report_day", "maternal_death_day",
                "placement_day", "reunification_day", "moud_off_day")
ACCUMULATORS: tuple[str, ...] = (
    "use_days", "use_days_pregnancy", "use_days_postpartum", "misuse_amount", "overdoses",
    "moud_days",
    "moud_at_12m", "days_observed", "parenting_postpartum_sum", "postpartum_days",
    "attachment_class", "attachment_security_12m",
) + DAY_OUTCOMES + tuple(f"wellbeing_{d}_{m}m" for m in AGES_MONTHS for d in DOMAINS)


def initial_accumulators(n: int) -> dict:
    acc = {k: jnp.zeros(n, jnp.float32) for k in ACCUMULATORS}
    for k in (*DAY_OUTCOMES, "moud_at_12m"):
        acc[k] = jnp.full(n, -1.0, jnp.float32)
    for m in AGES_MONTHS:
        for d in DOMAINS:
            acc[f"wellbeing_{d}_{m}m"] = jnp.full(n, jnp.nan, jnp.float32)
    acc["attachment_security_12m"] = jnp.full(n, jnp.nan, jnp.float32)
    return acc


def _first(current, happened, day):
    return jnp.where((current < 0) & happened, day, current)


def _at_age(pp, months):
    return pp == jnp.round(months * DAYS_PER_MONTH).astype(pp.dtype)


def update(acc, s, p, dyad, day, u, active):
    """Fold one day into the accumulators (``active`` masks days past the horizon)."""
    pp = day - dyad["birth_day"]
    dayf = jnp.asarray(day, jnp.float32)
    use = s["opioid_use"] * active
    born = pp >= 0
    a = dict(acc)
    a["days_observed"] = acc["days_observed"] + active
    a["use_days"] = acc["use_days"] + use
    a["use_days_pregnancy"] = acc["use_days_pregnancy"] + use * (pp < 0) * (dyad["pregnancy"] > 0)
    a["use_days_postpartum"] = acc["use_days_postpartum"] + use * born
    a["misuse_amount"] = acc["misuse_amount"] + s["opioid_dose"] * active
    a["first_use_day"] = _first(acc["first_use_day"], use > 0, dayf)
    a["overdoses"] = acc["overdoses"] + s["overdose"] * active
    died = (s["maternal_death"] * active) > 0
    a["maternal_death_day"] = _first(acc["maternal_death_day"], died, dayf)
    a["overdose_fatal_day"] = a["maternal_death_day"]
    a["cps_report_day"] = _first(acc["cps_report_day"], (s["cps_report"] * active) > 0, dayf)
    placed = (s["foster_placement"] * active) > 0
    a["placement_day"] = _first(acc["placement_day"], placed, dayf)
    returned = (acc["placement_day"] >= 0) & ~placed & (active > 0)
    a["reunification_day"] = _first(acc["reunification_day"], returned, dayf)
    a["moud_days"] = acc["moud_days"] + (s["moud"] > 0) * active
    # The first day off MOUD (day 0 for a mother not on it at enrolment): continuous
    # retention, apart from point prevalence (a restart after a stop counts in moud_at_12m,
    # not here; issue 18 item 5).
    a["moud_off_day"] = _first(acc["moud_off_day"], (s["moud"] <= 0) & (active > 0), dayf)
    a["moud_at_12m"] = jnp.where(_at_age(pp, AGES_MONTHS[0]),
                                 (s["moud"] > 0).astype(jnp.float32), acc["moud_at_12m"])
    a["parenting_postpartum_sum"] = (acc["parenting_postpartum_sum"]
                                     + s["parenting_behavior"] * born * active)
    a["postpartum_days"] = acc["postpartum_days"] + born * active
    for m in AGES_MONTHS:
        at = _at_age(pp, m)
        for d in DOMAINS:
            k = f"wellbeing_{d}_{m}m"
            a[k] = jnp.where(at, s[f"child_wellbeing.{d}"], acc[k])
    a["attachment_class"] = jnp.where(active > 0, s["attachment_classification"],
                                      acc["attachment_class"])
    classify = pp == p["attachment.classification_day"].astype(pp.dtype)
    a["attachment_security_12m"] = jnp.where(classify, s["attachment"],
                                             acc["attachment_security_12m"])
    return a


# ---------------------------------------------------------------------------------------
# The outcome registry: every per-dyad outcome a run reports, derived (numpy, any leading
# shape) from the accumulators above plus the engine's ``nows_diagnosed`` and ``birth_day``.
# simulate() puts each in its Dataset; analyses, predictions, calibration targets and
# reports read them by name. Adding an outcome touches this list only.
# ---------------------------------------------------------------------------------------

Accumulated = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Outcome:
    """One per-dyad outcome: ``name`` (the Dataset variable), ``meaning``, ``unit``,
    ``derive`` (from the accumulated arrays), ``pregnancy`` (reported only for populations
    with a pregnancy) and ``infant`` (about the infant: undefined, NaN or "none", when the
    mother died before the birth, i.e. a pregnancy loss)."""

    name: str
    meaning: str
    unit: str
    derive: Callable[[Accumulated], np.ndarray]
    pregnancy: bool = False
    infant: bool = False

    @property
    def numeric(self) -> bool:
        return self.unit != "category"


def _day(key: str) -> Callable[[Accumulated], np.ndarray]:
    """An event's study day (the accumulator's -1, no event, as NaN)."""
    return lambda a: np.where(a[key] < 0, np.nan, a[key])


def _per_day(num: str, den: str) -> Callable[[Accumulated], np.ndarray]:
    return lambda a: a[num] / np.maximum(a[den], 1)


def _class_is(label: str) -> Callable[[Accumulated], np.ndarray]:
    code = ATTACHMENT_CLASSES.index(label)
    return lambda a: np.where(a["attachment_class"] > 0,
                              (a["attachment_class"] == code).astype(np.float64), np.nan)


def _wellbeing_mean(months: int) -> Callable[[Accumulated], np.ndarray]:
    return lambda a: np.mean([a[f"wellbeing_{d}_{months}m"] for d in DOMAINS], axis=0)


def _retained_12m(a: Accumulated) -> np.ndarray:
    """On MOUD every day from enrolment to 12 months postpartum (NaN when the run ends
    before then); ``moud_at_12m`` is point prevalence."""
    twelve = a["birth_day"] + round(AGES_MONTHS[0] * DAYS_PER_MONTH)
    kept = (a["moud_off_day"] < 0) | (a["moud_off_day"] > twelve)
    return np.where(a["moud_at_12m"] < 0, np.nan, kept.astype(float))


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("use_days", "days with opioid use", "days", lambda a: a["use_days"]),
    Outcome("use_share", "share of observed days with opioid use", "0-1",
            _per_day("use_days", "days_observed")),
    Outcome("use_days_pregnancy", "days with opioid use in pregnancy", "days",
            lambda a: a["use_days_pregnancy"]),
    Outcome("use_days_postpartum", "days with opioid use after the birth", "days",
            lambda a: a["use_days_postpartum"]),
    Outcome("first_use_day", "study day of the first use", "study day", _day("first_use_day")),
    Outcome("mme_per_use_day", "mean misuse amount on a use day (NaN without a use day)",
            "MME/day", lambda a: np.where(a["use_days"] > 0, MME_FULL_SCALE * a["misuse_amount"]
                                          / np.maximum(a["use_days"], 1), np.nan)),
    Outcome("overdoses", "overdoses (fatal or not)", "events", lambda a: a["overdoses"]),
    Outcome("overdose_fatal_day", "study day of a fatal overdose", "study day",
            _day("overdose_fatal_day")),
    Outcome("maternal_death_day", "study day of the mother's death", "study day",
            _day("maternal_death_day")),
    Outcome("cps_report_day", "study day of the first CPS report", "study day",
            _day("cps_report_day")),
    Outcome("moud_days", "days on MOUD", "days", lambda a: a["moud_days"]),
    Outcome("moud_share", "share of observed days on MOUD", "0-1",
            _per_day("moud_days", "days_observed")),
    Outcome("moud_stop_day", "study day of the first day off MOUD (continuous retention)",
            "study day", _day("moud_off_day")),
    Outcome("birth_day", "study day of the birth (NaN: none in the run)", "study day",
            lambda a: np.where(a["birth_day"] >= FAR, np.nan, a["birth_day"])),
    Outcome("moud_at_12m", "on MOUD at 12 months postpartum (point prevalence)", "0/1",
            lambda a: np.where(a["moud_at_12m"] < 0, np.nan, a["moud_at_12m"]),
            pregnancy=True),
    Outcome("moud_retained_12m", "on MOUD every day from enrolment to 12 months postpartum",
            "0/1", _retained_12m, pregnancy=True),
    Outcome("nows", "neonatal opioid withdrawal diagnosed", "0/1",
            lambda a: a["nows_diagnosed"], pregnancy=True, infant=True),
    Outcome("parenting_mean", "mean postpartum parenting quality", "0-1",
            _per_day("parenting_postpartum_sum", "postpartum_days"), pregnancy=True,
            infant=True),
    Outcome("attachment_class", "Strange Situation class at 12 months", "category",
            lambda a: np.array(ATTACHMENT_CLASSES, dtype=object)[
                a["attachment_class"].astype(int)].astype(str), pregnancy=True, infant=True),
    Outcome("secure_attachment", "Strange Situation class secure at 12 months", "0/1",
            _class_is("secure"), pregnancy=True, infant=True),
    Outcome("disorganized_attachment", "Strange Situation class disorganized at 12 months",
            "0/1", _class_is("disorganized"), pregnancy=True, infant=True),
    Outcome("attachment_security_12m", "attachment security at 12 months postpartum", "0-1",
            lambda a: a["attachment_security_12m"], pregnancy=True, infant=True),
    Outcome("placement_day", "study day of the first foster placement", "study day",
            _day("placement_day"), pregnancy=True, infant=True),
    Outcome("reunification_day", "study day of the return home after a placement",
            "study day", _day("reunification_day"), pregnancy=True, infant=True),
    *(Outcome(f"wellbeing_{d}_{m}m", f"child well-being, {d} domain, at {m} months", "0-1",
              (lambda k: lambda a: a[k])(f"wellbeing_{d}_{m}m"), pregnancy=True, infant=True)
      for m in AGES_MONTHS for d in DOMAINS),
    *(Outcome(f"child_wellbeing_{m}m", f"child well-being at {m} months, mean of the five "
              "domains", "0-1", _wellbeing_mean(m), pregnancy=True, infant=True)
      for m in AGES_MONTHS),
)}


def pregnancy_lost(acc: Accumulated) -> np.ndarray:
    """Rows whose mother died before the birth (there is no infant)."""
    died = np.asarray(acc["maternal_death_day"])
    return (died >= 0) & (died < np.asarray(acc["birth_day"]))


def value_of(outcome: Outcome, acc: Accumulated) -> np.ndarray:
    """One outcome derived from the accumulated arrays; an infant outcome is NaN / "none"
    after a pregnancy loss."""
    v = np.asarray(outcome.derive(acc))
    if outcome.infant:
        v = np.where(pregnancy_lost(acc), "none" if v.dtype.kind in "UO" else np.nan, v)
    return v


def per_dyad(acc: Accumulated, pregnancy: bool) -> dict[str, np.ndarray]:
    """Every outcome of a run's population, in registry order (the ``pregnancy`` ones only
    when it has a pregnancy)."""
    return {o.name: value_of(o, acc) for o in OUTCOMES.values()
            if pregnancy or not o.pregnancy}
