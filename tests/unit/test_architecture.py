"""The rooms of the house import only downward (docs/architecture.md).

Every Python file of the compiler (`aot`), the kit around it (`waftkit`) and the
SCons tools is parsed, and each import — at the top or inside a function — is
checked against the room it comes from: the compiler imports nothing of the
kit, runners and firmware do not know each other, and test tooling is a leaf
that only the command line may import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Module prefix -> room; the longest prefix wins.
ROOMS = {
    "aot": "compiler",
    "waftkit": "kit",  # the package's own __init__ (its version)
    "waftkit.wasi": "wasi",
    "waftkit.wasi_ext": "wasi",
    "waftkit.imports_check": "wasi",
    "waftkit.firmware": "firmware",
    "waftkit.runners": "runners",
    "waftkit.cache": "cache",
    "waftkit.run": "run",
    "waftkit.testing": "testing",
    "waftkit.cli": "cli",
    "waftkit.cli_wit": "cli",
    "waftkit.cli_component": "cli",
    "waftkit.cli_bsp": "cli",
    "waftkit.__main__": "cli",
}

# Room -> the rooms it may import (besides itself).
MAY_IMPORT = {
    "compiler": set(),
    "kit": {"compiler"},
    "wasi": {"compiler"},
    "firmware": {"compiler", "wasi"},
    "runners": {"compiler"},
    "cache": {"compiler"},
    "run": {"compiler", "kit", "wasi", "firmware", "runners", "cache"},
    "testing": {"compiler", "kit", "wasi", "firmware", "runners", "cache", "run"},
    "cli": {"compiler", "kit", "wasi", "firmware", "runners", "cache", "run", "testing"},
    # SCons tools build and run firmware; they never reach for the test tooling or the CLI.
    "scons": {"compiler", "kit", "wasi", "firmware", "runners", "cache"},
}


def room_of(module: str) -> str | None:
    """The room a dotted module name belongs to, or None for a third-party/stdlib module."""
    best = None
    for prefix in ROOMS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best):
                best = prefix
    return ROOMS[best] if best else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    base = REPO.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved against `package`
    (default: the file's own package in the checkout)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    if package is None:
        package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if _is_module(full) else base))
    return found


def _sources() -> list[tuple[Path, str]]:
    files = [(p, room_of(_module_name(p))) for d in ("aot", "waftkit") for p in sorted((REPO / d).rglob("*.py"))]
    files += [(p, "scons") for p in sorted((REPO / "site_scons" / "site_tools").glob("*.py"))]
    return files


def test_every_file_is_in_a_room():
    assert all(room for _, room in _sources()), [str(p) for p, room in _sources() if not room]
    assert len(_sources()) > 50  # the walk found the code


@pytest.mark.parametrize("path,room", _sources(), ids=lambda v: str(v.relative_to(REPO)) if isinstance(v, Path) else v)
def test_imports_go_downward(path: Path, room: str):
    wrong = []
    for line, module in imports_of(path):
        target = room_of(module)
        if target is not None and target != room and target not in MAY_IMPORT[room]:
            wrong.append(f"{path.relative_to(REPO)}:{line}: the {room} room imports {module} (the {target} room)")
    assert not wrong, "\n".join(wrong)


def test_the_check_catches_an_upward_import(tmp_path: Path):
    """The rule is not vacuous: the compiler importing a runner is caught."""
    probe = tmp_path / "emit.py"
    probe.write_text("from . import abi\n\ndef f():\n    from waftkit.runners.qemu import run_elf\n")
    found = [(line, module, room_of(module)) for line, module in imports_of(probe, package="aot")]
    assert found == [(1, "aot.abi", "compiler"), (4, "waftkit.runners.qemu", "runners")]
    assert "runners" not in MAY_IMPORT["compiler"]
