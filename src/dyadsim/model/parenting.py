"""The mother as parent (Reese 2021, 'Salience of Infant Cues and Parenting Behavior';
Rutherford & Mayes 2017, the reward-stress dysregulation model of addicted parenting).

Hormones and prenatal bonding raise the salience of infant cues; reward dysregulation and
stress sensitization lower it; salience and affect drive engaged parenting. Motivation for
change is high in pregnancy and decays postpartum.

Nodes with the default relaxation (``_core.relax_node``; the edges in ``graph.py`` say what
moves them): ``salience_of_infant_cues``, ``shame_self_judgment`` and
``maternal_depression``.
"""

from __future__ import annotations

import jax.numpy as jnp

from ._core import fast, weight


def maternal_hormones(s, p, dyad, clock, z, u):
    """Trajectory: rises through pregnancy to a peak at birth, then decays towards the
    non-pregnant level; a per-mother trait offset (Levine 2007: individual stability). The
    rise is blunted in proportion to opioid dependence (Daigle 2020: smaller oxytocin rise
    in opioid-maintained mothers)."""
    pp = clock["postpartum_day"].astype(jnp.float32)
    base = p["maternal_hormones.nonpregnant"]
    blunting = 1 - jnp.clip(weight("physical_dependence", "maternal_hormones", s, p, dyad)
                            * s["physical_dependence"], 0, 1)
    rise = (p["maternal_hormones.birth_peak"] - base) * blunting
    gest_frac = jnp.clip((dyad["gestation_days"] + pp) / dyad["gestation_days"], 0.0, 1.0)
    pregnant = base + rise * gest_frac ** p["maternal_hormones.rise_exponent"]
    postpartum = base + rise * jnp.exp(-jnp.maximum(pp, 0.0)
                                       / p["maternal_hormones.postpartum_tau"])
    level = jnp.where(dyad["pregnancy"] > 0, jnp.where(pp < 0, pregnant, postpartum), base)
    return {"maternal_hormones": jnp.clip(level + dyad["maternal_hormones.trait"], 0.0, 1.0)}


def motivation_for_change(s, p, dyad, clock, z, u):
    """Trajectory: the prenatal window of heightened motivation (Reese 2021 Introduction),
    decaying after birth; a per-mother trait offset."""
    pp = clock["postpartum_day"].astype(jnp.float32)
    base = p["motivation_for_change.nonpregnant"]
    high = p["motivation_for_change.pregnancy"]
    postpartum = base + (high - base) * jnp.exp(-jnp.maximum(pp, 0.0)
                                                / p["motivation_for_change.postpartum_tau"])
    level = jnp.where(dyad["pregnancy"] > 0, jnp.where(pp < 0, high, postpartum), base)
    return {"motivation_for_change": jnp.clip(level + dyad["motivation_for_change.trait"],
                                              0.0, 1.0)}


def prenatal_bonding(s, p, dyad, clock, z, u):
    """Forms during pregnancy only; held from birth on."""
    new = fast("prenatal_bonding", s, p, dyad, clock, z["prenatal_bonding"])
    return {"prenatal_bonding": jnp.where(clock["postpartum_day"] < 0, new,
                                          s["prenatal_bonding"])}


def parenting_behavior(s, p, dyad, clock, z, u):
    """Engaged vs disengaged caregiving; before birth it is the mother's readiness."""
    return {"parenting_behavior": fast("parenting_behavior", s, p, dyad, clock,
                                       z["parenting_behavior"])}
