"""WASI preview 1 on a board: wasi-libc programs compiled by Waft for stm32f4
and run under QEMU (netduinoplus2), with the bare-metal port.

The programs and their cases are the host tests' (tests/wasi/programs/, in
the wasi-testsuite's JSON shape) where they make sense on a board, plus
board-only ones in tests/wasi/cortexm/ (the RAM filesystem seeded from a
folder, sockets answering ENOTSUP).  Arguments and environment are baked into
the firmware; each `dirs` entry is a folder copied into the RAM filesystem at
build time (an empty one for the host programs, cortexm/<dir>/ for the
board's own) and preopened under its name.  Modules are built with one page
of memory (`-Wl,--initial-memory=65536`, 8 KiB guest stack) to fit the
board's 128 KiB of RAM.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path

import pytest
from wasi_harness import (
    PROGRAMS,
    Case,
    _build_root,
    _compiler_digest,
    build_wasm,
    load_case,
)

from aot.compiler import compile_module
from aot.targets import Target, load_target
from waftkit.firmware.size import measure
from waftkit.firmware.wasi_firmware import link_firmware
from waftkit.runners.qemu import qemu_command

pytestmark = pytest.mark.qemu

HERE = Path(__file__).resolve().parent
BOARD_PROGRAMS = HERE / "cortexm"
TARGET = load_target("stm32f4")
ONE_PAGE = ("-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536", "-Wl,--strip-debug")
QEMU_TIMEOUT = 120.0

# Host programs that run unchanged on the board: same JSON case, same output.
# (files, dirs_raw and sandbox need links and symlinks, which the RAM
# filesystem does not have; sockets needs a peer; errors is run below with
# the socket lines changed.)
SHARED = ["args_env", "clocks_random", "exit_code", "raise", "trap"]
BOARD_ONLY = ["all_imports", "ramfs_files", "sockets_notsup"]


def _require_tools() -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@cache
def _compiled(source: Path, cap_pages: int, target_name: str = TARGET.name) -> tuple[Path, Path]:
    """prog.o and prog.h for `source` compiled for a board with a `cap_pages` memory cap (cached)."""
    wasm = build_wasm(source, ONE_PAGE)
    digest = hashlib.sha256(wasm.read_bytes() + f"{cap_pages}{_compiler_digest()}".encode()).hexdigest()[:16]
    folder = _build_root() / "cortexm" / f"{source.stem}-{target_name}-{digest}"
    obj, header = folder / "prog.o", folder / "prog.h"
    if not obj.is_file():
        result = compile_module(wasm.read_bytes(), load_target(target_name), prefix="prog", memory_cap_pages=cap_pages)
        work = Path(tempfile.mkdtemp(prefix=".cortexm-", dir=_build_root()))
        (work / "prog.o").write_bytes(result.object)
        (work / "prog.h").write_text(result.header)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            work.rename(folder)
        except OSError:  # a parallel worker published it first
            shutil.rmtree(work, ignore_errors=True)
    return obj, header


def build_firmware(source: Path, case: Case, work: Path, *, seed_root: Path | None = None, cap_pages: int = 1,
                   console: str = "semihost", defines: tuple[str, ...] = (), target: Target = TARGET) -> Path:
    """Firmware for `case`: its args and env baked in, each of case.dirs seeded from seed_root/<dir> (or empty)."""
    _require_tools()
    obj, header = _compiled(source, cap_pages, target.name)
    dirs = []
    for d in case.dirs:
        folder = (seed_root / d) if seed_root is not None else work / "empty" / d
        folder.mkdir(parents=True, exist_ok=True)
        dirs.append((folder, d))
    elf = work / f"{case.name}-{console}.elf"
    return link_firmware(target, obj, header, elf, prefix="prog", build_dir=work / f"build-{console}",
                         runtime_dir=_build_root(), args=[f"{case.name}.wasm", *case.args], env=case.env,
                         dirs=dirs, console=console, defines=defines, map_file=elf.with_suffix(".map"))


def run_firmware(elf: Path, *, stdin: str = "", extra: tuple[str, ...] = (),
                 target: Target = TARGET) -> subprocess.CompletedProcess:
    """Boot `elf` under QEMU (waftkit.runners.qemu's command line plus `extra`), stdin fed to semihosting."""
    command = qemu_command(target, elf) + list(extra)
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=QEMU_TIMEOUT)


def check(result: subprocess.CompletedProcess, case: Case) -> None:
    assert result.stdout == case.stdout, f"stderr:\n{result.stderr}"
    assert result.returncode == case.exit_code, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stderr == (case.stderr or "")


@pytest.mark.parametrize("name", SHARED)
def test_shared_program(name: str, tmp_path: Path) -> None:
    case = load_case(name)
    check(run_firmware(build_firmware(PROGRAMS / f"{name}.c", case, tmp_path)), case)


@pytest.mark.parametrize("name", BOARD_ONLY)
def test_board_program(name: str, tmp_path: Path) -> None:
    case = load_case(name, BOARD_PROGRAMS)
    elf = build_firmware(BOARD_PROGRAMS / f"{name}.c", case, tmp_path, seed_root=BOARD_PROGRAMS)
    check(run_firmware(elf), case)


def test_errors_program(tmp_path: Path) -> None:
    """Every error path of the host's errors.c, with two differences a board makes.

    Sockets answer NOTSUP (58) here, not NOTSOCK (57); and the one-page memory
    cap (a second page would not fit the board's RAM) refuses the program's
    memory.grow, so its random_get into the "new page" is FAULT (21).
    """
    case = load_case("errors")
    case.stdout = case.stdout.replace("grew: 1, random_get in the new page: 0", "grew: 0, random_get in the new page: 21")
    case.stdout = case.stdout.replace("sock_accept stdout: 57", "sock_accept stdout: 58")
    for call in ("sock_recv", "sock_send", "sock_shutdown"):
        case.stdout = case.stdout.replace(f"{call} stdout: 57", f"{call} stdout: 58")
    case.stderr = "waft: sock_accept: sockets are not supported on this board (WASI errno notsup)\n"
    check(run_firmware(build_firmware(PROGRAMS / "errors.c", case, tmp_path)), case)


def test_stdin_through_semihosting(tmp_path: Path) -> None:
    case = load_case("stdin_echo")
    elf = build_firmware(PROGRAMS / "stdin_echo.c", case, tmp_path)
    check(run_firmware(elf, stdin=case.stdin), case)


def waft_run(wasm: Path, options: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess:
    """`waft run WASM OPTIONS...` as a user types it, with its own build cache under tmp_path."""
    import os
    import sys

    _require_tools()
    env = {**os.environ, "WAFT_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), *options], input=stdin,
                          capture_output=True, text=True, timeout=QEMU_TIMEOUT * 3, env=env, cwd=HERE.parents[1])


@pytest.mark.parametrize("runner", ["qemu", "pyocd"])
def test_waft_run_feeds_its_stdin_to_the_board(runner: str, tmp_path: Path) -> None:
    """`waft run --target stm32f4` passes piped stdin to the board's console (QEMU or pyOCD semihosting)."""
    case = load_case("stdin_echo")
    options = ["--target", TARGET.name, "--runner", runner]
    if runner == "pyocd":
        options += ["--probe", "qemu:netduinoplus2"]
    check(waft_run(build_wasm(PROGRAMS / "stdin_echo.c", ONE_PAGE), options, tmp_path, case.stdin), case)


def test_default_two_page_module_runs_on_mps2_an386(tmp_path: Path) -> None:
    """wasi-libc's default layout (2 pages: too big for stm32f4) runs on the 4 MiB Cortex-M4 board."""
    case = load_case("args_env")
    wasm = tmp_path / "args_env.wasm"
    shutil.copy(build_wasm(PROGRAMS / "args_env.c"), wasm)
    options = ["--target", "mps2-an386", *(f"--env={key}={value}" for key, value in case.env.items()),
               "--", *case.args]
    check(waft_run(wasm, options, tmp_path), case)


def test_uart_console(tmp_path: Path) -> None:
    """stdout/stderr on USART2 (QEMU's second serial port); the exit status still through semihosting."""
    case = load_case("raise")
    elf = build_firmware(PROGRAMS / "raise.c", case, tmp_path, console="uart")
    serial = tmp_path / "usart2.txt"
    # waftkit.runners.qemu gives the first serial port (USART1) to null; the next -serial is USART2.
    result = run_firmware(elf, extra=("-serial", f"file:{serial}"))
    assert result.returncode == case.exit_code, result.stdout + result.stderr
    assert result.stdout == ""
    assert serial.read_text().replace("\r\n", "\n") == case.stdout + case.stderr


def test_rtt_console(tmp_path: Path) -> None:
    """The RTT backend links a SEGGER-compatible _SEGGER_RTT block and keeps the semihosting console out."""
    case = load_case("exit_code")
    elf = build_firmware(PROGRAMS / "exit_code.c", case, tmp_path, console="rtt")
    result = run_firmware(elf)
    assert result.returncode == case.exit_code
    assert result.stdout == ""  # everything went to the RTT up-buffer, which no probe reads here
    symbols = _symbols(elf)
    assert "_SEGGER_RTT" in symbols
    # acID[16] + two ints + 2 up + 1 down buffers of 6 words: the layout RTT tools parse.
    size = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    (line,) = [ln for ln in size.splitlines() if ln.endswith(" _SEGGER_RTT")]
    assert int(line.split()[1], 16) == 16 + 8 + 3 * 24


def _symbols(elf: Path) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def test_only_imported_functions_are_linked(tmp_path: Path) -> None:
    """A hello world's image has the few WASI functions it imports and none of the filesystem."""
    source = tmp_path / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    case = Case(name="hello", stdout="hello\n")
    elf = build_firmware(source, case, tmp_path)
    check(run_firmware(elf), case)
    symbols = _symbols(elf)
    wasi = {s.removeprefix("wasi_snapshot_preview1__") for s in symbols if s.startswith("wasi_snapshot_preview1__")}
    assert "fd_write" in wasi and "proc_exit" in wasi
    assert not wasi & {"path_open", "fd_readdir", "poll_oneoff", "random_get", "sock_accept", "clock_time_get"}
    assert not {s for s in symbols if s.startswith("waft_ramfs_") or s == "waft_insecure_fallback_random"}
    report = measure(elf, TARGET)
    assert report.ram_used + report.stack <= TARGET.ram.length


def test_every_import_links_on_the_board(tmp_path: Path) -> None:
    """A module importing all 46 functions links (RAM filesystem included) and fits stm32f4."""
    from waftkit import wasi

    case = load_case("all_imports", BOARD_PROGRAMS)
    elf = build_firmware(BOARD_PROGRAMS / "all_imports.c", case, tmp_path, seed_root=BOARD_PROGRAMS)
    linked = {s.removeprefix("wasi_snapshot_preview1__") for s in _symbols(elf) if s.startswith("wasi_snapshot_preview1__")}
    assert linked == set(wasi.FUNCTIONS_BY_NAME)
    report = measure(elf, TARGET)
    assert report.ram_used + report.stack <= TARGET.ram.length


# The other Cortex-M targets QEMU runs: Armv6-M (soft float), M4F, M7, M33.
OTHER_TARGETS = ["cortex-m0plus", "mps2-an386", "mps2-an500", "mps2-an505"]


@pytest.mark.parametrize("target_name", OTHER_TARGETS)
def test_other_cortex_m_targets(target_name: str, tmp_path: Path) -> None:
    """Clocks (SysTick at the board's default core clock), sleeping, fallback random, files, floats."""
    target = load_target(target_name)
    case = load_case("clocks_random")
    elf = build_firmware(PROGRAMS / "clocks_random.c", case, tmp_path, target=target)
    check(run_firmware(elf, target=target), case)


def test_rtt_console_through_pyocd(tmp_path: Path) -> None:
    """pyOCD, as an RTT host tool, finds _SEGGER_RTT by searching RAM, feeds stdin into down-buffer 0 and
    reads stdout from up-buffer 0; the exit status arrives as the semihosting exit call QEMU-under-pyOCD stops at."""
    pytest.importorskip("pyocd")
    from pyocd.core.target import Target as PyocdTarget
    from pyocd.debug.rtt import RTTControlBlock
    from pyocd.flash.file_programmer import FileProgrammer

    from waftkit.runners.pyocd_runner import open_session

    case = load_case("stdin_echo")
    elf = build_firmware(PROGRAMS / "stdin_echo.c", case, tmp_path, console="rtt")
    with open_session(TARGET, "qemu:netduinoplus2") as session:
        core = session.target
        FileProgrammer(session).program(str(elf))
        core.reset_and_halt()
        # Run until the program has set up RTT and waits in poll_oneoff for stdin.
        deadline = time.monotonic() + 30
        while True:
            core.resume()
            time.sleep(0.3)
            core.halt()
            block = RTTControlBlock.from_target(core)
            try:
                block.start()
                break
            except Exception:
                assert time.monotonic() < deadline, "no RTT control block appeared in RAM"
        assert block.down_channels[0].write(case.stdin.encode() + b"\x04") == len(case.stdin) + 1
        core.resume()
        while core.get_state() != PyocdTarget.State.HALTED:
            assert time.monotonic() < deadline + 30, "the program did not exit"
            time.sleep(0.01)
        stdout = block.up_channels[0].read()
        # Halted on the exit's BKPT: r0 = SYS_EXIT_EXTENDED, r1 -> {reason, status}.
        assert core.read_core_register("r0") == 0x20
        status = core.read32(core.read_core_register("r1") + 4)
    assert stdout.decode() == case.stdout
    assert status == case.exit_code


def test_uart_stdin_and_poll(tmp_path: Path) -> None:
    """stdin from USART2 (polled; poll_oneoff waits for RXNE), Ctrl-D ending the input; output with CR LF."""
    case = load_case("stdin_echo")
    elf = build_firmware(PROGRAMS / "stdin_echo.c", case, tmp_path, console="uart")
    command = qemu_command(TARGET, elf) + ["-serial", "stdio"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # QEMU's USART drops what arrives before the program enables its
        # receiver: give the program time to start and wait in poll_oneoff.
        time.sleep(2)
        out, err = proc.communicate(case.stdin + "\x04", timeout=QEMU_TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == case.exit_code, out + err
    assert out.replace("\r\n", "\n") == case.stdout


def test_nrf52840_board_glue_compiles(tmp_path: Path) -> None:
    """nRF52840 has no QEMU machine and no linker script yet: its board.c (RNG, ID, UART) compiles for it."""
    from waftkit import wasi

    _require_tools()
    target = load_target("nrf52840")
    obj = tmp_path / "board.o"
    subprocess.run([target.cc, *target.cflags, "-O2", "-Wall", "-Wextra", "-Werror", f"-I{wasi.WASI_DIR}",
                    f"-I{wasi.INCLUDE_DIR}", "-c", str(target.directory / "board.c"), "-o", str(obj)], check=True)
    defined = subprocess.run(["arm-none-eabi-nm", "--defined-only", str(obj)], capture_output=True, text=True,
                             check=True).stdout
    for name in ("waft_board_core_hz", "waft_board_random", "waft_board_unique_id", "waft_board_uart_init",
                 "waft_board_uart_putc", "waft_board_uart_getc"):
        assert f" T {name}\n" in defined
