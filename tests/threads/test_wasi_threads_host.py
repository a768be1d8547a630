"""wasi-threads on the host through `waft run`: spawn, thread ids, the pool, and "a trap ends all".

Each program is a small WAT module shaped like wasi-libc's threaded output: it
imports its memory and `wasi.thread-spawn` and exports `wasi_thread_start`.
They run as real POSIX threads in the real runner (runtime_c/threads).  The
official wasi-threads suite, which needs shared memories and atomics, runs in
test_wasi_threads_suite.py.
"""

from __future__ import annotations

import pytest

from aot.package_data import RUNTIME_DIR
from waftkit.firmware.embedding import MAX_THREADS_LIMIT
from waftkit.testing.wasi_threads import waft_run_wat

IMPORTS = """
  (memory (export "memory") (import "env" "memory") 1 1)
  (func $spawn (import "wasi" "thread-spawn") (param i32) (result i32))
  (func $proc_exit (import "wasi_snapshot_preview1" "proc_exit") (param i32))
  (func $yield (import "wasi_snapshot_preview1" "sched_yield") (result i32))
"""

# Wait until the i32 at `addr` is non-zero.  sched_yield is a call, so the load
# is repeated: the compiler cannot keep an imported memory's bytes in a register
# across it.
WAIT_FOR = """
  (func $wait_for (param $addr i32)
    (loop $again
      (drop (call $yield))
      (br_if $again (i32.eqz (i32.load (local.get $addr))))))
"""


def program(body: str) -> str:
    return f"(module {IMPORTS} {WAIT_FOR} {body})"


# The child stores its id and argument; the parent checks the id it got back
# is the one the child saw, and exits with arg + tid.
SPAWN = program("""
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (i32.const 8) (local.get $arg))
    (i32.store (i32.const 4) (local.get $tid)))
  (func (export "_start") (local $tid i32)
    (local.set $tid (call $spawn (i32.const 40)))
    (if (i32.le_s (local.get $tid) (i32.const 1)) (then unreachable))
    (call $wait_for (i32.const 4))
    (if (i32.ne (i32.load (i32.const 4)) (local.get $tid)) (then unreachable))
    (call $proc_exit (i32.add (i32.load (i32.const 8)) (local.get $tid))))
""")

# Threads that never end hold their slots: with --max-threads 3 the fourth spawn
# gets -EAGAIN (-6), and the program exits with 100 + the number that started.
POOL = program("""
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (local.get $arg) (local.get $tid))
    (loop $forever (drop (call $yield)) (br $forever)))
  (func (export "_start") (local $i i32) (local $r i32)
    (block $full
      (loop $more
        (local.set $r (call $spawn (i32.add (i32.const 16) (i32.shl (local.get $i) (i32.const 2)))))
        (br_if $full (i32.lt_s (local.get $r) (i32.const 0)))
        (call $wait_for (i32.add (i32.const 16) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
    (if (i32.ne (local.get $r) (i32.const -6)) (then unreachable))
    (call $proc_exit (i32.add (i32.const 100) (local.get $i))))
""")

# Ids are not reused while their thread lives, and a slot is free again once
# its thread has returned: 20 spawns, one at a time, through a pool of one.
REUSE = program("""
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.store (i32.const 4) (local.get $tid)))
  (func (export "_start") (local $i i32) (local $tid i32)
    (loop $more
      (i32.store (i32.const 4) (i32.const 0))
      (local.set $tid (call $spawn (i32.const 0)))
      (if (i32.lt_s (local.get $tid) (i32.const 0))
        (then
          ;; the previous thread stored its id but has not released its slot yet
          (drop (call $yield))
          (br $more)))
      (call $wait_for (i32.const 4))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 20))))
    (call $proc_exit (local.get $i)))
""")

# A trap in a spawned thread ends the whole program, main thread included.
CHILD_TRAPS = program("""
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) unreachable)
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $forever (drop (call $yield)) (br $forever)))
""")

# proc_exit in a spawned thread ends the program with its status.
CHILD_EXITS = program("""
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (call $proc_exit (i32.const 17)))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $forever (drop (call $yield)) (br $forever)))
""")

# Unbounded recursion in a spawned thread: its own (smaller) stack's limit
# stops it with a trap, not a crash — the limit is per thread.
CHILD_RECURSES = program("""
  (func $deeper (param i32) (result i32)
    (i32.add (call $deeper (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (call $deeper (i32.const 0))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $forever (drop (call $yield)) (br $forever)))
""")

# Importing thread-spawn without exporting wasi_thread_start: spawn says -ENOTSUP (-58).
NO_START = f"""(module {IMPORTS}
  (func (export "_start") (call $proc_exit (i32.sub (i32.const 0) (call $spawn (i32.const 0))))))"""


# Four threads, released together (flag at 4), grow one shared memory 250 pages
# each and mark every page they got with a 1; the main thread waits for all
# (atomic counter at 0, wait/notify), checks memory.size and exits with 0 when
# all 1,000 new pages are marked once — no page handed out twice — else 1.
# Without the grow lock, 4 x 15 pages lost a page in about one run in four.
CONCURRENT_GROW = """(module
  (memory (export "memory") (import "env" "memory") 1 1001 shared)
  (func $spawn (import "wasi" "thread-spawn") (param i32) (result i32))
  (func $proc_exit (import "wasi_snapshot_preview1" "proc_exit") (param i32))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32) (local $i i32) (local $page i32)
    (loop $go (br_if $go (i32.eqz (i32.atomic.load (i32.const 4)))))
    (loop $more
      (local.set $page (memory.grow (i32.const 1)))
      (if (i32.lt_s (local.get $page) (i32.const 0)) (then unreachable))
      (i32.atomic.rmw.add (i32.shl (local.get $page) (i32.const 16)) (i32.const 1))
      drop
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 250))))
    (drop (i32.atomic.rmw.sub (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func (export "_start") (local $left i32) (local $page i32) (local $marked i32)
    (i32.atomic.store (i32.const 0) (i32.const 4))
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 0)))
    (drop (call $spawn (i32.const 0)))
    (i32.atomic.store (i32.const 4) (i32.const 1))
    (loop $wait
      (local.set $left (i32.atomic.load (i32.const 0)))
      (if (local.get $left)
        (then
          (drop (memory.atomic.wait32 (i32.const 0) (local.get $left) (i64.const -1)))
          (br $wait))))
    (if (i32.ne (memory.size) (i32.const 1001)) (then unreachable))
    (local.set $page (i32.const 1))
    (loop $count
      (if (i32.eq (i32.load (i32.shl (local.get $page) (i32.const 16))) (i32.const 1))
        (then (local.set $marked (i32.add (local.get $marked) (i32.const 1)))))
      (local.set $page (i32.add (local.get $page) (i32.const 1)))
      (br_if $count (i32.lt_u (local.get $page) (i32.const 1001))))
    (call $proc_exit (i32.ne (local.get $marked) (i32.const 1000)))))
"""




def test_spawned_thread_sees_its_id_at_once(tmp_path):
    result = waft_run_wat(tmp_path, "spawn", SPAWN)
    # The first spawned id is 2 (1 is the main thread's): 40 + 2.
    assert result.returncode == 42, result.stderr


def test_exhausted_pool_is_eagain(tmp_path):
    result = waft_run_wat(tmp_path, "pool", POOL, "--max-threads", "3")
    assert result.returncode == 103, result.stderr


def test_slots_are_reused_after_a_thread_returns(tmp_path):
    result = waft_run_wat(tmp_path, "reuse", REUSE, "--max-threads", "1")
    assert result.returncode == 20, result.stderr


@pytest.mark.parametrize(("name", "wat", "status", "message"), [
    ("child_traps", CHILD_TRAPS, 70, "waft: trap: unreachable"),
    ("child_exits", CHILD_EXITS, 17, ""),
    ("child_recurses", CHILD_RECURSES, 70, "waft: trap: call stack exhausted"),
])
def test_a_thread_ending_the_program_ends_every_thread(tmp_path, name, wat, status, message):
    result = waft_run_wat(tmp_path, name, wat)
    assert result.returncode == status, result.stderr
    assert message in result.stderr


def test_spawn_without_wasi_thread_start_is_enotsup(tmp_path):
    result = waft_run_wat(tmp_path, "no_start", NO_START)
    assert result.returncode == 58, result.stderr


@pytest.mark.parametrize("count", ["0", str(MAX_THREADS_LIMIT + 1)])
def test_max_threads_out_of_range_is_bad_usage(tmp_path, count):
    result = waft_run_wat(tmp_path, "spawn", SPAWN, "--max-threads", count)
    assert result.returncode == 2, result.stderr
    assert "--max-threads" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr  # click's usage lines at most


def test_the_pool_limit_is_the_runtimes(tmp_path):
    """waft run's bound and the C pool's (WAFT_THREADS_POOL_LIMIT) are one number."""
    header = (RUNTIME_DIR / "threads" / "waft_threads.h").read_text()
    assert f"#define WAFT_THREADS_POOL_LIMIT {MAX_THREADS_LIMIT}\n" in header
    result = waft_run_wat(tmp_path, "spawn", SPAWN, "--max-threads", str(MAX_THREADS_LIMIT))
    assert "Traceback" not in result.stderr and "--max-threads" not in result.stderr, result.stderr


def test_threads_grow_one_shared_memory_at_once(tmp_path):
    result = waft_run_wat(tmp_path, "grow", CONCURRENT_GROW)
    assert result.returncode == 0, result.stderr


OWN_MEMORY = """(module
  (func $spawn (import "wasi" "thread-spawn") (param i32) (result i32))
  (memory (export "memory") 1 1 shared)
  (func (export "wasi_thread_start") (param i32 i32))
  (func (export "_start") (drop (call $spawn (i32.const 0)))))"""


def test_threads_with_an_own_memory_are_refused_in_one_line(tmp_path):
    """Thread instances can only share an imported memory: say so before anything is built."""
    result = waft_run_wat(tmp_path, "own_memory", OWN_MEMORY)
    assert result.returncode == 1
    assert "must import it, shared" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_pool_too_big_for_the_board_is_one_line_with_the_figures(tmp_path):
    """60 threads' stacks and instances cannot fit stm32f4's 128 KiB: the linker's four lines become one."""
    result = waft_run_wat(tmp_path, "spawn", SPAWN, "--target", "stm32f4", "--max-threads", "60")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "does not fit stm32f4: RAM overflowed by" in lines[0] and "(the board has 131,072)" in lines[0]
    assert "--max-threads" in lines[0]
