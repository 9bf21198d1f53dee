"""The layers are visible from the folders, and each imports only downward.

Every module of the package is parsed (``ast``: imports inside functions and under
``TYPE_CHECKING`` count too, since they are dependencies all the same) and placed in one layer;
an import of a module in a higher layer fails this test, naming the module, the line and the
import. CONTRIBUTING.md ("Layers") describes the same order.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "bundlelint"

#: Bottom to top. A module belongs to the first layer one of whose prefixes it equals or lies
#: under. A module may import its own layer and any layer below it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Small shared modules with no bundlelint imports of their own (or only each other's).
    ("shared", ("bundlelint.errors", "bundlelint.options", "bundlelint.display",
                "bundlelint.shellquote", "bundlelint.exitstatus", "bundlelint.identifiers",
                "bundlelint.paths", "bundlelint.progress", "bundlelint.findings",
                "bundlelint.trust")),
    ("parsers", ("bundlelint.parsers",)),
    ("inputs", ("bundlelint.inputs",)),
    ("bundle model", ("bundlelint.bundle", "bundlelint.layout")),
    ("analysis", ("bundlelint.analysis",)),
    ("rules", ("bundlelint.rules",)),
    ("engine/pipeline", ("bundlelint.engine", "bundlelint.pipeline", "bundlelint.config",
                         "bundlelint.baseline")),
    ("reporters", ("bundlelint.reporters", "bundlelint.sbom")),
    ("commands", ("bundlelint.commands", "bundlelint.cli", "bundlelint.__main__",
                  "bundlelint")),  # the package root is the public API: lint(), lint_all()
)

#: (importing module prefix, imported name) pairs allowed upward, each with its reason.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("bundlelint", "bundlelint.__version__"):
        "a constant of the package root, which imports nothing at run time (its API names "
        "are loaded on first use), so reading it pulls in no layer above",
}


class Import(NamedTuple):
    module: str  # the importing module
    line: int
    target: str  # the imported module, or module.name for ``from module import name``


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (REPO / relative.with_suffix(".py")).is_file() or (REPO / relative).is_dir()


def imports_of(path: Path) -> list[Import]:
    return imports_in(path.read_text(encoding="utf-8"), module_name(path),
                      is_package=path.name == "__init__.py")


def imports_in(text: str, module: str, *, is_package: bool = False) -> list[Import]:
    """The bundlelint imports of ``text``, the source of ``module``, wherever they are."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from pkg import sub`` imports the submodule; ``from mod import name``
                # depends on mod (the name is kept for the allowlist).
                found.append(Import(module, node.lineno, f"{base}.{alias.name}"))
    return [i for i in found if i.target == "bundlelint" or i.target.startswith("bundlelint.")]


def layer_of(dotted: str) -> int:
    """The layer of ``dotted`` (a module, or a name in one), by the longest matching prefix."""
    best, best_len = -1, -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # The package root holds only itself: its submodules are placed by their own names.
            under = prefix != "bundlelint" and dotted.startswith(prefix + ".")
            if (dotted == prefix or under) and len(prefix) > best_len:
                best, best_len = rank, len(prefix)
    return best


def resolved(target: str) -> str:
    """The module an import target denotes: itself if it is one, else its parent module."""
    return target if is_module(target) else target.rpartition(".")[0]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    unplaced = [module_name(p) for p in MODULES if layer_of(module_name(p)) < 0]
    assert not unplaced, f"add these modules to a layer in LAYERS: {unplaced}"


def test_imports_go_only_downward() -> None:
    upward = []
    for path in MODULES:
        for imp in imports_of(path):
            here, there = layer_of(imp.module), layer_of(resolved(imp.target))
            allowed = any(imp.module.startswith(m) and imp.target == t
                          for m, t in ALLOWED_UPWARD)
            if there > here and not allowed:
                upward.append(f"{imp.module}:{imp.line} ({LAYERS[here][0]}) imports "
                              f"{imp.target} ({LAYERS[there][0]})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_the_allowlist_is_still_needed() -> None:
    """An allowlist entry that no import uses any more is removed, not left to grow."""
    used = {(m, t) for path in MODULES for imp in imports_of(path)
            for (m, t) in ALLOWED_UPWARD if imp.module.startswith(m) and imp.target == t
            and layer_of(resolved(imp.target)) > layer_of(imp.module)}
    assert used == set(ALLOWED_UPWARD)


@pytest.mark.parametrize(("source", "expected"), [
    ("from bundlelint.bundle import Bundle", "bundlelint.bundle.Bundle"),
    ("from .. import bundle", "bundlelint.bundle"),
    ("from ..bundle import Bundle", "bundlelint.bundle.Bundle"),
    ("import bundlelint.rules.base", "bundlelint.rules.base"),
    ("if TYPE_CHECKING:\n        from bundlelint.bundle import Bundle", "bundlelint.bundle.Bundle"),
])
def test_the_import_reader_sees_every_form(source: str, expected: str) -> None:
    # The checker could fail silently: a form it missed would hide an upward import. Each
    # form, inside a function of an inputs module, must be found and judged upward.
    text = f"def f() -> None:\n    {source}\n"
    [found] = imports_in(text, "bundlelint.inputs.probe")
    assert found.target == expected
    assert layer_of(resolved(found.target)) > layer_of(found.module)
