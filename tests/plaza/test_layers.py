"""The composition root is the only runtime package that imports the tenant emulator.

ARCHITECTURE.md: the emulator is imported by no runtime module; only the demo command, tests
and benchmarks start it. Checked on the source (ast), so lazy imports inside functions and
"module:attribute" strings for importlib count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = "connector.emulator"


def imported_modules(path: Path) -> set[str]:
    """Modules a file imports anywhere (absolute, relative, or named in a string)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            modules.add(base)
            modules.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            target = node.value.split(":")[0]
            if target.isidentifier() or target.replace(".", "").isidentifier():
                modules.add(target)
    return modules


def imports_emulator(path: Path) -> bool:
    return any(m == EMULATOR or m.startswith(EMULATOR + ".") for m in imported_modules(path))


def runtime_modules() -> list[Path]:
    emulator = ROOT / "connector" / "emulator"
    return [
        path
        for package in ("connector", "sync", "overlay_app")
        for path in sorted((ROOT / package).rglob("*.py"))
        if emulator not in path.parents
    ]


def test_no_runtime_module_imports_the_emulator():
    modules = runtime_modules()
    assert len(modules) > 50
    assert [str(p.relative_to(ROOT)) for p in modules if imports_emulator(p)] == []


def test_the_composition_root_does():
    """The check sees lazy imports and importlib targets: the root has both."""
    assert imports_emulator(ROOT / "plaza" / "demo.py")
    assert imports_emulator(ROOT / "plaza" / "cli.py")
