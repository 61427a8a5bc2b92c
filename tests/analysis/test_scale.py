"""Scale-out: a Dask LocalCluster gives the same knock-out table and sensitivity outputs as
a serial local run with the same seed (tasks depend only on their inputs)."""

import numpy as np
import pandas as pd
import pytest

from dyadsim.analysis import sensitivity as sa
from dyadsim.analysis.knockout import plan_knockouts, run_knockouts
from dyadsim.engine.batch import Setting
from dyadsim.parallel import executor

SETTING = Setting.from_population("pregnant_oud_moud", start="gw20", horizon="2m")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as c:
        yield c


def test_knockouts_on_a_local_cluster_equal_the_serial_run(cluster):
    kos = plan_knockouts(["craving->opioid_use", "negative_affect->craving"],
                         ["addiction_cycle"])
    outs = ["use_share", "craving"]
    serial = run_knockouts(SETTING, kos, outs, dyads=24, seed=2)
    with executor(cluster.scheduler_address) as pool:
        dask = run_knockouts(SETTING, kos, outs, dyads=24, seed=2, pool=pool, block=1)
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)
    assert (serial["effect"] != 0).any()


def test_sensitivity_blocks_on_a_local_cluster_equal_the_serial_run(cluster):
    names = ["craving->opioid_use", "craving.tau"]
    x = sa.sample(sa.problem(names), "sobol", 2, seed=5)
    block = sa.ModelBlock(SETTING, names, ["use_share"], dyads=16, seed=5)
    serial = sa.evaluate(x, block, checkpoint=None, block=len(x))
    with executor(cluster.scheduler_address) as pool:
        dask = sa.evaluate(x, block, checkpoint=None, pool=pool, block=3)
    assert np.array_equal(serial, dask)


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"), \
            executor("tcp://127.0.0.1:1"):
        pass


def _small_trial():
    import tomllib
    from pathlib import Path

    spec = tomllib.loads(Path("examples/prenatal_more_trial.toml").read_text())
    spec["trial"].update(horizon="1m", n=24)
    spec["randomization"] = {"method": "simple"}
    spec["arms"] = [a for a in spec["arms"] if a["name"] != "MORE_postpartum"]
    spec["assessments"] = spec["assessments"][:2]
    spec["analysis"] = [a for a in spec["analysis"] if a["name"] == "opioid_use_days"]
    spec.pop("ema", None)
    return spec


def test_power_curve_on_a_local_cluster_equals_the_serial_run(cluster):
    from dyadsim.trials.power import power_curve

    serial = power_curve(_small_trial(), ns=[24], replicates=2, workers=1)
    with executor(cluster.scheduler_address) as pool:
        dask = power_curve(_small_trial(), ns=[24], replicates=2, executor=pool)
    assert serial == dask
