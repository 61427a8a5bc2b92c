"""``dyadsim mechanisms`` (path-specific and natural direct/indirect effects),
``knockout`` (edges, loops or every edge removed) and ``sensitivity`` (Sobol or Morris): the
analyses of the model's structure, each optionally under parameter draws (``--posterior``).
"""

from __future__ import annotations

import shutil
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ._common import (
    AnalysisQuiet,
    InputError,
    SchedulerOption,
    WorkersOption,
    _analysis_progress,
    _check_out,
    _checkpoint_dir,
    _console,
    _csv_list,
    _input_errors,
    _parameter_source,
    _stdout,
    app,
)

DyadsOption = Annotated[int, typer.Option(min=2, help="Simulated dyads (the same dyads and "
                                          "draws in every world).")]
ArmOption = Annotated[str | None, typer.Option(show_default=False)]
PresetOption = Annotated[str, typer.Option(help="Population preset (without --spec).")]
StartOption = Annotated[str | None, typer.Option(show_default=False)]
SeedOption = Annotated[int | None, typer.Option(min=0, show_default=False)]
AnalysisPosteriorOption = Annotated[str | None, typer.Option(
    "--posterior", metavar="shipped|PATH|prior", help="Run under parameter uncertainty: "
    "draws from the shipped posterior, a posterior JSON file or the prior (see "
    "docs/analysis.md for the estimand).", show_default=False)]
AnalysisDrawsOption = Annotated[int, typer.Option(
    "--posterior-draws", min=2, help="With --posterior: the dyads are split across this many "
    "parameter draws and the effects averaged over them.")]


def _analysis_draws(posterior: str | None, draws: int, dyads: int, seed: int):
    """(parameter draws, the manifest's posterior entry), or (None, None) without
    --posterior; a bad posterior file is a one-line error."""
    source = _parameter_source(posterior)
    if source is None:
        return None, None
    from ..analysis.posterior import ESTIMAND

    if draws > dyads:
        raise InputError(f"--posterior-draws {draws} is more than --dyads {dyads} (each draw "
                         "needs its own dyads)")
    return source.draws(draws, seed), {**source.provenance(), "draws": draws,
                                       "estimand": ESTIMAND.format(k=draws,
                                                                   source=source.source)}


def _analysis_setting(spec: Path | None, arm: str | None, population: str, start: str | None,
                      horizon: str, dyads: int, seed: int | None):
    """(engine setting, seed) from a trial spec's arm or from a population preset."""
    from ..analysis.arms import arm_setting
    from ..engine.batch import Setting

    if spec is not None:
        if arm is None:
            raise InputError("--spec needs --arm (the arm whose model is analysed)")
        setting, spec_seed = arm_setting(spec, arm, dyads)
        return setting, spec_seed if seed is None else seed
    if arm is not None:
        raise InputError("--arm needs --spec")
    return Setting.from_population(population, start=start, horizon=horizon), seed or 0


@app.command("mechanisms")
def mechanisms_cmd(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="Trial spec TOML.",
                                         show_default=False)],
    outcome: Annotated[str, typer.Option(metavar="NODE_OR_OUTCOME", help="A per-dyad outcome "
                                         "(attachment_security_12m, secure_attachment, "
                                         "child_wellbeing_24m, use_share, parenting_mean, ...) "
                                         "or a node (its last-day value).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for effects.csv, "
                                      "effects.json and manifest.json.")],
    treatment: Annotated[str | None, typer.Option(help="Treatment arm (default: the primary "
                                                  "analysis').", show_default=False)] = None,
    control: Annotated[str | None, typer.Option(help="Control arm (default: the primary "
                                                "analysis').", show_default=False)] = None,
    mediator: Annotated[list[str] | None, typer.Option(
        help="Node for natural direct/indirect effects (repeatable).",
        show_default=False)] = None,
    dyads: DyadsOption = 2000,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (default: the spec's).",
                                             show_default=False)] = None,
    posterior: AnalysisPosteriorOption = None,
    posterior_draws: AnalysisDrawsOption = 10,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Decompose the total effect of an arm contrast on an outcome into path-specific effects
    along MORE's declared paths and natural direct/indirect effects through --mediator
    nodes, by nested counterfactual simulation with common random numbers; with --posterior
    averaged over parameter draws."""
    from ..analysis.arms import default_contrast, load_arms
    from ..analysis.mechanisms import MORE_PATHS, TrialWorlds, check_paths, decompose
    from ..analysis.mechanisms import mediator_nodes as _mediators
    from ..analysis.output import manifest, write_folder

    with _input_errors():
        _check_out(out, force)
        t0, c0 = default_contrast(spec)
        meds = _mediators(mediator or [])
        check_paths(MORE_PATHS)
        thetas, drawn = _analysis_draws(posterior, posterior_draws, dyads,
                                        load_arms(spec).seed if seed is None else seed)
        with _analysis_progress(quiet) as prog:
            task = prog.add_task("worlds", total=dyads * (2 + len(MORE_PATHS) + len(meds)))
            worlds = TrialWorlds(spec, treatment or t0, control or c0, outcome, dyads=dyads,
                                 seed=seed, thetas=thetas,
                                 progress=lambda m: prog.advance(task, m))
            dec = decompose(worlds, MORE_PATHS, meds, groups=worlds.groups)
        table = _pd().DataFrame([e.to_dict() for e in dec.estimates])
        opts = {"spec": str(spec), "outcome": outcome, "treatment": worlds.arm["treatment"],
                "control": worlds.arm["control"], "mediators": meds, "dyads": dyads,
                "seed": worlds.seed, "paths": [p.__dict__ for p in MORE_PATHS],
                "posterior": drawn}
        write_folder(out, {"effects.csv": table, "effects.json": {**dec.to_dict(), **opts},
                           "manifest.json": manifest("mechanisms", opts)}, force=force)
    t = Table(title=Text(f"{outcome}: {worlds.arm['treatment']} vs {worlds.arm['control']}, "
                         f"{dec.dyads_used} dyads, seed {worlds.seed}"),
              caption=Text(f"path parts sum to {dec.sum_of_parts:.4g} (total "
                           f"{dec.total:.4g}); " + (
                               "95% Monte Carlo intervals" if drawn is None else
                               f"averaged over {posterior_draws} parameter draws from "
                               f"{drawn['source']}: 95% intervals over draws (Monte Carlo and "
                               "parameter uncertainty); 'draws 5-95%': spread of the per-draw "
                               "effects") + f"; wrote {out.absolute()}"),
              title_justify="left", caption_justify="left")
    cols = ["effect", "estimate", "95% interval"] + ([] if drawn is None else ["draws 5-95%"])
    for col in cols:
        t.add_column(col, justify="left" if col == "effect" else "right")
    for e in dec.estimates:
        d = e.to_dict()
        spread = [] if e.per_draw is None else [f"{d['draws_q05']:.4g} to {d['draws_q95']:.4g}"]
        t.add_row(Text(e.name), f"{e.mean:.4g}", f"{e.lo:.4g} to {e.hi:.4g}", *spread)
    _console().print(t)


def _pd():
    import pandas as pd

    return pd


@app.command("knockout")
def knockout_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for knockouts.csv, "
                                      "ranking_<outcome>.csv and manifest.json.")],
    edges: Annotated[str | None, typer.Option(metavar="A->B,...", help="Edges to remove "
                                              "(weight 0).", show_default=False)] = None,
    loops: Annotated[str | None, typer.Option(metavar="NAME,...", help="Named loops to "
                                              "remove (all their edges).",
                                              show_default=False)] = None,
    all_edges: Annotated[bool, typer.Option("--all-edges", help="Knock out every edge, one "
                                            "at a time, and rank them.")] = False,
    outcomes: Annotated[str, typer.Option(metavar="NAME,...", help="Outcomes.")]
    = "attachment_security_12m,child_wellbeing_24m",
    spec: Annotated[Path | None, typer.Option(metavar="SPEC.toml", help="Analyse an arm of "
                                              "this trial spec (with --arm).",
                                              show_default=False)] = None,
    arm: ArmOption = None,
    population: PresetOption = "pregnant_oud_moud",
    start: StartOption = None,
    horizon: Annotated[str, typer.Option(help="After birth (e.g. 24m).")] = "24m",
    dyads: DyadsOption = 500,
    seed: SeedOption = None,
    posterior: AnalysisPosteriorOption = None,
    posterior_draws: AnalysisDrawsOption = 10,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Effect of removing edges (--edges), the paper's named loops (--loops) or every edge
    (--all-edges, ranked) on --outcomes, beside the intact model on the same dyads; with
    --posterior averaged over parameter draws."""
    from ..analysis.knockout import BLOCK, plan_knockouts, rank, run_knockouts
    from ..analysis.output import manifest, write_folder
    from ..parallel import executor

    with _input_errors():
        _check_out(out, force)
        kos = plan_knockouts(_csv_list(edges, "--edges"), _csv_list(loops, "--loops"),
                             all_edges)
        outs = _csv_list(outcomes, "--outcomes")
        setting, sd = _analysis_setting(spec, arm, population, start, horizon, dyads, seed)
        thetas, drawn = _analysis_draws(posterior, posterior_draws, dyads, sd)
        k = 1 if thetas is None else len(thetas)
        with _analysis_progress(quiet) as prog, \
                executor(scheduler, workers, k * -(-len(kos) // BLOCK)) as pool:
            task = prog.add_task("knock-outs", total=len(kos) * k)
            table = run_knockouts(setting, kos, outs, dyads=dyads, seed=sd, pool=pool,
                                  thetas=thetas, progress=lambda m: prog.advance(task, m))
        opts = {"knockouts": kos, "outcomes": outs, "spec": str(spec) if spec else None,
                "arm": arm, "population": population, "start": start, "horizon": horizon,
                "dyads": dyads, "seed": sd, "posterior": drawn}
        files: dict[str, Any] = {"knockouts.csv": table,
                                 "manifest.json": manifest("knockout", opts)}
        for o in outs:
            files[f"ranking_{o}.csv"] = rank(table, o)
        write_folder(out, files, force=force)
    for o in outs:
        r = rank(table, o).head(10)
        under = "" if drawn is None else \
            f", averaged over {posterior_draws} draws from {drawn['source']}"
        t = Table(title=Text(f"{o}: largest knock-out effects ({dyads} dyads, seed {sd}"
                             f"{under})"), title_justify="left")
        for col in ("rank", "knockout", "effect", "95% interval"):
            t.add_column(col, justify="left" if col == "knockout" else "right")
        for _, row in r.iterrows():
            t.add_row(str(row["rank"]), Text(row["knockout"]), f"{row['effect']:.4g}",
                      f"{row['ci_low']:.4g} to {row['ci_high']:.4g}")
        _console().print(t)
    _stdout(f"wrote {out.absolute()}")


class SAMethod(StrEnum):
    sobol = "sobol"
    morris = "morris"


@app.command("sensitivity")
def sensitivity_cmd(
    params: Annotated[str, typer.Option(metavar="NAME,...", help="Parameters varied over "
                                        "their declared bounds.")],
    outcomes: Annotated[str, typer.Option(metavar="NAME,...", help="Outcomes (dyad means).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for indices.csv, "
                                      "samples.csv, outputs.csv and manifest.json.")],
    method: Annotated[SAMethod, typer.Option(help="Sobol indices or Morris screening.")]
    = SAMethod.sobol,
    n: Annotated[int, typer.Option("--n", min=2, help="Base samples (Sobol: a power of two; "
                                   "Morris: trajectories).")] = 64,
    spec: Annotated[Path | None, typer.Option(metavar="SPEC.toml", show_default=False,
                                              help="Analyse an arm of this trial spec.")]
    = None,
    arm: ArmOption = None,
    population: PresetOption = "pregnant_oud_moud",
    start: StartOption = None,
    horizon: Annotated[str, typer.Option(help="After birth (e.g. 12m).")] = "12m",
    dyads: DyadsOption = 200,
    seed: SeedOption = None,
    posterior: Annotated[str | None, typer.Option(
        "--posterior", metavar="shipped|PATH|prior", help="Sample --params from the "
        "posterior's marginals (as independent), the other parameters at its point values, "
        "instead of uniformly over the declared bounds.", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a killed run from its "
                                         "checkpoint (OUT.checkpoint).")] = False,
    block: Annotated[int, typer.Option(min=1, help="Parameter sets per engine call and "
                                       "checkpoint (never changes results).")] = 32,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: AnalysisQuiet = False,
) -> None:
    """Global sensitivity with SALib: first- and total-order Sobol indices (or Morris mu*,
    sigma) of --outcomes to --params, with bootstrap 95% intervals; each block of parameter
    sets is one engine batch, checkpointed so that --resume after a crash gives the same
    files as an uninterrupted run."""
    from ..analysis import posterior as pa
    from ..analysis import sensitivity as sa
    from ..analysis.output import manifest, write_folder
    from ..parallel import executor

    with _input_errors():
        _check_out(out, force)
        names = _csv_list(params, "--params")
        outs = _csv_list(outcomes, "--outcomes")
        prob = sa.problem(names)
        setting, sd = _analysis_setting(spec, arm, population, start, horizon, dyads, seed)
        source = _parameter_source(posterior)
        drawn = None
        if source is None:
            x = u = sa.sample(prob, method.value, n, sd)
        else:
            point = pa.point_values(source)
            prob = sa.unit_problem(prob)
            u = sa.sample(prob, method.value, n, sd)
            x = pa.marginal_sample(source, names, u)
            setting = pa.under_draw(setting, point)
            drawn = {**source.provenance(), "point_values": point,
                     "distribution": "each --params parameter from its marginal (posterior: "
                     "weighted empirical inverse CDF; uncalibrated: prior), treated as "
                     "independent; the other parameters at point_values (weighted posterior "
                     "medians; uncalibrated ones at their defaults)"}
        model = sa.ModelBlock(setting, names, outs, dyads, sd, shift=source is not None)
        opts = {"method": method.value, "params": names, "outcomes": outs, "n": n,
                "spec": str(spec) if spec else None, "arm": arm, "population": population,
                "start": start, "horizon": horizon, "dyads": dyads, "seed": sd,
                "bounds": sa.problem(names)["bounds"], "posterior": drawn}
        ck = _checkpoint_dir(out)
        if ck.exists() and not resume:
            shutil.rmtree(ck)
        with _analysis_progress(quiet) as prog, \
                executor(scheduler, workers, -(-len(x) // block)) as pool:
            task = prog.add_task("parameter sets", total=len(x))
            y = sa.evaluate(x, model, checkpoint=ck, pool=pool, block=block,
                            fingerprint=sa.fingerprint(**opts, block=block),
                            progress=lambda m: prog.advance(task, m))
        table = sa.analyze(prob, method.value, u, y, outs, sd)
        pd = _pd()
        write_folder(out, {"indices.csv": table,
                           "samples.csv": pd.DataFrame(x, columns=names),
                           "outputs.csv": pd.DataFrame(y, columns=outs),
                           "manifest.json": manifest("sensitivity", opts)}, force=force)
        shutil.rmtree(ck, ignore_errors=True)
    cols = ["S1", "ST"] if method == SAMethod.sobol else ["mu_star", "sigma"]
    t = Table(title=Text(f"{method.value}: {len(x)} parameter sets x {dyads} dyads"),
              caption=Text(f"wrote {out.absolute()}"), title_justify="left",
              caption_justify="left")
    for col in ("outcome", "parameter", *cols):
        t.add_column(col, justify="right" if col in cols else "left")
    for _, row in table.iterrows():
        t.add_row(row["outcome"], row["parameter"], *(f"{row[c]:.3g}" for c in cols))
    _console().print(t)
