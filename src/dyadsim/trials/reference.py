"""The trial-spec reference, ``docs/trial-spec.md``, generated from the schema (the pydantic
models of :mod:`.spec`) and the catalogues a spec names (presets, interventions,
instruments, methods, events), so it cannot drift from what :func:`load_spec` accepts
(``tests/trials/test_reference.py`` fails when the committed file differs).

``python -m dyadsim.trials.reference > docs/trial-spec.md`` (or ``make docs``) rewrites it.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .spec import TrialSpec

#: Every key of the schema: (what it means, an example value as TOML). A key of the
#: models missing here (or one here the models lack) makes :func:`render` fail.
KEYS: dict[str, tuple[str, str]] = {
    "trial.name": ("Short name of the trial (letters, digits, `_ - . +`).", '"more_vs_tau"'),
    "trial.citation": ("Where the design comes from (a paper, or your own name).",
                       '"Garland 2014, J Consult Clin Psychol"'),
    "trial.description": ("One sentence on the trial, shown in reports.",
                          '"MORE vs TAU in methadone maintenance"'),
    "trial.n": ("Dyads randomised (all arms together).", "120"),
    "trial.seed": ("Seed of the whole trial: same seed, same data.", "2021"),
    "trial.horizon": ("How long the study runs: days, or `\"24m\"`, `\"40w\"`, `\"90d\"`; "
                      "after birth for a population with a pregnancy, after the start "
                      "otherwise.", '"12m"'),
    "trial.run_in_days": ("Days simulated before study day 0 so a baseline can look back "
                          "(default: the longest look-back of the assessments).", "30"),
    "trial.alpha": ("Significance level of every analysis.", "0.05"),
    "population.preset": ("A population preset (`dyadsim populations`).",
                          '"adult_methadone"'),
    "population.start": ("Study day 0: `gwN` (gestational week), `ppN`/`ppNw` (postpartum "
                         "day/week) or `day0` (no pregnancy); default: the preset's.",
                         '"gw20"'),
    "population.init": ("Initial-state overrides of the preset (node = value or "
                        "distribution table).", "{ craving = 0.5 }"),
    "population.params": ("Parameter overrides (`dyadsim params`); quote dotted names.",
                          '{ "craving.tau" = 10.0 }'),
    "randomization.method": ("How dyads are allocated.", '"permuted_block"'),
    "randomization.block_size": ("Block size (permuted_block, stratified): a multiple of "
                                 "the sum of the allocation ratios.", "4"),
    "randomization.strata": ("1-4 nodes to stratify on (stratified only; `dyadsim graph`).",
                             '["aces"]'),
    "arms.name": ("Arm name (used by the analyses' treatment/control).", '"MORE"'),
    "arms.interventions": ("Interventions every dyad of the arm receives "
                           "(`dyadsim interventions`).", '["more"]'),
    "arms.allocation": ("Allocation ratio (integer).", "1"),
    "arms.start": ("When the arm's interventions start: `gwN`, `ppN`/`ppNw` or `dayN` (a "
                   "start after the horizon is an error).", '"pp6w"'),
    "assessments.name": ("Timepoint name (analyses refer to it; `baseline` is the "
                         "baseline, else the first listed).", '"baseline"'),
    "assessments.day": ("Study day of the visit (give this or postpartum_day).", "0"),
    "assessments.postpartum_day": ("Postpartum day of the visit (populations with a "
                                   "pregnancy).", "42"),
    "assessments.instruments": ("Instruments given at the visit (`dyadsim instruments "
                                "--population P`).", '["comm", "pss10"]'),
    "ema.instruments": ("EMA instruments prompted in the period.", '["ema_craving"]'),
    "ema.from_day": ("First study day of the period.", "0"),
    "ema.to_day": ("Last study day of the period (inclusive).", "56"),
    "ema.prompts_per_day": ("Prompts a day.", "3"),
    "ema.compliance": ("Share of prompts answered (default: the instrument's).", "0.8"),
    "dropout.monthly_rate": ("Probability of loss to follow-up within a month for a dyad "
                             "without recent use.", "0.03"),
    "dropout.use_effect": ("Log hazard ratio of dropout per unit share of use days in the "
                           "last 30 days.", "1.0"),
    "analysis.name": ("Analysis name (results are keyed by it).", '"comm_post"'),
    "analysis.method": ("Analysis method (`dyadsim methods`).", '"cohens_d"'),
    "analysis.instrument": ("The instrument analysed (measured at the timepoint).",
                            '"comm"'),
    "analysis.event": ("The event of a time-to-event analysis (cox).", '"overdose"'),
    "analysis.timepoint": ("The assessment analysed (lmm: default the last).", '"post"'),
    "analysis.cutoff": ("Binary outcome: instrument value >= cutoff (< with below).", "13"),
    "analysis.below": ("Count values below the cutoff instead.", "true"),
    "analysis.category": ("The class counted for a coded instrument (ssp).", '"secure"'),
    "analysis.effect": ("The summary estimate (default: the method's first; "
                        "`dyadsim methods`).", '"hedges_g"'),
    "analysis.treatment": ("Treatment arm (default with two arms: the first).", '"MORE"'),
    "analysis.control": ("Control arm (default with two arms: the second).", '"TAU"'),
    "analysis.mediator": ("The mediating instrument (mediation).", '"ffmq"'),
    "analysis.mediator_timepoint": ("When the mediator is measured (default: its EMA).",
                                    '"mid"'),
    "analysis.n_boot": ("Bootstrap resamples of the mediation interval.", "1000"),
    "analysis.primary": ("The primary analysis (power curves use it by default).", "true"),
    "analysis.direction": ("Pre-specified direction of the effect (power counts only "
                           "rejections that way; required by power curves).",
                           '"decrease"'),
    "analysis.imputations": ("Multiple imputations where the method imputes.", "20"),
}

#: A complete first trial (two arms, three visits, one analysis each way); a test loads it.
EXAMPLE = '''\
[trial]
name = "more_vs_tau"
citation = "my own design"
n = 120
seed = 1
horizon = "4m"

[population]
preset = "adult_methadone"

[randomization]
method = "permuted_block"
block_size = 4

[[arms]]
name = "MORE"
interventions = ["more"]

[[arms]]
name = "TAU"
interventions = ["tau"]

[[assessments]]
name = "baseline"
day = 0
instruments = ["comm", "ffmq"]

[[assessments]]
name = "post"
day = 56
instruments = ["comm", "ffmq"]

[[assessments]]
name = "followup"
day = 112
instruments = ["comm", "ffmq"]

[dropout]
monthly_rate = 0.03

[[analysis]]
name = "comm_post"
method = "cohens_d"
instrument = "comm"
timepoint = "post"
primary = true
direction = "decrease"

[[analysis]]
name = "comm_over_time"
method = "lmm"
instrument = "comm"
'''


def _type(ann: Any) -> str:
    """A schema type in words a TOML writer reads."""
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        kinds = [_type(a) for a in args if a is not type(None)]
        return " or ".join(kinds)
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return "table"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "table"
    return {int: "integer", str: "string", float: "number", bool: "boolean"}.get(ann,
                                                                                 str(ann))


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    value = f.default_factory() if f.default_factory is not None else f.default
    if value is None:
        return "-"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if value in ([], {}):
        return "`[]`" if value == [] else "`{}`"
    return f"`{value}`"


def _bounds(f: FieldInfo) -> str:
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >="}
    out = []
    for m in f.metadata:
        for attr, word in words.items():
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{word} {v:,}" if isinstance(v, int) else f"{word} {v}")
    return ", ".join(out)


def _sections() -> list[tuple[str, str, type[BaseModel]]]:
    """(TOML header, key prefix, model) per top-level key of :class:`TrialSpec`."""
    out = []
    for key, f in TrialSpec.model_fields.items():
        ann = f.annotation
        many = typing.get_origin(ann) is list
        model = next(a for a in ([ann] if not typing.get_args(ann) else typing.get_args(ann))
                     if isinstance(a, type) and issubclass(a, BaseModel))
        out.append((f"[[{key}]]" if many else f"[{key}]", key, model))
    return out


def _check_keys() -> None:
    have = {f"{p}.{k}" for _, p, m in _sections() for k in m.model_fields}
    missing, stale = sorted(have - set(KEYS)), sorted(set(KEYS) - have)
    if missing or stale:
        raise KeyError(f"trial-spec reference out of step with the schema: undocumented "
                       f"{missing}, no longer in the schema {stale}")


def instrument_rows(population: str | None = None) -> list[dict[str, Any]]:
    """One row per instrument: name, kind, what it reads, its look-back window, label and
    ``use``: where a spec may name it (``[[ema]]`` or ``[[assessments]]``), or, for
    ``population``, why that population cannot use it (the rule of
    :mod:`.validation`)."""
    from ..model.populations import get_population
    from .instruments import INSTRUMENTS, EMAScale
    from .plan import OUTCOME_READS

    pregnancy = None if population is None else get_population(population).pregnancy
    rows = []
    for inst in INSTRUMENTS.values():
        child = [r for r in inst.reads if r in OUTCOME_READS]
        use = "[[ema]]" if isinstance(inst, EMAScale) else "[[assessments]]"
        if child:
            use += " (needs a population with a pregnancy)" if pregnancy is None else ""
            if pregnancy is False:
                use = f"not in {population}: reads {child[0]}, which needs a pregnancy"
        rows.append({"name": inst.name, "kind": type(inst).__name__,
                     "reads": ", ".join(inst.reads), "window_days": inst.window_days,
                     "label": inst.label, "use": use})
    return rows


def _catalogues() -> list[str]:
    from ..interventions.library import LIBRARY
    from ..model.populations import PRESETS
    from .methods import METHODS
    from .spec import EVENTS

    lines = ["## Names a spec may use", "",
             "The same lists come from the command line: `dyadsim populations`, "
             "`dyadsim interventions`, `dyadsim instruments --population P`, "
             "`dyadsim methods`, `dyadsim outcomes`.", "",
             f"**Population presets** ({len(PRESETS)}): "
             + ", ".join(f"`{k}`" for k in PRESETS) + ".", "",
             f"**Interventions** ({len(LIBRARY)}): "
             + ", ".join(f"`{k}`" for k in LIBRARY) + ".", "",
             "**Events** (`event`, method `cox`): " + ", ".join(f"`{e}`" for e in EVENTS)
             + ".", "",
             f"**Instruments** ({len(instrument_rows())}, `instruments` of "
             "`[[assessments]]` and `[[ema]]`):", "",
             "| name | kind | reads | window (days) | where | label |",
             "|---|---|---|---|---|---|",
             *[f"| `{r['name']}` | {r['kind']} | {r['reads']} | {r['window_days']} | "
               f"{r['use']} | {r['label']} |" for r in instrument_rows()], "",
             "**Analysis methods** (`method`; the first effect is the default):", "",
             "| method | effects | fields it uses | estimate |", "|---|---|---|---|"]
    for m in METHODS.values():
        lines.append(f"| `{m.name}` | {', '.join(f'`{e}`' for e in m.effects)} | "
                     f"{', '.join(sorted(m.fields))} | {m.summary} |")
    return lines


def render() -> str:
    """The Markdown of ``docs/trial-spec.md``."""
    from . import spec as spec_module

    _check_keys()
    doc = spec_module.__doc__ or ""
    choices = doc[doc.index("Declared choices"):].split("\n", 2)[2].strip().replace("``", "`")
    lines = ["# Trial specification reference", "",
             "Generated from the schema (`src/dyadsim/trials/spec.py`) by `make docs` "
             "(`python -m dyadsim.trials.reference`); do not edit by hand.", "",
             "A trial is one TOML file: `dyadsim trial SPEC.toml --out OUT` runs it once, "
             "`--replicates R` many times, `dyadsim power SPEC.toml` over sample sizes. "
             "Every problem of a spec is reported at once, one line each, naming the key. "
             "Unknown keys are refused.", "",
             "## A first trial", "", "```toml", EXAMPLE.rstrip(), "```", ""]
    for header, prefix, model in _sections():
        f = TrialSpec.model_fields[prefix]
        need = "required" if f.is_required() else "optional"
        lines += [f"## `{header}` ({need})", "",
                  "| key | type | default | bounds | meaning | example |",
                  "|---|---|---|---|---|---|"]
        for key, field in model.model_fields.items():
            meaning, example = KEYS[f"{prefix}.{key}"]
            lines.append(f"| `{key}` | {_type(field.annotation)} | {_default(field)} | "
                         f"{_bounds(field)} | {meaning} | `{key} = {example}` |")
        lines.append("")
    lines += ["## Declared choices", "", choices, "", *_catalogues(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
