"""The trial runner: the long table's shape, dropout, determinism, the latent
trajectories, every analysis method, a strong built-in effect, stratified randomisation,
replicates under different executors, and the written folder.

All trials use the design of ``test_design.BASE_TOML`` (one engine compilation).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dyadsim.trials import output as output_mod
from dyadsim.trials import trial as trial_mod
from dyadsim.trials.design import TrialSpecError, parse_spec, plan_trial, stratum_codes
from dyadsim.trials.runner import (
    DATA_COLUMNS,
    replicate_seed_sequence,
    replicates_table,
    run_replicates,
    run_trial,
    write_trial,
)

from .test_design import base_spec

N = 60
DAYS_EMA = 56  # study days 0..55
PROMPTS = 2


@pytest.fixture(scope="module")
def calls():
    return []


@pytest.fixture(scope="module")
def trial(calls):
    return run_trial(base_spec(), progress=lambda *a: calls.append(a))


@pytest.fixture(scope="module")
def no_dropout():
    d = base_spec()
    del d["dropout"]
    return run_trial(d)


def test_data_columns_and_shape(trial):
    data = trial.data
    assert list(data.columns) == list(DATA_COLUMNS)
    for c in ("dyad_id", "arm", "timepoint", "day", "instrument", "value"):
        assert c in data.columns
    assessments = data[data["timepoint"] != "ema"]
    ema = data[data["timepoint"] == "ema"]
    assert len(assessments) == N * 2 * 2  # dyads x timepoints x instruments
    assert len(ema) == N * DAYS_EMA * PROMPTS
    assert len(data) == N * 2 * 2 + N * DAYS_EMA * PROMPTS
    counts = assessments.groupby(["timepoint", "instrument"]).size()
    assert (counts == N).all() and len(counts) == 4
    assert sorted(data["dyad_id"].unique()) == list(range(N))
    assert set(assessments["day"]) == {0, 56}
    assert ema["day"].between(0, DAYS_EMA - 1).all()
    assert assessments["prompt"].isna().all() and ema["prompt"].notna().all()
    assert data["value"].dtype == np.float64
    # one arm per dyad, consistent everywhere
    assert (data.groupby("dyad_id")["arm"].nunique() == 1).all()
    assert trial.results["arms"] == {"MORE": 30, "TAU": 30}


def test_dropout_makes_later_values_missing_and_never_baseline(trial, no_dropout):
    a, b = trial.data, no_dropout.data
    assert a[["dyad_id", "timepoint", "day", "instrument", "prompt"]].equals(
        b[["dyad_id", "timepoint", "day", "instrument", "prompt"]])
    drop = trial.latent["dropout_day"].to_series().reindex(a["dyad_id"]).to_numpy()
    lost = (a["day"].to_numpy() > drop) & (a["timepoint"] != "baseline").to_numpy()
    assert lost.sum() > 0, "expected some dyads lost to follow-up"
    assert a.loc[lost, "value"].isna().all()
    keep = ~lost
    pd.testing.assert_series_equal(a.loc[keep, "value"], b.loc[keep, "value"])
    base = a["timepoint"] == "baseline"
    pd.testing.assert_series_equal(a.loc[base, "value"], b.loc[base, "value"])
    assert (a["value"].isna() & ~base).sum() > (b["value"].isna() & ~base).sum()
    assert trial.results["dropout"]["by_timepoint"]["baseline"] == 0.0
    assert trial.results["dropout"]["overall"] > 0
    assert no_dropout.results["dropout"]["overall"] == 0.0
    assert math.isinf(float(no_dropout.latent["dropout_day"].max()))


def test_same_spec_and_seed_give_identical_results(trial):
    again = run_trial(base_spec())
    assert again.data.equals(trial.data)
    assert again.results == trial.results
    assert again.latent.identical(trial.latent)
    other = run_trial(base_spec(), seed=8)
    assert not other.data["value"].equals(trial.data["value"])


def test_replicates_are_other_dyads(trial):
    r1 = run_trial(base_spec(), replicate=1)
    assert sorted(r1.data["dyad_id"].unique()) == list(range(N, 2 * N))
    assert sorted(r1.latent["dyad"].values) == list(range(N, 2 * N))
    assert replicate_seed_sequence(7, 3).spawn_key == np.random.SeedSequence(7).spawn(5)[3]\
        .spawn_key


def test_latent(trial, calls):
    lat = trial.latent
    assert set(lat["dyad"].values) == set(range(N))
    assert lat.sizes["time"] == 89 and int(lat["time"][0]) == -29 and int(lat["time"][-1]) == 59
    for v in ("craving", "mindfulness", "moud", "opioid_use", "arm", "dropout_day"):
        assert v in lat
    arms = dict(zip(lat["dyad"].values, lat["arm"].values, strict=True))
    first = trial.data.drop_duplicates("dyad_id")
    assert all(arms[d] == a for d, a in zip(first["dyad_id"], first["arm"], strict=True))
    # MORE trains mindfulness: the latent rises in MORE only
    m = lat["mindfulness"].sel(time=55) - lat["mindfulness"].sel(time=0)
    assert float(m.where(lat["arm"] == "MORE").mean()) > float(m.where(lat["arm"] == "TAU")
                                                               .mean()) + 0.05
    params = json.loads(lat.attrs["parameters"])
    assert set(params) == {"MORE", "TAU"}
    stages = {c[0] for c in calls}
    assert {"simulating", "analysing"} <= stages


def test_every_analysis_method_runs(trial):
    res = trial.results
    for a in parse_spec(base_spec()).analysis:
        r = res[a.name]
        assert r["error"] is None, (a.name, r["error"])
        assert r["method"] == a.method and r["effect"] == a.effect
        assert math.isfinite(r["estimate"]), a.name
        # a ratio's CI by test inversion is unbounded (null in JSON) when the control risk
        # is not distinguishable from 0, and says so
        upper = math.inf if r["flags"].get("ci_unbounded") else r["ci_upper"]
        assert r["ci_lower"] <= r["estimate"] <= upper, a.name
        assert isinstance(r["detail"], dict)
    assert res["not_misusing"]["detail"]["complete_case"]["arms"]["MORE"]["n"] > 0
    # primary ITT by multiple imputation, with a tipping-point analysis next to it
    for name in ("ffmq_post", "misuse_post", "comm_change", "not_misusing", "ffmq_pre_post"):
        assert res[name]["missing_data"].startswith("multiple imputation"), name
        mi = res[name]["detail"]["multiple_imputation"]
        assert mi["m"] == 20 and mi["n_imputed"] > 0, name  # dropout leaves gaps
        assert res[name]["sensitivity"]["grid"][0]["delta"] == 0.0, name
    assert res["mediation_craving"]["detail"]["complete_case"]["n_boot"] == 100
    med = res["mediation_craving"]
    assert med["missing_data"].startswith("multiple imputation")
    assert med["detail"]["multiple_imputation"]["n_imputed"] > 0
    # ... and its tipping point: treated dropouts' mediator and outcome, each in its own SD
    assert set(med["sensitivity"]["shift_per_sd"]) == {"ema_craving", "comm"}
    assert med["sensitivity"]["grid"][0]["estimate"] == pytest.approx(med["estimate"])
    assert len({round(g["estimate"], 9) for g in med["sensitivity"]["grid"]}) > 1
    # EMA and Cox analyses carry their own delta-adjusted tipping point
    for name, unit in (("craving_ema", "SD"), ("first_use", "log hazard")):
        tip = res[name]["sensitivity"]
        assert "delta-adjusted" in res[name]["missing_data"], name
        assert tip["grid"][0]["delta"] == 0.0 and unit in tip["delta_unit"], name
        assert len({round(g["estimate"], 9) for g in tip["grid"]}) > 1, name  # delta moves it
    # every estimate says what it estimates and how missing data were handled
    for a in parse_spec(base_spec()).analysis:
        assert res[a.name]["estimand"] and res[a.name]["missing_data"], a.name
    assert "complete-case BCa" in res["mediation_craving"]["missing_data"]
    assert "censored at loss to follow-up" in res["first_use"]["missing_data"]
    json.dumps(trial.to_dict(), allow_nan=False)


def test_time_to_first_use_excludes_dyads_using_at_day_0(trial):
    # a dyad using on study day 0 is not at risk of a *first* use after randomisation
    cox = trial.results["first_use"]
    using_day0 = int((trial.latent["opioid_use"].sel(time=0).values > 0).sum())
    assert using_day0 > 0  # the methadone population has some current use
    assert cox["detail"]["n_excluded_not_eligible"] == using_day0
    assert cox["detail"]["n"] == N - using_day0
    assert "not using at study day 0" in cox["estimand"]


def test_strong_effect_detected_in_the_right_direction():
    big = run_trial(base_spec(n=400))
    r = big.results
    assert r["ffmq_post"]["estimate"] > 1.0 and r["ffmq_post"]["p"] < 1e-6
    assert r["ffmq_lmm"]["estimate"] > 0 and r["ffmq_lmm"]["significant"]
    assert r["ffmq_pre_post"]["estimate"] > 1.0
    assert r["craving_ema"]["estimate"] < 0  # less craving with MORE


def test_stratified_randomisation_runs_and_balances():
    d = base_spec()
    d["randomization"] = {"method": "stratified", "block_size": 2, "strata": ["craving"]}
    a = run_trial(d)
    b = run_trial(d)
    assert a.data.equals(b.data)
    n = a.results["arms"]
    assert abs(n["MORE"] - n["TAU"]) <= 2
    # the strata: craving at study day 0 of a run without intervention, split at the median
    spec = parse_spec(d)
    values = trial_mod._baseline_strata(spec, plan_trial(spec), np.arange(N), None)
    codes = stratum_codes(values)
    assert sorted(np.bincount(codes).tolist()) == [N // 2, N // 2]
    arm = a.latent["arm"].to_series().sort_index().to_numpy()
    for c in (0, 1):
        counts = [(arm[codes == c] == x).sum() for x in ("MORE", "TAU")]
        assert abs(counts[0] - counts[1]) <= 1, counts  # blocks of 2 within each stratum


@pytest.fixture(scope="module")
def rep_serial():
    return run_replicates(base_spec(n=40), 3, workers=1)


def test_replicates_identical_whatever_the_executor(rep_serial):
    spec = base_spec(n=40)
    pool = run_replicates(spec, 3, workers=2)  # default: ProcessPoolExecutor ("spawn")
    with cf.ThreadPoolExecutor(max_workers=2) as ex:
        threads = run_replicates(spec, 3, executor=ex)
    assert pool == rep_serial
    assert threads == rep_serial
    one = run_trial(spec, replicate=1)
    for name, a in rep_serial["analyses"].items():
        assert a["replicates"][1]["estimate"] == one.results[name]["estimate"], name
        assert [r["replicate"] for r in a["replicates"]] == [0, 1, 2]
        assert a["summary"]["n"] == 3


def test_replicate_summaries(rep_serial):
    assert rep_serial["replicates"] == 3 and rep_serial["n"] == 40
    assert "spawn" in rep_serial["seed_derivation"]
    ffmq = rep_serial["analyses"]["ffmq_post"]
    assert ffmq["summary"]["mean"] > 1.0 and ffmq["share_significant"] == 1.0
    assert set(ffmq["summary"]) >= {"mean", "sd", "q025", "q975", "power"}
    # fit problems of the mixed models are carried into every replicate and counted
    lmm = rep_serial["analyses"]["ffmq_lmm"]
    assert all({"converged", "boundary", "fallback"} <= set(r["flags"])
               for r in lmm["replicates"])
    assert lmm["fit_flags"]["n_boundary"] == sum(r["flags"]["boundary"]
                                                 for r in lmm["replicates"])
    table = replicates_table(rep_serial)
    assert len(table) == 3 * len(rep_serial["analyses"])
    assert set(table.columns) >= {"replicate", "analysis", "estimate", "p", "significant"}
    json.dumps(rep_serial, allow_nan=False)
    sub = run_replicates(base_spec(n=40), 2, workers=1, analyses=["ffmq_post"])
    assert list(sub["analyses"]) == ["ffmq_post"]
    assert sub["analyses"]["ffmq_post"]["replicates"][:2] == ffmq["replicates"][:2]
    with pytest.raises(TrialSpecError, match="unknown analysis"):
        run_replicates(base_spec(n=40), 2, workers=1, analyses=["nope"])


def test_write_trial(trial, tmp_path, monkeypatch):
    monkeypatch.setattr(output_mod, "_git_commit", lambda: None)
    out = tmp_path / "trial"
    write_trial(trial, out)
    assert sorted(p.name for p in out.iterdir()) == [
        ".dyadsim-output", "data.parquet", "latent.nc", "manifest.json", "results.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trial"]  # no temp folder left
    back = pd.read_parquet(out / "data.parquet")
    pd.testing.assert_frame_equal(back, trial.data, check_dtype=False)
    with xr.open_dataset(out / "latent.nc", engine="h5netcdf") as lat:
        assert lat.sizes == trial.latent.sizes
        np.testing.assert_array_equal(lat["craving"].values, trial.latent["craving"].values)
    results = json.loads((out / "results.json").read_text())
    assert results["results"]["ffmq_post"]["estimate"] == trial.results["ffmq_post"]["estimate"]
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 7 and man["replicate"] == 0 and man["git_commit"] is None
    assert man["spec"]["trial"]["name"] == "test_more_vs_tau"
    assert set(man["parameters"]) == {"MORE", "TAU"}
    assert len(man["parameters"]["MORE"]) > 100
    assert man["dyadsim_version"]
    with pytest.raises(FileExistsError):
        write_trial(trial, out)
    write_trial(trial, out, force=True)
    assert (out / "results.json").exists()
