"""Data flows one way: index <- qa <- api, and inside qa each stage imports only the floors
below it (ingest < embed < store < retrieve < read < the service and its callers). Every import
is walked with ast, lazy ones inside functions included, and the whole graph must be acyclic."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "qa", "api")
FORBIDDEN = {"index": {"qa", "api", "fastapi"}, "qa": {"api", "fastapi", "starlette"}}
# A module's floor is that of the longest name here that it starts with; it may import only
# lower floors, or modules of its own unit (the same stage package). A new module of qa/ gets a
# floor here, which is the question "which room does it belong in" answered once.
FLOORS = {
    "qa.errors": 0, "qa.types": 0, "qa.text": 0,
    "qa.config": 1,
    "qa.ingest": 2,
    "qa.embed": 3,
    "qa.store": 4, "qa.feedback": 4,
    "qa.retrieve": 5,
    "qa.read": 6,
    "qa.indexer": 7, "qa.cache": 7, "qa.conversation": 7,
    "qa.service": 8, "qa.remote": 8,
    "qa.eval": 9, "qa.serve": 9,
    "qa.cli": 10,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(path: Path) -> set[str]:
    return imports_in(path.read_text(), str(path))


def imports_in(source: str, filename: str = "<string>") -> set[str]:
    """Every absolute module name the source imports, at any depth (lazy imports inside
    functions too); `from a import b` counts as `a.b` when that is a module of ours, else as `a`."""
    found = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
    return found


def graph() -> dict[str, set[str]]:
    return {name: {m for m in imported(path) if m in MODULES} for name, path in MODULES.items()}


def unit(module: str) -> str | None:
    matches = [name for name in FLOORS if module == name or module.startswith(name + ".")]
    return max(matches, key=len) if matches else None


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    tops = {f: {m.split(".")[0] for m in imported(f)} for f in files}
    offenders = {str(f.relative_to(ROOT)): names & FORBIDDEN[package] for f, names in tops.items()}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_every_qa_module_has_a_floor():
    assert [m for m in MODULES if m.startswith("qa.") and unit(m) is None] == []


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in edges.items():
        for target in targets:
            if module.startswith("qa.") and target.startswith("qa.") and unit(target) != unit(module) \
                    and FLOORS[unit(target)] >= FLOORS[unit(module)]:
                found.append(f"{module} -> {target}")
    return sorted(found)


def cycles(edges: dict[str, set[str]]) -> list[str]:
    """Each back edge of a depth-first walk, as the cycle it closes."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_stages_import_only_downward():
    assert upward_imports(graph()) == []


def test_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_the_checks_can_fail():
    """A lazy import from the store back to the service is upward and closes a cycle."""
    edges = {"qa.service": {"qa.store.factory"}, "qa.store.factory": {"qa.service"}}
    assert upward_imports(edges) == ["qa.store.factory -> qa.service"]
    assert cycles(edges) == ["qa.service -> qa.store.factory -> qa.service"]
    assert "qa.store.factory" in imports_in("def late():\n    from qa.store.factory import open_store\n")


def test_no_module_over_300_lines():
    assert {name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 300} == {}


def test_help_does_not_import_models():
    import subprocess
    import sys

    code = "import sys, qa.cli; print(sorted(m for m in ('torch', 'sentence_transformers', 'spacy', 'faiss') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
