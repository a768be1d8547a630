;; threads.wat: the thread figures of issue 14 from Wasm threads — native.c's
;; measurements, in the same order, with the same threads at the same
;; priorities, written against `wasi-ext:threads/threads@0.1.0`, WASI p1 and
;; memory.atomic.wait32/notify.  bench/metrics/threads.py fills in the
;; @...@ placeholders (repetitions, and the strings the report lines are made
;; of), assembles it with `wat2wasm --enable-threads`, builds it as Waft
;; firmware (or a host program) and parses the same output lines native.c
;; prints: "figure", "dist", "info", "done" (their meaning is in native.c).
;;
;; WAT rather than C: a thread's entry, the shared memory's layout and every
;; call are spelt out, with no libc, no shadow stack and no pthread layer
;; between the measurement and the runtime — the same shape as native.c's
;; direct kernel.h calls.
;;
;; Time is WASI's monotonic clock, which is the kernel's clock (waft_os_now_ns)
;; on a board and CLOCK_MONOTONIC on the host: the clock native.c reads.
;; Each thread reads it into its own 8-byte cell (CLOCK + 8 * slot), since a
;; thread may be preempted between the call and the load.
;;
;; Memory (one shared page; wasi-threads' instances all see it):
;;   0x100 clock cells     0x200 return areas    0x300 shared words
;;   0x340 distributions   0x3f0 iovec           0x400 output line
;;   0x500 digits          0x800 strings (a passive segment, copied once by _start:
;;                         an active one would be copied again by every thread's instantiation)
(module
  (import "env" "memory" (memory 1 1 shared))
  (export "memory" (memory 0))
  (func $clock_time_get (import "wasi_snapshot_preview1" "clock_time_get") (param i32 i64 i32) (result i32))
  (func $fd_write (import "wasi_snapshot_preview1" "fd_write") (param i32 i32 i32 i32) (result i32))
  (func $proc_exit (import "wasi_snapshot_preview1" "proc_exit") (param i32))
  (func $sched_yield (import "wasi_snapshot_preview1" "sched_yield") (result i32))
  (func $spawn (import "wasi-ext:threads/threads@0.1.0" "spawn") (param i32 i32 i32 i32 i32))
  (func $set_period (import "wasi-ext:threads/threads@0.1.0" "set-period") (param i64 i64) (result i32))
  (func $wait_period (import "wasi-ext:threads/threads@0.1.0" "wait-period") (param i32))
  (func $join (import "wasi-ext:threads/threads@0.1.0" "join") (param i32 i64 i32))

  (data $strings "@STRINGS@")

  ;; repetitions and releases (native.c's BENCH_N, BENCH_PERIODS)
  (global $N i32 (i32.const @N@))
  (global $PERIODS i32 (i32.const @PERIODS@))
  (global $PERIOD i64 (i64.const 1000000))
  ;; priorities, as native.c's: main 1 (the firmware's main thread), load 2, the measured above
  (global $PRIO_LOAD i32 (i32.const 2))
  (global $PRIO_YIELD i32 (i32.const 5))
  (global $PRIO_HIGH i32 (i32.const 6))
  (global $PRIO_PERIODIC i32 (i32.const 10))
  ;; the output line's length (main thread only)
  (global $len (mut i32) (i32.const 0))

  ;; shared words
  (global $CLOCK i32 (i32.const 0x100))
  (global $RET_A i32 (i32.const 0x200))
  (global $RET_B i32 (i32.const 0x208))
  (global $RET_J i32 (i32.const 0x210))
  (global $RET_P i32 (i32.const 0x218))
  (global $GATE i32 (i32.const 0x300))
  (global $OWNER i32 (i32.const 0x304))
  (global $SWITCHES i32 (i32.const 0x308))
  (global $PING i32 (i32.const 0x30c))
  (global $PONG i32 (i32.const 0x310))
  (global $WAKE i32 (i32.const 0x314))
  (global $STOP i32 (i32.const 0x318))
  (global $LOADS i32 (i32.const 0x31c))
  (global $MISSED i32 (i32.const 0x320))
  (global $SENT i32 (i32.const 0x328))
  ;; distributions: min, max, sum (i64 each), count (i32)
  (global $WAKE_D i32 (i32.const 0x340))
  (global $REL_D i32 (i32.const 0x360))
  (global $PER_D i32 (i32.const 0x380))

  ;; ---- the clock ------------------------------------------------------------------
  (func $now (param $slot i32) (result i64) (local $cell i32)
    (local.set $cell (i32.add (global.get $CLOCK) (i32.shl (local.get $slot) (i32.const 3))))
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (local.get $cell)))
    (i64.load (local.get $cell)))

  ;; ---- output: one line at a time through fd_write ---------------------------------
  (func $emit (param $ptr i32) (param $n i32)
    (memory.copy (i32.add (i32.const 0x400) (global.get $len)) (local.get $ptr) (local.get $n))
    (global.set $len (i32.add (global.get $len) (local.get $n))))
  (func $emit_u64 (param $v i64) (local $p i32)
    (local.set $p (i32.const 0x520))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (call $emit (local.get $p) (i32.sub (i32.const 0x520) (local.get $p))))
  (func $space (call $emit @S( )@))
  (func $flush
    (call $emit @S(\n)@)
    (i32.store (i32.const 0x3f0) (i32.const 0x400))
    (i32.store (i32.const 0x3f4) (global.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0x3f0) (i32.const 1) (i32.const 0x3f8)))
    (global.set $len (i32.const 0)))

  ;; "figure NAME (total - baseline) * 100 / count"
  (func $figure (param $name i32) (param $n i32) (param $total i64) (param $base i64) (param $count i32)
    (local $net i64)
    (local.set $net (select (i64.sub (local.get $total) (local.get $base)) (i64.const 0)
                            (i64.gt_u (local.get $total) (local.get $base))))
    (call $emit @S(figure )@) (call $emit (local.get $name) (local.get $n)) (call $space)
    (call $emit_u64 (i64.div_u (i64.mul (local.get $net) (i64.const 100)) (i64.extend_i32_u (local.get $count))))
    (call $flush))
  ;; "info NAME VALUE"
  (func $info (param $name i32) (param $n i32) (param $v i64)
    (call $emit @S(info )@) (call $emit (local.get $name) (local.get $n)) (call $space)
    (call $emit_u64 (local.get $v)) (call $flush))
  ;; "dist NAME MIN MAX SUM COUNT"
  (func $dist (param $name i32) (param $n i32) (param $d i32)
    (call $emit @S(dist )@) (call $emit (local.get $name) (local.get $n))
    (call $space) (call $emit_u64 (i64.load (local.get $d)))
    (call $space) (call $emit_u64 (i64.load offset=8 (local.get $d)))
    (call $space) (call $emit_u64 (i64.load offset=16 (local.get $d)))
    (call $space) (call $emit_u64 (i64.load32_u offset=24 (local.get $d)))
    (call $flush))

  (func $dist_add (param $d i32) (param $v i64)
    (if (i32.or (i32.eqz (i32.load offset=24 (local.get $d))) (i64.lt_u (local.get $v) (i64.load (local.get $d))))
      (then (i64.store (local.get $d) (local.get $v))))
    (if (i64.gt_u (local.get $v) (i64.load offset=8 (local.get $d)))
      (then (i64.store offset=8 (local.get $d) (local.get $v))))
    (i64.store offset=16 (local.get $d) (i64.add (i64.load offset=16 (local.get $d)) (local.get $v)))
    (i32.store offset=24 (local.get $d) (i32.add (i32.load offset=24 (local.get $d)) (i32.const 1))))

  ;; ---- threads ------------------------------------------------------------------------
  ;; Blocks while the word at $addr is 0.
  (func $wait_nonzero (param $addr i32)
    (loop $again
      (if (i32.eqz (i32.atomic.load (local.get $addr)))
        (then (drop (memory.atomic.wait32 (local.get $addr) (i32.const 0) (i64.const -1)))
              (br $again)))))

  ;; Spawns a joinable thread running role $arg at $prio; traps when the spawn fails.
  (func $spawn_role (param $arg i32) (param $prio i32) (param $ret i32) (result i32)
    (call $spawn (local.get $arg) (local.get $prio) (i32.const 0) (i32.const 0) (local.get $ret))
    (if (i32.load8_u (local.get $ret)) (then unreachable))
    (i32.load offset=4 (local.get $ret)))
  (func $join_tid (param $tid i32)
    (call $join (local.get $tid) (i64.const -1) (global.get $RET_J))
    (if (i32.load8_u (global.get $RET_J)) (then unreachable)))

  ;; native.c's yield_loop: note who ran last around each yield.
  (func $yield_loop (param $me i32) (param $do_yield i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (i32.atomic.store (global.get $OWNER) (local.get $me))
        (if (local.get $do_yield) (then (drop (call $sched_yield))))
        (if (i32.ne (i32.atomic.load (global.get $OWNER)) (local.get $me))
          (then (drop (i32.atomic.rmw.add (global.get $SWITCHES) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  (func $ponger (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (call $wait_nonzero (global.get $PING))
        (i32.atomic.store (global.get $PING) (i32.const 0))
        (i32.atomic.store (global.get $PONG) (i32.const 1))
        (drop (memory.atomic.notify (global.get $PONG) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  (func $wake_waiter (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (call $wait_nonzero (global.get $WAKE))
        (call $dist_add (global.get $WAKE_D) (i64.sub (call $now (i32.const 5)) (i64.load (global.get $SENT))))
        (i32.atomic.store (global.get $WAKE) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  (func $periodic (local $k i32) (local $t i64) (local $prev i64) (local $missed i32)
    ;; first release 0, in the past: the grid is the whole milliseconds of the clock
    (drop (call $set_period (global.get $PERIOD) (i64.const 0)))
    (block $done
      (loop $l
        (br_if $done (i32.gt_u (local.get $k) (global.get $PERIODS)))
        (call $wait_period (global.get $RET_P))
        (local.set $missed (i32.load offset=4 (global.get $RET_P)))
        (local.set $t (call $now (i32.const 6)))
        (if (local.get $k)   ;; the first release only starts the measurement
          (then
            (i32.store (global.get $MISSED) (i32.add (i32.load (global.get $MISSED)) (local.get $missed)))
            (call $dist_add (global.get $REL_D) (i64.rem_u (local.get $t) (global.get $PERIOD)))
            (if (i32.eqz (local.get $missed))
              (then (call $dist_add (global.get $PER_D) (i64.sub (local.get $t) (local.get $prev)))))))
        (local.set $prev (local.get $t))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (i32.atomic.store (global.get $STOP) (i32.const 1)))

  (func $load
    (loop $spin
      (i32.store (global.get $LOADS) (i32.add (i32.load (global.get $LOADS)) (i32.const 1)))
      (br_if $spin (i32.eqz (i32.atomic.load (global.get $STOP))))))

  ;; Every spawned thread starts here; start_arg says which role it plays.
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (block $load (block $periodic (block $wake (block $pong (block $returns (block $yield
      (br_table $returns $yield $yield $returns $pong $wake $periodic $load $returns (local.get $arg)))
      ;; 1, 2: the yielders, released together by the gate
      (call $wait_nonzero (global.get $GATE))
      (call $yield_loop (local.get $arg) (i32.const 1))
      (return))
      (return))                ;; 3: returns at once
      (call $ponger) (return))  ;; 4
      (call $wake_waiter) (return))  ;; 5
      (call $periodic) (return))     ;; 6
    (call $load))                    ;; 7

  ;; ---- the measurements (main thread) -------------------------------------------------
  (func $empty_loop_ns (result i64) (local $t0 i64) (local $i i32)
    (local.set $t0 (call $now (i32.const 0)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (i32.store (i32.const 0x330) (local.get $i))  ;; something the loop cannot be rid of
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.sub (call $now (i32.const 0)) (local.get $t0)))

  (func $two_yielders (result i64) (local $a i32) (local $b i32) (local $t0 i64) (local $t1 i64)
    (i32.atomic.store (global.get $GATE) (i32.const 0))
    (i32.atomic.store (global.get $SWITCHES) (i32.const 0))
    (local.set $a (call $spawn_role (i32.const 1) (global.get $PRIO_YIELD) (global.get $RET_A)))
    (local.set $b (call $spawn_role (i32.const 2) (global.get $PRIO_YIELD) (global.get $RET_B)))
    (local.set $t0 (call $now (i32.const 0)))
    (i32.atomic.store (global.get $GATE) (i32.const 1))
    (drop (memory.atomic.notify (global.get $GATE) (i32.const 2)))  ;; both run now, above main
    (local.set $t1 (call $now (i32.const 0)))
    (call $join_tid (local.get $a))
    (call $join_tid (local.get $b))
    (i64.sub (local.get $t1) (local.get $t0)))

  (func $bench_yield (local $t0 i64) (local $loop i64)
    (local.set $t0 (call $now (i32.const 0)))
    (call $yield_loop (i32.const 1) (i32.const 0))
    (local.set $loop (i64.sub (call $now (i32.const 0)) (local.get $t0)))
    (local.set $t0 (call $now (i32.const 0)))
    (call $yield_loop (i32.const 1) (i32.const 1))
    (call $figure @S(yield_alone)@ (i64.sub (call $now (i32.const 0)) (local.get $t0)) (local.get $loop) (global.get $N))
    (call $figure @S(yield_switch)@ (call $two_yielders) (i64.shl (local.get $loop) (i64.const 1))
          (i32.shl (global.get $N) (i32.const 1)))
    (call $info @S(switches)@ (i64.extend_i32_u (i32.atomic.load (global.get $SWITCHES)))))

  (func $bench_round_trip (local $loop i64) (local $t0 i64) (local $tid i32) (local $i i32)
    (local.set $loop (call $empty_loop_ns))
    (i32.atomic.store (global.get $PING) (i32.const 0))
    (i32.atomic.store (global.get $PONG) (i32.const 0))
    (local.set $tid (call $spawn_role (i32.const 4) (global.get $PRIO_HIGH) (global.get $RET_A)))  ;; runs at once and waits
    (local.set $t0 (call $now (i32.const 0)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (i32.atomic.store (global.get $PING) (i32.const 1))
        (drop (memory.atomic.notify (global.get $PING) (i32.const 1)))  ;; the ponger runs, notifies back, waits
        (call $wait_nonzero (global.get $PONG))
        (i32.atomic.store (global.get $PONG) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $figure @S(notify_round_trip)@ (i64.sub (call $now (i32.const 0)) (local.get $t0)) (local.get $loop) (global.get $N))
    (call $join_tid (local.get $tid)))

  (func $bench_notify_wake (local $tid i32) (local $i i32)
    (i32.atomic.store (global.get $WAKE) (i32.const 0))
    (local.set $tid (call $spawn_role (i32.const 5) (global.get $PRIO_HIGH) (global.get $RET_A)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (i64.store (global.get $SENT) (call $now (i32.const 0)))
        (i32.atomic.store (global.get $WAKE) (i32.const 1))
        (drop (memory.atomic.notify (global.get $WAKE) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $join_tid (local.get $tid))
    (call $dist @S(notify_wake)@ (global.get $WAKE_D)))

  (func $bench_spawn (local $loop i64) (local $t0 i64) (local $i i32)
    (local.set $loop (call $empty_loop_ns))
    (local.set $t0 (call $now (i32.const 0)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (global.get $N)))
        (call $join_tid (call $spawn_role (i32.const 3) (global.get $PRIO_HIGH) (global.get $RET_A)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $figure @S(spawn_join)@ (i64.sub (call $now (i32.const 0)) (local.get $t0)) (local.get $loop) (global.get $N)))

  (func $bench_periodic (local $p i32) (local $l i32)
    (i32.atomic.store (global.get $STOP) (i32.const 0))
    (local.set $p (call $spawn_role (i32.const 6) (global.get $PRIO_PERIODIC) (global.get $RET_A)))  ;; sets its period, waits
    (local.set $l (call $spawn_role (i32.const 7) (global.get $PRIO_LOAD) (global.get $RET_B)))      ;; spins until the loop is done
    (call $join_tid (local.get $p))
    (call $join_tid (local.get $l))
    (call $dist @S(release_latency)@ (global.get $REL_D))
    (call $dist @S(period)@ (global.get $PER_D))
    (call $info @S(missed)@ (i64.load32_u (global.get $MISSED)))
    (call $info @S(load)@ (i64.load32_u (global.get $LOADS))))

  (func (export "_start") (local $t0 i64) (local $i i32)
    (memory.init $strings (i32.const 0x800) (i32.const 0) (i32.const @STRINGS_LEN@))
    (local.set $t0 (call $now (i32.const 0)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 1000)))
        (drop (call $now (i32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (call $figure @S(clock_read)@ (i64.sub (call $now (i32.const 0)) (local.get $t0)) (i64.const 0) (i32.const 1000))
    (call $bench_yield)
    (call $bench_round_trip)
    (call $bench_notify_wake)
    (call $bench_spawn)
    (call $bench_periodic)
    (call $emit @S(done)@)
    (call $flush)
    (call $proc_exit (i32.const 0)))
)
