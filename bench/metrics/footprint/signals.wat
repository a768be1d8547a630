;; signals.wat: the `footprint` group's interrupts module: it attaches its export on_irq to
;; software line 0 as an immediate handler (irq=soft:0@on_irq), enables the line and exits.
(module
  (import "wasi-ext:signals/signals@0.1.0" "attach-export"
    (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi-ext:signals/signals@0.1.0" "enable" (func $enable (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "on_irq")
  (func (export "on_irq") (param $line i32) (param $arg i32)
    (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1))))
  (func (export "_start")
    (if (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0)
                             (i32.const 1))
      (then (call $proc_exit (i32.const 10))))
    (if (call $enable (i32.const 0x20000)) (then (call $proc_exit (i32.const 11))))
    (call $proc_exit (i32.const 0))))
