"""The six example trials' estimates before and after issue 7 (missing data as trialists
handle them), next to the published values.

Two steps. ``run`` runs ONE trial of every example in a folder with the ``dyadsim`` that is
importable (so the same script measures an older checkout when ``PYTHONPATH`` points at its
``src``), at the example's own N, with one seed and the default parameters (no posterior),
and writes one JSON file (each example is saved as soon as it is done; a rerun skips the
examples already there, so a crashed run resumes). ``table`` reads a before and an after
JSON and writes the markdown table::

    git worktree add /tmp/before aea9a37
    git worktree add /tmp/after HEAD     # a clean copy: no uncommitted changes measured
    PYTHONPATH=/tmp/before/src nice .venv/bin/python benchmarks/examples_before_after.py \\
        run --examples /tmp/before/examples --label before --out /tmp/before.json
    PYTHONPATH=/tmp/after/src nice .venv/bin/python benchmarks/examples_before_after.py \\
        run --examples /tmp/after/examples --label after --out /tmp/after.json
    .venv/bin/python benchmarks/examples_before_after.py table /tmp/before.json \\
        /tmp/after.json --out docs/examples-before-after.md
    git worktree remove /tmp/before; git worktree remove /tmp/after

Only the public ``dyadsim.trials.runner.run_trial(spec, seed=...)`` and its ``results``
mapping are used, present in both versions. The code before issue 7 did not label each
estimate's missing-data method; ``OLD_MISSING_DATA`` states it per method, read from that
code (``trials/runner.py`` at aea9a37).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: The missing-data handling of each method in the code before issue 7 (aea9a37,
#: trials/runner.py ``_run_analysis``), which wrote no label of its own.
OLD_MISSING_DATA = {
    "lmm": "all observed values, likelihood (MAR)",
    "ema": "all answered prompts, likelihood (MAR)",
    "cox": "censored at loss to follow-up",
    "binary": "complete case",
    "proportion": "complete case",
    "cohens_d": "complete case",
    "change_d": "complete case",
    "pre_post": "complete case",
    "mediation": "complete case",
}

#: Published value per example analysis: (text, source). Sources: the example's header
#: comment and shared/targets/published.toml (target id in brackets).
PUBLISHED = {
    ("garland2014_more_vs_sg", "misuse_post"):
        "misuse down 63% vs SG (RR 0.37), p = .05 [garland2014_misuse_post]",
    ("garland2014_more_vs_sg", "misuse_fu3"): "not sustained at 3 months (example header)",
    ("garland2014_more_vs_sg", "desire_for_opioids"):
        "p = .027 [garland2014_desire_for_opioids]",
    ("garland2014_more_vs_sg", "stress_arousal"): "p = .034 [garland2014_stress_arousal]",
    ("garland2014_more_vs_sg", "mediation_reward_responsiveness"):
        "reward responsiveness mediated the effect on craving (Garland, Froeliger & Howard "
        "2014; example header)",
    ("garland2019_more_vs_sg", "misuse_d_fu3"): "d = 0.64, p = .027 [garland2019_misuse_d]",
    ("garland2019_more_vs_sg", "use_d_fu3"): "d = 1.07, p = .006 [garland2019_use_d]",
    ("garland2022_more_vs_sg", "misuse_9mo"):
        "misuse reduced by 46% at 9 months (RR 0.54) [garland2022_misuse_reduction_9mo]",
    ("garland2022_more_vs_sg", "no_longer_misusing_9mo"):
        "45.0% vs 24.4% no longer misusing (difference 0.206) "
        "[garland2022_no_misuse_9mo_more, _sg]",
    ("cooperman2021_more_methadone", "drug_use_days"):
        "group x time F = 4.72, p = .04 [cooperman2021_drug_use_days]",
    ("cooperman2021_more_methadone", "craving_ema"):
        "37% less intense, p = .008 [garland2019b_craving_ema]",
    ("cooperman2021_more_methadone", "positive_affect_ema"):
        "p = .017 [garland2019b_positive_affect_ema]",
    ("gannon2017_mindful_parenting", "kips_change"):
        "clinically significant improvement (Reese 2021; example header)",
    ("gannon2017_mindful_parenting", "pss10_change"):
        "significant decrease (Reese 2021; example header)",
    ("gannon2017_mindful_parenting", "psi_sf_change"):
        "parental distress: significant decrease (Reese 2021; example header)",
}

EXAMPLES = ("garland2014_more_vs_sg", "garland2019_more_vs_sg", "garland2022_more_vs_sg",
            "cooperman2021_more_methadone", "gannon2017_mindful_parenting",
            "prenatal_more_trial")


def _source_commit(package_file: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(Path(package_file).parent), "rev-parse",
                               "HEAD"], capture_output=True, text=True, check=True
                              ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _analysis_row(name: str, r: dict) -> dict:
    sens = r.get("sensitivity")
    tip = None
    if isinstance(sens, dict) and "grid" in sens:
        tip = {k: sens.get(k) for k in ("tipping_point_sd", "tipping_point", "delta_unit",
                                        "conclusion")}
    return {"analysis": name, "method": r.get("method"), "effect": r.get("effect"),
            "estimate": r.get("estimate"), "ci_lower": r.get("ci_lower"),
            "ci_upper": r.get("ci_upper"), "p": r.get("p"),
            "missing_data": r.get("missing_data"), "tipping": tip, "error": r.get("error"),
            "complete_case": _complete_case(r)}


def _complete_case(r: dict) -> dict | None:
    """The complete-case result a multiply-imputed analysis keeps in ``detail`` (versions
    after issue 7), on the same effect scale as its estimate; None without one."""
    cc = (r.get("detail") or {}).get("complete_case")
    if not isinstance(cc, dict):
        return None
    for key in (r.get("effect"), "difference", "indirect"):
        if isinstance(cc.get(key), dict) and "estimate" in cc[key]:
            cc = cc[key]
            break
    if "estimate" not in cc:
        return None
    return {k: cc.get(k) for k in ("estimate", "ci_lower", "ci_upper", "p")}


def run(examples: Path, label: str, out: Path, seed: int) -> None:
    import dyadsim
    from dyadsim.trials.runner import run_trial

    done = json.loads(out.read_text()) if out.exists() else {
        "label": label, "package": dyadsim.__file__, "commit": _source_commit(dyadsim.__file__),
        "seed": seed, "parameters": "defaults (no posterior)", "examples": {}}
    print(f"{label}: dyadsim from {dyadsim.__file__} (commit {done['commit']})", flush=True)
    for i, ex in enumerate(EXAMPLES, 1):
        if ex in done["examples"]:
            print(f"[{i}/{len(EXAMPLES)}] {ex}: already done", flush=True)
            continue
        path = examples / f"{ex}.toml"
        t0 = time.perf_counter()
        res = run_trial(path, seed=seed).results
        rows = [_analysis_row(k, v) for k, v in res.items()
                if isinstance(v, dict) and "method" in v]
        done["examples"][ex] = {"n": sum(res["arms"].values()), "arms": res["arms"],
                                "dropout": res["dropout"]["overall"], "analyses": rows,
                                "seconds": round(time.perf_counter() - t0, 1)}
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(done, indent=1))
        os.replace(tmp, out)
        print(f"[{i}/{len(EXAMPLES)}] {ex}: {len(rows)} analyses, "
              f"{done['examples'][ex]['seconds']} s", flush=True)


def _published(example: str, analysis: str) -> str:
    if example == "prenatal_more_trial":
        return "no such trial published: a model prediction"
    return PUBLISHED.get((example, analysis), "–")


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


def _estimate(r: dict | None) -> str:
    if r is None:
        return "(not in this version)"
    if r["error"]:
        return f"error: {r['error']}"
    p = "" if r["p"] is None else f", p = {_num(r['p'])}"
    return f"{_num(r['estimate'])} [{_num(r['ci_lower'])}, {_num(r['ci_upper'])}]{p}"


def _method(r: dict | None, old: bool) -> str:
    if r is None:
        return ""
    if old:
        return OLD_MISSING_DATA.get(r["method"], "?")
    md = r["missing_data"] or ""
    for key, short in (("multiple imputation", "MI (MAR), Rubin"),
                       ("likelihood-based", "likelihood (MAR)"),
                       ("censored at loss", "censored at loss to follow-up")):
        if md.startswith(key) or key in md.split(";")[0]:
            return short
    return md.split(";")[0]


def _tip(r: dict | None) -> str:
    t = r and r.get("tipping")
    if not t:
        return "none (coded class)" if r and r["method"] in ("binary", "proportion") else "–"
    unit = "SD" if "SD" in t["delta_unit"] else "log hazard multiplier"
    if t["tipping_point_sd"] is not None:
        return f"{t['tipping_point_sd']:g} {unit}"
    if t["conclusion"].startswith("not significant"):
        return "n.s. under MAR"
    return f"> {t['conclusion'].rsplit(' ', 2)[-2]} {unit} (still significant)"


def _commits_between(old: str, new: str) -> str:
    try:
        return subprocess.run(["git", "rev-list", "--count", f"{old}..{new}"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "many"


def _cc(r: dict | None) -> str:
    cc = r and r.get("complete_case")
    if not cc:
        return "–"
    return _estimate({"error": None, **cc})


def table(before: Path, after: Path, out: Path) -> None:
    b, a = json.loads(before.read_text()), json.loads(after.read_text())
    if b["seed"] != a["seed"]:
        raise SystemExit("error: the two runs used different seeds")
    lines = [
        "# The six examples before and after issue 7",
        "",
        "Generated by `benchmarks/examples_before_after.py` (its docstring gives the "
        "commands).",
        f"**Before**: commit `{b['commit'][:7]}` (the code before issue 7 began). "
        f"**After**: commit `{a['commit'][:7]}`. One trial per example at the example's own "
        f"N, seed {a['seed']}, at the default (prior-mode) parameters, not the calibrated "
        "posterior; each version runs its own copy of the example files. Estimates are on "
        "each method's effect scale (effect column) with the 95% CI and p; the missing-data "
        "columns say how missing outcomes were handled (before issue 7 the code wrote no "
        "label: it is read from that code). One trial is one draw: these are single "
        "replicates, not expectations.",
        "",
        "How to read it:",
        "",
        f"- The two commits are {_commits_between(b['commit'], a['commit'])} commits apart: "
        "besides issue 7's analyses (multiple imputation, tipping points, the cLDA LMM with "
        "between-within df) the model (issue 6: use intensity, stress, relapse, perinatal "
        "course) and the instruments (issue 7 s1: reliability, SD and test-retest "
        "recalibrated) changed, so before vs after mixes all of them. The column *after, "
        "complete case* is the complete-case analysis of the same simulated data as "
        "*after* (kept in each MI estimate's `detail`): *after* vs it isolates the "
        "missing-data method.",
        "- Contrasts are treatment minus control (ratios treatment / control); published "
        "effect sizes are magnitudes of benefit (Garland 2019's d = 0.64 is less misuse "
        "with MORE: a negative d here), a published relative reduction r is a risk ratio of "
        "1 - r, and EMA relative differences are (treatment - control) / control "
        "(37% less intense craving is -0.37).",
        "- Tipping point: the smallest shift, against the treatment, of the imputed "
        "treatment-arm values (in SD of the shifted variable; mediation shifts mediator and "
        "outcome, each by that many of its own SD) at which a result significant under MAR "
        "is no longer; *n.s. under MAR*: nothing to tip; *> 2.0 SD*: still significant at "
        "the largest shift tried. LMM and EMA primaries are likelihood-based: their tipping "
        "point is on the multiply imputed ANCOVA / weekly means. A coded class (Strange "
        "Situation) has none.",
        "",
        "| example (N, dropout before / after) | analysis (method, effect) | before: estimate "
        "[CI] | before: missing data | after: estimate [CI] | after: missing data | after, "
        "complete case (same data) | after: tipping point | published |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for ex in EXAMPLES:
        eb, ea = b["examples"].get(ex), a["examples"].get(ex)
        if ea is None:
            raise SystemExit(f"error: {ex} missing from {after}")
        rb = {r["analysis"]: r for r in (eb or {"analyses": []})["analyses"]}
        drop_b = "–" if eb is None else f"{eb['dropout']:.0%}"
        head = f"{ex} (N = {ea['n']}; {drop_b} / {ea['dropout']:.0%})"
        names = [r["analysis"] for r in ea["analyses"]]
        names += [n for n in rb if n not in names]
        ra_by = {r["analysis"]: r for r in ea["analyses"]}
        for name in names:
            ra, rbn = ra_by.get(name), rb.get(name)
            r = ra or rbn
            lines.append(
                f"| {head} | {name} ({r['method']}, {r['effect']}) | {_estimate(rbn)} | "
                f"{_method(rbn, old=True)} | {_estimate(ra)} | {_method(ra, old=False)} | "
                f"{_cc(ra)} | {_tip(ra)} | {_published(ex, name)} |")
            head = ""
    secs_b = sum(e["seconds"] for e in b["examples"].values())
    secs_a = sum(e["seconds"] for e in a["examples"].values())
    lines += ["", f"Run time (one trial each, shared 2-core machine, `nice`): before "
              f"{secs_b:.0f} s, after {secs_a:.0f} s.", ""]
    out.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run one trial of every example; write JSON")
    r.add_argument("--examples", type=Path, required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("table", help="write the markdown table from two run JSONs")
    t.add_argument("before", type=Path)
    t.add_argument("after", type=Path)
    t.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        missing = [e for e in EXAMPLES if not (args.examples / f"{e}.toml").is_file()]
        if missing:
            print(f"error: {args.examples} lacks {', '.join(missing)}", file=sys.stderr)
            raise SystemExit(2)
        run(args.examples, args.label, args.out, args.seed)
    else:
        for f in (args.before, args.after):
            if not f.is_file():
                print(f"error: {f} is not a file (write it with 'run')", file=sys.stderr)
                raise SystemExit(2)
        table(args.before, args.after, args.out)


if __name__ == "__main__":
    main()
