"""Per-dyad outcomes accumulated along the run: use, overdose (fatal and not), MOUD, CPS,
NOWS, the 12-month attachment classification and child well-being at 12 and 24 months.

The Strange Situation class is drawn at ``attachment.classification_day``: disorganized
with probability logistic(``disorganized_logit`` + ``disorganization_weight`` x risk -
``disorganized_security_slope`` x (security - 0.5)); otherwise secure with probability
logistic(``secure_slope`` x (security - ``secure_midpoint``)); otherwise avoidant with
``avoidant_share``, else resistant (van IJzendoorn 1999; Ainsworth 1978).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import sigmoid

from .infant import DOMAINS

ATTACHMENT_CLASSES = ("none", "secure", "avoidant", "resistant", "disorganized")
AGES_MONTHS = (12, 24)
DAYS_PER_MONTH = 365.25 / 12

ACCUMULATORS: tuple[str, ...] = (
    "use_days", "use_days_pregnancy", "use_days_postpartum", "first_use_day", "overdoses",
    "overdose_fatal_day", "cps_report_day", "moud_days", "moud_at_12m", "days_observed",
    "parenting_postpartum_sum", "postpartum_days", "attachment_class", "attachment_security_12m",
) + tuple(f"wellbeing_{d}_{m}m" for m in AGES_MONTHS for d in DOMAINS)


def initial_accumulators(n: int) -> dict:
    acc = {k: jnp.zeros(n, jnp.float32) for k in ACCUMULATORS}
    for k in ("first_use_day", "overdose_fatal_day", "cps_report_day", "moud_at_12m"):
        acc[k] = jnp.full(n, -1.0, jnp.float32)
    for m in AGES_MONTHS:
        for d in DOMAINS:
            acc[f"wellbeing_{d}_{m}m"] = jnp.full(n, jnp.nan, jnp.float32)
    acc["attachment_security_12m"] = jnp.full(n, jnp.nan, jnp.float32)
    return acc


def _first(current, happened, day):
    return jnp.where((current < 0) & happened, day, current)


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
    a["first_use_day"] = _first(acc["first_use_day"], use > 0, dayf)
    od = s["overdose"] * active
    a["overdoses"] = acc["overdoses"] + od
    fatal = (od > 0) & (u["overdose_fatal"] < p["overdose.fatal_fraction"])
    a["overdose_fatal_day"] = _first(acc["overdose_fatal_day"], fatal, dayf)
    a["cps_report_day"] = _first(acc["cps_report_day"], (s["cps_report"] * active) > 0, dayf)
    a["moud_days"] = acc["moud_days"] + (s["moud"] > 0) * active
    at12 = pp == jnp.round(12 * DAYS_PER_MONTH).astype(pp.dtype)
    a["moud_at_12m"] = jnp.where(at12, (s["moud"] > 0).astype(jnp.float32), acc["moud_at_12m"])
    a["parenting_postpartum_sum"] = (acc["parenting_postpartum_sum"]
                                     + s["parenting_behavior"] * born * active)
    a["postpartum_days"] = acc["postpartum_days"] + born * active
    for m in AGES_MONTHS:
        at = pp == jnp.round(m * DAYS_PER_MONTH).astype(pp.dtype)
        for d in DOMAINS:
            k = f"wellbeing_{d}_{m}m"
            a[k] = jnp.where(at, s[f"child_wellbeing.{d}"], acc[k])
    classify = pp == p["attachment.classification_day"].astype(pp.dtype)
    a["attachment_class"] = jnp.where(classify, classify_attachment(s, p, dyad),
                                      acc["attachment_class"])
    a["attachment_security_12m"] = jnp.where(classify, s["attachment"],
                                             acc["attachment_security_12m"])
    return a


def classify_attachment(s, p, dyad):
    """Strange Situation class code (index into ``ATTACHMENT_CLASSES``)."""
    security = s["attachment"]
    p_d = sigmoid(p["attachment.disorganized_logit"]
                  + p["attachment.disorganization_weight"] * s["attachment.disorganization"]
                  - p["attachment.disorganized_security_slope"] * (security - 0.5))
    p_secure = sigmoid(p["attachment.secure_slope"]
                       * (security - p["attachment.secure_midpoint"]))
    disorganized = dyad["u.attach_d"] < p_d
    secure = dyad["u.attach_s"] < p_secure
    avoidant = dyad["u.attach_ar"] < p["attachment.avoidant_share"]
    code = jnp.where(disorganized, 4.0, jnp.where(secure, 1.0, jnp.where(avoidant, 2.0, 3.0)))
    return code.astype(jnp.float32)
