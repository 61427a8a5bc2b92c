"""Measurement layer: how a trial observes the simulator's latent states.

Every instrument turns latent node values into what a cited study would have recorded: a
score on the instrument's own scale, with measurement error, floor and ceiling, rounding
and missing data. Facts (scales, reliabilities, means, cut-offs, compliance) come from
``shared/reference/instruments.md`` unless a ``source`` says otherwise; every number that
is not sourced is named in the instrument's ``guess`` text.

Modules: :mod:`.kinds` (the kinds of instrument: how each turns latents into
observations), :mod:`.items` (multi-item questionnaires answered item by item from a
graded-response model, and their observable alpha, omega and parallel-forms r; the
generated :mod:`.item_parameters`), :mod:`.catalogue` (the instruments, as data),
:mod:`.scoring` (published cut-offs and decision rules), :mod:`.calibrate`
(reference-population calibration and the published-vs-realised check behind
``dyadsim instruments --check``) and the generated :mod:`.calibrated` (the calibrated
constants).

Inputs
------
Latent nodes are floats in [0, 1] (0 = absent/low, 1 = maximal) except ``opioid_use``,
``overdose`` and ``cps_report`` (daily 0/1 events), ``moud`` (0 off, (0, 1] dose coverage)
and ``attachment_class`` (one of :data:`ATTACHMENT_CLASSES` per dyad). For an instrument
with ``series=False`` the caller passes, for each name in ``reads``, the per-dyad mean of
that latent over the last ``window_days`` days, shape ``(n,)``. For ``series=True`` the
caller passes the daily series, shape ``(n, days)`` with ``days >= window_days``; the last
``window_days`` columns (the last column is the assessment day) are used. ``NaN`` inputs
give ``NaN`` observations.

Scores (:class:`ScaleScore`)
----------------------------
The reads are combined into a composite ``c`` in [0, 1]: a weighted mean of the reads,
with a read entering as ``1 - x`` when its weight is negative (a reversed read). Most
scores are reference-scaled: each declares a reference population (a preset standing for
the sample its published figures describe) and its figures there (a :class:`Norm`: mean,
SD, reliability, test-retest range and interval, and which of them are published). The
composite is standardised in that population (``z = (c - m) / s``, with ``m`` and ``s``
calibrated by simulation) and mapped to ``mean + sqrt(reliability) * SD * z``; the error is
``N(0, sqrt(1 - reliability) * SD)`` (classical test theory). So in the reference population
the observed SD is the published SD and the true-score share of the observed variance is
the published reliability; test-retest then follows from how much the latent itself
persists over the interval, and is checked, not tuned. A score whose published figure is
its error (Finnegan's inter-rater SD) keeps a declared two-anchor line instead. Log-link
scores (cortisol) do the same on the log scale. Observations are clipped to ``scale`` and
rounded to the scale's resolution (1 for integer scales, 5 for ASQ-3), then each is
missing with probability ``missing_rate``.

Item scales (:class:`ItemScale`)
--------------------------------
PSS-10, COMM, FFMQ, EPDS, PBQ, KIPS and the ASQ-3 domains are answered item by item: the
composite, standardised in the reference population, is the theta of Samejima's
graded-response model; each item's response is drawn from it, reverse-keyed items are
printed the other way and reversed by the manual's key, and the total is the manual's sum
(KIPS: mean). Their reliability is not set by the map: alpha, omega and a parallel-forms r
are measured by ``dyadsim instruments --check`` (see :mod:`.items`).

Randomness: every draw comes from the ``numpy.random.Generator`` passed in; the same
generator state and inputs give identical output. Nothing here touches global state.
"""

from .catalogue import (
    ASQ3_DOMAINS,
    INSTRUMENTS,
    UDS_WINDOW_DAYS,
    UnknownInstrumentError,
    get_instrument,
    registry_table,
)
from .items import GradedResponse, ItemDesign, ItemScale
from .kinds import (
    ATTACHMENT_CLASSES,
    EVENT_NODES,
    Anchor,
    CodedClassification,
    DoseRecall,
    EMAScale,
    EventRecords,
    Instrument,
    LatentScale,
    Norm,
    NotCalibratedError,
    RetentionRecord,
    ScaleScore,
    UrineScreen,
    UseDaysRecall,
    ema_prompts,
)
from .scoring import (
    ASQ3_REFERRAL_CUTOFF,
    COMM_CUTOFF_PAIN_CLINIC,
    COMM_CUTOFF_PRIMARY_CARE,
    EPDS_CUTOFF,
    PBQ_TOTAL_CUTOFF,
    asq3_referral,
    epds_positive,
    finnegan_scores,
    finnegan_treatment_rule,
    kips_band,
    misuse_positive,
    pbq_positive,
)

__all__ = [
    "ATTACHMENT_CLASSES",
    "ASQ3_DOMAINS",
    "ASQ3_REFERRAL_CUTOFF",
    "COMM_CUTOFF_PAIN_CLINIC",
    "COMM_CUTOFF_PRIMARY_CARE",
    "EPDS_CUTOFF",
    "EVENT_NODES",
    "INSTRUMENTS",
    "PBQ_TOTAL_CUTOFF",
    "UDS_WINDOW_DAYS",
    "Anchor",
    "CodedClassification",
    "DoseRecall",
    "EMAScale",
    "EventRecords",
    "GradedResponse",
    "Instrument",
    "ItemDesign",
    "ItemScale",
    "LatentScale",
    "Norm",
    "NotCalibratedError",
    "RetentionRecord",
    "ScaleScore",
    "UnknownInstrumentError",
    "UrineScreen",
    "UseDaysRecall",
    "asq3_referral",
    "ema_prompts",
    "epds_positive",
    "finnegan_scores",
    "finnegan_treatment_rule",
    "get_instrument",
    "kips_band",
    "misuse_positive",
    "pbq_positive",
    "registry_table",
]
