"""The house has no arrows back up (issue 21): every import in ``src/dyadsim`` runs from a
higher floor to a lower one, and no modules import each other in a circle.

The import graph is read from the source with :mod:`ast` (every ``import`` and ``from ...
import``, at module level or inside a function; only those under ``if TYPE_CHECKING:``,
which never run, are left out). ``from package import name`` counts as an import of the
submodule ``package.name`` when there is one, else of ``package``. Python also runs a
package's ``__init__`` before any of its submodules; that implicit import is not counted.

``python tests/test_layers.py`` prints the layer table: each floor's units and the units they
import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dyadsim"

#: Floors, lowest first (docs: ../shared/architecture.md, "Layers"). A unit is a top-level
#: module or package of ``dyadsim`` (``__init__`` is the package's own facade, ``dyadsim``).
#: A unit may import units on strictly lower floors only. trials, calibration and analysis
#: are one floor in the picture, with an order inside it: calibration replicates studies as
#: trials (``trials.runner``, ``trials.design``) and analysis reads both, so each gets a floor
#: of its own here and the reverse imports are the ones that fail.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version",),  # the version string, which every writer of a manifest records
    ("_io", "timepoints", "parallel"),  # ground floor: atomic writes, time, executors
    ("model",),  # the science: graph, parameters, mechanisms, outcomes
    ("engine",),  # chunked, jitted run of the step; RNG; burn-in cache; threads
    ("interventions", "uncertainty"),  # schedules from courses; prior / posterior sources
    ("setting", "scenario"),  # scenario.py: the one reader of scenario files (setting: to come)
    ("simulation",),  # simulate(), simulate_batch()
    ("stats",),  # effect sizes, pooling: one of each
    ("trials",),
    ("calibration",),
    ("analysis", "prediction", "fit"),
    ("reports",),  # HTML, figures, check tables
    ("app",),  # the explorer (shows reports' figures)
    ("cli",),  # the edge: parses arguments, prints
    ("readme", "__init__"),  # README's generated regions (runs the CLI's demo); the facade
)
FLOOR = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _modules(root: Path = SRC) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes that run (those under ``if TYPE_CHECKING:`` do not)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module -> the dyadsim modules it imports."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    frm = ".".join(base + ([node.module] if node.module else []))
                else:
                    frm = node.module or ""
                targets = [f"{frm}.{a.name}" if f"{frm}.{a.name}" in modules else frm
                           for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs whose target is not on a strictly lower floor."""
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if unit(a) != unit(b) and FLOOR[unit(b)] >= FLOOR[unit(a)])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_table(graph: dict[str, set[str]]) -> str:
    lines = []
    edges = {(unit(a), unit(b)) for a, ts in graph.items() for b in ts if unit(a) != unit(b)}
    present = {unit(m) for m in graph}
    for floor, units in enumerate(LAYERS):
        for u in units:
            if u in present:
                to = sorted({b for a, b in edges if a == u}, key=lambda x: (FLOOR[x], x))
                lines.append(f"{floor:>2} {u:<14} -> {', '.join(to) or '-'}")
    lines.append(f"{len(present)} units on {len({FLOOR[u] for u in present})} floors, "
                 f"{len(edges)} imports between units")
    return "\n".join(lines)


GRAPH = import_graph()


def test_every_unit_has_a_floor():
    """A new top-level module or package must be given a floor in :data:`LAYERS`."""
    missing = sorted({unit(m) for m in GRAPH} - set(FLOOR))
    assert not missing, f"add to LAYERS in tests/test_layers.py: {missing}"


def test_no_import_runs_up_a_floor():
    ups = upward_imports(GRAPH)
    assert not ups, "imports that run up (or across) a floor:\n" + "\n".join(
        f"  {a} ({unit(a)}, floor {FLOOR[unit(a)]}) -> {b} ({unit(b)}, floor "
        f"{FLOOR[unit(b)]})" for a, b in ups)


def test_no_import_cycle():
    found = cycles(GRAPH)
    assert not found, "import cycles:\n" + "\n".join(f"  {' <-> '.join(c)}" for c in found)


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    """The graph reader sees relative, absolute and function-level imports, skips
    ``TYPE_CHECKING`` ones, and the two checks fail on what they should."""
    pkg = tmp_path / "dyadsim"
    (pkg / "model").mkdir(parents=True)
    (pkg / "engine").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "model" / "__init__.py").write_text("")
    (pkg / "engine" / "__init__.py").write_text("")
    (pkg / "model" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..engine import run\n"
        "def f():\n    from dyadsim.engine.run import go\n")
    (pkg / "engine" / "run.py").write_text("from ..model import a\nfrom . import b\n")
    (pkg / "engine" / "b.py").write_text("from .run import x\n")
    graph = import_graph(pkg)
    assert graph["dyadsim.model.a"] == {"dyadsim.engine.run"}  # the function-level one only
    assert upward_imports(graph) == [("dyadsim.model.a", "dyadsim.engine.run")]
    assert cycles(graph) == [["dyadsim.engine.b", "dyadsim.engine.run", "dyadsim.model.a"]]


@pytest.mark.parametrize("module", ["dyadsim", "dyadsim.engine", "dyadsim.simulation"])
def test_importing_dyadsim_leaves_jax_configuration_alone(module):
    """JAX's global configuration is set by an explicit call at the entry points
    (:func:`dyadsim.engine.configure_jax`: ``simulate``, ``simulate_batch``, the CLI), never on
    import; a fresh interpreter that imports dyadsim keeps JAX's and XLA's defaults."""
    code = (
        "import os, jax\n"
        "before = (jax.config.jax_compilation_cache_dir, jax.config.jax_num_cpu_devices)\n"
        "env = {k: os.environ.get(k) for k in ('XLA_FLAGS', 'PJRT_NPROC')}\n"
        f"import {module}\n"
        "after = (jax.config.jax_compilation_cache_dir, jax.config.jax_num_cpu_devices)\n"
        "assert before == after, (before, after)\n"
        "assert env == {k: os.environ.get(k) for k in env}, env\n"
        "from dyadsim.engine import configure_jax\n"
        "configure_jax()\n"
        "assert jax.config.jax_compilation_cache_dir is not None\n"
        "print('ok')\n")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("XLA_FLAGS", "PJRT_NPROC", "NPROC", "JAX_COMPILATION_CACHE_DIR",
                        "JAX_NUM_CPU_DEVICES")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


if __name__ == "__main__":
    print(layer_table(GRAPH))
    print("upward imports:", upward_imports(GRAPH) or "none")
    print("cycles:", cycles(GRAPH) or "none")
