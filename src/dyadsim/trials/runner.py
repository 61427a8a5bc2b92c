"""The public entry points of in-silico trials, gathered from the modules of each step:
:func:`run_trial` (:mod:`.trial`: one trial), :func:`run_replicates` (:mod:`.replicates`:
many, with honest power), :func:`write_trial` (:mod:`.output`); measurement and loss to
follow-up are in :mod:`.measurement`, the analyses in :mod:`.methods`."""

from .measurement import DATA_COLUMNS
from .output import manifest, replicates_table, write_trial
from .replicates import run_replicates
from .trial import SEED_DERIVATION, TrialResult, replicate_seed_sequence, run_trial

__all__ = [
    "DATA_COLUMNS",
    "SEED_DERIVATION",
    "TrialResult",
    "manifest",
    "replicate_seed_sequence",
    "replicates_table",
    "run_replicates",
    "run_trial",
    "write_trial",
]
