"""`wasi-ext:signals/signals@0.1.0` on the host: the runtime's imports match the WIT, and behave as it says.

runtime_c/signals/ext_signals.c is written at the core level (its comment
says why); the first test compiles it against prototypes generated from the
WIT through the canonical ABI, so a drift in a name or a type is a compile
error.  The others run WAT programs through `waft run --grant ...`, each
checking one part of the interface from inside the guest and exiting with a
status the test asserts (10 and up: the check that failed), or, for real
POSIX signals, talking to the test through stdout while pytest sends them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from aot.package_data import RUNTIME_DIR
from aot.targets import load_target
from aot.wasm.module import Import
from waftkit import wasi_ext
from waftkit.firmware.runtime import runtime_cflags
from waftkit.imports_check import c_prototype
from signals_wat import RESULT_HELPERS

EXT = "wasi-ext:signals/signals@0.1.0"
USR1, USR2, TERM = 0x1000A, 0x1000C, 0x1000F
SOFT0, SOFT1, TIMER0 = 0x20000, 0x20001, 0x30000


def test_runtime_definitions_match_the_wit(tmp_path):
    imports = {name: imp for (module, name), imp in wasi_ext.catalogue().items() if module == EXT}
    assert len(imports) == 17, sorted(imports)
    prototypes = [c_prototype(Import(EXT, name, "func", 0), imp.type) + ";" for name, imp in sorted(imports.items())]
    header = tmp_path / "wit_prototypes.h"
    header.write_text('#include <stdint.h>\n' + "\n".join(prototypes) + "\n")
    target = load_target("host")
    result = subprocess.run(
        [target.cc, *runtime_cflags(target), "-Werror", "-include", str(header), "-c",
         str(RUNTIME_DIR / "signals" / "ext_signals.c"), "-o", str(tmp_path / "ext.o")],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    defined = subprocess.run(["nm", "--defined-only", str(tmp_path / "ext.o")], capture_output=True, text=True).stdout
    for prototype in prototypes:
        symbol = prototype.split("(")[0].split()[-1]
        assert f" T {symbol}\n" in defined, symbol


def test_the_host_declares_the_interface_provided():
    provided = wasi_ext.target_provides(load_target("host"))
    assert {n for (m, n) in provided if m == EXT} == {n for (m, n) in wasi_ext.catalogue() if m == EXT}


# Memory map of the programs: 0.. names, 512 clock, 600.. return areas,
# 700 handler count, 704 last (line, arg) seen, 720.. handler log.
IMPORTS = f"""
  (import "{EXT}" "lookup" (func $lookup (param i32 i32 i32)))
  (import "{EXT}" "capabilities" (func $capabilities (param i32 i32)))
  (import "{EXT}" "priority-max" (func $priority_max (result i32)))
  (import "{EXT}" "attach" (func $attach (param i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "detach" (func $detach (param i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "disable" (func $disable (param i32) (result i32)))
  (import "{EXT}" "set-priority" (func $set_priority (param i32 i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "{EXT}" "clear-pending" (func $clear_pending (param i32) (result i32)))
  (import "{EXT}" "is-pending" (func $is_pending_raw (param i32 i32)))
  (import "{EXT}" "set-mask" (func $set_mask (param i32) (result i32)))
  (import "{EXT}" "dispatch" (func $dispatch_raw (param i32 i32)))
  (import "{EXT}" "wait-for-event" (func $wait_raw (param i64 i32)))
  (import "{EXT}" "start-timer" (func $start_timer (param i32 i64 i64) (result i32)))
  (import "{EXT}" "stop-timer" (func $stop_timer (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (table (export "table") 4 funcref)
  (elem (i32.const 1) $on_event $not_a_handler)
  ;; names: usr1 0, tick 4, bell 8, nope 12, on_event 16, not_a_handler 24, "ready\\n" 37,
  ;; trapper 43, a byte that is no UTF-8 at 50, usr2 51
  (data (i32.const 0) "usr1tickbellnopeon_eventnot_a_handlerready\\ntrapper\\ffusr2")
  {RESULT_HELPERS}
  (func $print_ready
    (i32.store (i32.const 640) (i32.const 37)) (i32.store (i32.const 644) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 640) (i32.const 1) (i32.const 648))))
  ;; the handler: count, remember (line, arg), log the line
  (func $on_event (export "on_event") (param $line i32) (param $arg i32)
    (i32.store (i32.add (i32.const 720) (i32.shl (i32.load (i32.const 700)) (i32.const 2))) (local.get $line))
    (i32.store (i32.const 700) (i32.add (i32.load (i32.const 700)) (i32.const 1)))
    (i32.store (i32.const 704) (local.get $line))
    (i32.store (i32.const 708) (local.get $arg)))
  (func $not_a_handler (export "not_a_handler") (param i32) (result i32) (local.get 0))
  ;; a handler that ends the program: proc_exit(42) when its arg is 42, else a trap
  (func $trapper (export "trapper") (param $line i32) (param $arg i32)
    (if (i32.eq (local.get $arg) (i32.const 42)) (then (call $proc_exit (i32.const 42))))
    unreachable)
"""


def program(body: str, extra: str = "") -> str:
    return f"(module {IMPORTS} {extra} (func (export \"_start\") {body} (call $proc_exit (i32.const 0))))"


def build(tmp_path, name: str, wat: str):
    source = tmp_path / f"{name}.wat"
    source.write_text(wat)
    wasm = source.with_suffix(".wasm")
    subprocess.run(["wat2wasm", str(source), "-o", str(wasm)], check=True)
    return wasm


def waft_run(wasm, *options: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), *options],
                          capture_output=True, text=True, timeout=120, **kw)


def check(call: str, expected: int, code: int) -> str:
    """WAT: exit with `code` unless `call` gives `expected`."""
    return f"(call $check (i32.eq {call} (i32.const {expected})) (i32.const {code}))\n"


# Every rule of the WIT that a program can see without real signals, on a
# software line (bell = soft:0), a timer line (tick = timer:0) and usr2.
SEMANTICS = program("".join([
    check("(call $priority_max)", 1, 10),
    # lookup: the granted line, noent, ilseq, fault (a string past the memory)
    "(call $lookup (i32.const 8) (i32.const 4) (i32.const 600))",
    check("(i32.load8_u (i32.const 600))", 0, 11), check("(i32.load (i32.const 604))", SOFT0, 12),
    "(call $lookup (i32.const 12) (i32.const 4) (i32.const 600))",
    check("(i32.load8_u (i32.const 604))", 44, 13),
    "(call $lookup (i32.const 50) (i32.const 1) (i32.const 600))",
    check("(i32.load8_u (i32.const 604))", 25, 14),
    "(call $lookup (i32.const 65534) (i32.const 4) (i32.const 600))",
    check("(i32.load8_u (i32.const 604))", 21, 15),
    # capabilities: deferred|pend for a software line, |timer for a timer; notcapable, inval
    "(call $capabilities (i32.const 0x20000) (i32.const 608))",
    check("(i32.load16_u (i32.const 608))", 0x0600, 16),
    "(call $capabilities (i32.const 0x30000) (i32.const 608))",
    check("(i32.load16_u (i32.const 608))", 0x1600, 17),
    "(call $capabilities (i32.const 0x20001) (i32.const 608))",
    check("(i32.load16_u (i32.const 608))", 0x4C01, 18),
    check("(call $pend (i32.const 0x50000))", 28, 19),
    # attach errors: wrong type, null entry, past the table, priority 0 / too high, immediate,
    # an export of the wrong type, no such export, not granted
    check("(call $attach (i32.const 0x20000) (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 1))", 28, 20),
    check("(call $attach (i32.const 0x20000) (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 1))", 28, 21),
    check("(call $attach (i32.const 0x20000) (i32.const 99) (i32.const 0) (i32.const 1) (i32.const 1))", 28, 22),
    check("(call $attach (i32.const 0x20000) (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0))", 28, 23),
    check("(call $attach (i32.const 0x20000) (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 2))", 63, 24),
    check("(call $attach (i32.const 0x20000) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 1))", 58, 25),
    check("(call $attach_export (i32.const 0x20000) (i32.const 24) (i32.const 13) (i32.const 0) (i32.const 1)"
          " (i32.const 1))", 28, 26),
    check("(call $attach_export (i32.const 0x20000) (i32.const 12) (i32.const 4) (i32.const 0) (i32.const 1)"
          " (i32.const 1))", 44, 27),
    check("(call $attach (i32.const 0x20001) (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 1))", 76, 28),
    check("(call $enable (i32.const 0x20000))", 28, 29),  # no handler yet
    # attach from table 0; a second attach is busy
    check("(call $attach (i32.const 0x20000) (i32.const 1) (i32.const 7) (i32.const 1) (i32.const 1))", 0, 30),
    check("(call $attach_export (i32.const 0x20000) (i32.const 16) (i32.const 8) (i32.const 0) (i32.const 1)"
          " (i32.const 1))", 10, 31),
    # set-priority: no priorities on the host
    check("(call $set_priority (i32.const 0x20000) (i32.const 1))", 58, 32),
    check("(call $set_priority (i32.const 0x20000) (i32.const 0))", 28, 33),
    check("(call $set_priority (i32.const 0x20000) (i32.const 2))", 63, 34),
    # disabled (as attached): an event latches, nothing runs; enable delivers it
    check("(call $pend (i32.const 0x20000))", 0, 35),
    check("(call $dispatch (i32.const 0))", 0, 36),
    check("(call $is_pending (i32.const 0x20000))", 1, 37),
    check("(call $enable (i32.const 0x20000))", 0, 38),
    # coalescing: two more pends, still one run, with (line, arg)
    check("(call $pend (i32.const 0x20000))", 0, 39),
    check("(call $dispatch (i32.const 0))", 1, 40),
    check("(i32.load (i32.const 700))", 1, 41),
    check("(i32.load (i32.const 704))", SOFT0, 42), check("(i32.load (i32.const 708))", 7, 43),
    check("(call $is_pending (i32.const 0x20000))", 0, 44),
    # masking defers; set-mask returns the old level and clamps to priority-max
    check("(call $set_mask (i32.const 9))", 0, 45),
    check("(call $pend (i32.const 0x20000))", 0, 46),
    check("(call $dispatch (i32.const 0))", 0, 47),
    check("(call $wait (i64.add (call $now) (i64.const 20000000)))", 1000 + 73, 48),
    check("(call $set_mask (i32.const 0))", 1, 49),
    check("(call $wait (i64.const -1))", 1, 50),
    # clear-pending forgets the event
    check("(call $pend (i32.const 0x20000))", 0, 51),
    check("(call $clear_pending (i32.const 0x20000))", 0, 52),
    check("(call $is_pending (i32.const 0x20000))", 0, 53),
    check("(call $dispatch (i32.const 0))", 0, 54),
    # two lines: limit 1 runs one, lowest line first among equal priorities
    check("(call $attach_export (i32.const 0x30000) (i32.const 16) (i32.const 8) (i32.const 9) (i32.const 1)"
          " (i32.const 1))", 0, 55),
    check("(call $enable (i32.const 0x30000))", 0, 56),
    check("(call $pend (i32.const 0x30000))", 0, 57),
    check("(call $pend (i32.const 0x20000))", 0, 58),
    check("(call $dispatch (i32.const 1))", 1, 59),
    check("(i32.load (i32.const 704))", SOFT0, 60),
    check("(call $dispatch (i32.const 0))", 1, 61),
    check("(i32.load (i32.const 704))", TIMER0, 62), check("(i32.load (i32.const 708))", 9, 63),
    # timers: only on timer lines; no period the host cannot keep
    check("(call $start_timer (i32.const 0x20000) (i64.const 0) (i64.const 1000000))", 58, 64),
    check("(call $stop_timer (i32.const 0x20000))", 58, 65),
    check("(call $start_timer (i32.const 0x30000) (i64.const 0) (i64.const 1000))", 28, 66),
    # proc_raise pends a signal line that has a handler, and returns success
    check("(call $attach_export (i32.const 0x1000c) (i32.const 16) (i32.const 8) (i32.const 3) (i32.const 1)"
          " (i32.const 1))", 0, 67),
    check("(call $enable (i32.const 0x1000c))", 0, 68),
    check("(call $proc_raise (i32.const 12))", 0, 69),
    check("(call $is_pending (i32.const 0x1000c))", 1, 70),
    check("(call $dispatch (i32.const 0))", 1, 71),
    check("(i32.load (i32.const 704))", USR2, 72),
    # detach clears the event and the handler; twice is inval; enable needs a handler again
    check("(call $pend (i32.const 0x20000))", 0, 73),
    check("(call $detach (i32.const 0x20000))", 0, 74),
    check("(call $is_pending (i32.const 0x20000))", 0, 75),
    check("(call $detach (i32.const 0x20000))", 28, 76),
    check("(call $enable (i32.const 0x20000))", 28, 77),
    check("(i32.load (i32.const 700))", 5, 78),
    # a return area past the memory is a trap, not a write
    "(call $dispatch_raw (i32.const 0) (i32.const 65532))",
]))


def test_the_interface_semantics_on_software_and_timer_lines(tmp_path):
    wasm = build(tmp_path, "semantics", SEMANTICS)
    result = waft_run(wasm, "--grant", "bell=soft:0", "--grant", "tick=timer:0", "--grant", "usr2")
    # The last call traps (out of bounds), after every check passed.
    assert result.returncode == 70, result.stderr
    assert "out of bounds memory access" in result.stderr


def start(wasm, *options: str) -> subprocess.Popen:
    """`waft run` in the background; the test reads the program's "ready" line before it sends signals."""
    return subprocess.Popen([sys.executable, "-m", "waftkit", "run", str(wasm), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    if line != "ready\n":
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"no ready line: {line!r}{out}\n{err}")


# Real SIGUSR1s from the test: the first, sent while the program waits in
# wait-for-event, runs the handler with (line, arg); two more sent while the
# program masks its lines stay pending (wait-for-event times out) and then
# run the handler once (coalesced) when the mask drops.
USR1_PROGRAM = program("".join([
    "(call $lookup (i32.const 0) (i32.const 4) (i32.const 600))",
    check("(i32.load (i32.const 604))", USR1, 10),
    check("(call $attach_export (i32.const 0x1000a) (i32.const 16) (i32.const 8) (i32.const 5) (i32.const 1)"
          " (i32.const 1))", 0, 11),
    check("(call $enable (i32.const 0x1000a))", 0, 12),
    "(call $print_ready)",
    check("(call $wait (i64.add (call $now) (i64.const 20000000000)))", 1, 13),
    check("(i32.load (i32.const 704))", USR1, 14), check("(i32.load (i32.const 708))", 5, 15),
    check("(call $set_mask (i32.const 1))", 0, 16),
    "(call $print_ready)",
    # both signals arrive: poll until pending, then give the second time to land
    "(block $got (loop $poll (br_if $got (call $is_pending (i32.const 0x1000a)))"
    " (drop (call $wait (i64.add (call $now) (i64.const 1000000)))) (br $poll)))",
    check("(call $wait (i64.add (call $now) (i64.const 300000000)))", 1073, 17),
    check("(call $set_mask (i32.const 0))", 1, 18),
    check("(call $dispatch (i32.const 0))", 1, 19),
    check("(i32.load (i32.const 700))", 2, 20),
]))


def test_sigusr1_runs_the_deferred_handler_and_coalesces_while_masked(tmp_path):
    wasm = build(tmp_path, "usr1", USR1_PROGRAM)
    proc = start(wasm, "--grant", "usr1")
    try:
        wait_ready(proc)
        time.sleep(0.05)  # let the program reach wait-for-event: the wake-up path, not a pending check
        os.kill(proc.pid, signal.SIGUSR1)  # waft run has become the program (exec)
        wait_ready(proc)
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.02)
        os.kill(proc.pid, signal.SIGUSR1)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err


# A 10 ms periodic timer line: 20 events take at least the 200 ms their grid
# spans (first release + 19 periods), and stop-timer stops them.
TIMER_PROGRAM = program("".join([
    "(local $t0 i64) (local $elapsed i64)",
    check("(call $attach_export (i32.const 0x30000) (i32.const 16) (i32.const 8) (i32.const 0) (i32.const 1)"
          " (i32.const 1))", 0, 10),
    check("(call $enable (i32.const 0x30000))", 0, 11),
    "(local.set $t0 (call $now))",
    check("(call $start_timer (i32.const 0x30000) (i64.add (local.get $t0) (i64.const 10000000))"
          " (i64.const 10000000))", 0, 12),
    "(loop $more (drop (call $wait (i64.const -1)))"
    " (br_if $more (i32.lt_u (i32.load (i32.const 700)) (i32.const 20))))",
    "(local.set $elapsed (i64.sub (call $now) (local.get $t0)))",
    check("(call $stop_timer (i32.const 0x30000))", 0, 13),
    check("(call $clear_pending (i32.const 0x30000))", 0, 14),
    check("(call $wait (i64.add (call $now) (i64.const 50000000)))", 1073, 15),
    "(call $check (i64.ge_u (local.get $elapsed) (i64.const 199000000)) (i32.const 16))",
    "(call $check (i64.lt_u (local.get $elapsed) (i64.const 3000000000)) (i32.const 17))",
    check("(i32.load (i32.const 700))", 20, 18),
]))


def test_a_periodic_timer_line_fires_on_its_grid(tmp_path):
    result = waft_run(build(tmp_path, "timer", TIMER_PROGRAM), "--grant", "tick=timer:0")
    assert result.returncode == 0, result.stderr


# Nothing granted: the module still runs; every line is notcapable, lookup finds nothing.
UNGRANTED = program("".join([
    "(call $lookup (i32.const 0) (i32.const 4) (i32.const 600))",
    check("(i32.load8_u (i32.const 600))", 1, 10), check("(i32.load8_u (i32.const 604))", 44, 11),
    check("(call $pend (i32.const 0x1000a))", 76, 12),
    check("(call $attach_export (i32.const 0x1000a) (i32.const 16) (i32.const 8) (i32.const 0) (i32.const 1)"
          " (i32.const 1))", 76, 13),
    check("(call $enable (i32.const 0x20000))", 76, 14),
    check("(call $is_pending (i32.const 0x30000))", 1076, 15),
    check("(call $start_timer (i32.const 0x30000) (i64.const 0) (i64.const 0))", 76, 16),
    check("(call $dispatch (i32.const 0))", 0, 17),
    # and proc_raise keeps p1's default action: usr2 ends the program
    "(drop (call $proc_raise (i32.const 12)))",
]))


def test_without_grants_every_line_is_notcapable(tmp_path):
    result = waft_run(build(tmp_path, "ungranted", UNGRANTED))
    assert result.returncode == 128 + 12, result.stderr  # as a shell reports a process killed by SIGUSR2
    assert result.stderr == "waft: terminated by SIGUSR2 (proc_raise)\n"


# A trap in a handler ends the program, naming the line; proc_exit in one exits with its status.
def trapping(arg: int) -> str:
    return program("".join([
        check(f"(call $attach_export (i32.const 0x20000) (i32.const 43) (i32.const 7) (i32.const {arg})"
              " (i32.const 1) (i32.const 1))", 0, 10),
        check("(call $enable (i32.const 0x20000))", 0, 11),
        check("(call $pend (i32.const 0x20000))", 0, 12),
        "(drop (call $dispatch (i32.const 0)))",
        "(call $proc_exit (i32.const 13))",  # never: the handler ended the program
    ]))


def test_a_trap_in_a_handler_ends_the_program_and_names_the_line(tmp_path):
    result = waft_run(build(tmp_path, "trap", trapping(0)), "--grant", "bell=soft:0")
    assert result.returncode == 70, result.stderr
    assert result.stderr.splitlines() == [
        "waft: signals: trap in the handler of line 0x00020000 (bell): unreachable",
        "waft: trap: unreachable",
    ]
    result = waft_run(build(tmp_path, "exit", trapping(42)), "--grant", "bell=soft:0")
    assert (result.returncode, result.stderr) == (42, "")


@pytest.mark.parametrize("grant, message", [
    ("x=usr3", "--grant x=usr3: unknown signal 'usr3'"),
    ("x=0x00050001", "class 0x0005 is reserved"),
    ("x=kill", "signal kill cannot be a line"),
    ("x=irq:3", "host has no device interrupt lines"),
    ("x=soft:70000", "is not a line number 0..65535"),
    ("bad name=usr1", "the name 'bad name' must be"),
    ("tick", "--grant wants NAME=SOURCE"),
])
def test_a_bad_grant_is_one_line_and_status_2(tmp_path, grant, message):
    wasm = tmp_path / "any.wasm"
    wasm.write_bytes(b"\0asm\1\0\0\0")
    result = waft_run(wasm, "--grant", grant)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_a_line_or_a_name_granted_twice_is_refused(tmp_path):
    wasm = tmp_path / "any.wasm"
    wasm.write_bytes(b"\0asm\1\0\0\0")
    result = waft_run(wasm, "--grant", "usr1", "--grant", "other=SIGUSR1")
    assert result.returncode == 2 and "line 0x0001000a is already granted as 'usr1'" in result.stderr
    result = waft_run(wasm, "--grant", "a=soft:1", "--grant", "a=soft:2")
    assert result.returncode == 2 and "the name 'a' is granted twice" in result.stderr


# With threads, a line runs on the thread that attached it: a spawned thread
# attaches and waits in wait-for-event; the main thread pends the line, and
# its own dispatch runs nothing (the line is not its own).
THREADED = f"""(module
  (memory (export "memory") (import "env" "memory") 1 1 shared)
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "{EXT}" "dispatch" (func $dispatch (param i32 i32)))
  (import "{EXT}" "wait-for-event" (func $wait (param i64 i32)))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (data (i32.const 0) "on_event")
  (func (export "on_event") (param $line i32) (param $arg i32)
    (i32.store (i32.const 700) (i32.add (i32.load (i32.const 700)) (local.get $arg))))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (i32.const 808) (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 8) (i32.const 5)
                                                   (i32.const 1) (i32.const 1)))
    (drop (call $enable (i32.const 0x20000)))
    (i32.atomic.store (i32.const 800) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 800) (i32.const 1)))
    (call $wait (i64.const -1) (i32.const 600))
    (i32.atomic.store (i32.const 804) (i32.add (i32.const 1) (i32.load (i32.const 604))))
    (drop (memory.atomic.notify (i32.const 804) (i32.const 1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (drop (memory.atomic.wait32 (i32.const 800) (i32.const 0) (i64.const 10000000000)))
    (if (i32.load (i32.const 808)) (then (call $proc_exit (i32.const 10))))
    (call $dispatch (i32.const 0) (i32.const 620))
    (if (i32.load (i32.const 624)) (then (call $proc_exit (i32.const 11))))
    (drop (call $pend (i32.const 0x20000)))
    (drop (memory.atomic.wait32 (i32.const 804) (i32.const 0) (i64.const 10000000000)))
    (if (i32.ne (i32.atomic.load (i32.const 804)) (i32.const 2)) (then (call $proc_exit (i32.const 12))))
    (if (i32.ne (i32.load (i32.const 700)) (i32.const 5)) (then (call $proc_exit (i32.const 13))))
    (call $proc_exit (i32.const 0))))
"""


def test_with_threads_a_line_runs_on_the_thread_that_attached_it(tmp_path):
    source = tmp_path / "threaded.wat"
    source.write_text(THREADED)
    subprocess.run(["wat2wasm", "--enable-threads", str(source), "-o", str(tmp_path / "threaded.wasm")], check=True)
    result = waft_run(tmp_path / "threaded.wasm", "--grant", "bell=soft:0", "--max-threads", "2")
    assert result.returncode == 0, result.stderr
