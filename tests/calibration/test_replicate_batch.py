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


def test_a_replication_runs_none_of_the_code_left_out_of_its_hash(tmp_path):
    """The store's key hashes the source a replication can depend on; the modules left out
    (NOT_REPLICATION_CODE: the fit, the sampler, validation, the CLI, ...) must not run
    during one, or a change to them could change a stored result unnoticed. A fresh
    process (nothing compiled or cached) records the file of every Python call made while a
    replication runs."""
    import json
    import subprocess
    import sys

    p = tmp_path / "t.toml"
    p.write_text(COHORT)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import dyadsim\n"
        "from dyadsim.calibration import load_targets\n"
        "from dyadsim.calibration.replicate import NOT_REPLICATION_CODE, replicate_batch, "
        "studies_of\n"
        f"(study,) = studies_of(load_targets({str(p)!r}))\n"
        "root = Path(dyadsim.__file__).resolve().parent\n"
        "files = set()\n"
        "sys.setprofile(lambda frame, event, arg: files.add(frame.f_code.co_filename)\n"
        "               if event == 'call' else None)\n"
        "replicate_batch(study, [{}], [3])\n"
        "sys.setprofile(None)\n"
        "ours = [str(Path(f).resolve().relative_to(root)) for f in files\n"
        "        if Path(f).resolve().is_relative_to(root)]\n"
        "print(json.dumps([len(ours), [f for f in ours if f.startswith(NOT_REPLICATION_CODE)]]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    n_files, excluded = json.loads(out.stdout.strip().splitlines()[-1])
    assert n_files > 10  # the replication ran through the model, engine and statistics
    assert excluded == []
