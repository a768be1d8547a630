;; core.wat: the `footprint` group's core-only module: memory, a table, a global, no imports.
(module
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $add $add)
  (type $bin (func (param i32 i32) (result i32)))
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "add") (param i32 i32) (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (call_indirect (type $bin) (local.get 0) (local.get 1) (global.get $g))))
