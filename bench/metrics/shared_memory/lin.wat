;; bench/metrics/shared_memory.py's module granted nothing: the same linear loop, the baseline check.
(module
  (memory (export "memory") 1 1)
  (func (export "linear_sum") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (block $o (loop $l (br_if $o (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load offset=1024 (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
    (local.get $s))
)
