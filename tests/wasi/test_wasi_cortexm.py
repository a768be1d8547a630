"""WASI preview 1 on a board: wasi-libc programs compiled by Waft for stm32f4
(Cortex-M4F, QEMU netduinoplus2) and riscv32-virt (rv32imac, QEMU virt) and
run under QEMU, with the bare-metal port.

The programs and their cases are the host tests' (tests/wasi/programs/, in
the wasi-testsuite's JSON shape) where they make sense on a board, plus
board-only ones in tests/wasi/cortexm/ (the RAM filesystem seeded from a
folder, sockets answering ENOTSOCK, clocks and sleeping, `waft run`'s
options); the same programs and the same expected output on both boards
(`BOARDS`).  Arguments and environment are baked into the firmware; each
`dirs` entry is a folder copied into the RAM filesystem at build time (an
empty one for the host programs, cortexm/<dir>/ for the board's own) and
preopened under its name.  Modules are built with one page of memory
(`-Wl,--initial-memory=65536`, 8 KiB guest stack) to fit stm32f4's 128 KiB
of RAM, and compiled once per board (`_compiled`, cached on disk by content).
The Cortex-M-only consoles (UART, RTT), pyOCD and the other Cortex-M QEMU
boards are tested on their own below.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
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
from aot.wasm.decode import decode_module
from aot.targets import Target, load_target
from waftkit.firmware.size import measure
from waftkit.firmware.wasi_firmware import console_end_of_input, link_firmware
from waftkit.runners.qemu import qemu_command

pytestmark = pytest.mark.qemu

HERE = Path(__file__).resolve().parent
BOARD_PROGRAMS = HERE / "cortexm"
TARGET = load_target("stm32f4")
# The boards every shared and board-only program runs on: Cortex-M and RISC-V.
BOARDS = ["stm32f4", "riscv32-virt"]
ONE_PAGE = ("-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536", "-Wl,--strip-debug")
QEMU_TIMEOUT = 120.0

# Host programs that run unchanged on the board: same JSON case, same output.
# files, dirs_raw, sandbox and path_rules hold the RAM filesystem to the host
# port's rules (hard and symbolic links, readdir, trailing slashes, the
# sandbox); sockets needs a peer; errors is run below with its memory line
# changed.
SHARED = ["args_env", "clocks_random", "exit_code", "raise", "trap", "files", "dirs_raw", "sandbox", "path_rules"]
BOARD_ONLY = ["all_imports", "ramfs_files", "sockets_notsup"]


def _require_tools(target: Target = TARGET) -> None:
    for tool in (target.cc, target.qemu_system or "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(params=BOARDS)
def board(request) -> Target:
    """Each of BOARDS in turn (the test's id names it)."""
    return load_target(request.param)


def _tool(target: Target, name: str) -> str:
    """A binutils program of the target's toolchain: arm-none-eabi-nm, riscv64-unknown-elf-nm."""
    return target.cc[: -len("gcc")] + name


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
    _require_tools(target)
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
    """Boot `elf` under QEMU (waftkit.runners.qemu's command line plus `extra`), stdin fed to semihosting.

    `stdin` is followed by the board's end-of-input mark (RISC-V's
    semihosting console has no end of its own), as `waft run` does.
    """
    command = qemu_command(target, elf) + list(extra)
    stdin += console_end_of_input(target).decode()
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=QEMU_TIMEOUT)


def check(result: subprocess.CompletedProcess, case: Case) -> None:
    assert result.stdout == case.stdout, f"stderr:\n{result.stderr}"
    assert result.returncode == case.exit_code, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stderr == (case.stderr or "")


@pytest.mark.parametrize("name", SHARED)
def test_shared_program(name: str, board: Target, tmp_path: Path) -> None:
    case = load_case(name)
    check(run_firmware(build_firmware(PROGRAMS / f"{name}.c", case, tmp_path, target=board), target=board), case)


@pytest.mark.parametrize("name", BOARD_ONLY)
def test_board_program(name: str, board: Target, tmp_path: Path) -> None:
    case = load_case(name, BOARD_PROGRAMS)
    elf = build_firmware(BOARD_PROGRAMS / f"{name}.c", case, tmp_path, seed_root=BOARD_PROGRAMS, target=board)
    check(run_firmware(elf, target=board), case)


def test_errors_program(board: Target, tmp_path: Path) -> None:
    """Every error path of the host's errors.c, with two differences a board makes.

    Sockets answer NOTSOCK (57) as on the host (no fd is a socket there), and
    the first call says on stderr that the board has none; and the one-page
    memory cap (a second page would not fit the board's RAM) refuses the
    program's memory.grow, so its random_get into the "new page" is FAULT (21).
    """
    case = load_case("errors")
    case.stdout = case.stdout.replace("grew: 1, random_get in the new page: 0", "grew: 0, random_get in the new page: 21")
    case.stderr = "waft: sock_accept: this board has no sockets (WASI errno notsock)\n"
    check(run_firmware(build_firmware(PROGRAMS / "errors.c", case, tmp_path, target=board), target=board), case)


def test_stdin_through_semihosting(board: Target, tmp_path: Path) -> None:
    case = load_case("stdin_echo")
    elf = build_firmware(PROGRAMS / "stdin_echo.c", case, tmp_path, target=board)
    check(run_firmware(elf, stdin=case.stdin, target=board), case)


def test_stdin_last_line_without_newline(tmp_path: Path) -> None:
    """RISC-V's console: a last line with no newline before the 0x04 end-of-input mark is read whole."""
    target = load_target("riscv32-virt")
    case = load_case("stdin_echo")
    elf = build_firmware(PROGRAMS / "stdin_echo.c", case, tmp_path, target=target)
    result = run_firmware(elf, stdin="one\nno newline", target=target)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("tell: 76\nONE\nNO NEWLINE"), result.stdout


def waft_run(wasm: Path, options: list[str], tmp_path: Path, stdin: str = "", *,
             target: Target = TARGET, cache: Path | None = None) -> subprocess.CompletedProcess:
    """`waft run WASM OPTIONS...` as a user types it, with its own build cache under tmp_path (or `cache`)."""
    _require_tools(target)
    env = {**os.environ, "WAFT_CACHE_DIR": str(cache or tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), *options], input=stdin,
                          capture_output=True, text=True, timeout=QEMU_TIMEOUT * 3, env=env, cwd=HERE.parents[1])


@pytest.mark.parametrize("target_name, runner", [("stm32f4", "qemu"), ("stm32f4", "pyocd"), ("riscv32-virt", "qemu")])
def test_waft_run_feeds_its_stdin_to_the_board(target_name: str, runner: str, tmp_path: Path) -> None:
    """`waft run --target T` passes piped stdin to the board's console (QEMU or pyOCD semihosting)."""
    case = load_case("stdin_echo")
    options = ["--target", target_name, "--runner", runner]
    if runner == "pyocd":
        options += ["--probe", "qemu:netduinoplus2"]
    check(waft_run(build_wasm(PROGRAMS / "stdin_echo.c", ONE_PAGE), options, tmp_path, case.stdin,
                   target=load_target(target_name)), case)


def test_waft_run_hands_every_option_to_the_board(board: Target, tmp_path: Path) -> None:
    """Arguments after --, --env, --dir HOST::GUEST (seeded into the RAM filesystem), piped stdin, exit status."""
    wasm = tmp_path / "run_options.wasm"
    shutil.copy(build_wasm(BOARD_PROGRAMS / "run_options.c", ONE_PAGE), wasm)
    options = ["--target", board.name, "--dir", f"{BOARD_PROGRAMS / 'seed'}::data", "--env", "GREETING=hi there",
               "--", "one", "two words"]
    # The shared build cache: the module is compiled once per board, like the others here.
    result = waft_run(wasm, options, tmp_path, "first\nsecond\n", target=board, cache=_build_root())
    assert result.returncode == 7, result.stdout + result.stderr
    assert result.stdout == ("argv[0]=[run_options.wasm]\nargv[1]=[one]\nargv[2]=[two words]\nGREETING=hi there\n"
                             "data/hello.txt: hello from the build host\n"
                             "data/written.txt: written at run time\n"
                             "stdin 1: first\nstdin 2: second\n2 line(s) of stdin\nread after the end: 0\n"), result.stderr
    assert result.stderr == ""


# What clock_res_get says, in ns: one timer tick, rounded up.  stm32f4 under
# QEMU: SysTick at the 168 MHz core clock; riscv32-virt: the CLINT's mtime at 10 MHz.
RESOLUTION_NS = {"stm32f4": 6, "riscv32-virt": 100}
LONG_SLEEP_MS = 1000


def test_clock_and_sleep(board: Target, tmp_path: Path) -> None:
    """Resolution reported truthfully, monotonic time advances, poll_oneoff sleeps at least what it is asked,
    realtime moves with it, and a sleep is spent in WFI: QEMU uses far less CPU time than the sleep lasts."""
    case = Case(name="clock_sleep", args=[str(LONG_SLEEP_MS)])
    elf = build_firmware(BOARD_PROGRAMS / "clock_sleep.c", case, tmp_path, target=board)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_firmware(elf, target=board)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    resolution = RESOLUTION_NS[board.name]
    for clock in ("realtime", "monotonic", "process", "thread"):
        assert f"res {clock} 0 {resolution}\n" in out, out
    step = int(re.search(r"^step (\d+)$", out, re.M).group(1))
    assert resolution <= step < 1_000_000, out  # advances, never by less than its resolution
    sleeps = [(int(a), int(b)) for a, b in re.findall(r"^sleep (\d+) took (\d+)", out, re.M)]
    assert [asked for asked, _ in sleeps] == [1_000_000, 5_000_000, 20_000_000, 100_000_000, LONG_SLEEP_MS * 1_000_000]
    for asked, took in sleeps:
        assert asked <= took < asked + 50_000_000, out
    realtime = int(re.search(r"realtime (\d+)$", out, re.M).group(1))
    assert abs(realtime - sleeps[-1][1]) < 50_000_000, out
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 0.5 * LONG_SLEEP_MS / 1000, f"QEMU used {cpu:.2f} s of CPU in a run with a {LONG_SLEEP_MS} ms sleep"


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


def _symbols(elf: Path, target: Target = TARGET) -> set[str]:
    out = subprocess.run([_tool(target, "nm"), str(elf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def _symbol_sizes(elf: Path, target: Target = TARGET) -> dict[str, int]:
    """{symbol: size in bytes} of the sized symbols of `elf` (nm -S)."""
    out = subprocess.run([_tool(target, "nm"), "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    return {parts[-1]: int(parts[1], 16) for parts in (line.split() for line in out.splitlines()) if len(parts) == 4}


def test_only_imported_functions_are_linked(board: Target, tmp_path: Path) -> None:
    """A hello world's image has the few WASI functions it imports and none of the filesystem."""
    source = tmp_path / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    case = Case(name="hello", stdout="hello\n")
    elf = build_firmware(source, case, tmp_path, target=board)
    check(run_firmware(elf, target=board), case)
    symbols = _symbols(elf, board)
    wasi = {s.removeprefix("wasi_snapshot_preview1__") for s in symbols if s.startswith("wasi_snapshot_preview1__")}
    # At most what wasi-libc's puts path imports (proc_exit goes when LLVM sees main return 0).
    assert "fd_write" in wasi and wasi <= {"fd_write", "fd_close", "fd_fdstat_get", "fd_seek", "proc_exit"}, wasi
    # fd_write's transfer loop is inlined with its operation fixed: no read or positional path.
    assert not symbols & {"wasi_port_readv", "wasi_port_preadv", "wasi_port_pwritev", "waft_console_read"}
    assert not wasi & {"path_open", "fd_readdir", "poll_oneoff", "random_get", "sock_accept", "clock_time_get"}
    assert not {s for s in symbols if s.startswith("waft_ramfs_") or s == "waft_insecure_fallback_random"}
    report = measure(elf, board)
    assert report.ram_used + report.stack <= board.ram.length


def test_printf_hello_links_none_of_newlibs_stdio(tmp_path: Path) -> None:
    """issue 17: a printf hello's image holds no newlib float printf, stdio or strcmp (the
    module's printf is its own), and its data segments once; printf_float=True is the way back."""
    source = tmp_path / "hello.c"
    source.write_text('#include <stdio.h>\n'
                      'int main(int argc, char **argv) { printf("hi %s %d\\n", argv[0], argc); return 0; }\n')
    case = Case(name="hello", stdout="hi hello.wasm 1\n")
    elf = build_firmware(source, case, tmp_path)
    check(run_firmware(elf), case)
    symbols = _symbols(elf, TARGET)
    # Float printf (dtoa, malloc...), stdio's FILE machinery (fflush after _start), strcmp
    # (call_indirect's signature check).
    assert not symbols & {"_printf_float", "_dtoa_r", "fflush", "__sinit", "_malloc_r", "strcmp"}
    # No second memset: the EABI's __aeabi_memclr/__aeabi_memset (the module's memset is one) are the
    # runtime's branches to memset (runtime_c/src/aeabi_mem.c: a few bytes, the arguments put in C's
    # order), not newlib's 154-byte aeabi_memset-soft.
    sizes = _symbol_sizes(elf, TARGET)
    assert all(sizes.get(name, 0) <= 16 for name in ("__aeabi_memset", "__aeabi_memclr")), sizes
    obj, header = _compiled(source, 1)
    with_float = link_firmware(TARGET, obj, header, tmp_path / "float.elf", prefix="prog",
                               build_dir=tmp_path / "build-float", runtime_dir=_build_root(),
                               args=["hello.wasm"], printf_float=True)
    assert "_printf_float" in _symbols(with_float, TARGET)
    # The module's flash holds each data segment once (they are copied into linear memory).
    segments = sum(len(d.data) for d in decode_module(build_wasm(source, ONE_PAGE).read_bytes()).datas)
    rodata = subprocess.run([_tool(TARGET, "size"), "-A", str(obj)], capture_output=True, text=True,
                            check=True).stdout
    module_rodata = sum(int(line.split()[1]) for line in rodata.splitlines() if line.startswith(".rodata"))
    assert segments <= module_rodata < segments + 512


def test_every_import_links_on_the_board(board: Target, tmp_path: Path) -> None:
    """A module importing all 46 functions links (RAM filesystem included) and fits the board."""
    from waftkit import wasi

    case = load_case("all_imports", BOARD_PROGRAMS)
    elf = build_firmware(BOARD_PROGRAMS / "all_imports.c", case, tmp_path, seed_root=BOARD_PROGRAMS, target=board)
    linked = {s.removeprefix("wasi_snapshot_preview1__") for s in _symbols(elf, board)
              if s.startswith("wasi_snapshot_preview1__")}
    assert linked == set(wasi.FUNCTIONS_BY_NAME)
    report = measure(elf, board)
    assert report.ram_used + report.stack <= board.ram.length


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
