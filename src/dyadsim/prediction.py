"""The prediction the paper asks for (issue 8 s7; Reese et al. 2021, Discussion): the
posterior-predictive effects of a perinatal trial's arms (MORE started in pregnancy vs
postpartum vs usual care) on opioid use, NOWS, parenting, attachment security and child
well-being, and the N needed for 80% assurance on attachment security.

Effects. Each of ``draws`` parameter draws simulates every arm on the same ``dyads`` dyads
(ids ``0..dyads-1``, the trial's seed: common random numbers across arms and draws), as the
trial runs the arm (:func:`dyadsim.trials.trial.simulate_arm`); an effect is the difference
of the arms' dyad means under that draw. Intervals are the 5th-95th percentiles over draws.

Pregnancy-only parameters (those of maternal hormones, motivation for change and prenatal
bonding, :func:`pregnancy_only_parameters`) are informed by no published target: whatever
the posterior holds, they are drawn from their prior. Their share of the uncertainty is
``1 - var_held / var_all``: the variance of an effect across draws with them held at their
defaults (the same draws otherwise, the same dyads) over that with them drawn.

Power. The spec's attachment-security analysis, through
:func:`dyadsim.trials.power.power_curve` with replicate ``r`` under draw ``r``: assurance,
power averaged over parameter uncertainty (O'Hagan, Stevens & Campbell 2005).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .model.params import PARAMS
from .trials.spec import TrialSpec, TrialSpecError
from .uncertainty import ParameterSource, summarize_draws
from .uncertainty.prior import prior_draws

__all__ = ["OUTCOMES", "PREGNANCY_NODES", "plot_prediction", "predict",
           "pregnancy_only_parameters"]

PREGNANCY_NODES = ("maternal_hormones", "motivation_for_change", "prenatal_bonding")

#: outcome key -> (label, the per-dyad outcome of the registry it reads,
#: :data:`dyadsim.model.outcomes.OUTCOMES`)
OUTCOMES: dict[str, tuple[str, str]] = {
    "opioid_use": ("Opioid use: share of study days", "use_share"),
    "nows": ("NOWS (neonatal opioid withdrawal)", "nows"),
    "parenting": ("Parenting quality, postpartum mean (0-1)", "parenting_mean"),
    "secure_attachment": ("Secure attachment at 12 months (Strange Situation)",
                          "secure_attachment"),
    "child_wellbeing": ("Child well-being at 24 months, mean of the five domains (0-1)",
                        "child_wellbeing_24m"),
}

STATEMENT = ("Parameters of maternal hormones, motivation for change and prenatal bonding are "
             "informed by no published target (issue 8 s7): they are drawn from their priors "
             "whatever the posterior holds, and share_from_pregnancy_only is the part of each "
             "effect's variance across draws that goes when they are held at their defaults.")


def pregnancy_only_parameters() -> list[str]:
    """Declared parameters of the pregnancy-only mechanisms: every parameter whose name
    involves maternal hormones, motivation for change or prenatal bonding (their own
    dynamics, their inputs and outputs), except their non-pregnant levels."""
    out = []
    for name in PARAMS:
        parts = set(re.split(r"->|[().]", name))
        if parts & set(PREGNANCY_NODES) and not name.endswith(".nonpregnant"):
            out.append(name)
    return out


def _ensembles(source: ParameterSource, draws: int, seed: int
               ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """(all drawn, pregnancy-only held at defaults): the same draws otherwise."""
    preg = pregnancy_only_parameters()
    base = source.draws(draws, seed)
    prior = prior_draws(draws, seed, preg)
    drawn = [{**b, **p} for b, p in zip(base, prior, strict=True)]
    held = [{**b, **{k: PARAMS[k].default for k in preg}} for b in base]
    return drawn, held


def assurance_draws(source: ParameterSource, n: int, seed: int) -> list[dict[str, float]]:
    """Parameter draws for the power replicates (pregnancy-only ones from the prior)."""
    return _ensembles(source, n, seed)[0]


def _secure_analysis(spec: TrialSpec, analysis: str | None) -> str:
    if analysis is not None:
        if analysis not in {a.name for a in spec.analysis}:
            raise TrialSpecError(f"--analysis: unknown analysis {analysis!r}")
        return analysis
    for a in spec.analysis:
        if a.instrument == "ssp" and a.category == "secure":
            return a.name
    raise TrialSpecError("the spec has no attachment-security analysis (instrument 'ssp', "
                         "category 'secure'); name one with --analysis")


def _arm_values(spec: TrialSpec, plan, arm: int, thetas: Sequence[Mapping[str, float]],
                dyads: int, progress: Callable[[int], None] | None) -> dict[str, np.ndarray]:
    """Per outcome a (draws, dyads) array: arm ``arm`` under every draw, same dyads."""
    from .trials.trial import simulate_arm

    k = len(thetas)
    ids = np.tile(np.arange(dyads, dtype=np.int64), k)
    ds = simulate_arm(spec, plan, ids, arm, thetas=dict(enumerate(thetas)),
                      counts=dict.fromkeys(range(k), dyads), record="none", progress=progress)
    return {o: ds[name].values.astype(float).reshape(k, dyads)
            for o, (_, name) in OUTCOMES.items()}


def _draw_means(v: np.ndarray) -> np.ndarray:
    """Per draw (row) the mean over the dyads where the outcome is defined; NaN, without a
    warning, where it is defined for none (e.g. 24-month well-being in a shorter run)."""
    ok = np.isfinite(v)
    n = ok.sum(axis=1)
    return np.where(n > 0, np.where(ok, v, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan)


def _effect(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: difference of means and its Monte Carlo SE (paired dyads)."""
    diff = a - b
    ok = np.isfinite(diff)
    n = ok.sum(axis=1)
    mean = np.where(n > 0, np.nansum(np.where(ok, diff, 0.0), axis=1) / np.maximum(n, 1),
                    np.nan)
    sd = np.array([np.std(d[f], ddof=1) if f.sum() > 1 else np.nan
                   for d, f in zip(diff, ok, strict=True)])
    return mean, sd / np.sqrt(np.maximum(n, 1))


def predict(spec: TrialSpec | str | Path | Mapping[str, Any], source: ParameterSource, *,
            draws: int = 20, dyads: int = 200, seed: int | None = None,
            power_ns: Sequence[int] = (300, 900), power_replicates: int = 20,
            analysis: str | None = None, workers: int | None = 1,
            checkpoint: str | Path | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """The prediction (module docstring) as a JSON-able dict."""
    from .trials.plan import plan_trial
    from .trials.power import power_curve
    from .trials.trial import prepare

    t0 = time.monotonic()
    s = prepare(spec, seed)
    plan = plan_trial(s)
    if not plan.pregnancy:
        raise TrialSpecError("predict needs a trial of a population with a pregnancy")
    for name, v, lo in (("draws", draws, 2), ("dyads", dyads, 2),
                        ("power replicates", power_replicates, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise TrialSpecError(f"{name} must be an integer >= {lo}, got {v!r}")
    secure = _secure_analysis(s, analysis)
    drawn, held = _ensembles(source, draws, s.seed)
    total = len(s.arms) * 2 * draws * dyads
    done = [0]

    def tick(m: int) -> None:
        done[0] += m
        if progress is not None:
            progress("simulating arms under every draw", done[0], total)

    values = {arm.name: _arm_values(s, plan, i, drawn + held, dyads, tick)
              for i, arm in enumerate(s.arms)}
    arms = {a: {o: {"label": OUTCOMES[o][0],
                    **summarize_draws(_draw_means(v[o][:draws]).tolist())}
                for o in OUTCOMES} for a, v in values.items()}
    effects = []
    names = s.arm_names
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for o, (label, _) in OUTCOMES.items():
                eff, se = _effect(values[a][o], values[b][o])
                full, kept = eff[:draws], eff[draws:]
                var_all = float(np.nanvar(full, ddof=1))
                var_held = float(np.nanvar(kept, ddof=1))
                effects.append({
                    "contrast": f"{a} vs {b}", "treatment": a, "control": b, "outcome": o,
                    "label": label, **summarize_draws(full.tolist()),
                    "mean": float(np.nanmean(full)), "sd": float(np.sqrt(var_all)),
                    "held_at_defaults": summarize_draws(kept.tolist()),
                    "var_all": var_all, "var_pregnancy_only_held": var_held,
                    "share_from_pregnancy_only": (float(np.clip(1 - var_held / var_all, 0, 1))
                                                  if var_all > 0 else None),
                    "monte_carlo_se": float(np.nanmean(se[:draws])),
                })
    power = None
    if power_ns:
        def stage(st: str, d: int, t: int) -> None:
            if progress is not None:
                progress(f"assurance {st}", d, t)

        power = power_curve(s, ns=list(power_ns), replicates=power_replicates,
                            analysis=secure, workers=workers, progress=stage,
                            checkpoint=checkpoint,
                            parameter_draws=assurance_draws(source, power_replicates,
                                                            s.seed))
        power["posterior"] = source.provenance()
    return {
        "trial": s.trial.name, "citation": s.trial.citation, "seed": s.seed,
        "posterior": {**source.provenance(), "draws": draws},
        "draws": draws, "dyads_per_arm": dyads,
        "method": "each draw simulates every arm on the same dyads (common random numbers); "
                  "effect = difference of arm means; interval = 5th-95th percentile over "
                  "draws; monte_carlo_se = the mean within-draw SE of the paired difference",
        "statement": STATEMENT,
        "pregnancy_only_parameters": pregnancy_only_parameters(),
        "arms": arms, "effects": effects,
        "attachment_power": None if power is None else {
            "analysis": secure, "target": power["target"],
            "n_for_target": power["n_for_power"], "curve": power,
            "definition": power["power_definition"]},
        "seconds": round(time.monotonic() - t0, 1),
    }


def plot_prediction(result: Mapping[str, Any], path: str | Path) -> Path:
    """One panel per outcome: each contrast's median effect with its 90% interval over
    draws (dark), and the interval with the pregnancy-only parameters held at their
    defaults (light); PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outcomes = list(OUTCOMES)
    contrasts = list(dict.fromkeys(e["contrast"] for e in result["effects"]))
    fig = Figure(figsize=(11, 2.0 + 1.6 * len(outcomes)), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(outcomes), 1, squeeze=False)[:, 0]
    for ax, o in zip(axes, outcomes, strict=True):
        rows = [e for e in result["effects"] if e["outcome"] == o]
        for y, c in enumerate(contrasts):
            e = next((r for r in rows if r["contrast"] == c), None)
            if e is None or e["median"] is None:
                continue
            h = e["held_at_defaults"]
            if h["median"] is not None:
                ax.plot([h["q05"], h["q95"]], [y + 0.18] * 2, color="#9ecae1", lw=4,
                        solid_capstyle="butt")
            ax.plot([e["q05"], e["q95"]], [y, y], color="#08519c", lw=2)
            ax.plot([e["median"]], [y], "o", color="#08519c")
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(range(len(contrasts)), contrasts, fontsize=8)
        ax.set_ylim(-0.6, len(contrasts) - 0.4)
        ax.set_title(OUTCOMES[o][0], fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    p = result.get("posterior") or {}
    fig.suptitle(f"{result['trial']}: posterior-predictive effects ({result['draws']} draws "
                 f"from {p.get('source')}, {result['dyads_per_arm']} dyads per arm); dark: "
                 "90% interval; light: pregnancy-only parameters at defaults", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
