"""runtime_c builds for every port, is cached, and behaves on the host.

The host behaviour (memory growth, trap frames, bulk helpers, stack
exhaustion) is checked by tests/unit/c/runtime_host.c linked against the
library that `runtime_library` built, so what is tested is what ships.
"""

from __future__ import annotations

import dataclasses
import resource
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from aot.errors import TargetError
from aot.targets import load_target
from waftkit.firmware.runtime import LIBRARY_NAME, runtime_cflags, runtime_library

HERE = Path(__file__).resolve().parent
HOST_TEST = HERE / "c" / "runtime_host.c"
CORTEX_M_TEST = HERE / "c" / "runtime_cortex_m.c"
BOARD_COMMON = HERE.parents[1] / "targets" / "common" / "cortex-m"

# What every build must export (the names the compiler calls).
CORE_SYMBOLS = {
    "waft_trap",
    "waft_strerror",
    "waft_trap_push",
    "waft_trap_pop",
    "waft_call_guarded",
    "waft_exit",
    "waft_memory_grow",
    "waft_memory_init",
    "waft_memory_copy",
    "waft_memory_fill",
    "waft_table_grow",
    "waft_table_init",
    "waft_table_copy",
    "waft_table_fill",
    "waft_func_signature_equal",
    "waft_stack_init",
    "waft_stack_limit",
    "waft_trap_current",
    "waft_exit_status",
    "waft_port_write_error",
    "waft_port_exit",
}


def _target_or_skip(name: str):
    target = load_target(name)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} not installed")
    return target


def _defined_symbols(target, library: Path) -> dict[str, str]:
    nm = subprocess.run([target.cc, "-print-prog-name=nm"], capture_output=True, text=True).stdout.strip() or "nm"
    out = subprocess.run([nm, "--defined-only", str(library)], check=True, capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = parts[1]
    return symbols


@pytest.mark.parametrize("name", ["host", "stm32f4", "cortex-m0plus", "mps2-an505"])
def test_library_builds_and_defines_the_runtime(name, tmp_path):
    target = _target_or_skip(name)
    library = runtime_library(target, tmp_path)
    assert library.name == LIBRARY_NAME
    assert library.parent.parent == tmp_path / "runtime" / name
    symbols = _defined_symbols(target, library)
    missing = CORE_SYMBOLS - set(symbols)
    assert not missing, missing
    # Weak, so an embedder or board can replace them.
    for weak in ("waft_trap", "waft_stack_init", "waft_port_write_error", "waft_port_exit"):
        assert symbols[weak] in ("W", "V"), (weak, symbols[weak])


def test_cortex_m_library_is_built_for_the_cpu(tmp_path):
    target = _target_or_skip("cortex-m0plus")
    library = runtime_library(target, tmp_path)
    readelf = subprocess.run([target.cc, "-print-prog-name=readelf"], capture_output=True, text=True).stdout.strip()
    if not shutil.which(readelf):
        readelf = "arm-none-eabi-readelf"
    attrs = subprocess.run([readelf, "-A", str(library)], check=True, capture_output=True, text=True).stdout
    assert "Tag_CPU_arch: v6S-M" in attrs or "Tag_CPU_arch: v6-M" in attrs, attrs[:400]


def test_cache_is_reused_and_keyed_by_inputs(tmp_path):
    target = _target_or_skip("host")
    first = runtime_library(target, tmp_path)
    stamp = first.stat().st_mtime_ns
    start = time.perf_counter()
    again = runtime_library(target, tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert time.perf_counter() - start < 0.5  # no compiler ran
    with_define = runtime_library(target, tmp_path, defines=["WAFT_STACK_MARGIN=32768"])
    assert with_define != first
    extra = tmp_path / "extra.c"
    extra.write_text("int waft_test_extra(void) { return 42; }\n")
    with_extra = runtime_library(target, tmp_path, extra_sources=[extra])
    assert with_extra not in (first, with_define)
    assert "waft_test_extra" in _defined_symbols(target, with_extra)
    extra.write_text("int waft_test_extra(void) { return 43; }\n")
    assert runtime_library(target, tmp_path, extra_sources=[extra]) != with_extra
    # Nothing left behind but the published folders.
    leftovers = [p for p in (tmp_path / "runtime" / "host").rglob(".build-*")]
    assert not leftovers


def test_parallel_builds_of_one_library_agree(tmp_path):
    target = _target_or_skip("host")
    results: list[Path] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            results.append(runtime_library(target, tmp_path, defines=["WAFT_PARALLEL_TEST=1"]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(results)) == 1 and results[0].is_file()


def test_compile_errors_name_the_file(tmp_path):
    target = _target_or_skip("host")
    bad = tmp_path / "bad.c"
    bad.write_text("this is not C\n")
    with pytest.raises(TargetError, match="compiling bad.c for host"):
        runtime_library(target, tmp_path, extra_sources=[bad])
    assert not any((tmp_path / "runtime").rglob(LIBRARY_NAME))


def test_targets_without_a_port_are_refused(tmp_path):
    # Every shipped kind has a port now (riscv32-virt got one); a kind the
    # runtime does not know must still be refused with the message.
    target = dataclasses.replace(load_target("riscv32-virt"), kind="mips")
    with pytest.raises(TargetError, match="no port for mips"):
        runtime_library(target, tmp_path)


# --- behaviour on the host -------------------------------------------------------------


@pytest.fixture(scope="module")
def host_test_binary(tmp_path_factory) -> Path:
    target = load_target("host")
    if shutil.which(target.cc) is None:
        pytest.skip("no host cc")
    build = tmp_path_factory.mktemp("runtime")
    library = runtime_library(target, build)
    exe = build / "runtime_host"
    subprocess.run(
        [target.cc, *runtime_cflags(target), "-Werror", str(HOST_TEST), str(library), "-lpthread", "-o", str(exe)],
        check=True,
        capture_output=True,
        text=True,
    )
    return exe


def _eight_mib_stack() -> None:
    # The stack test measures how much of the stack was usable; pin its size.
    resource.setrlimit(resource.RLIMIT_STACK, (8 << 20, resource.getrlimit(resource.RLIMIT_STACK)[1]))


def _run(exe: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, preexec_fn=_eight_mib_stack)


def test_host_runtime_checks_pass(host_test_binary):
    result = _run(host_test_binary)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().splitlines()[-1].startswith("ok ")


def test_trap_without_a_frame_prints_and_exits(host_test_binary):
    result = _run(host_test_binary, "trap-no-frame")
    assert result.returncode == 70
    assert result.stderr == "waft: trap: integer divide by zero\n"
    assert result.stdout == "before\n"  # stdout was flushed before exiting


def test_exit_without_a_frame_is_silent(host_test_binary):
    result = _run(host_test_binary, "exit-no-frame")
    assert (result.returncode, result.stdout, result.stderr) == (7, "", "")


def test_stack_exhaustion_without_a_frame_is_reported_not_a_crash(host_test_binary):
    result = _run(host_test_binary, "recurse-no-frame")
    assert result.returncode == 70
    assert result.stderr == "waft: trap: call stack exhausted\n"


def test_stack_limit_follows_a_small_thread_stack(host_test_binary):
    result = _run(host_test_binary, "small-thread")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "thread: call stack exhausted" in result.stdout


def test_user_waft_trap_replaces_the_weak_default(tmp_path):
    target = _target_or_skip("host")
    library = runtime_library(target, tmp_path)
    source = tmp_path / "custom.c"
    source.write_text(
        '#include <stdio.h>\n#include <stdlib.h>\n#include "waft.h"\n'
        'void waft_trap(waft_trap_code code) { printf("custom %s\\n", waft_strerror(code)); exit(5); }\n'
        "static void boom(void *a, void *b) { (void)a; (void)b; waft_trap(WAFT_TRAP_UNREACHABLE); }\n"
        "int main(void) { waft_call_guarded(boom, NULL, NULL); return 0; }\n"
    )
    exe = tmp_path / "custom"
    subprocess.run(
        [target.cc, *runtime_cflags(target), str(source), str(library), "-o", str(exe)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout) == (5, "custom unreachable\n")


# --- behaviour on emulated Cortex-M -------------------------------------------------------


@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus"])
def test_cortex_m_port_under_qemu(name, tmp_path):
    target = _target_or_skip(name)
    startup = [BOARD_COMMON / "startup.c", BOARD_COMMON / "semihost.c"]
    linker_script = target.directory / "link.ld"
    if not all(p.is_file() for p in startup + [linker_script]):
        pytest.skip(f"board start-up files for {name} are not in targets/ yet")
    if shutil.which(target.qemu_system or "qemu-system-arm") is None:
        pytest.skip("QEMU not installed")
    library = runtime_library(target, tmp_path)
    elf = tmp_path / f"{name}.elf"
    subprocess.run(
        [
            target.cc, *runtime_cflags(target), "-Werror", str(CORTEX_M_TEST), *map(str, startup), str(library),
            "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections",
            "-T", str(linker_script), "-L", str(BOARD_COMMON), "-o", str(elf),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result = subprocess.run(
        [
            target.qemu_system or "qemu-system-arm", "-M", target.qemu_machine, "-nographic",
            "-monitor", "none", "-serial", "null",
            "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.startswith("guarded: call stack exhausted depth "), result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("limit-ok 1")
    # SYS_WRITE0 is QEMU's semihosting console: stderr, like the host port.
    assert result.stderr == "waft: trap: integer divide by zero\n"
    assert result.returncode == 70
