"""Every shipped example runs end to end, and the MORE trials go in the published
direction.

The published designs are small (N = 30 to 250), so a single replicate at the published N
can land on either side of the null, and so can one larger trial at one seed; the
direction test runs each design as 5 replicate trials of 450 dyads (same arms, schedule,
instruments and analysis) and requires the published direction of the inverse-variance
pooled estimate with a 95% CI that excludes the null, and in at least 4 of the 5
replicates. Sizes are not tested here: calibrating them to the
published numbers is the calibration milestone's job (the values are listed in the README).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dyadsim.trials.design import load_spec
from dyadsim.trials.runner import run_trial, write_trial

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ALL = sorted(p.stem for p in EXAMPLES.glob("*.toml"))


def test_the_six_examples_are_shipped():
    assert set(ALL) == {"garland2014_more_vs_sg", "garland2019_more_vs_sg",
                        "cooperman2021_more_methadone", "garland2022_more_vs_sg",
                        "gannon2017_mindful_parenting", "prenatal_more_trial"}


@pytest.mark.parametrize("name", ALL)
def test_example_runs_end_to_end_at_published_n(name, tmp_path):
    spec = load_spec(EXAMPLES / f"{name}.toml")
    result = run_trial(spec)
    out = tmp_path / name
    write_trial(result, out)
    for f in ("data.parquet", "latent.nc", "results.json", "manifest.json"):
        assert (out / f).is_file(), f
    data = result.data
    assert {"dyad_id", "arm", "timepoint", "day", "instrument", "value"} <= set(data.columns)
    assert data["dyad_id"].nunique() == spec.trial.n
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == spec.trial.seed
    results = json.loads((out / "results.json").read_text())["results"]
    for a in spec.analysis:
        r = results[a.name]
        assert r.get("estimate") is not None, a.name
        assert r["intercurrent_events"], a.name  # ICH E9(R1) strategy named
        grid = (r.get("sensitivity") or {}).get("grid")
        if grid:  # the tipping grid starts from the reported result
            assert grid[0]["delta"] == 0.0
            assert grid[0]["estimate"] == pytest.approx(r["estimate"], rel=1e-9), a.name
            assert grid[0]["p"] == pytest.approx(r["p"], rel=1e-9), a.name
    _assert_read_on_the_right_person(result)


def _assert_read_on_the_right_person(result):
    """No value of an instrument about the mother (or her care of the infant) on or after
    her death, none of a care instrument while the infant is placed out of home."""
    from dyadsim.trials.instruments import INSTRUMENTS

    lat, data = result.latent, result.data
    run_in = result.plan_info["run_in_days"]
    seen = data.loc[data["value"].notna() & (data["timepoint"] != "ema")]
    subject = seen["instrument"].map(lambda i: INSTRUMENTS[i].subject)
    pos = {int(d): k for k, d in enumerate(lat["dyad"].values)}
    rows = seen["dyad_id"].map(pos).to_numpy()
    day = seen["day"].to_numpy()
    if "maternal_death_day" in lat:
        died = np.nan_to_num(lat["maternal_death_day"].values - run_in, nan=np.inf)[rows]
        assert not ((subject != "infant").to_numpy() & (day >= died)).any()
    if "foster_placement" in lat:
        t = np.clip(day + run_in, 0, lat.sizes["time"] - 1)
        placed = lat["foster_placement"].values[rows, t] > 0
        assert not ((subject == "care").to_numpy() & placed).any()


# (example, analysis, direction): -1 = below the null (RR < 1, difference < 0), +1 above
PUBLISHED_DIRECTION = [
    ("garland2014_more_vs_sg", "misuse_post", -1),       # OUD occurrence -63%
    ("garland2014_more_vs_sg", "desire_for_opioids", -1),  # p = .027
    ("garland2014_more_vs_sg", "stress_arousal", -1),    # p = .034
    ("garland2019_more_vs_sg", "misuse_d_fu3", -1),      # d = 0.64 (less misuse)
    ("garland2019_more_vs_sg", "use_d_fu3", -1),         # d = 1.07 (less use)
    ("cooperman2021_more_methadone", "drug_use_days", -1),  # F = 4.72
    ("cooperman2021_more_methadone", "craving_ema", -1),    # 37% less intense
    ("cooperman2021_more_methadone", "positive_affect_ema", +1),  # p = .017
    ("garland2022_more_vs_sg", "misuse_9mo", -1),        # -46%
    ("garland2022_more_vs_sg", "no_longer_misusing_9mo", +1),  # 45.0% vs 24.4%
    ("gannon2017_mindful_parenting", "kips_change", +1),  # parenting improved
    ("gannon2017_mindful_parenting", "pss10_change", -1),  # stress decreased
]


#: Replicate trials per design, and dyads in each: the direction is tested on the five
#: replicates pooled (fixed-effect, inverse variance on the analysis scale: log for ratios),
#: not on one seed; at 5 x 450 the pooled CI is about as wide as one trial of 2,250.
REPLICATES, N_EACH = 5, 450
_RATIOS = {"risk_ratio", "odds_ratio", "hazard_ratio"}
_Z = 1.959964


@pytest.fixture(scope="module")
def replicated():
    from dyadsim.trials.replicates import run_replicates

    cache = {}

    def get(name):
        if name not in cache:
            spec = load_spec(EXAMPLES / f"{name}.toml").with_changes(n=N_EACH)
            names = [a for e, a, _ in PUBLISHED_DIRECTION if e == name]
            cache[name] = run_replicates(spec, REPLICATES, workers=1, analyses=names)
        return cache[name]
    return get


def pooled_over_replicates(reps, ratio: bool) -> tuple[float, float, int]:
    """(pooled estimate, its SE, replicates that gave one) on the analysis scale; each
    replicate's SE from its 95% CI: (upper - lower) / (2 z)."""
    est, w = [], []
    for r in reps:
        if r.get("estimate") is None or r.get("ci_lower") is None or r.get("ci_upper") is None:
            continue
        f = math.log if ratio else float
        e, lo, hi = f(r["estimate"]), f(r["ci_lower"]), f(r["ci_upper"])
        se = (hi - lo) / (2 * _Z)
        if se > 0:
            est.append(e)
            w.append(1 / se**2)
    w_ = np.asarray(w)
    return float(np.dot(w_, est) / w_.sum()), float(1 / math.sqrt(w_.sum())), len(est)


# Known departures of the uncalibrated model from the published direction (measured as
# below: the pooled CI over REPLICATES x N_EACH does not exclude the null, or excludes it on
# the other side). Strict: when the model brings one back, the XPASS fails the suite so the
# mark is removed. These depend on the model's effect sizes (issue 18 changes them).
KNOWN_DEPARTURES: set[tuple[str, str]] = {
    # MORE's effect on use days is in the published direction (issue 18 item 1: use is a
    # state process, so it travels through craving) but its pooled CI still reaches the
    # null: -0.31 (95% CI -0.64 to 0.015) over 5 replicates at the issue-18 defaults.
    ("cooperman2021_more_methadone", "drug_use_days"),
}
_DEPARTURE = pytest.mark.xfail(strict=True, reason="a known departure of the default-parameter "
                               "model from the published result (see KNOWN_DEPARTURES)")


@pytest.mark.parametrize(
    "example,analysis,direction",
    [pytest.param(e, a, d, id=f"{e}:{a}",
                  marks=[_DEPARTURE] if (e, a) in KNOWN_DEPARTURES else [])
     for e, a, d in PUBLISHED_DIRECTION])
def test_published_direction_over_replicates(replicated, example, analysis, direction):
    res = replicated(example)["analyses"][analysis]
    reps = res["replicates"]
    effect = next(a.effect for a in load_spec(EXAMPLES / f"{example}.toml").analysis
                  if a.name == analysis)
    est, se, k = pooled_over_replicates(reps, effect in _RATIOS)
    assert k >= REPLICATES - 1, reps
    lo, hi = est - _Z * se, est + _Z * se
    msg = f"pooled {est:.4g} (SE {se:.3g}, 95% CI {lo:.4g} to {hi:.4g}) over {k} replicates"
    if direction < 0:
        assert hi < 0, msg
    else:
        assert lo > 0, msg
    null = 1.0 if effect in _RATIOS else 0.0
    side = [np.sign((r["estimate"] - null) * direction) for r in reps
            if r.get("estimate") is not None]
    assert sum(x > 0 for x in side) >= REPLICATES - 1, (side, msg)  # >= 4 of 5 replicates
