"""The house: one subpackage per pipeline stage, grammar/ and kernels/ at the root, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# where each installed package's files live in the checkout (pyproject.toml maps the last two)
SOURCES = {"metarlm": ROOT / "metarlm", "metarlm.grammar": ROOT / "grammar",
           "metarlm.kernels": ROOT / "kernels"}
STAGES = ("lang", "exec", "synth", "neural", "eval", "data")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name, with its file."""
    found: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "metarlm" and name.startswith(("metarlm.grammar", "metarlm.kernels")):
                continue
            found[name] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package modules a file imports anywhere in it (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import mod` imports the module pkg.mod when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in known and t != name}
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_stages_are_subpackages_and_grammar_and_kernels_sit_at_the_root() -> None:
    for stage in STAGES:
        assert (ROOT / "metarlm" / stage / "__init__.py").is_file(), stage
    assert (ROOT / "grammar" / "core.lark").is_file()
    assert (ROOT / "kernels" / "machine.py").is_file()
    assert not (ROOT / "metarlm" / "grammar").exists()
    assert not (ROOT / "metarlm" / "kernels").exists()
    # the package root holds the API, the command line and what every stage shares, no stage
    flat = {p.name for p in (ROOT / "metarlm").glob("*.py")}
    assert flat <= {"__init__.py", "__main__.py", "cli.py", "errors.py", "testing.py", "types.py"}


def test_kernels_import_no_python_objects_beyond_numpy_numba_and_layout() -> None:
    mods = modules()
    for name, path in mods.items():
        if name.startswith("metarlm.kernels"):
            used = imports(path, name, set(mods))
            assert used <= {"metarlm.kernels.layout", "metarlm.kernels.machine",
                            "metarlm.neural.tokens"}, (name, used)


def test_the_build_lists_every_subpackage() -> None:
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "metarlm").rglob("__init__.py") if "checkpoints" not in p.parts}
    found = {f for f in found if f not in ("metarlm.grammar", "metarlm.kernels")}
    assert found <= listed, sorted(found - listed)  # a missing one is absent from the wheel
