"""The README stays true (issue 23): its counts and docs/guide.md's are the code's, its demo
table is what `dyadsim demo` prints, and every code block in it runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from dyadsim import readme

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def test_generated_counts_are_current():
    values = readme.counts()
    for name in readme.FILES:
        text = (ROOT / name).read_text()
        assert readme.REGION.search(text), f"{name} has no generated region"
        assert readme.regenerate(text, values, None) == text, \
            f"{name} is stale: run `make readme`"


def test_a_changed_count_is_noticed():
    text = README.read_text()
    values = {**readme.counts(), "edges": "199"}
    assert readme.regenerate(text, values, None) != text


def test_readme_demo_table_is_what_dyadsim_demo_prints():
    region = next(m for m in readme.REGION.finditer(README.read_text()) if m["name"] == "demo")
    assert region["body"] == readme.demo_block(readme.demo_output()), \
        "the README's demo table is stale: run `make readme`"


def _sh_lines(body: str) -> list[str]:
    lines = []
    for line in body.splitlines():
        command = re.split(r"\s+#", line, maxsplit=1)[0].strip()
        if command:
            lines.append(command)
    return lines


def test_every_readme_code_block_runs(tmp_path):
    """python blocks are executed, the toml block is the scenario.toml the commands use,
    each sh line runs (dyadsim from this environment) without error; a `make` line names a
    Makefile target (`make demo` runs `dyadsim demo`, checked above; `make test` is this
    suite). The text block is the demo's output, compared above."""
    blocks = BLOCK.findall(README.read_text())
    assert {lang for lang, _ in blocks} == {"sh", "text", "python", "toml"}
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}"}
    ran = 0
    for lang, body in blocks:
        if lang == "python":
            code = compile(body, "README.md", "exec")
            exec(code, {"__name__": "readme"})  # noqa: S102
            ran += 1
        elif lang == "toml":
            (tmp_path / "scenario.toml").write_text(body)
        elif lang == "sh":
            for line in _sh_lines(body):
                if line.startswith("make "):
                    assert line.split()[1] in targets, line
                    continue
                res = subprocess.run(line, shell=True, cwd=tmp_path, env=env,  # noqa: S602
                                     capture_output=True, text=True, timeout=900)
                assert res.returncode == 0, f"{line}: {res.stderr}"
                assert "Traceback" not in res.stderr, line
                ran += 1
    assert ran >= 6
    assert (tmp_path / "runs" / "a" / "report.html").exists()
    assert (tmp_path / "graph.mmd").read_text().startswith("flowchart")
