"""Model checks: the perinatal course at default parameters against published ranges.

:func:`run_checks` simulates the population presets a check needs and returns one row per
quantity: the model's value with its Monte Carlo 95% interval (a percentile bootstrap over
the simulated dyads, :data:`BOOTSTRAP`), the published range with its source, whether the
value lies inside, and whether the range was used to set a parameter (``used_for``: such a
row is not evidence; it shows only that the setting still holds). Each row's range is for
the same quantity as its source. Defaults need not pass every row (calibration fits
levels); every row is reachable by some parameter setting inside the declared bounds
(tests/reports/test_checks.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_dir
from ..model.populations import PRESETS

DAYS_PER_YEAR = 365.25
#: Bootstrap resamples for each row's Monte Carlo interval (percentile, 95%).
BOOTSTRAP = 200
#: Consecutive use days that count as a return to daily use (Smyth 2010 reports relapse as
#: a return to daily use, not a single lapse); a definition of the check, not model science.
DAILY_RUN_DAYS = 3


class CheckError(ValueError):
    """A check option is invalid."""


@dataclass(frozen=True)
class Run:
    """One simulation the checks read: a population preset (with init overrides), a start
    and a horizon."""

    population: str
    start: str
    horizon: str
    init: Mapping[str, Any] | None = None
    record: str = "none"
    nodes: tuple[str, ...] | None = None

    def scenario(self) -> dict:
        return {"population": {"preset": self.population, "init": dict(self.init or {})},
                "start": self.start, "horizon": self.horizon, "record": self.record}


RUNS: dict[str, Run] = {
    "untreated_gw20": Run("pregnant_oud_no_moud", "gw20", "13m"),
    "stable_gw20": Run("pregnant_oud_no_moud", "gw20", "13m", {"moud.offered": 0.0}),
    "stable_gw36": Run("pregnant_oud_no_moud", "gw36", "13m", {"moud.offered": 0.0}),
    "methadone_gw20": Run("pregnant_oud_moud", "gw20", "13m", {"moud.buprenorphine": 0.0}),
    "buprenorphine_gw20": Run("pregnant_oud_moud", "gw20", "13m", {"moud.buprenorphine": 1.0}),
    # Schiff 2021's late starters began MOUD in the last month of pregnancy: time on
    # treatment at gw36 uniform over 0-30 days (mean 15, SD 30/sqrt(12) = 8.7); without it
    # the preset's women carry the burn-in's year on MOUD (issue 18 item 5).
    "moud_gw36": Run("pregnant_oud_moud", "gw36", "13m",
                     {"moud.days_on": {"dist": "normal", "mean": 15.0, "sd": 8.7}}),
    "low_risk_gw20": Run("low_risk_mothers", "gw20", "13m"),
    "after_detox": Run("adult_after_detox", "day0", "60d", record="daily",
                       nodes=("opioid_use",)),
}


@dataclass(frozen=True)
class Check:
    id: str
    quantity: str
    lo: float
    hi: float
    source: str
    runs: tuple[str, ...]
    value: Callable[..., float]
    #: Parameters set with this row's range in view ("" when the row is evidence).
    used_for: str = ""


def _share(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _nows(ds) -> float:
    return _share(ds["nows"].values)


def _pregnancy_use_share(ds) -> float:
    """Share of observed pregnancy days with use (enrolment to birth)."""
    days = ds["birth_day"].values
    return float(ds["use_days_pregnancy"].values.sum() / max(days.sum(), 1))


def _mme(ds) -> float:
    """Mean daily MME on use days over the dyads with a use day (the opioid_dose node)."""
    return _share(ds["mme_per_use_day"].values)


def _per_person_year(ds, counts) -> float:
    years = (ds["birth_day"].values * 0 + ds.attrs["horizon_days"]
             + np.nan_to_num(ds["birth_day"].values)) / DAYS_PER_YEAR
    return float(np.sum(counts) / np.sum(years))


def _overdoses_py(ds) -> float:
    return _per_person_year(ds, ds["overdoses"].values)


def _deaths_py(ds) -> float:
    return _per_person_year(ds, np.isfinite(ds["maternal_death_day"].values))


def _within_after_birth(ds, var, days) -> np.ndarray:
    since = ds[var].values - ds["birth_day"].values
    return np.isfinite(since) & (since < days)


def _cps_12m(ds) -> float:
    return float(_within_after_birth(ds, "cps_report_day", DAYS_PER_YEAR).mean())


def _placement_nows_30d(ds) -> float:
    nows = ds["nows"].values > 0
    placed = _within_after_birth(ds, "placement_day", DAYS_PER_YEAR / 12)
    return float(placed[nows].mean()) if nows.any() else math.nan


def _nows_medicaid_mix(untreated, methadone, buprenorphine) -> float:
    """NOWS share over births to mothers with OUD in Pennsylvania Medicaid: the model's
    untreated, methadone and buprenorphine runs weighted by that population's treatment
    shares (:data:`KRANS_MOUD_SHARES`)."""
    w = KRANS_MOUD_SHARES
    return (w["untreated"] * _nows(untreated) + w["methadone"] * _nows(methadone)
            + w["buprenorphine"] * _nows(buprenorphine))


#: Treatment during pregnancy among Pennsylvania Medicaid pregnancies with OUD (Krans 2019:
#: buprenorphine 27.1%, methadone 28.8%, the rest none), the population of Krans 2021.
KRANS_MOUD_SHARES = {"buprenorphine": 0.271, "methadone": 0.288, "untreated": 1 - 0.271 - 0.288}


def _class_share(name):
    def value(*dss) -> float:
        cls = np.concatenate([d["attachment_class"].values for d in dss])
        cls = cls[cls != "none"]
        return float(np.mean(cls == name)) if cls.size else math.nan
    return value


def _disorganized_ratio(low, *oud) -> float:
    low_d = _class_share("disorganized")(low)
    return _class_share("disorganized")(*oud) / low_d if low_d > 0 else math.nan


def _sensitivity_gap(low, *oud) -> float:
    """Cohen's d of mean postpartum parenting, low-risk minus OUD (pooled SD)."""
    a = low["parenting_mean"].values
    b = np.concatenate([d["parenting_mean"].values for d in oud])
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    pooled = np.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1))
                     / (a.size + b.size - 2))
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else math.nan


def _sensitivity_security_r(ds) -> float:
    """Point-biserial r of mean parenting with a secure classification (the meta-analyses
    correlate observed sensitivity with Strange Situation security)."""
    cls = ds["attachment_class"].values
    a = ds["parenting_mean"].values
    b = (cls == "secure").astype(float)
    ok = np.isfinite(a) & (cls != "none")
    return float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 else math.nan


def _daily_use_day(ds) -> np.ndarray:
    """Per dyad, the first day of a run of :data:`DAILY_RUN_DAYS` consecutive use days (a
    return to daily use), inf when there is none (from the daily opioid_use record)."""
    use = ds["opioid_use"].transpose("dyad", "time").values > 0.5
    n, t = use.shape
    k = DAILY_RUN_DAYS
    if t < k:
        return np.full(n, np.inf)
    run = np.ones((n, t - k + 1), bool)
    for j in range(k):
        run &= use[:, j:t - k + 1 + j]
    first = np.where(run.any(axis=1), run.argmax(axis=1), -1)
    days = ds["time"].values
    return np.where(first >= 0, days[np.maximum(first, 0)] - days[0], np.inf).astype(float)


def _relapse_by(days):
    def value(ds) -> float:
        return float(np.mean(_daily_use_day(ds) < days))
    return value


def _relapse_hazard_ratio(ds) -> float:
    """Daily hazard of a return to daily use in week 1 over that in weeks 2-4 (> 1: falling
    hazard)."""
    d = _daily_use_day(ds)
    week, month = 7, 28

    def hazard(a, b):
        at_risk = np.sum(d >= a)
        return np.sum((d >= a) & (d < b)) / max(at_risk, 1) / (b - a)

    late = hazard(week, month)
    return float(hazard(0, week) / late) if late > 0 else math.inf


S5 = "mechanisms.md s5"
CHECKS: tuple[Check, ...] = (
    Check("nows_medicaid_mix", "NOWS share, births to mothers with OUD (Medicaid mix of "
          "untreated, methadone, buprenorphine)", 0.479, 0.679,
          "Krans 2021 (Pennsylvania Medicaid, 13,320 pregnancies with OUD): 57.9% (point; "
          "+-0.1 tolerance); treatment shares Krans 2019 (the old untreated-only row took its "
          "lower bound from MOUD cohorts)", ("untreated_gw20", "methadone_gw20",
                                             "buprenorphine_gw20"), _nows_medicaid_mix),
    Check("nows_methadone", "NOWS share, methadone", 0.45, 0.65,
          f"{S5}: MOTHER 56.9% (Gaalema 2012); prior range 0.45-0.65", ("methadone_gw20",),
          _nows),
    Check("nows_buprenorphine", "NOWS share, buprenorphine", 0.25, 0.50,
          f"{S5}: MOTHER 47.4% (Gaalema 2012); prior range 0.25-0.50",
          ("buprenorphine_gw20",), _nows),
    Check("nows_enrolment_gap", "NOWS share, enrolment gw20 minus gw36 (absolute)", 0.0, 0.03,
          "issue 6: the week a study enrols must not change NOWS (< 3 points); the same "
          "untreated population (no MOUD entry in the window, so those still untreated at "
          "gw36 are those untreated at gw20)", ("stable_gw20", "stable_gw36"),
          lambda a, b: abs(_nows(a) - _nows(b)), used_for="prenatal.use_share (populations)"),
    Check("use_share_untreated", "Use-day share in pregnancy, untreated OUD", 0.50, 1.0,
          "guess: untreated OUD is mostly daily use (DSM-5; heroin 56% of admissions, "
          "Bachhuber 2017); no published use-day share found", ("untreated_gw20",),
          _pregnancy_use_share),
    Check("mme_untreated", "Daily MME on use days, untreated OUD", 50.0, 300.0,
          "guess: no published perinatal MME found; a range spanning LTOT high doses "
          "(>= 90-100 MME/day, CDC 2022) to heavy daily heroin use",
          ("untreated_gw20",), _mme),
    Check("moud_12m_throughout", "On MOUD 12 months postpartum, MOUD through pregnancy",
          0.70, 0.90, "Schiff 2021: 80% (point; +-0.1 tolerance)",
          ("methadone_gw20", "buprenorphine_gw20"),
          lambda *d: _share(np.concatenate([x["moud_at_12m"].values for x in d]))),
    Check("moud_12m_late_start", "On MOUD 12 months postpartum, MOUD from the last month",
          0.24, 0.44, "Schiff 2021: 34% (point; +-0.1 tolerance)", ("moud_gw36",),
          lambda d: _share(d["moud_at_12m"].values)),
    Check("relapse_1w", "Return to daily use after detox within 1 week", 0.49, 0.69,
          "Smyth 2010: 59% (point; +-0.1 tolerance); model: first run of 3 use days",
          ("after_detox",), _relapse_by(7)),
    Check("relapse_1m", "Return to daily use after detox within 1 month", 0.61, 0.81,
          "Smyth 2010: 71% (point; +-0.1 tolerance); model: first run of 3 use days",
          ("after_detox",), _relapse_by(30)),
    Check("relapse_shape", "Return-to-daily-use hazard week 1 / weeks 2-4 (shape: falling)",
          1.0, math.inf,
          "Smyth 2010: 59% in week 1 but 71% by a month: the hazard falls", ("after_detox",),
          _relapse_hazard_ratio),
    Check("overdose_py", "Overdoses per person-year, untreated OUD", 0.02, 0.30,
          "guess: past-year nonfatal overdose among people who use opioids ranges from a few "
          "% to over 40% (PWID, Cabell County 2018)", ("untreated_gw20",), _overdoses_py),
    Check("death_py", "Maternal deaths per person-year, untreated OUD", 0.005, 0.03,
          "Degenhardt 2011: crude mortality 2.1/100 PY in opioid-dependent cohorts; lower "
          "bound a guess for perinatal women", ("untreated_gw20",), _deaths_py),
    Check("cps_12m", "CPS report by 12 months, untreated OUD", 0.20, 0.70,
          "guess: notification of substance-exposed infants (CAPTA 2016); 70% screened in "
          "(Deutsch 2020)", ("untreated_gw20",), _cps_12m),
    Check("foster_after_nows", "Placement within 30 days among NOWS infants, untreated OUD",
          0.20, 0.50, "mechanisms.md s6: discharge to foster care after NAS 20-50% "
          "(Lisonkova 2024)", ("untreated_gw20",), _placement_nows_30d,
          used_for="cps_report->foster_placement (0.43 gives 35%)"),
    Check("secure_low_risk", "Secure, low-risk dyads", 0.57, 0.73,
          "Ainsworth 1978; shared/targets attachment_lowrisk_distribution",
          ("low_risk_gw20",), _class_share("secure"),
          used_for="attachment_classification.secure_logit (threshold on latent security)"),
    Check("avoidant_low_risk", "Avoidant, low-risk dyads", 0.15, 0.32,
          "Ainsworth 1978; shared/targets", ("low_risk_gw20",), _class_share("avoidant"),
          used_for="attachment_classification.avoidant_logit"),
    Check("resistant_low_risk", "Resistant, low-risk dyads", 0.04, 0.22,
          "Ainsworth 1978; shared/targets", ("low_risk_gw20",), _class_share("resistant"),
          used_for="attachment_classification.avoidant_logit (the A:C split)"),
    Check("disorganized_low_risk", "Disorganized, low-risk dyads", 0.10, 0.20,
          "van IJzendoorn 1999: about 15% in normative samples", ("low_risk_gw20",),
          _class_share("disorganized"),
          used_for="attachment_classification.disorganized_logit"),
    Check("disorganized_ratio_oud", "Disorganized share, OUD / low-risk", 2.0, 3.0,
          "van IJzendoorn 1999: 2-3 times higher in clinical groups",
          ("low_risk_gw20", "untreated_gw20", "methadone_gw20", "buprenorphine_gw20"),
          _disorganized_ratio),
    Check("sensitivity_gap", "Parenting sensitivity gap, low-risk minus OUD (Cohen's d)", 0.2,
          0.6, "mechanisms.md s4: d 0.2-0.6 (small in matched samples)",
          ("low_risk_gw20", "untreated_gw20", "methadone_gw20", "buprenorphine_gw20"),
          _sensitivity_gap),
    Check("sensitivity_security_r", "Sensitivity-security correlation, low-risk", 0.20, 0.30,
          "Madigan 2024: r=.25 (.22-.28); De Wolff 1997 r=.24", ("low_risk_gw20",),
          _sensitivity_security_r, used_for="attachment.temperament_sd (disattenuated r)"),
)
CHECK_BY_ID = {c.id: c for c in CHECKS}


def simulate_run(run: Run, dyads: int, seed: int, params: Mapping[str, float] | None = None):
    from ..simulation import simulate

    kw = {"nodes": list(run.nodes)} if run.nodes else {}
    return simulate(run.scenario(), dyads=dyads, seed=seed, params=params, **kw)


def _value(check: Check, datasets: Mapping[str, Any]) -> float:
    if any(r not in datasets for r in check.runs):
        return math.nan
    with np.errstate(all="ignore"):
        return float(check.value(*(datasets[r] for r in check.runs)))


def evaluate(check: Check, datasets: Mapping[str, Any],
             resamples: list[Mapping[str, Any]] | None = None) -> dict:
    """One row: the model value of ``check`` from the named runs, the range, inside or not;
    with ``resamples`` (bootstrap copies of the datasets, :func:`bootstrap_datasets`) the
    Monte Carlo 95% interval of the value."""
    value = _value(check, datasets)
    inside = bool(np.isfinite(value) and check.lo <= value <= check.hi) if not (
        value == math.inf and check.hi == math.inf) else True
    interval = [math.nan, math.nan]
    if resamples:
        v = np.array([_value(check, d) for d in resamples], float)
        v = v[~np.isnan(v)]
        if v.size:
            interval = [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]
    return {"id": check.id, "quantity": check.quantity, "value": value,
            "mc_low": interval[0], "mc_high": interval[1],
            "low": check.lo, "high": check.hi, "source": check.source,
            "inside": inside, "used_for": check.used_for, "evidence": not check.used_for,
            "runs": list(check.runs)}


def bootstrap_datasets(datasets: Mapping[str, Any], n: int = BOOTSTRAP,
                       seed: int = 0) -> list[dict[str, Any]]:
    """``n`` copies of ``datasets``, the dyads resampled with replacement. Runs of the same
    size share the resampled indices: runs with the same seed are paired (common random
    numbers, e.g. the enrolment-week contrast), and for independent runs the shared indices
    leave each run's resampling distribution as it is."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        idx: dict[int, np.ndarray] = {}
        copy = {}
        for name, ds in datasets.items():
            size = ds.sizes["dyad"]
            if size not in idx:
                idx[size] = rng.integers(0, size, size)
            copy[name] = ds.isel(dyad=idx[size])
        out.append(copy)
    return out


def run_checks(dyads: int = 2000, seed: int = 1,
               params: Mapping[str, float] | None = None,
               progress: Callable[[str], None] | None = None) -> list[dict]:
    """Simulate every run a check needs (a run whose preset is missing is skipped: its rows
    have no value) and evaluate every check."""
    for name, v, lo in (("dyads", dyads, 10), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise CheckError(f"{name} must be an integer >= {lo}, got {v!r}")
    datasets = {}
    for name, run in RUNS.items():
        if run.population not in PRESETS:
            continue
        if progress is not None:
            progress(name)
        datasets[name] = simulate_run(run, dyads, seed, params)
    resamples = bootstrap_datasets(datasets, seed=seed)
    return [evaluate(c, datasets, resamples) for c in CHECKS]


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.3g}"


def table_markdown(rows: list[dict]) -> str:
    lines = ["| quantity | model | MC 95% | published range | inside | range used to set | "
             "source |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['quantity']} | {_fmt(r['value'])} | {_fmt(r['mc_low'])}-"
                     f"{_fmt(r['mc_high'])} | {_fmt(r['low'])}-{_fmt(r['high'])} | "
                     f"{'yes' if r['inside'] else 'no'} | {r['used_for'] or 'no (evidence)'} | "
                     f"{r['source']} |")
    return "\n".join(lines) + "\n"


def write_checks(rows: list[dict], out: Path, meta: Mapping[str, Any], force: bool,
                 directions: list[dict] | None = None) -> None:
    """Write ``checks.json`` and ``checks.md`` (and, given the direction table's results,
    ``directions.json`` and ``directions.md``) into ``out`` (complete or not at all)."""
    def finite(x):
        return None if x is None or not np.isfinite(x) else x

    payload = {**meta, "interval": f"Monte Carlo 95%: percentile bootstrap over dyads "
                                   f"({BOOTSTRAP} resamples)",
               "rows": [{**r, "value": finite(r["value"]), "mc_low": finite(r.get("mc_low")),
                         "mc_high": finite(r.get("mc_high")),
                         "high": None if r["high"] == math.inf else r["high"]} for r in rows]}
    with atomic_dir(Path(out), force=force) as tmp:
        (tmp / "checks.json").write_text(json.dumps(payload, indent=2) + "\n")
        (tmp / "checks.md").write_text(table_markdown(rows))
        if directions is not None:
            from .directions import results_json
            from .directions import table_markdown as directions_markdown

            (tmp / "directions.json").write_text(
                json.dumps({**meta, "rows": results_json(directions)}, indent=2) + "\n")
            (tmp / "directions.md").write_text(directions_markdown(directions))
