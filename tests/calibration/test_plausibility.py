"""The shipped plausibility constraints (data/targets/plausibility.toml): check-table rows
written as calibration targets (issue 19 item 3)."""

import math
import tomllib

import pytest

from dyadsim.calibration.replicate import replicate_study, studies_of
from dyadsim.calibration.targets import (
    TargetError,
    load_targets,
    merge_targets,
    parse_targets,
    plausibility_targets_path,
)
from dyadsim.reports.checks import CHECKS


def test_every_constraint_is_a_check_row_with_its_range():
    by_id = {c.id: c for c in CHECKS}
    ts = load_targets(plausibility_targets_path())
    assert len(ts) >= 6
    for t in ts:
        assert t.id in by_id, t.id
        assert t.observed.interval == [by_id[t.id].lo, by_id[t.id].hi], t.id


def test_plausibility_joins_the_published_targets():
    published = load_targets()
    both = load_targets(plausibility=True)
    assert [t.id for t in both][:len(published)] == [t.id for t in published]
    assert len(both) == len(published) + len(load_targets(plausibility_targets_path()))
    assert both.hash != published.hash and both.hash == load_targets(plausibility=True).hash
    with pytest.raises(TargetError, match="duplicate target id across the merged"):
        merge_targets(published, published)


def test_the_untreated_cohort_rows_replicate():
    """The use-share and overdose rates (one cohort, one study) on a small cohort: finite,
    and the use share a share of days."""
    data = tomllib.loads(plausibility_targets_path().read_text())
    rows = [t for t in data["target"] if t["id"] in ("use_share_untreated", "overdose_py")]
    for t in rows:
        t["cohort"]["n"] = 40
    (study,) = studies_of(parse_targets({"target": rows}))
    got = replicate_study(study, {}, seed=1)
    assert 0 < got["use_share_untreated"] <= 1
    assert got["overdose_py"] is not None and math.isfinite(got["overdose_py"])


def test_a_category_contrast_between_populations_is_the_ratio_of_shares():
    """disorganized_ratio_oud on small cohorts equals the ratio of the disorganized shares
    among classified infants of two simulate runs with the same seed (a class coded once;
    'none', no class, left out)."""
    import numpy as np

    from dyadsim import simulate

    data = tomllib.loads(plausibility_targets_path().read_text())
    (row,) = [t for t in data["target"] if t["id"] == "disorganized_ratio_oud"]
    row["cohort"]["n"] = row["reference"]["n"] = 80
    (study,) = studies_of(parse_targets({"target": [row]}))
    got = replicate_study(study, {}, seed=3)["disorganized_ratio_oud"]

    def share(preset):
        cls = simulate({"population": {"preset": preset}}, dyads=80, seed=3, start="gw20",
                       horizon="13m", record="none")["attachment_class"].values
        cls = cls[cls != "none"]
        return float(np.mean(cls == "disorganized"))

    assert got == pytest.approx(share("pregnant_oud_moud") / share("low_risk_mothers"))
    assert got > 1
