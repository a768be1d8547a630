"""env.WaftBsp (site_scons/site_tools/waft_bsp.py): a real SCons build writes the same drop-in as `waft bsp`.

A project loads Waft's tools by toolpath, builds two modules from C and
packages them; a second build does nothing, and changing an option in the
builder's varlist (the WASI command's arguments) rebuilds the drop-in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET="mps2-an386", ENV={{"PATH": os.environ["PATH"]}})
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build", duplicate=False)
"""

SCONSCRIPT = """
Import("env")
hello = env.WasmProgram("hello.wasm", ["hello.c"])
pid = env.WasmProgram("pid.wasm", ["pid.c"], WASM_LINKFLAGS=env["WASM_LINKFLAGS"] + ["-nostdlib", "-Wl,--no-entry"])
env.WaftBsp("dist/bsp", [hello, pid], args=ARGUMENTS.get("ARGS", "Waft").split(","))
"""


def _scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, check=False)
    assert proc.returncode == 0, f"scons {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if not SCONS.is_file() or shutil.which("clang") is None:
        pytest.skip("scons (in the venv) and clang are needed")
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "SConscript").write_text(SCONSCRIPT)
    shutil.copy(REPO / "examples" / "hello" / "hello.c", tmp_path)
    shutil.copy(REPO / "examples" / "control_loop" / "pid.c", tmp_path)
    return tmp_path


def test_waft_bsp_builder_writes_the_dropin_and_rebuilds_on_option_change(project):
    first = _scons(project)
    assert "waft bsp build/hello.wasm build/pid.wasm -> build/dist/bsp" in first.stdout
    dropin = project / "build" / "dist" / "bsp"
    manifest = json.loads((dropin / "manifest.json").read_text())
    assert manifest["target"]["name"] == "mps2-an386"
    assert [m["prefix"] for m in manifest["modules"]] == ["hello", "pid"]
    assert manifest["options"]["args"] == ["Waft"]
    for name in ("lib/libwaft.a", "lib/libhello.a", "lib/libpid.a", "include/hello.h", "waft_bsp.cmake"):
        assert (dropin / name).is_file(), name

    again = _scons(project)
    assert "waft bsp" not in again.stdout  # up to date: nothing rebuilt

    changed = _scons(project, "ARGS=Vendor")
    assert "waft bsp" in changed.stdout
    assert json.loads((dropin / "manifest.json").read_text())["options"]["args"] == ["Vendor"]


THREADS_SCONSCRIPT = """
Import("env")
bindings = env.WitGuestBindings("firmware_rt", "$WAFT_WASI_EXT/profiles", "firmware-rt")
wasm = env.WasmProgram("rt_threads.wasm", ["rt_threads.c", bindings[1]], WASM_THREADS=True,
                       WASM_CPPPATH=[bindings[0].dir])
env.WaftBsp("dist/rt", [wasm], args=["--periods", "100"], max_threads=2,
            kernel_owns_pendsv=ARGUMENTS.get("OWN") == "1")
"""


def test_waft_bsp_builder_packages_threads_with_the_kernel_hooks(project):
    from waftkit.testing.wasi_threads import sysroot_missing

    if sysroot_missing():
        pytest.skip(sysroot_missing())
    (project / "SConscript").write_text(THREADS_SCONSCRIPT)
    shutil.copy(REPO / "examples" / "rt_threads" / "rt_threads.c", project)
    _scons(project)
    manifest = project / "build" / "dist" / "rt" / "manifest.json"
    kernel = json.loads(manifest.read_text())["runtime"]["kernel"]
    assert (kernel["max_threads"], kernel["tick"], kernel["pendsv"]) == (2, "waft_kernel_systick_hook",
                                                                         "waft_kernel_pendsv_handler")
    # kernel_owns_pendsv is in the builder's varlist: changing it rebuilds the drop-in.
    assert "waft bsp" in _scons(project, "OWN=1").stdout
    assert json.loads(manifest.read_text())["runtime"]["kernel"]["pendsv"] == "PendSV_Handler (library)"
