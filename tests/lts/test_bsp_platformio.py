"""examples/bsp_platformio: PlatformIO Core builds the vendor firmware from a `waft bsp` drop-in, offline.

PlatformIO Core itself installs from the Python package registry
(`pip install platformio`), but everything it fetches from its own registry
(platforms such as ststm32, toolchain-gccarmnoneeabi, and the SCons it runs,
`tool-scons`) is unreachable here.  So this test runs it with two local
stand-ins, the way docs/bsp.md ("PlatformIO") describes: the example's local
platform (examples/bsp_platformio/platform: PlatformIO's BuildProgram with the
arm-none-eabi-gcc on PATH), and a `tool-scons` package made of this
interpreter's SCons in a private PLATFORMIO_CORE_DIR.  The drop-in comes in
through `build_flags` as any prebuilt library does; the firmware runs the
hello and control-loop modules under QEMU as the Make and CMake ones do.

PlatformIO Core is a test extra (pyproject.toml), so CI runs this; elsewhere
it is skipped where PlatformIO Core is not installed: give its `pio` as
WAFT_PIO, or put it on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import SCons
from bsp_harness import tool, waft

from aot.targets import load_target
from waftkit.runners.qemu import run_elf

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "tests" / "lts" / "bsp_platformio"
EXAMPLE = REPO / "examples" / "bsp_platformio"
TARGET = "mps2-an386"
EXPECTED_STDOUT = ("vendor BSP: Waft ABI version 1\n"
                   "pid: settled at 59.62 (setpoint 60.00): ok\n"
                   "Hello from WebAssembly, Waft!\n"
                   "hello: exit status 0\n")


def _pio() -> str:
    """PlatformIO Core's `pio`: WAFT_PIO, the test extras' (beside this interpreter), or one on PATH."""
    beside = Path(sys.executable).parent / "pio"
    pio = os.environ.get("WAFT_PIO") or (str(beside) if beside.is_file() else shutil.which("pio"))
    if not pio:
        pytest.skip("PlatformIO Core is not installed (pip install platformio; give its pio as WAFT_PIO)")
    return pio


def _scons_package_version() -> str:
    """This SCons's version as PlatformIO spells its tool-scons package: 4.11.1 -> 4.41101.0."""
    major, minor, patch = (int(x) for x in SCons.__version__.split(".")[:3])
    return f"{major}.{major}{minor:02d}{patch:02d}.0"


def _core_dir(pio: str) -> Path:
    """A PLATFORMIO_CORE_DIR holding tool-scons made of this interpreter's SCons (what `pio` would download)."""
    python = Path(pio).resolve().parent / "python"
    ask = "from platformio.dependencies import get_core_dependencies as d; print(d()['tool-scons'])"
    wanted = subprocess.run([str(python), "-c", ask], capture_output=True, text=True, check=False).stdout.strip()
    version = _scons_package_version()
    if wanted.lstrip("~^=").rsplit(".", 1)[0] != version.rsplit(".", 1)[0]:
        pytest.skip(f"this PlatformIO wants tool-scons {wanted}; the SCons here is {SCons.__version__} ({version})")
    core = BUILD / "core"
    package = core / "packages" / "tool-scons"
    shutil.rmtree(core, ignore_errors=True)
    shutil.copytree(Path(SCons.__file__).parent, package / "SCons", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "scons.py").write_text("import os, sys\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
                                      "from SCons.Script.Main import main\nmain()\n")
    (package / "package.json").write_text(json.dumps({"name": "tool-scons", "version": version}))
    # What PlatformIO writes when it installs a package from its registry (owner "platformio").
    (package / ".piopm").write_text(json.dumps({"type": "tool", "name": "tool-scons", "version": version,
                                                "spec": {"owner": "platformio", "id": None, "name": "tool-scons",
                                                         "requirements": None, "uri": None}}))
    return core


@pytest.mark.qemu
def test_platformio_builds_the_vendor_firmware_from_the_dropin(tmp_path):
    pio = _pio()
    clang = tool("clang")
    hello, pid = tmp_path / "hello.wasm", tmp_path / "pid.wasm"
    small = ["-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536"]
    subprocess.run([clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *small, "-o", str(hello),
                    str(REPO / "examples" / "hello" / "hello.c")], check=True)
    subprocess.run([clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", *small, "-o", str(pid),
                    str(REPO / "examples" / "control_loop" / "pid.c")], check=True)
    dropin = tmp_path / "waft_bsp"
    waft("bsp", str(hello), str(pid), "--target", TARGET, "--arg", "Waft", "-o", str(dropin))

    build = BUILD / "build"
    shutil.rmtree(build, ignore_errors=True)
    env = {**os.environ, "WAFT_BSP": str(dropin), "PLATFORMIO_CORE_DIR": str(_core_dir(pio)),
           "PLATFORMIO_BUILD_DIR": str(build), "PLATFORMIO_NO_ANSI": "1"}
    proc = subprocess.run([pio, "run", "-d", str(EXAMPLE)], capture_output=True, text=True, env=env, check=False,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "HTTPClientError" not in proc.stdout + proc.stderr  # nothing fetched from PlatformIO's registry
    result = run_elf(load_target(TARGET), build / "an386" / "program.elf", timeout=60)
    assert result.returncode == 0, result.summary() + "\n" + result.stdout + result.stderr
    assert result.stdout == EXPECTED_STDOUT
