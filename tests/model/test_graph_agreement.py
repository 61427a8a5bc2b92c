"""The dynamics agree with the graph.

Each node's mechanism function is probed directly on random states: changing a declared
parent must change the node's update (for some dyads), changing any other node must leave
it bit-for-bit unchanged, and each of the node's edge weights must matter. This is the
one-step (direct-effect) structure of the step, so a node can never move another without a
declared edge, and a declared edge can never be dead code.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dyadsim.model.graph import EDGES, NODE_BY_ID, NODE_IDS, SKILLS, parents
from dyadsim.model.params import PARAMS
from dyadsim.model.step import MECHANISM, NOISE_NODES, ORDER, STATE_KEYS, SUBSTATES, UNIFORMS

N = 2048


def _random_state(rng):
    s = {}
    for k in STATE_KEYS:
        node = NODE_BY_ID.get(k)
        lo, hi = (node.lo, node.hi) if node else (0.0, 1.0)
        s[k] = jnp.asarray(rng.uniform(lo, hi, N), jnp.float32)
    return s


def _world(seed=0):
    rng = np.random.default_rng(seed)
    s = _random_state(rng)
    # MOUD: off for some dyads (start events), a taper under way for some (0/1 flag)
    s["moud"] = jnp.where(jnp.asarray(rng.uniform(size=N) < 0.25), 0.0, s["moud"])
    s["moud.tapering"] = jnp.asarray(rng.integers(0, 2, N), jnp.float32)
    p = {k: jnp.float32(v.default) for k, v in PARAMS.items()}
    # Events at mid-range probabilities, so a changed input flips some Bernoulli draws.
    for n in NODE_IDS:
        if NODE_BY_ID[n].dynamics == "event":
            p[f"{n}.bias"] = jnp.float32(0.0)
    p["moud.start_logit"] = p["moud.stop_logit"] = jnp.float32(-1.0)
    p["moud.stop_early_logit"] = jnp.float32(0.0)
    pp = rng.integers(-60, 400, N)
    pp[: N // 8] = rng.integers(0, 8, N // 8)  # first postpartum week (windowed edges)
    pp[N // 8: N // 4] = 0  # the day of birth
    pp[N // 4: N // 2] = rng.integers(-200, 0, N // 4)  # pregnancy
    dyad = {
        "birth_day": jnp.asarray(-pp, jnp.int32),  # day 0 of the run
        "gestation_days": jnp.full(N, 270.0),
        "pregnancy": jnp.ones(N),
        "moud.offer_day": jnp.zeros(N, jnp.int32),
        "re.neuroadaptation": jnp.asarray(rng.lognormal(0, 0.3, N), jnp.float32),
        "re.skill_responsiveness": jnp.ones(N),
        "tx.attendance": jnp.full(N, 0.9),
        "tx.practice": jnp.full(N, 0.9),
        "tx.from_birth": jnp.zeros(N, jnp.int32),
        "u.nows": jnp.asarray(rng.uniform(size=N), jnp.float32),
        "maternal_hormones.trait": jnp.zeros(N),
        "motivation_for_change.trait": jnp.zeros(N),
        "opioid_use.trait": jnp.asarray(rng.normal(0, 1, N), jnp.float32),
        "cognitive_appraisal.trait": jnp.asarray(rng.normal(0, 0.5, N), jnp.float32),
        "child_wellbeing.physical_trait": jnp.asarray(rng.normal(0, 0.6, N), jnp.float32),
        "attachment.temperament": jnp.asarray(rng.normal(0, 0.6, N), jnp.float32),
        "mindfulness.trait": jnp.asarray(rng.uniform(0.1, 0.6, N), jnp.float32),
        "reappraisal.trait": jnp.asarray(rng.uniform(0.1, 0.6, N), jnp.float32),
        "moud.buprenorphine": jnp.asarray(rng.integers(0, 2, N), jnp.float32),
        "moud.taper_day": jnp.asarray(rng.integers(0, 2, N), jnp.int32),
    }
    for k in SKILLS:
        dyad[f"{k}.start"] = jnp.zeros(N, jnp.int32)
        dyad[f"{k}.sessions"] = jnp.full(N, 8, jnp.int32)
    # life course (infant.py, placement.py): prenatal history, substitute caregiver, SSP draws
    dyad.update({k: jnp.asarray(rng.uniform(size=N), jnp.float32) for k in (
        "prenatal.use_share", "caregiver.parenting", "u.attach_d", "u.attach_ar")})
    p["foster_placement.reunification_logit"] = jnp.float32(-1.0)
    # half the infants not yet classified, so the 12-month draw happens for some
    s["attachment_classification"] = jnp.where(jnp.asarray(rng.uniform(size=N) < 0.5), 0.0,
                                               s["attachment_classification"])
    clock = {"day": jnp.int32(0), "postpartum_day": jnp.asarray(pp, jnp.int32)}
    z = {n: jnp.asarray(rng.normal(size=N), jnp.float32) for n in NOISE_NODES}
    u = {n: jnp.asarray(rng.uniform(size=N), jnp.float32) for n in UNIFORMS}
    return rng, s, p, dyad, clock, z, u


def _run(node, s, p, dyad, clock, z, u):
    out = MECHANISM[node](s, p, dyad, clock, z, u)
    return {k: np.asarray(v) for k, v in out.items()}


def _owned(node):
    return {node, *SUBSTATES.get(node, ())}


DYNAMIC = [n for n, _ in ORDER]


def test_order_updates_every_non_context_node_once():
    non_context = [n for n in NODE_IDS if NODE_BY_ID[n].dynamics != "context"]
    assert sorted(DYNAMIC) == sorted(non_context)


@pytest.mark.parametrize("node", DYNAMIC)
def test_mechanism_reads_exactly_its_declared_parents(node):
    rng, s, p, dyad, clock, z, u = _world()
    base = _run(node, s, p, dyad, clock, z, u)
    declared = parents(node)
    for other in NODE_IDS:
        if other in _owned(node):
            continue
        lo, hi = NODE_BY_ID[other].lo, NODE_BY_ID[other].hi
        s2 = dict(s)
        s2[other] = jnp.asarray(rng.uniform(lo, hi, N), jnp.float32)
        out = _run(node, s2, p, dyad, clock, z, u)
        moved = any(not np.array_equal(base[k], out[k]) for k in base)
        if other in declared:
            assert moved, f"declared edge {other} -> {node} has no effect in the step"
        else:
            assert not moved, f"{other} moves {node} without a declared edge"
    # substates of other nodes are private to them
    for owner, subs in SUBSTATES.items():
        if owner == node:
            continue
        for k in subs:
            s2 = dict(s)
            s2[k] = jnp.asarray(rng.uniform(0, 1, N), jnp.float32)
            out = _run(node, s2, p, dyad, clock, z, u)
            assert all(np.array_equal(base[x], out[x]) for x in base), (
                f"{node} reads {k}, private state of {owner}")


@pytest.mark.parametrize("edge", EDGES, ids=lambda e: e.weight_name)
def test_every_edge_weight_is_used_by_its_target(edge):
    _, s, p, dyad, clock, z, u = _world(1)
    base = _run(edge.target, s, p, dyad, clock, z, u)
    p2 = dict(p)
    p2[edge.weight_name] = jnp.float32(0.0) if edge.weight > 0 else jnp.float32(1.0)
    out = _run(edge.target, s, p2, dyad, clock, z, u)
    assert any(not np.array_equal(base[k], out[k]) for k in base), (
        f"knocking out {edge.weight_name} changes nothing")


def test_step_is_pure_and_jittable():
    from dyadsim.model.step import step

    _, s, p, dyad, clock, z, u = _world(2)
    do_mask = {k: jnp.bool_(False) for k in NODE_IDS}
    do_val = {k: jnp.float32(0) for k in NODE_IDS}
    f = jax.jit(step)
    a = f(s, p, dyad, jnp.int32(0), z, u, do_mask, do_val)
    b = f(s, p, dyad, jnp.int32(0), z, u, do_mask, do_val)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    do_mask = dict(do_mask, craving=jnp.bool_(True))
    do_val = dict(do_val, craving=jnp.float32(0.25))
    c = f(s, p, dyad, jnp.int32(0), z, u, do_mask, do_val)
    assert np.all(np.asarray(c["craving"]) == np.float32(0.25))
