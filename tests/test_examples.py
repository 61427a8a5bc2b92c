"""Every shipped example runs end to end, and the MORE trials go in the published
direction.

The published designs are small (N = 30 to 250), so a single replicate at the published N
can land on either side of the null; the direction test runs each design at N = 900
(same arms, schedule, instruments and analysis) and requires the published direction with
a 95% CI that excludes the null. Sizes are not tested here: calibrating them to the
published numbers is the calibration milestone's job (the values are listed in the README).
"""

import json
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
_NULL = {"risk_ratio": 1.0, "odds_ratio": 1.0}


@pytest.fixture(scope="module")
def large_runs():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_trial(load_spec(EXAMPLES / f"{name}.toml").with_changes(n=900))
        return cache[name]
    return get


# Known departures of the uncalibrated model (issue 6 item 4 set craving->opioid_use to the
# value its citations give, 1.5 logits over the craving range instead of the guessed 8; MORE's
# effect on use and misuse then runs mostly through that edge and is too small to exclude the
# null at N = 900). Measured at N = 900 on 2026-12-01: garland2014 misuse RR 0.90 (0.76-1.06);
# garland2019 use d 0.00 (-0.14 to 0.14); cooperman drug-use days -0.14 (-0.44 to 0.17);
# garland2022 misuse RR 0.92 (0.75-1.12), no longer misusing +2.5 points (-4.1 to 9.1).
# Fitting the effect sizes is calibration's job (issue 8). Strict: when calibration brings one
# back, the XPASS fails the suite so the mark is removed.
# Issue 6 item 2 (chronic pain a state that MORE's mindfulness and savoring lower, pain driving
# craving, use and the amount taken) brought back, at N = 900 on 2026-12-01: garland2014
# misuse RR 0.82 (0.70-0.98); garland2022 misuse RR 0.80 (0.66-0.98), no longer misusing +7.0
# points (0.6 to 13.3). Still departing: garland2019 dose, now the MME instrument (tlfb_mme),
# d -0.03 (-0.18 to 0.11); cooperman drug-use days -0.21 (-0.51 to 0.10).
# With the LTOT dose patient-titrated (issue 6 item 2, docs/model-checks.md, Prescribed dose)
# and the default 365-day burn-in (item 9), garland2019's dose effect has the published
# direction at N = 900 (HEAD dcbfee0): d -0.17 (-0.31 to -0.03) at the example's seed 2019,
# -0.15 (-0.30 to -0.01) at seed 1, -0.05 (-0.19 to 0.08) at seed 2: far below the published
# 1.07 in size, so its size stays calibration's job.
KNOWN_DEPARTURES = {
    # MORE's effect on use days stays far below the published one, also under the shipped
    # posterior (docs/calibration.md)
    ("cooperman2021_more_methadone", "drug_use_days"),
    # at default parameters MORE's effect on misuse at 9 months is borderline at N = 900: RR
    # 0.80 (CI excluding 1) before the uniform draws were declared per node (9c13443), CI
    # upper 1.09 after, i.e. it depends on the random stream (docs/examples-before-after.md)
    ("garland2022_more_vs_sg", "misuse_9mo"),
    ("garland2022_more_vs_sg", "no_longer_misusing_9mo"),
}
_DEPARTURE = pytest.mark.xfail(strict=True, reason="a known departure of the default-parameter "
                               "model from the published result (see KNOWN_DEPARTURES)")


@pytest.mark.parametrize(
    "example,analysis,direction",
    [pytest.param(e, a, d, id=f"{e}:{a}",
                  marks=[_DEPARTURE] if (e, a) in KNOWN_DEPARTURES else [])
     for e, a, d in PUBLISHED_DIRECTION])
def test_published_direction_at_large_n(large_runs, example, analysis, direction):
    r = large_runs(example).results[analysis]
    null = _NULL.get(r.get("effect"), 0.0)
    if direction < 0:
        assert r["ci_upper"] < null, r
    else:
        assert r["ci_lower"] > null, r
