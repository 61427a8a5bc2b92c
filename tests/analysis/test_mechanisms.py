"""Path-specific effects: known answers on a toy graph where the split is analytic, and on
the engine the parts add up to the total."""


import numpy as np
import pytest

from dyadsim.analysis.mechanisms import MORE_PATHS, Path, TrialWorlds, check_paths, decompose

# Toy structural model: A = a T + eA; B = b T + c A + eB; Y = d A + e B + f T + g T A + eY.
A, B, C, D, E, F, G = 0.7, -0.4, 0.5, 1.3, 0.9, 0.25, 0.6
TOY_PATHS = (Path("T->A", ("T", "A", "Y"), "toy", "toy"),
             Path("T->B", ("T", "B", "Y"), "toy", "toy"))


class Toy:
    """One 'day'; an edge held at control reads the control world's value of its source."""

    def __init__(self, n=20000, seed=0):
        rng = np.random.default_rng(seed)
        self.e = rng.normal(size=(3, n))

    def run(self, worlds, record, reference):
        ys, rec = [], {k: [] for k in record}
        for w in worlds:
            t = 1.0 if w.arm == "treatment" else 0.0

            def src(node, target, value, w=w):
                return reference[node][:, 0] if (node, target) in w.held_edges else value

            a = A * src("T", "A", t) + self.e[0]
            if "A" in w.held_nodes:
                a = reference["A"][:, 0]
            b = B * src("T", "B", t) + C * a + self.e[1]
            ys.append(D * a + E * b + F * t + G * t * a + self.e[2])
            vals = {"T": np.full_like(a, t), "A": a, "B": b}
            for k in record:
                rec[k].append(vals[k][:, None])
        return np.array(ys), {k: np.array(v) for k, v in rec.items()}


def _by_name(dec):
    return {e.name: e for e in dec.estimates}


def test_toy_paths_and_natural_effects_match_the_analytic_split():
    dec = decompose(Toy(), TOY_PATHS, mediators=("A",))
    est = _by_name(dec)
    truth = {"T->A": A * (D + E * C + G), "T->B": E * B, "other": F,
             "NDE[A]": E * B + F, "NIE[A]": A * (D + E * C + G)}
    truth["total"] = truth["T->A"] + truth["T->B"] + truth["other"]
    for name, value in truth.items():
        e = est[name]
        half = max(e.hi - e.mean, 1e-12)
        assert abs(e.mean - value) <= 4 * half / 1.96 + 1e-9, (name, e.mean, value)
    assert dec.sum_of_parts == pytest.approx(dec.total, abs=1e-9)
    assert est["NDE[A]"].mean + est["NIE[A]"].mean == pytest.approx(dec.total, abs=1e-9)


def test_the_order_of_paths_is_part_of_the_estimand_but_parts_still_add_up():
    dec = decompose(Toy(), TOY_PATHS[::-1])
    est = _by_name(dec)
    # T->B first: only e*b; then T->A gets everything beginning with T->A
    assert est["T->B"].mean == pytest.approx(E * B, abs=1e-9)
    assert dec.sum_of_parts == pytest.approx(dec.total, abs=1e-9)


def test_declared_more_paths_follow_declared_edges():
    check_paths(MORE_PATHS)
    with pytest.raises(ValueError, match="not a declared edge"):
        check_paths([Path("bad", ("savoring", "opioid_use"), "x", "x")])


def test_engine_decomposition_adds_up_to_the_total(short_prenatal_spec):
    worlds = TrialWorlds(short_prenatal_spec, "MORE_prenatal", "TAU", "parenting_mean",
                         dyads=120, seed=3)
    dec = decompose(worlds, MORE_PATHS, mediators=("salience_of_infant_cues",))
    est = _by_name(dec)
    total = est["total"]
    assert total.mean != 0.0
    assert abs(dec.sum_of_parts - total.mean) <= 1e-5 + 1e-4 * abs(total.mean)
    nat = est["NDE[salience_of_infant_cues]"].mean + est["NIE[salience_of_infant_cues]"].mean
    assert abs(nat - total.mean) <= 1e-5 + 1e-4 * abs(total.mean)
    # savoring's entry edge carries part of MORE's effect on parenting
    assert est["savoring->natural_reward_responsiveness"].mean != 0.0
