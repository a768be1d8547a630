/* The controller, compiled to WebAssembly: a PID step the firmware calls every tick.
 *
 * It reads the plant through imported board functions and drives the actuator
 * the same way, so the Wasm module holds the control law and nothing else:
 * the board side (main.c) supplies env.read_sensor and env.set_actuator.
 * No libc, no WASI: core Wasm inside the tight loop. */

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(read_sensor) float read_sensor(void);
IMPORT(set_actuator) void set_actuator(float command);

static float setpoint, kp, ki, kd, integral, previous_error, output_limit;

EXPORT(pid_init) void pid_init(float target, float p, float i, float d, float limit) {
    setpoint = target;
    kp = p;
    ki = i;
    kd = d;
    output_limit = limit;
    integral = 0.0f;
    previous_error = 0.0f;
}

/* One control period of `dt` seconds; returns the command sent to the actuator. */
EXPORT(pid_step) float pid_step(float dt) {
    float error = setpoint - read_sensor();
    float derivative = (error - previous_error) / dt;
    float command = kp * error + ki * (integral + error * dt) + kd * derivative;
    /* Anti-windup: integrate only while the actuator is not saturated. */
    if (command > output_limit) {
        command = output_limit;
    } else if (command < -output_limit) {
        command = -output_limit;
    } else {
        integral += error * dt;
    }
    previous_error = error;
    set_actuator(command);
    return command;
}
