/* The firmware: a C super-loop whose PID step is a core Wasm module, configured through a component.
 *
 * supervisor.component.wasm exports demo:supervisor/config; `waft compile` unwraps it to one core
 * module and writes C functions for its exports (supervisor_component.h and the files it includes):
 * records arrive as C structs, strings as (ptr, len), results as tagged structs, and each call's
 * post-return runs inside the wrapper.  The firmware talks to it between control periods only;
 * the loop itself calls pid.wat, a plain core module, through its generated pid.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pid.h"
#include "supervisor_component.h"

#define TICKS 1500
#define DT 0.01f /* 100 Hz */

static supervisor__instance component; /* both instances are static: no heap */
static pid__instance controller;
static uint8_t scratch[256]; /* where the export wrappers put what they lift */
static supervisor_ctx ctx;

/* A command for the component, as C calls it: a string in, a result out. */
typedef struct {
    const char *text;
    supervisor_result_u32_string_t *result;
} command_call;

static void call_command(void *instance, void *arg) {
    (void)instance;
    command_call *call = arg;
    supervisor_string_t cmd;
    supervisor_string_set(&cmd, call->text);
    exports_demo_supervisor_config_command(&ctx, &cmd, call->result);
}

static void call_status(void *instance, void *arg) {
    (void)instance;
    exports_demo_supervisor_config_get_status(&ctx, arg);
}

static void call_gain(void *instance, void *arg) {
    (void)instance;
    const float *gains = arg;
    exports_demo_supervisor_config_set_gain(&ctx, gains[0], gains[1]);
}

/* Send one command and say what came back; the answer's strings live in the scratch space until
 * the mark is released. */
static int command(const char *text, int want_ok) {
    supervisor_result_u32_string_t result;
    command_call call = {text, &result};
    size_t mark = supervisor_ctx_mark(&ctx);
    waft_trap_code trap = waft_call_guarded(call_command, &component, &call);
    if (trap != WAFT_TRAP_NONE) {
        printf("command '%s' trapped: %s\n", text, waft_strerror(trap));
        return 0;
    }
    if (result.is_err) {
        printf("command '%s': error: %.*s\n", text, (int)result.val.err.len, (const char *)result.val.err.ptr);
    } else {
        printf("command '%s': ok, %u commands taken\n", text, (unsigned)result.val.ok);
    }
    supervisor_ctx_release(&ctx, mark);
    return result.is_err != want_ok;
}

static int status(demo_supervisor_config_status_t *out) {
    size_t mark = supervisor_ctx_mark(&ctx);
    if (waft_call_guarded(call_status, &component, out) != WAFT_TRAP_NONE) {
        puts("get-status trapped");
        return 0;
    }
    printf("status: kp %.2f ki %.2f setpoint %.1f, %u commands, mode %.*s\n", out->kp, out->ki, out->setpoint,
           (unsigned)out->commands, (int)out->mode.len, (const char *)out->mode.ptr);
    supervisor_ctx_release(&ctx, mark); /* out->mode is not used after this */
    return 1;
}

int main(void) {
    supervisor__imports no_imports = {0};
    pid__imports pid_imports = {0};
    supervisor_ctx_init(&ctx, scratch, sizeof scratch, NULL, 0, NULL);
    if (supervisor__instantiate(&component, &no_imports) != WAFT_TRAP_NONE ||
        supervisor_component_start(&ctx, &component) != WAFT_TRAP_NONE ||
        pid__instantiate(&controller, &pid_imports) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    int ok = command("setpoint 60", 1);
    ok &= command("setpoint 900", 0);
    ok &= command("reboot now", 0);
    ok &= command("run", 1);
    float gains[2] = {3.0f, 1.5f};
    ok &= waft_call_guarded(call_gain, &component, gains) == WAFT_TRAP_NONE;

    demo_supervisor_config_status_t config;
    ok &= status(&config);
    ok &= config.commands == 2 && config.setpoint == 60.0f && config.kp == 3.0f && config.ki == 1.5f;

    /* The control loop: core Wasm only. */
    float temperature = 20.0f;
    for (int tick = 0; tick < TICKS; tick++) {
        float power = pid_pid_step(&controller, config.setpoint, temperature, config.kp, config.ki, DT);
        temperature += DT * (0.8f * power - (temperature - 20.0f)) / 2.0f; /* a first-order heater */
        if (tick % 500 == 0) {
            printf("t=%5.2f s  temperature %6.2f  power %7.2f\n", tick * DT, temperature, power);
        }
    }
    ok &= command("stop", 1);
    int settled = fabsf(temperature - config.setpoint) < 0.5f;
    printf("settled at %.2f (setpoint %.2f): %s\n", temperature, config.setpoint, settled ? "ok" : "NOT SETTLED");
    printf("%s\n", ok && settled ? "supervisor ok" : "supervisor FAILED");
    return ok && settled ? 0 : 1;
}
