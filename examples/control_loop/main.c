/* The firmware: a C super-loop that runs the Wasm PID controller every tick.
 *
 * The plant is simulated here (a first-order heater: temperature follows the
 * heater power with a time constant), standing in for the board's ADC and PWM.
 * The Wasm module reaches them through env.read_sensor / env.set_actuator,
 * whose C symbols and the instance type come from the generated pid.h. */
#include <math.h>
#include <stdio.h>

#include "pid.h"

#define TICKS 2000
#define DT 0.01f           /* 100 Hz control loop */

typedef struct plant {
    float temperature;     /* what the sensor reads */
    float power;           /* what the actuator was told */
} plant;

/* The imports of module "env": ctx is the pointer put in pid__imports.env. */
float env__read_sensor(void *ctx) {
    return ((plant *)ctx)->temperature;
}

void env__set_actuator(void *ctx, float command) {
    ((plant *)ctx)->power = command;
}

static pid__instance controller;   /* the module's memory and globals: static, no heap */

int main(void) {
    plant heater = {.temperature = 20.0f, .power = 0.0f};
    pid__imports imports = {.env = &heater};
    if (pid__instantiate(&controller, &imports) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    pid_pid_init(&controller, 60.0f, 2.0f, 0.5f, 0.05f, 100.0f);

    for (int tick = 0; tick < TICKS; tick++) {
        pid_pid_step(&controller, DT);
        /* dT/dt = (gain * power - (T - ambient)) / tau */
        heater.temperature += DT * (0.8f * heater.power - (heater.temperature - 20.0f)) / 2.0f;
        if (tick % 500 == 0) {
            printf("t=%5.2f s  temperature %6.2f  power %6.2f\n", tick * DT, heater.temperature,
                   heater.power);
        }
    }
    float error = fabsf(heater.temperature - 60.0f);
    printf("settled at %.2f (setpoint 60.00): %s\n", heater.temperature,
           error < 0.5f ? "ok" : "NOT SETTLED");
    return error < 0.5f ? 0 : 1;
}
