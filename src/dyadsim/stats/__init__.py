"""Statistics shared by the in-silico trials and calibration (architecture: effect sizes,
odds ratios, tests of two proportions): one implementation of each, used by
:mod:`dyadsim.trials.analysis`, :mod:`dyadsim.trials.methods` and
:mod:`dyadsim.calibration.statistics`. Multiple imputation and Rubin's rules live in
:mod:`dyadsim.trials.missing`."""

from .effect_sizes import (
    hedges_j,
    odds_ratio_cells,
    standardized_difference,
    two_proportion_test,
)

__all__ = ["hedges_j", "odds_ratio_cells", "standardized_difference", "two_proportion_test"]
