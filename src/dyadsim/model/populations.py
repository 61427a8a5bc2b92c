"""Population presets: baseline covariate and state distributions from the literature.

A preset says whether the population is pregnant (the infant sub-model runs from birth) or
an adult sample without a pregnancy (the MORE trial samples: the maternal sub-model alone),
where a run starts by default, the initial distribution of each listed node (anything not
listed starts at its resting level), MOUD access, and parameter overrides. A scenario TOML
can pick a preset and override any entry (``[population.init]``, ``[population.params]``).

Distributions: a number (fixed), ``{dist = "beta", mean, sd}``, ``{dist = "bernoulli", p}``
(0/1), ``{dist = "normal", mean, sd}`` (clipped to the node's range; ``round = true`` for
counts such as ACEs).

In ``adult_chronic_pain_ltot`` the ``prescribed_opioid`` node carries prescribed long-term
opioid therapy (its level is the dose taken, which the ``opioid_taper`` intervention
lowers), and ``opioid_use`` / ``opioid_dose`` are misuse beyond the prescription (Garland
2014, 2022 samples). The population's ``chronic_pain`` draw is each person's own pain
baseline (a dynamic state since issue 6 item 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .graph import NODE_BY_ID

DIST_KINDS = ("fixed", "beta", "bernoulli", "normal")


class PopulationError(ValueError):
    """A population preset or override is malformed."""


@dataclass(frozen=True)
class Dist:
    kind: str
    a: float = 0.0  # fixed value / mean / p
    b: float = 0.0  # sd
    round: bool = False

    def to_dict(self) -> dict | float:
        if self.kind == "fixed":
            return self.a
        if self.kind == "bernoulli":
            return {"dist": "bernoulli", "p": self.a}
        d = {"dist": self.kind, "mean": self.a, "sd": self.b}
        if self.round:
            d["round"] = True
        return d


def parse_dist(node: str, spec) -> Dist:
    """Validate one distribution entry for ``node`` (clear error naming the problem)."""
    if node not in INIT_TARGETS:
        raise PopulationError(f"unknown node or covariate {node!r} in population init")
    lo, hi = INIT_TARGETS[node]
    if isinstance(spec, bool):
        raise PopulationError(f"population init {node!r}: expected a number or a table")
    if isinstance(spec, int | float):
        if not lo <= spec <= hi:
            raise PopulationError(f"population init {node!r} = {spec} outside [{lo}, {hi}]")
        return Dist("fixed", float(spec))
    if not isinstance(spec, Mapping):
        raise PopulationError(f"population init {node!r}: expected a number or a table")
    kind = spec.get("dist")
    allowed = {"fixed": {"value"}, "beta": {"mean", "sd"}, "bernoulli": {"p"},
               "normal": {"mean", "sd", "round"}}
    if kind not in allowed:
        raise PopulationError(f"population init {node!r}: dist must be one of {DIST_KINDS}")
    extra = set(spec) - allowed[kind] - {"dist"}
    if extra:
        raise PopulationError(f"population init {node!r}: unknown key(s) {sorted(extra)}")
    missing = allowed[kind] - {"round"} - set(spec)
    if missing:
        raise PopulationError(f"population init {node!r}: missing key(s) {sorted(missing)}")
    for k in allowed[kind] - {"round"}:
        if isinstance(spec[k], bool) or not isinstance(spec[k], int | float):
            raise PopulationError(f"population init {node!r}: {k} must be a number")
    if kind == "fixed":
        return parse_dist(node, spec["value"])
    if kind == "bernoulli":
        if not 0 <= spec["p"] <= 1:
            raise PopulationError(f"population init {node!r}: p must be in [0, 1]")
        return Dist("bernoulli", float(spec["p"]))
    mean, sd = float(spec["mean"]), float(spec["sd"])
    if sd < 0:
        raise PopulationError(f"population init {node!r}: sd must be >= 0")
    if not lo <= mean <= hi:
        raise PopulationError(f"population init {node!r}: mean {mean} outside [{lo}, {hi}]")
    if kind == "beta":
        if not (0 < mean < 1) or sd**2 >= mean * (1 - mean):
            raise PopulationError(
                f"population init {node!r}: beta needs 0 < mean < 1 and sd^2 < mean(1-mean)")
    return Dist(kind, mean, sd, bool(spec.get("round", False)))


# What a population may initialise: every node, plus per-dyad covariates.
INIT_TARGETS: dict[str, tuple[float, float]] = {n: (v.lo, v.hi) for n, v in NODE_BY_ID.items()}
# Per-dyad covariates a population may set besides the nodes.
COVARIATES: dict[str, tuple[float, float, str]] = {
    "moud.offered": (0.0, 1.0, "1: MOUD available from the start (start events possible)"),
    "moud.buprenorphine": (0.0, 1.0, "1: the mother's MOUD is buprenorphine, 0: methadone"),
    "moud.days_on": (0.0, 3650.0, "days on MOUD at enrolment for a mother on it (default: "
                     "the burn-in's length, held on it throughout; issue 18 item 5)"),
    "prenatal.use_share": (0.0, 1.0, "prenatal history: share of pregnancy days with illicit "
                           "opioid use before enrolment (sets the fetal exposure carried in)"),
}
INIT_TARGETS.update({k: (lo, hi) for k, (lo, hi, _) in COVARIATES.items()})


@dataclass(frozen=True)
class Population:
    name: str
    description: str
    pregnancy: bool
    default_start: str
    init: Mapping[str, Dist]
    params: Mapping[str, float] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    # Days simulated before enrolment under the population's own conditions, so that a run
    # starts from the stationary distribution of the mother's states (model/initial.py
    # burn-in); 0: start from the drawn initial state.
    burn_in_days: int = 0
    # Nodes whose drawn initial value is imposed at enrolment, after the burn-in: a state
    # the population is in because of an event just before enrolment (after detox).
    at_enrolment: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.burn_in_days, int) or self.burn_in_days < 0:
            raise PopulationError(f"burn_in_days must be a whole number >= 0, got "
                                  f"{self.burn_in_days!r}")
        unknown = [k for k in self.at_enrolment if k not in self.init]
        if unknown:
            raise PopulationError(f"at_enrolment names {unknown[0]!r}, which the population "
                                  "does not draw (add it to init)")

    def with_overrides(self, init: Mapping | None = None,
                       params: Mapping[str, float] | None = None,
                       burn_in_days: int | None = None) -> Population:
        new_init = dict(self.init)
        for k, v in (init or {}).items():
            new_init[k] = parse_dist(k, v)
        return replace(self, init=new_init, params={**self.params, **(params or {})},
                       burn_in_days=(self.burn_in_days if burn_in_days is None
                                     else burn_in_days))

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "pregnancy": self.pregnancy, "default_start": self.default_start,
                "init": {k: d.to_dict() for k, d in self.init.items()},
                "params": dict(self.params), "sources": list(self.sources),
                "burn_in_days": self.burn_in_days, "at_enrolment": list(self.at_enrolment)}


def _pop(name, description, pregnancy, start, init, params=None, sources=(), at_enrolment=()):
    return Population(name, description, pregnancy, start,
                      {k: parse_dist(k, v) for k, v in init.items()}, params or {},
                      tuple(sources), BURN_IN_DAYS, tuple(at_enrolment))


def beta(mean, sd):
    return {"dist": "beta", "mean": mean, "sd": sd}


_OUD_CONTEXT = {
    "aces": {"dist": "normal", "mean": 4.3, "sd": 2.3, "round": True},
    "poverty": beta(0.75, 0.15),
    "polysubstance": beta(0.65, 0.2),
    "structural_barriers": beta(0.5, 0.2),
    "employment": beta(0.25, 0.15),
    "chronic_pain": beta(0.15, 0.1),
    "maternal_depression": beta(0.35, 0.2),
    "stress_sensitization": beta(0.4, 0.15),
    "allostatic_load": beta(0.35, 0.15),
    "action_schema": beta(0.6, 0.15),
    "drug_reward_salience": beta(0.5, 0.15),
    "natural_reward_responsiveness": beta(0.55, 0.15),
}
# Gestation at birth is drawn from gestation.mean_weeks / sd_weeks and clipped to the weeks
# in which births occur in perinatal OUD cohorts (late preterm to post-term; ACOG 2013
# definitions: 34 weeks late preterm, 42 weeks post-term).
GESTATION_RANGE_WEEKS = (34, 42)
# The burn-in length that makes a run start stationary: the slow maternal states (allostatic
# load tau 180 d, drug salience and stress sensitization falling over a year) settle under
# the preset's conditions. A numerical setting, not a model parameter: after 365 days an
# untreated arm's maternal means move less than 0.02 over 8 weeks, after 182 days up to
# 0.025 (session 13; tests/model/test_burn_in.py). Every preset burns in for this long by
# default (engine/burn_in.py: once per unique dyad, cached); `burn_in_days = 0` (simulate()
# or `[population]`) starts from the drawn initial state instead.
BURN_IN_DAYS = 365
# Which MOUD a mother takes: Krans 2019 (Pennsylvania Medicaid): buprenorphine 27.1%,
# methadone 28.8% of pregnancies with OUD -> 0.485 of those on MOUD take buprenorphine.
_MOUD_DRUG = {"moud.buprenorphine": {"dist": "bernoulli", "p": 0.485}}
# The state after a completed inpatient detoxification: residual dependence and withdrawal
# at the level the dependence alone sustains (no injected withdrawal), tolerance lost.
_AFTER_DETOX = {
    "physical_dependence": beta(0.12, 0.06),
    "tolerance": beta(0.05, 0.03),
    "withdrawal": beta(0.04, 0.02),
    "stress_sensitization": beta(0.5, 0.15),
}
_OUD_SOURCES = (
    "Gannon 2021: ACEs 4.3 (SD 2.3), range 0-8, in 152 pregnant women with OUD",
    "mechanisms.md s6: Medicaid 75-85%; polysubstance 60-80%; major depression 30-40%",
    "employment 0.25 (SD 0.15): guess, a minority of perinatal OUD samples work (Medicaid "
    "75-85%)",
    "mechanisms.md s2: anhedonia clinically significant in 21-48% of OUD samples",
    "Krans 2019: buprenorphine 27.1%, methadone 28.8% of pregnancies with OUD",
    "prenatal.use_share (the prenatal history carried into the fetal exposure): the typical "
    "mother's share of pregnancy use days, set so the history matches the simulated use at "
    "default parameters and the enrolment week does not change NOWS (guess)",
)

PRESETS: dict[str, Population] = {
    p.name: p for p in (
        _pop("pregnant_oud_moud", "Pregnant women with OUD on MOUD (methadone or "
             "buprenorphine), enrolled at gestational week 20", True, "gw20",
             {**_OUD_CONTEXT, "moud": 1.0, "moud.offered": 1.0, **_MOUD_DRUG,
              "prenatal.use_share": 0.02,
              "physical_dependence": beta(0.8, 0.1), "tolerance": beta(0.6, 0.15)},
             sources=_OUD_SOURCES + ("Schiff 2021: 64% still on MOUD 12 months postpartum",)),
        _pop("pregnant_oud_no_moud", "Pregnant women with OUD not on MOUD at enrolment "
             "(MOUD available), gestational week 20", True, "gw20",
             {**_OUD_CONTEXT, "moud": 0.0, "moud.offered": 1.0, **_MOUD_DRUG,
              "prenatal.use_share": 0.12,
              "physical_dependence": beta(0.7, 0.15), "tolerance": beta(0.7, 0.15)},
             sources=_OUD_SOURCES),
        _pop("postpartum_oud", "Mothers with OUD enrolled at delivery; half on MOUD",
             True, "pp0",
             {**_OUD_CONTEXT, "moud": {"dist": "bernoulli", "p": 0.5}, "moud.offered": 1.0,
              **_MOUD_DRUG, "prenatal.use_share": 0.06,
              "physical_dependence": beta(0.75, 0.1), "tolerance": beta(0.6, 0.15),
              "prenatal_bonding": beta(0.45, 0.15)},
             sources=_OUD_SOURCES + ("mechanisms.md s6: MOUD in pregnancy 45-56%",)),
        _pop("adult_chronic_pain_ltot", "Adults with chronic pain on long-term opioid "
             "therapy who misuse opioids (Garland 2014, 2019, 2022 samples); no pregnancy",
             False, "day0",
             {"aces": {"dist": "normal", "mean": 2.5, "sd": 2.0, "round": True},
              "poverty": beta(0.45, 0.2), "polysubstance": beta(0.3, 0.15),
              "structural_barriers": beta(0.3, 0.15), "chronic_pain": beta(0.65, 0.15),
              "employment": beta(0.35, 0.2),
              "maternal_depression": beta(0.35, 0.2), "moud": 0.0, "moud.offered": 0.0,
              "prescribed_opioid": 1.0,
              "physical_dependence": beta(0.8, 0.1), "tolerance": beta(0.8, 0.1),
              "action_schema": beta(0.45, 0.15), "drug_reward_salience": beta(0.4, 0.15),
              "natural_reward_responsiveness": beta(0.5, 0.15),
              "stress_sensitization": beta(0.4, 0.15), "allostatic_load": beta(0.4, 0.15)},
             sources=("Garland 2014: N=115, age 48, 68% female, chronic pain on LTOT",
                      "Garland 2022: N=250, primary care, LTOT",
                      "employment 0.35 (SD 0.2): guess, many adults with chronic pain on LTOT "
                      "are out of work or on disability",
                      "the prescribed opioid is its own node (prescribed_opioid, issue 18 "
                      "item 9), started at the full prescription; no MOUD (not offered)")),
        _pop("adult_methadone", "Adults with OUD in methadone maintenance (Cooperman 2021 "
             "sample); no pregnancy", False, "day0",
             {**_OUD_CONTEXT, "chronic_pain": beta(0.5, 0.2), "moud": 1.0,
              "moud.offered": 1.0, "physical_dependence": beta(0.8, 0.1),
              "tolerance": beta(0.6, 0.15)},
             params={"moud.stop_logit": -7.5, "moud.stop_early_logit": 0.0},
             sources=_OUD_SOURCES + ("Cooperman 2021: N=30, methadone, age 48.8",)),
        _pop("adult_after_detox", "Adults with OUD leaving inpatient detoxification "
             "(Smyth 2010 sample): abstinent, no MOUD; no pregnancy", False, "day0",
             {**_OUD_CONTEXT, "moud": 0.0, "moud.offered": 0.0, "opioid_use": 0.0,
              **_AFTER_DETOX},
             at_enrolment=("opioid_use", "physical_dependence", "tolerance", "withdrawal"),
             sources=_OUD_SOURCES + (
                 "Smyth 2010: 59% used within a week of leaving detoxification, 71% within "
                 "a month, 91% overall",
                 "after detox the state is internally consistent: dependence tapered down "
                 "with the detox, withdrawal resolved (mechanisms.md s1b: acute phase over "
                 "by 4-10 d) and tolerance lost (passes off over 3-14 d); the habit, drug "
                 "salience and sensitization remain (cue reactivity persists > 1 year)")),
        _pop("low_risk_mothers", "Pregnant women without substance use (the low-risk "
             "reference for attachment distributions)", True, "gw20",
             {"aces": {"dist": "normal", "mean": 1.2, "sd": 1.4, "round": True},
              "poverty": beta(0.3, 0.2), "polysubstance": beta(0.05, 0.04),
              "structural_barriers": beta(0.2, 0.1), "chronic_pain": beta(0.1, 0.08),
              "employment": beta(0.6, 0.2),
              "maternal_depression": beta(0.15, 0.1), "moud": 0.0, "moud.offered": 0.0,
              "action_schema": 0.0, "physical_dependence": 0.0, "tolerance": 0.0,
              "drug_reward_salience": beta(0.1, 0.05),
              "natural_reward_responsiveness": beta(0.75, 0.1),
              "stress_sensitization": beta(0.15, 0.08), "allostatic_load": beta(0.15, 0.08)},
             params={"opioid_use.bias": -9.9, "drug_cue.bias": -9.0},
             sources=("Ainsworth 1978; van IJzendoorn 1999 (attachment base rates)",
                      "guess: ACEs mean 1.2 (SD 1.4), well below the 4.3 of OUD samples",
                      "employment 0.6 (SD 0.2): guess, most women of childbearing age in work")),
    )
}


def get_population(name: str) -> Population:
    if name not in PRESETS:
        raise PopulationError(f"unknown population {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]
