"""`waft bsp` (waftkit/firmware/bsp.py): the drop-in a vendor's Make or CMake project links (docs/bsp.md).

Built once per module through the real CLI, then: the manifest tells the
truth about every file, libwaft.a holds only what the modules import and
never the vector table, SysTick or the UART unless --with-startup, bad input
is one line with nothing written, and the two example projects
(examples/bsp_make, examples/bsp_cmake: the vendor's own startup, vector
table and HAL in examples/bsp_vendor) build with make and cmake and run the
hello and control-loop modules under QEMU.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bsp_harness import cmake_build as _cmake_build
from bsp_harness import defined as _defined
from bsp_harness import tool as _tool
from bsp_harness import waft as _waft

from aot import abi
from aot.targets import load_target
from waftkit.runners.qemu import run_elf

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "tests" / "lts" / "bsp"
TARGET = "mps2-an386"
EXPECTED_STDOUT = ("vendor BSP: Waft ABI version 1\n"
                   "pid: settled at 59.62 (setpoint 60.00): ok\n"
                   "Hello from WebAssembly, Waft!\n"
                   "hello: exit status 0\n")

# Symbols that belong to the vendor's startup and HAL: a drop-in without --with-startup defines none.
VENDOR_OWNED = ("Reset_Handler", "SysTick_Handler", "PendSV_Handler", "__isr_vector", "HardFault_Handler",
                "waft_board_uart_init", "waft_board_uart_putc", "waft_console_write", "waft_clock_ns", "_sbrk")


@pytest.fixture(scope="module")
def wasm() -> dict[str, Path]:
    clang = _tool("clang")
    BUILD.mkdir(parents=True, exist_ok=True)
    hello, pid = BUILD / "hello.wasm", BUILD / "pid.wasm"
    small = ["-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536"]
    subprocess.run([clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *small, "-o", str(hello),
                    str(REPO / "examples" / "hello" / "hello.c")], check=True)
    subprocess.run([clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", *small, "-o", str(pid),
                    str(REPO / "examples" / "control_loop" / "pid.c")], check=True)
    return {"hello": hello, "pid": pid}


@pytest.fixture(scope="module")
def dropin(wasm) -> Path:
    out = BUILD / "dropin"
    _waft("bsp", str(wasm["hello"]), str(wasm["pid"]), "--target", TARGET, "--arg", "Waft", "-o", str(out))
    return out


def test_dropin_layout_and_manifest(dropin):
    manifest = json.loads((dropin / "manifest.json").read_text())
    assert manifest["abi_version"] == abi.ABI_VERSION
    assert manifest["target"]["name"] == TARGET
    assert manifest["compiler"]["cc"] == "arm-none-eabi-gcc" and manifest["compiler"]["llvm"]
    assert manifest["runtime"]["features"] == ["core", "wasi_snapshot_preview1"]
    assert [(m["prefix"], m["entry"]) for m in manifest["modules"]] == [("hello", "waft_run_hello"), ("pid", None)]
    files = {str(p.relative_to(dropin)) for p in dropin.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((dropin / name).read_bytes()).hexdigest() == digest, name
    for name in ("lib/libwaft.a", "lib/libhello.a", "lib/libpid.a", "include/waft.h", "include/hello.h",
                 "include/pid.h", "include/waft_bsp.h", "include/port_baremetal.h", "waft_runtime.ld",
                 "waft_bsp.cmake", "waft_bsp.mk"):
        assert name in files


def test_runtime_leaves_vector_table_systick_and_uart_to_the_vendor(dropin):
    defined = _defined(dropin / "lib" / "libwaft.a")
    assert not defined & set(VENDOR_OWNED)
    assert abi.abi_version_symbol() in defined
    assert "wasi_snapshot_preview1__fd_write" in defined
    assert "waft_run_hello" in _defined(dropin / "lib" / "libhello.a")


@pytest.fixture(scope="module")
def startup_dropin(wasm) -> Path:
    out = BUILD / "dropin-startup"
    _waft("bsp", str(wasm["hello"]), "--target", TARGET, "--with-startup", "--arg", "Startup", "-o", str(out))
    return out


def test_with_startup_brings_waft_startup_and_board_glue(startup_dropin):
    defined = _defined(startup_dropin / "lib" / "libwaft.a")
    assert {"Reset_Handler", "SysTick_Handler", "__isr_vector", "waft_console_write", "waft_clock_ns"} <= defined
    assert (startup_dropin / "link.ld").is_file() and (startup_dropin / "sections.ld").is_file()


@pytest.mark.qemu
def test_with_startup_a_bare_main_links_and_runs(startup_dropin):
    """A project with no startup of its own: main() and the drop-in's link.ld are all it needs."""
    elf = _link_bare_main(startup_dropin, BUILD / "startup")
    result = run_elf(load_target(TARGET), elf, timeout=60)
    assert (result.returncode, result.stdout) == (0, "Hello from WebAssembly, Startup!\n"), result.summary()


def _link_bare_main(dropin: Path, stem: Path) -> Path:
    """A firmware of a --with-startup drop-in and a main() that only runs hello: `stem`.c -> `stem`.elf."""
    target = load_target(TARGET)
    main, elf = stem.with_suffix(".c"), stem.with_suffix(".elf")
    main.write_text('#include "waft_bsp.h"\nint main(void) { return waft_run_hello(); }\n')
    proc = subprocess.run([target.cc, *target.cflags, "-O2", "-nostartfiles", "--specs=nano.specs",
                           "-Wl,--gc-sections", "-Wl,--no-warn-execstack", f"-L{dropin}", f"-T{dropin / 'link.ld'}",
                           f"-I{dropin / 'include'}", str(main), f"-L{dropin / 'lib'}", "-lhello", "-lwaft",
                           "-lc", "-lm", "-o", str(elf)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return elf


def test_runtime_has_only_what_the_modules_import(wasm):
    out = BUILD / "dropin-core"
    _waft("bsp", str(wasm["pid"]), "--target", TARGET, "-o", str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runtime"]["features"] == ["core"]
    defined = _defined(out / "lib" / "libwaft.a")
    assert not any(s.startswith("wasi_snapshot_preview1__") for s in defined)
    assert not (out / "include" / "port_baremetal.h").exists()


def test_reproducible_with_source_date_epoch(wasm, tmp_path, monkeypatch):
    """Rebuilding a shipped drop-in years later gives the same bytes: every file's sha256 matches."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for name in ("a", "b"):
        _waft("bsp", str(wasm["hello"]), str(wasm["pid"]), "--target", TARGET, "-o", str(tmp_path / name))
    first, second = ((tmp_path / n / "manifest.json").read_bytes() for n in ("a", "b"))
    assert first == second
    assert "lib/libhello.a" in json.loads(first)["files"]


def test_bad_input_is_one_line_and_leaves_the_output_alone(wasm, tmp_path):
    out = tmp_path / "dropin"
    _waft("bsp", str(wasm["pid"]), "--target", TARGET, "-o", str(out))
    before = (out / "manifest.json").read_bytes()
    junk = tmp_path / "junk.wasm"
    junk.write_bytes(b"not wasm")
    proc = _waft("bsp", str(wasm["pid"]), str(junk), "--target", TARGET, "-o", str(out), check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"waft: error: bsp: {junk}: malformed module: magic header not detected (offset 0x0)\n"
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dropin", "junk.wasm"]  # no temporary folder left


@pytest.mark.parametrize("args, status, message", [
    (["--target", "host"], 1, "target 'host' is host: waft bsp builds drop-ins for Cortex-M boards"),
    (["--target", "nosuchboard"], 2, "nosuchboard"),
    (["--target", TARGET, "--console", "uart"], 2, "--console picks Waft's console backend"),
    (["--target", TARGET, "--grant", "x=irq:99"], 2, "mps2-an386 has no free device interrupt 99"),
    (["--target", TARGET, "--grant", "tick=timer:0"], 1, "no module imports wasi-ext:signals"),
])
def test_bad_usage_is_one_line(wasm, tmp_path, args, status, message):
    proc = _waft("bsp", str(wasm["pid"]), "-o", str(tmp_path / "out"), *args, check=False)
    assert proc.returncode == status
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("waft: error: ") and message in proc.stderr
    assert not (tmp_path / "out").exists()


def test_two_modules_with_one_stem_need_a_name(wasm, tmp_path):
    other = tmp_path / "other" / "pid.wasm"
    other.parent.mkdir()
    shutil.copy(wasm["pid"], other)
    out = tmp_path / "out"
    proc = _waft("bsp", str(wasm["pid"]), str(other), "--target", TARGET, "-o", str(out), check=False)
    assert proc.returncode == 1
    assert proc.stderr == (f"waft: error: bsp: {other}: module prefix 'pid' is also {wasm['pid']}'s: "
                           "give one another with --name FILE=PREFIX\n")
    assert not out.exists()
    _waft("bsp", str(wasm["pid"]), str(other), "--target", TARGET, "-o", str(out), "--name", f"{other}=pid2")
    assert "pid2_pid_step" in _defined(out / "lib" / "libpid2.a")


def test_arg_without_a_wasi_command_is_refused(wasm, tmp_path):
    proc = _waft("bsp", str(wasm["pid"]), "--target", TARGET, "--arg", "x", "-o", str(tmp_path / "o"), check=False)
    assert proc.returncode == 1 and "--arg sets a WASI command's arguments" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_dropin(wasm, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    proc = _waft("bsp", str(wasm["pid"]), "--target", TARGET, "-o", str(tmp_path), check=False)
    assert proc.returncode == 1 and "is not a waft bsp output" in proc.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def _run_firmware(elf: Path) -> None:
    result = run_elf(load_target(TARGET), elf, timeout=60)
    assert result.returncode == 0, result.summary() + "\n" + result.stdout + result.stderr
    assert result.stdout == EXPECTED_STDOUT


@pytest.mark.qemu
def test_make_example_builds_and_runs_under_qemu(dropin):
    make = _tool("make")
    build = BUILD / "make-build"
    shutil.rmtree(build, ignore_errors=True)
    proc = subprocess.run([make, "-C", str(REPO / "examples" / "bsp_make"), f"BSP={dropin}", f"BUILD={build}"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _run_firmware(build / "firmware.elf")
    # Only the WASI functions hello imports reach the image (sections per function, --gc-sections).
    imports = json.loads((dropin / "manifest.json").read_text())["modules"][0]["imports"]
    linked = {s for s in _defined(build / "firmware.elf") if s.startswith("wasi_snapshot_preview1__")}
    assert linked == {"wasi_snapshot_preview1__" + i.split(".", 1)[1] for i in imports}


@pytest.mark.qemu
def test_cmake_example_builds_and_runs_under_qemu(dropin):
    build = BUILD / "cmake-build"
    _cmake_build(dropin, build)
    _run_firmware(build / "firmware.elf")


@pytest.mark.qemu
def test_a_component_input_packages_its_p1_module(wasm, tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "component"))
    from component_helpers import wrap  # wasm-tools and the p1 adapter, or a skip

    component = tmp_path / "hello.wasm"  # same stem: the same prefix as the core module
    shutil.copy(wrap(wasm["hello"]), component)
    out = tmp_path / "dropin"
    _waft("bsp", str(component), "--target", TARGET, "--with-startup", "--arg", "component", "-o", str(out))
    (entry,) = json.loads((out / "manifest.json").read_text())["modules"]
    assert (entry["component"], entry["entry"]) == (True, "waft_run_hello")
    result = run_elf(load_target(TARGET), _link_bare_main(out, tmp_path / "main"), timeout=60)
    assert (result.returncode, result.stdout) == (0, "Hello from WebAssembly, component!\n"), result.summary()


@pytest.mark.qemu
def test_granted_irq_line_coexists_with_the_vendor_vector_table(tmp_path):
    """The IRQ grant list: irq_control's 1 kHz timer line runs its Wasm handler from the timer's vector,
    in a vendor firmware whose own table, SysTick and UART driver stay in charge of everything else."""
    clang = _tool("clang")
    guest = tmp_path / "bindings"
    _waft("bindgen", str(REPO / "wasi_ext" / "profiles"), "-w", "firmware-rt", "--guest", str(guest),
          "--name", "firmware_rt")
    wasm = tmp_path / "irq_control.wasm"
    subprocess.run([clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", f"-I{guest}", "-o", str(wasm),
                    str(REPO / "examples" / "irq_control" / "irq_control.c"), str(guest / "firmware_rt.c")],
                   check=True)
    out = tmp_path / "dropin"
    _waft("bsp", str(wasm), "--target", TARGET, "--grant", "tick=timer:0@on_tick", "--arg", "--ticks",
          "--arg", "1000", "--arg", "--max-missed", "--arg", "0", "-o", str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runtime"]["features"] == ["core", "wasi_snapshot_preview1", "wasi-ext:signals/signals@0.1.0"]
    assert manifest["options"]["grants"] == ["tick=0x00030000@on_tick"]
    assert not _defined(out / "lib" / "libwaft.a") & set(VENDOR_OWNED)

    target = load_target(TARGET)
    vendor = REPO / "examples" / "bsp_vendor"
    elf = tmp_path / "irq.elf"
    proc = subprocess.run([target.cc, *target.cflags, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                           "-ffunction-sections", "-fdata-sections", "-nostartfiles", "--specs=nano.specs",
                           "--specs=nosys.specs", "-Wl,--gc-sections", "-Wl,--no-warn-execstack", f"-I{vendor}",
                           f"-I{out / 'include'}", f"-L{out}", f"-L{out / 'lib'}", f"-T{vendor / 'an386.ld'}",
                           str(vendor / "startup_an386.c"), str(vendor / "hal.c"), str(vendor / "vendor_it.c"),
                           str(vendor / "waft_hooks.c"),
                           str(Path(__file__).parent / "data" / "irq_vendor_main.c"),
                           "-lirq_control", "-lwaft", "-lc", "-lm", "-o", str(elf)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    # Time follows executed instructions: every one of the 1000 ticks is taken, whatever the host's load.
    result = run_elf(target, elf, timeout=120, instruction_count=True)
    assert result.returncode == 0, result.summary() + "\n" + result.stdout + result.stderr
    assert "1000 handled, 0 missed, of 1000 (immediate delivery)" in result.stdout
    assert result.stdout.endswith("ok: missed 0 (<= 0), settled\nvendor: VTOR moved to RAM\n"
                                  "vendor: UART0 TX interrupt reached its driver\n")
