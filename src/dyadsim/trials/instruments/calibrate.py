"""Calibrate the instruments to their reference populations, and check them.

Every instrument with a :class:`~.kinds.Norm` declares a reference population: a preset
standing for the sample its published figures describe, and the day it is measured. This
module simulates each reference population once (no intervention), reads every instrument's
inputs there exactly as a trial does (the mean of each latent over the instrument's window
ending on the assessment day; the daily series for series instruments; the 12- or
24-month outcome for outcome reads), and

- **calibrates**: the mean and unit of each reference-scaled instrument's latent
  composite, written to the generated module ``calibrated.py`` (the catalogue's
  constants, so the map standardises the latent where the published figures were
  measured). The unit is the composite's SD, refined where floor, ceiling or rounding would
  otherwise miss the published reliability (:func:`fitted_scale`);
- **checks**: per instrument, the realised reliability (squared correlation of the
  error-free score with the observed score: the share of observed variance that is
  true-score variance), observed SD and mean, and test-retest correlation (observed scores
  ``retest_days`` later, fresh measurement error; 0 days = the same period measured twice),
  next to the published (or declared) figures.

Rerun after any change to the model's dynamics or to a norm (deterministic for a given
``--dyads`` and ``--seed``)::

    python -m dyadsim.trials.instruments.calibrate          # writes calibrated.py, then
                                                            # prints the check in its runs
    python -m dyadsim.trials.instruments.calibrate --check  # the check alone, writes nothing

Test-retest depends on how much the latent itself persists over the interval: the map
and error set reliability and SD, not persistence, so a realised test-retest outside its
published range is reported, not tuned away.
"""

from __future__ import annotations

import argparse
import math
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...timepoints import parse_time_point
from .items import ItemScale, cronbach_alpha, mcdonald_omega, parallel_forms_r
from .kinds import (
    MIN_LATENT_SD,
    CodedClassification,
    Instrument,
    LatentScale,
    Norm,
    NotCalibratedError,
    ScaleScore,
    UseDaysRecall,
)

#: Kinds whose constants the calibration sets (a latent scale in the reference population).
CALIBRATED_KINDS = (ScaleScore, UseDaysRecall, ItemScale)

#: Dyads and seed of the reference simulations behind ``calibrated.py``.
CALIBRATION_DYADS = 2000
CALIBRATION_SEED = 20260131
#: Default seed of the check: not the calibration's, so the figures it reports for item
#: scales (alpha, omega, parallel forms) are out of sample (issue 20 item 4).
CHECK_SEED = 20260207

_OUTCOME_SUFFIXES = ("_12m", "_24m")
_DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class ReferenceRun:
    """One simulated reference population: daily latent series and per-dyad outcomes.

    ``nodes`` maps a latent to its (dyads, days) series; ``outcomes`` a per-dyad outcome
    (``wellbeing_cognitive_12m``) to its values; ``birth_day`` is the day index of birth
    (NaN without a pregnancy).
    """

    population: str
    pregnancy: bool
    nodes: Mapping[str, np.ndarray]
    outcomes: Mapping[str, np.ndarray]
    birth_day: np.ndarray

    @property
    def dyads(self) -> int:
        return int(self.birth_day.shape[0])

    def day_index(self, at: str, plus_days: int = 0) -> np.ndarray:
        """Per-dyad day index of time point ``at`` (``dayN`` or ``ppN``) plus ``plus_days``."""
        kind, num = _time_point(at)
        if kind == "pp":
            if not self.pregnancy:
                raise ValueError(f"{self.population!r} has no pregnancy: {at!r} is undefined")
            return np.round(self.birth_day).astype(np.int64) + num + plus_days
        return np.full(self.dyads, num + plus_days, dtype=np.int64)

    def inputs(self, inst: Instrument, end: np.ndarray) -> dict[str, np.ndarray]:
        """The instrument's inputs for an assessment on day index ``end`` (per dyad)."""
        out: dict[str, np.ndarray] = {}
        for read in inst.reads:
            if read in self.nodes:
                series = self.nodes[read]
                w = inst.window_days
                if int(end.min()) - w + 1 < 0 or int(end.max()) >= series.shape[1]:
                    raise ValueError(
                        f"instrument {inst.name!r}: its {w}-day window on {read!r} runs "
                        "outside the reference simulation"
                    )
                idx = end[:, None] - w + 1 + np.arange(w)[None, :]
                x = np.clip(series[np.arange(series.shape[0])[:, None], idx], 0.0, 1.0)
                out[read] = x if inst.series else x.mean(axis=1)
            elif all(read + s in self.outcomes for s in _OUTCOME_SUFFIXES):
                pp_day = end - np.round(self.birth_day)
                use24 = pp_day >= round(18 * _DAYS_PER_MONTH)
                v = np.where(use24, self.outcomes[read + "_24m"], self.outcomes[read + "_12m"])
                out[read] = np.clip(v.astype(np.float64), 0.0, 1.0)
            else:
                raise ValueError(f"instrument {inst.name!r} reads {read!r}, not simulated")
        return out


def _time_point(at: str) -> tuple[str, int]:
    parsed = parse_time_point(at)
    if parsed is None or parsed[0] == "gw":
        raise ValueError(f"reference time point must be 'dayN' or 'ppN', got {at!r}")
    return parsed


def normed(instruments: Mapping[str, Instrument]) -> dict[str, list[Instrument]]:
    """Instruments with a norm, grouped by reference population (catalogue order)."""
    groups: dict[str, list[Instrument]] = {}
    for inst in instruments.values():
        if inst.norm is not None:
            groups.setdefault(inst.norm.population, []).append(inst)
    return groups


#: Days simulated past a further time point ``at`` (births vary around the preset's date).
AT_MARGIN_DAYS = 30


def simulate_reference(
    population: str,
    instruments: Sequence[Instrument],
    *,
    dyads: int = CALIBRATION_DYADS,
    seed: int = CALIBRATION_SEED,
    progress: Callable[[int], None] | None = None,
    at: Sequence[str] = (),
) -> ReferenceRun:
    """Simulate ``population`` from its default start, without intervention, long enough
    for every instrument's window, assessment day and retest (for instruments whose
    reference population it is) and for the further time points ``at``."""
    import warnings

    from ...model.populations import get_population
    from ...simulation import simulate

    pop = get_population(population)
    last = 0
    points = [(inst.name, inst.norm.at, inst.norm.retest_days or 0) for inst in instruments
              if inst.norm is not None and inst.norm.population == population]
    points += [("--at", t, AT_MARGIN_DAYS) for t in at]
    for name, when, retest in points:
        kind, num = _time_point(when)
        if kind == "pp" and not pop.pregnancy:
            raise ValueError(f"instrument {name!r}: {population!r} has no birth")
        last = max(last, num + retest)
    nodes = sorted({r for inst in instruments for r in inst.reads if _is_node(r)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = simulate(population=population, dyads=dyads, seed=seed, horizon=last + 1,
                      record="daily", nodes=nodes or None, progress=progress)
    outcomes = {
        str(k): np.asarray(ds[k].values, dtype=np.float64)
        for k in ds.data_vars
        if str(k).endswith(_OUTCOME_SUFFIXES) and "time" not in ds[k].dims
    }
    return ReferenceRun(
        population=population,
        pregnancy=pop.pregnancy,
        nodes={n: np.asarray(ds[n].values, dtype=np.float64) for n in nodes},
        outcomes=outcomes,
        birth_day=np.asarray(ds["birth_day"].values, dtype=np.float64),
    )


def _is_node(read: str) -> bool:
    from ...model.graph import NODE_BY_ID

    return read in NODE_BY_ID


def _rng(seed: int, name: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), stream])


def latent_scale(inst: ScaleScore | UseDaysRecall | ItemScale, run: ReferenceRun
                 ) -> LatentScale:
    """Mean and SD at the reference assessment of what the instrument scales: a score's
    latent composite, or the true use days of a recall."""
    assert inst.norm is not None
    inputs = run.inputs(inst, run.day_index(inst.norm.at))
    c = inst.composite(inputs) if isinstance(inst, ScaleScore | ItemScale) \
        else inst.true_score(inputs)
    c = c[np.isfinite(c)]
    return LatentScale(mean=float(c.mean()), sd=float(c.std(ddof=1)))


#: The unit search: factors of the latent SD tried (log-bisection steps within them).
UNIT_RANGE = (1 / 32, 4.0)
UNIT_STEPS = 30


def fitted_scale(inst: ScaleScore, run: ReferenceRun, seed: int) -> LatentScale:
    """The latent scale that gives the published reliability after floor, ceiling and
    rounding.

    Starts from the composite's mean and SD (exact for a normal latent away from the scale
    limits) and, where the composite has spread, finds by log-bisection the unit (a factor
    of its SD in :data:`UNIT_RANGE`) whose realised reliability in the reference run (no
    missingness, fixed error draws) first reaches the target coming down from the largest
    unit (a grid, then bisection): a skewed or heavy-tailed latent
    clips at the floor or ceiling, so its SD is not the unit that gives the figure. Where no
    unit in the range reaches it the SD is kept (and the check reports the miss).
    """
    base = latent_scale(inst, run)
    if base.sd < MIN_LATENT_SD or inst.norm is None:
        return base
    inputs = run.inputs(inst, run.day_index(inst.norm.at))
    exact = replace(inst, missing_rate=0.0)
    target = inst.norm.reliability

    def reliability(factor: float) -> float:
        trial = replace(exact, latent=LatentScale(base.mean, base.sd * factor))
        obs = np.asarray(trial.measure(inputs, _rng(seed, inst.name, 2)), dtype=np.float64)
        true = np.asarray(trial.true_score(inputs), dtype=np.float64)
        if inst.link == "log":
            obs, true = np.log(obs), np.log(true)
        r = _corr(true, obs)
        return 0.0 if r is None else r * r

    # Reliability falls as the unit grows (a flatter map) until, at tiny units, the floor
    # and ceiling saturate: bracket the first crossing coming down from the largest unit.
    grid = np.geomspace(UNIT_RANGE[1], UNIT_RANGE[0], 15)
    hi = float(grid[0])
    if reliability(hi) > target:
        return base
    for factor in grid[1:]:
        if reliability(float(factor)) >= target:
            lo = float(factor)
            break
        hi = float(factor)
    else:
        return base
    for _ in range(UNIT_STEPS):
        mid = math.sqrt(lo * hi)
        if reliability(mid) > target:
            lo = mid
        else:
            hi = mid
    return LatentScale(base.mean, base.sd * math.sqrt(lo * hi))


@dataclass(frozen=True)
class CheckRow:
    """Published (or declared) vs realised figures of one instrument in one population;
    ``note`` says what is published, declared or not applicable.

    The first row of an instrument is its reference population (``reference``); an item
    scale has further rows for the populations its examples give it in, with realised
    figures only. ``realised_alpha``, ``realised_omega`` and ``parallel_forms_r`` are
    measured on simulated item responses (item scales only); ``out_of_sample`` is True when
    the seed or the population is not the one the latent scale was calibrated on.
    """

    instrument: str
    population: str | None
    published_reliability: float | None
    realised_reliability: float | None
    published_sd: float | None
    realised_sd: float | None
    published_test_retest: tuple[float, float] | None
    realised_test_retest: float | None
    published_mean: float | None
    realised_mean: float | None
    declared: dict[str, Any]
    note: str
    remark: str = ""
    floor_share: float | None = None
    ceiling_share: float | None = None
    latent_too_flat: bool = False
    realised_alpha: float | None = None
    realised_omega: float | None = None
    parallel_forms_r: float | None = None
    latent_sd: float | None = None
    reference: bool = True
    reference_population: str | None = None
    out_of_sample: bool | None = None

    def as_json(self) -> dict[str, Any]:
        tr = self.published_test_retest
        return {
            "instrument": self.instrument,
            "population": self.population,
            "reference": self.reference,
            "reference_population": self.reference_population,
            "out_of_sample": self.out_of_sample,
            "published_reliability": self.published_reliability,
            "realised_reliability": self.realised_reliability,
            "realised_alpha": self.realised_alpha,
            "realised_omega": self.realised_omega,
            "parallel_forms_r": self.parallel_forms_r,
            "published_sd": self.published_sd,
            "realised_sd": self.realised_sd,
            "published_test_retest": None if tr is None else list(tr),
            "realised_test_retest": self.realised_test_retest,
            "published_mean": self.published_mean,
            "realised_mean": self.realised_mean,
            "floor_share": self.floor_share,
            "ceiling_share": self.ceiling_share,
            "latent_sd": self.latent_sd,
            "latent_too_flat": self.latent_too_flat,
            "declared": self.declared,
            "note": self.note,
        }


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def realised(inst: Instrument, run: ReferenceRun, seed: int, at: str | None = None
             ) -> dict[str, float | None]:
    """Realised reliability, SD, mean, floor and ceiling shares and test-retest r of
    ``inst`` in ``run`` at ``at`` (default: its norm's time point; the retest only there),
    simulated with the instrument's own measure() (floor, ceiling, rounding, missingness).
    An item scale adds Cronbach's alpha, McDonald's omega (on the keyed item responses),
    the parallel-forms r (the items answered a second time, same latent) and the latent
    composite's SD."""
    norm = inst.norm
    assert norm is not None
    when = norm.at if at is None else at
    end = run.day_index(when)
    inputs = run.inputs(inst, end)
    extra: dict[str, float | None] = {}
    if isinstance(inst, ItemScale):
        form, obs = inst.administer(inputs, _rng(seed, inst.name, 0))
        keyed = inst.keyed(form)
        again = inst.administer(inputs, _rng(seed, inst.name, 3))[1]
        c = inst.composite(inputs)
        extra = {"alpha": cronbach_alpha(keyed), "omega": mcdonald_omega(keyed),
                 "parallel_forms_r": parallel_forms_r(obs, again),
                 "latent_sd": float(np.nanstd(c, ddof=1))}
    else:
        obs = np.asarray(inst.measure(inputs, _rng(seed, inst.name, 0)), dtype=np.float64)
    true = np.asarray(inst.true_score(inputs), dtype=np.float64)
    seen = obs[np.isfinite(obs)]
    lo, hi = inst.scale
    floor = float(np.mean(seen <= lo)) if seen.size else None
    ceiling = float(np.mean(seen >= hi)) if seen.size else None
    if isinstance(inst, ScaleScore) and inst.link == "log":
        obs, true = np.log(obs), np.log(true)
    r = _corr(true, obs)
    kept = obs[np.isfinite(obs)]
    if r is None and kept.size > 1 and np.nanstd(true) < 1e-9 < kept.std():
        r = 0.0  # no true-score spread: all observed variance is error
    out: dict[str, float | None] = {
        "reliability": None if r is None else r * r,
        "sd": float(kept.std(ddof=1)) if kept.size > 1 else None,
        "mean": float(kept.mean()) if kept.size else None,
        "test_retest": None,
        "floor_share": floor,
        "ceiling_share": ceiling,
        **extra,
    }
    if norm.retest_days is not None and when == norm.at:
        later = run.inputs(inst, end + norm.retest_days)
        again = np.asarray(inst.measure(later, _rng(seed, inst.name, 1)), dtype=np.float64)
        if isinstance(inst, ScaleScore) and inst.link == "log":
            again = np.log(again)
        out["test_retest"] = _corr(obs, again)
    if isinstance(inst, ScaleScore) and inst.link == "log" and out["mean"] is not None:
        out["mean"] = math.exp(out["mean"])  # geometric mean, as the norm states it
    return out


#: A latent (a 0-1 node composite) whose SD in the reference population is below this is
#: flagged by the check (issue 20 item 4): stretched to the instrument's published SD, an
#: effect on it is set by how little the model varies, not by the intervention. Guess: 2% of
#: the latent's range (ASQ-3 domains, EPDS, PSI-SF and infant cortisol had 0.003-0.018).
FLAT_LATENT_SD = 0.02

#: Tolerances of the check (issue 7): reliability +-0.05, SD +-20%, retest in its range.
RELIABILITY_TOLERANCE = 0.05
SD_TOLERANCE = 0.20


def off_target(norm: Norm, got: Mapping[str, float | None]) -> list[str]:
    """The figures (published or declared) that ``got`` misses by more than the check's
    tolerances; a figure not realised (None) counts as missed. For an item scale the
    reliability compared is its realised Cronbach's alpha (what the published figure is)."""
    off = []
    rel = got.get("alpha", got.get("reliability"))
    if rel is None or abs(rel - norm.reliability) > RELIABILITY_TOLERANCE:
        off.append("reliability")
    if norm.sd is not None:
        sd = got.get("sd")
        if sd is None or abs(sd / norm.sd - 1.0) > SD_TOLERANCE:
            off.append("sd")
    if norm.test_retest is not None:
        tr = got.get("test_retest")
        if tr is None or not norm.test_retest[0] <= tr <= norm.test_retest[1]:
            off.append("test-retest")
    return off


def _is_flat(inst: Instrument) -> bool:
    latent = getattr(inst, "latent", None)
    return (isinstance(inst, ScaleScore | ItemScale) and inst.norm is not None
            and isinstance(latent, LatentScale) and latent.sd < FLAT_LATENT_SD)


def _row(inst: Instrument, got: dict[str, float | None] | None, *,
         population: tuple[str, str] | None = None, seed: int | None = None) -> CheckRow:
    """The check row of ``inst`` in its reference population, or (``population`` = (preset,
    time point)) in another population it is used in (realised figures only)."""
    norm = inst.norm
    if norm is None:
        if isinstance(inst, CodedClassification):
            why = "coded classification: coder agreement, not a variance share"
        elif isinstance(inst, ScaleScore):
            why = (f"published: the error only (SEM {inst.sem:.2f}, reliability "
                   f"{inst.reliability:g}); no population SD to scale to")
        else:
            why = "no published reliability, SD or test-retest"
        return CheckRow(inst.name, None, None, None, None, None, None, None, None, None, {},
                        why, remark=why)
    pub = norm.is_published
    ref = f"{norm.population} at {norm.at}"
    g = got or {}
    flat = _is_flat(inst)
    latent = getattr(inst, "latent", None)
    common = dict(
        instrument=inst.name, realised_reliability=g.get("reliability"),
        realised_sd=g.get("sd"), realised_test_retest=g.get("test_retest"),
        realised_mean=g.get("mean"), floor_share=g.get("floor_share"),
        ceiling_share=g.get("ceiling_share"), latent_too_flat=bool(flat),
        realised_alpha=g.get("alpha"), realised_omega=g.get("omega"),
        parallel_forms_r=g.get("parallel_forms_r"), latent_sd=g.get("latent_sd"),
        reference_population=ref,
    )
    if population is not None:
        where = f"{population[0]} at {population[1]}"
        note = (f"used in {population[0]} (shipped examples): realised figures only; the "
                f"published or declared ones describe {ref}")
        remark = note if got is not None else "not measured: " + note
        return CheckRow(population=where, published_reliability=None, published_sd=None,
                        published_test_retest=None, published_mean=None, declared={},
                        note=note, remark=remark, reference=False, out_of_sample=True,
                        **common)  # type: ignore[arg-type]
    declared = {
        k: v
        for k, v in (
            ("reliability", norm.reliability),
            ("sd", norm.sd),
            ("mean", norm.mean),
            ("test_retest", None if norm.test_retest is None else list(norm.test_retest)),
        )
        if v is not None and not pub(k)
    }
    parts = [f"published: {', '.join(norm.published)}" if norm.published
             else "no published figures (all declared guesses)"]
    if declared:
        parts.append("declared: " + ", ".join(declared))
    remarks = []
    if isinstance(inst, ScaleScore) and inst.latent is not None and \
            inst.latent.sd < MIN_LATENT_SD:
        remarks.append(f"the model gives the latent no spread in {norm.population}; "
                       f"assumed latent SD {inst.assumed_latent_sd}")
    elif flat:
        assert isinstance(latent, LatentScale)
        remarks.append(f"latent too flat to carry the published SD: SD {latent.sd:.3g} "
                       f"in {norm.population}, so {latent.sd:.3g} latent units are "
                       "stretched to one instrument SD")
    off = off_target(norm, g)
    if off:
        remarks.append("outside tolerance: " + ", ".join(off))
    parts += remarks
    return CheckRow(
        population=ref,
        published_reliability=norm.reliability if pub("reliability") else None,
        published_sd=norm.sd if pub("sd") else None,
        published_test_retest=norm.test_retest if pub("test_retest") else None,
        published_mean=norm.mean if pub("mean") else None,
        declared=declared,
        note="; ".join(parts),
        remark="; ".join(remarks),
        out_of_sample=None if seed is None or not isinstance(inst, ItemScale)
        else seed != CALIBRATION_SEED,
        **common,  # type: ignore[arg-type]
    )


def check(
    instruments: Mapping[str, Instrument] | None = None,
    *,
    dyads: int = CALIBRATION_DYADS,
    seed: int = CHECK_SEED,
    runs: Mapping[str, ReferenceRun] | None = None,
    on_population: Callable[[str], None] | None = None,
    used_in: bool = True,
) -> list[CheckRow]:
    """Check rows (catalogue order): each instrument in its reference population, then
    (``used_in``) each item scale in the other populations the shipped examples give it in.
    ``runs`` reuses simulations already made (by population); others are simulated here."""
    if instruments is None:
        from .catalogue import INSTRUMENTS

        instruments = INSTRUMENTS
    groups = normed(instruments)
    extra: dict[str, list[tuple[Instrument, str]]] = {}
    if used_in:
        for inst in instruments.values():
            for population, when in getattr(inst, "used_in", ()):
                extra.setdefault(population, []).append((inst, when))
    got: dict[tuple[str, str | None], dict[str, float | None]] = {}
    failed: dict[tuple[str, str | None], str] = {}
    for population in list(groups) + [p for p in extra if p not in groups]:
        members = groups.get(population, [])
        others = extra.get(population, [])
        if on_population is not None:
            on_population(population)
        run = (runs or {}).get(population) or simulate_reference(
            population, members + [i for i, _ in others], dyads=dyads, seed=seed,
            at=[t for _, t in others])
        jobs = [(inst, None) for inst in members] + list(others)
        for inst, when in jobs:
            key = (inst.name, None if when is None else population)
            try:
                got[key] = realised(inst, run, seed, at=when)
            except NotCalibratedError as exc:
                failed[key] = str(exc)
            except ValueError as exc:  # a reused run that does not reach the time point
                if when is None:
                    raise
                failed[key] = str(exc)
    rows = []
    for inst in instruments.values():
        row = _row(inst, got.get((inst.name, None)), seed=seed)
        if (inst.name, None) in failed:
            row = replace(row, remark=failed[(inst.name, None)],
                          note=failed[(inst.name, None)])
        rows.append(row)
        if used_in:
            for population, when in getattr(inst, "used_in", ()):
                key = (inst.name, population)
                row = _row(inst, got.get(key), population=(population, when), seed=seed)
                if key in failed:
                    row = replace(row, remark=failed[key])
                rows.append(row)
    return rows


def calibrate(
    instruments: Mapping[str, Instrument] | None = None,
    *,
    dyads: int = CALIBRATION_DYADS,
    seed: int = CALIBRATION_SEED,
    on_population: Callable[[str], None] | None = None,
    runs: dict[str, ReferenceRun] | None = None,
) -> dict[str, LatentScale]:
    """Latent scales of every reference-scaled instrument, from fresh reference runs (kept
    in ``runs``, by population, when a dict is given)."""
    if instruments is None:
        from .catalogue import INSTRUMENTS

        instruments = INSTRUMENTS
    scales: dict[str, LatentScale] = {}
    for population, members in normed(instruments).items():
        scaled = [m for m in members if isinstance(m, CALIBRATED_KINDS)]
        if not scaled:
            continue
        if on_population is not None:
            on_population(population)
        run = simulate_reference(population, members, dyads=dyads, seed=seed)
        if runs is not None:
            runs[population] = run
        for inst in scaled:
            scales[inst.name] = (fitted_scale(inst, run, seed) if isinstance(inst, ScaleScore)
                                 else latent_scale(inst, run))
    return scales


def with_scales(
    instruments: Mapping[str, Instrument], scales: Mapping[str, LatentScale]
) -> dict[str, Instrument]:
    """The instruments with these latent scales (as the catalogue will read them)."""
    return {k: replace(i, latent=scales[k]) if k in scales else i
            for k, i in instruments.items()}


CALIBRATED_PATH = Path(__file__).with_name("calibrated.py")


def render_calibrated(scales: Mapping[str, LatentScale], dyads: int, seed: int) -> str:
    """Source text of the generated ``calibrated.py``."""
    lines = [
        '"""Generated by ``python -m dyadsim.trials.instruments.calibrate``; do not edit.',
        "",
        "Mean and SD of each reference-scaled instrument's latent composite in its reference",
        f"population ({dyads} simulated dyads, seed {seed}). Rerun the calibration after any",
        "change to the model's dynamics or to an instrument's norm.",
        '"""',
        "",
        f'CALIBRATION = {{"dyads": {dyads}, "seed": {seed}}}',
        "",
        "#: instrument -> (latent mean, latent SD) in the reference population",
        "LATENT_SCALES: dict[str, tuple[float, float]] = {",
    ]
    for name in sorted(scales):
        s = scales[name]
        lines.append(f'    "{name}": ({s.mean:.6g}, {s.sd:.6g}),')
    lines.append("}")
    return "\n".join(lines) + "\n"


#: Column heads of :func:`format_rows`.
CHECK_COLUMNS = ("instrument", "population", "reliability", "SD", "test-retest r",
                 "alpha / omega / parallel r", "floor / ceiling", "remark")


def format_rows(rows: Iterable[CheckRow]) -> list[list[str]]:
    """Rows of strings for a table (:data:`CHECK_COLUMNS`): instrument, population,
    reliability, SD, test-retest (published or declared -> realised), the item scales'
    realised alpha / omega / parallel-forms r, floor and ceiling shares, remark."""

    def num(x: float | None, fmt: str = ".2f") -> str:
        return "-" if x is None else format(x, fmt)

    def pair(pub: float | None, dec: Any, real: float | None, fmt: str = ".2f") -> str:
        if pub is None and dec is None:
            return f"n/p -> {num(real, fmt)}" if real is not None else "n/p"
        target = num(pub, fmt) if pub is not None else f"({num(dec, fmt)})"
        return f"{target} -> {num(real, fmt)}"

    out = []
    for r in rows:
        tr_pub = r.published_test_retest
        tr_dec = r.declared.get("test_retest")
        if tr_pub is not None:
            tr = f"{tr_pub[0]:.2f}-{tr_pub[1]:.2f} -> {num(r.realised_test_retest)}"
        elif tr_dec is not None:
            tr = f"({tr_dec[0]:.2f}-{tr_dec[1]:.2f}) -> {num(r.realised_test_retest)}"
        else:
            tr = "n/p" if r.realised_test_retest is None else \
                f"n/p -> {num(r.realised_test_retest)}"
        sd_fmt = ".3g"
        items = "-" if r.realised_alpha is None and r.realised_omega is None else \
            f"{num(r.realised_alpha)} / {num(r.realised_omega)} / {num(r.parallel_forms_r)}"
        ends = "-" if r.floor_share is None else \
            f"{r.floor_share:.1%} / {r.ceiling_share or 0.0:.1%}"
        out.append([
            r.instrument if r.reference else f"  {r.instrument}",
            r.population or "-",
            pair(r.published_reliability, r.declared.get("reliability"),
                 r.realised_reliability),
            pair(r.published_sd, r.declared.get("sd"), r.realised_sd, sd_fmt),
            tr,
            items,
            ends,
            r.remark,
        ])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dyadsim.trials.instruments.calibrate [--dyads N] [--seed S] [--check]``"""
    ap = argparse.ArgumentParser(prog="python -m dyadsim.trials.instruments.calibrate",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--dyads", type=int, default=CALIBRATION_DYADS)
    ap.add_argument("--seed", type=int, default=None,
                    help=f"seed (default {CALIBRATION_SEED}; with --check {CHECK_SEED})")
    ap.add_argument("--check", action="store_true",
                    help="print published vs realised figures; write nothing")
    args = ap.parse_args(argv)
    if args.dyads < 10:
        print("error: --dyads must be at least 10", file=sys.stderr)
        return 2

    def say(population: str) -> None:
        print(f"simulating reference population {population} ({args.dyads} dyads)",
              file=sys.stderr)

    if args.seed is None:
        args.seed = CHECK_SEED if args.check else CALIBRATION_SEED
    if args.check:
        for row in format_rows(check(dyads=args.dyads, seed=args.seed, on_population=say)):
            print(" | ".join(row))
        return 0
    from ..._io import atomic_text
    from .catalogue import INSTRUMENTS

    runs: dict[str, ReferenceRun] = {}
    scales = calibrate(INSTRUMENTS, dyads=args.dyads, seed=args.seed, on_population=say,
                       runs=runs)
    atomic_text(CALIBRATED_PATH, render_calibrated(scales, args.dyads, args.seed))
    print(f"wrote {CALIBRATED_PATH} ({len(scales)} instruments); in the same runs:",
          file=sys.stderr)
    rows = check(with_scales(INSTRUMENTS, scales), runs=runs, seed=args.seed, used_in=False)
    for row in format_rows(rows):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
