"""Power by simulation: run replicate trials of one design at several sample sizes and
count how often an analysis is significant.

:func:`power_curve` gives, per total N, the share of replicates in which the analysis is
significant (p < alpha; for ``mediation``: the bootstrap CI excludes 0) with a Wilson 95%
CI, the mean and SD of the estimate; :func:`n_for_power` interpolates the N that reaches a
target power; :func:`plot_power` draws the curve (PNG, matplotlib's Agg canvas).

Replicates at each N are those of :func:`dyadsim.trials.runner.run_replicates` (replicate
``r`` = dyads ``r*N .. r*N+N-1``, streams from ``SeedSequence(seed).spawn(R)[r]``), so a
curve is reproducible from the spec's seed whatever the executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import _jsonable
from .design import TrialSpec, TrialSpecError, load_spec
from .runner import _default_workers, _wilson, run_replicates

__all__ = ["n_for_power", "plot_power", "power_curve"]

DEFAULT_NS = (40, 80, 160, 320)


def _pick_analysis(spec: TrialSpec, analysis: str | None) -> str:
    names = [a.name for a in spec.analysis]
    if not names:
        raise TrialSpecError("analysis: the spec has no [[analysis]] to compute power for")
    if analysis is None:
        primary = [a.name for a in spec.analysis if a.primary]
        return primary[0] if primary else names[0]
    if analysis not in names:
        raise TrialSpecError(f"analysis: unknown analysis {analysis!r}; known: "
                             f"{', '.join(names)}")
    return analysis


def power_curve(spec: TrialSpec | str | Path | Mapping[str, Any],
                ns: Sequence[int] = DEFAULT_NS, replicates: int = 200,
                analysis: str | None = None, alpha: float = 0.05, *,
                executor: cf.Executor | None = None, workers: int | None = None,
                progress: Callable[[str, int, int], None] | None = None,
                seed: int | None = None, target: float = 0.8,
                checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Power of ``analysis`` (default: the spec's primary analysis, else its first) at
    each total sample size in ``ns``, from ``replicates`` replicate trials per N.

    Returns a JSON-able dict: ``points`` (per N: ``power``, Wilson ``ci_lower``/``ci_upper``,
    ``mean_estimate``, ``sd_estimate``, ``n_valid``, ``n_failed``, ``errors``), the analysis,
    its method and effect, alpha, target and ``n_for_power`` (see :func:`n_for_power`).
    ``progress(stage, done, total)`` gets stages ``"N=<n> simulating"`` and
    ``"N=<n> analysing"``. ``checkpoint``: a folder (one sub-folder per N) where finished
    replicates are kept, so an interrupted curve resumes where it stopped.
    """
    base = load_spec(spec)
    if seed is not None:
        base = base.with_changes(seed=seed)
    name = _pick_analysis(base, analysis)
    if not 0.0 < float(alpha) < 1.0:
        raise TrialSpecError(f"alpha must be in (0, 1), got {alpha!r}")
    ns = [int(n) for n in ns]
    if not ns or any(n < len(base.arms) for n in ns):
        raise TrialSpecError(f"ns must be sample sizes of at least {len(base.arms)} (one "
                             "dyad per arm)")
    if len(set(ns)) != len(ns):
        raise TrialSpecError("ns must not repeat a sample size")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise TrialSpecError(f"replicates must be a positive integer, got {replicates!r}")
    specs = {n: base.with_changes(n=n, alpha=float(alpha)) for n in sorted(ns)}

    own = None
    if executor is None and (workers or _default_workers()) > 1 and replicates > 1:
        own = cf.ProcessPoolExecutor(max_workers=min(workers or _default_workers(), replicates),
                                     mp_context=multiprocessing.get_context("spawn"))
        executor = own
    points = []
    z = 1.959963984540054
    try:
        for n, s in specs.items():
            cb = None
            if progress is not None:
                def cb(stage: str, done: int, total: int, _n: int = n) -> None:
                    progress(f"N={_n} {stage}", done, total)
            rep = run_replicates(s, replicates, executor=executor,
                                 workers=workers if executor is None else None,
                                 progress=cb, analyses=[name],
                                 checkpoint=None if checkpoint is None
                                 else Path(checkpoint) / f"n{n}")
            a = rep["analyses"][name]
            rows = a["replicates"]
            sig = [r["significant"] for r in rows if r["significant"] is not None]
            k, m = float(sum(sig)), len(sig)
            lo, hi = _wilson(k, m, z)
            ests = np.array([r["estimate"] for r in rows if r["estimate"] is not None], float)
            points.append({
                "n": n,
                "power": k / m if m else None,
                "ci_lower": lo if m else None,
                "ci_upper": hi if m else None,
                "n_valid": m,
                "n_failed": len(rows) - m,
                "mean_estimate": float(ests.mean()) if ests.size else None,
                "sd_estimate": float(ests.std(ddof=1)) if ests.size > 1 else None,
                "arms_mean_n": rep["arms_mean_n"],
                "dropout_mean": rep["dropout_mean"],
                "errors": a["errors"],
            })
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
    desc = next(a for a in base.analysis if a.name == name)
    curve = {
        "trial": base.trial.name,
        "citation": base.trial.citation,
        "analysis": name,
        "method": desc.method,
        "effect": desc.effect,
        "alpha": float(alpha),
        "replicates": replicates,
        "seed": base.seed,
        "significance": ("bootstrap CI excludes 0" if desc.method == "mediation"
                         else f"p < {float(alpha):g}"),
        "ci_method": "Wilson score 95%",
        "target": target,
        "points": points,
    }
    curve["n_for_power"] = n_for_power(curve, target)
    return _jsonable(curve)


def n_for_power(curve: Mapping[str, Any], target: float = 0.8) -> int | None:
    """The smallest N at which the curve reaches ``target`` power, interpolated linearly
    between the two sample sizes that bracket the first crossing (rounded up). Returns the
    smallest N of the curve if it already reaches the target there, and None if no N does.
    """
    pts = sorted((p for p in curve["points"] if p.get("power") is not None),
                 key=lambda p: p["n"])
    prev = None
    for p in pts:
        if p["power"] >= target:
            if prev is None:
                return int(p["n"])
            n0, p0, n1, p1 = prev["n"], prev["power"], p["n"], p["power"]
            return int(math.ceil(n0 + (target - p0) * (n1 - n0) / (p1 - p0)))
        prev = p
    return None


def plot_power(curve: Mapping[str, Any], path: str | Path) -> Path:
    """Draw power against N (Wilson 95% CI as error bars, the target as a dashed line and
    the interpolated N) and save it as a PNG at ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pts = sorted((p for p in curve["points"] if p.get("power") is not None),
                 key=lambda p: p["n"])
    fig = Figure(figsize=(6.4, 4.4), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if pts:
        n = np.array([p["n"] for p in pts], float)
        pw = np.array([p["power"] for p in pts], float)
        lo = np.array([p["ci_lower"] for p in pts], float)
        hi = np.array([p["ci_upper"] for p in pts], float)
        ax.errorbar(n, pw, yerr=[pw - lo, hi - pw], marker="o", capsize=3, color="#1b7837",
                    label=f"power ({curve.get('replicates', '?')} replicates per N)")
    target = float(curve.get("target", 0.8))
    ax.axhline(target, ls="--", color="grey", lw=1, label=f"target {target:g}")
    n_star = curve.get("n_for_power", n_for_power(curve, target))
    if n_star is not None:
        ax.axvline(n_star, ls=":", color="#c51b7d", lw=1, label=f"N = {n_star}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("total N randomised")
    ax.set_ylabel("power")
    ax.set_title(f"{curve.get('trial', '')}: {curve.get('analysis', '')} "
                 f"({curve.get('method', '')}, {curve.get('significance', '')})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
