"""The initial state of a dyad: the population's declared initial distributions
(:mod:`dyadsim.model.populations`), each node's declared start where the population sets
none (``Node.initial``: its resting level, or 0 for states that begin at birth), the
person's persistent traits, the pregnancy's timing and the per-dyad constants the step reads
(treatment schedule, MOUD access and drug, the prenatal history carried into the fetal
exposure). Pure functions of each dyad's own initial random stream.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import addiction, infant, outcomes, placement
from ._beta import beta_at, beta_columns
from ._core import drive
from .graph import NODE_BY_ID, NODE_IDS, SKILLS
from .populations import GESTATION_RANGE_WEEKS, INIT_TARGETS, Population
from .schedule import FAR
from .skills import trait_levels, untrained_level
from .step import STATE_KEYS, make_clock

# Per-dyad covariates a population may draw besides the nodes (populations.INIT_TARGETS).
COVARIATE_NAMES = [k for k in INIT_TARGETS if k not in NODE_BY_ID]
INIT_NAMES = list(NODE_IDS) + COVARIATE_NAMES
_DIST_CODE = {"fixed": 0, "beta": 1, "bernoulli": 2, "normal": 3}
PAIN_CLIP = 1e-3  # keeps the logit of a drawn pain of exactly 0 or 1 finite
#: Nodes with a persistent person-level intercept (issue 18 item 6; DESIGN.md s2: "person-level
#: intercepts set levels and stay through the burn-in"): where the population draws the node,
#: the mother's own logit offset is set so that the level her inputs at the drawn start call
#: for is her drawn level. The dynamics then move her around her own level (a mother drawn
#: depressed stays more depressed than one drawn well), instead of every mother relaxing to
#: the same level over the burn-in. No new number: the offset is read off her draw.
PERSON_INTERCEPTS: tuple[str, ...] = ("maternal_depression", "stress_sensitization",
                                      "employment")


def init_spec(pop: Population):
    """Arrays (kind, a, b, round) over STATE_KEYS + covariates for the population."""
    names = list(NODE_IDS) + COVARIATE_NAMES
    kind = np.zeros(len(names), np.int32)
    a = np.zeros(len(names), np.float32)
    b = np.zeros(len(names), np.float32)
    rnd = np.zeros(len(names), bool)
    lo = np.array([INIT_TARGETS[n][0] for n in names], np.float32)
    hi = np.array([INIT_TARGETS[n][1] for n in names], np.float32)
    given = np.zeros(len(names), bool)
    imposed = np.array([n in pop.at_enrolment for n in names], bool)
    for i, n in enumerate(names):
        d = pop.init.get(n)
        if d is not None:
            kind[i], a[i], b[i], rnd[i], given[i] = _DIST_CODE[d.kind], d.a, d.b, d.round, True
    return names, dict(kind=kind, a=a, b=b, rnd=rnd, lo=lo, hi=hi, given=given,
                       at_enrolment=imposed,
                       beta_cols=beta_columns(kind, _DIST_CODE["beta"]))


def _draw_init(keys, spec):
    """Each dyad's initial values for every init target (one row per dyad's key)."""
    n = spec["kind"].shape[0]
    split = jax.vmap(lambda k: jax.random.split(k, 3))(keys)
    k1, k2, k3 = split[:, 0], split[:, 1], split[:, 2]
    mean = jnp.clip(spec["a"], 1e-4, 1 - 1e-4)
    var = jnp.maximum(spec["b"] ** 2, 1e-8)
    conc = jnp.maximum(mean * (1 - mean) / var - 1.0, 1e-3)
    beta = beta_at(k1, mean * conc, (1 - mean) * conc, spec["beta_cols"])
    uni = jax.vmap(lambda k: jax.random.uniform(k, (n,)))(k2)
    normal = spec["a"] + spec["b"] * jax.vmap(lambda k: jax.random.normal(k, (n,)))(k3)
    normal = jnp.where(spec["rnd"], jnp.round(normal), normal)
    value = jnp.select([spec["kind"] == 0, spec["kind"] == 1, spec["kind"] == 2],
                       [jnp.broadcast_to(spec["a"], beta.shape), beta,
                        (uni < spec["a"]).astype(jnp.float32)], normal)
    return jnp.clip(value, spec["lo"], spec["hi"])


def _fold(keys, i):
    return jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)


def _resting(node, p, traits):
    nd = NODE_BY_ID[node]
    if nd.dynamics in ("relax", "derived"):
        return jax.nn.sigmoid(p[f"{node}.bias"])
    if nd.dynamics == "skill":
        return jnp.asarray(untrained_level(node, p, traits), jnp.float32)
    return jnp.asarray(0.0, jnp.float32)


def initial_state(ikeys, p, spec, names, pregnancy, start_gest_day, start_pp_day, sched,
                  do_mask, do_value):
    """Initial state and per-dyad constants, from each dyad's own init stream ``ikeys``
    (engine/rng.init_key)."""
    c = ikeys.shape[0]
    sub = jax.vmap(lambda k: jax.random.split(k, 3))(ikeys)
    vals = _draw_init(sub[:, 0], spec)
    u = jax.vmap(lambda k: jax.random.uniform(k, (8,)))(sub[:, 1])
    z = jax.vmap(lambda k: jax.random.normal(k, (8,)))(sub[:, 2])
    # Persistent person traits (their own stream: the draws above keep their meaning).
    z_trait = jax.vmap(lambda k: jax.random.normal(k, (4,)))(_fold(sub[:, 2], 1))
    traits = {
        **trait_levels(p, z_trait[:, :2]),
        "cognitive_appraisal.trait": p["individual.appraisal_sd"] * z_trait[:, 2],
        "child_wellbeing.physical_trait": p["child_wellbeing.physical_trait_sd"]
        * z_trait[:, 3],
    }
    s = {}
    for i, n in enumerate(names):
        if n not in NODE_BY_ID:
            continue
        rest = (jnp.zeros(c, jnp.float32) if NODE_BY_ID[n].initial == "zero"
                else jnp.full(c, _resting(n, p, traits)))
        s[n] = jnp.where(spec["given"][i], vals[:, i], rest).astype(jnp.float32)
    for k in STATE_KEYS:
        if k not in s:
            s[k] = jnp.zeros(c, jnp.float32)
    # The person's own pain baseline (logit of her initial pain) and the habitual amount her
    # tolerance and pain call for (addiction.chronic_pain, addiction.opioid_dose).
    pain = jnp.clip(s["chronic_pain"], PAIN_CLIP, 1 - PAIN_CLIP)
    s["chronic_pain.baseline_logit"] = jnp.log(pain) - jnp.log1p(-pain)
    s["opioid_dose.habitual"] = addiction.called_for_dose(s, p).astype(jnp.float32)
    for d in outcomes.DOMAINS:
        s[f"child_wellbeing.{d}"] = jnp.full(c, jax.nn.sigmoid(
            p[f"child_wellbeing.{d}_bias"]))
    # Her own state before any do()-clamp: the person intercepts are read off it, so a
    # clamp on a parent moves her from her own level instead of being absorbed into it.
    natural = dict(s)
    for n in NODE_IDS:
        s[n] = jnp.where(do_mask[n], do_value[n], s[n]).astype(jnp.float32)
    offered_pop = vals[:, names.index("moud.offered")] > 0.5
    gest_days = jnp.clip(p["gestation.mean_weeks"] * 7 + p["gestation.sd_weeks"] * 7 * z[:, 0],
                         GESTATION_RANGE_WEEKS[0] * 7, GESTATION_RANGE_WEEKS[1] * 7)
    gest_days = jnp.maximum(gest_days, start_gest_day + 1.0)
    birth = jnp.where(pregnancy, jnp.where(start_pp_day >= 0, -start_pp_day,
                                           jnp.round(gest_days) - start_gest_day), FAR)
    offer = jnp.where(sched["moud.offer_day"] >= 0, sched["moud.offer_day"],
                      jnp.where(offered_pop, 0, FAR))

    def beta_mean(mean, k, c):
        """A person's attendance/practice propensity: beta around the course mean
        (concentration ``c``: a scalar, or one per dyad in a parameter batch)."""
        m = jnp.clip(mean, 1e-3, 1 - 1e-3)
        return jnp.where(mean > 0, jax.random.beta(k, m * c, (1 - m) * c), 0.0)

    concentration = jnp.broadcast_to(p["skill.adherence_concentration"], (c,))

    dyad = {
        "birth_day": birth.astype(jnp.int32),
        "gestation_days": jnp.where(pregnancy, jnp.round(gest_days), 280.0),
        "pregnancy": jnp.full(c, jnp.where(pregnancy, 1.0, 0.0), jnp.float32),
        "moud.offer_day": offer.astype(jnp.int32),
        "maternal_hormones.trait": p["maternal_hormones.trait_sd"] * z[:, 1],
        "motivation_for_change.trait": p["motivation_for_change.trait_sd"] * z[:, 2],
        "opioid_use.trait": p["individual.use_propensity_sd"] * z[:, 5],
        "re.neuroadaptation": jnp.exp(p["individual.neuroadaptation_sd"] * z[:, 3]
                                      - 0.5 * p["individual.neuroadaptation_sd"] ** 2),
        "re.skill_responsiveness": jnp.exp(p["individual.skill_responsiveness_sd"] * z[:, 4]
                                           - 0.5 * p["individual.skill_responsiveness_sd"] ** 2),
        **traits,
        # u[:, 2] drew the secure class before it became a threshold on the latent
        # security (issue 18 item 3); the column stays drawn so the other draws keep
        # their values.
        "u.nows": u[:, 0], "u.attach_d": u[:, 1], "u.attach_ar": u[:, 3],
        "tx.attendance": jax.vmap(beta_mean)(sched["tx.attendance_mean"], _fold(sub[:, 1], 1),
                                             concentration),
        "tx.practice": jax.vmap(beta_mean)(sched["tx.practice_mean"], _fold(sub[:, 1], 2),
                                           concentration),
    }
    dyad["tx.from_birth"] = sched["tx.from_birth"]
    dyad["moud.buprenorphine"] = jnp.where(sched["moud.drug"] >= 0, sched["moud.drug"],
                                           vals[:, names.index("moud.buprenorphine")])
    dyad["moud.taper_day"] = sched["moud.taper_day"]
    for k in SKILLS:
        dyad[f"{k}.start"] = sched[f"{k}.start"]
        dyad[f"{k}.sessions"] = sched[f"{k}.sessions"]
    dyad["prenatal.use_share"] = vals[:, names.index("prenatal.use_share")]
    dyad["caregiver.parenting"] = placement.substitute_parenting(p, u[:, 4])
    # The infant's own share of attachment security (temperament; infant.attachment): its
    # own stream, so the other draws keep their meaning.
    z_infant = jax.vmap(lambda k: jax.random.normal(k, (1,)))(_fold(sub[:, 2], 2))
    dyad["attachment.temperament"] = p["attachment.temperament_sd"] * z_infant[:, 0]
    s["neonatal_withdrawal.exposure"] = infant.prenatal_exposure(s, p, dyad)
    # Time on MOUD at enrolment (issue 18 item 5): the population's draw for a mother on it
    # (0 where it draws none: a run without a burn-in has no treatment history; with a
    # burn-in, at_enrolment carries the burn-in's length).
    i_on = names.index("moud.days_on")
    s["moud.days_on"] = jnp.where((s["moud"] > 0) & spec["given"][i_on], vals[:, i_on],
                                  0.0).astype(jnp.float32)
    clock0 = make_clock(0, dyad)
    for node in PERSON_INTERCEPTS:
        x = jnp.clip(natural[node], PAIN_CLIP, 1 - PAIN_CLIP)
        own = p[f"{node}.bias"] + drive(node, natural, p, dyad, clock0)
        dyad[f"{node}.intercept"] = jnp.where(
            spec["given"][names.index(node)], jnp.log(x) - jnp.log1p(-x) - own,
            0.0).astype(jnp.float32)
    return s, dyad


#: States a burn-in sets: the mother's own dynamic states (and the habitual amount she
#: takes, her recent use-day share that CPS weighs, her time on MOUD and the fetal exposure
#: her own use and MOUD sustained before enrolment: the burn-in holds the pregnancy at the
#: enrolment week, so the exposure is the average of her own pre-enrolment opioid level;
#: issue 18 item 7). Context, treatment, infant and event-history states keep their drawn
#: start.
BURNED_IN: tuple[str, ...] = tuple(
    n.id for n in NODE_BY_ID.values()
    if n.kind == "maternal" and n.dynamics in ("relax", "derived", "event")
    and n.id != "overdose") + ("opioid_dose.habitual", "moud.days_on",
                               "neonatal_withdrawal.exposure", "foster_placement.recent_use")


def before_enrolment(s0, dyad, do_mask, do_value):
    """The conditions a burn-in runs under: the population's own, without the study's
    treatment. No sessions or scheduled taper; the mother's MOUD status held at her drawn
    one; no death (she is alive at enrolment); a pregnancy held at the week of enrolment
    (a postpartum enrolment at its last day). Returns the per-dyad constants, the clamps
    and the postpartum day the clock is held at (``birth_day = day - held``)."""
    dyad_b = dict(dyad)
    for k in SKILLS:
        dyad_b[f"{k}.start"] = jnp.full_like(dyad[f"{k}.start"], FAR)
        dyad_b[f"{k}.sessions"] = jnp.zeros_like(dyad[f"{k}.sessions"])
    dyad_b["moud.taper_day"] = jnp.full_like(dyad["moud.taper_day"], FAR)
    mask = {**do_mask, "moud": jnp.asarray(True), "maternal_death": jnp.asarray(True)}
    value = {**do_value, "moud": jnp.where(do_mask["moud"], do_value["moud"], s0["moud"]),
             "maternal_death": jnp.asarray(0.0, jnp.float32)}
    held = jnp.where(dyad["pregnancy"] > 0, jnp.minimum(-dyad["birth_day"], -1),
                     -dyad["birth_day"]).astype(jnp.int32)
    return dyad_b, mask, value, held


def at_enrolment(s0, s_burn, spec, names, days=0):
    """The state a run starts from after a burn-in of ``days`` days: the burned-in maternal
    states, except those the population imposes at enrolment (``Population.at_enrolment``).
    A mother on MOUD at enrolment has been held on it through the burn-in, so she carries
    ``days`` days on treatment (or the population's own draw of ``moud.days_on``): she does
    not behave as a new starter (issue 18 item 5)."""
    s = dict(s0)
    for k in BURNED_IN:
        imposed = spec["at_enrolment"][names.index(k)] if k in names else False
        s[k] = jnp.where(imposed, s0[k], s_burn[k])
    given = spec["given"][names.index("moud.days_on")]
    s["moud.days_on"] = jnp.where(s0["moud"] > 0, jnp.where(given, s0["moud.days_on"], days),
                                  0.0).astype(jnp.float32)
    return s
