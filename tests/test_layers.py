"""Two layers (design/architecture.md): a building block never imports an application, nor the
composition root that wires blocks into the site; an application never reaches into another
application's models. Imports are read with ``ast`` from every source file, so the rule holds for
code that is never executed by the tests too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
BLOCKS = SRC / "dancu" / "blocks"
APPS = SRC / "dancu" / "apps"
COMPOSITION_ROOT = (
    "dancu.api",
    "dancu.urls",
    "dancu.cli",
    "dancu.settings",
    "dancu.test_settings",
    "dancu.wsgi",
)


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module named by an import in ``source`` (relative imports resolved against ``module``),
    plus string literals passed to ``import_module``/``__import__``. ``from a import b`` yields both
    ``a`` and ``a.b`` since ``b`` may be a submodule."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"} and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def imports_of(path: Path) -> set[str]:
    return imported_modules(
        path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
    )


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


# --------------------------------------------------------------------------- the checker itself
@pytest.mark.parametrize(
    "source",
    [
        "import dancu.apps.web.views",
        "from dancu.apps.web import views",
        "from dancu import apps",
        "from dancu.apps import web",
        "from ...apps.web import views",  # relative, from dancu.blocks.registry.services
        "from ... import apps",
        "def f():\n    from dancu.apps.console.views import x\n",  # inside a function
        "import importlib\nimportlib.import_module('dancu.apps.web.views')",
    ],
)
def test_the_checker_sees_every_way_of_importing_an_application(source: str) -> None:
    found = imported_modules(source, "dancu.blocks.registry.services")
    assert any(is_within(m, "dancu.apps") for m in found), found


def test_the_checker_does_not_flag_imports_of_other_blocks() -> None:
    source = (
        "from dancu.blocks.audit import services\n"
        "from ..audit.context import AccessContext\n"
        "import dancu.errors"
    )
    found = imported_modules(source, "dancu.blocks.registry.services")
    assert not any(is_within(m, "dancu.apps") for m in found)
    assert "dancu.blocks.audit.context" in found


def test_relative_imports_in_a_package_init_resolve_against_the_package() -> None:
    found = imported_modules("from .services import x", "dancu.blocks.registry", is_package=True)
    assert "dancu.blocks.registry.services" in found


def test_the_scan_covers_the_blocks_source_tree() -> None:
    files = {p.relative_to(BLOCKS).as_posix() for p in python_files(BLOCKS)}
    for expected in [
        "registry/services.py",
        "registry/api.py",
        "audit/services.py",
        "organisations/policy.py",
    ]:
        assert expected in files


# --------------------------------------------------------------------------- the rules
def test_no_building_block_imports_an_application() -> None:
    offenders = {
        f"{p.relative_to(SRC)} imports {m}"
        for p in python_files(BLOCKS)
        for m in imports_of(p)
        if is_within(m, "dancu.apps")
    }
    assert not offenders, sorted(offenders)


def test_no_building_block_imports_the_composition_root() -> None:
    offenders = {
        f"{p.relative_to(SRC)} imports {m}"
        for p in python_files(BLOCKS)
        for m in imports_of(p)
        if any(is_within(m, root) for root in COMPOSITION_ROOT)
    }
    assert not offenders, sorted(offenders)


def test_an_application_never_imports_another_applications_models() -> None:
    offenders = set()
    for p in python_files(APPS):
        parts_of_module = module_name(p).split(".")
        own_app = parts_of_module[2] if len(parts_of_module) > 2 else ""
        for m in imports_of(p):
            parts = m.split(".")
            if (
                len(parts) >= 4
                and parts[:2] == ["dancu", "apps"]
                and parts[2] != own_app
                and parts[3] == "models"
            ):
                offenders.add(f"{p.relative_to(SRC)} imports {m}")
    assert not offenders, sorted(offenders)
