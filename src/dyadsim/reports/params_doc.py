"""``docs/parameters.md``: every parameter with its default, bounds, unit and source, the
guesses listed first. Regenerate with ``python -m dyadsim.reports.params_doc > docs/parameters.md``
(``make docs``); a test fails when the file is stale."""

from __future__ import annotations

from ..model.params import PARAMS, Param


def _row(p: Param) -> str:
    src = p.source.replace("|", "/")
    return f"| `{p.name}` | {p.default:g} | [{p.lo:g}, {p.hi:g}] | {p.unit} | {p.meaning} | {src} |"


def render() -> str:
    guesses = [p for p in PARAMS.values() if p.is_guess]
    sourced = [p for p in PARAMS.values() if not p.is_guess]
    head = "| name | default | bounds | unit | meaning | source |\n|---|---:|---|---|---|---|"
    return "\n".join([
        "# Parameters",
        "",
        "Generated from `src/dyadsim/model/params.py` by `make docs`; do not edit by hand.",
        "",
        f"{len(PARAMS)} parameters: {len(sourced)} with a published or derived source, "
        f"{len(guesses)} declared guesses (the source says why). Edge weights are named "
        "`source->target`; moderators `source->(edge source->target)`.",
        "",
        f"## Parameters with a source ({len(sourced)})",
        "",
        head,
        *[_row(p) for p in sourced],
        "",
        f"## Guesses ({len(guesses)})",
        "",
        head,
        *[_row(p) for p in guesses],
        "",
    ])


if __name__ == "__main__":
    print(render(), end="")
