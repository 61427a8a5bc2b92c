"""What the explorer runs, as plain data: a scenario (population, N, seed, interventions with
their start, knocked-out edges, clamped nodes), its TOML (the file ``dyadsim simulate``
reproduces exactly), and the run itself. No Streamlit here, so it is tested directly."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..interventions import LIBRARY
from ..model.graph import EDGE_BY_WEIGHT, NODE_BY_ID
from ..model.params import PARAMS
from ..model.populations import PRESETS
from ..reports.summary import summarize

# Dyad counts offered in the explorer. The engine runs padded chunks of 512 dyads, so every
# N reuses the one compiled step (only the number of chunks changes).
N_CHOICES = (250, 500, 1000, 2000, 5000)
DEFAULT_N = 500
HORIZONS = ("12m", "24m")


@dataclass(frozen=True)
class ExplorerScenario:
    """One explorer setting (the form's choices; :meth:`to_dict` is the scenario
    :meth:`dyadsim.scenario.Scenario.read` reads). ``interventions``: (library name, start
    such as ``gw24`` or ``pp6w``); ``knockouts``: edge weight names set to 0; ``clamps``:
    node -> value."""

    population: str = "pregnant_oud_moud"
    dyads: int = DEFAULT_N
    seed: int = 1
    horizon: str = "24m"
    interventions: tuple[tuple[str, str], ...] = ()
    knockouts: tuple[str, ...] = ()
    clamps: tuple[tuple[str, float], ...] = ()
    record: str = "weekly"
    name: str = "explorer scenario"
    extra_params: Mapping[str, float] = field(default_factory=dict)

    def baseline(self) -> ExplorerScenario:
        """The same population, N, seed and horizon with nothing switched on or off."""
        return ExplorerScenario(self.population, self.dyads, self.seed, self.horizon,
                                record=self.record, name="baseline")

    @property
    def start(self) -> str:
        return PRESETS[self.population].default_start

    def params(self) -> dict[str, float]:
        return {**dict(self.extra_params), **{k: 0.0 for k in self.knockouts}}

    def to_dict(self) -> dict[str, Any]:
        """The scenario as ``dyadsim simulate`` reads it."""
        d: dict[str, Any] = {"name": self.name, "dyads": self.dyads, "seed": self.seed,
                             "start": self.start, "horizon": self.horizon,
                             "record": self.record, "population": {"preset": self.population}}
        if self.params():
            d["params"] = self.params()
        if self.clamps:
            d["do"] = {k: float(v) for k, v in self.clamps}
        if self.interventions:
            d["interventions"] = [{"name": n, "start": s} for n, s in self.interventions]
        return d

    def to_toml(self) -> str:
        """TOML that ``dyadsim simulate FILE --out DIR`` runs to the same numbers."""
        return scenario_toml(self.to_dict())

    def check(self) -> None:
        """Raise ValueError with a plain message for a setting the model refuses before
        anything runs (the model checks the rest)."""
        if self.population not in PRESETS:
            raise ValueError(f"unknown population {self.population!r}")
        if not 1 <= self.dyads <= 20000:
            raise ValueError(f"N must be between 1 and 20000, got {self.dyads}")
        for name, _ in self.interventions:
            if name not in LIBRARY:
                raise ValueError(f"unknown intervention {name!r}")
        for k in self.knockouts:
            if k not in EDGE_BY_WEIGHT:
                raise ValueError(f"unknown edge {k!r}")
        for node, value in self.clamps:
            n = NODE_BY_ID.get(node)
            if n is None:
                raise ValueError(f"unknown node {node!r}")
            if not n.lo <= value <= n.hi:
                raise ValueError(f"{n.label} can be clamped between {n.lo:g} and {n.hi:g}, "
                                 f"not {value:g}")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("a scenario value is not finite")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"cannot write {type(v).__name__} to a scenario")


def scenario_toml(d: Mapping[str, Any]) -> str:
    """A scenario dict (scalars, [population], [params], [do], [[interventions]]) as TOML."""
    lines = ["# dyadsim scenario written by the explorer; run it with",
             "#   dyadsim simulate THIS_FILE.toml --out RUN_DIR"]
    tables = []
    for k, v in d.items():
        if isinstance(v, Mapping) or isinstance(v, list):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in tables:
        if isinstance(v, list):
            for item in v:
                lines += ["", f"[[{k}]]"] + [f"{ik} = {_toml_value(iv)}" for ik, iv in
                                              item.items()]
        else:
            lines += ["", f"[{k}]"] + [f"{json.dumps(ik)} = {_toml_value(iv)}" for ik, iv in
                                       v.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    scenario: ExplorerScenario
    ds: xr.Dataset
    summary: dict[str, Any]

    def meta(self) -> dict[str, Any]:
        """The report header's facts (the keys of a simulate manifest)."""
        a = self.ds.attrs
        return {"population": json.loads(a["population"]), "dyads": int(a["dyads"]),
                "seed": int(a["seed"]), "start": a["start"],
                "horizon_days": int(a["horizon_days"]), "do": json.loads(a["do"]),
                "parameters": json.loads(a["parameters"]),
                "interventions": self.scenario.to_dict().get("interventions", []),
                "dyadsim_version": a.get("dyadsim_version"),
                "command": "dyadsim simulate scenario.toml --out RUN_DIR (the scenario "
                           "downloaded from the explorer)",
                "title": f"dyadsim explorer: {self.scenario.population}, N = "
                         f"{self.scenario.dyads}, seed {self.scenario.seed}"}


def run(scenario: ExplorerScenario, progress: Callable[[int], None] | None = None) -> Run:
    """Simulate the scenario exactly as ``dyadsim simulate`` would from its TOML."""
    from ..simulation import simulate

    scenario.check()
    ds = simulate(scenario.to_dict(), progress=progress)
    return Run(scenario, ds, summarize(ds))


def edge_label(weight_name: str) -> str:
    e = EDGE_BY_WEIGHT[weight_name]
    arrow = {"gain": "scales", "windowed": "→ (window)"}.get(e.type, "→")
    return f"{NODE_BY_ID[e.source].label} {arrow} {NODE_BY_ID[e.target].label} ({e.sign})"


def node_details(node_id: str) -> dict[str, Any]:
    """What a click on a node shows: meaning, range, section, its parameters with bounds and
    source, and its incoming and outgoing edges."""
    n = NODE_BY_ID[node_id]
    params = [{"parameter": p.name, "default": p.default, "bounds": f"[{p.lo:g}, {p.hi:g}]",
               "unit": p.unit, "source": p.source} for p in PARAMS.values()
              if p.name.startswith(node_id + ".")]
    into = [edge_label(e.weight_name) for e in EDGE_BY_WEIGHT.values() if e.target == node_id]
    out = [edge_label(e.weight_name) for e in EDGE_BY_WEIGHT.values() if e.source == node_id]
    return {"title": f"{n.label} ({n.id})", "meaning": n.meaning, "kind": n.kind,
            "range": f"{n.lo:g} to {n.hi:g} ({n.unit})",
            "citation": f"Reese et al. 2021, section '{n.section}'", "parameters": params,
            "edges_in": into, "edges_out": out}


def edge_details(weight_name: str, value: float | None = None) -> dict[str, Any]:
    """What a click on an edge shows: meaning, its weight parameter with bounds and source,
    the paper's figure and section, citation and note."""
    e = EDGE_BY_WEIGHT[weight_name]
    p = PARAMS.get(weight_name)
    kind = {"direct": "pushes its target", "gain": "scales the edges "
            + ", ".join(f"{m} → {e.target}" for m in e.modulates),
            "windowed": f"pushes its target on postpartum days {e.window}"}[e.type]
    return {"title": edge_label(weight_name),
            "meaning": f"{NODE_BY_ID[e.source].label} {kind} "
                       f"({'raises' if e.sign == '+' else 'lowers'} it).",
            "parameters": [{"parameter": weight_name, "value in this run": value,
                            "default": None if p is None else p.default,
                            "bounds": None if p is None else f"[{p.lo:g}, {p.hi:g}]",
                            "source": e.weight_source if p is None else p.source}],
            "citation": f"Figure {e.figure or '(text only)'}, {e.basis}; section "
                        f"'{e.section}'; {e.citation}",
            "note": e.note}


# ----------------------------------------------------------------- against the baseline
def _share(test: Callable[[xr.Dataset], Any]) -> Callable[[xr.Dataset], Any]:
    return lambda ds: np.asarray(test(ds), dtype=float)


def _class(label: str) -> Callable[[xr.Dataset], Any]:
    def value(ds: xr.Dataset) -> Any:
        c = ds["attachment_class"].values.astype(str)
        return np.where(c == "none", np.nan, (c == label).astype(float))
    return value


#: The per-dyad value behind each outcome row of the explorer (row label -> (value of a
#: run's dataset, shown in % points)); rows of :data:`dyadsim.reports.demo.ROWS`.
DIFFERENCE_VALUES: dict[str, tuple[Callable[[xr.Dataset], Any], bool]] = {
    "Opioid use: share of days": (lambda ds: ds["use_share"].values, True),
    "Opioid use: any": (_share(lambda ds: ds["use_days"].values > 0), True),
    "Overdose: any": (_share(lambda ds: ds["overdoses"].values > 0), True),
    "Overdose: fatal": (_share(lambda ds: np.isfinite(ds["overdose_fatal_day"].values)), True),
    "NOWS (neonatal opioid withdrawal)": (lambda ds: ds["nows"].values, True),
    "On MOUD at 12 months postpartum": (lambda ds: ds["moud_at_12m"].values, True),
    "CPS report": (_share(lambda ds: np.isfinite(ds["cps_report_day"].values)), True),
    "Parenting quality (mean, 0-1)": (lambda ds: ds["parenting_mean"].values, False),
    **{f"Attachment: {c}": (_class(c), True)
       for c in ("secure", "avoidant", "resistant", "disorganized")},
    **{f"Well-being at 24 months: {d} (0-1)": (
        lambda ds, d=d: ds[f"wellbeing_{d}_24m"].values, False)
       for d in ("physical", "psychological", "cognitive", "social", "economic")},
}


def difference_from_baseline(this: xr.Dataset, base: xr.Dataset, label: str) -> str:
    """The mean per-dyad difference (this scenario minus the baseline) of an outcome row,
    with its 95% interval: both runs simulate the same dyads with the same random numbers,
    so each dyad is compared with itself (paired; mean +- 1.96 SE over the dyads where both
    values exist). '-' where the outcome does not exist for this population or horizon."""
    if label not in DIFFERENCE_VALUES:
        return "-"
    value, percent = DIFFERENCE_VALUES[label]
    try:
        d = np.asarray(value(this), float) - np.asarray(value(base), float)
    except KeyError:
        return "-"
    d = d[np.isfinite(d)]
    if d.size < 2:
        return "-"
    k = 100.0 if percent else 1.0
    mean, se = d.mean() * k, d.std(ddof=1) / math.sqrt(d.size) * k
    unit = " pp" if percent else ""
    return f"{mean:+.3g}{unit} ({mean - 1.96 * se:+.3g} to {mean + 1.96 * se:+.3g})"


def after_birth(ds: xr.Dataset, node: str) -> Any:
    """A node's recorded values (dyad, time), NaN before each dyad's birth for an infant
    or dyad node (the infant does not exist yet: its states are placeholders, not zeros)."""
    v = ds[node].values.astype(float)
    if NODE_BY_ID[node].kind in ("infant", "dyad") and "postpartum_day" in ds:
        v = np.where(ds["postpartum_day"].values < 0, np.nan, v)
    return v
