"""The engine against what a modeller would otherwise write: the same model as a Mesa 3
agent-based model, one agent per dyad, stepped day by day by Mesa's scheduler.

Same nodes, edges, parameters and daily update: each agent keeps its own state as numpy
arrays and calls the model's own daily update (``dyadsim.model.step.step`` and the outcome
accumulators, compiled once for a single dyad, the declared parameters bound in) with its
own numpy random stream (``SeedSequence(seed).spawn``); initial conditions come from the
population's declared initial distributions (``dyadsim.model.initial.initial_state``). Compiling
the per-agent update makes this reference *faster* than plain per-agent numpy would be, so
the speed-up it shows is a lower bound. The engine runs the same days through
``dyadsim.engine.batch.simulate_batch``.

    python benchmarks/engine_vs_mesa.py --dyads 1000,10000 --days 30

prints one JSON line per dyad count: ``dyads``, ``days`` (the horizon), ``mesa_s`` (one
run), ``engine_s`` (the median of ``--engine-repeats`` runs, each listed in
``engine_s_all``; both warm: compilation excluded), ``speedup``; measured side by side in
one run. ``tests/engine/test_mesa_reference.py`` checks both give the same distributions.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time

import jax
import jax.numpy as jnp
import mesa
import numpy as np

from dyadsim.engine import rng
from dyadsim.engine.batch import Setting, simulate_batch
from dyadsim.model import outcomes
from dyadsim.model.graph import NODE_IDS
from dyadsim.model.initial import init_spec, initial_state
from dyadsim.model.params import Parameters
from dyadsim.model.populations import get_population
from dyadsim.model.schedule import Schedule
from dyadsim.model.step import N_NORMAL, N_UNIFORM, step, unpack_draws

POPULATION, START = "pregnant_oud_moud", "pp0"
#: Outputs compared between the two implementations (final state and accumulated outcomes).
KEY_OUTPUTS = ("craving", "negative_affect", "stress_arousal", "parenting_behavior",
               "use_days", "moud_days")


def setting(days: int) -> Setting:
    """The population without its burn-in before enrolment (on by default since issue 6
    item 9): the Mesa agents start from the drawn initial state, so the engine does too and
    both simulate the same days."""
    pop = get_population(POPULATION).with_overrides(burn_in_days=0)
    return Setting.from_population(pop, start=START, horizon=f"{days - 1}d")


@functools.cache
def _daily_update(days: int):
    """One dyad's day (the model's step and outcome accumulators), parameters bound in,
    compiled once per setting."""
    st = setting(days)
    pars = Parameters({**st.population.params, **st.params})
    p = {k: jnp.float32(v) for k, v in pars.items()}
    no_do = {k: jnp.bool_(False) for k in NODE_IDS}
    zero = {k: jnp.float32(0.0) for k in NODE_IDS}

    @jax.jit
    def daily_update(s, const, acc, day, z, u):
        zz, uu = unpack_draws(z[None], u[None])
        s = step(s, p, const, day, zz, uu, no_do, zero)
        return s, outcomes.update(acc, s, p, const, day, uu, 1.0)
    return daily_update


class DyadAgent(mesa.Agent):
    """One mother-infant dyad: its state, its constants, its outcome accumulators."""

    def __init__(self, model: DyadModel, state: dict, const: dict, acc: dict,
                 seed: np.random.SeedSequence) -> None:
        super().__init__(model)
        self.state, self.const, self.acc = state, const, acc
        self.random_stream = np.random.default_rng(seed)

    def step(self) -> None:
        z = self.random_stream.standard_normal(N_NORMAL, dtype=np.float32)
        u = self.random_stream.random(N_UNIFORM, dtype=np.float32)
        self.state, self.acc = self.model.daily_update(self.state, self.const, self.acc,
                                                       self.model.day, z, u)


class DyadModel(mesa.Model):
    """``n`` dyads of the population, each an agent; ``step()`` is one day."""

    def __init__(self, n: int, days: int, seed: int) -> None:
        super().__init__(seed=seed)
        st = setting(days)
        self.days, self.day = st.total_days, 0
        pars = Parameters({**st.population.params, **st.params})
        p = {k: jnp.float32(v) for k, v in pars.items()}
        names, spec = init_spec(st.population)
        no_do = {k: jnp.bool_(False) for k in NODE_IDS}
        zero = {k: jnp.float32(0.0) for k in NODE_IDS}
        sched = {k: jnp.asarray(v) for k, v in Schedule.none(n).arrays.items()}
        keys = rng.dyad_keys(seed, jnp.arange(n, dtype=jnp.uint32))
        spec = {k: jnp.asarray(v) for k, v in spec.items()}
        s, const = initial_state(rng.init_key(keys), p, spec, names,
                                 bool(st.population.pregnancy), float(st.start_gest_day),
                                 int(st.start_pp_day), sched, no_do, zero)
        acc = outcomes.initial_accumulators(n)
        s, const, acc = (jax.tree.map(np.asarray, x) for x in (s, const, acc))

        self.daily_update = _daily_update(days)
        seeds = np.random.SeedSequence(seed).spawn(n)
        for i in range(n):
            DyadAgent(self, {k: v[i:i + 1] for k, v in s.items()},
                      {k: v[i:i + 1] for k, v in const.items()},
                      {k: v[i:i + 1] for k, v in acc.items()}, seeds[i])

    def step(self) -> None:
        self.agents.do("step")
        self.day += 1

    def run(self) -> None:
        while self.day < self.days:
            self.step()

    def key_outputs(self) -> dict[str, np.ndarray]:
        out = {}
        for k in KEY_OUTPUTS:
            src = "acc" if k in outcomes.ACCUMULATORS else "state"
            out[k] = np.array([float(getattr(a, src)[k][0]) for a in self.agents])
        return out


def engine_outputs(n: int, days: int, seed: int) -> dict[str, np.ndarray]:
    b = simulate_batch(setting(days), [{}], dyads=n, seed=seed)
    return {k: (b.outcomes[k] if k in b.outcomes else b.final[k])[0].astype(np.float64)
            for k in KEY_OUTPUTS}


def mesa_outputs(n: int, days: int, seed: int) -> dict[str, np.ndarray]:
    m = DyadModel(n, days, seed)
    m.run()
    return m.key_outputs()


def main() -> None:
    from dyadsim.engine import configure_jax

    configure_jax()  # an entry point: JAX's settings before the first computation
    ap = argparse.ArgumentParser()
    ap.add_argument("--dyads", default="1000,10000")
    ap.add_argument("--days", type=int, default=30, help="simulated days (from birth)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine-repeats", type=int, default=5,
                    help="timed engine runs (the median is reported)")
    a = ap.parse_args()
    if a.engine_repeats < 1:
        ap.error("--engine-repeats must be >= 1")
    mesa_outputs(4, 2, a.seed)  # compile the per-agent update
    for n in (int(x) for x in a.dyads.split(",")):
        engine_outputs(n, a.days, a.seed)  # compile (one chunk shape, cached)
        engine_all = []
        for _ in range(a.engine_repeats):
            t0 = time.perf_counter()
            engine_outputs(n, a.days, a.seed)
            engine_all.append(time.perf_counter() - t0)
        engine_s = statistics.median(engine_all)
        t0 = time.perf_counter()
        mesa_outputs(n, a.days, a.seed)
        mesa_s = time.perf_counter() - t0
        print(json.dumps({"dyads": n, "days": a.days, "population": POPULATION,
                          "start": START, "mesa_s": round(mesa_s, 3),
                          "engine_s": round(engine_s, 4),
                          "engine_s_all": [round(t, 4) for t in engine_all],
                          "speedup": round(mesa_s / engine_s, 1)}), flush=True)


if __name__ == "__main__":
    main()
