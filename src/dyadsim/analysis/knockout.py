"""Edge and loop knock-outs (Section 2 of issue 10): the effect on chosen outcomes of
removing an edge (its weight set to 0) or every edge of a named loop of the paper
(:data:`dyadsim.model.graph.LOOPS`), and a ranking of all edges by their effect.

Each knock-out runs as a parameter set of one engine batch beside the intact model on the
same dyads and draws (common random numbers); the effect is the mean per-dyad difference
(knocked out - intact) with a normal 95% Monte Carlo interval. Under parameter draws
(``thetas``: a posterior or the prior) the dyads are split across the draws, each block runs
its knock-outs under its draw, and the effect is averaged over the draws with a
cluster-robust interval over draws (:mod:`dyadsim.analysis.posterior`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..engine.batch import Setting, simulate_batch
from ..model.graph import EDGE_BY_WEIGHT, EDGES, LOOP_BY_NAME
from ..parallel import map_tasks
from .mechanisms import estimate
from .outcomes import get_outcome

#: Knock-outs per engine call (a task of the scale-out).
BLOCK = 16


def edge_knockout(edge: str) -> dict[str, float]:
    if edge not in EDGE_BY_WEIGHT:
        raise ValueError(f"unknown edge {edge!r} (weights are named 'source->target'; "
                         "see `dyadsim graph`)")
    return {edge: 0.0}


def loop_knockout(loop: str) -> dict[str, float]:
    if loop not in LOOP_BY_NAME:
        raise ValueError(f"unknown loop {loop!r}: one of {', '.join(LOOP_BY_NAME)}")
    return {e: 0.0 for e in LOOP_BY_NAME[loop].edges}


def plan_knockouts(edges: Sequence[str] = (), loops: Sequence[str] = (),
                   all_edges: bool = False) -> dict[str, dict[str, float]]:
    """Label -> parameter overrides, e.g. ``"edge craving->opioid_use"``, ``"loop
    coregulation"``; ``all_edges``: every declared edge."""
    names = [e.weight_name for e in EDGES] if all_edges else list(edges)
    out = {f"edge {e}": edge_knockout(e) for e in names}
    out.update({f"loop {lp}": loop_knockout(lp) for lp in loops})
    if not out:
        raise ValueError("nothing to knock out: give edges, loops or all edges")
    return out


def _block(setting: Setting, sets: list[dict[str, float]], outcomes: tuple[str, ...],
           dyad_ids: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """One task: the intact model (set 0) and a block of knock-outs -> outcome arrays."""
    b = simulate_batch(setting, [{}, *sets], dyads=dyad_ids.size, seed=seed, dyad_ids=dyad_ids)
    return {o: get_outcome(o).value(b.outcomes, b.final) for o in outcomes}


def run_knockouts(setting: Setting, knockouts: Mapping[str, Mapping[str, float]],
                  outcomes: Sequence[str], *, dyads: int, seed: int, pool=None,
                  block: int = BLOCK, thetas: Sequence[Mapping[str, float]] | None = None,
                  progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per (knock-out, outcome): intact mean, knocked-out mean, effect and its
    interval, dyads used (defined in both worlds); with ``thetas`` also the 5th-95th
    percentile of the per-draw effects. Identical for any ``pool`` or ``block``."""
    from .posterior import draw_blocks, under_draw

    for o in outcomes:
        get_outcome(o)
    labels = list(knockouts)
    sets = [dict(knockouts[k]) for k in labels]
    draws = [(setting, np.arange(dyads))] if thetas is None else \
        [(under_draw(setting, t), ids) for t, ids in
         zip(thetas, draw_blocks(dyads, len(thetas)), strict=True)]
    starts = range(0, len(sets), block)
    tasks = [(s, sets[i:i + block], tuple(outcomes), ids, seed) for s, ids in draws
             for i in starts]
    done = None if progress is None else (lambda i, r: progress(len(tasks[i][1])))
    results = map_tasks(_block, tasks, pool, done)
    nb = len(starts)

    def stacked(o: str, d: int) -> np.ndarray:
        """Intact + every knock-out (rows) on draw ``d``'s dyads."""
        return np.concatenate([results[d * nb][o][:1],
                               *(results[d * nb + b][o][1:] for b in range(nb))])

    y_all = {o: np.concatenate([stacked(o, d) for d in range(len(draws))], axis=1)
             for o in outcomes}
    groups = None if thetas is None else \
        np.concatenate([np.full(ids.size, k) for k, (_, ids) in enumerate(draws)])
    for o in outcomes:
        if np.isnan(y_all[o][0]).all():
            raise ValueError(f"outcome {o} is undefined for every dyad of this run (is the "
                             "horizon long enough?)")
    rows = []
    for j, label in enumerate(labels):
        for o in outcomes:
            y = y_all[o]
            ok = ~np.isnan(y[0]) & ~np.isnan(y[j + 1])
            e = estimate(label, "knockout", y[j + 1][ok] - y[0][ok],
                         groups=None if groups is None else groups[ok])
            row = {"knockout": label, "outcome": o, "intact": float(np.mean(y[0][ok])),
                   "knocked_out": float(np.mean(y[j + 1][ok])), "effect": e.mean,
                   "ci_low": e.lo, "ci_high": e.hi, "dyads": e.n}
            if e.per_draw is not None:
                d = e.to_dict()
                row.update(draws_q05=d["draws_q05"], draws_q95=d["draws_q95"])
            rows.append(row)
    return pd.DataFrame(rows)


def rank(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Knock-outs ordered by the size of their effect on ``outcome`` (largest first)."""
    t = table[table["outcome"] == outcome].copy()
    t["abs_effect"] = t["effect"].abs()
    t = t.sort_values(["abs_effect", "knockout"], ascending=[False, True]).drop(
        columns="abs_effect")
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t.reset_index(drop=True)
