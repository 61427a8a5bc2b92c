"""The shared forms of the dynamics: weighted parent input, relaxation, events.

A node's input is the weighted sum of its parents (DESIGN.md s2): for every declared edge
into it with ``term == "sum"``, ``sign * weight * gain * window * level(source)``, where
``gain`` is the product of the moderators declared on that edge and ``level`` is the
source's value scaled to [0, 1] by its declared range. Fast and slow nodes relax towards
the logistic of their input with their own time constant (a continuous-time recurrent
network, as in ctsem's drift); events are Bernoulli draws whose probability is the
logistic of their input.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
from jax import Array
from jax.nn import sigmoid

from .graph import EDGES, NODE_BY_ID, Edge

State = dict[str, Array]
P = Mapping[str, Array]

# Per-dyad random effects on edge weights ("for some mothers", Reese 2021 abstract).
RANDOM_EFFECTS: dict[tuple[str, str], str] = {
    ("opioid_use", "stress_sensitization"): "re.neuroadaptation",
    ("opioid_use", "natural_reward_responsiveness"): "re.neuroadaptation",
    ("opioid_use", "drug_reward_salience"): "re.neuroadaptation",
}

_DIRECT: dict[str, list[Edge]] = {}
_GAINS: dict[tuple[str, str], list[Edge]] = {}
_EDGE: dict[tuple[str, str], Edge] = {}
for _e in EDGES:
    if _e.type == "gain":
        for _m in _e.modulates:
            _GAINS.setdefault((_m, _e.target), []).append(_e)
    else:
        _EDGE[(_e.source, _e.target)] = _e
        if _e.term == "sum":
            _DIRECT.setdefault(_e.target, []).append(_e)


def level(node: str, x: Array) -> Array:
    """A node's value scaled to [0, 1] by its declared range."""
    n = NODE_BY_ID[node]
    if n.lo == 0.0 and n.hi == 1.0:
        return x
    return (x - n.lo) / (n.hi - n.lo)


def gain_reference(moderator: str, p: P) -> Array | float:
    """The level of a moderator at which the edges it gains carry their own weight
    (issue 18 item 1): executive control at its resting level (logistic of its bias), trait
    mindfulness at the population's untrained level (``skill.baseline``). The weights of
    the edges these two moderate come from odds ratios measured in people at their typical
    control and mindfulness (Tsui 2014, McHugh 2014: treatment samples, untrained), so the
    cited odds ratio holds there and the moderator scales the edge around it. Other
    moderators (impediments, hormones, savoring, programmes) are 0 when absent: reference 0."""
    if moderator == "executive_control":
        return sigmoid(p["executive_control.bias"])
    if moderator == "mindfulness":
        return p["skill.baseline"]
    return 0.0


def gain(source: str, target: str, s: State, p: P) -> Array | float:
    """Product of the moderators declared on the edge ``source -> target``.

    A moderator with the same sign as the edge strengthens it (``exp(+w (x - x0))``); one
    with the opposite sign weakens it (``exp(-w (x - x0))``), ``x0`` its reference level
    (:func:`gain_reference`; 0 for most moderators).
    """
    g: Array | float = 1.0
    edge = _EDGE[(source, target)]
    for m in _GAINS.get((source, target), ()):
        k = 1.0 if m.sign == edge.sign else -1.0
        x = level(m.source, s[m.source]) - gain_reference(m.source, p)
        g = g * jnp.exp(k * p[m.weight_name] * x)
    return g


def weight(source: str, target: str, s: State, p: P, dyad: State) -> Array:
    """Effective magnitude of the edge ``source -> target``: weight x moderators x random
    effect of this dyad."""
    w = p[_EDGE[(source, target)].weight_name] * gain(source, target, s, p)
    re = RANDOM_EFFECTS.get((source, target))
    if re is not None:
        w = w * dyad[re]
    return w


def drive(target: str, s: State, p: P, dyad: State, clock: State) -> Array:
    """Weighted sum of the declared ``sum``-term parents of ``target``."""
    total = jnp.zeros_like(clock["postpartum_day"], dtype=jnp.float32)
    for e in _DIRECT.get(target, ()):
        term = e.sign_value * weight(e.source, target, s, p, dyad) * level(e.source, s[e.source])
        if e.window is not None:
            pp = clock["postpartum_day"]
            term = jnp.where((pp >= e.window[0]) & (pp < e.window[1]), term, 0.0)
        total = total + term
    return total


def rate(tau: Array) -> Array:
    """Fraction of the gap closed in one day by a relaxation with time constant ``tau``."""
    return 1.0 - jnp.exp(-1.0 / tau)


def relax(x: Array, target: Array, tau: Array) -> Array:
    return x + (target - x) * rate(tau)


def relax_asym(x: Array, target: Array, tau_up: Array, tau_down: Array) -> Array:
    return x + (target - x) * jnp.where(target > x, rate(tau_up), rate(tau_down))


def fast(node: str, s: State, p: P, dyad: State, clock: State, z: Array | float,
         extra: Array | float = 0.0) -> Array:
    """Relax ``node`` towards logistic(bias + person intercept + parent drive + extra +
    noise); the intercept (``<node>.intercept``) exists for the nodes of
    :data:`dyadsim.model.initial.PERSON_INTERCEPTS`."""
    logit = p[f"{node}.bias"] + drive(node, s, p, dyad, clock) + extra
    if f"{node}.intercept" in dyad:
        logit = logit + dyad[f"{node}.intercept"]
    if f"{node}.noise" in p:
        logit = logit + p[f"{node}.noise"] * z
    target = sigmoid(logit)
    if f"{node}.tau_down" in p:
        return relax_asym(s[node], target, p[f"{node}.tau"], p[f"{node}.tau_down"])
    return relax(s[node], target, p[f"{node}.tau"])


def relax_node(node: str):
    """The default mechanism of a ``relax`` node (chosen by ``Node.dynamics`` in
    :mod:`dyadsim.model.step`): :func:`fast` with the node's own process noise (none for a
    node declared without noise)."""
    def mechanism(s: State, p: P, dyad: State, clock: State, z: Mapping[str, Array],
                  u: Mapping[str, Array]) -> State:
        return {node: fast(node, s, p, dyad, clock, z.get(node, 0.0))}
    mechanism.__name__ = mechanism.__qualname__ = f"relax_node[{node}]"
    return mechanism


def event_node(node: str):
    """The default mechanism of an ``event`` node: a Bernoulli draw (:func:`event`) with
    the node's own uniform draw (``Node.draws``)."""
    def mechanism(s: State, p: P, dyad: State, clock: State, z: Mapping[str, Array],
                  u: Mapping[str, Array]) -> State:
        return {node: event(node, s, p, dyad, clock, u[node])}
    mechanism.__name__ = mechanism.__qualname__ = f"event_node[{node}]"
    return mechanism


def event(node: str, s: State, p: P, dyad: State, clock: State, u: Array,
          extra: Array | float = 0.0) -> Array:
    """A Bernoulli event with probability logistic(bias + parent drive + extra)."""
    prob = sigmoid(p[f"{node}.bias"] + drive(node, s, p, dyad, clock) + extra)
    return (u < prob).astype(jnp.float32)
