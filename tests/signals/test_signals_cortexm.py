"""`wasi-ext:signals` on Cortex-M boards under QEMU: NVIC lines with generated vectors, immediate and deferred.

Each test runs a WAT program with `waft run --target BOARD --grant ...` on
stm32f4 (QEMU netduinoplus2) and mps2-an386.  The program checks one part of
the port from inside the guest and exits with a status the test asserts (0
passed; 10 and up: the check that failed), or, for traps, the status and the
report on stderr.  Every check is written so that the behaviour it names
failing changes the status: the handler ran before `pend` returned (a count
read right after), nesting by priority (an event trace compared digit by
digit), masking (a count and `is-pending` read while masked), the interrupt
stack's own limit (how deep a recursive handler got before the stack check
stopped it: at the interrupted thread's limit it would stop at once).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signals_wat import RESULT_HELPERS

EXT = "wasi-ext:signals/signals@0.1.0"
BOARDS = ["stm32f4", "mps2-an386"]
# priority-max(): the NVIC levels between the kernel's ceiling 0x40 and PendSV/SysTick's lowest level.
PRIORITY_MAX = {"stm32f4": 11, "mps2-an386": 5}
SOFT0, SOFT1, TIMER0 = 0x20000, 0x20001, 0x30000

IMPORTS = f"""
  (import "{EXT}" "lookup" (func $lookup (param i32 i32 i32)))
  (import "{EXT}" "priority-max" (func $priority_max (result i32)))
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "detach" (func $detach (param i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "{EXT}" "is-pending" (func $is_pending_raw (param i32 i32)))
  (import "{EXT}" "set-mask" (func $set_mask (param i32) (result i32)))
  (import "{EXT}" "dispatch" (func $dispatch_raw (param i32 i32)))
  (import "{EXT}" "wait-for-event" (func $wait_raw (param i64 i32)))
  (import "{EXT}" "start-timer" (func $start_timer (param i32 i64 i64) (result i32)))
  (import "{EXT}" "stop-timer" (func $stop_timer (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
"""

# Memory map: 0.. names, 512 clock, 600.. return areas, 700 count, 704 tick count,
# 708 last arg, 712 trace (a decimal number, one digit per event), 800.. tick times.
HELPERS = RESULT_HELPERS + """
  (data (i32.const 0) "ringtockhilobellnope.")
  (func $log (param $digit i32)
    (i64.store (i32.const 712) (i64.add (i64.mul (i64.load (i32.const 712)) (i64.const 10))
                                        (i64.extend_i32_u (local.get $digit)))))
  (func $count (result i32) (i32.load (i32.const 700)))
  (func $ring (export "ring") (param $line i32) (param $arg i32)
    (i32.store (i32.const 700) (i32.add (call $count) (i32.const 1)))
    (i32.store (i32.const 708) (local.get $arg)))
  (func $tock (export "tock") (param $line i32) (param $arg i32)
    (i64.store (i32.add (i32.const 800) (i32.shl (i32.load (i32.const 704)) (i32.const 3))) (call $now))
    (i32.store (i32.const 704) (i32.add (i32.load (i32.const 704)) (i32.const 1))))
"""


def program(body: str, extra: str = "", memory: str = '(memory (export "memory") 1)') -> str:
    return (f"(module {IMPORTS} {memory} {HELPERS} {extra} "
            f"(func (export \"_start\") {body} (call $proc_exit (i32.const 0))))")


def board_or_skip(name: str) -> str:
    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("QEMU or the Arm toolchain is not installed")
    return name


def build(tmp_path, name: str, wat: str, threads: bool = False):
    source = tmp_path / f"{name}.wat"
    source.write_text(wat)
    wasm = source.with_suffix(".wasm")
    flags = ["--enable-threads"] if threads else []
    subprocess.run(["wat2wasm", *flags, str(source), "-o", str(wasm)], check=True)
    return wasm


def waft_run(wasm, board: str, *options: str) -> subprocess.CompletedProcess:
    """`waft run` on `board` under -icount: timers and the clock follow executed instructions, so the timing
    checks hold whatever the load (in real time QEMU delivers a late tick as one, and the clock falls behind)."""
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), "--target", board, "--icount", *options],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


# Immediate handlers: a software line bound to `ring` at build time runs
# before `pend` returns; binding means no other export may take it; a timer
# line runs `tock` every millisecond on the grid, twenty times in a row, each
# on or after its grid point and the twentieth within a period of it.
IMMEDIATE = program("""
    (local $t0 i64)
    (call $check (i32.eq (call $priority_max) (i32.const PRIORITY_MAX)) (i32.const 9))
    (call $check (i32.eqz (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 4) (i32.const 7)
                                               (i32.const 0) (i32.const 1))) (i32.const 10))
    (call $check (i32.eqz (call $enable (i32.const 0x20000))) (i32.const 11))
    (call $check (i32.eqz (call $pend (i32.const 0x20000))) (i32.const 12))
    (call $check (i32.and (i32.eq (call $count) (i32.const 1)) (i32.eq (i32.load (i32.const 708)) (i32.const 7)))
                 (i32.const 13))
    (call $check (i32.eqz (call $detach (i32.const 0x20000))) (i32.const 14))
    ;; bell is bound to `ring`: `tock` is refused (inval)
    (call $check (i32.eq (call $attach_export (i32.const 0x20000) (i32.const 4) (i32.const 4) (i32.const 0)
                                              (i32.const 0) (i32.const 1)) (i32.const 28)) (i32.const 15))
    (call $check (i32.eqz (call $attach_export (i32.const 0x30000) (i32.const 4) (i32.const 4) (i32.const 0)
                                               (i32.const 0) (i32.const 2))) (i32.const 16))
    (call $check (i32.eqz (call $enable (i32.const 0x30000))) (i32.const 17))
    (local.set $t0 (i64.add (call $now) (i64.const 1000000)))
    (call $check (i32.eqz (call $start_timer (i32.const 0x30000) (local.get $t0) (i64.const 1000000)))
                 (i32.const 18))
    (block $done (loop $spin
      (br_if $done (i32.ge_u (i32.load (i32.const 704)) (i32.const 20)))
      (br_if $spin (i64.lt_u (call $now) (i64.add (local.get $t0) (i64.const 50000000))))))
    (call $check (i32.ge_u (i32.load (i32.const 704)) (i32.const 20)) (i32.const 19))
    (call $check (i32.eqz (call $stop_timer (i32.const 0x30000))) (i32.const 20))
    ;; never before its grid point: the first at or after t0, the fifth at or after t0 + 4 periods
    (call $check (i64.ge_u (i64.load (i32.const 800)) (local.get $t0)) (i32.const 21))
    (call $check (i64.ge_u (i64.load (i32.const 832)) (i64.add (local.get $t0) (i64.const 4000000))) (i32.const 22))
    ;; and on time: the twentieth within a period of its grid point t0 + 19 periods (a timer whose
    ;; re-arming drifts, as QEMU's stm32f2xx model did when CNT was written, falls far behind)
    (call $check (i64.lt_u (i64.load (i32.const 952)) (i64.add (local.get $t0) (i64.const 20000000)))
                 (i32.const 23))
""")


@pytest.mark.parametrize("board", [
    "mps2-an386",
    "stm32f4",
])
def test_immediate_handlers_run_for_a_software_line_and_a_timer(tmp_path, board):
    wasm = build(tmp_path, "immediate", IMMEDIATE.replace("PRIORITY_MAX", str(PRIORITY_MAX[board_or_skip(board)])))
    result = waft_run(wasm, board, "--grant", "bell=soft:0@ring", "--grant", "tick=timer:0")
    assert result.returncode == 0, result.stderr


# Nesting and masking: lo (priority 1) and hi (priority 2).  Phase 0: lo pends
# hi, which runs inside lo (1 3 4 2).  Phase 1: hi pends lo, which waits until
# hi returns (3 4 1 2).  Then set-mask(1) holds lo back (pending, count the
# same) while hi still runs; set-mask(0) lets lo in at once.
NESTING = program("""
    (call $check (i32.eqz (call $attach_export (i32.const 0x20000) (i32.const 10) (i32.const 2) (i32.const 0)
                                               (i32.const 0) (i32.const 1))) (i32.const 10))
    (call $check (i32.eqz (call $attach_export (i32.const 0x20001) (i32.const 8) (i32.const 2) (i32.const 0)
                                               (i32.const 0) (i32.const 2))) (i32.const 11))
    (drop (call $enable (i32.const 0x20000)))
    (drop (call $enable (i32.const 0x20001)))
    (drop (call $pend (i32.const 0x20000)))
    (global.set $phase (i32.const 1))
    (drop (call $pend (i32.const 0x20001)))
    (call $check (i64.eq (i64.load (i32.const 712)) (i64.const 13423412)) (i32.const 12))
    (global.set $phase (i32.const 2))
    (i64.store (i32.const 712) (i64.const 0))
    (call $check (i32.eqz (call $set_mask (i32.const 1))) (i32.const 13))
    (drop (call $pend (i32.const 0x20000)))
    (call $check (i64.eqz (i64.load (i32.const 712))) (i32.const 14))
    (call $check (i32.eq (call $is_pending (i32.const 0x20000)) (i32.const 1)) (i32.const 15))
    (drop (call $pend (i32.const 0x20001)))
    (call $check (i64.eq (i64.load (i32.const 712)) (i64.const 34)) (i32.const 16))
    (call $check (i32.eq (call $set_mask (i32.const 0)) (i32.const 1)) (i32.const 17))
    (call $check (i64.eq (i64.load (i32.const 712)) (i64.const 3412)) (i32.const 18))
    (call $check (i32.eqz (call $is_pending (i32.const 0x20000))) (i32.const 19))
""", extra="""
  (global $phase (mut i32) (i32.const 0))
  (func (export "lo") (param $line i32) (param $arg i32)
    (call $log (i32.const 1))
    (if (i32.eqz (global.get $phase)) (then (drop (call $pend (i32.const 0x20001)))))
    (call $log (i32.const 2)))
  (func (export "hi") (param $line i32) (param $arg i32)
    (call $log (i32.const 3))
    (if (i32.eq (global.get $phase) (i32.const 1)) (then (drop (call $pend (i32.const 0x20000)))))
    (call $log (i32.const 4)))
""")


@pytest.mark.parametrize("board", BOARDS)
def test_nesting_follows_priority_and_set_mask_defers_delivery(tmp_path, board):
    wasm = build(tmp_path, "nesting", NESTING)
    result = waft_run(wasm, board_or_skip(board), "--grant", "lo=soft:0", "--grant", "hi=soft:1")
    assert result.returncode == 0, result.stderr


def trapping(exit_code: int) -> str:
    return program("""
    (drop (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 4) (i32.const ARG) (i32.const 0)
                               (i32.const 1)))
    (drop (call $enable (i32.const 0x20000)))
    (drop (call $pend (i32.const 0x20000)))
    (call $proc_exit (i32.const 3))
""".replace("ARG", str(exit_code)), extra="""
  (func $trapper (export "trapper") (param $line i32) (param $arg i32)
    (if (local.get $arg) (then (call $proc_exit (local.get $arg))))
    unreachable)
""").replace('"ringtock', '"trapper').replace("(i32.const 0) (i32.const 4) (i32.const", "(i32.const 0) (i32.const 7) (i32.const")


@pytest.mark.parametrize("board", BOARDS)
def test_a_trap_in_an_immediate_handler_ends_the_program_naming_the_line(tmp_path, board):
    result = waft_run(build(tmp_path, "trap", trapping(0)), board_or_skip(board), "--grant", "bell=soft:0")
    assert result.returncode == 70, result.stderr
    assert "waft: signals: trap in the immediate handler of line 0x00020000 (bell): unreachable" in result.stderr
    result = waft_run(build(tmp_path, "exit", trapping(42)), board, "--grant", "bell=soft:0")
    assert (result.returncode, result.stderr) == (42, "")


# The interrupt stack's own limit: a handler that recurses for ever, printing
# a dot per level, is stopped by the stack check ("call stack exhausted")
# on the interrupt stack, after many levels.  With threads the kernel gives
# handlers their own stack (8 KiB, 2 KiB of it margin); at the interrupted
# thread's limit the first check would already fail (that stack lies
# elsewhere), and without any limit the recursion would run into other memory
# and fault instead of trapping.
def recursing(threads: bool) -> str:
    memory = ('(import "env" "memory" (memory 1 1 shared)) (export "memory" (memory 0))' if threads
              else '(memory (export "memory") 1)')
    spawn = '(import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))' if threads else ""
    wat = program("""
    (drop (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 7) (i32.const 0) (i32.const 0)
                               (i32.const 1)))
    (drop (call $enable (i32.const 0x20000)))
    (drop (call $pend (i32.const 0x20000)))
    (call $proc_exit (i32.const 3))
""", memory=memory, extra="""
  (func $deeper (param $depth i32) (result i32)
    (i32.store (i32.const 640) (i32.const 7)) (i32.store (i32.const 644) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 640) (i32.const 1) (i32.const 648)))
    (i32.add (call $deeper (i32.add (local.get $depth) (i32.const 1))) (local.get $depth)))
  (func (export "recurse") (param $line i32) (param $arg i32) (drop (call $deeper (i32.const 0))))
""").replace('"ringtockhilobellnope.', '"recurse.............').replace(IMPORTS, IMPORTS + spawn)
    if threads:
        wat = wat.replace("(func (export \"_start\")",
                          "(func (export \"wasi_thread_start\") (param i32 i32)) (func (export \"_start\")")
    return wat


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("threads", [False, True], ids=["main-stack", "kernel-isr-stack"])
def test_a_recursing_immediate_handler_is_stopped_by_the_interrupt_stack_limit(tmp_path, board, threads):
    wasm = build(tmp_path, "recurse", recursing(threads), threads=threads)
    result = waft_run(wasm, board_or_skip(board), "--grant", "bell=soft:0", "--max-threads", "1")
    assert result.returncode == 70, result.stdout[-200:] + result.stderr
    assert "trap in the immediate handler of line 0x00020000 (bell): call stack exhausted" in result.stderr
    assert "@fault" not in result.stdout + result.stderr
    depth = result.stdout.count(".")
    assert depth >= 20, depth
    if threads:
        # 8 KiB interrupt stack, 2 KiB of it margin: tens of levels, not the thousands the main stack holds.
        assert depth <= 2000, depth


# Deferred delivery on the board: a pended deferred line waits for dispatch;
# wait-for-event times out with nothing pending and wakes for a timer line;
# ungranted lines and unknown names are refused.
DEFERRED = program("""
    (local $i i32)
    (call $lookup (i32.const 16) (i32.const 4) (i32.const 620))
    (call $check (i32.eq (i32.load8_u (i32.const 620)) (i32.const 1)) (i32.const 9))
    (call $check (i32.eq (i32.load8_u (i32.const 624)) (i32.const 44)) (i32.const 10))
    (call $check (i32.eq (call $attach_export (i32.const 0x20001) (i32.const 0) (i32.const 4) (i32.const 0)
                                              (i32.const 1) (i32.const 1)) (i32.const 76)) (i32.const 11))
    (call $check (i32.eq (call $pend (i32.const 0x20001)) (i32.const 76)) (i32.const 12))
    (call $check (i32.eqz (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 4) (i32.const 0)
                                               (i32.const 1) (i32.const 1))) (i32.const 13))
    (drop (call $enable (i32.const 0x20000)))
    (drop (call $pend (i32.const 0x20000)))
    (call $check (i32.eqz (call $count)) (i32.const 14))
    (call $check (i32.eq (call $dispatch (i32.const 0)) (i32.const 1)) (i32.const 15))
    (call $check (i32.eq (call $count) (i32.const 1)) (i32.const 16))
    (call $check (i32.eq (call $wait (i64.add (call $now) (i64.const 2000000))) (i32.const 1073)) (i32.const 17))
    (call $check (i32.eqz (call $attach_export (i32.const 0x30000) (i32.const 4) (i32.const 4) (i32.const 0)
                                               (i32.const 1) (i32.const 1))) (i32.const 18))
    (drop (call $enable (i32.const 0x30000)))
    (drop (call $start_timer (i32.const 0x30000) (i64.add (call $now) (i64.const 1000000)) (i64.const 1000000)))
    (loop $again
      (call $check (i32.eq (call $wait (i64.const -1)) (i32.const 1)) (i32.const 19))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))
    (call $check (i32.eq (i32.load (i32.const 704)) (i32.const 3)) (i32.const 20))
""")


@pytest.mark.parametrize("board", BOARDS)
def test_deferred_lines_wait_for_dispatch_and_ungranted_lines_are_refused(tmp_path, board):
    result = waft_run(build(tmp_path, "deferred", DEFERRED), board_or_skip(board),
                      "--grant", "bell=soft:0", "--grant", "tick=timer:0")
    assert result.returncode == 0, result.stderr


# The C shadow stack (docs/interrupts.md): programs/red_zone.c, clang-built, runs two leaves that
# keep data in their shadow frames -- one in the red zone, unpublished, one published -- under a
# 50 kHz timer whose handler pushes a 200-byte frame.  The vector moves the pointer past the red
# zone (a bound line's direct vector, and the slot vector of a line attached at run time); without
# that the red-zone leaf loses its data (exit 11).
RED_ZONE_C = Path(__file__).parent / "programs" / "red_zone.c"


@pytest.fixture(scope="module")
def red_zone_wasm(tmp_path_factory) -> Path:
    if shutil.which("clang") is None or not Path("/usr/include/wasm32-wasi").is_dir():
        pytest.skip("clang and wasi-libc are not installed")
    out = tmp_path_factory.mktemp("red_zone") / "red_zone.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", str(RED_ZONE_C), "-o", str(out)], check=True)
    return out


@pytest.mark.parametrize("board, grant", [
    ("stm32f4", "tick=timer:0@on_tick"),
    ("stm32f4", "tick=timer:0"),
    ("mps2-an386", "tick=timer:0@on_tick"),
])
def test_a_handler_with_shadow_frames_leaves_the_interrupted_frames_alone(red_zone_wasm, board, grant):
    result = waft_run(red_zone_wasm, board_or_skip(board), "--grant", grant)
    assert result.returncode == 0, f"exit {result.returncode} (red_zone.c says which leaf lost data)\n{result.stderr}"


@pytest.mark.parametrize("grant, message", [
    ("x=irq:5", "stm32f4 has no free device interrupt 5 (free: 6, 7, 8, 9, 10, 23, 40"),
    ("x=soft:4", "stm32f4 has 4 software lines (soft:0..soft:3)"),
    ("x=timer:2", "stm32f4 has 2 timer lines (timer:0..timer:1)"),
    ("x=usr1@ring", "a signal line has no vector to bind to an export"),
])
def test_a_line_the_board_does_not_have_is_refused_before_building(tmp_path, grant, message):
    wasm = tmp_path / "any.wasm"
    wasm.write_bytes(b"\0asm\1\0\0\0")
    result = waft_run(wasm, "stm32f4", "--grant", grant)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# With threads on the kernel: a spawned handler thread attaches a deferred
# line and loops in wait-for-event (blocking in the kernel); the main thread
# pends three times and each time waits for the handler thread's answer.
THREADED = f"""(module
  (import "env" "memory" (memory 1 1 shared)) (export "memory" (memory 0))
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "{EXT}" "wait-for-event" (func $wait (param i64 i32)))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (data (i32.const 0) "on_event")
  (func (export "on_event") (param $line i32) (param $arg i32)
    (i32.atomic.store (i32.const 700) (i32.add (i32.atomic.load (i32.const 700)) (local.get $arg)))
    (drop (memory.atomic.notify (i32.const 700) (i32.const 1))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (i32.const 808) (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 8) (i32.const 1)
                                                   (i32.const 1) (i32.const 1)))
    (drop (call $enable (i32.const 0x20000)))
    (i32.atomic.store (i32.const 800) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 800) (i32.const 1)))
    (loop $serve
      (call $wait (i64.const -1) (i32.const 600))
      (br_if $serve (i32.eqz (i32.load8_u (i32.const 600))))))
  (func (export "_start") (local $i i32)
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 800) (i32.const 0) (i64.const 1000000000)))
    (if (i32.load (i32.const 808)) (then (call $proc_exit (i32.const 10))))
    (loop $again
      (drop (call $pend (i32.const 0x20000)))
      (drop (memory.atomic.wait32 (i32.const 700) (local.get $i) (i64.const 1000000000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.ne (i32.atomic.load (i32.const 700)) (local.get $i)) (then (call $proc_exit (i32.const 11))))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))
    (call $proc_exit (i32.const 0))))
"""


@pytest.mark.parametrize("board", BOARDS)
def test_a_handler_thread_loops_in_wait_for_event_on_the_kernel(tmp_path, board):
    wasm = build(tmp_path, "threaded", THREADED, threads=True)
    result = waft_run(wasm, board_or_skip(board), "--grant", "bell=soft:0", "--max-threads", "2")
    assert result.returncode == 0, result.stderr
    assert not re.search(r"@fault", result.stdout)
