"""No import cycle among the project's modules (issue 17: one place for each thing).

Walks every import statement of ``pipelines/``, ``checks/``, ``cld_schema/`` and ``flows/``
with ``ast``, function-local imports included (they hide a cycle from a reader of the file
heads but not from Python), and fails naming each cycle found. Only explicit imports count:
importing ``a.b.c`` runs ``a/b/__init__.py`` first, which is how packages work, not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pipelines.config import PROJECT_ROOT

PACKAGES = ("pipelines", "checks", "cld_schema", "flows")


def project_modules(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in the file)."""

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps |= {m for a in node.names if (m := known(a.name))}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module or ""
                if source.split(".")[0] not in PACKAGES:
                    continue
                for a in node.names:  # `from pkg import module` imports that module
                    sub = f"{source}.{a.name}"
                    m = sub if sub in mods else known(source)
                    if m:
                        deps.add(m)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each as one cycle
    path through it, e.g. ``a -> b -> a``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path(graph, g) for g in groups]


def _path(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest cycle through the group's first module (breadth first)."""
    start = min(group)
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
                if w not in came:
                    came[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(group)


def test_the_walk_sees_function_local_imports_and_names_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pipelines"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pipelines.b import g\n")
    (pkg / "b.py").write_text("def g():\n    from pipelines import a\n    return a\n")
    (pkg / "c.py").write_text("import pipelines.a\n")
    for other in PACKAGES[1:]:
        (tmp_path / other).mkdir()
    graph = import_graph(project_modules(tmp_path))
    assert graph["pipelines.b"] == {"pipelines.a"}
    assert cycles(graph) == [["pipelines.a", "pipelines.b", "pipelines.a"]]


def test_no_import_cycle_among_the_project_modules() -> None:
    found = cycles(import_graph(project_modules()))
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)
