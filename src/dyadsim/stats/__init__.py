"""Statistics shared by the in-silico trials and calibration (architecture: effect sizes,
odds ratios, tests of two proportions): one implementation of each, used by
:mod:`dyadsim.trials.analysis`, :mod:`dyadsim.trials.methods` and
:mod:`dyadsim.calibration.statistics`; multiple imputation, Rubin's rules and the
tipping-point grids (:mod:`.missing`), the MMRM (:mod:`.mmrm`) and standardised binary
effects (:mod:`.binary`)."""

from .effect_sizes import (
    hedges_j,
    odds_ratio_cells,
    standardized_difference,
    two_proportion_test,
)

__all__ = ["hedges_j", "odds_ratio_cells", "standardized_difference", "two_proportion_test"]
