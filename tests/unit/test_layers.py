"""The layout docs/ARCHITECTURE.md promises, checked on the source: imports point down,
``counter`` imports nothing of ``visitorsite``, no module is over 400 lines, none is named
twice at two layers, and the document names every module."""

import ast
import re
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
SHARED = ("names", "clock", "metrics", "checks")  # counter/'s own modules under every layer
EVERYTHING = (*LAYERS, "embedded", "management", "templatetags", "urls", "apps")
# What each part of counter/ may not import (counter.<first part>): each only what lies
# below it; the shared modules import nothing of counter; gunicorn's master starts the
# embedded server and must not load the store (its client, metrics and fork hooks) to do it.
FORBIDDEN = {
    "web": ("management", "urls", "apps"),
    "domain": ("web", "render", "embedded", "management", "templatetags", "urls", "apps"),
    "store": ("web", "domain", "render", "embedded", "management", "templatetags", "urls"),
    "render": tuple(part for part in EVERYTHING if part != "render"),
    "embedded": (*(part for part in EVERYTHING if part != "embedded"), "metrics"),
    "shared": (*EVERYTHING, *SHARED),
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
    return "shared" if module.stem in SHARED else "app"  # urls.py, apps.py: Django's


def _imports(module: Path) -> set[str]:
    """Every module a file imports, wherever in it (a function's too), relative ones
    resolved: ``from counter.web import x`` gives counter.web and counter.web.x."""
    tree = ast.parse((ROOT / module).read_text(), filename=str(module))
    package = module.with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            name = ".".join((*base, *([node.module] if node.module else [])))
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
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
    named = rf"(?<![\w.]){re.escape(module.name)}"  # server.py is not runserver.py
    assert re.search(named, (ROOT / "docs" / "ARCHITECTURE.md").read_text()), module
