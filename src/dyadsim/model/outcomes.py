"""Per-dyad outcomes accumulated along the run: use, overdose (fatal and not), MOUD, CPS,
NOWS, maternal death, placement and reunification, the 12-month attachment classification
(drawn by the ``attachment_classification`` node,
:func:`dyadsim.model.infant.attachment_classification`) and
child well-being at 12 and 24 months.
"""

from __future__ import annotations

import jax.numpy as jnp

from .infant import ATTACHMENT_CLASSES, DOMAINS

__all__ = ["ACCUMULATORS", "AGES_MONTHS", "ATTACHMENT_CLASSES", "DAYS_PER_MONTH", "DOMAINS",
           "initial_accumulators", "update"]

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
