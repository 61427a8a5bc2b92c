"""Long work resumes after a crash with nothing lost: replicates are checkpointed as they
finish, a restarted run computes only the missing ones, and the result equals an
uninterrupted run's."""

import json

import pytest

from dyadsim.trials import replicates as replicates_mod
from dyadsim.trials.design import TrialSpecError
from dyadsim.trials.runner import run_replicates

from .test_design import base_spec

R = 6


class Crash(RuntimeError):
    pass


def test_interrupted_replicates_resume_to_the_same_result(tmp_path, monkeypatch):
    spec = base_spec()
    fresh = run_replicates(spec, R, workers=1)

    ckpt = tmp_path / "ckpt"

    def crash_after_three(stage, done, total):
        if stage == "analysing" and done == 3:
            raise Crash("simulated crash")

    with pytest.raises(Crash):
        run_replicates(spec, R, workers=1, checkpoint=ckpt, progress=crash_after_three)
    saved = sorted(p.name for p in ckpt.glob("rep-*.json"))
    assert saved == [f"rep-{r:06d}.json" for r in range(3)]

    computed = []
    real = replicates_mod.analyse_replicate

    def counting(spec_, r, *a, **k):
        computed.append(r)
        return real(spec_, r, *a, **k)

    monkeypatch.setattr(replicates_mod, "analyse_replicate", counting)
    resumed = run_replicates(spec, R, workers=1, checkpoint=ckpt)
    assert sorted(computed) == [3, 4, 5]
    assert json.dumps(resumed, sort_keys=True) == json.dumps(fresh, sort_keys=True)


def test_a_checkpoint_of_another_spec_is_refused(tmp_path):
    spec = base_spec()
    ckpt = tmp_path / "ckpt"
    run_replicates(spec, 2, workers=1, checkpoint=ckpt)
    other = base_spec()
    other["trial"]["seed"] = other["trial"]["seed"] + 1
    with pytest.raises(TrialSpecError, match="belongs to another trial spec"):
        run_replicates(other, 2, workers=1, checkpoint=ckpt)
