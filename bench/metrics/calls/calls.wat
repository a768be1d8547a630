;; calls.wat: the Wasm side of the `calls` metric group (bench/metrics/calls.py).
;;
;; Exports f0, f4 and f16 do what callee.c's nat_f0/4/16 do (return 7, or the
;; sum of their i32 arguments): driver.c calls them from C to time a C -> Wasm
;; export call.  loop0/4/16 call the imports bench.f0/4/16 (callee.c's
;; bench__f0/4/16, the same bodies) n times with the loop index in the
;; arguments and return the wrapped sum of the results, as callee.c's
;; nat_loop0/4/16 do with native calls: driver.c times them for a Wasm -> C
;; import call and checks every sum against its own arithmetic.
(module
  (import "bench" "f0" (func $imp0 (result i32)))
  (import "bench" "f4" (func $imp4 (param i32 i32 i32 i32) (result i32)))
  (import "bench" "f16" (func $imp16 (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
                                     (result i32)))
  (memory (export "memory") 1)

  (func (export "f0") (result i32) (i32.const 7))
  (func (export "f4") (param i32 i32 i32 i32) (result i32)
    (i32.add (i32.add (local.get 0) (local.get 1)) (i32.add (local.get 2) (local.get 3))))
  (func (export "f16") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add
      (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (i32.add (local.get 2) (local.get 3)))
               (i32.add (i32.add (local.get 4) (local.get 5)) (i32.add (local.get 6) (local.get 7))))
      (i32.add (i32.add (i32.add (local.get 8) (local.get 9)) (i32.add (local.get 10) (local.get 11)))
               (i32.add (i32.add (local.get 12) (local.get 13)) (i32.add (local.get 14) (local.get 15))))))

  (func (export "loop0") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (call $imp0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  (func (export "loop4") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum)
          (call $imp4 (local.get $i) (i32.const 1) (i32.const 2) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  (func (export "loop16") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum)
          (call $imp16 (local.get $i) (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5)
                       (i32.const 6) (i32.const 7) (i32.const 8) (i32.const 9) (i32.const 10) (i32.const 11)
                       (i32.const 12) (i32.const 13) (i32.const 14) (i32.const 15))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum)))
