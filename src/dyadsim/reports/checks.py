"""Model checks: the perinatal course at default parameters against published ranges.

:func:`run_checks` simulates the population presets a check needs and returns one row per
quantity: the model's value, the published range with its source, and whether the value
lies inside. Defaults need not pass every row (calibration fits levels); every row is
reachable by some parameter setting inside the declared bounds (tests/reports/test_checks.py).
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

    def scenario(self) -> dict:
        return {"population": {"preset": self.population, "init": dict(self.init or {})},
                "start": self.start, "horizon": self.horizon, "record": "none"}


RUNS: dict[str, Run] = {
    "untreated_gw20": Run("pregnant_oud_no_moud", "gw20", "13m"),
    "stable_gw20": Run("pregnant_oud_no_moud", "gw20", "13m", {"moud.offered": 0.0}),
    "stable_gw36": Run("pregnant_oud_no_moud", "gw36", "13m", {"moud.offered": 0.0}),
    "methadone_gw20": Run("pregnant_oud_moud", "gw20", "13m", {"moud.buprenorphine": 0.0}),
    "buprenorphine_gw20": Run("pregnant_oud_moud", "gw20", "13m", {"moud.buprenorphine": 1.0}),
    "moud_gw36": Run("pregnant_oud_moud", "gw36", "13m"),
    "low_risk_gw20": Run("low_risk_mothers", "gw20", "13m"),
    "after_detox": Run("adult_after_detox", "day0", "60d"),
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


def _relapse_by(days):
    def value(ds) -> float:
        d = ds["first_use_day"].values
        return float(np.mean(np.isfinite(d) & (d < days)))
    return value


def _relapse_hazard_ratio(ds) -> float:
    """Daily hazard of a first use in week 1 over that in weeks 2-4 (> 1: falling hazard)."""
    d = np.nan_to_num(ds["first_use_day"].values, nan=np.inf)
    week, month = 7, 28

    def hazard(a, b):
        at_risk = np.sum(d >= a)
        return np.sum((d >= a) & (d < b)) / max(at_risk, 1) / (b - a)

    late = hazard(week, month)
    return float(hazard(0, week) / late) if late > 0 else math.inf


S5 = "mechanisms.md s5"
CHECKS: tuple[Check, ...] = (
    Check("nows_untreated", "NOWS share, untreated prenatal exposure", 0.30, 0.95,
          f"{S5}: up to 96% show signs (SOGC 2011); treated share 23-91% across cohorts",
          ("untreated_gw20",), _nows),
    Check("nows_methadone", "NOWS share, methadone", 0.45, 0.65,
          f"{S5}: MOTHER 56.9% (Gaalema 2012); prior range 0.45-0.65", ("methadone_gw20",),
          _nows),
    Check("nows_buprenorphine", "NOWS share, buprenorphine", 0.25, 0.50,
          f"{S5}: MOTHER 47.4% (Gaalema 2012); prior range 0.25-0.50",
          ("buprenorphine_gw20",), _nows),
    Check("nows_enrolment_gap", "NOWS share, enrolment gw20 minus gw36 (absolute)", 0.0, 0.03,
          "issue 6: the week a study enrols must not change NOWS (< 3 points); the same "
          "untreated population (no MOUD entry in the window, so those still untreated at gw36 "
          "are those untreated at gw20)", ("stable_gw20", "stable_gw36"),
          lambda a, b: abs(_nows(a) - _nows(b))),
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
    Check("relapse_1w", "Relapse after detox within 1 week", 0.49, 0.69,
          "Smyth 2010: 59% (point; +-0.1 tolerance)", ("after_detox",), _relapse_by(7)),
    Check("relapse_1m", "Relapse after detox within 1 month", 0.61, 0.81,
          "Smyth 2010: 71% (point; +-0.1 tolerance)", ("after_detox",), _relapse_by(30)),
    Check("relapse_shape", "Relapse hazard week 1 / weeks 2-4 (shape: falling)", 1.0, math.inf,
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
          "(Lisonkova 2024)", ("untreated_gw20",), _placement_nows_30d),
    Check("secure_low_risk", "Secure, low-risk dyads", 0.57, 0.73,
          "Ainsworth 1978; shared/targets attachment_lowrisk_distribution",
          ("low_risk_gw20",), _class_share("secure")),
    Check("avoidant_low_risk", "Avoidant, low-risk dyads", 0.15, 0.32,
          "Ainsworth 1978; shared/targets", ("low_risk_gw20",), _class_share("avoidant")),
    Check("resistant_low_risk", "Resistant, low-risk dyads", 0.04, 0.22,
          "Ainsworth 1978; shared/targets", ("low_risk_gw20",), _class_share("resistant")),
    Check("disorganized_low_risk", "Disorganized, low-risk dyads", 0.10, 0.20,
          "van IJzendoorn 1999: about 15% in normative samples", ("low_risk_gw20",),
          _class_share("disorganized")),
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
          _sensitivity_security_r),
)
CHECK_BY_ID = {c.id: c for c in CHECKS}


def simulate_run(run: Run, dyads: int, seed: int, params: Mapping[str, float] | None = None):
    from ..simulation import simulate

    return simulate(run.scenario(), dyads=dyads, seed=seed, params=params)


def evaluate(check: Check, datasets: Mapping[str, Any]) -> dict:
    """One row: the model value of ``check`` from the named runs, the range, inside or not."""
    missing = [r for r in check.runs if r not in datasets]
    value = math.nan if missing else check.value(*(datasets[r] for r in check.runs))
    inside = bool(np.isfinite(value) and check.lo <= value <= check.hi) if not (
        value == math.inf and check.hi == math.inf) else True
    return {"id": check.id, "quantity": check.quantity, "value": value,
            "low": check.lo, "high": check.hi, "source": check.source,
            "inside": inside, "runs": list(check.runs)}


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
    return [evaluate(c, datasets) for c in CHECKS]


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.3g}"


def table_markdown(rows: list[dict]) -> str:
    lines = ["| quantity | model | published range | source | inside |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['quantity']} | {_fmt(r['value'])} | {_fmt(r['low'])}-"
                     f"{_fmt(r['high'])} | {r['source']} | {'yes' if r['inside'] else 'no'} |")
    return "\n".join(lines) + "\n"


def write_checks(rows: list[dict], out: Path, meta: Mapping[str, Any], force: bool) -> None:
    """Write ``checks.json`` and ``checks.md`` into ``out`` (complete or not at all)."""
    payload = {**meta, "rows": [{**r, "value": None if not np.isfinite(r["value"]) else
                                 r["value"], "high": None if r["high"] == math.inf else
                                 r["high"]} for r in rows]}
    with atomic_dir(Path(out), force=force) as tmp:
        (tmp / "checks.json").write_text(json.dumps(payload, indent=2) + "\n")
        (tmp / "checks.md").write_text(table_markdown(rows))
