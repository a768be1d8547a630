;; interrupts.wat: the Waft side of the `interrupts` metric group.
;;
;; The firmware grants software line 0 bound to the export `on_irq`
;; (`irq=soft:0@on_irq`), so the line's generated vector calls the compiled
;; on_irq directly, as the immediate handler, on the interrupt stack under
;; its own stack limit and trap frame.  on_irq does what native.c's C handler
;; does between the instrument's marks (irq_bench.c, imported as "bench"):
;; count the interrupt in memory.  _start attaches it (immediate, priority 1,
;; the NVIC value bench/metrics/interrupts.py gives native.c too), lets
;; bench.run pend the line @N@ times from thread code, has bench.report print
;; the figures and checks the handler's count.  Exit status 10 + step on a failure.
(module
  (import "bench" "enter" (func $enter))
  (import "bench" "leave" (func $leave))
  (import "bench" "run" (func $run (param i32)))
  (import "bench" "report" (func $report))
  (import "wasi-ext:signals/signals@0.1.0" "attach-export"
    (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi-ext:signals/signals@0.1.0" "enable" (func $enable (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "on_irq")

  ;; The C shadow-stack pointer, as wasm-ld names it.  The handler of the second run
  ;; (@FRAME@ replaced by a 16-byte frame pushed and popped, as a C handler with a local
  ;; whose address is taken does) uses it, so its vector moves the pointer past the red
  ;; zone around the call (docs/interrupts.md, "The shadow stack"); the first run's
  ;; handler never reads it and keeps the shortest vector.
  (global $__stack_pointer (mut i32) (i32.const 4096))

  (func (export "on_irq") (param $line i32) (param $arg i32)
    (call $enter)
    (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1)))
    @FRAME@
    (call $leave))

  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))

  (func (export "_start")
    ;; attach-export(line soft:0, name "on_irq", arg 0, immediate, priority 1) -> errno
    (call $check (i32.eqz (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 6) (i32.const 0)
                                               (i32.const 0) (i32.const 1))) (i32.const 10))
    (call $check (i32.eqz (call $enable (i32.const 0x20000))) (i32.const 11))
    (call $run (i32.const @N@))
    (call $report)
    (call $check (i32.eq (i32.load (i32.const 64)) (i32.const @N@)) (i32.const 12))
    (call $proc_exit (i32.const 0))))
