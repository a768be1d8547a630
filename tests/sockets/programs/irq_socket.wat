;; irq_socket.wat: a sockets call from an immediate interrupt handler (wasi-ext:signals) is `perm` on a board,
;; since lwIP may be what the handler interrupted.  _start pends software line 0, bound to on_irq at build
;; time (--grant irq=soft:0@on_irq); on_irq calls open; _start exits with the errno it got (63: perm).
(module
  (import "wasi-ext:signals/signals@0.1.0" "attach-export"
    (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi-ext:signals/signals@0.1.0" "enable" (func $enable (param i32) (result i32)))
  (import "wasi-ext:signals/signals@0.1.0" "pend" (func $pend (param i32) (result i32)))
  (import "wasi-ext:sockets/sockets@0.1.0" "open" (func $open (param i32 i32 i32 i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "on_irq")
  (func (export "on_irq") (param $line i32) (param $arg i32)
    (call $open (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 64))
    (i32.store (i32.const 80) (i32.const 1)))
  (func (export "_start")
    (if (call $attach_export (i32.const 0x20000) (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 1))
      (then (call $proc_exit (i32.const 10))))
    (if (call $enable (i32.const 0x20000)) (then (call $proc_exit (i32.const 11))))
    (if (call $pend (i32.const 0x20000)) (then (call $proc_exit (i32.const 12))))
    (if (i32.eqz (i32.load (i32.const 80))) (then (call $proc_exit (i32.const 13))))
    ;; result<fd, errno>: case 1 (error) and the errno byte at 68
    (if (i32.ne (i32.load8_u (i32.const 64)) (i32.const 1)) (then (call $proc_exit (i32.const 14))))
    (call $proc_exit (i32.load8_u (i32.const 68)))))
