"""Global sensitivity analysis (Section 3 of issue 10) with SALib over the declared
parameter bounds: Sobol first- and total-order indices (Saltelli 2010 sampling, Jansen
estimators) or Morris elementary effects (mu*, sigma), each with bootstrap 95% intervals.

The model output of a parameter set is the mean of an outcome over the same simulated dyads
(common random numbers across sets, so index estimates are not swamped by between-set
sampling noise). Parameter sets are evaluated in blocks, each block one parameter batch of
the engine; finished blocks are checkpointed atomically, so a killed run resumes to the same
result (:func:`run`). The sampling/analysis pipeline is generic over the evaluator
(``tests/analysis/test_sensitivity.py`` recovers the Ishigami indices with it).

Over a posterior (:func:`unit_problem`): SALib samples the unit cube and each column is
mapped through the inverse CDF of the parameter's posterior marginal
(:func:`dyadsim.analysis.posterior.marginal_ppf`), the parameters treated as independent; the
others sit at the posterior's point values. Sobol indices are unchanged by these monotone
maps, so they are the indices of the parameters under their posterior marginals; Morris
effects are per unit of quantile.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine.batch import Setting, simulate_batch
from ..model.params import PARAMS
from ..parallel import map_tasks
from .outcomes import get_outcome

METHODS = ("sobol", "morris")
#: Parameter sets per engine call (a task and a checkpoint).
BLOCK = 32
NUM_RESAMPLES = 200
MORRIS_LEVELS = 4

Evaluator = Callable[[np.ndarray], np.ndarray]  # (sets, params) -> (sets, outputs)


def problem(names: Sequence[str]) -> dict:
    """The SALib problem over the declared bounds of ``names``."""
    bad = [n for n in names if n not in PARAMS]
    if bad:
        raise ValueError(f"unknown parameter(s): {', '.join(bad)} (see `dyadsim params`)")
    if len(set(names)) != len(names) or len(names) < 2:
        raise ValueError("give at least two distinct parameters")
    return {"num_vars": len(names), "names": list(names),
            "bounds": [[PARAMS[n].lo, PARAMS[n].hi] for n in names]}


def unit_problem(prob: dict) -> dict:
    """``prob`` on the unit cube: each coordinate is a parameter's quantile."""
    return {**prob, "bounds": [[0.0, 1.0]] * prob["num_vars"]}


def sample(prob: dict, method: str, n: int, seed: int) -> np.ndarray:
    """Saltelli/Sobol' (n x (d + 2) sets, first and total order) or Morris (n trajectories)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "sobol":
        from SALib.sample import sobol

        if n < 2 or n & (n - 1):
            raise ValueError(f"Sobol base samples must be a power of two >= 2, got {n}")
        return sobol.sample(prob, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    if n < 2:
        raise ValueError(f"Morris needs at least 2 trajectories, got {n}")
    return morris.sample(prob, n, num_levels=MORRIS_LEVELS, seed=seed)


def analyze(prob: dict, method: str, x: np.ndarray, y: np.ndarray, outputs: Sequence[str],
            seed: int) -> pd.DataFrame:
    """One row per (output, parameter) with the indices and their bootstrap 95% intervals;
    the bootstrap of each output draws from a generator seeded with ``seed`` (a Generator,
    not the integer: SALib's Sobol analysis ignores a seed of 0 and would resample at
    random)."""
    from SALib.analyze import morris, sobol

    rows = []
    for k, out in enumerate(outputs):
        if method == "sobol":
            r = sobol.analyze(prob, y[:, k], calc_second_order=False,
                              num_resamples=NUM_RESAMPLES, conf_level=0.95,
                              seed=np.random.default_rng(seed))
            for i, name in enumerate(prob["names"]):
                rows.append({"outcome": out, "parameter": name,
                             "S1": r["S1"][i], "S1_low": r["S1"][i] - r["S1_conf"][i],
                             "S1_high": r["S1"][i] + r["S1_conf"][i],
                             "ST": r["ST"][i], "ST_low": r["ST"][i] - r["ST_conf"][i],
                             "ST_high": r["ST"][i] + r["ST_conf"][i]})
        else:
            r = morris.analyze(prob, x, y[:, k], num_resamples=NUM_RESAMPLES,
                               conf_level=0.95, num_levels=MORRIS_LEVELS,
                               seed=np.random.default_rng(seed))
            for i, name in enumerate(prob["names"]):
                rows.append({"outcome": out, "parameter": name, "mu_star": r["mu_star"][i],
                             "mu_star_low": r["mu_star"][i] - r["mu_star_conf"][i],
                             "mu_star_high": r["mu_star"][i] + r["mu_star_conf"][i],
                             "mu": r["mu"][i], "sigma": r["sigma"][i]})
    return pd.DataFrame(rows)


def _save(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, path)


def evaluate(x: np.ndarray, block_fn: Callable[[np.ndarray], np.ndarray], *,
             checkpoint: Path | None, pool=None, block: int = BLOCK,
             fingerprint: str = "",
             progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Outputs for every row of ``x`` in blocks; with ``checkpoint`` each finished block is
    saved atomically and a rerun computes only the missing ones (same result: a block's
    output depends only on its rows). ``fingerprint`` guards against resuming another run."""
    starts = list(range(0, len(x), block))
    have: dict[int, np.ndarray] = {}
    if checkpoint is not None:
        checkpoint.mkdir(parents=True, exist_ok=True)
        stamp = checkpoint / "run.txt"
        if stamp.exists() and stamp.read_text() != fingerprint:
            raise ValueError(f"checkpoint {checkpoint} belongs to another run; remove it or "
                             "use the same options")
        stamp.write_text(fingerprint)
        for i in range(len(starts)):
            f = checkpoint / f"block_{i:06d}.npy"
            if f.exists():
                have[i] = np.load(f)
    todo = [i for i in range(len(starts)) if i not in have]
    if progress is not None and have:
        progress(sum(min(block, len(x) - starts[i]) for i in have))

    def done(j: int, res: np.ndarray) -> None:
        i = todo[j]
        if checkpoint is not None:
            _save(checkpoint / f"block_{i:06d}.npy", res)
        if progress is not None:
            progress(len(res))

    results = map_tasks(block_fn, [(x[starts[i]:starts[i] + block],) for i in todo], pool, done)
    have.update(zip(todo, results, strict=True))
    return np.concatenate([have[i] for i in range(len(starts))])


class ModelBlock:
    """Picklable evaluator: mean outcomes over the same dyads for a block of parameter sets
    (one engine batch). ``shift``: the values are draws of a posterior, applied to the
    population as calibration applies them (a value the population sets itself moves by the
    draw's departure from the default, :func:`dyadsim.model.params.run_parameters`); the
    sets are the batch's parameter sets, above the setting's own parameters.
    """

    def __init__(self, setting: Setting, names: Sequence[str], outcomes: Sequence[str],
                 dyads: int, seed: int, shift: bool = False) -> None:
        for o in outcomes:
            get_outcome(o)
        self.setting, self.names, self.outcomes = setting, list(names), list(outcomes)
        self.dyads, self.seed, self.shift = dyads, seed, shift

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from ..model.params import run_parameters

        own = {k: v for k, v in self.setting.population.params.items() if k in self.names} \
            if self.shift else {}
        sets = [run_parameters(own, theta={n: float(v) for n, v in zip(self.names, row,
                                                                        strict=True)})
                for row in x]
        b = simulate_batch(self.setting, sets, dyads=self.dyads, seed=self.seed)
        return np.column_stack([np.nanmean(get_outcome(o).value(b.outcomes, b.final), axis=1)
                                for o in self.outcomes])


def fingerprint(**options) -> str:
    return hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()
