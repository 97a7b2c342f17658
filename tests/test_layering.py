"""The layering rules of DESIGN.md, checked on the imports of every module (ast).

metadata.py  <-  writer.py  <-  loggers/  ->  methods/, pictures/, config.py
metadata.py  <-  reader.py  <-  plugin.py        (no TensorFlow, no numpy)
callback.py  ->  loggers/, config.py, budget.py, metadata.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tb_netviz"
HEAVY = {"tensorflow", "keras", "numpy"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """`(module-level imports, all imports)` of a file, as dotted names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top, every = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        else:
            continue
        every |= names
        if node in tree.body:
            top |= names
    return top, every


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _ours(names: set[str]) -> set[str]:
    """Our modules among imported names (`from tb_netviz import x` -> tb_netviz.x)."""
    ours = {n for n in names if n.split(".")[0] == "tb_netviz" and n in MODULES}
    return {n for n in ours if not any(m.startswith(n + ".") for m in ours)}


def _roots(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_every_module_is_seen():
    assert {"tb_netviz.metadata", "tb_netviz.plugin", "tb_netviz.loggers.base"} <= set(
        MODULES
    )
    assert len(MODULES) > 30


@pytest.mark.parametrize(
    "module",
    [
        "tb_netviz",
        "tb_netviz.metadata",
        "tb_netviz.plugin",
        "tb_netviz.reader",
        "tb_netviz.lru",
    ],
)
def test_entry_point_side_is_light(module):
    _, every = MODULES[module]
    assert not _roots(every) & HEAVY, f"{module} imports {_roots(every) & HEAVY}"
    # The package root imports the callback and the specs lazily.
    allowed = (
        "tb_netviz.metadata",
        "tb_netviz.reader",
        "tb_netviz.lru",
        "tb_netviz.listing",
        "tb_netviz.callback",
        "tb_netviz.loggers",
    )
    assert all(_within(m, allowed) for m in _ours(every)), _ours(every)


def test_metadata_imports_only_the_standard_library_and_tensorboard():
    top, _ = MODULES["tb_netviz.metadata"]
    third_party = _roots(top) - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= {"tensorboard"}, third_party


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("tb_netviz.")])
def test_arrows_point_one_way(module):
    ours = _ours(MODULES[module][1])
    if _within(module, ("tb_netviz.methods",)):
        forbidden = ours - {m for m in ours if _within(m, ("tb_netviz.methods",))}
        assert not forbidden, f"methods/ are pure: {module} imports {forbidden}"
    if _within(module, ("tb_netviz.pictures",)):
        assert _roots(MODULES[module][1]) - set(sys.stdlib_module_names) <= {
            "numpy",
            "__future__",
            "tb_netviz",
        }
        assert all(_within(m, ("tb_netviz.pictures",)) for m in ours), ours
    if module == "tb_netviz.writer":
        assert ours <= {"tb_netviz.metadata"}, ours
    if module in ("tb_netviz.config", "tb_netviz.budget"):
        allowed = (
            "tb_netviz.methods.common.layers",
            "tb_netviz.methods.common.default_layers",
            "tb_netviz.methods.common.class_scores",  # labels the chosen layers
            "tb_netviz.loggers.spec",  # the schedule reads the specs
        )
        assert all(_within(m, allowed) for m in ours), ours
    if _within(module, ("tb_netviz.loggers",)):
        assert not any(
            _within(m, ("tb_netviz.callback", "tb_netviz.plugin", "tb_netviz.reader"))
            for m in ours
        ), ours
    if module == "tb_netviz.callback":
        assert not any(
            _within(m, ("tb_netviz.methods", "tb_netviz.pictures", "tb_netviz.writer"))
            for m in ours
        ), f"the callback decides when, the loggers what: {ours}"


def test_no_import_cycles():
    graph = {m: _ours(every) - {m} for m, (_, every) in MODULES.items()}
    # A package's __init__ re-exporting its modules is not a cycle of roles.
    for module, deps in graph.items():
        graph[module] = {d for d in deps if not module.startswith(d + ".")}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            assert state.get(dep) != 1, " -> ".join([*path, node, dep])
            if dep not in state:
                visit(dep, [*path, node])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_no_test_module_imports_another():
    tests = Path(__file__).resolve().parent
    for path in sorted(tests.glob("*.py")):
        _, every = _imports(path)
        imported = {name.split(".")[0] for name in every}
        assert not {n for n in imported if n.startswith("test_")}, path.name


def test_the_callback_names_no_group_of_the_vocabulary():
    from tb_netviz import metadata

    tree = ast.parse((PACKAGE / "callback.py").read_text(encoding="utf-8"))
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    # "probe" is also the probe batch, the callback's second argument, and
    # "model" Keras' `Callback.model`.
    groups = set(metadata.GROUPS) - {"probe", "model"}
    assert not strings & groups, strings & groups
    assert not names & groups, names & groups
    specs = {g.capitalize() for g in metadata.GROUPS}
    assert not names & specs, names & specs


def test_no_module_imports_a_private_name_from_another():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
            # module._name (a module imported under its name or an alias)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                owner = node.value.id
                assert (
                    owner in ("self", "cls", "e", "np", "tf", "keras")
                    or (owner[0].isupper())
                    or owner in _local_names(tree)
                ), f"{path.name} reads {owner}.{node.attr}"


def _local_names(tree: ast.AST) -> set[str]:
    """Names bound in a module other than by import (objects, not modules)."""
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    bound = {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    } | {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
    return bound - imported
