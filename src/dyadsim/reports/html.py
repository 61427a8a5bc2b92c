"""Self-contained HTML reports of a run (``dyadsim report RUN_DIR``, ``--report``).

One file, no network reference of any kind: styles inline, the graph as inline SVG, plots as
PNG data URIs, no scripts or fonts to fetch. It opens with what was run, then (as the run
allows) the paper's graph coloured by the result, trajectories, outcomes, for a trial a
CONSORT-style flow and a forest plot with each estimate's missing-data method, for a power
run the power curve. Every figure has a caption in plain words.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import xarray as xr

from .._version import __version__
from ..model.params import PARAMS
from . import figures
from .diagram import build_diagram, diagram_svg
from .results import node_differences, node_levels, split_arms


class ReportWarning(UserWarning):
    """A section of the report that cannot be built (the report says so too)."""


def _dropped(run: Path, name: str, sections: str) -> str:
    """Say, on stderr (a :class:`ReportWarning`) and in the page, that ``sections`` are
    left out because ``run`` has no file ``name``."""
    text = f"{run / name} is missing: the report leaves out {sections}"
    warnings.warn(text, ReportWarning, stacklevel=2)
    return f'<p class="dropped"><strong>Not in this report:</strong> {escape(text)}.</p>'


class ReportError(ValueError):
    """A folder is not the output of simulate, trial or power (or is incomplete)."""


CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1320px;margin:24px auto;padding:0 16px;
color:#1a1a1a;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:0.9em}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:12px 0 24px 0}figure img{max-width:100%}
figcaption{font-size:0.9em;color:#333;margin-top:6px;max-width:1100px}
.note{color:#555;font-size:0.9em}.warn{color:#a50026}
"""


# ------------------------------------------------------------------------ building blocks
def _table(headings: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()
           ) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headings)
    body = []
    for row in rows:
        cells = "".join(f'<td{" class=num" if i in numeric else ""}>{escape(str(c))}</td>'
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure_img(uri: str, caption: str, alt: str) -> str:
    return (f'<figure class="plot"><img src="{uri}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _figure_svg(svg: str, caption: str) -> str:
    return f'<figure class="graph">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _page(title: str, sections: Sequence[str]) -> str:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1>"
            f'<p class=note>dyadsim {escape(__version__)} report, written {stamp}. '
            "Reese, Conradt, Riquino &amp; Garland (2021) model. This file is self-contained "
            "(no network access needed).</p>"
            + "".join(sections) + "</body></html>\n")


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if math.isfinite(x) else "-"
    return str(x)


def _changed(parameters: Mapping[str, float]) -> list[tuple[str, str, str, str]]:
    rows = []
    for k, v in parameters.items():
        p = PARAMS.get(k)
        if p is None or float(v) != float(p.default):
            rows.append((k, _fmt(float(v)), "-" if p is None else _fmt(p.default),
                         "-" if p is None else p.meaning))
    return rows


def _posterior_text(p: Any, none: str) -> str:
    """The run's parameter uncertainty in words: which posterior (path, method, targets
    hash, version) and how many draws; ``none`` when the run had none."""
    if not p:
        return none
    if not isinstance(p, Mapping):
        return str(p)
    parts = [str(p.get("source"))]
    if p.get("path"):
        parts.append(str(p["path"]))
    if p.get("method"):
        parts.append(f"method: {p['method']}")
    if p.get("targets_hash"):
        parts.append(f"targets_hash {str(p['targets_hash'])[:12]}")
    if p.get("dyadsim_version"):
        parts.append(f"fitted with dyadsim {p['dyadsim_version']}")
    if p.get("draws"):
        parts.append(f"{p['draws']} draws")
    if p.get("assignment"):
        parts.append(str(p["assignment"]))
    return "; ".join(parts)


def _what_was_run(items: Sequence[tuple[str, Any]], changed: Sequence[Sequence[str]],
                  changed_note: str = "") -> str:
    rows = [(k, v) for k, v in items if v not in (None, "", [], {})]
    out = ["<h2>What was run</h2>", _table(("", "value"), rows)]
    if changed:
        out.append(f"<p>Parameters changed from their defaults{changed_note}:</p>")
        out.append(_table(("parameter", "value", "default", "meaning"), changed, (1, 2)))
    else:
        out.append("<p>All model parameters at their defaults.</p>")
    return "".join(out)


def _graph_section(values, parameters, mode, legend, caption, title) -> str:
    d = build_diagram(values, parameters, mode, legend)
    return "<h2>The model's graph, driven by this result</h2>" + _figure_svg(
        diagram_svg(d, title=title), caption)


def _level_caption(extra: str = "") -> str:
    return ("Figures 1 and 2 of Reese et al. (2021) as this run executed them. Each box is a "
            "mechanism; its colour is the average level of that mechanism over the run and "
            "over dyads, as a share of its range (white low, dark blue high; grey: not "
            "recorded). Arrows are the model's causal links: green raises its target, "
            "magenta lowers it, the width is the strength the run used, dashed grey arrows "
            "were knocked out. Hover a box or arrow for its meaning, value and citation."
            + extra)


def _difference_caption(a: str, b: str) -> str:
    return (f"Figures 1 and 2 of Reese et al. (2021), coloured by how {a} differs from {b}: "
            f"orange boxes are higher with {a}, blue boxes lower, in standard deviations "
            "between dyads (full colour at 1 SD or the largest difference if smaller; "
            "standardized mean difference of each dyad's average level; the 95% interval "
            "is in the hover text); white means no difference, grey not "
            "recorded. Arrows are the model's causal links: green raises its target, magenta "
            "lowers it, the width is the strength the run used, dashed grey arrows were "
            "knocked out.")


# ------------------------------------------------------------------------ simulation
def simulation_sections(ds: xr.Dataset | None, summary: Mapping[str, Any],
                        parameters: Mapping[str, float],
                        baseline: tuple[str, xr.Dataset, Mapping[str, Any]] | None = None,
                        label: str = "this run") -> list[str]:
    """Graph, trajectories and outcomes of one simulation (optionally against a
    baseline run: the graph then shows the standardized difference)."""
    from .demo import outcome_rows

    sections = []
    if ds is not None and "time" in ds.dims:
        if baseline is not None and baseline[1] is not None and "time" in baseline[1].dims:
            sections.append(_graph_section(
                node_differences(ds, baseline[1]), parameters, "difference",
                f"standardized difference, {label} minus {baseline[0]}",
                _difference_caption(label, baseline[0]), f"{label} vs {baseline[0]}"))
        else:
            sections.append(_graph_section(node_levels(ds), parameters, "level",
                                           "mean level (share of range)", _level_caption(),
                                           label))
    else:
        sections.append(_graph_section({}, parameters, "level", "no trajectories recorded",
                                       _level_caption(" This run recorded no trajectories "
                                                      "(record = none), so boxes are grey."),
                                       label))
    groups = {label: ds} if ds is not None and "time" in ds.dims else {}
    if baseline is not None and baseline[1] is not None and "time" in baseline[1].dims \
            and groups:
        groups[baseline[0]] = baseline[1]
    nodes = figures.trajectory_nodes(groups) if groups else []
    if nodes:
        uri, cap = figures.trajectories(groups, nodes, band="spread")
        sections.append("<h2>Trajectories</h2>" + _figure_img(uri, cap, "trajectories"))
    summaries = {label: summary}
    if baseline is not None:
        summaries[baseline[0]] = baseline[2]
    rows = [outcome_rows(s) for s in summaries.values()]
    table_rows = [(r[0][0], *(x[1] for x in r)) for r in zip(*rows, strict=True)]
    sections.append("<h2>Outcomes</h2>" + _table(("outcome", *summaries), table_rows,
                                                tuple(range(1, len(summaries) + 1)))
                    + "<p class=note>Shares in % with 95% CIs; parenting and well-being on "
                      "0-1 scales. Many parameters are uncalibrated guesses: these are the "
                      "model's predictions, not clinical estimates.</p>")
    fig = figures.outcomes(summaries)
    if fig is not None:
        sections.append(_figure_img(*fig, "outcomes"))
    return sections


def simulation_report(ds: xr.Dataset | None, summary: Mapping[str, Any],
                      meta: Mapping[str, Any],
                      baseline: tuple[str, xr.Dataset, Mapping[str, Any]] | None = None) -> str:
    """The report of one simulation; ``meta`` is its manifest (or the same keys)."""
    pop = meta.get("population") or {}
    parameters = meta.get("parameters") or {}
    scenario = (meta.get("scenario") or {}).get("content") or meta.get("scenario_content") or {}
    interventions = scenario.get("interventions") or meta.get("interventions") or []
    items = [
        ("kind", "simulation (dyadsim simulate)"),
        ("population", f"{pop.get('name', '?')}: {pop.get('description', '')}"),
        ("dyads (N)", meta.get("dyads")),
        ("seed", meta.get("seed")),
        ("start", meta.get("start")),
        ("horizon", f"{meta.get('horizon_days')} days after birth (or the start)"),
        ("interventions", ", ".join(f"{i.get('name')} from {i.get('start', 'the start')}"
                                    for i in interventions) or "none"),
        ("clamped nodes (do)", ", ".join(f"{k} = {v:g}" for k, v in
                                         (meta.get("do") or {}).items()) or "none"),
        ("posterior", _posterior_text(meta.get("posterior"), "none: parameters as listed "
                                      "(defaults unless changed below)")),
        ("dyadsim version", meta.get("dyadsim_version")),
        ("git commit", meta.get("git_commit")),
        ("command", meta.get("command")),
    ]
    sections = [_what_was_run(items, _changed(parameters))]
    sections += simulation_sections(ds, summary, parameters, baseline)
    title = meta.get("title") or f"dyadsim simulation: {pop.get('name', '')}, " \
                                 f"N = {meta.get('dyads')}, seed {meta.get('seed')}"
    return _page(title, sections)


def _simulation_dir(run: Path) -> str:
    manifest = json.loads((run / "manifest.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    ds = None
    if (run / "trajectories.nc").exists():
        ds = xr.open_dataset(run / "trajectories.nc", engine="h5netcdf").load()
        if "birth_day" not in ds and (run / "dyads.parquet").exists():
            import pandas as pd

            dy = pd.read_parquet(run / "dyads.parquet", columns=None)
            if "birth_day" in dy:
                ds["birth_day"] = ("dyad", dy["birth_day"].to_numpy(float))
    return simulation_report(ds, summary, manifest)


# ------------------------------------------------------------------------ trial
_NULL = {"risk_ratio": 1.0, "odds_ratio": 1.0, "hazard_ratio": 1.0, "rate_ratio": 1.0}


def _published(analysis_spec: Mapping[str, Any], result: Mapping[str, Any]) -> float | None:
    for src in (analysis_spec, result):
        for key in ("published", "published_value"):
            v = src.get(key)
            if isinstance(v, Mapping):
                v = v.get("value", v.get("estimate"))
            if isinstance(v, int | float) and not isinstance(v, bool):
                return float(v)
    return None


def missing_data_method(result: Mapping[str, Any]) -> str:
    """The analysis' own statement of its missing-data method, else what its method does
    with missing observations."""
    detail = result.get("detail") or {}
    for src in (result, detail):
        for key in ("missing_data", "missing_data_method", "missing"):
            v = src.get(key)
            if isinstance(v, str) and v:
                return v
            if isinstance(v, Mapping) and (v.get("method") or v.get("description")):
                return str(v.get("method") or v.get("description"))
    method = result.get("method")
    n_miss = next((detail[k] for k in ("n_missing", "n_missing_values", "n_dropped_missing")
                   if isinstance(detail.get(k), int | float)), None)
    tail = f" ({int(n_miss)} missing)" if n_miss is not None else ""
    if method in ("lmm", "ema"):
        return "all observed visits in a mixed model (valid if missing at random)" + tail
    return "complete cases at the time point" + tail


def _consort_svg(spec: Mapping[str, Any], arms: Mapping[str, int],
                 assessed: Mapping[str, Mapping[str, int]], timepoints: Sequence[str]) -> str:
    """A CONSORT-style flow: enrolled and randomised, then per arm the number assessed
    (and lost) at each visit."""
    names = list(arms)
    col_w, box_w, row_h = 230, 200, 46
    width = max(len(names) * col_w + 40, 480)
    height = 120 + row_h * (len(timepoints) + 1)
    total = sum(arms.values())
    out = [f'<svg class="consort" viewBox="0 0 {width} {height}" width="{min(width, 1100)}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="11" role="img" '
           'aria-label="CONSORT flow">']

    def box(x, y, w, text, fill="#f3f3f3"):
        lines = text.split("\n")
        h = 16 + 13 * len(lines)
        out.append(f'<rect x="{x - w / 2}" y="{y}" width="{w}" height="{h}" rx="4" '
                   f'fill="{fill}" stroke="#666"/>')
        for i, line in enumerate(lines):
            out.append(f'<text x="{x}" y="{y + 18 + 13 * i}" text-anchor="middle">'
                       f'{escape(line)}</text>')

    box(width / 2, 8, 300, f"Enrolled and randomised\nN = {total}", "#e5f5e0")
    for k, arm in enumerate(names):
        x = 20 + col_w * (k + 0.5)
        out.append(f'<line x1="{width / 2}" y1="50" x2="{x}" y2="70" stroke="#666"/>')
        box(x, 70, box_w, f"{arm}\nallocated n = {arms[arm]}", "#deebf7")
        prev = arms[arm]
        for r, tp in enumerate(timepoints):
            y = 120 + row_h * r
            n = assessed.get(arm, {}).get(tp, 0)
            lost = max(prev - n, 0) if r else max(arms[arm] - n, 0)
            box(x, y, box_w, f"{tp}: assessed {n}\nnot assessed {arms[arm] - n}"
                + (f" (-{lost} since last)" if r and lost else ""))
            prev = n
    out.append("</svg>")
    return "".join(out)


def _trial_dir(run: Path) -> str:
    import pandas as pd

    results = json.loads((run / "results.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text()) \
        if (run / "manifest.json").exists() else {}
    spec = results.get("spec") or manifest.get("spec") or {}
    res = results.get("results") or {}
    arms: dict[str, int] = dict(res.get("arms") or {})
    analyses = [a for a in spec.get("analysis", []) if isinstance(a, Mapping)]
    pop = manifest.get("population") or {}
    params_by_arm = manifest.get("parameters") or {}
    first_params = next(iter(params_by_arm.values()), {}) if params_by_arm else {}
    arm_specs = spec.get("arms") or []
    items = [
        ("kind", "in-silico randomised trial (dyadsim trial)"),
        ("trial", f"{results.get('trial')}: {(spec.get('trial') or {}).get('description', '')}"),
        ("citation", results.get("citation")),
        ("population", f"{pop.get('name', (spec.get('population') or {}).get('preset'))}"),
        ("N randomised", results.get("n")),
        ("arms", "; ".join(f"{a.get('name')}: {', '.join(a.get('interventions', []))} from "
                           f"{a.get('start')}" for a in arm_specs if isinstance(a, Mapping))),
        ("seed", results.get("seed")),
        ("replicate", results.get("replicate")),
        ("replicates", manifest.get("replicates")),
        ("posterior", _posterior_text(manifest.get("posterior"),
                                      "none: parameters as listed")),
        ("dyadsim version", manifest.get("dyadsim_version")),
        ("git commit", manifest.get("git_commit")),
        ("command", manifest.get("command")),
    ]
    sections = [_what_was_run(items, _changed(first_params),
                              f" (first arm, {next(iter(params_by_arm), '')}; arms differ "
                              "only by their interventions' parameters)"
                              if params_by_arm else "")]

    latent = None
    if (run / "latent.nc").exists():
        latent = xr.open_dataset(run / "latent.nc", engine="h5netcdf").load()
    else:
        sections.append(_dropped(run, "latent.nc", "the graph, the trajectories and the "
                                 "outcomes by arm"))
    if not (run / "data.parquet").exists():
        sections.append(_dropped(run, "data.parquet", "the participant flow"))
    groups = split_arms(latent) if latent is not None and "arm" in latent else {}
    primary = next((a for a in analyses if a.get("primary")), analyses[0] if analyses else {})
    a_arm, b_arm = primary.get("treatment"), primary.get("control")
    if (a_arm not in groups or b_arm not in groups) and len(groups) >= 2:
        a_arm, b_arm = list(groups)[:2]
    if a_arm in groups and b_arm in groups and "time" in latent.dims:
        sections.append(_graph_section(
            node_differences(groups[a_arm], groups[b_arm]), params_by_arm.get(a_arm, {}),
            "difference", f"standardized difference, {a_arm} minus {b_arm}",
            _difference_caption(a_arm, b_arm)
            + " Only the nodes the trial's instruments need are recorded; the rest are grey.",
            f"{a_arm} vs {b_arm}"))
        nodes = figures.trajectory_nodes(groups)
        if nodes:
            uri, cap = figures.trajectories(groups, nodes, band="ci")
            sections.append("<h2>Trajectories by arm</h2>"
                            + _figure_img(uri, cap, "trajectories by arm"))

    if groups:
        from .summary import summarize

        sums = {}
        for arm, ds in groups.items():
            try:
                sums[arm] = summarize(ds)
            except (KeyError, ValueError):
                continue
        if sums:
            from .demo import outcome_rows

            rows = [outcome_rows(s) for s in sums.values()]
            table_rows = [(r[0][0], *(x[1] for x in r)) for r in zip(*rows, strict=True)]
            sections.append("<h2>Outcomes by arm (latent, every randomised dyad)</h2>"
                            + _table(("outcome", *sums), table_rows,
                                     tuple(range(1, len(sums) + 1))))
            fig = figures.outcomes(sums)
            if fig is not None:
                sections.append(_figure_img(*fig, "outcomes by arm"))

    if (run / "data.parquet").exists() and arms:
        data = pd.read_parquet(run / "data.parquet")
        obs = data[data["value"].notna()]
        if "prompt" in obs:
            obs = obs[obs["prompt"].isna()] if obs["prompt"].notna().any() else obs
        order = (data.groupby("timepoint")["day"].median().sort_values().index.tolist()
                 if "day" in data else sorted(data["timepoint"].dropna().unique()))
        assessed = {arm: {tp: int(g["dyad_id"].nunique()) for tp, g in
                          obs[obs["arm"] == arm].groupby("timepoint")} for arm in arms}
        order = [tp for tp in order if any(assessed[arm].get(tp) for arm in arms)]
        drop = res.get("dropout") or {}
        sections.append(
            "<h2>Participant flow (CONSORT-style)</h2>"
            + _figure_svg(_consort_svg(spec, arms, assessed, order),
                          "How many dyads were randomised to each arm and how many were "
                          "assessed at each visit (at least one observed measure); the rest "
                          "were lost to follow-up or missed the visit. Overall "
                          f"{_fmt(drop.get('overall'), 2)} of dyads were lost by the last "
                          f"assessment ({drop.get('definition', '')})."))

    forest_rows, table = [], []
    for a in analyses:
        r = res.get(a.get("name"))
        if not isinstance(r, Mapping):
            continue
        pub = _published(a, r)
        method = missing_data_method(r)
        forest_rows.append({"label": f"{a['name']}\n{r.get('method')}: {r.get('effect')}",
                            "estimate": r.get("estimate"), "ci_lower": r.get("ci_lower"),
                            "ci_upper": r.get("ci_upper"), "published": pub,
                            "null": _NULL.get(str(r.get("effect")), 0.0)})
        ci = f"{_fmt(r.get('ci_lower'))} to {_fmt(r.get('ci_upper'))}"
        table.append((a["name"] + (" (primary)" if a.get("primary") else ""),
                      f"{r.get('method')}: {r.get('effect')}",
                      f"{r.get('treatment', '')} vs {r.get('control', '')}",
                      _fmt(r.get("estimate")) if not r.get("error") else f"failed: {r['error']}",
                      ci, _fmt(r.get("p")), "-" if pub is None else _fmt(pub), method,
                      r.get("intercurrent_events") or "-"))
    if table:
        fig = figures.forest(forest_rows)
        sections.append("<h2>Analyses</h2>" + (_figure_img(*fig, "forest plot") if fig else "")
                        + _table(("analysis", "method: effect", "contrast", "estimate",
                                  "95% CI", "p", "published", "missing-data method",
                                  "intercurrent events (ICH E9(R1))"), table,
                                 (3, 5, 6)))
    if (run / "replicates.json").exists():
        rep = json.loads((run / "replicates.json").read_text())
        rows = []
        for name, a in (rep.get("analyses") or {}).items():
            sm = a.get("summary") or {}
            rows.append((name, _fmt(sm.get("mean")), f"{_fmt(sm.get('q025'))} to "
                         f"{_fmt(sm.get('q975'))}", _fmt(a.get("share_significant"), 2)))
        sections.append(f"<h2>Over {rep.get('replicates')} replicate trials</h2>"
                        + _table(("analysis", "mean estimate", "2.5-97.5%",
                                  "share significant"), rows, (1, 2, 3)))
    return _page(f"dyadsim trial: {results.get('trial')}", sections)


# ------------------------------------------------------------------------ power
def _power_dir(run: Path) -> str:
    curve = json.loads((run / "power.json").read_text())
    items = [("kind", "power by simulation (dyadsim power)"), ("trial", curve.get("trial")),
             ("citation", curve.get("citation")),
             ("analysis", f"{curve.get('analysis')} ({curve.get('method')}: "
                          f"{curve.get('effect')})"),
             ("significance", curve.get("significance")), ("alpha", curve.get("alpha")),
             ("replicates per N", curve.get("replicates")), ("seed", curve.get("seed")),
             ("posterior", _posterior_text(curve.get("posterior"),
                                           "none: default parameters")),
             ("N for target power", figures.n_for_target(curve)[1] or "not reached")]
    uri, cap = figures.power_curve(curve)
    rows = [(p["n"], _fmt(p.get("power"), 2),
             "-" if p.get("power") is None else f"{p['ci_lower']:.2f}-{p['ci_upper']:.2f}",
             p.get("n_failed", 0), p.get("n_wrong_direction", "-"),
             _fmt(p.get("mean_estimate"))) for p in curve["points"]]
    sections = [_what_was_run(items, []),
                "<h2>Power curve</h2>" + _figure_img(uri, cap, "power curve")
                + _table(("N", "power", "95% Monte Carlo CI", "failed analyses",
                          "wrong direction", "mean estimate"), rows, (0, 1, 3, 4, 5))]
    return _page(f"dyadsim power: {curve.get('trial')}", sections)


def build_report(run_dir: str | Path) -> str:
    """The HTML report of a ``simulate``, ``trial`` or ``power`` output folder."""
    run = Path(run_dir)
    if not run.is_dir():
        raise ReportError(f"run folder not found: {run}")
    try:
        if (run / "power.json").exists():
            return _power_dir(run)
        if (run / "results.json").exists():
            return _trial_dir(run)
        if (run / "summary.json").exists() and (run / "manifest.json").exists():
            return _simulation_dir(run)
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise ReportError(f"cannot read the run in {run}: {exc}") from None
    raise ReportError(f"{run} is not an output folder of dyadsim simulate, trial or power "
                      "(no summary.json, results.json or power.json)")


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``)
    atomically; returns its path."""
    from .._io import atomic_text

    html = build_report(run_dir)
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    if path.is_dir():
        raise ReportError(f"report path {path} is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_text(path, html)
    return path
