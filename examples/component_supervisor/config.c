/* The configuration component: parses text commands and keeps the controller's settings.
 *
 * Compiled to wasm32 with the guest bindings of supervisor.wit (`waft bindgen --guest --name supervisor_guest`), then made
 * a component with `wasm-tools component embed` + `component new`.  Strings, records and results
 * cross into the firmware through the canonical ABI; the firmware calls it between control periods,
 * never inside one: the PID step (pid.c) is a plain core module.  No stdio: the module imports
 * nothing, so the firmware needs no WASI runtime for it. */
#include <stdlib.h>
#include <string.h>

#include "supervisor_guest.h"

static float kp = 2.0f, ki = 0.5f, setpoint = 20.0f;
static uint32_t commands;
static const char *mode = "stopped";

void exports_demo_supervisor_config_set_gain(float p, float i) {
    kp = p;
    ki = i;
}

void exports_demo_supervisor_config_get_status(demo_supervisor_config_status_t *ret) {
    ret->kp = kp;
    ret->ki = ki;
    ret->setpoint = setpoint;
    ret->commands = commands;
    supervisor_guest_string_dup(&ret->mode, mode); /* freed by the post-return function */
}

/* "-12.5" -> -12.5; 0 when `s` is not a decimal number. */
static int parse_number(const uint8_t *s, size_t len, float *out) {
    float value = 0.0f, scale = 0.0f;
    int negative = len > 0 && s[0] == '-', digits = 0;
    for (size_t i = negative; i < len; i++) {
        if (s[i] == '.' && scale == 0.0f) {
            scale = 1.0f;
        } else if (s[i] >= '0' && s[i] <= '9') {
            value = value * 10.0f + (float)(s[i] - '0');
            scale *= 10.0f;
            digits++;
        } else {
            return 0;
        }
    }
    *out = (negative ? -value : value) / (scale > 0.0f ? scale : 1.0f);
    return digits > 0;
}

/* The error string `prefix` + `detail` (at most 32 bytes of it), malloc'ed as a result must be. */
static void error(supervisor_guest_result_u32_string_t *ret, const char *prefix, const uint8_t *detail, size_t len) {
    size_t n = strlen(prefix), d = len < 32 ? len : 32;
    char *text = malloc(n + d + 1);
    memcpy(text, prefix, n);
    memcpy(text + n, detail, d);
    text[n + d] = '\'';
    ret->is_err = true;
    ret->val.err.ptr = (uint8_t *)text;
    ret->val.err.len = n + d + 1;
}

static int is(const supervisor_guest_string_t *s, const char *word) {
    size_t n = strlen(word);
    return s->len >= n && memcmp(s->ptr, word, n) == 0 && (s->len == n || s->ptr[n] == ' ');
}

void exports_demo_supervisor_config_command(supervisor_guest_string_t *cmd, supervisor_guest_result_u32_string_t *ret) {
    float value;
    ret->is_err = false;
    if (is(cmd, "run")) {
        mode = "running";
    } else if (is(cmd, "stop")) {
        mode = "stopped";
    } else if (is(cmd, "setpoint") && cmd->len > 9 && parse_number(cmd->ptr + 9, cmd->len - 9, &value)) {
        if (value < -50.0f || value > 150.0f) {
            ret->is_err = true;
            supervisor_guest_string_dup(&ret->val.err, "setpoint out of range (-50..150)");
        } else {
            setpoint = value;
        }
    } else {
        error(ret, "unknown command '", cmd->ptr, cmd->len);
    }
    if (!ret->is_err) {
        ret->val.ok = ++commands;
    }
    supervisor_guest_string_free(cmd); /* the argument was handed over */
}
