"""Item-level instruments (issue 20 item 4): graded-response items, the manuals' keys and
totals, and alpha / omega / parallel-forms r as observable properties.

Known answers, not outputs of the code under test: category frequencies against
Samejima's formula, totals of hand-scored forms against the manuals' keys, alpha and the
parallel-forms r against their closed-form (quadrature) population values, omega against
a linear one-factor model's formula, and floor / ceiling shares of a population placed
at the scale's ends. Tolerances are stated in standard errors or in absolute terms beside
each test.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dyadsim.trials.instruments import INSTRUMENTS, ItemScale, LatentScale
from dyadsim.trials.instruments.calibrate import ReferenceRun, realised
from dyadsim.trials.instruments.items import (
    GradedResponse,
    ItemDesign,
    cronbach_alpha,
    derive_pattern,
    mcdonald_omega,
    parallel_forms_r,
    patterned,
    population_moments,
)

ITEM_SCALES = sorted(n for n, i in INSTRUMENTS.items() if isinstance(i, ItemScale))
ROOT = Path(__file__).resolve().parents[2]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_the_issue_s_scales_are_answered_item_by_item():
    assert {"pss10", "comm", "ffmq", "epds", "pbq", "kips", "asq3_communication",
            "asq3_gross_motor", "asq3_fine_motor", "asq3_problem_solving",
            "asq3_personal_social"} <= set(ITEM_SCALES)


def test_category_frequencies_follow_samejima():
    """At fixed theta the drawn categories have the GRM's probabilities (200,000 draws:
    each frequency within 4 binomial SE)."""
    model = GradedResponse(discrimination=(1.7,), thresholds=((-1.0, 0.2, 1.5),),
                           source="test (guess)")
    n = 200_000
    for theta in (-1.2, 0.0, 0.9):
        x = model.draw(np.full(n, theta), _rng(1))[:, 0]
        star = [1 / (1 + math.exp(-1.7 * (theta - b))) for b in (-1.0, 0.2, 1.5)]
        p = np.array([1 - star[0], star[0] - star[1], star[1] - star[2], star[2]])
        freq = np.bincount(x.astype(int), minlength=4) / n
        se = np.sqrt(p * (1 - p) / n)
        assert np.all(np.abs(freq - p) <= 4 * se), (theta, freq, p)


@pytest.mark.parametrize(("name", "answers", "total"), [
    # PSS-10: "never" to every item scores 16: the 4 positively stated items 4, 5, 7, 8
    # reverse-score to 4 (Cohen & Williamson 1988)
    ("pss10", [0] * 10, 16),
    ("pss10", [4] * 10, 24),
    # EPDS: the first printed option to every item: items 3, 5-10 score 3 -> 21 (Cox 1987)
    ("epds", [0] * 10, 21),
    # PBQ: "never" to every item: the 8 positive items score 5 -> 40 (Brockington 2006)
    ("pbq", [0] * 25, 40),
    ("pbq", [5] * 25, 85),
    # FFMQ: 1 to every item: 20 items score 1, the 19 reversed score 5 -> 115 (Baer 2006)
    ("ffmq", [0] * 39, 115),
    # COMM: no reversed items: "very often" to all 17 -> 68
    ("comm", [4] * 17, 68),
    # KIPS: mean of the 12 ratings (form index 0..4 = ratings 1..5)
    ("kips", [1] * 6 + [3] * 6, 3.0),
    # ASQ-3: yes 10, sometimes 5, not yet 0
    ("asq3_communication", [2, 2, 2, 1, 1, 0], 40),
])
def test_totals_follow_the_manuals_keys(name, answers, total):
    inst = INSTRUMENTS[name]
    got = inst.design.score(np.array([answers], dtype=float))
    assert got[0] == pytest.approx(total)


def test_reverse_keyed_items_are_printed_the_other_way():
    """At a very high theta every keyed response is the top category: on the form the
    reverse-keyed PSS-10 items read 0 ("never"), the others 4, and the total is the maximum."""
    inst = replace(INSTRUMENTS["pss10"], missing_rate=0.0)
    top = {r: np.full(50, 1.0) for r in inst.reads}
    form = inst.responses(top, _rng(2))
    rev = np.array([4, 5, 7, 8]) - 1
    assert np.all(form[:, rev] == 0)
    assert np.all(np.delete(form, rev, axis=1) == 4)
    assert np.all(inst.measure(top, _rng(2)) == 40)


@pytest.mark.parametrize("name", ["pss10", "epds", "pbq", "kips"])
def test_alpha_and_parallel_forms_match_the_closed_form(name):
    """theta ~ N(0, 1), 20,000 respondents: pingouin's alpha within 0.01 of the quadrature
    alpha and the parallel-forms r within 0.01 of the quadrature reliability (the SE of each
    is about 0.002 at this n; 0.01 is 5 SE)."""
    inst = INSTRUMENTS[name]
    truth = population_moments(inst.design, inst.items)
    theta = _rng(3).standard_normal(20_000)
    keyed_a = inst.items.draw(theta, _rng(4))
    keyed_b = inst.items.draw(theta, _rng(5))
    form = np.where(inst.design.reversed_mask(), inst.design.categories - 1 - keyed_a,
                    keyed_a)
    assert cronbach_alpha(inst.keyed(form)) == pytest.approx(truth["alpha"], abs=0.01)
    to_form = np.where(inst.design.reversed_mask(), inst.design.categories - 1 - keyed_b,
                       keyed_b)
    r = parallel_forms_r(inst.design.score(form), inst.design.score(to_form))
    assert r == pytest.approx(truth["reliability"], abs=0.01)


def test_alpha_on_unkeyed_responses_is_lower():
    """Scoring without the manual's key (reverse-keyed items left as printed) destroys the
    inter-item covariance: alpha falls far below the keyed alpha."""
    inst = INSTRUMENTS["pss10"]
    keyed = inst.items.draw(_rng(6).standard_normal(5000), _rng(7))
    form = np.where(inst.design.reversed_mask(), 4 - keyed, keyed)
    assert cronbach_alpha(form) < cronbach_alpha(keyed) - 0.3


def test_omega_matches_a_one_factor_model():
    """Linear one-factor data, loadings 0.4-0.9 and unique variances 1 - l^2 + 0.2: the
    known omega (sum l)^2 / ((sum l)^2 + sum u); semopy's estimate within 0.01 at n =
    20,000 (SE about 0.002)."""
    lam = np.linspace(0.4, 0.9, 8)
    u = 1 - lam**2 + 0.2
    rng = _rng(8)
    x = rng.standard_normal((20_000, 1)) * lam + rng.standard_normal((20_000, 8)) * np.sqrt(u)
    truth = lam.sum() ** 2 / (lam.sum() ** 2 + u.sum())
    assert mcdonald_omega(x) == pytest.approx(truth, abs=0.01)


def test_alpha_omega_need_variance():
    assert cronbach_alpha(np.ones((20, 5))) is None
    assert mcdonald_omega(np.ones((20, 5))) is None
    assert parallel_forms_r(np.ones(10), np.arange(10.0)) is None


def test_floor_and_ceiling_shares_are_counted():
    """A quarter of respondents far below the reference (theta -50: every item at the
    first keyed option, the total at the floor), the rest far above (theta +50, the
    ceiling): the check's floor and ceiling shares are exactly 0.25 and 0.75."""
    inst = replace(INSTRUMENTS["epds"], missing_rate=0.0, latent=LatentScale(0.5, 0.01))
    n = 400
    x = np.where(np.arange(n) < n // 4, 0.0, 1.0)
    days = int(inst.norm.at[2:]) + 10
    run = ReferenceRun(population="synthetic", pregnancy=True,
                       nodes={"maternal_depression": np.repeat(x[:, None], days, axis=1)},
                       outcomes={}, birth_day=np.zeros(n))
    got = realised(inst, run, seed=1)
    assert got["floor_share"] == 0.25 and got["ceiling_share"] == 0.75


def test_observed_totals_average_the_true_score():
    """At a fixed theta the mean observed total equals the IRT true score (expected total)
    within 4 SE (10,000 respondents)."""
    for name in ("comm", "ffmq", "asq3_gross_motor"):
        inst = replace(INSTRUMENTS[name], missing_rate=0.0)
        c = inst.latent.mean + 0.7 * inst.latent.sd
        inputs = {r: np.full(10_000, c if w > 0 else 1 - c)
                  for r, w in zip(inst.reads, inst.weights, strict=True)}
        obs, true = inst.measure(inputs, _rng(9)), inst.true_score(inputs)
        assert abs(obs.mean() - true[0]) <= 4 * obs.std() / math.sqrt(obs.size), name


@pytest.mark.parametrize("name", ITEM_SCALES)
def test_item_parameters_are_derived_from_the_norm_and_generated_file_is_current(name):
    """The generated item_parameters.py holds what the derivation gives now (so it cannot
    drift), and under theta ~ N(0, 1) those parameters give the norm's mean and alpha
    (within 0.01 alpha, 1% of the range) and its SD within 5% (the ASQ-3 design's 3
    options reach 10.4 for 10)."""
    from dyadsim.trials.instruments.item_parameters import ITEM_PARAMETERS

    inst = INSTRUMENTS[name]
    norm = inst.norm
    target, stored = ITEM_PARAMETERS[name]
    assert target == (norm.mean, norm.sd, norm.reliability)
    again = derive_pattern(inst.design, norm.mean, norm.sd, norm.reliability)
    assert np.allclose(again, stored, atol=1e-4), (again, stored)
    got = population_moments(inst.design, inst.items)
    lo, hi = inst.scale
    assert abs(got["mean"] - norm.mean) <= 0.01 * (hi - lo)
    assert abs(got["alpha"] - norm.reliability) <= 0.01
    assert abs(got["sd"] / norm.sd - 1) <= 0.05
    assert "guess" in inst.items.source


def test_item_parameters_are_declared_within_bounds():
    with pytest.raises(ValueError, match="discrimination"):
        GradedResponse(discrimination=(7.0,), thresholds=((0.0,),), source="guess")
    with pytest.raises(ValueError, match="increase"):
        GradedResponse(discrimination=(1.0,), thresholds=((0.5, 0.1),), source="guess")
    with pytest.raises(ValueError, match="source"):
        GradedResponse(discrimination=(1.0,), thresholds=((0.0,),), source="")
    with pytest.raises(ValueError, match="reverse_keyed"):
        ItemDesign(items=3, options=("a", "b"), points=(0, 1), reverse_keyed=(4,),
                   scoring="sum", source="s")
    design = ItemDesign(items=4, options=("a", "b", "c"), points=(0, 1, 2),
                        reverse_keyed=(2,), scoring="sum", source="s")
    model = patterned(design, 1.5, 0.0, 1.0, "guess")
    assert model.b.shape == (4, 2) and np.all(np.diff(model.b, axis=1) > 0)
    with pytest.raises(ValueError, match="scale must be the total"):
        replace(INSTRUMENTS["pss10"], scale=(0, 50))


def test_used_in_names_every_population_the_examples_give_an_item_scale_in():
    """The check measures an item scale in every population the shipped examples use it in:
    each example's preset is the instrument's reference population or in its used_in."""
    for path in sorted((ROOT / "examples").glob("*.toml")):
        spec = tomllib.loads(path.read_text())
        preset = spec["population"]["preset"]
        for visit in spec.get("assessments", []):
            for name in visit["instruments"]:
                inst = INSTRUMENTS[name]
                if isinstance(inst, ItemScale):
                    where = {inst.norm.population} | {p for p, _ in inst.used_in}
                    assert preset in where, (path.name, name, preset)
