"""The ABI version is checked when a module meets the runtime (docs/lts.md, waft.h WAFT_ABI_VERSION).

A module compiled for another ABI version must not link against this
runtime: the object references `waft_abi_v<N>`, which only a runtime of
version N defines, and Waft's link step reports both versions in one line.
Its generated header refuses to compile against another waft.h.  The
"other version" object is a real compile with the compiler's ABI_VERSION
changed, as a past or future Waft release would produce it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from aot import abi
from aot.compiler import compile_module
from aot.errors import TargetError
from aot.targets import load_target
from waftkit.firmware import link as link_mod
from waftkit.firmware.runtime import INCLUDE_DIR, runtime_library

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "tests" / "lts"

# One export and one import, so the firmware's C has something to call and supply.
WAT = """(module
  (import "env" "tick" (func $tick (param i32)))
  (memory 1)
  (func (export "step") (param i32) (result i32)
    local.get 0 call $tick
    local.get 0 i32.const 1 i32.add))
"""

MAIN = """#include "m.h"
void env__tick(void *ctx, int32_t value) { (void)ctx; (void)value; }
static m__instance inst;
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 2;
    return m_step(&inst, 41) == 42 ? 0 : 1;
}
"""

TARGETS = ["host", "stm32f4"]


@pytest.fixture(scope="module")
def wasm() -> bytes:
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm (wabt) is not installed")
    BUILD.mkdir(parents=True, exist_ok=True)
    source = BUILD / "abi_version.wat"
    source.write_text(WAT)
    out = BUILD / "abi_version.wasm"
    subprocess.run(["wat2wasm", str(source), "-o", str(out)], check=True)
    return out.read_bytes()


def _build(wasm: bytes, target_name: str, version: int, monkeypatch) -> tuple[Path, Path]:
    """Compile the module as a Waft whose ABI is `version` would; returns (object, header)."""
    monkeypatch.setattr(abi, "ABI_VERSION", version)
    target = load_target(target_name)
    result = compile_module(wasm, target, prefix="m")
    folder = BUILD / f"{target_name}-v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m.o").write_bytes(result.object)
    (folder / "m.h").write_text(result.header)
    (folder / "main.c").write_text(MAIN)
    monkeypatch.undo()
    return folder / "m.o", folder / "m.h"


def _link(target_name: str, obj: Path, header: Path) -> Path:
    target = load_target(target_name)
    library = runtime_library(target, BUILD)
    out = obj.parent / "prog.elf"
    return link_mod.link(target, [obj.parent / "main.c", obj, library], out, cflags=[f"-I{obj.parent}"])


def test_header_and_runtime_agree_on_the_version():
    text = (INCLUDE_DIR / "waft.h").read_text()
    assert re.search(rf"^#define WAFT_ABI_VERSION {abi.ABI_VERSION}$", text, re.MULTILINE)
    assert link_mod.runtime_abi_version() == abi.ABI_VERSION


@pytest.mark.parametrize("target_name", TARGETS)
def test_same_version_links(wasm, target_name, monkeypatch):
    obj, header = _build(wasm, target_name, abi.ABI_VERSION, monkeypatch)
    assert _link(target_name, obj, header).is_file()


@pytest.mark.parametrize("target_name", TARGETS)
def test_other_version_object_fails_to_link_naming_both_versions(wasm, target_name, monkeypatch):
    other = abi.ABI_VERSION + 1
    obj, header = _build(wasm, target_name, other, monkeypatch)
    # The header would stop the compile first; this object's C is compiled against its own
    # version's header check removed, as a vendor build that includes a stale header would not be.
    header.write_text(header.read_text().replace(f"WAFT_ABI_VERSION != {other}", "0"))
    with pytest.raises(TargetError) as caught:
        _link(target_name, obj, header)
    message = str(caught.value)
    assert "\n" not in message
    assert (f"an object was compiled for Waft ABI version {other}, but the runtime is ABI version "
            f"{abi.ABI_VERSION}") in message
    assert not (obj.parent / "prog.elf").exists()


def test_other_version_header_stops_the_compile(wasm, monkeypatch):
    other = abi.ABI_VERSION + 1
    obj, _ = _build(wasm, "host", other, monkeypatch)
    proc = subprocess.run(["cc", "-std=c11", f"-I{INCLUDE_DIR}", f"-I{obj.parent}", "-c",
                           str(obj.parent / "main.c"), "-o", str(obj.parent / "main.o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert f"m.h was generated for Waft ABI version {other}, but this waft.h is another version" in proc.stderr
