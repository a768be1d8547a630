"""The WAT helpers every signals test program shares (host and Cortex-M), over one memory map.

512: clock_time_get's result; 600..: the return areas of dispatch and
wait-for-event (result<u32, errno>: tag at 600, value at 604) and of
is-pending (608 tag, 609 value).  The helpers turn a result into one i32, the
value or 1000 + errno, so a program can compare it in one instruction; the
importing module must name the imports `$clock`, `$proc_exit`,
`$dispatch_raw`, `$wait_raw` and `$is_pending_raw`.
"""

RESULT_HELPERS = """
  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 512)))
    (i64.load (i32.const 512)))
  ;; fail with status `code` unless `ok`
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))
  (func $dispatch (param $limit i32) (result i32)
    (call $dispatch_raw (local.get $limit) (i32.const 600))
    (if (result i32) (i32.load8_u (i32.const 600))
      (then (i32.add (i32.const 1000) (i32.load8_u (i32.const 604))))
      (else (i32.load (i32.const 604)))))
  (func $wait (param $deadline i64) (result i32)
    (call $wait_raw (local.get $deadline) (i32.const 600))
    (if (result i32) (i32.load8_u (i32.const 600))
      (then (i32.add (i32.const 1000) (i32.load8_u (i32.const 604))))
      (else (i32.load (i32.const 604)))))
  (func $is_pending (param $line i32) (result i32)
    (call $is_pending_raw (local.get $line) (i32.const 608))
    (if (result i32) (i32.load8_u (i32.const 608))
      (then (i32.add (i32.const 1000) (i32.load8_u (i32.const 609))))
      (else (i32.load8_u (i32.const 609)))))
"""
