"""``dyadsim simulate`` (a scenario into a folder: trajectories, a per-dyad table, a summary
and a manifest), ``demo`` (the default population against low-risk mothers, as one table) and
``check`` (the perinatal course at default parameters against published ranges, and the
direction table; ``check --reach``: the reachability of the calibration targets).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from .._io import atomic_dir
from .._io import git_commit as _git_commit
from .._version import __version__
from ._common import (
    AllowOutsideOption,
    InputError,
    PlausibilityOption,
    PosteriorOption,
    QuietOption,
    ReportOption,
    SchedulerOption,
    WorkersOption,
    _check_out,
    _check_seed,
    _command_line,
    _console,
    _fail,
    _have_h5py,
    _input_errors,
    _parameter_source,
    _progress,
    _replication_run,
    _write_report,
    app,
)

if TYPE_CHECKING:  # the scenario (and JAX behind it) loads only when a command runs
    from ..scenario import Scenario


class TrajectoryFormat(StrEnum):
    netcdf = "netcdf"


def _pairs(items: list[str] | None, option: str, what: str) -> dict[str, float]:
    """Parse repeated ``name=value`` options; values are floats."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InputError(f"{option} {item!r} must look like {what}=value")
        try:
            out[name] = float(value)
        except ValueError:
            raise InputError(f"{option} {name}: value {value!r} is not a number") from None
    return out


#: Bytes per dyad besides its trajectories (outcomes: 172 B in the result; the burn-in's
#: key table, its sort and the enrolment states), rounded up.
DYAD_BYTES = 1024


#: Copies of the trajectories held at the peak (the chunks' parts, the joined arrays, the
#: file being written): the peak grew 2.8x the result's size per added dyad (10,000 ->
#: 30,000 dyads recorded weekly: +1.7 GB for +0.6 GB of result).
TRAJECTORY_COPIES = 3


def _available_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where there is none)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _size(b: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if b < 1000 or unit == "TB":
            return f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} TB"


def _check_memory(scenario: Scenario) -> None:
    """Refuse, before simulating, a run whose dyads' data alone (trajectories and
    outcomes at their peak, beside the ~1 GB the engine and libraries hold whatever the
    size) would exceed the memory available: the estimate, and how to make the run fit.
    The estimate is rough (see :data:`TRAJECTORY_COPIES`)."""
    from ..model.graph import NODES as nodes
    from ..scenario import RECORD_PERIODS

    n, rec, days = scenario.dyads, scenario.record, scenario.total_days
    periods = 0 if rec == "none" else -(-days // RECORD_PERIODS.get(rec, days))
    per_dyad = TRAJECTORY_COPIES * periods * (len(nodes) + 1) * 4 + DYAD_BYTES
    need, have = n * per_dyad, _available_memory()
    if have is None or need <= have:
        return
    fits = have // per_dyad
    hint = ("" if rec == "none" else "use --record none (outcomes only) or a coarser "
            "--record, or ") + (f"run at most about {fits:,} dyads at a time (several runs "
                                "with different --seed)" if fits else "free some memory")
    what = "(outcomes only)" if rec == "none" else f"recorded {rec}"
    raise InputError(f"{n:,} dyads {what} need about {_size(need)} of memory for their "
                     f"data, more than the {_size(have)} available; {hint}")


def _dyad_table(ds) -> Any:
    """One row per dyad: every variable with only the ``dyad`` dimension, and dyad_id."""
    import pandas as pd

    cols: dict[str, Any] = {"dyad_id": ds["dyad"].values}
    for name, var in ds.data_vars.items():
        if var.dims == ("dyad",):
            cols[str(name)] = var.values
    return pd.DataFrame(cols)


def _write_parquet(df, path: Path, meta: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[b"dyadsim"] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(md), path)


@app.command("simulate")
def simulate_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; must not "
                                      "exist or be empty unless --force).",
                                      show_default=False)],
    scenario: Annotated[Path | None, typer.Argument(
        metavar="SCENARIO.toml",
        help="Scenario TOML (keys: population, params, do, start, horizon, record, dyads, "
             "seed, name, description). Options override its entries.",
        show_default=False)] = None,
    dyads: Annotated[int | None, typer.Option(
        help="Number of dyads (default: the scenario's, else 1000).", show_default=False)]
    = None,
    seed: Annotated[int | None, typer.Option(
        help="Random seed (default: the scenario's, else 0).", show_default=False)] = None,
    record: Annotated[str | None, typer.Option(
        help="Trajectory recording: daily, weekly, monthly or none (outcomes only) "
             "(default: the scenario's, else weekly).", show_default=False)] = None,
    population: Annotated[str | None, typer.Option(
        help="Population preset (see `dyadsim populations`) (default: the scenario's, else "
             "pregnant_oud_moud).", show_default=False)] = None,
    start: Annotated[str | None, typer.Option(
        help="Start: gw20 (gestational week), pp42 / pp6w (postpartum day/week) or day0 "
             "(default: the population's).", show_default=False)] = None,
    horizon: Annotated[str | None, typer.Option(
        help="Horizon after birth (or after the start without a pregnancy): days or "
             "'24m', '40w', '90d' (default: the scenario's, else 24m).", show_default=False)]
    = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="Override a parameter: name=value (repeatable; see `dyadsim params`).",
        show_default=False)] = None,
    do: Annotated[list[str] | None, typer.Option(
        "--do", metavar="NODE=VALUE",
        help="Clamp a node for the whole run: node=value (repeatable; see `dyadsim graph`).",
        show_default=False)] = None,
    format: Annotated[TrajectoryFormat, typer.Option(
        "--format", help="Trajectory file format.")] = TrajectoryFormat.netcdf,
    posterior: PosteriorOption = None,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", help="With --posterior: the dyads are split across this many "
        "parameter draws.")] = 20,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    report: ReportOption = False,
    quiet: QuietOption = False,
) -> None:
    """Simulate dyads and write OUT/trajectories.nc (unless --record none), dyads.parquet
    (one row per dyad), summary.json and manifest.json. The folder appears complete or not
    at all. With --posterior the dyads are split across --posterior-draws parameter draws
    (dyad i under draw i*K//N, column posterior_draw), so the results carry parameter
    uncertainty, not only sampling noise."""
    from .._io import read_toml
    from ..reports.demo import outcome_rows
    from ..reports.summary import summarize
    from ..scenario import Scenario
    from ..simulation import simulate as run_simulation

    with _input_errors():
        overrides = _pairs(set_, "--set", "name")
        clamps = _pairs(do, "--do", "node")
        _check_out(out, force)
        sc = read_toml(scenario, "scenario") if scenario is not None else {}
        scn = Scenario.read(sc, dyads=dyads, seed=seed, population=population,
                            params=overrides, do=clamps, start=start, horizon=horizon,
                            record=record)
        if scn.record != "none" and not _have_h5py():
            _fail("writing trajectories.nc needs the h5py package (pip install h5py); "
                  "or run with --record none", code=1)
        _check_memory(scn)
        source = _parameter_source(posterior)
        with _progress(_console(stderr=True), quiet) as prog:
            task = prog.add_task("simulating", total=scn.dyads)
            tick = {"progress": lambda m: prog.advance(task, m)}
            if source is None:
                ds = run_simulation(scn, **tick)
            else:
                from ..simulation import simulate_over_draws

                ds = simulate_over_draws(scn, source.draws(posterior_draws, scn.seed), **tick)
        _check_out(out, force)

    summary = summarize(ds)
    attrs = ds.attrs
    files = (["trajectories.nc"] if attrs["record"] != "none" else []) + \
        ["dyads.parquet", "summary.json", "manifest.json"]
    manifest = {
        "dyadsim_version": __version__,
        "git_commit": _git_commit(),
        "command": _command_line(ctx),
        "argv": list(sys.argv),
        "seed": int(attrs["seed"]),
        "dyads": int(attrs["dyads"]),
        "scenario": None if scenario is None else {
            "path": str(scenario.resolve()), "content": sc},
        "population": json.loads(attrs["population"]),
        "start": attrs["start"],
        "horizon": horizon if horizon is not None else sc.get("horizon", "24m"),
        "horizon_days": int(attrs["horizon_days"]),
        "record": attrs["record"],
        "do": json.loads(attrs["do"]),
        "changed_parameters": json.loads(attrs["changed_parameters"]),
        "parameters": json.loads(attrs["parameters"]),
        "trajectory_format": format.value if attrs["record"] != "none" else None,
        "posterior": None if source is None else {
            **source.provenance(), "draws": posterior_draws,
            "assignment": "dyad i runs under draw i*K//N (column posterior_draw); "
                          "parameters lists the run-wide values before the draws"},
        "files": files,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    out = out.absolute()
    # the location was checked before simulating; an error while writing is one line too
    with _input_errors(), atomic_dir(out, force=force, hint="use --force to replace it") \
            as tmp:
        if attrs["record"] != "none":
            ds.to_netcdf(tmp / "trajectories.nc", engine="h5netcdf")
        _write_parquet(_dyad_table(ds), tmp / "dyads.parquet",
                       {k: manifest[k] for k in ("dyadsim_version", "seed", "dyads",
                                                 "population", "start", "horizon_days",
                                                 "do", "parameters")})
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str, ensure_ascii=False) + "\n")
    if _write_report(out, report):
        files.append("report.html")

    title = (f"Simulated {manifest['dyads']} dyads ({manifest['population']['name']}, "
             f"seed {manifest['seed']})")
    caption = (f"start {manifest['start']}, horizon {manifest['horizon_days']} days, record "
               f"{manifest['record']}; wrote {out}: {', '.join(files)}")
    if source is not None:
        caption += (f"; dyads split across {posterior_draws} parameter draws from "
                    f"{posterior}: means over all draws, CIs as if dyads were "
                    "independent (per draw: group dyads.parquet by posterior_draw)")
    table = Table(title=Text(title), caption=Text(caption), title_justify="left",
                  caption_justify="left")
    table.add_column("Outcome", style="bold")
    table.add_column("mean (95% CI)", justify="right")
    for row in outcome_rows(summary, brief=True):
        table.add_row(*row)
    _console().print(table)


@app.command("demo")
def demo_cmd(
    dyads: Annotated[int, typer.Option(min=1, help="Dyads per population.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (same for both).")] = 1,
    quiet: QuietOption = False,
) -> None:
    """Simulate pregnant women with OUD on MOUD and low-risk mothers from gestational week
    20 to 24 months postpartum, and print their main outcomes side by side."""
    from ..reports.demo import DEMO_POPULATIONS, demo_rows, demo_table
    from ..reports.summary import summarize
    from ..simulation import simulate as run_simulation

    summaries = []
    with _input_errors(), _progress(_console(stderr=True), quiet) as prog:
        tasks = [prog.add_task(name, total=dyads) for name, _ in DEMO_POPULATIONS]
        for (name, _), task in zip(DEMO_POPULATIONS, tasks, strict=True):
            advance: Callable[[int], None] = lambda m, t=task: prog.advance(t, m)  # noqa: E731
            ds = run_simulation(None, dyads=dyads, seed=seed, population=name, start="gw20",
                                horizon="24m", record="none", progress=advance)
            summaries.append(summarize(ds))
    rows = demo_rows(summaries[0], summaries[1])
    headings = [f"{label}\n({name})" for name, label in DEMO_POPULATIONS]
    _console().print(demo_table(
        rows, headings,
        title=f"dyadsim demo: {dyads} dyads per population, seed {seed}, "
              "gestational week 20 to 24 months postpartum",
        caption="Shares in % (of dyads, or of days), with 95% CIs where available; "
                "parenting and well-being on 0-1 scales. Many parameters are still "
                "uncalibrated guesses (`dyadsim params --guesses-only`): these are the "
                "model's predictions, not clinical estimates."))


@app.command("check")
def check_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for checks.json and checks.md.")],
    dyads: Annotated[int, typer.Option(help="Dyads per simulated run (>= 10).")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE", help="Override a parameter (repeatable).")] = None,
    posterior: PosteriorOption = None,
    posterior_draws: Annotated[int, typer.Option(
        "--posterior-draws", min=2, help="With --posterior: parameter draws (each one "
        "simulation of every run).")] = 20,
    posterior_dyads: Annotated[int | None, typer.Option(
        "--posterior-dyads", min=10, help="With --posterior: dyads per draw and run "
        "(default: --dyads / --posterior-draws).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a non-empty output folder.")]
    = False,
    quiet: QuietOption = False,
    reach: Annotated[bool, typer.Option(
        "--reach", help="Instead of the check table: the reachability table of the "
        "calibration targets (reach.json, reach.md), the range each target takes over the "
        "defaults and --reach-draws points of the prior. Resumable: replications are kept "
        "in OUT.store/ until OUT is written.")] = False,
    reach_draws: Annotated[int, typer.Option(
        "--reach-draws", min=2, help="With --reach: scrambled Sobol points of the prior "
        "(each one replication of every study).")] = 32,
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="With --reach: targets TOML (default: the shipped published "
        "targets).", show_default=False)] = None,
    allow_outside_paths: AllowOutsideOption = False,
    plausibility: PlausibilityOption = False,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
) -> None:
    """Simulate the population presets at default parameters and compare the perinatal
    course with published ranges (docs/model-checks.md): writes checks.json and checks.md
    and prints the table. With --posterior every row also gets the median and 90% interval
    over --posterior-draws parameter draws (each draw one simulation of every run). Then
    the direction table (data/directions.toml: do()-contrasts with the direction the
    literature states) at --dyads / 4 dyads per world, written as directions.md; with
    --posterior also the share of the draws in which each row's direction holds.

    With --reach: the reachability table instead (docs/model-checks.md), for every target
    of the calibration the range the model produces over the prior and whether the
    observation lies inside it."""
    from ..model.params import Parameters
    from ..reports import directions as dirs
    from ..reports.checks import RUNS, run_checks, write_checks

    if reach:
        _check_reach(out, targets, allow_outside_paths, reach_draws, seed, scheduler, workers,
                     force, quiet, conflicts={"--set": bool(set_),
                                              "--posterior": posterior is not None},
                     plausibility=plausibility)
        return
    with _input_errors():
        overrides = _pairs(set_, "--set", "name")
        Parameters(overrides)
        _check_out(out, force)
        source = _parameter_source(posterior)
        per_draw = posterior_dyads or max(10, dyads // posterior_draws)
        with _progress(_console(stderr=True), quiet) as prog:
            task = prog.add_task("check", total=(len(RUNS) + len(dirs.load()))
                                 * (1 + (source is not None)))
            tick = lambda name: prog.update(task, advance=1, description=name)  # noqa: E731
            rows = run_checks(dyads, seed, overrides or None, progress=tick)
            if source is not None:
                from ..reports.draws import check_over_draws
                from ..uncertainty import summarize_draws

                by_draw = check_over_draws(source.draws(posterior_draws, seed), per_draw, seed,
                                           overrides or None,
                                           progress=lambda name: tick(f"{name} (draws)"))
                for i, r in enumerate(rows):
                    r["posterior"] = summarize_draws([d[i]["value"] for d in by_draw])
            direction_rows = dirs.evaluate_rows(
                [dict(Parameters(overrides))], max(10, dyads // 4), seed, progress=tick)
            if source is not None:
                over = dirs.evaluate_rows(
                    [{**d, **overrides} for d in source.draws(posterior_draws, seed)],
                    per_draw, seed, progress=lambda name: tick(f"{name} (draws)"))
                dirs.add_draw_shares(direction_rows, over)
        meta = {"dyads": dyads, "seed": seed, "params": overrides,
                "dyadsim_version": __version__, "git_commit": _git_commit()}
        if source is not None:
            meta["posterior"] = {**source.provenance(), "draws": posterior_draws,
                                 "dyads_per_draw": per_draw,
                                 "assignment": "each draw one simulation of every run; "
                                               "rows' posterior: median and 5-95% over draws"}
        write_checks(rows, out, meta, force, directions=direction_rows)
    table = Table(title=Text(f"dyadsim check: {dyads} dyads per run, seed {seed}"),
                  caption=Text(f"wrote {out}: checks.json, checks.md"), title_justify="left",
                  caption_justify="left")
    cols = ("quantity", "model", "MC 95%", *(("posterior median (90%)",) if source else ()),
            "published", "inside", "range set a parameter", "source")
    for col in cols:
        table.add_column(col)
    for r in rows:
        value = "n/a" if r["value"] != r["value"] else f"{r['value']:.3g}"
        post = r.get("posterior")
        extra = () if post is None else (
            "n/a" if post["median"] is None else
            f"{post['median']:.3g} ({post['q05']:.3g}-{post['q95']:.3g})",)
        mc = "n/a" if r["mc_low"] != r["mc_low"] else f"{r['mc_low']:.3g}-{r['mc_high']:.3g}"
        table.add_row(r["quantity"], value, mc, *extra, f"{r['low']:.3g}-{r['high']:.3g}",
                      "yes" if r["inside"] else "no", r["used_for"] or "no (evidence)",
                      r["source"])
    _console().print(table)
    _console().print(dirs.rich_table(direction_rows))


def _check_reach(out: Path, targets: Path | None, allow_outside: bool, draws: int, seed: int,
                 scheduler: str | None, workers: int | None, force: bool, quiet: bool,
                 conflicts: dict[str, bool], plausibility: bool = False) -> None:
    """`dyadsim check --reach`: the reachability table (dyadsim.calibration.reach)."""
    from .._io import atomic_text
    from ..calibration import load_targets
    from ..calibration.reach import reach_markdown, reachability

    with _input_errors(resumable=True):
        for flag, given in conflicts.items():
            if given:
                raise InputError(f"{flag} does not apply to --reach (it runs over the prior)")
        _check_out(out, force)
        _check_seed(seed)
        target_set = load_targets(targets, allow_outside=allow_outside,
                                  plausibility=plausibility)
        with _replication_run(out, "reachability", quiet, scheduler, workers) as (
                store, pool, progress):
            rows = reachability(target_set, store=store, draws=draws, seed=seed, pool=pool,
                                progress=progress)
        meta = {"draws": draws, "seed": seed, "targets_file": str(targets) if targets else
                "shipped", "plausibility": plausibility, "targets_hash": target_set.hash,
                "dyadsim_version": __version__, "git_commit": _git_commit()}
        with atomic_dir(out, force=force, hint="use --force to replace it") as tmp:
            atomic_text(tmp / "reach.json", json.dumps(
                {**meta, "rows": [r.to_dict() for r in rows]}, indent=1, allow_nan=False))
            atomic_text(tmp / "reach.md", reach_markdown(rows, draws, seed))
        shutil.rmtree(store.path.parent, ignore_errors=True)
    table = Table(title=Text(f"dyadsim check --reach: defaults + {draws} prior draws, seed "
                             f"{seed}"), caption=Text(f"wrote {out}: reach.json, reach.md"),
                  title_justify="left", caption_justify="left")
    for col in ("output", "observed", "at defaults", "simulated min-max", "reachable", "why"):
        table.add_column(col)
    for r in rows:
        rng = "-" if r.sim_min is None else f"{r.sim_min:.3g} to {r.sim_max:.3g}"
        dft = "-" if r.at_defaults is None else f"{r.at_defaults:.3g}"
        table.add_row(r.output, f"{r.observed_low:.3g} to {r.observed_high:.3g}", dft, rng,
                      "yes" if r.reachable else "NO", r.why)
    _console().print(table)
