;; The module under test of tests/shm/test_shm_firmware.py: granted `ring`
;; (256 bytes, read-write, window 0xC0000000) and `rom` (64 bytes, read-only,
;; window 0xC0010000) and `tail` (the last 64 bytes of `ring`, read-only, window 0xC0020000),
;; with one page of linear memory of its own.
(module
  (import "wasi-ext:shared-memory/regions@0.1.0" "region:ring" (func $ring (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "region:rom" (func $rom (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "region:tail" (func $tail (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "open" (func $open (param i32 i32 i32 i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "sync-for-device" (func $sync_dev (param i32 i32 i32) (result i32)))
  (import "wasi-ext:shared-memory/regions@0.1.0" "sync-for-cpu" (func $sync_cpu (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "ringromnope\ff")
  (func (export "ring_base") (result i32) (call $ring))
  (func (export "rom_base") (result i32) (call $rom))
  (func (export "tail_base") (result i32) (call $tail))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  ;; A constant pointer folded into the offset, as clang does: the ring is tried first, linear memory never.
  (func (export "load64_ring") (param i32) (result i64) (i64.load offset=0xC0000008 (local.get 0)))
  (func (export "store_ring_const") (param i32) (i32.store offset=0xC0000010 (i32.const 0) (local.get 0)))
  (func (export "load_rom_const") (result i32) (i32.load (i32.const 0xC0010004)))
  ;; The window base through a local: linear memory first, then the window.
  (func (export "sum_ring") (param $n i32) (result i32) (local $i i32) (local $p i32) (local $s i32)
    (local.set $p (call $ring))
    (block $out (loop $l
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
;; `tail` is ring's bytes 192..: a store through one window must be what a load through the other sees,
  ;; in the same function (the compiler may not assume two regions are distinct objects).
  (func (export "store_ring_load_tail") (param i32) (result i32)
    (i32.store offset=0xC00000C0 (i32.const 0) (i32.const 0))
    (drop (i32.load offset=0xC0020000 (i32.const 0)))
    (i32.store offset=0xC00000C0 (i32.const 0) (local.get 0))
    (i32.load offset=0xC0020000 (i32.const 0)))
  ;; Atomics reach the windows too; a read-modify-write of the read-only region traps.
  (func (export "atomic_add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "atomic_load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "atomic_cas") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  ;; open(name at `name`, `len`, `access`): the errno, or 0 with the region record at 64..84.
  (func (export "open") (param $name i32) (param $len i32) (param $access i32) (result i32)
    (call $open (local.get $name) (local.get $len) (local.get $access) (i32.const 60))
    (if (result i32) (i32.load8_u (i32.const 60))
      (then (i32.load8_u (i32.const 64)))
      (else (i32.const 0))))
  (func (export "record") (param $field i32) (result i32) (i32.load (i32.add (i32.const 64) (i32.shl (local.get $field) (i32.const 2)))))
  (func (export "read") (param i32 i32 i32 i32) (result i32)
    (call $read (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "write") (param i32 i32 i32 i32) (result i32)
    (call $write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "sync_dev") (param i32 i32 i32) (result i32) (call $sync_dev (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sync_cpu") (param i32 i32 i32) (result i32) (call $sync_cpu (local.get 0) (local.get 1) (local.get 2)))
)
