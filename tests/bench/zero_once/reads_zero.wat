;; reads_zero.wat: a WASI command that checks its instance was set up from scratch
;; (tests/bench/test_startup_zero_once.py boots it with the firmware's .noinit painted 0xA5, as RAM is
;; after a warm reset): every byte of its one page outside the data segments reads zero, the data
;; segments are in place, the mutable global has its initial value, the table slot no element
;; segment fills is null (and so is the one table.grow adds), and the passive data segment is not
;; dropped (memory.init of it works).  Prints "clean" and exits 0, or "dirty" and exits 1.  It then
;; paints its own memory and global, as a previous run would.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1 1)
  (global $g (mut i32) (i32.const 42))
  (table $t 2 3 funcref)
  (elem (i32.const 0) $or_bytes)
  (data (i32.const 0) "MARK")
  (data (i32.const 16) "clean\n")
  (data (i32.const 32) "dirty\n")
  (data $passive "P")

  ;; The OR of the bytes [from, to): 0 when all of them are zero.
  (func $or_bytes (param $from i32) (param $to i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
        (local.set $acc (i32.or (local.get $acc) (i32.load8_u (local.get $from))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  (func $say (param $ptr i32)
    (i32.store (i32.const 48) (local.get $ptr))
    (i32.store (i32.const 52) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56))))

  (func (export "_start")
    (local $dirty i32)
    ;; untouched memory: around and after the segments (checked before $say writes its iovec at 48)
    (local.set $dirty (i32.or (call $or_bytes (i32.const 4) (i32.const 16))
                      (i32.or (call $or_bytes (i32.const 22) (i32.const 32))
                              (call $or_bytes (i32.const 38) (i32.const 65536)))))
    (local.set $dirty (i32.or (local.get $dirty) (i32.ne (i32.load (i32.const 0)) (i32.const 0x4b52414d)))) ;; "MARK"
    (local.set $dirty (i32.or (local.get $dirty) (i32.ne (global.get $g) (i32.const 42))))
    (local.set $dirty (i32.or (local.get $dirty) (ref.is_null (table.get $t (i32.const 0)))))
    (local.set $dirty (i32.or (local.get $dirty) (i32.eqz (ref.is_null (table.get $t (i32.const 1))))))
    (local.set $dirty (i32.or (local.get $dirty) (i32.ne (table.grow $t (ref.null func) (i32.const 1)) (i32.const 2))))
    (local.set $dirty (i32.or (local.get $dirty) (i32.eqz (ref.is_null (table.get $t (i32.const 2))))))
    ;; a dropped segment would trap here (a non-zero length from a dropped segment is out of bounds)
    (memory.init $passive (i32.const 60) (i32.const 0) (i32.const 1))
    (local.set $dirty (i32.or (local.get $dirty) (i32.ne (i32.load8_u (i32.const 60)) (i32.const 0x50))))
    (global.set $g (i32.const 7))
    (if (local.get $dirty)
      (then (call $say (i32.const 32)) (call $proc_exit (i32.const 1))))
    (call $say (i32.const 16))
    ;; what a previous run leaves behind: non-zero memory everywhere past the messages
    (memory.fill (i32.const 64) (i32.const 0xA5) (i32.const 65472))))
