;; The PID step, a core WebAssembly module: no component and no canonical ABI inside the tight loop,
;; and no linear memory either (its state is one global), so it costs the board no RAM page.
;; The firmware passes everything in and gets the actuator command back.
(module
  (global $integral (mut f32) (f32.const 0))
  ;; One control period of $dt seconds towards $setpoint; the command is clamped to [-100, 100],
  ;; and the error is integrated only while the command is not saturated (anti-windup).
  (func (export "pid_step") (param $setpoint f32) (param $measured f32) (param $kp f32) (param $ki f32)
                            (param $dt f32) (result f32)
    (local $error f32) (local $command f32)
    (local.set $error (f32.sub (local.get $setpoint) (local.get $measured)))
    (local.set $command
      (f32.add (f32.mul (local.get $kp) (local.get $error))
               (f32.mul (local.get $ki)
                        (f32.add (global.get $integral) (f32.mul (local.get $error) (local.get $dt))))))
    (if (f32.gt (local.get $command) (f32.const 100))
      (then (return (f32.const 100))))
    (if (f32.lt (local.get $command) (f32.const -100))
      (then (return (f32.const -100))))
    (global.set $integral (f32.add (global.get $integral) (f32.mul (local.get $error) (local.get $dt))))
    (local.get $command)))
