/*
 * main.c: a vendor firmware that runs two Wasm modules from a `waft bsp` drop-in:
 * the PID controller (pid.wasm, core Wasm: its imports are C functions here)
 * in a control loop, then a WASI command (hello.wasm) through waft_run_hello.
 * Startup, the vector table, SysTick and the console are the vendor's own
 * (startup_an386.c, hal.c).  Exit status 0 when both did their job.
 */
#include "hal.h"
#include "waft_bsp.h"

#define TICKS 2000
#define DT 0.01f

typedef struct plant {
    float temperature;
    float power;
} plant;

/* The imports of module "env": ctx is the pointer put in pid__imports.env. */
float env__read_sensor(void *ctx) { return ((plant *)ctx)->temperature; }

void env__set_actuator(void *ctx, float command) { ((plant *)ctx)->power = command; }

static pid__instance controller;

static int control_loop(void) {
    plant heater = {.temperature = 20.0f, .power = 0.0f};
    pid__imports imports = {.env = &heater};
    waft_trap_code code = pid__instantiate(&controller, &imports);
    if (code != WAFT_TRAP_NONE) {
        hal_puts("pid: instantiation trapped: ");
        hal_puts(waft_strerror(code));
        hal_puts("\n");
        return 1;
    }
    pid_pid_init(&controller, 60.0f, 2.0f, 0.5f, 0.05f, 100.0f);
    for (int tick = 0; tick < TICKS; tick++) {
        pid_pid_step(&controller, DT);
        heater.temperature += DT * (0.8f * heater.power - (heater.temperature - 20.0f)) / 2.0f;
    }
    long centi = (long)(heater.temperature * 100.0f + 0.5f);
    int ok = centi > 5950 && centi < 6050;
    hal_puts("pid: settled at ");
    hal_put_int(centi / 100);
    hal_puts(".");
    hal_put_int(centi % 100 / 10);
    hal_put_int(centi % 10);
    hal_puts(ok ? " (setpoint 60.00): ok\n" : " (setpoint 60.00): NOT SETTLED\n");
    return ok ? 0 : 1;
}

int main(void) {
    hal_init();
    hal_puts("vendor BSP: Waft ABI version ");
    hal_put_int(WAFT_ABI_VERSION);
    hal_puts("\n");
    int failed = control_loop();
    uint64_t before = hal_millis();
    hal_delay_ms(2); /* the vendor's SysTick interrupt runs: this returns */
    if (hal_millis() < before + 2) failed = 1;
    int status = waft_run_hello();
    hal_puts("hello: exit status ");
    hal_put_int(status);
    hal_puts("\n");
    return failed ? 1 : status;
}
