"""The generated regions of README.md and docs/guide.md: counts taken from the code and
the demo table as ``dyadsim demo`` prints it, so the documents cannot drift from the model.

A region is ``<!-- gen:NAME -->...<!-- /gen:NAME -->`` (inline for a count, around a code
block for the demo). ``python -m dyadsim.readme`` (``make readme``) rewrites every
region in place; ``--check`` only says which are stale (exit 1). The demo takes about a
minute; ``--counts-only`` leaves it as it is. Tests: ``tests/test_readme.py``.

It sits on the top floor, beside the CLI, because it runs the CLI's demo (it lived in
``reports/`` until issue 21, an import from the reports floor up to the CLI).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = ("README.md", "docs/guide.md")
REGION = re.compile(r"<!-- gen:(?P<name>[\w-]+) -->(?P<body>.*?)<!-- /gen:(?P=name) -->",
                    re.DOTALL)


def counts() -> dict[str, str]:
    """Every count the documents quote, from the registries."""
    from .interventions.library import LIBRARY
    from .model.graph import EDGES, NODES
    from .model.params import PARAMS
    from .model.populations import PRESETS
    from .trials.instruments import INSTRUMENTS
    from .trials.methods import METHODS

    basis = {b: sum(e.basis == b for e in EDGES) for b in ("stated", "implied", "external")}
    return {
        "nodes": str(len(NODES)), "edges": str(len(EDGES)),
        "edges-stated": str(basis["stated"]), "edges-implied": str(basis["implied"]),
        "edges-external": str(basis["external"]),
        "params": str(len(PARAMS)), "guesses": str(sum(p.is_guess for p in PARAMS.values())),
        "instruments": str(len(INSTRUMENTS)), "presets": str(len(PRESETS)),
        "preset-list": ", ".join(f"`{k}`" for k in PRESETS),
        "interventions": str(len(LIBRARY)), "methods": str(len(METHODS)),
    }


def demo_output() -> str:
    """What ``dyadsim demo`` prints into a pipe (120 columns), as the README shows it."""
    from typer.testing import CliRunner

    from .cli import app

    res = CliRunner().invoke(app, ["demo", "--quiet"], env={"COLUMNS": None})
    if res.exit_code != 0:
        raise RuntimeError(f"dyadsim demo failed: {res.output}")
    return "\n".join(line.rstrip() for line in res.stdout.splitlines()) + "\n"


def demo_block(output: str) -> str:
    return f"\n```text\n{output}```\n"


def regenerate(text: str, values: dict[str, str],
               demo: Callable[[], str] | None) -> str:
    """``text`` with each region rewritten (the demo only when ``demo`` is given)."""
    def sub(m: re.Match) -> str:
        name = m["name"]
        if name == "demo":
            body = demo_block(demo()) if demo is not None else m["body"]
        elif name in values:
            body = values[name]
        else:
            raise KeyError(f"unknown generated region {name!r}")
        return f"<!-- gen:{name} -->{body}<!-- /gen:{name} -->"

    return REGION.sub(sub, text)


def main(argv: list[str]) -> int:
    check, counts_only = "--check" in argv, "--counts-only" in argv
    values = counts()
    cache: list[str] = []

    def demo() -> str:
        if not cache:
            cache.append(demo_output())
        return cache[0]

    stale = []
    for name in FILES:
        path = ROOT / name
        old = path.read_text()
        new = regenerate(old, values, None if counts_only else demo)
        if new != old:
            stale.append(name)
            if not check:
                path.write_text(new)
    verb = "stale" if check else "rewrote"
    print(f"{verb}: {', '.join(stale)}" if stale else "up to date", file=sys.stderr)
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
