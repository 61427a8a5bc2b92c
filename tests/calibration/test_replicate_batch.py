"""A batch of replications of one cohort (parameter sets and seeds per dyad, one engine
call) gives exactly what each replication gives alone (issue 8 s3: batched parameter
sets must not change results)."""

from __future__ import annotations

import pytest

from dyadsim.calibration import load_targets, prior_draws
from dyadsim.calibration.replicate import replicate_batch, replicate_study, studies_of

COHORT = """
[[target]]
id = "nows_share"
source = "Krans et al. 2021 at N=60 (test)"
statistic = "proportion"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 60
horizon = "1m"
[target.measure]
outcome = "nows"
[target.observed]
value = 0.579

[[target]]
id = "use_share"
source = "invented for this test"
statistic = "mean"
[target.cohort]
preset = "pregnant_oud_moud"
start = "gw36"
n = 60
horizon = "1m"
[target.measure]
outcome = "use_share"
[target.observed]
value = 0.2
"""


def test_a_cohort_batch_equals_its_replications_one_by_one(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text(COHORT)
    (study,) = studies_of(load_targets(p))
    assert study.kind == "cohort_sim"
    thetas = prior_draws(3, seed=5)
    seeds = [11, 12, 13]
    alone = [replicate_study(study, th, sd) for th, sd in zip(thetas, seeds, strict=True)]
    batch = replicate_batch(study, thetas, seeds)
    assert batch == alone
    assert len({v["nows_share"] for v in alone}) > 1  # the sets and seeds differ


def test_a_batch_needs_one_seed_per_set(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text(COHORT)
    (study,) = studies_of(load_targets(p))
    with pytest.raises(ValueError, match="one seed per parameter set"):
        replicate_batch(study, prior_draws(2, seed=1), [1])
