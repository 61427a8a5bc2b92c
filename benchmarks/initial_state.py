"""The initial draws of a padded chunk, side by side in one process: beta variates for the
beta-distributed init targets only as the engine draws them (``model/_beta.beta_at``: every
dyad's variates in one vectorised first proposal, JAX's rejection loop only for the rejected
ones), as the engine drew them before issue 10's fourth pass (the same columns, but
``_gamma_one``'s loop per dyad and shape parameter, vmapped over the dyads), and
``jax.random.beta`` over all init targets (before the third pass); and the whole initial
state. Prints one JSON line (milliseconds per chunk, medians).

    python benchmarks/initial_state.py [--population pregnant_oud_moud] [--chunk 512]
        [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial

import jax
import jax.numpy as jnp
from jax._src.random.core import _gamma_one

from dyadsim.engine import CHUNK, rng
from dyadsim.model._beta import beta_at
from dyadsim.model.graph import NODE_IDS
from dyadsim.model.initial import INIT_NAMES, init_spec, initial_state
from dyadsim.model.params import Parameters
from dyadsim.model.populations import get_population
from dyadsim.model.schedule import Schedule


def _ms(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return round(1000 * statistics.median(times), 2)


def loops_per_dyad(key, a, b, cols):
    """One dyad's beta variates at ``cols`` as ``beta_at`` drew them in the third pass:
    ``_gamma_one``'s rejection loop per shape parameter, vmapped over the columns."""
    def log_gamma(key, alpha):
        keys = jax.random.wrap_key_data(jax.random.split(key, alpha.shape[0])[cols])
        return jax.vmap(partial(_gamma_one, log_space=True))(keys, alpha[cols])

    key_a, key_b = jax.random.split(key)
    log_a, log_b = log_gamma(key_a, a), log_gamma(key_b, b)
    top = jnp.maximum(log_a, log_b)
    ga, gb = jnp.exp(log_a - top), jnp.exp(log_b - top)
    return jnp.zeros_like(a).at[cols].set(ga / (ga + gb))


def main() -> None:
    from dyadsim.engine import configure_jax

    configure_jax()  # an entry point: JAX's settings before the first computation
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", default="pregnant_oud_moud")
    ap.add_argument("--chunk", type=int, default=CHUNK, help="dyads per chunk")
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    if a.chunk < 1 or a.repeats < 1:
        ap.error("--chunk and --repeats must be >= 1")
    pop = get_population(a.population)
    _, spec = init_spec(pop)
    spec = {k: jnp.asarray(v) for k, v in spec.items()}
    mean = jnp.clip(spec["a"], 1e-4, 1 - 1e-4)
    conc = jnp.maximum(mean * (1 - mean) / jnp.maximum(spec["b"] ** 2, 1e-8) - 1.0, 1e-3)
    alpha, beta = mean * conc, (1 - mean) * conc
    keys = rng.init_key(rng.dyad_keys(0, jnp.arange(a.chunk, dtype=jnp.uint32)))
    p = {k: jnp.float32(v) for k, v in Parameters(pop.params).items()}
    sched = {k: jnp.asarray(v) for k, v in Schedule.none(a.chunk).arrays.items()}
    no_do = {k: jnp.bool_(False) for k in NODE_IDS}
    zero = {k: jnp.float32(0.0) for k in NODE_IDS}

    some = jax.jit(lambda k: beta_at(k, alpha, beta, spec["beta_cols"]))
    per_dyad = jax.jit(jax.vmap(lambda k: loops_per_dyad(k, alpha, beta, spec["beta_cols"])))
    every = jax.jit(jax.vmap(lambda k: jax.random.beta(k, alpha, beta, alpha.shape)))
    gw20, not_postpartum = 140.0, -1  # enrolment at gestational day 140; no postpartum start
    state = jax.jit(lambda k: initial_state(k, p, spec, INIT_NAMES, bool(pop.pregnancy),
                                            gw20, not_postpartum, sched, no_do, zero))
    print(json.dumps({
        "population": a.population, "chunk": a.chunk,
        "init_targets": int(alpha.shape[0]), "beta_targets": int((spec["kind"] == 1).sum()),
        "beta_every_target_ms": _ms(lambda: every(keys), a.repeats),
        "beta_loops_per_dyad_ms": _ms(lambda: per_dyad(keys), a.repeats),
        "beta_at_beta_targets_ms": _ms(lambda: some(keys), a.repeats),
        "initial_state_ms": _ms(lambda: state(keys), a.repeats)}))


if __name__ == "__main__":
    main()
