"""Replicate a target as its study was run: the published N per arm, its time points, its
instruments, one whole study per parameter set and seed, so the study's sampling noise is
part of every simulated value.

Targets that share a design (the same trial spec, or the same cohort) share one simulated
study per parameter set. A design target runs through the trial runner
(:func:`dyadsim.trials.runner.run_trial`); a cohort whose measures use instruments runs as a
one-arm trial (arm ``cohort``, usual care, assessments where the measures are); a cohort
that reads only outcomes or latent nodes runs :func:`dyadsim.simulate` directly.

Finished replications go to an append-only JSON-lines store keyed by (study, parameter
set, seed, code): a run that is killed and started again recomputes nothing it finished.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..model.params import run_parameters
from ..timepoints import cohort_day
from .statistics import Groups, compute_statistic
from .targets import Measure, Read, Target, TargetSet

__all__ = ["ReplicationStore", "Study", "cohort_day", "code_hash", "replicate_batch",
           "replication_seed", "replicate_study", "studies_of"]


def replication_seed(seed: int, draw: int) -> int:
    """The simulation seed of draw ``draw``: ``SeedSequence(seed, spawn_key=(draw,))``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(draw),))
    return int(ss.generate_state(1)[0] & 0x7FFFFFFF)


#: Source a replication cannot depend on (the fit, validation, reports, the app, the CLI):
#: changing it keeps the store's replications valid.
NOT_REPLICATION_CODE = ("calibration/fit.py", "calibration/history_matching.py",
                        "calibration/validate.py", "calibration/mcmc.py",
                        "calibration/active.py", "calibration/reach.py", "cli/", "reports/",
                        "app/", "analysis/")


@lru_cache(maxsize=1)
def code_hash() -> str:
    """sha256 of the dyadsim source that a replication depends on (every .py file but
    those in :data:`NOT_REPLICATION_CODE`)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        if str(f.relative_to(root)).startswith(NOT_REPLICATION_CODE):
            continue
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Study:
    """One simulated study serving one or more targets."""

    kind: str  # "trial" | "cohort_trial" | "cohort_sim"
    key: str
    spec: Any  # TrialSpec for trials, Cohort for cohort_sim
    targets: tuple[Target, ...]
    cohort: Any = None
    reference: Any = None  # a second Cohort (cohort_sim): the contrast's "reference" arm
    pooled: tuple[Any, ...] = ()  # further designs (TrialSpecs) pooled with ``spec``

    @property
    def label(self) -> str:
        return self.targets[0].id if len(self.targets) == 1 else \
            f"{self.targets[0].id} (+{len(self.targets) - 1})"


def _reads(t: Target) -> list[Read]:
    return [t.measure] + ([t.measure.with_] if t.measure.with_ is not None else [])


def _cohort_trial_spec(cohort, reads: Iterable[Read], name: str):
    from ..trials.design import parse_spec

    points: dict[str, set[str]] = {}
    for r in reads:
        if r.instrument is None:
            continue
        for tp in (r.timepoint, r.change_from):
            if tp is not None:
                points.setdefault(tp, set()).add(r.instrument)
    assessments = []
    for tp, inst in sorted(points.items(), key=lambda kv: cohort_day(kv[0])[1]):
        kind, day = cohort_day(tp)
        when = {"postpartum_day": day} if kind == "pp" else {"day": day}
        assessments.append({"name": tp, **when, "instruments": sorted(inst)})
    population = {"preset": cohort.preset, "init": dict(cohort.init),
                  "params": dict(cohort.params)}
    if cohort.start is not None:
        population["start"] = cohort.start
    return parse_spec({
        "trial": {"name": name, "citation": "cohort of a calibration target", "n": cohort.n,
                  "seed": 0, "horizon": cohort.horizon},
        "population": population,
        "arms": [{"name": "cohort", "interventions": ["tau"]}],
        "assessments": assessments,
    })


def studies_of(targets: TargetSet) -> list[Study]:
    """Group the targets (those not marked ``skip``) into the studies to simulate."""
    groups: dict[str, list[Target]] = {}
    kinds: dict[str, tuple[str, Any]] = {}
    references: dict[str, Any] = {}
    pooled: dict[str, tuple[Any, ...]] = {}
    for t in targets:
        if t.skip is not None:
            continue
        if t.design is not None:
            spec = targets.designs[t.id]
            more = targets.pooled.get(t.id, ())
            key = _digest({"trial": spec.to_dict()} if not more else
                          {"pooled": [s.to_dict() for s in (spec, *more)], "target": t.id})
            kinds[key] = ("trial", spec)
            pooled[key] = more
        else:
            c = t.cohort
            uses_instruments = any(r.instrument is not None for r in _reads(t))
            kind = "cohort_trial" if uses_instruments else "cohort_sim"
            ref = None if t.reference is None else t.reference.model_dump(mode="json")
            key = _digest({kind: c.model_dump(mode="json")} if ref is None
                          else {kind: c.model_dump(mode="json"), "reference": ref})
            kinds[key] = (kind, c)
            references[key] = t.reference
        groups.setdefault(key, []).append(t)
    out = []
    for key, ts in groups.items():
        kind, obj = kinds[key]
        if kind == "cohort_trial":
            reads = [r for t in ts for r in _reads(t)]
            spec = _cohort_trial_spec(obj, reads, f"cohort_{ts[0].id}")
            key = _digest({"cohort_trial": spec.to_dict()})
            out.append(Study(kind, key, spec, tuple(ts), cohort=obj))
        else:
            out.append(Study(kind, key, obj, tuple(ts), cohort=obj if kind != "trial" else None,
                             reference=references.get(key), pooled=pooled.get(key, ())))
    return out


# ------------------------------------------------------------------------------ simulate
class _Data:
    """Per-dyad reads of one replicated study."""

    def __init__(self, arm: np.ndarray, follow_up: float, reader: Callable[[Read], np.ndarray],
                 exposure: Callable[[Read], np.ndarray] | None = None):
        self.arm = arm
        self.follow_up = follow_up
        self._reader = reader
        self.exposure = exposure  # person-days at risk of a windowed read (cohorts)

    def read(self, r: Read) -> np.ndarray:
        y = self._reader(r)
        if r.category is not None:
            # "none": no class (not yet classified, or a pregnancy loss): missing, not 0
            return np.array([np.nan if (c is None or c != c or c == "none")
                             else float(c == r.category) for c in y], dtype=float)
        if r.cutoff is not None:
            y = np.asarray(y, float)
            hit = (y < r.cutoff) if r.below else (y >= r.cutoff)
            return np.where(np.isnan(y), np.nan, hit.astype(float))
        return y


def _two_populations(cohort: _Data, reference: _Data) -> _Data:
    """The dyads of two simulated populations side by side, as arms "cohort" and
    "reference" (a contrast between populations)."""
    def both(read: Callable[[_Data], np.ndarray]) -> np.ndarray:
        return np.concatenate([read(cohort), read(reference)])

    def exposure(r: Read) -> np.ndarray:
        return both(lambda d: d.exposure(r))  # type: ignore[misc]

    has_exposure = cohort.exposure is not None and reference.exposure is not None
    return _Data(np.concatenate([np.full(len(cohort.arm), "cohort", dtype=object),
                                 np.full(len(reference.arm), "reference", dtype=object)]),
                 min(cohort.follow_up, reference.follow_up),
                 lambda r: both(lambda d: d._reader(r)),  # raw: read() codes once, after
                 exposure=exposure if has_exposure else None)


def _trial_data(spec, theta: Mapping[str, float], seed: int) -> _Data:
    from ..model.populations import get_population
    from ..trials.runner import run_trial

    base = get_population(spec.population.preset).with_overrides(
        params=spec.population.params).params
    d = spec.to_dict()
    d["population"]["params"] = run_parameters(base, theta=theta)
    d["trial"]["seed"] = int(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_trial(d)
    latent, data = res.latent, res.data
    ids = latent["dyad"].values
    run_in = int(latent.attrs.get("run_in_days", 0))
    arm = latent["arm"].values.astype(object)
    follow_up = float(latent["time"].values.max()) if "time" in latent.coords else math.inf

    def reader(r: Read) -> np.ndarray:
        if r.outcome is not None:
            v = latent[r.outcome].values
            if r.outcome.endswith("_day"):
                v = v.astype(float) - run_in
            return v

        def at(tp: str, column: str = "value") -> np.ndarray:
            if tp == "ema":
                sub = data.loc[(data["timepoint"] == "ema") & (data["instrument"] == r.instrument)]
                s = sub.groupby("dyad_id")["value"].mean()
            else:
                sub = data.loc[(data["timepoint"] == tp) & (data["instrument"] == r.instrument)]
                s = sub.set_index("dyad_id")[column]
            return s.reindex(ids).to_numpy()

        coded = data.loc[data["instrument"] == r.instrument, "category"].notna().any()
        if coded:  # a coded classification (the Strange Situation): its class names
            return at(r.timepoint, "category")
        y = at(r.timepoint).astype(float)
        if r.change_from is not None:
            y = y - at(r.change_from).astype(float)
        return y

    return _Data(arm, follow_up, reader)


def _cohort_scenario(cohort, params: Mapping[str, float]) -> dict[str, Any]:
    return {"population": {"preset": cohort.preset, "init": dict(cohort.init),
                           "params": dict(params)}}


def _cohort_base(cohort) -> dict[str, float]:
    from ..model.populations import get_population

    return dict(get_population(cohort.preset).with_overrides(params=cohort.params).params)


def _cohort_sim_data(cohort, reads: list[Read], theta: Mapping[str, float],
                     seed: int) -> _Data:
    from ..simulation import simulate

    nodes = sorted({r.node for r in reads if r.node is not None})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = run_parameters(_cohort_base(cohort), theta=theta)
        ds = simulate(_cohort_scenario(cohort, params),
                      dyads=cohort.n, seed=int(seed), start=cohort.start,
                      horizon=cohort.horizon, record="daily" if nodes else "none",
                      nodes=nodes or None)
    return _cohort_reader(ds)


def _cohort_sim_batch(cohort, reads: list[Read], thetas: Sequence[Mapping[str, float]],
                      seeds: Sequence[int]) -> list[_Data]:
    """The replications of one cohort under several (parameter set, seed) pairs in one
    engine call: the parameters that differ between sets and the seeds travel per dyad
    (``simulate(row_params=..., row_seeds=...)``), so set i's dyads get exactly what
    :func:`_cohort_sim_data` gives them alone."""
    from ..model.params import Parameters
    from ..simulation import simulate

    nodes = sorted({r.node for r in reads if r.node is not None})
    base = _cohort_base(cohort)
    sets = [run_parameters(base, theta=theta) for theta in thetas]
    n, k = cohort.n, len(sets)
    keys = sorted({name for ps in sets for name in ps})
    full = [Parameters(ps).to_dict() for ps in sets]
    varying = {name: np.repeat(np.array([f[name] for f in full], np.float64), n)
               for name in keys if any(f[name] != full[0][name] for f in full[1:])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = simulate(_cohort_scenario(cohort, sets[0]), dyads=n * k, seed=int(seeds[0]),
                      start=cohort.start, horizon=cohort.horizon,
                      record="daily" if nodes else "none", nodes=nodes or None,
                      dyad_ids=np.tile(np.arange(n), k), row_params=varying,
                      row_seeds=np.repeat(np.asarray(seeds, np.int64), n))
    return [_cohort_reader(ds.isel(dyad=slice(i * n, (i + 1) * n))) for i in range(k)]


def _window_counts(ds, r: Read) -> tuple[np.ndarray, np.ndarray]:
    """Per dyad: the events of the event node ``r.node`` in the window ``r.window`` (cohort
    time points, from inclusive, to exclusive), and the person-days at risk in it: days
    recorded and alive (person-time ends on the day of the mother's death, that day
    counted); NaN for a dyad whose window does not exist (a postpartum point without a
    birth in the run)."""
    n, days = ds.sizes["dyad"], int(ds.sizes.get("time", 0))
    birth = ds["birth_day"].values.astype(float)
    ends = []
    for tp in r.window or ():
        kind, day = cohort_day(tp)
        ends.append(birth + day if kind == "pp" else np.full(n, float(day)))
    lo, hi = ends
    death = np.nan_to_num(ds["maternal_death_day"].values.astype(float), nan=np.inf)
    d = np.arange(days)[None, :]
    at_risk = (d >= lo[:, None]) & (d < hi[:, None]) & (d <= death[:, None])
    events = np.where(at_risk, ds[r.node].values, 0.0).sum(axis=1)
    person_days = at_risk.sum(axis=1).astype(float)
    missing = ~(np.isfinite(lo) & np.isfinite(hi))
    return np.where(missing, np.nan, events), np.where(missing, np.nan, person_days)


def _cohort_reader(ds) -> _Data:
    n = ds.sizes["dyad"]
    days = int(ds.sizes.get("time", 0))

    def reader(r: Read) -> np.ndarray:
        if r.outcome is not None:
            return ds[r.outcome].values
        if r.window is not None:
            return _window_counts(ds, r)[0]
        kind, day = cohort_day(r.timepoint)
        col = np.full(n, day, dtype=float)
        if kind == "pp":
            col = ds["birth_day"].values.astype(float) + day
        values = ds[r.node].values
        ok = np.isfinite(col) & (col >= 0) & (col < days)
        out = np.full(n, np.nan)
        out[ok] = values[np.flatnonzero(ok), col[ok].astype(int)]
        return out

    return _Data(np.full(n, "cohort", dtype=object), float(max(days, 1) - 1), reader,
                 exposure=lambda r: _window_counts(ds, r)[1])


def _groups(t: Target, data: _Data) -> Groups:
    m: Measure = t.measure
    keys = tuple((t.observed.distribution or {}).keys())
    treatment, control = (m.contrast or (None, None))
    baseline = None
    if m.change_from is not None:  # the measure at change_from, for the change statistics
        baseline = data.read(Read(instrument=m.instrument, timepoint=m.change_from))
    exposure = None
    if m.window is not None and data.exposure is not None:
        exposure = data.exposure(m)
    return Groups(y=data.read(m), arm=data.arm,
                  z=data.read(m.with_) if m.with_ is not None else None, baseline=baseline,
                  exposure=exposure, per=m.per, treatment=treatment, control=control,
                  arm_name=m.arm, keys=keys, follow_up=data.follow_up)


def _statistics(study: Study, data: _Data) -> dict[str, float | dict[str, float] | None]:
    out: dict[str, Any] = {}
    for t in study.targets:
        v = compute_statistic(t.statistic, _groups(t, data))
        if isinstance(v, dict):
            out[t.id] = {k: (x if math.isfinite(x) else None) for k, x in v.items()}
        else:
            out[t.id] = v if math.isfinite(v) else None
    return out


def _pooled_statistic(t: Target, datas: Sequence[_Data]) -> float:
    """A standardised effect pooled over designs, fixed effect: each design's d (or g)
    weighted by the inverse of its large-sample variance (n1 + n2) / (n1 n2) + d^2 /
    (2 (n1 + n2)) (Hedges & Olkin 1985; Borenstein et al. 2009 ch. 11), the n's those of the
    complete cases in each arm."""
    num = den = 0.0
    for data in datas:
        g = _groups(t, data)
        d = compute_statistic(t.statistic, g)
        n1, n2 = (int(np.isfinite(np.asarray(g.y, float)[g.arm == a]).sum())
                  for a in (g.treatment, g.control))
        if not isinstance(d, float) or not math.isfinite(d) or min(n1, n2) < 2:
            return math.nan
        w = 1.0 / ((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
        num, den = num + w * d, den + w
    return num / den


def replicate_study(study: Study, theta: Mapping[str, float], seed: int
                    ) -> dict[str, float | dict[str, float] | None]:
    """Simulate ``study`` once under ``theta`` with ``seed``; each of its targets' statistic
    (None where undefined in this replicate). A pooled study runs each of its designs with
    the same draw and seed."""
    if study.pooled:
        (t,) = study.targets
        v = _pooled_statistic(t, [_trial_data(spec, theta, seed)
                                  for spec in (study.spec, *study.pooled)])
        return {t.id: v if math.isfinite(v) else None}
    if study.kind == "cohort_sim":
        reads = [r for t in study.targets for r in _reads(t)]
        data = _cohort_sim_data(study.spec, reads, theta, seed)
        if study.reference is not None:  # the same draw and seed in both populations
            data = _two_populations(data, _cohort_sim_data(study.reference, reads, theta,
                                                           seed))
    else:
        data = _trial_data(study.spec, theta, seed)
    return _statistics(study, data)


def replicate_batch(study: Study, thetas: Sequence[Mapping[str, float]],
                    seeds: Sequence[int]) -> list[dict[str, float | dict[str, float] | None]]:
    """``[replicate_study(study, theta, seed) for ...]``, the same numbers; a cohort study
    runs its parameter sets in one engine call (a per-dyad parameter batch), a trial one
    set at a time."""
    if len(thetas) != len(seeds):
        raise ValueError("one seed per parameter set is needed")
    if study.kind != "cohort_sim" or len(thetas) == 1 or study.reference is not None:
        return [replicate_study(study, th, sd) for th, sd in zip(thetas, seeds, strict=True)]
    reads = [r for t in study.targets for r in _reads(t)]
    return [_statistics(study, d) for d in _cohort_sim_batch(study.spec, reads, thetas, seeds)]


# ------------------------------------------------------------------------------ store
class ReplicationStore:
    """Append-only JSON lines of finished replications, one per (study, parameter set, seed,
    code). A line is written whole and flushed to disk before the next replication starts;
    a torn last line (a crash mid-write) is ignored on reading."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._done: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and "key" in rec:
                    self._done[rec["key"]] = rec["values"]

    @staticmethod
    def key(study: Study, theta: Mapping[str, float], seed: int) -> str:
        return _digest({"study": study.key, "theta": _digest(dict(theta)), "seed": int(seed),
                        "targets": [t.model_dump(mode="json", by_alias=True)
                                    for t in study.targets], "code": code_hash()})

    def get(self, key: str) -> dict[str, Any] | None:
        return self._done.get(key)

    def __len__(self) -> int:
        return len(self._done)

    def put(self, key: str, values: Mapping[str, Any], **info: Any) -> None:
        rec = {"key": key, **info, "values": dict(values)}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._done[key] = dict(values)
