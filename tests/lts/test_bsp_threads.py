"""`waft bsp` with threads: Waft's kernel inside a vendor firmware that keeps its own vector table and SysTick.

examples/rt_threads (a 1 kHz control thread at priority 10 beside a logger
that saturates the core) is packaged by the real CLI and linked by the
vendor's Make project (examples/bsp_make, APP=main_threads) and CMake project:
the vendor's startup_an386.c puts the kernel's waft_kernel_pendsv_handler in
its table, its SysTick handler (vendor_it.c) calls waft_kernel_systick_hook
after the HAL's own count.  Under QEMU with -icount every period is kept.

Each hook is shown to matter: the same firmware built without the tick call
never releases the control thread (the vendor's watchdog stops it), without
the PendSV entry the first switch lands in the vendor's Default_Handler, called
before the HAL's own count every release comes a tick late, and
with SysTick left more urgent than the kernel's ceiling the kernel refuses to
start in one line.  `--kernel-owns-pendsv` gives a table that keeps the weak
PendSV_Handler name the library's definition.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bsp_harness import cmake_build, defined, tool, waft

from aot.targets import load_target
from aot.wit import load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from waftkit.runners.qemu import run_elf
from waftkit.testing.wasi_threads import build_threads_c

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "tests" / "lts" / "bsp_threads"
TARGET = "mps2-an386"
PERIODS = 100
# What the firmware prints when every period was kept (the latency figures vary with the build).
BANNER = "vendor BSP: Waft ABI version 1, threads on the vendor's SysTick and PendSV vector\n"
KEPT = f"control: {PERIODS} periods of 1000 us at priority 10: {PERIODS} releases, 0 missed\n"
# The library's own exception handlers: a drop-in with vendor hooks defines none of them.
VENDOR_OWNED = ("Reset_Handler", "SysTick_Handler", "PendSV_Handler", "SVC_Handler", "__isr_vector",
                "waft_console_write", "waft_clock_ns")


@pytest.fixture(scope="module")
def wasm() -> Path:
    """examples/rt_threads built as its SConscript builds it (bindings from firmware-rt, one 64 KiB page)."""
    out = BUILD / "wasm"
    out.mkdir(parents=True, exist_ok=True)
    resolve, main = load_wit(REPO / "wasi_ext" / "profiles")
    write_bindings(generate_bindings(resolve, resolve.select_world(main, "firmware-rt"), name="firmware_rt"),
                   guest_dir=out)
    return build_threads_c([REPO / "examples" / "rt_threads" / "rt_threads.c", out / "firmware_rt.c"],
                           out / "rt_threads.wasm", ["-I", str(out), "-Wall", "-Werror", "-Wl,-z,stack-size=8192",
                                                     "-Wl,--initial-memory=65536"], max_memory=65536)


def _bsp(wasm: Path, name: str, *options: str) -> Path:
    out = BUILD / name
    waft("bsp", str(wasm), "--target", TARGET, "--max-threads", "2", "--arg", "--periods", "--arg", str(PERIODS),
         *options, "-o", str(out))
    return out


@pytest.fixture(scope="module")
def dropin(wasm) -> Path:
    return _bsp(wasm, "dropin")


@pytest.fixture(scope="module")
def dropin_owns_pendsv(wasm) -> Path:
    return _bsp(wasm, "dropin-owns-pendsv", "--kernel-owns-pendsv")


def _make(dropin: Path, build: Path, *defines: str) -> Path:
    """examples/bsp_make's threaded firmware, the vendor's C built with `defines`: its ELF."""
    shutil.rmtree(build, ignore_errors=True)
    proc = subprocess.run([tool("make"), "-C", str(REPO / "examples" / "bsp_make"), f"BSP={dropin}",
                           f"BUILD={build}", "APP=main_threads", f"VENDOR_DEFINES={' '.join(defines)}"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return build / "firmware.elf"


def _run(elf: Path):
    # -icount: virtual time follows executed instructions, so no host load can make a release late.
    return run_elf(load_target(TARGET), elf, timeout=60, instruction_count=True)


def _assert_kept_every_period(result) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 0, result.summary() + "\n" + out
    assert result.stdout.startswith(BANNER), out
    assert KEPT in result.stdout, out
    assert "\nok: missed 0 (<= 0), jitter 0.000% (<= 1.00%)\n" in result.stdout, out
    assert result.stdout.endswith("rt_threads: exit status 0\n"), out


def test_dropin_holds_the_kernel_and_its_hooks_but_no_handler(dropin):
    manifest = json.loads((dropin / "manifest.json").read_text())
    assert manifest["runtime"]["features"] == ["core", "wasi_snapshot_preview1", "threads"]
    assert manifest["runtime"]["kernel"] == {"max_threads": 2, "isr_stack": 8192, "tick_hz": 1000,
                                             "tick": "waft_kernel_systick_hook",
                                             "pendsv": "waft_kernel_pendsv_handler"}
    assert {"WAFT_KERNEL_VENDOR_SYSTICK", "WAFT_KERNEL_VENDOR_PENDSV"} <= set(manifest["runtime"]["defines"])
    library = defined(dropin / "lib" / "libwaft.a")
    assert {"waft_kernel_systick_hook", "waft_kernel_pendsv_handler", "waft_os_init"} <= library
    assert not library & set(VENDOR_OWNED)
    assert (dropin / "include" / "waft_kernel_bsp.h").is_file()
    header = (dropin / "include" / "waft_bsp.h").read_text()
    assert '#include "waft_kernel_bsp.h"' in header and "waft_kernel_pendsv_handler" in header
    assert "WAFT_BSP_THREADS := 1" in (dropin / "waft_bsp.mk").read_text()


@pytest.mark.qemu
def test_make_vendor_firmware_keeps_every_period_on_its_own_systick(dropin):
    elf = _make(dropin, BUILD / "make")
    vectors = defined(elf)
    assert "g_pfnVectors" in vectors and "PendSV_Handler" in vectors  # the vendor's weak alias, not Waft's
    _assert_kept_every_period(_run(elf))


@pytest.mark.qemu
@pytest.mark.parametrize("defines, status, says", [
    # The SysTick handler does not call waft_kernel_systick_hook: no release ever comes.
    (("-DVENDOR_WAFT_TICK=0", "-DVENDOR_WATCHDOG_MS=500"), 4, "vendor watchdog: not stopped within 500 ms\n"),
    # The vector table keeps PendSV_Handler (the vendor's Default_Handler): the first switch faults.
    (("-DVENDOR_PENDSV_VECTOR=PendSV_Handler",), 3, "vendor BSP: unexpected exception\n"),
])
def test_without_a_hook_the_threads_do_not_run(dropin, defines, status, says):
    result = _run(_make(dropin, BUILD / f"make-{status}", *defines))
    out = result.stdout + result.stderr
    assert result.returncode == status, result.summary() + "\n" + out
    assert result.stdout == BANNER + says, out


@pytest.mark.qemu
def test_a_tick_hook_called_before_the_hals_count_makes_every_release_late(dropin):
    """The hook reads the tick's time from the vendor's clock: called before the HAL counted the
    millisecond, the clock still shows the previous one and each release waits a whole tick."""
    result = _run(_make(dropin, BUILD / "make-tick-first", "-DVENDOR_WAFT_TICK_FIRST=1"))
    out = result.stdout + result.stderr
    assert result.returncode == 1, result.summary() + "\n" + out
    assert f"{PERIODS} periods of 1000 us at priority 10: {PERIODS // 2 + 1} releases, {PERIODS // 2} missed" in out
    assert re.search(r"^latency: min 1000\.\d+ us", out, re.MULTILINE) and "FAIL: missed 50 (<= 0)" in out, out


@pytest.mark.qemu
def test_a_systick_above_the_kernel_ceiling_is_refused_in_one_line(dropin):
    result = _run(_make(dropin, BUILD / "make-priority", "-DHAL_TICK_PRIORITY=0"))
    assert result.returncode == 70, result.summary() + "\n" + result.stdout + result.stderr
    assert result.stdout == BANNER
    assert result.stderr == ("waft: kernel: SysTick's priority 0x00 is above the kernel's ceiling 0x40: give it a "
                             "priority value of 0x40 or more (docs/bsp.md)\n")


@pytest.mark.qemu
def test_kernel_owns_pendsv_fills_a_table_that_names_pendsv_handler(dropin_owns_pendsv):
    library = defined(dropin_owns_pendsv / "lib" / "libwaft.a")
    assert {"PendSV_Handler", "waft_kernel_systick_hook"} <= library
    assert "SysTick_Handler" not in library
    elf = _make(dropin_owns_pendsv, BUILD / "make-owns", "-DVENDOR_PENDSV_VECTOR=PendSV_Handler")
    _assert_kept_every_period(_run(elf))


@pytest.mark.qemu
def test_cmake_vendor_firmware_keeps_every_period(dropin):
    build = BUILD / "cmake"
    cmake_build(dropin, build)
    _assert_kept_every_period(_run(build / "firmware.elf"))


def test_kernel_owns_pendsv_without_threads_is_refused(tmp_path):
    core = tmp_path / "core.wasm"
    subprocess.run([tool("wat2wasm"), "-o", str(core), "-"], input=b"(module (func (export \"f\")))", check=True)
    proc = waft("bsp", str(core), "--target", TARGET, "--kernel-owns-pendsv", "-o", str(tmp_path / "out"),
                check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("waft: error: bsp: --kernel-owns-pendsv gives the kernel PendSV, "
                           "but no module uses threads\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.qemu
def test_with_startup_the_library_owns_systick_and_pendsv(wasm):
    """A project without startup code of its own: Waft's vector table, SysTick clock and PendSV serve the kernel."""
    dropin = _bsp(wasm, "dropin-startup", "--with-startup")
    kernel = json.loads((dropin / "manifest.json").read_text())["runtime"]["kernel"]
    assert (kernel["tick"], kernel["pendsv"]) == ("SysTick_Handler (library)", "PendSV_Handler (library)")
    assert "waft_kernel_systick_hook" not in (dropin / "include" / "waft_bsp.h").read_text()
    target = load_target(TARGET)
    main, elf = BUILD / "startup_main.c", BUILD / "startup.elf"
    main.write_text('#include "waft_bsp.h"\nint main(void) { return waft_run_rt_threads(); }\n')
    proc = subprocess.run([target.cc, *target.cflags, "-O2", "-nostartfiles", "--specs=nano.specs",
                           "-Wl,--gc-sections", "-Wl,--no-warn-execstack", f"-L{dropin}", f"-T{dropin / 'link.ld'}",
                           f"-I{dropin / 'include'}", str(main), f"-L{dropin / 'lib'}", "-lrt_threads", "-lwaft",
                           "-lc", "-lm", "-o", str(elf)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    result = _run(elf)
    assert result.returncode == 0, result.summary() + "\n" + result.stdout + result.stderr
    assert KEPT in result.stdout and "\nok: missed 0 (<= 0)" in result.stdout, result.stdout
