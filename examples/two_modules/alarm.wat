;; Module 2 of 2: an alarm with hysteresis, written in WAT.
;; It raises at or above $high, clears at or below $low, and calls the board's
;; `board.on_alarm(state)` import whenever the state changes.
(module
  (import "board" "on_alarm" (func $on_alarm (param i32)))
  (global $high i32 (i32.const 700))
  (global $low i32 (i32.const 600))
  (global $raised (mut i32) (i32.const 0))
  (func (export "update") (param $level i32) (result i32)
    (if (i32.and (i32.eqz (global.get $raised))
                 (i32.ge_s (local.get $level) (global.get $high)))
      (then (global.set $raised (i32.const 1))
            (call $on_alarm (i32.const 1))))
    (if (i32.and (global.get $raised)
                 (i32.le_s (local.get $level) (global.get $low)))
      (then (global.set $raised (i32.const 0))
            (call $on_alarm (i32.const 0))))
    (global.get $raised)))
