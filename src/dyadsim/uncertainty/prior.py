"""The prior over every declared parameter, the posterior file, and how a parameter set is
applied to a study's population.

Prior (a declared choice; ``docs/calibration.md``): every parameter of
:data:`dyadsim.model.params.PARAMS` is uncertain, with a PERT distribution (a scaled beta,
Vose 2008 ch. 9) between its declared bounds whose mode is its declared default, shape
lambda = 4: the classical three-point estimate (minimum, most likely, maximum) for an
elicited quantity. A parameter whose bounds span a factor of 20 or more with a positive
lower bound (time constants, declared as default / 10 to default x 10) is PERT on the log
scale, so the default stays the median-ish value rather than a low tail. Draws are a
Latin hypercube: each parameter's column is stratified (one draw in each 1/n of its
prior's probability) and comes from its own stream, keyed by the seed and the parameter's
name, so adding or removing a parameter moves no other parameter's draws (a scrambled
Sobol sequence over all parameters at once, used before, reshuffled every draw whenever the
model gained a parameter). Every parameter varies in every draw, so parameters no target
informs are marginalised, not frozen.

Posterior file (JSON; written by the calibration, read here)::

    {"format": "dyadsim-posterior", "format_version": 1,
     "dyadsim_version": "0.1.0", "method": "...", "budget": {...},
     "targets_hash": "<sha256 of the targets it was fitted to>",
     "created_utc": "...", "seed": 1,
     "parameters": ["name", ...],          # the calibrated parameters
     "samples": [[v, ...], ...],           # one row per sample, columns as parameters
     "weights": [w, ...],                  # non-negative, need not sum to 1
     "others": "prior",                    # optional: "prior" (default) or "default"
     "diagnostics": {...}}                 # optional: ESS, R-hat, active sets, emulators

Parameters the file does not list stay at their prior: a posterior draw is a weighted
resample of the rows (systematic resampling) completed with prior draws of the rest (or,
with ``"others": "default"``, for a calibration restricted to some parameters, with the
rest at their declared defaults). A calibration by MCMC (:mod:`dyadsim.calibration.mcmc`)
writes equally weighted rows, the parameters the fit does not inform held at their
defaults (``"others": "default"``), and its convergence diagnostics; :func:`effective_size`
is the figure a user is warned about (or refused) below :data:`MIN_ESS`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..model.params import PARAMS, Param, apply_to_population

__all__ = [
    "MIN_ESS",
    "PERT_LAMBDA",
    "POSTERIOR_FORMAT",
    "Posterior",
    "PosteriorError",
    "apply_to_population",
    "effective_size",
    "ess_problem",
    "load_posterior",
    "prior_draws",
    "prior_interval",
    "prior_scale",
    "shipped_posterior_path",
]

PERT_LAMBDA = 4.0
#: Below this effective sample size a posterior is not fit for use (issue 19 item 10).
MIN_ESS = 100.0
POSTERIOR_FORMAT = "dyadsim-posterior"
POSTERIOR_FORMAT_VERSION = 1


class PosteriorError(ValueError):
    """A posterior file is missing or malformed (one line)."""


def prior_scale(p: Param) -> str:
    """The scale a parameter's prior is on (:attr:`dyadsim.model.params.Param.scale`)."""
    return p.scale


def _to_scale(p: Param, v: np.ndarray | float):
    return np.log(v) if prior_scale(p) == "log" else v


def _from_scale(p: Param, v: np.ndarray | float):
    return np.exp(v) if prior_scale(p) == "log" else v


def _pert_ppf(p: Param, u: np.ndarray) -> np.ndarray:
    from scipy import stats

    lo, mode, hi = (_to_scale(p, x) for x in (p.lo, p.default, p.hi))
    if hi <= lo:
        return np.full(u.shape, p.default)
    a = 1.0 + PERT_LAMBDA * (mode - lo) / (hi - lo)
    b = 1.0 + PERT_LAMBDA * (hi - mode) / (hi - lo)
    x = _from_scale(p, lo + (hi - lo) * stats.beta.ppf(u, a, b))
    return np.clip(x, p.lo, p.hi)


def _unit_column(name: str, n: int, seed: int) -> np.ndarray:
    """``n`` stratified uniforms for the parameter ``name`` (a Latin-hypercube column): one
    in each interval [i/n, (i+1)/n), in random order, from a stream keyed by ``seed`` and
    the name alone."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(key,)))
    return (rng.permutation(n) + rng.uniform(size=n)) / n


def prior_draws(n: int, seed: int, names: Sequence[str] | None = None) -> list[dict[str, float]]:
    """``n`` parameter sets from the prior (a Latin hypercube, each parameter's column from
    its own seeded stream: see the module docstring): one dict per draw over ``names``
    (default: every declared parameter)."""
    if n < 1:
        raise ValueError("the number of prior draws must be positive")
    names = list(PARAMS) if names is None else list(names)
    cols = {k: _pert_ppf(PARAMS[k], np.clip(_unit_column(k, n, seed), 1e-12, 1 - 1e-12))
            for k in names}
    return [{k: float(cols[k][i]) for k in names} for i in range(n)]


def prior_interval(name: str, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of a parameter's prior."""
    lo, hi = _pert_ppf(PARAMS[name], np.array([(1 - level) / 2, (1 + level) / 2]))
    return float(lo), float(hi)


def shipped_posterior_path() -> Path:
    """Where the shipped posterior lives in the package (it may not exist yet)."""
    return Path(str(resources.files("dyadsim") / "data" / "posterior.json"))


@dataclass(frozen=True)
class Posterior:
    """Posterior samples over ``parameters`` with ``weights``, and their provenance."""

    parameters: tuple[str, ...]
    samples: np.ndarray
    weights: np.ndarray
    targets_hash: str
    dyadsim_version: str
    method: str
    budget: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    created_utc: str | None = None
    path: Path | None = None
    others: str = "prior"
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets: a systematic weighted resample of the rows, the parameters
        the posterior does not cover drawn from the prior (same seed, same draws), or left
        at their defaults when the calibration held them there (``others = "default"``)."""
        rest = [k for k in PARAMS if k not in set(self.parameters)] \
            if self.others == "prior" else []
        prior = prior_draws(n, seed, rest) if rest else [{} for _ in range(n)]
        w = self.weights / self.weights.sum()
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        positions = (rng.random() + np.arange(n)) / n
        rows = np.minimum(np.searchsorted(np.cumsum(w), positions), len(w) - 1)
        rng.shuffle(rows)
        return [{**prior[i], **dict(zip(self.parameters, map(float, self.samples[r]),
                                        strict=True))}
                for i, r in enumerate(rows)]

    def to_dict(self) -> dict[str, Any]:
        return {"format": POSTERIOR_FORMAT, "format_version": POSTERIOR_FORMAT_VERSION,
                "dyadsim_version": self.dyadsim_version, "method": self.method,
                "budget": dict(self.budget), "targets_hash": self.targets_hash,
                "created_utc": self.created_utc, "seed": self.seed,
                "parameters": list(self.parameters),
                "samples": self.samples.tolist(), "weights": self.weights.tolist(),
                "others": self.others,
                **({"diagnostics": dict(self.diagnostics)} if self.diagnostics else {})}


def _require(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path):
    if key not in d:
        raise PosteriorError(f"posterior {where}: required field {key!r} missing")
    if not isinstance(d[key], kind):
        raise PosteriorError(f"posterior {where}: field {key!r} has the wrong type")
    return d[key]


def parse_posterior(d: Mapping[str, Any], where: Path | str = "<dict>") -> Posterior:
    """Validate a posterior given as a dict (the JSON format above)."""
    where = Path(str(where))
    if not isinstance(d, Mapping):
        raise PosteriorError(f"posterior {where}: must be a JSON object")
    if d.get("format") != POSTERIOR_FORMAT:
        raise PosteriorError(f"posterior {where}: format must be {POSTERIOR_FORMAT!r}")
    if d.get("format_version") != POSTERIOR_FORMAT_VERSION:
        raise PosteriorError(f"posterior {where}: format_version must be "
                             f"{POSTERIOR_FORMAT_VERSION}")
    names = _require(d, "parameters", list, where)
    if not names:
        raise PosteriorError(f"posterior {where}: parameters is empty")
    unknown = [k for k in names if k not in PARAMS]
    if unknown:
        raise PosteriorError(f"posterior {where}: unknown parameter {unknown[0]!r}")
    if len(set(names)) != len(names):
        raise PosteriorError(f"posterior {where}: a parameter is listed twice")
    try:
        samples = np.asarray(_require(d, "samples", list, where), dtype=float)
        weights = np.asarray(_require(d, "weights", list, where), dtype=float)
    except (TypeError, ValueError):
        raise PosteriorError(f"posterior {where}: samples and weights must be numbers") from None
    if samples.ndim != 2 or samples.shape[1] != len(names) or samples.shape[0] < 1:
        raise PosteriorError(f"posterior {where}: samples must be rows of {len(names)} values")
    if weights.shape != (samples.shape[0],):
        raise PosteriorError(f"posterior {where}: one weight per sample row is needed")
    if not np.isfinite(samples).all() or not np.isfinite(weights).all() \
            or (weights < 0).any() or weights.sum() <= 0:
        raise PosteriorError(f"posterior {where}: samples must be finite and weights "
                             "non-negative with a positive sum")
    for j, k in enumerate(names):
        p = PARAMS[k]
        col = samples[:, j]
        if (col < p.lo).any() or (col > p.hi).any():
            raise PosteriorError(f"posterior {where}: samples of {k!r} leave its bounds "
                                 f"[{p.lo:g}, {p.hi:g}]")
    others = d.get("others", "prior")
    if others not in ("prior", "default"):
        raise PosteriorError(f"posterior {where}: others must be 'prior' or 'default'")
    budget = d.get("budget", {})
    diagnostics = d.get("diagnostics", {})
    if not isinstance(diagnostics, Mapping):
        raise PosteriorError(f"posterior {where}: diagnostics must be a JSON object")
    return Posterior(tuple(names), samples, weights,
                     str(_require(d, "targets_hash", str, where)),
                     str(_require(d, "dyadsim_version", str, where)),
                     str(_require(d, "method", str, where)),
                     budget if isinstance(budget, Mapping) else {},
                     d.get("seed"), d.get("created_utc"), where, others, diagnostics)


def effective_size(post: Posterior) -> tuple[float, str]:
    """The posterior's effective sample size and how it was found: the smallest bulk ESS
    over the calibrated parameters when the file records MCMC diagnostics (arviz), else
    Kish's ESS of the importance weights, ``1 / sum(w^2)`` for normalised ``w``."""
    ess = post.diagnostics.get("min_ess_bulk") if post.diagnostics else None
    if isinstance(ess, int | float) and math.isfinite(ess):
        return float(ess), "smallest bulk ESS over the calibrated parameters (arviz)"
    w = post.weights / post.weights.sum()
    return float(1.0 / np.sum(w**2)), "Kish effective sample size of the importance weights"


def ess_problem(post: Posterior, source: str) -> str | None:
    """One line when ``post`` has ESS below :data:`MIN_ESS`, else None."""
    ess, how = effective_size(post)
    if ess >= MIN_ESS:
        return None
    return (f"posterior {source} has effective sample size {ess:.1f} < {MIN_ESS:g} ({how}): "
            "its draws are too few distinct points to stand for a distribution")


def load_posterior(source: str | Path) -> Posterior:
    """Read a posterior file; ``"shipped"`` is the one in the package (an error while none
    is shipped)."""
    if str(source) == "shipped":
        path = shipped_posterior_path()
        if not path.is_file():
            raise PosteriorError("no posterior is shipped yet (the calibration of issue 8 "
                                 "will write src/dyadsim/data/posterior.json); use "
                                 "--posterior prior or a posterior file")
    else:
        path = Path(source)
        if not path.is_file():
            raise PosteriorError(f"posterior file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise PosteriorError(f"posterior {path}: not valid JSON ({exc})") from None
    return parse_posterior(data, path)


def finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
