"""The folders are the architecture: these tests fail when an import crosses a layer wrongly.

Only `ui/` and `app.py` may import PySide6 (everything else must run headless), imports flow
`ui -> services -> (dsco, store, spreadsheets) -> domain`, and the sandbox shares nothing with
the client or the store, so a misreading of the spec in one is caught by the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dsco_desktop"

# What each layer may import from inside the package (besides itself and the shared bits).
SHARED = {"errors", "domain", "paths"}
ALLOWED = {
    "domain": {"errors", "domain"},
    "dsco": SHARED | {"dsco"},
    "store": SHARED | {"store"},
    "spreadsheets": SHARED | {"spreadsheets"},
    "services": SHARED | {"services", "dsco", "store", "spreadsheets"},
    "sandbox": {"errors", "sandbox"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # Resolve relative imports against the module's own package.
            base = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
            names.append(".".join((*base, node.module or "")).rstrip("."))
    return names


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_package_has_modules() -> None:
    assert len(_modules()) > 10


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_ui_and_app_import_qt(path: Path) -> None:
    if _layer(path) in {"ui", "app"}:
        return
    qt_roots = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}
    qt = [n for n in _imports(path) if n.split(".")[0] in qt_roots]
    assert not qt, f"{path.relative_to(PACKAGE)} imports Qt ({qt}); only ui/ and app.py may"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path: Path) -> None:
    layer = _layer(path)
    allowed = ALLOWED.get(layer)
    if allowed is None:  # ui, app, paths, errors, the package root
        return
    internal = [n for n in _imports(path) if n.split(".")[0] == "dsco_desktop"]
    bad = [n for n in internal if len(n.split(".")) > 1 and n.split(".")[1] not in allowed]
    assert not bad, f"{path.relative_to(PACKAGE)} ({layer}) may not import {bad}"
