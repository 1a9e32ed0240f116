"""The stages stand in pipeline order: no import cycle, no private name borrowed across modules."""

from __future__ import annotations

import ast
import pathlib

import pytest

import userimport

PACKAGE = pathlib.Path(userimport.__file__).parent

#: Each module's layer: a module imports only modules of its own layer or of earlier ones.
#: Within a layer, the stage's public module and its private helpers live together.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Shared values and the store protocol, used by every stage.
    (
        "errors",
        "_text",
        "_email",
        "_numfmt",
        "_saved",
        "_settings",
        "model",
        "repository",
        "history",
        "notify",
        "fields",
        "_kinds",
    ),
    # The stores.
    ("_sqlschema", "_sqlio", "sql"),
    # The stages, in pipeline order. The table a reader returns, and the readers of each format.
    ("_table", "_csv", "_xlsx", "_xlsxfast"),
    ("headers", "_synonyms", "_headerwords"),
    # read_table counts the data rows below the header, so it comes after the header stage.
    ("read",),
    ("_matches", "mapping", "_content", "_suggest"),
    ("_issues", "validation"),
    ("review",),
    (
        "plan",
        "_planframe",
        "_plansaved",
        "_planwrite",
        "_planrules",
        "_planparts",
        "_namecheck",
        "_mirror",
    ),
    ("apply",),
    ("export", "actions"),
    # The pipeline assembled once, and what replays it.
    ("pipeline", "recipe"),
    # The edges: what people use, built on everything above.
    (
        "_display",
        "testing",
        "_cliopts",
        "_cliuser",
        "cli",
        "_clidoc",
        "__main__",
        "web._i18n",
        "web._base",
        "web._sessions",
        "web._users",
        "web._wizard",
        "web.app",
        "web.serve",
        "web",
        "__init__",
    ),
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}

#: The imports against the order, each with its reason; a new one needs a reason as good.
EXCEPTIONS = {
    ("review", "plan"): "Review.overview(repository) gives the plan's summary (docs/review.md)",
}


def module_name(path: pathlib.Path) -> str:
    """``web/app.py`` -> ``web.app``; ``web/__init__.py`` -> ``web``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """Every import of a package module in ``name``: (module, name imported or None, line)."""
    path = SOURCES[name]
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package and name != "__init__" else name.split(".")[:-1]
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base, module = package[: len(package) - node.level + 1], node.module
            elif node.module and node.module.split(".")[0] == "userimport":
                base, module = [], node.module.partition(".")[2] or None
            else:
                continue
            for alias in node.names:
                out += _resolved(base, module, alias.name, node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("userimport."):
                    out.append((alias.name.split(".", 1)[1], None, node.lineno))
    return out


def _resolved(
    base: list[str], module: str | None, imported: str, line: int
) -> list[tuple[str, str | None, int]]:
    """``from <base>.<module> import <imported>``: a module imported whole, or a name of one."""
    prefix = [*base, *(module.split(".") if module else [])]
    whole = ".".join([*prefix, imported])
    if whole in SOURCES:
        return [(whole, None, line)]
    return [(".".join(prefix) or "__init__", imported, line)]


GRAPH = {name: imports(name) for name in SOURCES}


def test_every_module_has_a_layer() -> None:
    """A new module is placed in LAYERS, so its place in the pipeline is a decision."""
    assert [] == sorted(set(SOURCES) - set(RANK))


def test_no_import_cycle() -> None:
    """No module reaches itself through imports, counting imports inside functions."""
    edges = {
        name: sorted({m for m, _, _ in GRAPH[name] if m != name and (name, m) not in EXCEPTIONS})
        for name in SOURCES
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in edges[name]:
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(SOURCES):
        if name not in state:
            visit(name)
    assert [] == cycles


def test_no_private_name_imported_from_another_module() -> None:
    """``from .plan import _entries`` is refused: a name shared across modules is public."""
    found = [
        f"{name}:{line} imports {module}.{imported}"
        for name in sorted(SOURCES)
        for module, imported, line in GRAPH[name]
        if imported is not None
        and imported.startswith("_")
        and not imported.startswith("__")
        and module != name
    ]
    assert [] == found


def test_stages_import_only_earlier_stages() -> None:
    """A stage imports only earlier stages and the shared values, never a later stage."""
    found = [
        f"{name}:{line} imports the later {module}"
        for name in sorted(SOURCES)
        for module, _, line in GRAPH[name]
        if module in RANK
        and name in RANK
        and RANK[module] > RANK[name]
        and (name, module) not in EXCEPTIONS
    ]
    assert [] == found


#: The longest a module may be (style rule 1: "no module past ~800 lines").
MAX_LINES = 800
#: Modules still longer, each due to be split along its seams (see docs/architecture.md).
TO_SPLIT: frozenset[str] = frozenset()


def test_no_module_past_the_line_limit() -> None:
    """Every module is at most MAX_LINES lines, but those listed in TO_SPLIT."""
    lengths = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in SOURCES.items()
    }
    assert {} == {n: k for n, k in lengths.items() if k > MAX_LINES and n not in TO_SPLIT}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .plan import _entries\n", [("plan", "_entries")]),
        ("from . import _text\n", [("_text", None)]),
        ("def f():\n    from .validation import _source\n", [("validation", "_source")]),
        ("from userimport.read import RawTable\n", [("read", "RawTable")]),
    ],
)
def test_imports_are_found_inside_functions_too(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    expected: list[tuple[str, str | None]],
) -> None:
    """The walker sees relative, absolute and function-level imports alike."""
    monkeypatch.setitem(SOURCES, "probe", tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text(source, encoding="utf-8")
    assert expected == [(m, n) for m, n, _ in imports("probe")]
