"""Imports flow one way (issue 9): no cycle among langpose's modules, function-level imports included."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import langpose

PACKAGE = Path(langpose.__file__).resolve().parent
CORE = ("langpose.skeleton", "langpose.camera", "langpose.metrics", "langpose.config", "langpose.atomic",
        "langpose.completion", "langpose.upright")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_main_guard(node) -> bool:
    """``if __name__ == "__main__":``: runs only when the module is the program, never on import."""
    t = node.test if isinstance(node, ast.If) else None
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in t.comparators))


def _imports(tree):
    """Every Import/ImportFrom node, at module level or in functions, except under a ``__main__`` guard."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(c for c in ast.iter_child_nodes(node) if not _is_main_guard(c))


def import_graph() -> dict[str, set[str]]:
    """{module: langpose modules it imports}, from every ``import``/``from ... import`` in its AST,
    at module level or inside functions (a package's implicit import of its parents is not an edge;
    nor is an import under ``if __name__ == "__main__":``, which a script runs, not an import)."""
    files = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` imports mod
                targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names)
        edges = set()
        for t in targets:
            while t and t not in files:  # ``import langpose.data.windows.x`` -> its module
                t = t.rpartition(".")[0]
            if t and t != name:
                edges.add(t)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_graph_sees_module_and_function_level_imports():
    g = import_graph()
    assert "langpose.inference" in g["langpose.lift"]  # module level
    assert "langpose.checkpoint" in g["langpose"]  # inside langpose.load_model
    assert "langpose.data.windows" in g and "langpose.models.langpose_model" in g
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    script = ast.parse("import os\nif __name__ == '__main__':\n    from langpose.cli import main\n")
    assert [type(n).__name__ for n in _imports(script)] == ["Import"]


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, f"import cycles among langpose modules: {found}"


def test_checkpoints_and_models_load_without_the_trainer():
    code = ("import sys, langpose.checkpoint, langpose.lift; "
            "print(sorted(m for m in ('langpose.train', 'langpose.evaluate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_core_and_the_prediction_engine_import_only_core():
    g = import_graph()
    for m in CORE:
        assert g[m] <= set(CORE), f"{m} imports {sorted(g[m] - set(CORE))}"
    assert g["langpose.inference"] <= set(CORE), sorted(g["langpose.inference"] - set(CORE))


@pytest.mark.parametrize("module, forbidden", [
    ("langpose.inference", ("langpose.lift", "langpose.train", "langpose.evaluate", "langpose.checkpoint")),
    ("langpose.data.windows", ("langpose.lift", "langpose.train", "langpose.evaluate")),
    ("langpose.evaluate", ("langpose.lift", "langpose.train")),
])
def test_importing_a_lower_layer_loads_no_higher_one(module, forbidden):
    code = f"import sys, {module}; print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
