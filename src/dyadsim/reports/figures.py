"""The report's plots (matplotlib, rendered to PNG data URIs so a report has no external
reference): trajectories with bands and birth marked, outcome bars, a forest plot, and a
power curve with its Monte Carlo band. Every function returns ``(data_uri, caption)``."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..model.graph import NODE_BY_ID

ARM_COLOURS = ("#d95f0e", "#2166ac", "#1b9e77", "#7570b3", "#e7298a", "#66a61e")
TRAJECTORY_NODES = ("craving", "opioid_use", "negative_affect", "salience_of_infant_cues",
                    "parenting_behavior", "attachment", "stress_arousal", "mindfulness")
ATTACHMENT = ("secure", "avoidant", "resistant", "disorganized")
ATTACHMENT_COLOURS = ("#1b9e77", "#fdae61", "#f46d43", "#a50026")
EVENTS = (("any_opioid_use", "any opioid use"), ("any_overdose", "overdose"),
          ("fatal_overdose", "fatal overdose"), ("nows", "NOWS"),
          ("cps_report", "CPS report (placement risk)"),
          ("on_moud_12m_postpartum", "on MOUD at 12 months"))


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("constrained")
    return fig


def data_uri(fig) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _birth_day(ds: xr.Dataset) -> float | None:
    if "birth_day" not in ds:
        return None
    b = np.asarray(ds["birth_day"].values, dtype=float)
    b = b[np.isfinite(b)]
    return float(np.median(b)) if b.size else None


def trajectory_nodes(groups: Mapping[str, xr.Dataset],
                     wanted: Sequence[str] = TRAJECTORY_NODES) -> list[str]:
    """The wanted nodes that every group recorded with some finite values."""
    out = []
    for node in wanted:
        if all(node in ds and ds[node].dims == ("dyad", "time")
               and np.isfinite(np.asarray(ds[node].values, float)).any()
               for ds in groups.values()):
            out.append(node)
    return out


def trajectories(groups: Mapping[str, xr.Dataset], nodes: Sequence[str],
                 band: str = "spread") -> tuple[str, str]:
    """One panel per node: the mean over dyads of each group against weeks from birth
    (or from the start without a pregnancy), with a band: ``spread`` (10th-90th
    percentile of dyads) or ``ci`` (95% CI of the mean)."""
    cols = 2 if len(nodes) > 1 else 1
    rows = max(1, math.ceil(len(nodes) / cols))
    fig = _figure(10, 2.3 * rows + 0.4)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    first = next(iter(groups.values()))
    birth = _birth_day(first)
    for ax, node in zip(axes, nodes, strict=False):
        for k, (name, ds) in enumerate(groups.items()):
            t = np.asarray(ds["time"].values, float)
            keep = t >= 0
            step = max(1, int(keep.sum() // 160))
            idx = np.flatnonzero(keep)[::step]
            x = (t[idx] - (birth or 0.0)) / 7.0
            v = np.asarray(ds[node].values, float)[:, idx]
            with np.errstate(all="ignore"):
                mean = np.nanmean(v, axis=0)
                if band == "ci":
                    n = np.sum(np.isfinite(v), axis=0)
                    half = 1.96 * np.nanstd(v, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
                    lo, hi = mean - half, mean + half
                else:
                    lo, hi = np.nanpercentile(v, 10, axis=0), np.nanpercentile(v, 90, axis=0)
            c = ARM_COLOURS[k % len(ARM_COLOURS)]
            ax.fill_between(x, lo, hi, color=c, alpha=0.18, linewidth=0)
            ax.plot(x, mean, color=c, linewidth=1.6, label=name)
        if birth is not None:
            ax.axvline(0, color="#444", linestyle="--", linewidth=1)
            ax.text(0.2, 0.97, "birth", transform=ax.get_xaxis_transform(), fontsize=8,
                    va="top", color="#444")
        node_def = NODE_BY_ID.get(node)
        ax.set_title(node_def.label if node_def else node, fontsize=10)
        ax.set_ylabel(node_def.unit if node_def else "", fontsize=7)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(nodes):]:
        ax.set_visible(False)
    for ax in axes[max(0, len(nodes) - cols):len(nodes)]:
        ax.set_xlabel("weeks from birth (median birth day)" if birth is not None
                      else "weeks from the start", fontsize=8)
    if len(groups) > 1:
        axes[0].legend(fontsize=8, loc="best")
    what = ("shaded: 10th-90th percentile of dyads" if band == "spread"
            else "shaded: 95% confidence interval of the mean")
    names = ", ".join(NODE_BY_ID[n].label.lower() if n in NODE_BY_ID else n for n in nodes)
    caption = (f"How {names} change over time: the line is the average over dyads"
               + (f" in each arm ({', '.join(groups)})" if len(groups) > 1 else "")
               + f"; {what}. "
               + ("The dashed line marks birth (the median birth day; pregnancy is to its "
                  "left, postpartum to its right). " if birth is not None else "")
               + "Event nodes (use, cues, overdose) show the share of days with the event.")
    return data_uri(fig), caption


def _share(summary: Mapping[str, Any], key: str) -> tuple[float, float, float] | None:
    s = summary.get(key)
    if not isinstance(s, Mapping) or s.get("mean") is None:
        return None
    ci = s.get("ci95") or [s["mean"], s["mean"]]
    return float(s["mean"]), float(ci[0]), float(ci[1])


def outcomes(summaries: Mapping[str, Mapping[str, Any]]) -> tuple[str, str] | None:
    """Attachment classes at 12 months, event shares with 95% CIs and the five well-being
    domains at 24 months, one colour per group; None if there is nothing to show."""
    events = [(k, label) for k, label in EVENTS
              if any(_share(s, k) is not None for s in summaries.values())]
    has_attach = any(isinstance(s.get("attachment"), Mapping)
                     and s["attachment"].get("n") for s in summaries.values())
    has_wb = any(isinstance(s.get("wellbeing_24m"), Mapping) for s in summaries.values())
    panels = [p for p, ok in (("events", bool(events)), ("attachment", has_attach),
                              ("wellbeing", has_wb)) if ok]
    if not panels:
        return None
    from matplotlib.patches import Patch

    fig = _figure(10, 3.4)
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    names = list(summaries)
    width = 0.8 / max(len(names), 1)
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "events":
            for k, name in enumerate(names):
                vals = [_share(summaries[name], key) for key, _ in events]
                y = np.arange(len(events)) + k * width
                m = np.array([v[0] if v else np.nan for v in vals]) * 100
                # a Wilson interval's ends can sit a rounding error inside a share of 0 or 1
                err = np.clip(np.array([[v[0] - v[1], v[2] - v[0]] if v else [0, 0]
                                        for v in vals]).T * 100, 0.0, None)
                ax.barh(y, m, height=width, xerr=err, color=ARM_COLOURS[k % 6],
                        label=name, error_kw={"elinewidth": 0.8, "capsize": 2})
            ax.set_yticks(np.arange(len(events)) + width * (len(names) - 1) / 2,
                          [label for _, label in events], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel("% of dyads (95% CI)", fontsize=8)
            ax.set_title("Events", fontsize=10)
        elif panel == "attachment":
            for k, name in enumerate(names):
                a = summaries[name].get("attachment") or {}
                left = 0.0
                for cls, col in zip(ATTACHMENT, ATTACHMENT_COLOURS, strict=True):
                    v = float(a.get(cls) or 0.0) * 100
                    ax.barh(k, v, left=left, color=col, label=cls if k == 0 else None)
                    if v >= 8:
                        ax.text(left + v / 2, k, f"{v:.0f}", ha="center", va="center",
                                fontsize=7, color="white")
                    left += v
            ax.set_yticks(range(len(names)), names, fontsize=8)
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("% of classified infants", fontsize=8)
            ax.set_title("Attachment at 12 months", fontsize=10)
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=4,
                      frameon=False, handlelength=1, columnspacing=0.8)
        else:
            domains = None
            for k, name in enumerate(names):
                wb = summaries[name].get("wellbeing_24m")
                if not isinstance(wb, Mapping):
                    continue
                domains = [d for d in wb if wb[d] is not None]
                x = np.arange(len(domains)) + k * width
                ax.bar(x, [wb[d] for d in domains], width=width, color=ARM_COLOURS[k % 6],
                       label=name)
            if domains:
                ax.set_xticks(np.arange(len(domains)) + width * (len(names) - 1) / 2,
                              domains, fontsize=7, rotation=30)
            ax.set_ylim(0, 1)
            ax.set_ylabel("score (0-1)", fontsize=8)
            ax.set_title("Child well-being at 24 months", fontsize=10)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, axis="x" if panel != "wellbeing" else "y")
    if len(names) > 1:
        handles = [Patch(color=ARM_COLOURS[k % 6], label=n) for k, n in enumerate(names)]
        fig.legend(handles=handles, loc="outside upper center", ncol=len(names), fontsize=8,
                   frameon=False)
    caption = ("Outcomes per dyad"
               + (f" in each group ({', '.join(names)})" if len(names) > 1 else "")
               + ": " + "; ".join(
                   {"events": "the share of dyads with each event over the run (bars) with "
                              "its 95% confidence interval (whiskers)",
                    "attachment": "the infant's attachment class in the 12-month Strange "
                                  "Situation (share of classified infants)",
                    "wellbeing": "mean child well-being in the five domains of Pollard & "
                                 "Lee (2003) at 24 months, on a 0-1 scale"}[p] for p in panels)
               + ".")
    return data_uri(fig), caption


def forest(rows: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """One line per analysis with its own scale: the estimate and 95% CI, the null value
    (dashed) and the published value where the spec gives one (red diamond)."""
    rows = [r for r in rows if r.get("estimate") is not None]
    if not rows:
        return None
    fig = _figure(10, 0.55 * len(rows) + 0.9)
    axes = fig.subplots(len(rows), 1, squeeze=False).ravel()
    for ax, r in zip(axes, rows, strict=True):
        est, lo, hi = r["estimate"], r.get("ci_lower"), r.get("ci_upper")
        null = r.get("null", 0.0)
        pub = r.get("published")
        xs = [v for v in (est, lo, hi, null, pub) if v is not None and math.isfinite(v)]
        span = (max(xs) - min(xs)) or 1.0
        ax.set_xlim(min(xs) - 0.15 * span, max(xs) + 0.15 * span)
        ax.axvline(null, color="#777", linestyle="--", linewidth=0.8)
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [0, 0], color="#222", linewidth=1.5)
        ax.plot([est], [0], "s", color="#222", markersize=5)
        if pub is not None:
            ax.plot([pub], [0], "D", color="#d7301f", markersize=6, label="published")
        ax.set_yticks([])
        ax.set_ylabel(r["label"], rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    caption = ("Forest plot of every analysis of this trial: each row has its own scale; "
               "the square is the estimate and the line its 95% confidence interval; the "
               "dashed line is 'no difference' (1 for ratios, 0 for differences); a red "
               "diamond is the published value where the trial spec gives one.")
    return data_uri(fig), caption


def power_curve(curve: Mapping[str, Any]) -> tuple[str, str]:
    """Power against N with the Monte Carlo 95% band, the target line and N for it."""
    pts = [p for p in curve["points"] if p.get("power") is not None]
    fig = _figure(7, 3.6)
    ax = fig.subplots()
    n = [p["n"] for p in pts]
    ax.fill_between(n, [p["ci_lower"] for p in pts], [p["ci_upper"] for p in pts],
                    color="#6baed6", alpha=0.35, linewidth=0, label="Monte Carlo 95% CI")
    ax.plot(n, [p["power"] for p in pts], "o-", color="#08519c", label="power")
    target = float(curve.get("target", 0.8))
    ax.axhline(target, color="#d7301f", linestyle="--", linewidth=1,
               label=f"{target:.0%} power")
    n80, n80_text = n_for_target(curve)
    if n80 is not None:
        ax.axvline(n80, color="#d7301f", linestyle=":", linewidth=1)
        ax.text(n80, 0.03, f" N = {n80:g}", color="#d7301f", fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_xlabel("total sample size N")
    ax.set_ylabel("power")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    reps = curve.get("replicates")
    caption = (f"Power curve: the share of {reps} simulated trials per sample size in which "
               f"{curve.get('analysis')} ({curve.get('effect')}) was significant "
               f"({curve.get('significance', '')}), with the 95% Monte Carlo interval of that "
               f"share (shaded). The red dashed line is {target:.0%} power; "
               + (f"N for it: {n80_text}." if n80_text else "no N tried reaches it."))
    return data_uri(fig), caption


def n_for_target(curve: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """N for the target power as (a number to mark, its text): ``n_for_power`` is a number
    or a dict with ``n``, ``relation`` and ``text``."""
    n80 = curve.get("n_for_power")
    if isinstance(n80, Mapping):
        n = n80.get("n")
        mark = float(n) if isinstance(n, int | float) and n80.get("relation") in (None, "=",
                                                                               "~") else None
        return mark, n80.get("text") or (None if n is None else str(n))
    if isinstance(n80, int | float) and not isinstance(n80, bool):
        return float(n80), f"{n80:g}"
    return None, None
