"""Leave-one-study-out validation of a calibration (issue 19 item 6).

For each study of the target set, the posterior is redone without that study's targets and
the study is then replicated, as it was run, at draws of that posterior; its targets are
scored against those out-of-sample predictions with the pass rule and CRPS of
:mod:`dyadsim.calibration.validate`.

What is redone and what is reused: the history match is rebuilt from the calibration's
stored runs (its designs and emulator fits are deterministic given the seed, so this costs
no simulation); for each held-out study the NUTS posterior is sampled on the emulators of
the *other* studies only (:func:`dyadsim.calibration.mcmc.sample_posterior` with ``keep``),
inputs that only the held-out study's emulators inform stay at their defaults, like every
uninformed input; the study is then simulated at ``draws`` draws of that posterior (fresh
seeds, kept in the store). Not redone: the waves' NROY cuts, which used every study's
emulators to choose where later waves simulate. That choice only decides where the
emulators are accurate; the held-out study's observation never enters the posterior that
predicts it. The prior-predictive ensemble (for CRPS against the prior) is the first wave's
space-filling design: quasi-random prior draws, every study simulated at each.
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
from .active import active_sets
from .fit import (
    MCMCSettings,
    _defined,
    _history_match,
    _Output,
    _Simulator,
    observations_of,
    prior_space,
)
from .history_matching import HistoryMatch, Settings
from .mcmc import MCMCResult, posterior_runs, sample_posterior
from .replicate import ReplicationStore, studies_of
from .targets import TargetSet, target_se
from .validate import score_target, summarise

__all__ = ["LOSO_RUN_IDS", "CalibrationRun", "held_out_posteriors", "held_out_report",
           "leave_one_study_out"]

Progress = Callable[[str, int, int], None]

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
            mcmc = MCMCSettings(chains=int(m["chains"]), warmup=int(m["warmup"]),
                                draws=int(m["draws_per_chain"]))
            names = d.get("params")
            return cls(str(d["targets_file"]), bool(d.get("plausibility", False)),
                       int(d["seed"]), settings, None if names is None else tuple(names),
                       mcmc, str(d["targets_hash"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a calibration summary ({exc})") from None


def held_out_posteriors(hm: HistoryMatch, *, chains: int = 4, warmup: int = 1000,
                        draws: int = 1000, seed: int = 1) -> dict[str, MCMCResult]:
    """Per study (the observations' ``study``), the NUTS posterior on the emulators of every
    other study; its calibrated inputs are those the other studies' validated emulators
    inform."""
    studies = list(dict.fromkeys(o.study or o.id for o in hm.observations))
    out = {}
    for s in studies:
        keep = [(o.study or o.id) != s for o in hm.observations]
        out[s] = sample_posterior(hm, chains=chains, warmup=warmup, draws=draws, seed=seed,
                                  keep=keep)
    return out


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
                        mcmc: MCMCSettings | None = None, draws: int = 200
                        ) -> dict[str, Any]:
    """Leave-one-study-out predictions of every target of a calibration run with these
    ``targets``, ``settings``, ``seed`` and ``names`` (see the module docstring); ``store``
    holds its runs. Returns the validation summary (as
    :func:`dyadsim.calibration.validate.run_validation`, named out-of-sample) with, per
    study, the held-out posterior's convergence."""
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
    fits = held_out_posteriors(hm, chains=mcmc.chains, warmup=mcmc.warmup,
                               draws=mcmc.draws, seed=seed)
    entries: list[dict[str, Any]] = []
    per_study: dict[str, dict[str, Any]] = {}
    for s in studies:
        if progress is not None:
            progress(f"held out: {s.label}", 0, draws)
        outs = [o for o in outputs if o.observation.study == s.key]
        one = _Simulator([s], outs, prior.names, seed, store, pool, progress)
        fit = fits[s.key]
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
