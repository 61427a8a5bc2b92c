"""Many replicate trials of one design: their operating characteristics (the estimate over
replicates and honest power), run through any executor and resumable from a checkpoint.

Replicate ``r`` is :func:`dyadsim.trials.trial.run_trial` with ``replicate=r`` (same ids,
streams and results), whatever the executor, the number of workers or the batching.
Power counts every replicate in its denominator: a failed analysis is a non-rejection
(``n_failed``), and so is a significant result against the analysis' pre-specified
``direction`` (``n_wrong_direction``).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_text
from ..parallel import default_workers, owned_executor
from .analysis import _jsonable, summarize_replicates, wilson_ci
from .methods import METHODS
from .plan import Plan, plan_trial
from .spec import TrialSpec, TrialSpecError
from .trial import (
    SEED_DERIVATION,
    Progress,
    _describe,
    analyse_replicate,
    assign,
    payloads,
    plan_info,
    prepare,
    replicate_task,
)

__all__ = ["BATCH_CELLS", "run_replicates"]

#: Latent days x nodes x dyads held per simulation batch (float32), about 200 MB.
BATCH_CELLS = 50_000_000


def _summaries(spec: TrialSpec, per_rep: list[dict[str, Any]], names: Sequence[str],
               alpha: float) -> dict[str, Any]:
    """Per analysis: the estimate over replicates and honest power (every replicate in the
    denominator; only rejections in the pre-specified ``direction`` count)."""
    out: dict[str, Any] = {}
    by_name = {a.name: a for a in spec.analysis}
    for name in names:
        a = by_name[name]
        null = METHODS[a.method].null(a.effect)
        rows = []
        for rep in per_rep:
            r = rep["results"][name]
            est, sig = r.get("estimate"), r.get("significant")
            right = (sig is True and est is not None
                     and (a.direction is None or (est > null if a.direction == "increase"
                                                  else est < null)))
            rows.append({"replicate": rep["replicate"], "estimate": est,
                         "ci_lower": r.get("ci_lower"), "ci_upper": r.get("ci_upper"),
                         "p": r.get("p"), "significant": sig, "rejected": bool(right),
                         "flags": r.get("flags") or {}, "error": r.get("error")})
        summary = summarize_replicates(
            [{"estimate": r["estimate"], "p": r["p"]} for r in rows], alpha=alpha,
            direction=a.direction, null=null)
        sig = [r["significant"] for r in rows if r["significant"] is not None]
        k = sum(r["rejected"] for r in rows)
        ests = np.array([r["estimate"] for r in rows if r["estimate"] is not None], float)
        out[name] = {
            **_describe(a),
            "summary": summary,
            "significance": (f"p < {alpha:g}, Monte Carlo test of a*b (paths pooled by "
                             "Rubin's rules)" if a.method == "mediation"
                             else f"p < {alpha:g}")
            + ("" if a.direction is None else f", estimate {a.direction}d from {null:g}"),
            "null_value": null,
            "power": k / len(rows),
            "power_ci": list(wilson_ci(k, len(rows), 0.05)),
            "rejections": k,
            "n_failed": sum(r["error"] is not None or r["significant"] is None for r in rows),
            "n_wrong_direction": sum(bool(r["significant"]) and not r["rejected"]
                                     for r in rows),
            "share_significant": sum(sig) / len(sig) if sig else None,
            "n_significance_defined": len(sig),
            "estimate_percentiles": ({q: float(np.percentile(ests, float(q)))
                                      for q in ("2.5", "25", "50", "75", "97.5")}
                                     if ests.size else None),
            "fit_flags": {
                "n_not_converged": sum(r["flags"].get("converged") is False for r in rows),
                "n_boundary": sum(bool(r["flags"].get("boundary")) for r in rows),
                "n_fallback": sum(bool(r["flags"].get("fallback")) for r in rows),
                "n_zero_cell_correction": sum(bool(r["flags"].get("zero_cell_correction"))
                                              for r in rows),
            },
            "errors": sorted({r["error"] for r in rows if r["error"]}),
            "replicates": rows,
        }
    return out


def _batches(spec: TrialSpec, plan: Plan, replicates: int) -> list[list[int]]:
    per_rep = max(1, spec.n * plan.total_days * (len(plan.nodes) + 1))
    size = max(1, min(replicates, BATCH_CELLS // per_rep))
    return [list(range(i, min(i + size, replicates))) for i in range(0, replicates, size)]


def _checkpoint_open(folder: str | Path, spec: TrialSpec, names: Sequence[str],
                     replicates: int, draws: Any = None
                     ) -> tuple[Path, dict[int, dict[str, Any]]]:
    """The checkpoint folder (created) and the replicates already finished in it.

    A checkpoint belongs to one spec and one list of analyses (a fingerprint in
    ``checkpoint.json``); each finished replicate is one ``rep-NNNNNN.json`` written
    atomically, so a crash loses at most the replicates in flight."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    from .._version import __version__

    ident = {"spec": spec.to_dict(), "analyses": list(names), "version": __version__}
    if draws is not None:
        ident["parameter_draws"] = draws
    finger = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()
    meta = path / "checkpoint.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old != finger:
            raise TrialSpecError(f"checkpoint folder {path} belongs to another trial spec, "
                                 "other parameter draws or another dyadsim version; remove "
                                 "it or choose another")
    else:
        atomic_text(meta, json.dumps({"fingerprint": finger, "trial": spec.trial.name}))
    done: dict[int, dict[str, Any]] = {}
    for f in sorted(path.glob("rep-*.json")):
        r = int(f.stem.split("-")[1])
        if r < replicates:
            done[r] = json.loads(f.read_text())
    return path, done


def run_replicates(spec: TrialSpec | str | Path | Mapping[str, Any], replicates: int, *,
                   executor: cf.Executor | None = None, workers: int | None = None,
                   progress: Progress | None = None, analyses: Sequence[str] | None = None,
                   seed: int | None = None,
                   checkpoint: str | Path | None = None,
                   parameter_draws: Sequence[Mapping[str, float]] | None = None,
                   ) -> dict[str, Any]:
    """Run ``replicates`` replicate trials (ids and seeds as in the module docstring) and
    summarise every analysis (or only those named in ``analyses``) over them.

    Simulation runs in this process, one ``simulate`` call per arm for a batch of
    replicates; measurement and analysis of each replicate are submitted to ``executor``
    (any ``concurrent.futures.Executor``, e.g. a Dask ``Client.get_executor()``). Without
    one, ``workers=1`` runs serially here and otherwise a ``ProcessPoolExecutor`` with
    ``workers`` (default: CPU count) "spawn" processes is used. Results do not depend on
    the executor, the number of workers or the batching.

    ``checkpoint``: a folder where each finished replicate is saved as it completes; a run
    interrupted (crash, Ctrl-C) and started again with the same folder computes only the
    missing replicates and returns exactly what an uninterrupted run returns.

    Returns a JSON-able dict: ``analyses`` (per name: ``summary`` from
    :func:`summarize_replicates`, ``share_significant`` with a Wilson CI, estimate
    percentiles, and ``replicates``: the per-replicate estimate, CI, p, significant,
    error), ``arms`` (mean n per arm), ``dropout`` (mean overall share) and the seeds.

    ``parameter_draws`` (e.g. ``Posterior.draws(replicates, seed)``): replicate ``r`` runs
    under draw ``r`` (:func:`dyadsim.trials.trial.draw_parameters`), so the replicates carry
    parameter uncertainty as well as sampling noise and power becomes assurance.
    """
    spec = prepare(spec, seed)
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) \
            or replicates < 1:
        raise TrialSpecError(f"replicates must be a positive integer, got {replicates!r}")
    replicates = int(replicates)
    if replicates * spec.n > 2**31:
        raise TrialSpecError("replicates x n exceeds the dyad id range (2^31)")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise TrialSpecError(f"workers must be a positive integer, got {workers!r}")
    names = [a.name for a in spec.analysis]
    if analyses is not None:
        bad = [a for a in analyses if a not in names]
        if bad:
            raise TrialSpecError(f"analysis: unknown analysis {bad[0]!r}; known: "
                                 f"{', '.join(names) or 'none'}")
        names = [a for a in names if a in set(analyses)]
    plan = plan_trial(spec)
    thetas = None
    if parameter_draws is not None:
        if len(parameter_draws) < replicates:
            raise TrialSpecError(f"{replicates} replicates need as many parameter draws, got "
                                 f"{len(parameter_draws)}")
        thetas = {r: dict(parameter_draws[r]) for r in range(replicates)}
    results: dict[int, dict[str, Any]] = {}
    ckpt = None
    if checkpoint is not None:
        ckpt, results = _checkpoint_open(checkpoint, spec, names, replicates,
                                         None if thetas is None else
                                         [thetas[r] for r in range(replicates)])
    batches = [[r for r in b if r not in results] for b in _batches(spec, plan, replicates)]
    batches = [b for b in batches if b]

    def finish(res: dict[str, Any]) -> None:
        # JSON round trip: a resumed run and an uninterrupted one summarise identical data
        res = json.loads(json.dumps(_jsonable(res)))
        results[res["replicate"]] = res
        if ckpt is not None:
            atomic_text(ckpt / f"rep-{res['replicate']:06d}.json", json.dumps(res))
        if progress is not None:
            progress("analysing", len(results), replicates)

    todo = sum(len(b) for b in batches)
    sims = todo * spec.n * (2 if spec.randomization.method == "stratified" else 1)
    sim_done = [0]

    def sim_progress(m: int) -> None:
        sim_done[0] += m
        if progress is not None:
            progress("simulating", sim_done[0], sims)

    with owned_executor(executor, workers, todo) as (ex, _):
        max_pending = 2 * (workers or default_workers()) + 2
        pending: set[cf.Future] = set()
        for reps in batches:
            assignment = assign(spec, plan, reps, sim_progress, thetas)
            pays, _ = payloads(spec, plan, reps, assignment, sim_progress, thetas=thetas)
            for r in reps:
                pay = pays.pop(r)
                if ex is None:
                    finish(analyse_replicate(spec, r, pay, names, keep_data=False, plan=plan))
                    continue
                pending.add(ex.submit(replicate_task, (spec, r, pay, names)))
                while len(pending) > max_pending:
                    done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for f in done:
                        finish(f.result())
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in done:
                finish(f.result())

    per_rep = [results[r] for r in range(replicates)]
    alpha = spec.trial.alpha
    arms_n = {a: float(np.mean([p["results"]["arms"][a] for p in per_rep]))
              for a in spec.arm_names}
    return _jsonable({
        "trial": spec.trial.name,
        "citation": spec.trial.citation,
        "n": spec.n,
        "replicates": replicates,
        "seed": spec.seed,
        "seed_derivation": SEED_DERIVATION,
        "alpha": alpha,
        "plan": plan_info(plan),
        "arms_mean_n": arms_n,
        "dropout_mean": float(np.mean([p["results"]["dropout"]["overall"] for p in per_rep])),
        "analyses": _summaries(spec, per_rep, names, alpha),
        "parameter_draws": None if thetas is None else
        "replicate r runs under parameter draw r: power is assurance (averaged over "
        "parameter uncertainty)",
    })


