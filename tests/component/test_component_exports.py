"""A component's exports called from C (issue 16, item 1): `waft compile comp.wasm` writes C functions for them.

The component is examples/component_supervisor's: config.c, compiled to wasm32
against the guest bindings `waft bindgen` writes for supervisor.wit, made a
component with `wasm-tools component embed` + `component new` (test-only).
`waft compile` unwraps it and, from the component's own types (its embedded
WIT is gone), writes host C: a record comes back as a C struct, a string goes
in as (ptr, len), a result comes back as a tagged struct, and the
post-return runs.  The example's firmware (main.c) calls them and runs its PID
loop through a core module (pid.wat, no memory): on the host and on stm32f4 under QEMU.

Also: the WIT read back from the component (golden), and refusals (a
resource in an exported interface; a lifted core function under another
name) as one line, exit 1, no file written.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.component import decode_component, instantiate
from aot.component.exports_wit import exported_world
from aot.targets import load_target
from aot.wasm.decode import decode_module
from aot.wit import load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from component_helpers import _cached, parse_wat, run_tool
from waftkit.cache import cache_dir
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_cflags, runtime_library
from waftkit.runners.base import get_runner

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "component_supervisor"
GUEST_LINK = ["-mexec-model=reactor", "-Wl,--initial-memory=65536", "-Wl,-z,stack-size=8192", "-Wl,--strip-debug"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]

EXPECTED_WIT = """\
package waft:component;

world component {
  export demo:supervisor/config@0.1.0;
}

package demo:supervisor@0.1.0 {
  interface config {
    record status { kp: f32, ki: f32, setpoint: f32, commands: u32, mode: string }
    set-gain: func(kp: f32, ki: f32);
    get-status: func() -> status;
    command: func(cmd: string) -> result<u32, string>;
  }
}
"""

EXPECTED_OUTPUT = """\
command 'setpoint 60': ok, 1 commands taken
command 'setpoint 900': error: setpoint out of range (-50..150)
command 'reboot now': error: unknown command 'reboot now'
command 'run': ok, 2 commands taken
status: kp 3.00 ki 1.50 setpoint 60.0, 2 commands, mode running
"""


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def build_supervisor_component() -> Path:
    """examples/component_supervisor's config component, built once per distinct source (cached)."""
    _need("clang")
    sources = [EXAMPLE / "supervisor.wit", EXAMPLE / "config.c"] + sorted((REPO / "aot" / "wit").rglob("*.py"))

    def build(out: Path) -> None:
        work = out.parent / "supervisor-build"
        resolve, main = load_wit(EXAMPLE / "supervisor.wit")
        write_bindings(generate_bindings(resolve, resolve.select_world(main, "supervisor"), name="supervisor_guest"),
                       guest_dir=work)
        core = work / "config.wasm"
        proc = subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *WARNINGS, *GUEST_LINK,
                               f"-I{work}", str(EXAMPLE / "config.c"), str(work / "supervisor_guest.c"), "-o", str(core)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        run_tool("component", "embed", EXAMPLE / "supervisor.wit", core, "-w", "supervisor", "-o", work / "emb.wasm")
        run_tool("component", "new", work / "emb.wasm", "-o", out)
    return _cached([p.read_bytes() for p in sources] + [b"supervisor"], "supervisor.component.wasm", build)


def waft(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture(scope="module")
def component() -> Path:
    return build_supervisor_component()


def test_the_world_is_read_back_from_the_component_types(component):
    world = exported_world(instantiate(decode_component(component.read_bytes())))
    assert world.wit == EXPECTED_WIT
    assert [(f.interface, f.name) for f in world.functions] == [
        ("demo:supervisor/config@0.1.0", "set-gain"), ("demo:supervisor/config@0.1.0", "get-status"),
        ("demo:supervisor/config@0.1.0", "command")]


def test_check_says_which_exports_become_c_functions(component, tmp_path):
    comp = tmp_path / "supervisor.wasm"
    shutil.copy(component, comp)
    result = waft("check", comp, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("component export demo:supervisor/config@0.1.0  C functions: `waft compile` writes them"
            in result.stdout)


@pytest.mark.parametrize("name", ["host", pytest.param("stm32f4", marks=pytest.mark.qemu)])
def test_firmware_calls_the_component_through_the_generated_c(name, component, tmp_path):
    target = load_target(name)
    _need(target.cc, *([] if target.is_host else [target.qemu_system]))
    comp = tmp_path / "supervisor.wasm"
    shutil.copy(component, comp)
    result = waft("compile", comp, "-t", name, "-o", tmp_path / "supervisor.o", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {"supervisor_host.h", "supervisor_host.c", "supervisor_host_module.h", "supervisor_host_module.c",
               "supervisor_component.h"}
    assert written <= {p.name for p in tmp_path.iterdir()}, result.stdout
    assert "the component's exports as C functions" in result.stdout
    header = (tmp_path / "supervisor_host_module.h").read_text()
    # C types the firmware sees: a struct back, a (ptr, len) string in, a tagged result back.
    assert ("void exports_demo_supervisor_config_command(supervisor_ctx *ctx, const supervisor_string_t *cmd, "
            "supervisor_result_u32_string_t *ret);") in header
    assert "demo_supervisor_config_status_t *ret" in header
    glue = (tmp_path / "supervisor_host_module.c").read_text()
    assert glue.count("cabi_x5fpost") == 2  # get-status and command free what they returned

    _need("wat2wasm")
    pid = tmp_path / "pid.wasm"
    subprocess.run(["wat2wasm", str(EXAMPLE / "pid.wat"), "-o", str(pid)], check=True)
    assert waft("compile", pid, "-t", name, "-o", tmp_path / "pid.o", cwd=tmp_path).returncode == 0
    program = tmp_path / ("program" if target.is_host else "program.elf")
    cflags = [*runtime_cflags(target)[len(target.cflags):], *WARNINGS, f"-I{tmp_path}"]
    link(target, [EXAMPLE / "main.c", tmp_path / "supervisor_host.c", tmp_path / "supervisor_host_module.c",
                  tmp_path / "supervisor.o", tmp_path / "pid.o", runtime_library(target, cache_dir())], program,
         cflags=[*cflags, "-lm"] if target.is_host else cflags)
    run = get_runner(target, timeout=120).run(program)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(EXPECTED_OUTPUT), run.stdout
    assert "settled at 60." in run.stdout and run.stdout.rstrip().endswith("supervisor ok")


@pytest.mark.parametrize("name", ["host", pytest.param("stm32f4", marks=pytest.mark.qemu)])
def test_path_b_keeps_the_exports_for_the_same_c(name, component, tmp_path):
    """Fused instead of recovered (as a composed component would be): the same C, the same run."""
    from aot.compiler import compile_file
    from aot.component import unwrap_component
    from aot.component.exports_wit import export_bindings, write_export_files

    target = load_target(name)
    _need(target.cc, "wat2wasm", *([] if target.is_host else [target.qemu_system]))
    result = unwrap_component(component.read_bytes(), adapter_recovery=False)
    assert result.path == "b"
    exports = {e.name for e in decode_module(result.module).exports}
    assert {"demo:supervisor/config@0.1.0#command", "cabi_post_demo:supervisor/config@0.1.0#command",
            "cabi_realloc", "memory"} <= exports
    fused = tmp_path / "supervisor.wasm"
    fused.write_bytes(result.module)
    write_export_files(export_bindings(result.graph, result.module, "supervisor"), tmp_path)
    compile_file(fused, tmp_path / "supervisor.o", target, prefix="supervisor")
    pid = tmp_path / "pid.wasm"
    subprocess.run(["wat2wasm", str(EXAMPLE / "pid.wat"), "-o", str(pid)], check=True)
    compile_file(pid, tmp_path / "pid.o", target, prefix="pid")
    program = tmp_path / ("program" if target.is_host else "program.elf")
    cflags = [*runtime_cflags(target)[len(target.cflags):], *WARNINGS, f"-I{tmp_path}"]
    link(target, [EXAMPLE / "main.c", tmp_path / "supervisor_host.c", tmp_path / "supervisor_host_module.c",
                  tmp_path / "supervisor.o", tmp_path / "pid.o", runtime_library(target, cache_dir())], program,
         cflags=[*cflags, "-lm"] if target.is_host else cflags)
    run = get_runner(target, timeout=120).run(program)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(EXPECTED_OUTPUT), run.stdout


RESOURCE_WAT = """
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "ns:p/i#[constructor]r") (result i32) i32.const 1)
    (func (export "ns:p/i#[dtor]r") (param i32)))
  (core instance $i (instantiate $m))
  (type $r (resource (rep i32)))
  (type $own (own $r))
  (type $ctor (func (result $own)))
  (alias core export $i "ns:p/i#[constructor]r" (core func $c))
  (func $lc (type $ctor) (canon lift (core func $c)))
  (instance $e (export "r" (type $r)) (export "[constructor]r" (func $lc)))
  (export "ns:p/i" (instance $e))
)
"""

RENAMED_WAT = """
(component
  (core module $m (func (export "not-the-canonical-name") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (type $f (func (param "x" u32) (result u32)))
  (alias core export $i "not-the-canonical-name" (core func $c))
  (func $l (type $f) (canon lift (core func $c)))
  (instance $e (export "twice" (func $l)))
  (export "ns:p/i@1.0.0" (instance $e))
)
"""


@pytest.mark.parametrize("stem, wat, message", [
    ("resource", RESOURCE_WAT, "export 'ns:p/i': resource 'r': resources in exported interfaces are not supported yet"),
    ("renamed", RENAMED_WAT, "the component's export ns:p/i@1.0.0#twice lifts core export 'not-the-canonical-name': only "
                  "exports under their canonical core name ('ns:p/i@1.0.0#twice') can be called from C"),
])
def test_what_cannot_be_called_from_c_is_refused_in_one_line(stem, wat, message, tmp_path):
    comp = tmp_path / "lib.wasm"
    shutil.copy(parse_wat(wat, f"exports-{stem}.wasm"), comp)
    result = waft("compile", comp, "-o", tmp_path / "lib.o", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.wasm"]  # nothing half-written
