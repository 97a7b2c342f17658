"""The frontend's import graph: no cycles, shared/ never reaches into views/.

Every `.js` file under `frontend/` is parsed for its `import ... from "..."`,
`export ... from "..."`, bare `import "..."` and `import("...")` specifiers.
They are resolved as the browser resolves them: against the module's URL, where
`index.js` is served at `data/plugin/netviz/index.js` and every other file
at `data/plugin/netviz/static/<path under frontend/>` (`tb_netviz/plugin.py`).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest

from tb_netviz.plugin import _static_files

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"
ENTRY = "index.js"

_SPEC = r"""\s*["']([^"'\n]+)["']"""
_PATTERNS = [
    # import x, { a as b, c } from "..."; import * as m from "...";
    re.compile(r"^\s*import\s+[\w$\s{},*]+?\s+from" + _SPEC, re.MULTILINE),
    # export { a, b } from "..."; export * from "..."; export * as m from "...";
    re.compile(
        r"^\s*export\s+(?:\*(?:\s+as\s+[\w$]+)?|\{[\w$\s,]*\})\s+from" + _SPEC,
        re.MULTILINE,
    ),
    re.compile(r"^\s*import" + _SPEC, re.MULTILINE),  # import "...";
    re.compile(r"\bimport\(" + _SPEC + r"\s*\)"),  # import("...")
]
_IMPORT_LINE = re.compile(r"^\s*import\b(?!\()", re.MULTILINE)


def _modules() -> list[str]:
    """Every `.js` file as a `/`-separated path relative to `frontend/`."""
    return sorted(p.relative_to(FRONTEND).as_posix() for p in FRONTEND.rglob("*.js"))


def _url(module: str) -> str:
    """The module's URL path relative to the plugin's route prefix."""
    return module if module == ENTRY else f"static/{module}"


def _file_of(url: str) -> str | None:
    """The frontend file a URL path names, or None when it names none."""
    if url == ENTRY:
        return ENTRY
    if url.startswith("static/"):
        return url[len("static/") :]
    return None


def _specifiers(text: str) -> list[str]:
    return [m.group(1) for pattern in _PATTERNS for m in pattern.finditer(text)]


def _graph() -> dict[str, list[tuple[str, str | None]]]:
    """module -> [(specifier, resolved module or None)]."""
    graph = {}
    for module in _modules():
        text = (FRONTEND / module).read_text(encoding="utf-8")
        edges = []
        for spec in _specifiers(text):
            if not spec.startswith(("./", "../")):
                edges.append((spec, None))  # bare or absolute: no CDN, no build
                continue
            url = posixpath.normpath(
                posixpath.join(posixpath.dirname(_url(module)), spec)
            )
            edges.append((spec, _file_of(url)))
        graph[module] = edges
    return graph


GRAPH = _graph()


def test_parser_sees_every_import_statement():
    # A statement the patterns miss would hide an edge from every check below.
    for module in GRAPH:
        text = (FRONTEND / module).read_text(encoding="utf-8")
        statements = len(_IMPORT_LINE.findall(text))
        static = len(_PATTERNS[0].findall(text)) + len(_PATTERNS[2].findall(text))
        assert statements == static, module


def test_graph_is_the_expected_shape():
    assert len(GRAPH) >= 30
    assert [target for _, target in GRAPH[ENTRY]] == ["app.js"]
    app = {target for _, target in GRAPH["app.js"]}
    assert {"shared/state.js", "views/view_units.js"} <= app
    assert "views/unit_page.js" in {t for _, t in GRAPH["views/view_units.js"]}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_every_import_resolves_to_an_existing_file(module):
    for spec, target in GRAPH[module]:
        assert target is not None, f"{module}: {spec!r} is not a frontend file"
        assert (FRONTEND / target).is_file(), f"{module}: {spec!r} -> {target}"
        assert target.endswith(".js"), f"{module}: {spec!r}"


def test_every_reachable_module_is_served():
    served = set(_static_files())
    seen, todo = set(), [ENTRY]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(t for _, t in GRAPH[module] if t is not None)
    assert seen <= served
    assert seen == set(GRAPH), sorted(set(GRAPH) - seen)  # no dead modules


def test_no_import_cycle():
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in path, "import cycle: " + " -> ".join(
            [*path[path.index(module) :], module]
        )
        path.append(module)
        for _, target in GRAPH[module]:
            if target in GRAPH:
                visit(target)
        path.pop()
        done.add(module)

    for module in GRAPH:
        visit(module)


def test_shared_never_imports_views():
    for module, edges in GRAPH.items():
        if module.startswith("shared/"):
            for spec, target in edges:
                assert target is not None and not target.startswith("views/"), (
                    f"{module} imports {spec!r}"
                )
                assert target not in (ENTRY, "app.js"), f"{module} imports {spec!r}"


def test_folders():
    # Only the entry point and the app at the top; every view in views/.
    top = {m for m in GRAPH if "/" not in m}
    assert top == {ENTRY, "app.js"}
    assert {m.split("/")[0] for m in GRAPH if "/" in m} == {"shared", "views"}
    for module in GRAPH:
        if posixpath.basename(module).startswith("view_"):
            assert module.startswith("views/"), module
    # Nothing but the entry point imports the app, nothing imports the entry point.
    for module, edges in GRAPH.items():
        targets = {t for _, t in edges}
        assert ENTRY not in targets, module
        assert module == ENTRY or "app.js" not in targets, module
