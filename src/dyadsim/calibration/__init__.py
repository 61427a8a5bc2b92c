"""Calibration targets, their replication as the studies were run, and validation against
them (issue 8). The calibration itself (fitting a posterior) writes the posterior file
format defined in :mod:`dyadsim.uncertainty.prior`; see ``docs/calibration.md``."""

from ..uncertainty.prior import Posterior, PosteriorError, load_posterior, prior_draws
from .replicate import ReplicationStore, replicate_study, studies_of
from .targets import TargetError, TargetSet, load_targets, observed_se, se_from_ci
from .validate import crps_fair, passes, run_validation

__all__ = [
    "Posterior",
    "PosteriorError",
    "ReplicationStore",
    "TargetError",
    "TargetSet",
    "crps_fair",
    "load_posterior",
    "load_targets",
    "observed_se",
    "passes",
    "prior_draws",
    "replicate_study",
    "run_validation",
    "se_from_ci",
    "studies_of",
]
