"""The SCons builders take a component wherever they take a module (issue 16, item 3).

A temporary project loads Waft's tools by toolpath, as a user's would, and
gives WaftFirmware a component (examples/component_supervisor's, made with
wasm-tools at test time) as a source, like a `.wasm` module: waft_aot
unwraps it (cached by content), compiles the core module and writes the C
for its exports beside the object; the firmware's C calls them.  A second
build does nothing; a component that cannot be unwrapped fails the build
with one line naming it.  WaftWasiFirmware takes a command component
(a p1 program wrapped with the preview1 adapter) as it takes the program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from component_helpers import wrap
from test_component_exports import build_supervisor_component

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"), ENV={{"PATH": os.environ["PATH"]}})
env.Prepend(CPPPATH=["."])
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""

# `config.wasm` is a component on disk: the emitter reads its preamble.
SCONSCRIPT = """
Import("env")
nodes = env.Object("config" + env["OBJSUFFIX"], "config.wasm")
env.WaftFirmware("app", ["main.c", nodes[0]] + [n for n in nodes if str(n).endswith(".c")],
                 expect_stdout="commands=1 mode=running err=unknown command 'jump'\\n")
"""

MAIN_C = """#include <stdio.h>
#include "config_component.h"
static config__instance inst;
static uint8_t scratch[128];
static config_ctx ctx;
static config_result_u32_string_t run, jump;
static demo_supervisor_config_status_t status;
static void calls(void *a, void *b) {
    (void)a; (void)b;
    config_string_t cmd;
    config_string_set(&cmd, "run");
    exports_demo_supervisor_config_command(&ctx, &cmd, &run);
    config_string_set(&cmd, "jump");
    exports_demo_supervisor_config_command(&ctx, &cmd, &jump);
    exports_demo_supervisor_config_get_status(&ctx, &status);
}
int main(void) {
    config__imports imports = {0};
    config_ctx_init(&ctx, scratch, sizeof scratch, NULL, 0, NULL);
    if (config__instantiate(&inst, &imports) != WAFT_TRAP_NONE || config_component_start(&ctx, &inst) != WAFT_TRAP_NONE
        || waft_call_guarded(calls, &inst, NULL) != WAFT_TRAP_NONE) return 2;
    printf("commands=%u mode=%.*s err=%.*s\\n", (unsigned)status.commands, (int)status.mode.len,
           (const char *)status.mode.ptr, (int)jump.val.err.len, (const char *)jump.val.err.ptr);
    return run.is_err || !jump.is_err;
}
"""


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "SConscript").write_text(SCONSCRIPT)
    (tmp_path / "main.c").write_text(MAIN_C)
    shutil.copy(build_supervisor_component(), tmp_path / "config.wasm")
    return tmp_path


def test_a_component_is_a_firmware_source_like_a_module(project):
    first = scons(project, "test")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "PASS app" in first.stdout
    out = project / "build" / "host"
    assert {"config.o", "config.h", "config_component.h", "config_host_module.c"} <= {p.name for p in out.iterdir()}
    again = scons(project, "build")
    assert again.returncode == 0 and "waft compile" not in again.stdout, again.stdout


def test_a_component_that_cannot_be_unwrapped_fails_the_build_in_one_line(project):
    component = (project / "config.wasm").read_bytes()
    (project / "config.wasm").write_bytes(component[: len(component) // 2])  # a truncated component
    result = scons(project, "build")
    assert result.returncode != 0
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("waft: error:")]
    assert len(errors) == 1 and "config.wasm: section size" in errors[0] and "runs past the end of the component" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


WASI_SCONSCRIPT = """
Import("env")
env.WaftWasiFirmware("hello", "hello.wasm", expect_stdout="Hello from WebAssembly, world!\\n")
"""


def test_a_command_component_is_a_wasi_firmware_like_its_program(tmp_path):
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    program = tmp_path / "hello.p1.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", "-Wl,--strip-debug", str(REPO / "examples" / "hello" / "hello.c"),
                    "-o", str(program)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "SConstruct").write_text(SCONSTRUCT)
    (project / "SConscript").write_text(WASI_SCONSCRIPT)
    shutil.copy(wrap(program), project / "hello.wasm")  # a component, under the module's name
    result = scons(project, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS hello" in result.stdout
