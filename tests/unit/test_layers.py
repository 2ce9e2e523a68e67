"""The layout docs/ARCHITECTURE.md promises, checked on the source: imports point down,
``counter`` imports nothing of ``visitorsite``, no module is over 400 lines, none is named
twice at two layers, and the document names every module."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    path.relative_to(ROOT)
    for package in ("counter", "visitorsite")
    for path in (ROOT / package).rglob("*.py")
)
LAYERS = ("web", "domain", "store", "render")
# What a layer may not import: each only what lies below it (the shared modules of counter/
# sit below all four).
FORBIDDEN = {
    "web": (),
    "domain": ("web", "render"),
    "store": ("web", "domain", "render"),
    "render": ("web", "domain", "store"),
    "shared": LAYERS,
}
MAX_LINES = 400


def _layer(module: Path) -> str:
    parts = module.parts
    if parts[0] == "visitorsite":
        return "project"
    if len(parts) > 2 and parts[1] in LAYERS:
        return parts[1]
    if len(parts) > 2:  # embedded/, management/, templatetags/
        return parts[1]
    return "app" if module.name in ("urls.py", "apps.py") else "shared"


def _imports(module: Path) -> set[str]:
    tree = ast.parse((ROOT / module).read_text(), filename=str(module))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_tree_is_found():
    assert Path("counter/store/connection.py") in MODULES
    assert Path("visitorsite/settings.py") in MODULES


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_imports_point_down(module):
    layer = _layer(module)
    for name in _imports(module):
        parts = name.split(".")
        if parts[0] == "visitorsite":
            assert layer == "project", f"{module} imports {name}: counter imports no visitorsite"
        if parts[0] == "counter" and len(parts) > 1 and layer in FORBIDDEN:
            assert parts[1] not in FORBIDDEN[layer], f"{module} ({layer}) imports {name}"


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_no_module_is_over_400_lines(module):
    lines = len((ROOT / module).read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines; split it by what it does"


def test_no_module_name_at_two_layers():
    layers = defaultdict(set)
    for module in MODULES:
        if module.name not in ("__init__.py", "urls.py"):  # urls.py: Django's, project and app
            layers[module.stem].add(_layer(module))
    twice = {name: sorted(where) for name, where in layers.items() if len(where) > 1}
    assert twice == {}


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_architecture_names_every_module(module):
    if module.name == "__init__.py":
        return
    assert module.name in (ROOT / "docs" / "ARCHITECTURE.md").read_text(), module
