"""The engine: runs the pure daily step over padded chunks of a fixed number of dyads with
``jax.lax.scan`` (one compilation per run shape, whatever the number of dyads), and folds
outcomes and recorded trajectories back to host memory chunk by chunk.

Every chunk has exactly ``CHUNK`` dyads (the last one padded), so a dyad's arithmetic never
depends on how many dyads run beside it (XLA may round differently per array shape).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..model import addiction, infant, outcomes, placement
from ..model._core import RANDOM_EFFECTS
from ..model.graph import NODE_BY_ID, NODE_IDS
from ..model.populations import INIT_TARGETS, Population
from ..model.skills import SKILLS, trait_levels, untrained_level
from ..model.step import ORDER, STATE_KEYS, step, unpack_draws
from . import rng

CHUNK = 512
FAR = 10**8  # a day that never comes (no birth, no MOUD offer, no session)
EVENT_NODES = tuple(n for n in NODE_IDS if NODE_BY_ID[n].dynamics == "event")
RE_NAMES = sorted(set(RANDOM_EFFECTS.values()) | {"re.skill_responsiveness"})
# Per-dyad covariates a population may draw besides the nodes (populations.INIT_TARGETS).
COVARIATE_NAMES = [k for k in INIT_TARGETS if k not in NODE_BY_ID]
_DIST_CODE = {"fixed": 0, "beta": 1, "bernoulli": 2, "normal": 3}
PAIN_CLIP = 1e-3  # keeps the logit of a drawn pain of exactly 0 or 1 finite


def enable_compilation_cache() -> None:
    """Persistent XLA cache (tests and repeated CLI runs skip recompilation)."""
    path = os.environ.get("DYADSIM_JAX_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "dyadsim", "jax"))
    try:
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    except Exception:  # noqa: BLE001 - an unwritable cache only costs speed
        pass


enable_compilation_cache()


@dataclass(frozen=True)
class Schedule:
    """Per-dyad intervention schedule arrays (built by :mod:`dyadsim.interventions`)."""

    arrays: Mapping[str, np.ndarray]

    @staticmethod
    def none(n: int) -> Schedule:
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


def init_spec(pop: Population):
    """Arrays (kind, a, b, round) over STATE_KEYS + covariates for the population."""
    names = list(NODE_IDS) + COVARIATE_NAMES
    kind = np.zeros(len(names), np.int32)
    a = np.zeros(len(names), np.float32)
    b = np.zeros(len(names), np.float32)
    rnd = np.zeros(len(names), bool)
    lo = np.array([NODE_BY_ID[n].lo if n in NODE_BY_ID else 0.0 for n in names], np.float32)
    hi = np.array([NODE_BY_ID[n].hi if n in NODE_BY_ID else 1.0 for n in names], np.float32)
    given = np.zeros(len(names), bool)
    for i, n in enumerate(names):
        d = pop.init.get(n)
        if d is not None:
            kind[i], a[i], b[i], rnd[i], given[i] = _DIST_CODE[d.kind], d.a, d.b, d.round, True
    return names, dict(kind=kind, a=a, b=b, rnd=rnd, lo=lo, hi=hi, given=given)


def _draw_init(key, spec):
    """One dyad's initial values for every init target (vmapped over dyads)."""
    n = spec["kind"].shape[0]
    k1, k2, k3 = jax.random.split(key, 3)
    mean = jnp.clip(spec["a"], 1e-4, 1 - 1e-4)
    var = jnp.maximum(spec["b"] ** 2, 1e-8)
    conc = jnp.maximum(mean * (1 - mean) / var - 1.0, 1e-3)
    beta = jax.random.beta(k1, mean * conc, (1 - mean) * conc, (n,))
    uni = jax.random.uniform(k2, (n,))
    normal = spec["a"] + spec["b"] * jax.random.normal(k3, (n,))
    normal = jnp.where(spec["rnd"], jnp.round(normal), normal)
    value = jnp.select([spec["kind"] == 0, spec["kind"] == 1, spec["kind"] == 2],
                       [spec["a"], beta, (uni < spec["a"]).astype(jnp.float32)], normal)
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


# Infant nodes start at 0 before birth (they begin to move at birth).
_INFANT_ZERO = {"infant_affect_behavior", "infant_positive_affect", "dyadic_synchrony",
                "infant_self_regulation", "attachment", "neonatal_withdrawal", "cps_report",
                "attachment_disorganization"}


def initial_state(keys, p, spec, names, pregnancy, start_gest_day, start_pp_day, sched,
                  do_mask, do_value):
    """Initial state and per-dyad constants, from each dyad's own init stream."""
    c = keys.shape[0]
    ikeys = rng.init_key(keys)
    sub = jax.vmap(lambda k: jax.random.split(k, 3))(ikeys)
    vals = jax.vmap(lambda k: _draw_init(k, spec))(sub[:, 0])
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
        rest = (jnp.zeros(c, jnp.float32) if n in _INFANT_ZERO
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
    for n in NODE_IDS:
        s[n] = jnp.where(do_mask[n], do_value[n], s[n]).astype(jnp.float32)
    offered_pop = vals[:, names.index("moud.offered")] > 0.5
    gest_days = jnp.clip(p["gestation.mean_weeks"] * 7 + p["gestation.sd_weeks"] * 7 * z[:, 0],
                         34 * 7, 42 * 7)
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
        "u.nows": u[:, 0], "u.attach_d": u[:, 1], "u.attach_s": u[:, 2], "u.attach_ar": u[:, 3],
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
    s["neonatal_withdrawal.exposure"] = infant.prenatal_exposure(s, p, dyad)
    return s, dyad


_POSITION = {node: i for i, (node, _) in enumerate(ORDER)}


def _seen(source, target, path, day):
    """What ``target`` read of ``source`` on ``day`` in the world ``path`` was recorded in
    (end-of-day values): today's value when ``source`` is updated before ``target`` in the
    day (Gauss-Seidel order), else yesterday's (NaN on day 0: the shared initial state)."""
    if _POSITION.get(source, -1) < _POSITION[target]:  # context nodes never change
        return path[day]
    return jnp.where(day > 0, path[jnp.maximum(day - 1, 0)], jnp.nan)


@partial(jax.jit, static_argnames=("n_periods", "period", "record"))
def run_chunk(ids, seed, p, spec, pregnancy, start_gest_day, start_pp_day, sched, do_mask,
              do_value, total_days, node_paths=None, edge_paths=None, *, n_periods: int,
              period: int, record: tuple[str, ...]):
    """Simulate one padded chunk for ``total_days`` days (the last recording period may be
    shorter); ``record`` names the nodes whose trajectories are kept (empty: none).
    Returns (trajectories or None, outcomes, final state).

    ``p`` values are scalars or one value per dyad of the chunk (a parameter batch).
    ``node_paths`` ({node: (days, chunk) end-of-day values}) clamps a node to a per-dyad,
    per-day trajectory (a mediator held at its value in another world); ``edge_paths``
    ({target: {source: (days, chunk)}}) makes only the edge ``source -> target`` carry the
    recorded world's value of ``source`` (an edge-level counterfactual, Avin, Shpitser &
    Pearl 2005). NaN in a path: that dyad is not clamped on that day."""
    keys = rng.dyad_keys(seed, ids)
    names = list(NODE_IDS) + COVARIATE_NAMES
    s, dyad = initial_state(keys, p, spec, names, pregnancy, start_gest_day, start_pp_day,
                            sched, do_mask, do_value)
    acc = outcomes.initial_accumulators(ids.shape[0])

    def one_day(day, carry):
        s, acc, events = carry
        z_vec, u_vec = rng.day_draws(keys, day)
        z, u = unpack_draws(z_vec, u_vec)
        mask, value, inputs = do_mask, do_value, None
        if node_paths:
            today = {n: path[day] for n, path in node_paths.items()}
            mask = {**do_mask, **{n: do_mask[n] | ~jnp.isnan(v) for n, v in today.items()}}
            value = {**do_value,
                     **{n: jnp.where(jnp.isnan(v), do_value[n], v) for n, v in today.items()}}
        if edge_paths:
            inputs = {tgt: {src: _seen(src, tgt, path, day) for src, path in by_src.items()}
                      for tgt, by_src in edge_paths.items()}
        s = step(s, p, dyad, day, z, u, mask, value, inputs)
        acc = outcomes.update(acc, s, p, dyad, day, u, 1.0)
        events = {n: events[n] + s[n] for n in EVENT_NODES}
        return s, acc, events

    def one_period(carry, k):
        s, acc = carry
        zeros = {n: jnp.zeros_like(s[n]) for n in EVENT_NODES}
        end = jnp.minimum((k + 1) * period, total_days)
        s, acc, events = jax.lax.fori_loop(k * period, end, one_day, (s, acc, zeros))
        if not record:
            return (s, acc), None
        days = (end - k * period).astype(jnp.float32)
        snap = {n: (events[n] / days if n in EVENT_NODES else s[n]) for n in record}
        snap["postpartum_day"] = end - 1 - dyad["birth_day"]
        return (s, acc), snap

    (s, acc), traj = jax.lax.scan(one_period, (s, acc), jnp.arange(n_periods))
    acc["nows_diagnosed"] = s["neonatal_withdrawal.diagnosed"]
    acc["birth_day"] = dyad["birth_day"].astype(jnp.float32)
    return traj, acc, s


def chunks(n: int, chunk: int = CHUNK):
    """(start, ids) for padded chunks covering dyads 0..n-1."""
    for start in range(0, n, chunk):
        yield start, np.arange(start, start + chunk, dtype=np.uint32)

