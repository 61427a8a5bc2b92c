"""How much of an intervention's effect goes through which path (Section 1 of issue 10).

Nested counterfactual simulation with common random numbers: every world simulates the same
dyads with the same random draws (:mod:`dyadsim.engine.batch`), so per-dyad differences
between worlds carry no sampling noise from different people or draws.

* Total effect: ``TE = Y(1) - Y(0)`` (treatment arm vs control arm).
* Natural direct / indirect effects through a mediator node ``M`` (Pearl 2001): the mediator
  held, day by day and dyad by dyad, at its trajectory under the control arm:
  ``NDE = Y(1, M(0)) - Y(0)`` and ``NIE = Y(1) - Y(1, M(0))``; ``NDE + NIE = TE``.
* Path-specific effects along declared paths (Avin, Shpitser & Pearl 2005), decomposed
  sequentially (Daniel et al. 2015, Biometrics 71:1-14): path ``k`` is switched off by letting
  its entry edge (the edge out of the node the intervention moves) carry that node's
  control-arm value while everything else runs under treatment; world ``W_k`` has paths
  ``1..k`` switched off (``W_0`` = treatment). ``PSE_k = Y(W_{k-1}) - Y(W_k)`` is the effect
  transmitted along every route that begins with path ``k``'s entry edge and not along an
  earlier path; ``other = Y(W_K) - Y(0)`` is the rest (other edges out of the trained skills,
  the arm's parameter changes). The parts add up to the total dyad by dyad (a telescoping
  sum); the order of the paths is part of the estimand and is reported.

Each estimate is a mean over simulated dyads with a normal 95% Monte Carlo interval
(mean +- 1.96 SD / sqrt(n)): the uncertainty from simulating finitely many dyads, not
parameter uncertainty. Under parameter draws (``TrialWorlds(thetas=...)``, a posterior or the
prior) the dyads are split across the draws and each estimate is the effect averaged over
the draws with a cluster-robust interval over draws (:mod:`dyadsim.analysis.posterior`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..model.graph import MORE_CUE, MORE_REWARD, MORE_STRESS, NODE_BY_ID

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Path:
    """A causal path of the graph, from the node an intervention moves to an outcome."""

    name: str
    nodes: tuple[str, ...]
    section: str
    citation: str

    @property
    def entry(self) -> tuple[str, str]:
        return self.nodes[0], self.nodes[1]


#: MORE's named paths (Reese 2021, Figure 2 and the MORE sections): mindfulness ->
#: attentional bias and automaticity; reappraisal -> stress appraisal; savoring -> natural
#: reward -> infant-cue salience -> parenting -> attachment.
MORE_PATHS: tuple[Path, ...] = (
    Path("mindfulness->attentional_bias",
         ("mindfulness", "attentional_bias", "craving", "opioid_use"), MORE_CUE,
         "Garland 2014; Garland & Howard 2018 (mindfulness reduces attentional bias)"),
    Path("reappraisal->cognitive_appraisal",
         ("reappraisal", "cognitive_appraisal", "stress_arousal", "negative_affect"),
         MORE_STRESS, "Garland 2011 (mindful reappraisal of stress)"),
    Path("savoring->natural_reward_responsiveness",
         ("savoring", "natural_reward_responsiveness", "reward_dysregulation",
          "salience_of_infant_cues", "parenting_behavior", "attachment"), MORE_REWARD,
         "Garland 2016, 2017 (savoring restores natural reward); Rutherford & Mayes 2017"),
)


def check_paths(paths: Sequence[Path]) -> None:
    """ValueError naming the first step of a path that is not a declared edge."""
    from ..model.graph import EDGES

    declared = {(e.source, e.target) for e in EDGES}
    for p in paths:
        for a, b in zip(p.nodes, p.nodes[1:], strict=False):
            if (a, b) not in declared:
                raise ValueError(f"path {p.name}: {a}->{b} is not a declared edge")


@dataclass(frozen=True)
class World:
    """A counterfactual world: an arm, nodes held at the control arm's trajectory and edges
    carrying the control arm's value of their source."""

    arm: str  # "treatment" or "control"
    held_nodes: tuple[str, ...] = ()
    held_edges: tuple[tuple[str, str], ...] = ()


class WorldModel(Protocol):
    """Simulates worlds on the same dyads with common random numbers.

    ``run(worlds, record, reference)`` returns per-dyad outcomes (worlds, dyads) and, for the
    nodes in ``record``, their end-of-day values (worlds, dyads, days); ``reference`` holds
    the recorded control-arm trajectories the held nodes and edges take."""

    def run(self, worlds: Sequence[World], record: Sequence[str],
            reference: Mapping[str, np.ndarray] | None) -> tuple[np.ndarray,
                                                                 dict[str, np.ndarray]]: ...


@dataclass
class Estimate:
    name: str
    kind: str  # total | natural_direct | natural_indirect | path_specific | other
    mean: float
    lo: float
    hi: float
    n: int
    note: str = ""
    per_draw: list[float] | None = None

    def to_dict(self) -> dict:
        out = {"effect": self.name, "kind": self.kind, "estimate": self.mean,
               "ci_low": self.lo, "ci_high": self.hi, "dyads": self.n, "note": self.note}
        if self.per_draw is not None:
            from ..uncertainty import summarize_draws

            s = summarize_draws(self.per_draw)
            out.update(draws=s["n_draws"], draws_q05=s["q05"], draws_q95=s["q95"])
        return out


def estimate(name: str, kind: str, diff: np.ndarray, note: str = "",
             groups: np.ndarray | None = None) -> Estimate:
    """Mean of per-dyad differences with a normal 95% Monte Carlo interval; with ``groups``
    (each dyad's parameter draw) a cluster-robust interval over draws
    (:func:`dyadsim.analysis.posterior.draw_interval`)."""
    n = diff.size
    if groups is not None:
        from .posterior import draw_interval

        m, lo, hi, per_draw = draw_interval(diff, groups)
        return Estimate(name, kind, m, lo, hi, n, note, per_draw)
    m = float(np.mean(diff))
    se = float(np.std(diff, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return Estimate(name, kind, m, m - Z95 * se, m + Z95 * se, n, note)


@dataclass
class Decomposition:
    estimates: list[Estimate]
    order: list[str]
    dyads_used: int
    sum_of_parts: float
    total: float
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"estimates": [e.to_dict() for e in self.estimates], "path_order": self.order,
                "dyads_used": self.dyads_used, "sum_of_path_parts": self.sum_of_parts,
                "total": self.total, **self.info}


def decompose(model: WorldModel, paths: Sequence[Path], mediators: Sequence[str] = (),
              groups: np.ndarray | None = None) -> Decomposition:
    """Total, natural direct/indirect (per mediator) and sequential path-specific effects.
    Dyads whose outcome is undefined (NaN) in any world are left out of every estimate
    (reported as ``dyads_used``). ``groups``: each dyad's parameter draw (intervals over
    draws, see :func:`estimate`)."""
    sources = sorted({p.entry[0] for p in paths} | set(mediators))
    y01, ref = model.run([World("control"), World("treatment")], sources, None)
    reference = {n: v[0] for n, v in ref.items()}
    worlds = [World("treatment", held_edges=tuple(p.entry for p in paths[:k + 1]))
              for k in range(len(paths))]
    worlds += [World("treatment", held_nodes=(m,)) for m in mediators]
    y_cf = model.run(worlds, (), reference)[0] if worlds else np.zeros((0, y01.shape[1]))
    ys = np.concatenate([y01, y_cf])
    keep = ~np.isnan(ys).any(axis=0)
    ys = ys[:, keep]
    g = None if groups is None else np.asarray(groups)[keep]
    y0, y1 = ys[0], ys[1]
    y_paths, y_med = ys[2:2 + len(paths)], ys[2 + len(paths):]
    est = [estimate("total", "total", y1 - y0, "Y(treatment) - Y(control)", g)]
    prev = y1
    for p, y in zip(paths, y_paths, strict=True):
        est.append(estimate(p.name, "path_specific", prev - y,
                            f"through {' -> '.join(p.nodes)} (entry edge {p.entry[0]}->"
                            f"{p.entry[1]}), net of earlier paths", g))
        prev = y
    if paths:
        est.append(estimate("other", "other", prev - y0,
                            "every route not beginning with a declared path's entry edge", g))
    for m, y in zip(mediators, y_med, strict=True):
        est.append(estimate(f"NDE[{m}]", "natural_direct", y - y0,
                            f"Y(treatment, {m} held at its control trajectory) - Y(control)",
                            g))
        est.append(estimate(f"NIE[{m}]", "natural_indirect", y1 - y,
                            f"Y(treatment) - Y(treatment, {m} held at control)", g))
    parts = sum(e.mean for e in est if e.kind in ("path_specific", "other"))
    return Decomposition(est, [p.name for p in paths], int(keep.sum()),
                         parts if paths else float("nan"), est[0].mean)


class TrialWorlds:
    """A :class:`WorldModel` on the engine: two arms of a trial spec, ``dyads`` dyads, an
    outcome from :mod:`dyadsim.analysis.outcomes`. With ``thetas`` (parameter draws) the
    dyads are split into one contiguous block per draw and every world of a block runs
    under its draw (``groups``: each dyad's draw)."""

    def __init__(self, spec, treatment: str, control: str, outcome: str, *, dyads: int,
                 seed: int | None = None, thetas: Sequence[Mapping[str, float]] | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        from .arms import load_arms
        from .outcomes import get_outcome

        self.arms = load_arms(spec)
        for a in (treatment, control):
            if a not in self.arms.names:
                raise ValueError(f"unknown arm {a!r}: one of {', '.join(self.arms.names)}")
        if treatment == control:
            raise ValueError("treatment and control must be different arms")
        self.arm = {"treatment": treatment, "control": control}
        self.outcome = get_outcome(outcome)
        self.dyads = dyads
        self.seed = self.arms.seed if seed is None else seed
        self.progress = progress
        self.thetas = None if thetas is None else list(thetas)
        if self.thetas is None:
            self.blocks = [np.arange(dyads)]
            self.groups = None
        else:
            from .posterior import draw_blocks

            self.blocks = draw_blocks(dyads, len(self.thetas))
            self.groups = np.concatenate([np.full(b.size, k) for k, b in
                                          enumerate(self.blocks)])

    def run(self, worlds, record, reference):
        ys, daily = [], []
        for k, ids in enumerate(self.blocks):
            ref = None if reference is None else {n: v[ids] for n, v in reference.items()}
            y, d = self._run_block(worlds, record, ref, ids,
                                   None if self.thetas is None else self.thetas[k])
            ys.append(y)
            daily.append(d)
        return (np.concatenate(ys, axis=1),
                {n: np.concatenate([d[n] for d in daily], axis=1) for n in record})

    def _run_block(self, worlds, record, reference, ids: np.ndarray, theta):
        from ..engine.batch import simulate_batch
        from .posterior import under_draw

        n, days = ids.size, self.arms.setting.total_days
        nan = np.full((n, days), np.nan, np.float32)
        node_paths, edge_paths = {}, {}
        for node in sorted({m for w in worlds for m in w.held_nodes}):
            node_paths[node] = np.stack([reference[node] if node in w.held_nodes else nan
                                         for w in worlds])
        for edge in sorted({e for w in worlds for e in w.held_edges}):
            edge_paths[edge] = np.stack([reference[edge[0]] if edge in w.held_edges else nan
                                         for w in worlds])
        names = [self.arm[w.arm] for w in worlds]
        setting = self.arms.setting if theta is None else under_draw(self.arms.setting, theta)
        batch = simulate_batch(setting, [self.arms.params[a] for a in names],
                               dyads=n, seed=self.seed, dyad_ids=ids,
                               schedules=[self.arms.schedule(a, n) for a in names],
                               record_daily=tuple(record), node_paths=node_paths or None,
                               edge_paths=edge_paths or None, progress=self.progress)
        return self.outcome.value(batch.outcomes, batch.final), batch.daily


def mediator_nodes(names: Sequence[str]) -> list[str]:
    bad = [m for m in names if m not in NODE_BY_ID]
    if bad:
        raise ValueError(f"unknown mediator node(s): {', '.join(bad)} (see `dyadsim graph`)")
    return list(names)
