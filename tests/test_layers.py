"""Imports run one way: interface -> orchestration -> I/O -> pure code -> model.

The layers are written down in the README's design section; this test reads
every module's imports (the AST, so imports inside functions count too) and
fails when one points up a layer, when pure code imports an I/O library, when
a module belongs to no layer (a new package must be placed), or when modules
import each other in a cycle (within a layer, too, imports run one way).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "crawler"

# Top to bottom; a module may import its own layer and the ones below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("interface", ("crawler.__main__", "crawler.cli", "crawler.console", "crawler.index.command",
                   "crawler.match.command", "crawler.match.known_command", "crawler.queue.command")),
    ("orchestration", ("crawler.run",)),
    ("I/O", ("crawler.net", "crawler.pages", "crawler.store", "crawler.evaluation", "crawler.index", "crawler.match",
             "crawler.queue")),
    ("pure", ("crawler.records", "crawler.fingerprint", "crawler.match.evidence", "crawler.match.grouping",
              "crawler.match.near", "crawler.match.model")),
    ("model", ("crawler.settings", "crawler.models", "crawler.errors", "crawler.answers", "crawler")),
]
IO_LIBRARIES = ("httpx", "httpcore", "socksio", "tenacity", "socket", "asyncio", "sqlite3", "psycopg", "subprocess")
NO_NETWORK = {"crawler.evaluation": ("crawler.net", "crawler.run", "httpx", "httpcore", "socksio", "tenacity")}
# match's grouping logic knows nothing of the database that holds the records
NO_DATABASE = ("sqlite3", "psycopg", "crawler.index")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int:
    """Index of the layer the most specific prefix of ``name`` belongs to."""
    best, depth = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if within(name, prefix) and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    return best


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in MODULES)
    return names


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of modules that import each other in ``graph`` (module -> what it imports), or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer(name: str) -> None:
    assert layer_of(name) >= 0, f"{name} is in no layer: add it to LAYERS here and to the README's design section"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    own = layer_of(name)
    upward = sorted(
        imported for imported in imports_of(MODULES[name])
        if imported.startswith("crawler") and imported in MODULES and layer_of(imported) < own
    )
    assert not upward, f"{name} ({LAYERS[own][0]}) imports a higher layer: {upward}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer_of(n) >= 3))
def test_pure_code_and_the_model_do_no_io(name: str) -> None:
    io = sorted(i for i in imports_of(MODULES[name]) if i.split(".")[0] in IO_LIBRARIES)
    assert not io, f"{name} is pure but imports {io}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if any(within(n, p) for p in NO_NETWORK)))
def test_the_evaluation_harness_does_not_import_the_network_stack(name: str) -> None:
    banned = next(b for p, b in NO_NETWORK.items() if within(name, p))
    found = sorted(i for i in imports_of(MODULES[name]) if any(within(i, b) for b in banned))
    assert not found, f"{name} imports {found}"


def test_no_modules_import_each_other() -> None:
    graph = {name: {i for i in imports_of(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    cycle = import_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}: move what they share into a module both import"


def test_the_check_sees_a_cycle() -> None:
    cycle = import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert cycle is not None and set(cycle) == {"a", "b", "c"} and cycle[0] == cycle[-1]
    assert import_cycle({"a": {"b"}, "b": set()}) is None


def test_the_check_sees_a_wrong_arrow(tmp_path: Path) -> None:
    """The checker itself: an upward import in a pure module is reported."""
    path = tmp_path / "bad.py"
    path.write_text("from crawler.net.fetch import Fetcher\n")
    assert "crawler.net.fetch" in imports_of(path)
    assert layer_of("crawler.net.fetch") < layer_of("crawler.records")


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer_of(n) == 3 and within(n, "crawler.match")))
def test_matching_logic_does_not_import_the_database(name: str) -> None:
    found = sorted(i for i in imports_of(MODULES[name]) if any(within(i, banned) for banned in NO_DATABASE))
    assert not found, f"{name} imports {found}"
