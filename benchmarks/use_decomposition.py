"""Where the variance of the daily use logit comes from (issue 18 item 1).

The logit of a use day (``model/addiction.opioid_use``) is a sum of terms:

- static (person-level, constant over the run): ``opioid_use.bias``, the person's random
  intercept ``opioid_use.trait`` (``individual.use_propensity_sd``) and the ACE term;
- dynamic (states the day-to-day mechanisms move): craving (with its executive-control and
  mindfulness gains), the automatic cue x schema path, MOUD and pain.

For ``--dyads`` dyads of ``--population`` (default the untreated pregnant preset, enrolled at
its default start after the preset's burn-in) the script re-runs the engine's step for
``--days`` days (default 126: gw20 to gw38, the pregnancy), rebuilds each day's logit
from the states the use draw saw (nodes updated before ``opioid_use`` in the day's order
at today's value, the others at yesterday's) and prints, over all dyad-days, the variance
of the logit, of its dynamic and static parts, the dynamic share
Var(dynamic) / Var(logit), the within-person share, and the use-day share.

    PYTHONPATH=src .venv/bin/python benchmarks/use_decomposition.py --dyads 1000
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np

from dyadsim.engine import rng
from dyadsim.engine.burn_in import enrolment_states
from dyadsim.model import addiction
from dyadsim.model._core import level, weight
from dyadsim.model.initial import INIT_NAMES, init_spec, initial_state
from dyadsim.model.params import Parameters
from dyadsim.model.populations import get_population
from dyadsim.model.schedule import Schedule
from dyadsim.model.step import UPDATE_ORDER, step, unpack_draws
from dyadsim.timepoints import parse_start

BEFORE_USE = set(UPDATE_ORDER[:UPDATE_ORDER.index("opioid_use")])
DYNAMIC_EDGES = ("craving", "moud", "chronic_pain")


def components(s_today, s_prev, p, dyad, day):
    """The logit's terms on ``day`` as the use draw saw them."""
    seen = {k: (s_today[k] if k in BEFORE_USE else s_prev[k]) for k in s_today}
    out = {
        "trait": dyad["opioid_use.trait"],
        "aces": weight("aces", "opioid_use", seen, p, dyad) * level("aces", seen["aces"]),
        "craving": weight("craving", "opioid_use", seen, p, dyad) * seen["craving"],
        "automatic": addiction._cue_x_schema("opioid_use", seen, p, dyad),
        "moud": -weight("moud", "opioid_use", seen, p, dyad) * seen["moud"],
        "chronic_pain": weight("chronic_pain", "opioid_use", seen, p, dyad)
        * seen["chronic_pain"],
    }
    return out


def run(population: str, dyads: int, days: int, seed: int, params: dict) -> dict:
    pop = get_population(population)
    pars = Parameters({**pop.params, **params})
    names, spec = init_spec(pop)
    start_gd, start_pp = parse_start(None, pop.pregnancy, pop.default_start)
    sched = Schedule.none(dyads).arrays
    from dyadsim.model.graph import NODE_IDS
    do_mask = {k: np.bool_(False) for k in NODE_IDS}
    do_value = {k: np.float32(0.0) for k in NODE_IDS}
    ids = np.arange(dyads, dtype=np.uint32)
    enrolled = enrolment_states(ids, seed, pars.to_dict(), {}, spec, bool(pop.pregnancy),
                                float(start_gd), int(start_pp), sched, do_mask, do_value,
                                pop.burn_in_days)
    p = {k: jnp.float32(v) for k, v in pars.items()}

    @jax.jit
    def go(ids):
        keys = rng.dyad_keys(seed, ids)
        s, dyad = initial_state(rng.init_key(keys), p, spec, INIT_NAMES, bool(pop.pregnancy),
                                float(start_gd), int(start_pp), sched, do_mask, do_value)
        s = {**s, **{k: jnp.asarray(v) for k, v in enrolled.items()}}

        def one_day(s, day):
            z, u = unpack_draws(*rng.day_draws(keys, day))
            s_new = step(s, p, dyad, day, z, u, do_mask, do_value)
            comp = components(s_new, s, p, dyad, day)
            comp["use"] = s_new["opioid_use"]
            comp["alive"] = 1.0 - s_new["maternal_death"]
            return s_new, comp

        _, comp = jax.lax.scan(one_day, s, jnp.arange(days))
        return comp

    comp = {k: np.asarray(v) for k, v in go(ids).items()}  # (days, dyads)
    alive = comp.pop("alive") > 0
    use = comp.pop("use")
    static = comp["trait"] + comp["aces"]
    dynamic = comp["craving"] + comp["automatic"] + comp["moud"] + comp["chronic_pain"]
    total = static + dynamic
    m = alive
    var_total = float(total[m].var())
    person_mean = np.where(m, total, np.nan)
    within = float(np.nanmean(np.nanvar(person_mean, axis=0)))
    return {
        "population": population, "dyads": dyads, "days": days,
        "var_logit": round(var_total, 4),
        "var_dynamic": round(float(dynamic[m].var()), 4),
        "var_static": round(float(static[m].var()), 4),
        "var_trait": round(float(comp["trait"][m].var()), 4),
        "dynamic_share": round(float(dynamic[m].var()) / var_total, 3),
        "within_person_share": round(within / var_total, 3),
        "term_sd": {k: round(float(v[m].std()), 3) for k, v in comp.items()},
        "use_day_share": round(float(use[m].mean()), 3),
        "median_person_use_share": round(float(np.median(use.mean(axis=0))), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", default="pregnant_oud_no_moud")
    ap.add_argument("--dyads", type=int, default=1000)
    ap.add_argument("--days", type=int, default=126)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args()
    params = {k: float(v) for k, v in (s.split("=", 1) for s in a.set)}
    print(json.dumps(run(a.population, a.dyads, a.days, a.seed, params)))


if __name__ == "__main__":
    main()
