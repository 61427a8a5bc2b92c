"""``dyadsim trial`` (an in-silico randomised trial from a TOML spec, once or as replicates),
``power`` (power by simulation over sample sizes) and ``predict`` (posterior-predictive
effects of a perinatal trial's arms).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from .._io import atomic_dir
from .._io import git_commit as _git_commit
from .._version import __version__
from ._common import (
    InputError,
    PosteriorOption,
    QuietOption,
    ReportOption,
    _check_out,
    _checkpoint_dir,
    _command_line,
    _console,
    _fail,
    _fmt,
    _have_h5py,
    _input_errors,
    _parameter_source,
    _stage_progress,
    _StageTasks,
    _write_report,
    app,
)


def _fmt_p(p: Any) -> str:
    return "-" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"


def _spec_with_seed(spec_path: Path, seed: int | None):
    from ..trials.design import load_spec

    spec = load_spec(spec_path)
    return spec.with_changes(seed=seed) if seed is not None else spec


@app.command("trial")
def trial_cmd(
    ctx: typer.Context,
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML: every "
                                         "key in docs/trial-spec.md; names in `dyadsim "
                                         "interventions`, `dyadsim instruments --population "
                                         "P`, `dyadsim methods`, `dyadsim outcomes`.",
                                         show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; must not "
                                      "exist or be empty unless --force).",
                                      show_default=False)],
    replicates: Annotated[int, typer.Option(help="Replicate trials (R > 1 also writes "
                                            "replicates.json and replicates.parquet).")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, help="Trial seed (default: the spec's).",
                                             show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes for replicates "
                                                "(default: CPU count; 1 = serial).",
                                                show_default=False)] = None,
    posterior: PosteriorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: ReportOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run an in-silico randomised trial and write OUT/data.parquet (the trial's long
    table), latent.nc (latent trajectories), results.json (every analysis) and
    manifest.json; with --replicates R > 1 also replicates.json and replicates.parquet
    (each estimate over R replicate trials). The folder appears complete or not at all.
    With --posterior replicate r runs under posterior draw r (the single trial written
    under draw 0), so the share rejecting is assurance, not power at fixed parameters."""
    from ..trials.runner import run_replicates, run_trial, write_trial

    with _input_errors(resumable=replicates > 1):
        if replicates < 1:
            raise InputError(f"--replicates must be a positive integer, got {replicates}")
        _check_out(out, force)
        s = _spec_with_seed(spec, seed)
        source = _parameter_source(posterior)
        thetas = None if source is None else source.draws(replicates, s.seed)
        if not _have_h5py():
            _fail("writing latent.nc needs the h5py package (pip install h5py)", code=1)
        with _stage_progress(_console(stderr=True), quiet) as prog:
            cb = _StageTasks(prog)
            result = run_trial(s, progress=cb, theta=None if thetas is None else thetas[0])
            rep = (run_replicates(s, replicates, workers=workers, progress=cb,
                                  checkpoint=_checkpoint_dir(out), parameter_draws=thetas)
                   if replicates > 1 else None)
        _check_out(out, force)
        write_trial(result, out, force=force, replicates=rep, command=_command_line(ctx),
                    posterior=None if source is None else {
                        **source.provenance(), "draws": replicates,
                        "assignment": "replicate r runs under draw r of "
                                      "draws(replicates, seed); the single trial under draw 0"})
        shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
        _write_report(out, report)

    arms = ", ".join(f"{k} {v}" for k, v in result.results["arms"].items())
    lost = result.results["dropout"]["overall"]
    if rep is None:
        table = Table(title=Text(f"{s.trial.name}: N = {s.n} ({arms}), seed {s.seed}"),
                      caption=Text(f"lost to follow-up by the last assessment: {lost:.0%}; "
                                   f"wrote {out.absolute()}"),
                      title_justify="left", caption_justify="left")
        table.add_column("analysis", style="bold")
        table.add_column("effect")
        table.add_column("estimate (95% CI)", justify="right")
        table.add_column("p", justify="right")
        for a in s.analysis:
            r = result.results[a.name]
            upper = ("inf" if r["ci_upper"] is None and (r.get("flags") or {}).get(
                "ci_unbounded") else _fmt(r["ci_upper"]))
            cell = (f"{_fmt(r['estimate'])} ({_fmt(r['ci_lower'])}, {upper})"
                    if r["error"] is None else f"failed: {r['error']}")
            table.add_row(Text(a.name + (" *" if a.primary else "")),
                          Text(f"{a.method}: {a.effect}"), Text(cell), _fmt_p(r["p"]))
    else:
        table = Table(title=Text(f"{s.trial.name}: {replicates} replicate trials of N = "
                                 f"{s.n}, seed {s.seed}"),
                      caption=Text(f"mean dropout {rep['dropout_mean']:.0%}; wrote "
                                   f"{out.absolute()}"),
                      title_justify="left", caption_justify="left")
        table.add_column("analysis", style="bold")
        table.add_column("effect")
        table.add_column("mean estimate", justify="right")
        table.add_column("2.5-97.5%", justify="right")
        table.add_column("assurance (95% CI)" if thetas is not None
                         else "rejecting (95% CI)", justify="right")
        table.add_column("failed", justify="right")
        for name, a in rep["analyses"].items():
            sm = a["summary"]
            ci = a["power_ci"]
            table.add_row(Text(name + (" *" if a["primary"] else "")),
                          Text(f"{a['method']}: {a['effect']}"
                               + (f" ({a['direction']})" if a.get("direction") else "")),
                          _fmt(sm.get("mean")),
                          f"{_fmt(sm.get('q025'))} to {_fmt(sm.get('q975'))}",
                          f"{a['power']:.2f} ({ci[0]:.2f}, {ci[1]:.2f})", str(a["n_failed"]))
    _console().print(table)


def _parse_ns(text: str) -> list[int]:
    ns = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            v = int(part)
        except ValueError:
            raise InputError(f"--n {text!r}: {part!r} is not an integer") from None
        if v < 1:
            raise InputError(f"--n: sample sizes must be positive, got {v}")
        ns.append(v)
    if not ns:
        raise InputError("--n needs at least one sample size, e.g. --n 40,80,160")
    return ns


@app.command("power")
def power_cmd(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML.",
                                         show_default=False)],
    n: Annotated[str, typer.Option("--n", help="Total sample sizes, comma-separated.")]
    = "40,80,160,320",
    replicates: Annotated[int, typer.Option(help="Replicate trials per N.")] = 200,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", metavar="ANALYSIS_NAME",
        help="The [[analysis]] whose power is computed (default: the primary one).",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for power.json and "
                                             "power.png.", show_default=False)] = None,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="Significance level.")]
    = 0.05,
    seed: Annotated[int | None, typer.Option(min=0, help="Trial seed (default: the spec's).",
                                             show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: "
                                                "CPU count; 1 = serial).",
                                                show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="Run the replicates on this Dask scheduler "
        "(tcp://host:8786) instead of local processes.", show_default=False)] = None,
    posterior: PosteriorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: Annotated[bool, typer.Option("--report", help="Also write OUT/report.html (needs "
                                         "--out): one self-contained HTML report.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Power by simulation: run --replicates trials at each N in --n, print power with a
    95% CI per N and the N for 80% power; with --out write power.json and power.png. With
    --posterior replicate r (at every N) runs under posterior draw r: the curve is then
    assurance (power averaged over parameter uncertainty)."""
    from ..trials.power import plot_power, power_curve

    with _input_errors(resumable=out is not None):
        if replicates < 1:
            raise InputError(f"--replicates must be a positive integer, got {replicates}")
        ns = _parse_ns(n)
        if report and out is None:
            raise InputError("--report needs --out (the report is written into that folder)")
        if out is not None:
            _check_out(out, force)
        s = _spec_with_seed(spec, seed)
        if not 0.0 < alpha < 1.0:
            raise InputError(f"--alpha must be in (0, 1), got {alpha}")
        source = _parameter_source(posterior)
        thetas = None if source is None else source.draws(replicates, s.seed)
        from ..parallel import executor

        with _stage_progress(_console(stderr=True), quiet) as prog, \
                executor(scheduler, 1, 1) as pool:
            curve = power_curve(s, ns=ns, replicates=replicates, analysis=outcome,
                                alpha=alpha, executor=pool, workers=workers,
                                progress=_StageTasks(prog),
                                checkpoint=None if out is None else _checkpoint_dir(out),
                                parameter_draws=thetas)
        if source is not None:
            curve["posterior"] = {**source.provenance(), "draws": replicates,
                                  "assignment": "replicate r runs under draw r at every N"}
        if out is not None:
            _check_out(out, force)
            target = out.absolute()
            with atomic_dir(target, force=force, hint="use --force to replace it") as tmp:
                (tmp / "power.json").write_text(json.dumps(curve, indent=2, allow_nan=False)
                                                + "\n")
                plot_power(curve, tmp / "power.png")
            shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
            _write_report(target, report)

    kind = "assurance" if source is not None else "power"
    table = Table(title=Text(f"{curve['trial']}: {kind} of {curve['analysis']} "
                             f"({curve['method']}: {curve['effect']}; {curve['significance']}),"
                             f" {replicates} replicates per N"),
                  title_justify="left", caption_justify="left",
                  caption=Text(f"wrote {out.absolute()}: power.json, power.png")
                  if out is not None else None)
    table.add_column("N", justify="right")
    table.add_column(kind, justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("mean estimate", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("wrong direction", justify="right")
    for p in curve["points"]:
        table.add_row(str(p["n"]), f"{p['power']:.2f}",
                      f"{p['ci_lower']:.2f}-{p['ci_upper']:.2f}", _fmt(p["mean_estimate"]),
                      str(p["n_failed"]), str(p["n_wrong_direction"]))
    console = _console()
    console.print(table)
    console.print(Text(f"N for {curve['target']:.0%} {kind} "
                       f"(probit(power) ~ sqrt(N) over all replicates): "
                       f"{curve['n_for_power']['text']}"))


@app.command("predict")
def predict_cmd(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML of a "
                                         "perinatal trial (e.g. "
                                         "examples/prenatal_more_trial.toml).",
                                         show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: predict.json and "
                                      "predict.png.", show_default=False)],
    posterior: Annotated[str, typer.Option(
        "--posterior", metavar="shipped|PATH|prior", help="Parameter draws: the shipped "
        "posterior, a posterior JSON file or the prior.")] = "shipped",
    draws: Annotated[int, typer.Option("--draws", min=2, help="Parameter draws for the "
                                       "effects.")] = 20,
    n: Annotated[int, typer.Option("--n", min=2, help="Dyads per arm and draw (the same "
                                   "dyads in every arm and draw).")] = 200,
    power_n: Annotated[str, typer.Option("--power-n", help="Total trial sizes for the "
                                         "assurance curve on attachment security, "
                                         "comma-separated, or 'none'.")] = "300,900",
    power_replicates: Annotated[int, typer.Option(
        "--power-replicates", min=1, help="Replicate trials per size (replicate r under "
        "draw r).")] = 20,
    analysis: Annotated[str | None, typer.Option(
        "--analysis", help="The attachment-security analysis (default: the spec's ssp "
        "'secure' analysis).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the spec's).",
                                             show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: QuietOption = False,
) -> None:
    """Posterior-predictive effects of a perinatal trial's arms (MORE in pregnancy vs
    postpartum vs usual care) on opioid use, NOWS, parenting, attachment security and child
    well-being, with 90% intervals over parameter draws, how much of each comes from the
    pregnancy-only parameters (held at their priors), and the N for 80% assurance on
    attachment security. Resumable: finished power replicates are kept in OUT.checkpoint/."""
    from .._io import atomic_text
    from ..prediction import plot_prediction
    from ..prediction import predict as run_prediction

    with _input_errors(resumable=True):
        _check_out(out, force)
        ns = [] if power_n.strip().lower() == "none" else _parse_ns(power_n)
        s = _spec_with_seed(spec, seed)
        source = _parameter_source(posterior)
        with _stage_progress(_console(stderr=True), quiet) as prog:
            result = run_prediction(s, source, draws=draws, dyads=n, power_ns=ns,
                                    power_replicates=power_replicates, analysis=analysis,
                                    checkpoint=_checkpoint_dir(out),
                                    progress=_StageTasks(prog))
        result.update({"dyadsim_version": __version__, "git_commit": _git_commit(),
                       "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                       "spec": str(spec)})
        _check_out(out, force)
        with atomic_dir(out.absolute(), force=force) as tmp:
            atomic_text(tmp / "predict.json", json.dumps(result, indent=2, allow_nan=False))
            plot_prediction(result, tmp / "predict.png")
        shutil.rmtree(_checkpoint_dir(out), ignore_errors=True)
    p = result["posterior"]
    t = Table(title=Text(f"{result['trial']}: posterior-predictive effects, {draws} draws "
                         f"({p['source']}), {n} dyads per arm, seed {result['seed']}"),
              caption=Text(f"{result['statement']} Wrote {out.absolute()}: predict.json, "
                           "predict.png"), title_justify="left", caption_justify="left")
    for col in ("contrast", "outcome", "median", "90% interval", "from pregnancy-only"):
        t.add_column(col, justify="left" if col in ("contrast", "outcome") else "right")
    for e in result["effects"]:
        share = e["share_from_pregnancy_only"]
        t.add_row(Text(e["contrast"]), Text(e["label"]), _fmt(e["median"]),
                  "-" if e["median"] is None else f"{e['q05']:.3g} to {e['q95']:.3g}",
                  "-" if share is None else f"{share:.0%}")
    console = _console()
    console.print(t)
    ap = result["attachment_power"]
    if ap is not None:
        console.print(Text(f"N for {ap['target']:.0%} assurance on {ap['analysis']}: "
                           f"{ap['n_for_target']['text']}"))
