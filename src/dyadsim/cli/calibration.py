"""``dyadsim validate`` (every target replicated under the posterior and the prior) and
``calibrate`` (history matching, then a posterior on the emulators by tempered SMC or NUTS).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .._io import atomic_dir
from .._io import git_commit as _git_commit
from .._version import __version__
from ._common import (
    AllowOutsideOption,
    AnalysisQuiet,
    InputError,
    PlausibilityOption,
    SchedulerOption,
    WorkersOption,
    _check_out,
    _check_seed,
    _console,
    _csv_list,
    _fail,
    _fmt,
    _input_errors,
    _replication_run,
    app,
)


def _validation_table(result: dict[str, Any], out: Path) -> Table:
    t = Table(title=Text(f"dyadsim validate: score {_fmt(result['score'])} "
                         f"({result['n_passed']}/{result['n_scored']} targets pass), mean "
                         f"CRPS posterior {_fmt(result['mean_crps_posterior'])} vs prior "
                         f"{_fmt(result['mean_crps_prior'])}, {result['draws']} draws"),
              caption=Text(f"wrote {out.absolute()}; interval = 90% posterior-predictive "
                           "interval of the replicated study; CRPS standardised per target"),
              title_justify="left", caption_justify="left")
    for col in ("target", "statistic", "observed", "simulated (median)", "90% interval",
                "pass", "CRPS post", "CRPS prior"):
        t.add_column(col, justify="left" if col in ("target", "statistic") else "right")

    def show(v: Any) -> str:
        if isinstance(v, dict):
            return "; ".join(f"{k} {show(x)}" for k, x in v.items())
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return _fmt(v)

    for e in result["targets"]:
        ok = "-" if e["passed"] is None else "yes" if e["passed"] else "NO"
        t.add_row(e["id"], e["statistic"], show(e["observed"]), show(e["simulated_median"]),
                  show(e["interval_90"]), ok if e["passed"] is not None
                  else Text(e["status"], style="dim"), _fmt(e["crps_posterior"]),
                  _fmt(e["crps_prior"]))
    return t


@app.command("validate")
def validate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder: validation.json and "
                                      "validation.png.", show_default=False)],
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Targets TOML (docs/targets.md); default: the shipped published "
        "targets.", show_default=False)] = None,
    posterior: Annotated[str, typer.Option(
        "--posterior", help="'shipped', a posterior JSON file, or 'prior' (the prior "
        "stands in for the posterior).")] = "shipped",
    draws: Annotated[int, typer.Option("--draws", help="Parameter draws per ensemble (each "
                                       "draw replicates every study once).")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws and the "
                                      "replications.")] = 1,
    allow_outside_paths: AllowOutsideOption = False,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty OUT.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    loso: Annotated[Path | None, typer.Option(
        "--loso", help="Leave-one-study-out instead: the --out folder of `dyadsim "
        "calibrate`; each study predicted by the posterior refitted without its targets "
        "from the calibration's stored runs and emulators (--targets: where its targets "
        "file is now, if moved; --posterior and --seed do not apply).",
        show_default=False)] = None,
) -> None:
    """Replicate every target as its study was run, under the posterior and under the
    prior; pass = observed value inside the 90% posterior-predictive interval. With
    --loso, out of sample: each study predicted by a posterior fitted without it.
    Resumable: finished replications are kept in OUT.store/ until OUT is written."""
    from .._io import atomic_text
    from ..calibration import load_posterior, load_targets, run_validation
    from ..calibration.replicate import ReplicationStore
    from ..calibration.validate import write_figure
    from ..parallel import executor
    from ..uncertainty.prior import ess_problem

    with _input_errors():
        if isinstance(draws, bool) or draws < 2:
            raise InputError(f"--draws must be at least 2, got {draws}")
        _check_seed(seed)
        _check_out(out, force)
        if loso is not None:
            run, target_set = _loso_inputs(loso, targets, allow_outside_paths)
            post = None
        else:
            target_set = load_targets(targets, allow_outside=allow_outside_paths)
            post = None if posterior == "prior" else load_posterior(posterior)
    if post is not None:
        problem = ess_problem(post, posterior)
        if problem is not None and posterior != "shipped":
            _fail(problem, code=1)
        if problem is not None:  # the shipped fit predates the check: warn, do not refuse
            typer.echo(f"warning: {problem}; refit it (docs/calibration.md)", err=True)
    store_dir = out.absolute().with_name(f"{out.absolute().name}.store")
    if loso is not None and not (store_dir / "replications.jsonl").exists():
        store_dir.mkdir(parents=True, exist_ok=True)  # the calibration's runs, copied
        shutil.copyfile(loso / "replications.jsonl", store_dir / "replications.part")
        (store_dir / "replications.part").replace(store_dir / "replications.jsonl")
    store = ReplicationStore(store_dir / "replications.jsonl")
    console = _console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
               BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=quiet or not console.is_terminal) as prog:
        task = prog.add_task("validating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            prog.update(task, description=stage, completed=done, total=total)

        with _input_errors(), executor(scheduler, workers, 2) as pool:
            if loso is not None:
                from ..calibration.validate import leave_one_study_out

                result = leave_one_study_out(
                    target_set, store=store, settings=run.settings, seed=run.seed,
                    pool=pool, progress=progress, names=run.names, mcmc=run.mcmc,
                    draws=draws, in_sample=run.in_sample)
                result["calibration"] = str(loso.absolute())
            else:
                result = run_validation(target_set, post, draws=draws, seed=seed,
                                        store=store, progress=progress, pool=pool)
    result["dyadsim_version"] = __version__
    result["git_commit"] = _git_commit()
    result["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    with _input_errors(), atomic_dir(out, force=force, hint="use --force to replace it") \
            as tmp:
        atomic_text(tmp / "validation.json", json.dumps(result, indent=2, allow_nan=False))
        write_figure(result, tmp / "validation.png")
    shutil.rmtree(store_dir, ignore_errors=True)
    _console().print(_validation_table(result, out))
    if loso is not None:
        from ..calibration.validate import held_out_report

        for line in held_out_report(result):
            _console().print(line)
        if "in_sample" in result:
            r = result["in_sample"]
            _console().print(f"in sample (the calibration's {r['draws']} posterior runs): "
                             f"{r['n_passed']}/{r['n_scored']} pass, mean CRPS "
                             f"{_fmt(r['mean_crps_posterior'])}")


def _loso_inputs(folder: Path, targets: Path | None, allow_outside: bool
                 ) -> tuple[Any, Any]:
    """The calibration run of ``folder`` and its targets (at ``targets`` if given), which
    must be the ones it was fitted to; InputError otherwise."""
    from ..calibration import load_targets
    from ..calibration.replicate import code_hash
    from ..calibration.validate import CalibrationRun

    try:
        run = CalibrationRun.from_dir(folder)
    except ValueError as exc:
        raise InputError(f"--loso: {exc}") from None
    where = targets if targets is not None else \
        (None if run.targets_file == "shipped" else Path(run.targets_file))
    if where is not None and not where.is_file():
        raise InputError(f"--loso: the calibration's targets file {where} is gone; give "
                         "its new place with --targets")
    target_set = load_targets(where, allow_outside=allow_outside,
                              plausibility=run.plausibility)
    if target_set.hash != run.targets_hash:
        raise InputError(f"--loso: {where or 'the shipped targets'} are not the targets "
                         f"{folder} was fitted to (hash {target_set.hash[:12]} vs "
                         f"{run.targets_hash[:12]})")
    code = f'"code":"{code_hash()}"'
    with open(folder / "replications.jsonl") as fh:
        if not any(code in line for line in fh):
            raise InputError(f"--loso: {folder}'s runs were simulated by other model code; "
                             "leave-one-study-out needs the calibration's own runs "
                             "(refit with this version)")
    return run, target_set


@app.command("calibrate")
def calibrate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output folder: posterior.json, "
                                      "calibration.json and replications.jsonl.",
                                      show_default=False)],
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Targets TOML (docs/targets.md); default: the shipped published "
        "targets.", show_default=False)] = None,
    budget: Annotated[int, typer.Option("--budget", help="Simulator runs in all (one run = "
                                        "one parameter set, every study replicated once).")]
    = 160,
    waves: Annotated[int, typer.Option("--waves", min=1, max=6, help="History-matching "
                                       "waves.")] = 2,
    params: Annotated[str | None, typer.Option(
        "--params", help="Comma-separated parameters to calibrate (default: every declared "
        "parameter; the others stay at their defaults).", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the designs, the "
                                      "replications and the emulator fits.")] = 1,
    allow_outside_paths: AllowOutsideOption = False,
    plausibility: PlausibilityOption = False,
    replicates: Annotated[str, typer.Option(
        "--replicates", help="POINTSxSEEDS: wave-1 points each run with several seeds, for "
        "the run-to-run (co)variance (0x0: none; the GP's noise term stands in).")] = "4x4",
    sampler: Annotated[str, typer.Option(
        "--sampler", help="Posterior sampler on the emulators: smc (adaptive tempered SMC, "
        "4 independent runs; crosses between modes) or nuts (4 NUTS chains).")] = "smc",
    mcmc_draws: Annotated[int, typer.Option("--mcmc-draws", min=10, help="Particles per SMC "
                                            "run, or NUTS draws per chain (as many "
                                            "warm-up).")] = 1000,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", min=2, help="Posterior draws run through the simulator (the "
        "rows of posterior.json).")] = 200,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty OUT.")] = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Fit the model to published targets: history matching with one validated
    Gaussian-process emulator per target on the parameters that can reach it in the graph,
    then a posterior on the emulators (tempered SMC, or NUTS) and simulator runs at its draws
    (docs/calibration.md). Exit 1 when the posterior's effective sample size is below 100
    (written all the same, for inspection). Resumable: finished replications are kept in
    OUT.store/ until OUT is written; rerun the same command to resume."""

    from .._io import atomic_text
    from ..calibration import load_targets
    from ..calibration.fit import MCMCSettings, settings_for_budget
    from ..calibration.fit import calibrate as run_calibration
    from ..model.params import PARAMS
    from ..uncertainty.prior import ess_problem

    with _input_errors(resumable=True):
        _check_out(out, force)
        _check_seed(seed)
        points, _, seeds = replicates.partition("x")
        if not (points.isdigit() and seeds.isdigit()):
            raise InputError(f"--replicates must be POINTSxSEEDS, e.g. 4x4, got {replicates!r}")
        try:
            settings = settings_for_budget(budget, waves, replicate_points=int(points),
                                           replicate_seeds=int(seeds))
            mcmc = MCMCSettings(warmup=mcmc_draws, draws=mcmc_draws,
                                posterior_draws=posterior_draws, sampler=sampler)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        names = _csv_list(params, "--params") if params is not None else None
        for k in names or []:
            if k not in PARAMS:
                raise InputError(f"--params: unknown parameter {k!r} (see `dyadsim params`)")
        target_set = load_targets(targets, allow_outside=allow_outside_paths,
                                  plausibility=plausibility)
        with _replication_run(out, "calibrating", quiet, scheduler, workers) as (
                store, pool, progress):
            result = run_calibration(target_set, store=store, settings=settings, seed=seed,
                                     pool=pool, progress=progress, names=names,
                                     version=__version__, mcmc=mcmc)
        summary = result.summary()
        summary.update({"dyadsim_version": __version__, "git_commit": _git_commit(),
                        "targets_file": str(targets.absolute()) if targets else "shipped",
                        "plausibility": plausibility, "params": names,
                        "targets_hash": target_set.hash, "seed": seed})
        with atomic_dir(out, force=force, hint="use --force to replace it") as tmp:
            atomic_text(tmp / "posterior.json",
                        json.dumps(result.posterior.to_dict(), indent=1, allow_nan=False))
            atomic_text(tmp / "calibration.json",
                        json.dumps(summary, indent=2, allow_nan=False))
            shutil.copyfile(store.path, tmp / "replications.jsonl")
        shutil.rmtree(store.path.parent, ignore_errors=True)
    c = _console()
    c.print(f"calibrated {len(result.posterior.parameters)} parameters to "
            f"{len(result.outputs)} observed values with {summary['simulator_runs']} "
            f"simulator runs and {summary['posterior_runs']} at posterior draws "
            f"({summary['replications_computed']} replications computed) in "
            f"{summary['seconds'] / 60:.1f} min; effective sample size "
            f"{summary['effective_sample_size']}; wrote {out.absolute()}")
    failed = summary["diagnostics"]["failed_emulators"]
    if failed:
        c.print(f"emulators that failed validation (they cut nothing): {', '.join(failed)}")
    problem = ess_problem(result.posterior, str(out / "posterior.json"))
    if problem is not None:
        _fail(problem, code=1)
