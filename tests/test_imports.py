"""The package's own modules import one another without circles, and each imports alone.

The graph is read from the source with :mod:`ast`: every ``import`` and ``from ... import``
naming an ``angd_np`` module, relative ones resolved against the importing module's package.
Imports inside functions count: a lazy import is still a dependency, and a circle hidden by
one only by the order of calls is still a circle (the two modules cannot be read or changed
apart). ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
``pkg``. A submodule's implicit import of its parent package is not an edge (every package
``__init__`` that re-exports its submodules would otherwise be a circle).
"""

import ast
import subprocess
import sys
from pathlib import Path

import angd_np

PACKAGE = Path(angd_np.__file__).resolve().parent


def _modules() -> dict:
    """Dotted module name -> (path, is_package) for every .py file of the package."""
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("angd_np",) + path.relative_to(PACKAGE).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return mods


def import_graph() -> dict:
    """Module -> set of the package's modules it imports (anywhere in its source)."""
    mods = _modules()
    graph = {}
    for name, (path, is_package) in mods.items():
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for a in node.names:
                    targets.add(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base)
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def find_cycle(graph: dict) -> list:
    """One cycle ``[a, b, ..., a]`` of the directed graph, or ``[]`` (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_find_cycle_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_graph_sees_relative_and_lazy_imports():
    graph = import_graph()
    # a relative top-level import, and one inside a function (figures' matplotlib loader is
    # external; the runner draws through figures lazily)
    assert "angd_np.problem" in graph["angd_np.system"]
    assert "angd_np.experiments.figures" in graph["angd_np.experiments.runner"]


def test_import_graph_of_the_package_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "import circle: " + " -> ".join(cycle)


def test_every_module_imports_alone():
    # One interpreter; before each module, forget every angd_np module so that it is
    # imported with nothing of the package loaded before it. (``__main__`` runs the CLI.)
    names = sorted(n for n in _modules() if n != "angd_np.__main__")
    code = (
        "import importlib, sys, traceback\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    for m in [m for m in sys.modules if m == 'angd_np' or m.startswith('angd_np.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed.append(name + ': ' + traceback.format_exc(limit=1).splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"modules that fail to import alone:\n{out.stdout}"
