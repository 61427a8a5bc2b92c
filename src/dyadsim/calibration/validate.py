"""Validation that can fail: every target replicated under the posterior and under the
prior, scored against what was observed.

Pass rule (issue 8 s5): an observed number passes when it lies inside the central 90%
interval of the posterior-predictive distribution of the replicated study (5th to 95th
percentile of the simulated statistic over parameter draws, each draw one whole study at
the published N); an observed interval passes when the posterior-predictive median lies
inside it; a distribution or a set of survival points passes when every component does.

CRPS (scoringrules, fair ensemble estimator; Ferro 2014) of the simulated ensemble against
the observation (an interval's midpoint), divided by the target's scale so that targets on
different scales average: the observed standard error (given, from the CI, from the p-value
or from N), else an observed interval's half-width, else the SD of the prior-predictive
ensemble. A component target averages its components. ``score`` is the share of replicated
targets that pass; targets marked ``skip`` in the targets file are reported, not scored.
Beside it: each interval's width in units of the target's scale, whether the score is
in-sample (the posterior was fitted to these targets) or out-of-sample, the pass rate a
perfectly calibrated model reaches with that many draws (:func:`expected_pass_rate`) and
its chance to score 0.8 and 0.9 (issue 19 item 6).

Leave-one-study-out (issue 19 item 6; :func:`leave_one_study_out`): for each study of a
calibration's target set, the posterior is redone without that study's targets and the
study is then replicated, as it was run, at draws of that posterior; its targets are scored
against those out-of-sample predictions with the same pass rule and CRPS. The history match
is rebuilt from the calibration's stored runs (its designs and emulator fits are
deterministic given the seed, so this costs no simulation); for each held-out study the
posterior is sampled (the calibration's sampler) on the emulators of the *other* studies only
(:meth:`~dyadsim.calibration.history_matching.HistoryMatch.restricted`), inputs that only
the held-out study's emulators inform stay at their defaults, like every uninformed input;
the study is then simulated at ``draws`` draws of that posterior (fresh seeds, kept in the
store). Not redone: the waves' NROY cuts, which used every study's emulators to choose
where later waves simulate. That choice only decides where the emulators are accurate; the
held-out study's observation never enters the posterior that predicts it. The
prior-predictive ensemble (for CRPS against the prior) is the first wave's space-filling
design: quasi-random prior draws, every study simulated at each.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model.params import PARAMS
from ..uncertainty.prior import Posterior, prior_draws
from .active import active_sets
from .fit import (
    BATCH,
    MCMCSettings,
    _defined,
    _history_match,
    _Output,
    _Simulator,
    observations_of,
    prior_space,
    target_se,
)
from .history_matching import HistoryMatch, Settings
from .mcmc import MCMCResult, posterior_runs
from .replicate import ReplicationStore, Study, replicate_batch, replication_seed, studies_of
from .targets import Target, TargetSet

__all__ = ["LOSO_RUN_IDS", "CalibrationRun", "crps_fair", "expected_pass_rate", "fitted_to",
           "held_out_posterior", "held_out_report", "interval_90", "leave_one_study_out",
           "passes", "run_validation", "score_reach", "score_target", "summarise",
           "write_figure"]

Progress = Callable[[str, int, int], None]


def crps_fair(observation: float, ensemble: Sequence[float]) -> float:
    """CRPS of an ensemble forecast, fair estimator (scoringrules.crps_ensemble)."""
    import scoringrules as sr

    ens = np.asarray(ensemble, dtype=float)
    ens = ens[np.isfinite(ens)]
    if ens.size < 2:
        return math.nan
    return float(sr.crps_ensemble(float(observation), ens, estimator="fair",
                                  backend="numpy"))


def interval_90(ensemble: Sequence[float]) -> tuple[float, float]:
    """5th and 95th percentile of the finite members (linear interpolation)."""
    ens = np.asarray(ensemble, dtype=float)
    ens = ens[np.isfinite(ens)]
    if ens.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(ens, [5.0, 95.0])
    return float(lo), float(hi)


def passes(observed: float | Sequence[float], ensemble: Sequence[float]) -> bool:
    """An observed number inside the 90% predictive interval; an observed interval
    [lo, hi] containing the predictive median."""
    ens = np.asarray(ensemble, dtype=float)
    ens = ens[np.isfinite(ens)]
    if ens.size == 0:
        return False
    if isinstance(observed, Sequence):
        med = float(np.median(ens))
        return bool(observed[0] <= med <= observed[1])
    lo, hi = interval_90(ens)
    return bool(lo <= observed <= hi)


def expected_pass_rate(draws: int, level: float = 0.9) -> float:
    """The chance that a perfectly calibrated model passes one target with ``draws``
    draws: the observation is then exchangeable with the draws, and the interval runs
    between linearly interpolated order statistics at positions ``h = (k - 1) q`` (numpy's
    default), whose expectation under a uniform is ``(h + 1) / (k + 1)``; so the chance is
    ``level (k - 1) / (k + 1)`` (0.814 with 20 draws, 0.891 with 200): exact for a uniform,
    close for any continuous distribution when the percentiles fall near order statistics
    (as with 20 or 200 draws)."""
    return level * (draws - 1) / (draws + 1)


def score_reach(n_targets: int, draws: int, goal: float) -> float:
    """Probability that a perfectly calibrated model scores at least ``goal`` over
    ``n_targets`` independent targets with ``draws`` draws (binomial)."""
    from scipy import stats

    need = math.ceil(goal * n_targets - 1e-9)
    return float(stats.binom.sf(need - 1, n_targets, expected_pass_rate(draws)))


def _point(obs: float | Sequence[float]) -> float:
    return float(obs) if not isinstance(obs, Sequence) else 0.5 * (obs[0] + obs[1])


def _scale(obs: float | Sequence[float], se: float | None, prior_ens: np.ndarray
           ) -> tuple[float, str]:
    if se is not None and se > 0:
        return se, "observed_se"
    if isinstance(obs, Sequence):
        return 0.5 * (obs[1] - obs[0]), "interval_half_width"
    ens = prior_ens[np.isfinite(prior_ens)]
    sd = float(ens.std(ddof=1)) if ens.size > 1 else math.nan
    return (sd, "prior_predictive_sd") if sd > 0 else (1.0, "unit")


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


@dataclass(frozen=True)
class _Component:
    name: str | None
    observed: float | list[float]
    posterior: np.ndarray
    prior: np.ndarray
    se: float | None


def _components(t: Target, post: list[Any], prior: list[Any], se: float | None
                ) -> list[_Component]:
    def col(values: list[Any], key: str | None) -> np.ndarray:
        out = []
        for v in values:
            x = v.get(key) if (key is not None and isinstance(v, Mapping)) else v
            out.append(np.nan if x is None else float(x))
        return np.array(out, dtype=float)

    o = t.observed
    if o.distribution is not None:
        return [_Component(k, v, col(post, k), col(prior, k), None)
                for k, v in o.distribution.items()]
    obs = o.value if o.value is not None else list(o.interval)
    return [_Component(None, obs, col(post, None), col(prior, None), se)]


def score_target(t: Target, post: list[Any], prior: list[Any], se: float | None
                 ) -> dict[str, Any]:
    """The validation entry of one target from its posterior- and prior-predictive
    ensembles (one simulated statistic per draw; None = undefined in that replicate)."""
    comps = _components(t, post, prior, se)
    rows = []
    for c in comps:
        scale, how = _scale(c.observed, c.se, c.prior)
        point = _point(c.observed)
        rows.append({
            "name": c.name, "observed": c.observed,
            "median": _r(float(np.nanmedian(c.posterior)) if np.isfinite(c.posterior).any()
                         else math.nan),
            "interval": [_r(x) for x in interval_90(c.posterior)],
            "width": _r(float(np.subtract(*interval_90(c.posterior)[::-1])) / scale),
            "passed": passes(c.observed, c.posterior),
            "crps_posterior": crps_fair(point, c.posterior) / scale,
            "crps_prior": crps_fair(point, c.prior) / scale,
            "scale": scale, "scale_from": how,
            "n_undefined": int((~np.isfinite(c.posterior)).sum()),
        })
    single = rows[0] if comps[0].name is None else None
    undefined = max(r["n_undefined"] for r in rows)
    status = "replicated" if undefined == 0 else \
        f"replicated; statistic undefined in {undefined} of {len(post)} draws"
    return {
        "id": t.id, "statistic": t.statistic,
        "observed": single["observed"] if single else {r["name"]: r["observed"] for r in rows},
        "simulated_median": single["median"] if single else
        {r["name"]: r["median"] for r in rows},
        "interval_90": single["interval"] if single else
        {r["name"]: r["interval"] for r in rows},
        "interval_90_width_scaled": single["width"] if single else
        {r["name"]: r["width"] for r in rows},
        "passed": all(r["passed"] for r in rows),
        "crps_posterior": _r(float(np.mean([r["crps_posterior"] for r in rows]))),
        "crps_prior": _r(float(np.mean([r["crps_prior"] for r in rows]))),
        "crps_scale": single["scale"] if single else {r["name"]: r["scale"] for r in rows},
        "crps_scale_from": rows[0]["scale_from"],
        "status": status,
        "source": t.source,
    }


def _ensembles(studies: Sequence[Study], draws: list[dict[str, float]], seed: int,
               store: ReplicationStore | None, progress: Progress | None, label: str,
               pool: cf.Executor | None = None) -> dict[str, list[Any]]:
    """Draw i of every study replicated with seed ``replication_seed(seed, i)``; finished
    replications from ``store`` are reused; the rest run on ``pool`` (None: here), a cohort
    study's draws batched in one engine call (the same numbers as one by one)."""
    from ..parallel import map_tasks

    results: dict[tuple[int, int], Any] = {}
    tasks, where = [], []
    for j, s in enumerate(studies):
        missing = []
        for i, theta in enumerate(draws):
            rseed = replication_seed(seed, i)
            key = ReplicationStore.key(s, theta, rseed) if store is not None else None
            got = store.get(key) if store is not None else None
            if got is not None:
                results[(j, i)] = got
            else:
                missing.append((i, key, rseed))
        size = BATCH if s.kind == "cohort_sim" else 1
        for first in range(0, len(missing), size):
            part = missing[first:first + size]
            tasks.append((s, [draws[i] for i, _, _ in part], [r for _, _, r in part]))
            where.append((j, part))
    total = len(studies) * len(draws)
    done_count = [len(results)]

    def done(n: int, values: list[dict[str, Any]]) -> None:
        j, part = where[n]
        for (i, key, rseed), v in zip(part, values, strict=True):
            if store is not None:
                store.put(key, v, study=studies[j].label, draw=i, seed=rseed, ensemble=label)
            results[(j, i)] = v
        done_count[0] += len(part)
        if progress is not None:
            progress(f"{label}: {studies[j].label}", done_count[0], total)

    map_tasks(replicate_batch, tasks, pool, done)
    out: dict[str, list[Any]] = {t.id: [] for s in studies for t in s.targets}
    for j, s in enumerate(studies):
        for i in range(len(draws)):
            for t in s.targets:
                out[t.id].append(results[(j, i)].get(t.id))
    return out


def summarise(entries: Sequence[Mapping[str, Any]], draws: int) -> dict[str, Any]:
    """Score, mean CRPS under the posterior and the prior, counts, and what a perfectly
    calibrated model would score with ``draws`` draws, over scored ``entries``
    (:func:`score_target`; an entry with ``passed`` None is reported, not scored)."""
    scored = [e for e in entries if e["passed"] is not None]
    crps_post = [e["crps_posterior"] for e in scored if e["crps_posterior"] is not None]
    crps_prior = [e["crps_prior"] for e in scored if e["crps_prior"] is not None]
    return {
        "score": _r(float(np.mean([e["passed"] for e in scored]))) if scored else None,
        "mean_crps_posterior": _r(float(np.mean(crps_post))) if crps_post else None,
        "mean_crps_prior": _r(float(np.mean(crps_prior))) if crps_prior else None,
        "n_targets": len(entries), "n_scored": len(scored),
        "n_passed": int(sum(bool(e["passed"]) for e in scored)),
        "expected_pass_rate_if_calibrated": _r(expected_pass_rate(draws)),
        "chance_calibrated_model_reaches": {
            str(g): _r(score_reach(len(scored), draws, g)) for g in (0.8, 0.9)}
        if scored else None,
        "draws": draws}


def fitted_to(posterior: Posterior, targets: TargetSet) -> bool:
    """Whether ``posterior`` was fitted to ``targets``, alone or with the shipped
    plausibility constraints (``dyadsim calibrate --plausibility``)."""
    from .targets import load_targets, merge_targets, plausibility_targets_path

    if posterior.targets_hash == targets.hash:
        return True
    try:
        both = merge_targets(targets, load_targets(plausibility_targets_path()))
    except ValueError:  # the targets already hold a constraint's id
        return False
    return posterior.targets_hash == both.hash


def run_validation(targets: TargetSet, posterior: Posterior | None, *, draws: int = 20,
                   seed: int = 1, store: ReplicationStore | None = None,
                   progress: Progress | None = None,
                   pool: cf.Executor | None = None) -> dict[str, Any]:
    """Replicate every target ``draws`` times under ``posterior`` (None: the prior) and under
    the prior; draw i uses the same simulation seed under both (common random numbers)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
    studies = studies_of(targets)
    prior_sets = prior_draws(draws, seed)
    prior_ens = _ensembles(studies, prior_sets, seed, store, progress, "prior", pool)
    if posterior is None:
        post_ens = prior_ens
    else:
        post_ens = _ensembles(studies, posterior.draws(draws, seed), seed, store, progress,
                              "posterior", pool)
    entries = []
    for t in targets:
        if t.skip is not None:
            entries.append({"id": t.id, "statistic": t.statistic,
                            "observed": (t.observed.value if t.observed.value is not None
                                         else t.observed.interval or t.observed.distribution),
                            "simulated_median": None, "interval_90": None, "passed": None,
                            "crps_posterior": None, "crps_prior": None,
                            "status": f"not replicated: {t.skip}", "source": t.source})
            continue
        se, se_from = target_se(targets, t)
        e = score_target(t, post_ens[t.id], prior_ens[t.id], se)
        e["observed_se"] = _r(se)
        e["observed_se_from"] = se_from
        entries.append(e)
    fitted = posterior is not None and fitted_to(posterior, targets)
    return {
        **summarise(entries, draws),
        "sample": "in-sample: the posterior was fitted to these targets" if fitted
        else "out-of-sample: the posterior was not fitted to these targets",
        "draws": draws, "seed": seed,
        "posterior": "prior" if posterior is None else {
            "path": str(posterior.path) if posterior.path else None,
            "method": posterior.method, "targets_hash": posterior.targets_hash,
            "dyadsim_version": posterior.dyadsim_version,
            "fitted_to_these_targets": fitted},
        "targets_file": str(targets.path) if targets.path else None,
        "targets_hash": targets.hash,
        "n_studies": len(studies),
        "targets": entries,
    }


# ------------------------------------------------------------------ leave one study out
#: Run ids (seed streams) of the simulations at held-out posterior draws: apart from the
#: waves' and the calibration's posterior runs (:data:`dyadsim.calibration.fit.POSTERIOR_RUN_IDS`).
LOSO_RUN_IDS = 2 * 10**6


@dataclass(frozen=True)
class CalibrationRun:
    """What ``dyadsim calibrate`` was run with, read back from its ``calibration.json``:
    enough to rebuild its history match from its stored runs."""

    targets_file: str
    plausibility: bool
    seed: int
    settings: Settings
    names: tuple[str, ...] | None
    mcmc: MCMCSettings
    targets_hash: str
    #: The simulated posterior predictive per observation id (``posterior.json``), if any.
    in_sample: Mapping[str, Sequence[float | None]] | None = None

    @classmethod
    def from_dir(cls, folder: str | Path) -> CalibrationRun:
        """Read ``folder/calibration.json``; ValueError naming what is missing or wrong."""
        path = Path(folder) / "calibration.json"
        if not path.is_file():
            raise ValueError(f"{path}: not found (give the --out folder of `dyadsim "
                             "calibrate`)")
        if not (Path(folder) / "replications.jsonl").is_file():
            raise ValueError(f"{Path(folder) / 'replications.jsonl'}: not found (the "
                             "calibration's stored runs)")
        try:
            d = json.loads(path.read_text())
            recorded = d["settings"]
            known = {f.name for f in dataclasses.fields(Settings)}
            # runs written before every setting was recorded came from
            # settings_for_budget (no population Monte Carlo rounds)
            settings = Settings(**{"pmc_rounds": 0, **{k: v for k, v in recorded.items()
                                                        if k in known},
                                   "runs": tuple(recorded["runs"])})
            m = d["diagnostics"]["mcmc"]
            sampler = "smc" if "SMC" in m.get("sampler", "") else "nuts"
            mcmc = MCMCSettings(chains=int(m["chains"]),
                                warmup=int(m.get("warmup", m["draws_per_chain"])),
                                draws=int(m["draws_per_chain"]), sampler=sampler,
                                smc_steps=int(m.get("mutation_steps", 30)))
            names = d.get("params")
            post = Path(folder) / "posterior.json"
            pred = json.loads(post.read_text())["diagnostics"]["posterior_predictive"][
                "outputs"] if post.is_file() else None
            return cls(str(d["targets_file"]), bool(d.get("plausibility", False)),
                       int(d["seed"]), settings, None if names is None else tuple(names),
                       mcmc, str(d["targets_hash"]), pred or None)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a calibration summary, or its posterior.json is "
                             f"not a posterior ({exc})") from None


def held_out_posterior(hm: HistoryMatch, study: str, mcmc: MCMCSettings, seed: int = 1
                       ) -> MCMCResult:
    """The posterior (by ``mcmc``'s sampler) on the emulators of every study but ``study``
    (the observations' ``study``); its calibrated inputs are those the other studies'
    validated emulators inform."""
    rest = hm.restricted([(o.study or o.id) != study for o in hm.observations])
    return mcmc.sample(rest, seed)


def _per_target(outputs: Sequence[_Output], y: np.ndarray) -> dict[str, list[Any]]:
    """Per target, one simulated statistic per row of ``y`` (a mapping for a
    distribution target's components); NaN where undefined."""
    out: dict[str, list[Any]] = {}
    for j, o in enumerate(outputs):
        col = out.setdefault(o.target, [dict() if o.key is not None else math.nan
                                        for _ in range(len(y))])
        for i in range(len(y)):
            if o.key is None:
                col[i] = float(y[i, j])
            else:
                col[i][o.key] = float(y[i, j])
    return out


def leave_one_study_out(targets: TargetSet, *, store: ReplicationStore, settings: Settings,
                        seed: int = 1, pool: cf.Executor | None = None,
                        progress: Progress | None = None,
                        names: Sequence[str] | None = None,
                        mcmc: MCMCSettings | None = None, draws: int = 200,
                        in_sample: Mapping[str, Sequence[float | None]] | None = None
                        ) -> dict[str, Any]:
    """Leave-one-study-out predictions of every target of a calibration run with these
    ``targets``, ``settings``, ``seed`` and ``names`` (see the module docstring); ``store``
    holds its runs. Returns the validation summary (as :func:`run_validation`, named
    out-of-sample) with, per study, the held-out posterior's convergence. ``in_sample``
    (the calibration's simulated posterior predictive per observation id, its
    ``posterior.json`` ``diagnostics.posterior_predictive.outputs``) is scored the same way
    and reported apart, named in-sample."""
    mcmc = mcmc or MCMCSettings()
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be an integer >= 2, got {draws!r}")
    if draws > mcmc.chains * mcmc.draws:
        raise ValueError(f"--draws: at most {mcmc.chains * mcmc.draws} out of sample (the "
                         f"held-out chains' draws), got {draws}")
    studies = studies_of(targets)
    outputs = observations_of(targets)
    prior = prior_space(names)
    sim = _Simulator(studies, outputs, prior.names, seed, store, pool, progress)
    hm = _history_match(_defined(sim), outputs, prior, active_sets(targets, prior.names),
                        settings, seed, progress)
    rebuilt = sim.calls
    design = hm.waves[0].y[: settings.runs[0]]
    prior_ens = _per_target(outputs, design)
    defaults = np.array([PARAMS[k].default for k in prior.names])
    entries: list[dict[str, Any]] = []
    per_study: dict[str, dict[str, Any]] = {}
    for n, s in enumerate(studies):
        if progress is not None:
            progress(f"held out: {s.label}: posterior without it", n, len(studies))
        fit = held_out_posterior(hm, s.key, mcmc, seed)
        outs = [o for o in outputs if o.observation.study == s.key]
        one = _Simulator([s], outs, prior.names, seed, store, pool, progress)
        _, y = posterior_runs(_defined(one), hm, fit, n=draws, defaults=defaults,
                              first_run=LOSO_RUN_IDS)
        post_ens = _per_target(outs, y)
        for t in s.targets:
            se, se_from = target_se(targets, t)
            e = score_target(t, post_ens[t.id], prior_ens[t.id], se)
            e.update(observed_se=None if se is None else round(se, 6),
                     observed_se_from=se_from, held_out_study=s.label)
            entries.append(e)
        summary = fit.summary()
        per_study[s.label] = {
            "targets": [t.id for t in s.targets],
            "calibrated_without_it": len(fit.names),
            "max_rhat": summary["max_rhat"], "min_ess_bulk": summary["min_ess_bulk"],
            "converged": summary["converged"], "divergences": summary["divergences"]}
    result = summarise(entries, draws)
    result.update({
        "sample": "out-of-sample: leave-one-study-out (each study predicted by the "
                  "posterior refitted without its targets)",
        "seed": seed, "targets_file": str(targets.path) if targets.path else None,
        "targets_hash": targets.hash, "n_studies": len(studies),
        "prior_ensemble": f"the first wave's {len(design)} space-filling design runs",
        "rebuilt_history_match_simulations": rebuilt,
        "held_out": per_study, "targets": entries})
    if in_sample is not None:
        rows = max((len(v) for v in in_sample.values()), default=0)
        y = np.full((rows, len(outputs)), math.nan)
        for j, o in enumerate(outputs):
            got = in_sample.get(o.observation.id, [])
            y[:len(got), j] = [math.nan if v is None else float(v) for v in got]
        in_ens = _per_target(outputs, y)
        inside = []
        for t in targets:
            if t.skip is None:
                se, _ = target_se(targets, t)
                inside.append(score_target(t, in_ens[t.id], prior_ens[t.id], se))
        result["in_sample"] = {
            **summarise(inside, rows),
            "sample": "in-sample: the calibration's own posterior runs, fitted to these "
                      "targets", "targets": inside}
    return result


def held_out_report(result: Mapping[str, Any]) -> list[str]:
    """One line per held-out study: its targets passed and the held-out fit's
    convergence."""
    lines = []
    for label, h in result["held_out"].items():
        ok = [e["passed"] for e in result["targets"] if e.get("held_out_study") == label]
        lines.append(f"{label}: {sum(ok)}/{len(ok)} passed; {h['calibrated_without_it']} "
                     f"parameters calibrated without it, R-hat {h['max_rhat']}, "
                     f"ESS {h['min_ess_bulk']}")
    return lines


def _flat(e: Mapping[str, Any]) -> list[tuple[str, float, Any, Any]]:
    """(label, observed point, observed raw, (median, lo, hi)) per component."""
    if isinstance(e["simulated_median"], Mapping):
        return [(f"{e['id']}:{k}", _point(e["observed"][k]), e["observed"][k],
                 (e["simulated_median"][k], *e["interval_90"][k]))
                for k in e["simulated_median"]]
    return [(e["id"], _point(e["observed"]), e["observed"],
             (e["simulated_median"], *e["interval_90"]))]


def write_figure(result: Mapping[str, Any], path: str | Path) -> Path:
    """Observed vs posterior-predictive (median and 90% interval) per target component, each
    on the scale of its target (standardised by the CRPS scale around the observation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for e in result["targets"]:
        if e["passed"] is None:
            continue
        scales = e["crps_scale"]
        for label, obs, raw, (med, lo, hi) in _flat(e):
            key = label.split(":", 1)[1] if ":" in label else None
            s = scales[key] if isinstance(scales, Mapping) else scales
            if med is None or lo is None or hi is None or not s:
                continue
            z = [(v - obs) / s for v in (med, lo, hi)]
            band = None
            if isinstance(raw, Sequence):
                band = ((raw[0] - obs) / s, (raw[1] - obs) / s)
            rows.append((label, z, band, e["passed"]))
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(rows), 4) + 1.2))
    for i, (_label, (m, lo, hi), band, ok) in enumerate(rows):
        color = "tab:green" if ok else "tab:red"
        ax.plot([lo, hi], [i, i], color=color, lw=2)
        ax.plot([m], [i], "o", color=color)
        if band is not None:
            ax.plot(list(band), [i, i], color="black", lw=6, alpha=0.2)
    ax.axvline(0.0, color="black", lw=1)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("(simulated - observed) / target scale: median and 90% predictive interval")
    ax.set_title(f"dyadsim validate: score {result['score']}, mean CRPS posterior "
                 f"{result['mean_crps_posterior']} vs prior {result['mean_crps_prior']}",
                 fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
