"""The direction table (issue 18 item 10): do()-contrasts with the direction the literature
states, read from ``src/dyadsim/data/directions.toml``.

Each row names a population, a start and a horizon, two worlds ``a`` and ``b`` (do clamps,
interventions, parameters; ``a`` defaults to the population as it is) and a metric. Both
worlds run with the same seed and dyads (common random numbers), so the contrast
``metric(b) - metric(a)`` carries little Monte Carlo noise; a row holds when its sign is the
stated ``direction``. :func:`evaluate_rows` runs every row at one or more parameter sets (all
parameter sets of a world in one simulation, through
:func:`dyadsim.uncertainty.simulate_over_draws`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).resolve().parents[1] / "data" / "directions.toml"
WORLD_KEYS = {"do", "interventions", "params", "window"}
#: Periods a windowed metric reads, in days relative to each dyad's birth [from, to): a row
#: whose worlds differ only in ``window`` compares two periods of one run (the same dyads).
#: 90 days either side of delivery is a reporting choice (a guess), not a source's window:
#: Schiff 2021 reports MOUD continuation over the whole postpartum year, not by quarter.
WINDOWS: dict[str, tuple[int, int]] = {"late_pregnancy": (-90, 0), "postpartum": (0, 90)}
ROW_KEYS = {"id", "claim", "population", "start", "horizon", "a", "b", "metric", "direction",
            "citation"}


class DirectionError(ValueError):
    """The direction table is malformed."""


def _share(x) -> float:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _classified(ds):
    cls = ds["attachment_class"].values
    return cls[cls != "none"]


def _misuse(ds) -> float:
    """Mean misuse amount (MME) per observed day."""
    amount = np.nan_to_num(ds["mme_per_use_day"].values) * ds["use_days"].values
    return float(amount.sum() / max(ds["use_days"].size * ds.attrs["horizon_days"], 1))


def _reunified(ds) -> float:
    placed = np.isfinite(ds["placement_day"].values)
    back = np.isfinite(ds["reunification_day"].values)
    return float(back[placed].mean()) if placed.any() else math.nan


METRICS: dict[str, Callable[[Any], float]] = {
    "use_share": lambda ds: _share(ds["use_share"].values),
    "overdose_risk": lambda ds: _share(ds["overdoses"].values),
    "misuse": _misuse,
    "placed": lambda ds: float(np.mean(np.isfinite(ds["placement_day"].values))),
    "reunified": lambda ds: _reunified(ds),
    "security": lambda ds: _share(ds["attachment_security_12m"].values),
    "disorganized": lambda ds: (float(np.mean(_classified(ds) == "disorganized"))
                                if _classified(ds).size else math.nan),
}
METRIC_DOC = {
    "use_share": "mean share of observed days with use",
    "overdose_risk": "mean overdoses per dyad over the run",
    "misuse": "mean misuse amount (MME) per observed day",
    "placed": "share of infants placed out of home during the run",
    "reunified": "share reunified with the mother among the infants placed during the run",
    "security": "mean latent attachment security at 12 months",
    "disorganized": "share disorganized among classified infants",
    "mean:<node>": "the node's mean over the weekly record and the dyads",
}


def _moud_stop_rate(ds, days: tuple[int, int]) -> float:
    """MOUD discontinuations (a day on MOUD followed by a day off) per 30 days on MOUD, in
    the window ``days`` relative to each dyad's birth (daily record of ``moud``)."""
    on = ds["moud"].values > 0
    pp = ds["postpartum_day"].values
    inside = (pp[:, :-1] >= days[0]) & (pp[:, :-1] < days[1])
    stops = (on[:, :-1] & ~on[:, 1:] & inside).sum()
    on_days = (on[:, :-1] & inside).sum()
    return float(30.0 * stops / on_days) if on_days else math.nan


#: Metrics of one period of a run (a world's ``window``), with the nodes they need recorded
#: daily.
WINDOW_METRICS: dict[str, tuple[Callable[[Any, tuple[int, int]], float], tuple[str, ...]]] = {
    "moud_stop_rate": (_moud_stop_rate, ("moud",)),
}
METRIC_DOC["moud_stop_rate"] = ("MOUD discontinuations per 30 days on MOUD in the world's "
                                "window (days relative to the birth)")


def metric_value(name: str, ds, window: str | None = None) -> float:
    if name.startswith("mean:"):
        return _share(ds[name[len("mean:"):]].values)
    if name in WINDOW_METRICS:
        return WINDOW_METRICS[name][0](ds, WINDOWS[str(window)])
    return METRICS[name](ds)


@dataclass(frozen=True)
class Direction:
    id: str
    claim: str
    population: str
    start: str
    horizon: str
    metric: str
    direction: str
    citation: str
    a: Mapping[str, Any] = field(default_factory=dict)
    b: Mapping[str, Any] = field(default_factory=dict)

    def scenario(self, world: str) -> dict:
        w = self.a if world == "a" else self.b
        record = ("weekly" if self.metric.startswith("mean:")
                  else "daily" if self.metric in WINDOW_METRICS else "none")
        sc = {"population": self.population, "start": self.start, "horizon": self.horizon,
              "record": record}
        if w.get("do"):
            sc["do"] = dict(w["do"])
        if w.get("params"):
            sc["params"] = dict(w["params"])
        if w.get("interventions"):
            sc["interventions"] = [{"name": n} for n in w["interventions"]]
        return sc

    def holds(self, diff: float) -> bool:
        return bool(np.isfinite(diff) and (diff < 0 if self.direction == "-" else diff > 0))


def load(path: Path = PATH) -> tuple[Direction, ...]:
    """The rows of the direction table; :class:`DirectionError` on a malformed row."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DirectionError(f"cannot read the direction table {path}: {e}") from None
    rows = []
    for i, r in enumerate(raw.get("direction", [])):
        where = f"direction[{i}] ({r.get('id', '?')})"
        missing = (ROW_KEYS - {"a", "b"}) - set(r)
        if missing or set(r) - ROW_KEYS:
            raise DirectionError(f"{where}: missing {sorted(missing)} or unknown "
                                 f"{sorted(set(r) - ROW_KEYS)}")
        if r["direction"] not in ("+", "-"):
            raise DirectionError(f"{where}: direction must be '+' or '-'")
        metric = r["metric"]
        if not (metric in METRICS or metric in WINDOW_METRICS or metric.startswith("mean:")):
            raise DirectionError(f"{where}: unknown metric {metric!r}")
        for w in ("a", "b"):
            world = r.get(w, {})
            if set(world) - WORLD_KEYS:
                raise DirectionError(f"{where}: world {w} may set only {sorted(WORLD_KEYS)}")
            if (metric in WINDOW_METRICS) != ("window" in world) \
                    or world.get("window", "late_pregnancy") not in WINDOWS:
                raise DirectionError(f"{where}: a windowed metric ({', '.join(WINDOW_METRICS)}) "
                                     f"needs a window in each world, one of "
                                     f"{', '.join(WINDOWS)}; other metrics take none")
        if r.get("a", {}) == r.get("b", {}):
            raise DirectionError(f"{where}: the two worlds are the same")
        rows.append(Direction(**r))
    ids = [r.id for r in rows]
    if len(set(ids)) != len(ids):
        raise DirectionError("direction ids must be unique")
    return tuple(rows)


def evaluate_row(row: Direction, thetas: Sequence[Mapping[str, float]], dyads_per_draw: int,
                 seed: int) -> list[dict]:
    """The contrast of ``row`` under each parameter set in ``thetas`` (one simulation per
    world, all sets in it, ``dyads_per_draw`` dyads each; the same seed and dyads in both
    worlds)."""
    from ..simulation import simulate_over_draws

    k = len(thetas)
    values = {}
    runs: dict[str, Any] = {}  # worlds that differ only in their window share one run
    for world in ("a", "b"):
        sc = row.scenario(world)
        nodes = ([row.metric[len("mean:"):]] if row.metric.startswith("mean:")
                 else list(WINDOW_METRICS[row.metric][1]) if row.metric in WINDOW_METRICS
                 else None)
        kw = {"nodes": nodes} if nodes else {}
        key = repr(sorted(sc.items()))
        if key not in runs:
            runs[key] = simulate_over_draws(sc, thetas, dyads=dyads_per_draw * k, seed=seed,
                                            **kw)
        ds = runs[key]
        draw = ds["posterior_draw"].values
        window = (row.a if world == "a" else row.b).get("window")
        values[world] = [metric_value(row.metric, ds.isel(dyad=np.flatnonzero(draw == i)),
                                      window) for i in range(k)]
    out = []
    for va, vb in zip(values["a"], values["b"], strict=True):
        diff = vb - va
        out.append({"a": va, "b": vb, "diff": diff, "holds": row.holds(diff)})
    return out


def evaluate_rows(thetas: Sequence[Mapping[str, float]] | None = None,
                  dyads_per_draw: int = 200, seed: int = 1,
                  rows: Sequence[Direction] | None = None,
                  progress: Callable[[str], None] | None = None) -> list[dict]:
    """Every row at each parameter set (default: the declared defaults only). Each result
    row: the table row's fields, ``by_draw`` (per parameter set: a, b, diff, holds) and
    ``share`` (the share of parameter sets where the direction holds)."""
    from ..model.params import PARAMS

    thetas = list(thetas) if thetas is not None else [{k: p.default for k, p in PARAMS.items()}]
    out = []
    for row in (load() if rows is None else rows):
        if progress is not None:
            progress(row.id)
        by = evaluate_row(row, thetas, dyads_per_draw, seed)
        out.append({"id": row.id, "claim": row.claim, "metric": row.metric,
                    "direction": row.direction, "citation": row.citation, "by_draw": by,
                    "share": float(np.mean([b["holds"] for b in by]))})
    return out


def add_draw_shares(results: list[dict], over_draws: Sequence[dict]) -> None:
    """Give each row of ``results`` (one parameter set) the share of parameter draws in
    which its direction holds (``draw_share``) and those draws' contrasts
    (``draws``), from :func:`evaluate_rows` over the draws (rows in the same order)."""
    for r, o in zip(results, over_draws, strict=True):
        if r["id"] != o["id"]:
            raise ValueError(f"direction rows out of order: {r['id']} vs {o['id']}")
        r["draw_share"], r["draws"] = o["share"], o["by_draw"]


def _cells(r: dict) -> list[str]:
    d = r["by_draw"][0]
    share = [] if "draw_share" not in r else [f"{r['draw_share']:.2f}"]
    return [r["claim"], r["metric"], r["direction"], f"{d['a']:.4g}", f"{d['b']:.4g}",
            "yes" if d["holds"] else "NO", *share, r["citation"]]


def _columns(results: Sequence[dict]) -> list[str]:
    share = ["holds over draws"] if results and "draw_share" in results[0] else []
    return ["claim", "metric", "stated", "a", "b", "holds", *share, "source"]


def table_markdown(results: Sequence[dict]) -> str:
    cols = _columns(results)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in results]
    return "\n".join(lines) + "\n"


def rich_table(results: Sequence[dict]):
    """The direction table (first parameter set; with draws, the share of them in which
    the direction holds) as a rich Table for the terminal."""
    from rich.table import Table
    from rich.text import Text

    held = sum(r["by_draw"][0]["holds"] for r in results)
    table = Table(title=Text(f"direction table: {held} of {len(results)} rows hold "
                             "(world b vs a, same seed and dyads)"), title_justify="left")
    for col in _columns(results):
        table.add_column(col)
    for r in results:
        table.add_row(*_cells(r))
    return table


def results_json(results: Sequence[dict]) -> list[dict]:
    """JSON-ready results (NaN as None)."""
    def clean(x):
        return None if isinstance(x, float) and not math.isfinite(x) else x

    return [{**r, **{key: [{k: clean(v) for k, v in d.items()} for d in r[key]]
                     for key in ("by_draw", "draws") if key in r}} for r in results]
