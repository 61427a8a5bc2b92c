"""Power by simulation: run replicate trials of one design at several sample sizes and
count how often the analysis rejects the null in the pre-specified direction.

Honest power (Morris, White & Crowther 2019, sec. 5): the denominator is every replicate
run; a replicate whose analysis fails (no events, an empty arm, a zero SE) is a
non-rejection and counted in ``n_failed``; a significant result against the analysis'
``direction`` (``[[analysis]] direction = "increase" | "decrease"``) is a non-rejection too,
counted in ``n_wrong_direction``. :func:`power_curve` gives, per total N, that power with a
Wilson 95% CI; :func:`n_for_power` fits ``probit(power) ~ sqrt(N)`` to all replicates (a
binomial GLM) and solves it for the target, with a Fieller CI; :func:`plot_power` draws the
curve (PNG, matplotlib's Agg canvas).

Replicates at each N are those of :func:`dyadsim.trials.replicates.run_replicates` (replicate
``r`` = dyads ``r*N .. r*N+N-1``, streams from ``SeedSequence(seed).spawn(R)[r]``), so a
curve is reproducible from the spec's seed whatever the executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import _jsonable
from .replicates import run_replicates
from .spec import TrialSpec, TrialSpecError, load_spec

__all__ = ["n_for_power", "plot_power", "power_curve"]

DEFAULT_NS = (40, 80, 160, 320)
N_FOR_POWER_METHOD = ("probit(power) ~ sqrt(N), binomial GLM over all replicates (failures "
                      "and wrong-direction results count as non-rejections); Fieller 95% CI")


def _pick_analysis(spec: TrialSpec, analysis: str | None) -> str:
    names = [a.name for a in spec.analysis]
    if not names:
        raise TrialSpecError("analysis: the spec has no [[analysis]] to compute power for")
    if analysis is None:
        primary = [a.name for a in spec.analysis if a.primary]
        name = primary[0] if primary else names[0]
    elif analysis not in names:
        raise TrialSpecError(f"analysis: unknown analysis {analysis!r}; known: "
                             f"{', '.join(names)}")
    else:
        name = analysis
    i = names.index(name)
    if spec.analysis[i].direction is None:
        raise TrialSpecError(f"analysis[{i}:{name}].direction: required for power "
                             "(\"increase\" or \"decrease\": the effect the trial expects)")
    return name


def power_curve(spec: TrialSpec | str | Path | Mapping[str, Any],
                ns: Sequence[int] = DEFAULT_NS, replicates: int = 200,
                analysis: str | None = None, alpha: float = 0.05, *,
                executor: cf.Executor | None = None, workers: int | None = None,
                progress: Callable[[str, int, int], None] | None = None,
                seed: int | None = None, target: float = 0.8,
                checkpoint: str | Path | None = None,
                parameter_draws: Sequence[Mapping[str, float]] | None = None
                ) -> dict[str, Any]:
    """Power of ``analysis`` (default: the spec's primary analysis, else its first) at
    each total sample size in ``ns``, from ``replicates`` replicate trials per N.

    Returns a JSON-able dict: ``points`` (per N: ``power`` = rejections in the analysis'
    direction / replicates, Wilson ``ci_lower``/``ci_upper``, ``rejections``,
    ``n_failed``, ``n_wrong_direction``, ``mean_estimate``, ``sd_estimate``, ``errors``),
    the analysis, its method, effect and direction, alpha, target and ``n_for_power`` (see
    :func:`n_for_power`). ``progress(stage, done, total)`` gets stages
    ``"N=<n> simulating"`` and ``"N=<n> analysing"``. ``checkpoint``: a folder (one
    sub-folder per N) where finished replicates are kept, so an interrupted curve resumes.
    ``parameter_draws``: replicate ``r`` at every N runs under draw ``r`` (e.g. posterior
    draws); the curve is then assurance, the probability of success averaged over
    parameter uncertainty (O'Hagan, Stevens & Campbell 2005), not power at fixed parameters.
    """
    base = load_spec(spec)
    if seed is not None:
        base = base.with_changes(seed=seed)
    name = _pick_analysis(base, analysis)
    if not 0.0 < float(alpha) < 1.0:
        raise TrialSpecError(f"alpha must be in (0, 1), got {alpha!r}")
    if not 0.0 < float(target) < 1.0:
        raise TrialSpecError(f"target must be in (0, 1), got {target!r}")
    ns = [int(n) for n in ns]
    if not ns or any(n < len(base.arms) for n in ns):
        raise TrialSpecError(f"ns must be sample sizes of at least {len(base.arms)} (one "
                             "dyad per arm)")
    if len(set(ns)) != len(ns):
        raise TrialSpecError("ns must not repeat a sample size")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise TrialSpecError(f"replicates must be a positive integer, got {replicates!r}")
    specs = {n: base.with_changes(n=n, alpha=float(alpha)) for n in sorted(ns)}

    from ..parallel import owned_executor

    points = []
    with owned_executor(executor, workers, replicates) as (ex, ex_workers):
        for n, s in specs.items():
            cb = None
            if progress is not None:
                def cb(stage: str, done: int, total: int, _n: int = n) -> None:
                    progress(f"N={_n} {stage}", done, total)
            rep = run_replicates(s, replicates, executor=ex, workers=ex_workers,
                                 progress=cb, analyses=[name],
                                 checkpoint=None if checkpoint is None
                                 else Path(checkpoint) / f"n{n}",
                                 parameter_draws=parameter_draws)
            a = rep["analyses"][name]
            rows = a["replicates"]
            ests = np.array([r["estimate"] for r in rows if r["estimate"] is not None], float)
            points.append({
                "n": n,
                "replicates": len(rows),
                "rejections": a["rejections"],
                "power": a["power"],
                "ci_lower": a["power_ci"][0],
                "ci_upper": a["power_ci"][1],
                "n_failed": a["n_failed"],
                "n_wrong_direction": a["n_wrong_direction"],
                "mean_estimate": float(ests.mean()) if ests.size else None,
                "sd_estimate": float(ests.std(ddof=1)) if ests.size > 1 else None,
                "arms_mean_n": rep["arms_mean_n"],
                "dropout_mean": rep["dropout_mean"],
                "errors": a["errors"],
            })
    desc = next(a for a in base.analysis if a.name == name)
    curve = {
        "trial": base.trial.name,
        "citation": base.trial.citation,
        "analysis": name,
        "method": desc.method,
        "effect": desc.effect,
        "direction": desc.direction,
        "alpha": float(alpha),
        "replicates": replicates,
        "seed": base.seed,
        "significance": a["significance"],
        "power_definition": ("rejections in the pre-specified direction / all replicates "
                             "(failed analyses and wrong-direction results are "
                             "non-rejections)"),
        "ci_method": "Wilson score 95% (statsmodels proportion_confint)",
        "target": target,
        "points": points,
        "assurance": parameter_draws is not None,
    }
    if parameter_draws is not None:
        curve["power_definition"] = ("assurance: " + curve["power_definition"] + "; replicate "
                                     "r runs under parameter draw r")
    curve["n_for_power"] = n_for_power(points, target)
    return _jsonable(curve)


def _fieller(b: np.ndarray, cov: np.ndarray, q: float, z: float) -> tuple[float, float | None]:
    """CI for x solving b0 + b1 x = q (Fieller 1954): the x where q lies inside the
    pointwise CI of the linear predictor. Returns (lower, upper); upper None if unbounded."""
    b0, b1 = float(b[0]) - q, float(b[1])
    v00, v01, v11 = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    qa = b1 * b1 - z * z * v11
    qb = 2.0 * (b0 * b1 - z * z * v01)
    qc = b0 * b0 - z * z * v00
    disc = qb * qb - 4.0 * qa * qc
    if qa <= 0.0 or disc < 0.0:
        return 0.0, None  # the slope is not clearly non-zero: the interval is unbounded
    r = math.sqrt(disc)
    return (-qb - r) / (2.0 * qa), (-qb + r) / (2.0 * qa)


def n_for_power(points: Sequence[Mapping[str, Any]], target: float = 0.8) -> dict[str, Any]:
    """The total N at which power reaches ``target``, from ``probit(power) = b0 + b1
    sqrt(N)`` fitted by maximum likelihood to every replicate (a binomial GLM with probit
    link on ``rejections`` out of ``replicates`` per N), solved for the target, with a
    Fieller 95% CI (converted back to N, rounded outward).

    ``relation`` says how to read ``n``: ``"="`` (the fit's solution), ``"<="`` (the
    solution is at or below the smallest N tried, or that N already reaches the target:
    ``n`` is the smallest N tried), ``">"`` (no replicate rejected at any N, or the fit
    does not rise: ``n`` is the largest N tried), ``"between"`` (the data separate
    perfectly, e.g. power 0 then 1: ``ci`` gives the bracketing Ns). ``text`` is the
    reading for people ("<= 40", "134 (95% CI 110-170)").
    """
    import statsmodels.api as sm
    from scipy import stats

    if not 0.0 < float(target) < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target!r}")
    pts = sorted(points, key=lambda p: p["n"])
    if not pts:
        raise ValueError("n_for_power needs at least one point")
    n = np.array([p["n"] for p in pts], float)
    k = np.array([p["rejections"] for p in pts], float)
    m = np.array([p["replicates"] for p in pts], float)
    if (m <= 0).any() or (k < 0).any() or (k > m).any():
        raise ValueError("each point needs 0 <= rejections <= replicates > 0")
    out: dict[str, Any] = {"target": float(target), "method": N_FOR_POWER_METHOD,
                           "n": None, "relation": None, "ci_lower": None, "ci_upper": None,
                           "extrapolated": False}
    n_min, n_max = int(n[0]), int(n[-1])
    if k[0] / m[0] >= target:
        return {**out, "n": n_min, "relation": "<=", "text": f"<= {n_min}"}
    if k.sum() == 0:
        return {**out, "n": n_max, "relation": ">", "text": f"> {n_max} (no rejection)"}
    q = float(stats.norm.ppf(target))
    z = float(stats.norm.ppf(0.975))
    X = np.column_stack([np.ones_like(n), np.sqrt(n)])
    ok = not np.all((k == 0) | (k == m))  # all-or-none at every N: separation, no MLE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if not ok:
                raise ValueError("perfect separation")
            fit = sm.GLM(np.column_stack([k, m - k]), X, family=sm.families.Binomial(
                link=sm.families.links.Probit())).fit()
            b, cov = np.asarray(fit.params, float), np.asarray(fit.cov_params(), float)
            ok = np.isfinite(b).all() and np.isfinite(cov).all() and abs(b[1]) < 1e3
        except (ValueError, np.linalg.LinAlgError, ArithmeticError):
            ok = False
    share = k / m
    if not ok:
        # perfect separation: the first N reaching the target and the one before bracket it
        i = int(np.argmax(share >= target)) if (share >= target).any() else None
        if i is None:
            return {**out, "n": n_max, "relation": ">", "text": f"> {n_max}"}
        return {**out, "relation": "between", "ci_lower": int(n[i - 1]), "ci_upper": int(n[i]),
                "text": f"between {int(n[i - 1])} and {int(n[i])} (the data separate "
                        "perfectly; no fit)"}
    if b[1] <= 0:
        return {**out, "n": n_max, "relation": ">",
                "text": f"> {n_max} (power does not rise with N)"}
    x_star = (q - b[0]) / b[1]
    lo_x, hi_x = _fieller(b, cov, q, z)
    n_star = int(math.ceil(max(x_star, 0.0) ** 2))
    ci_lo = int(math.floor(max(lo_x, 0.0) ** 2))
    ci_hi = None if hi_x is None else int(math.ceil(hi_x**2))
    out.update({"coefficients": {"intercept": float(b[0]), "sqrt_n": float(b[1])},
                "ci_lower": ci_lo, "ci_upper": ci_hi})
    if n_star <= n_min:
        return {**out, "n": n_min, "relation": "<=", "text": f"<= {n_min}"}
    ci_text = f"{ci_lo}-{'inf' if ci_hi is None else ci_hi}"
    extrapolated = n_star > n_max
    return {**out, "n": n_star, "relation": "=", "extrapolated": extrapolated,
            "text": f"{n_star} (95% CI {ci_text}"
                    + ("; extrapolated beyond the largest N" if extrapolated else "") + ")"}


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
        fit = (curve.get("n_for_power") or {}).get("coefficients")
        if fit:
            from scipy import stats

            grid = np.linspace(n.min(), n.max(), 200)
            ax.plot(grid, stats.norm.cdf(fit["intercept"] + fit["sqrt_n"] * np.sqrt(grid)),
                    color="#1b7837", lw=1, alpha=0.6, label="probit ~ sqrt(N) fit")
    target = float(curve.get("target", 0.8))
    ax.axhline(target, ls="--", color="grey", lw=1, label=f"target {target:g}")
    n_star = curve.get("n_for_power") or n_for_power(pts, target) if pts else None
    if n_star is not None and n_star.get("n") is not None:
        ax.axvline(n_star["n"], ls=":", color="#c51b7d", lw=1,
                   label=f"N for {target:g}: {n_star['text']}")
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
