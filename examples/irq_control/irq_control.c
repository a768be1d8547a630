/* Interrupt-driven control in Wasm: the PID controller of examples/control_loop,
 * run by a 1 kHz timer line whose handler is this module's export `on_tick`.
 *
 *   on_tick  the handler: one PID step of a simulated heater per tick (read
 *            the sensor, compute, drive the actuator, advance the plant by
 *            the tick's dt).  Where the target delivers the line immediately
 *            (Cortex-M: the timer's NVIC vector calls the compiled on_tick
 *            directly, because the build grants the line bound to it:
 *            WAFT_SIGNAL_GRANTS=["tick=timer:0@on_tick"]) it runs as the
 *            interrupt service routine; where it cannot (the host: a POSIX
 *            timer, deferred delivery only) it runs inside the main loop's
 *            wait-for-event, the dispatch point.
 *   main     only logs: it sleeps in wait-for-event until the next 100 ms
 *            mark, takes a consistent snapshot of the shared state under
 *            set-mask (the critical section against its own handler), prints
 *            one line, and at the end a summary.
 *
 * Missed ticks: the timer keeps the grid first + k * period and coalesces
 * the points a late handler did not take (docs/interrupts.md), so the handler
 * reads the monotonic clock, works out which grid point it is serving, and
 * counts the ones skipped; the plant advances by every grid point passed, so
 * a missed tick shows in the control too.
 *
 * The plant is examples/control_loop's first-order heater, twenty times
 * faster (time constant 100 ms instead of 2 s, so that 1 s of 1 kHz control
 * settles it), with the PID's integral and derivative gains scaled to match.
 *
 *   irq_control [--ticks N] [--max-missed N]
 *
 * Exit status 0 when every tick was accounted for, at most --max-missed
 * (default 0) were missed, and the plant settled within 0.5 degrees of the
 * setpoint and stayed there; 1 otherwise; 2 for bad arguments; 3 when the
 * line could not be set up (not granted, no timer...).
 *
 * The wasi-ext imports come from the guest bindings that
 * `waft bindgen wasi_ext/profiles -w firmware-rt --guest` generates (the
 * SConscript runs it: env.WitGuestBindings). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "firmware_rt.h"

#define PERIOD_NS 1000000ull /* 1 kHz */
#define DT 0.001f
#define LOG_NS 100000000ull /* the main loop's log, every 100 ms */
#define GRACE_NS 100000000ull /* how long past the last tick the main loop waits before failing */
#define SETPOINT 60.0f
#define SETTLED_BAND 0.5f
#define LINE_PRIORITY 1

typedef wasi_ext_signals_signals_errno_t sig_errno;
#define OK WASI_EXT_TYPES_TYPES_ERRNO_SUCCESS

/* ---- the controller (examples/control_loop/pid.c) and the plant ---------------- */

static struct {
    float setpoint, kp, ki, kd, integral, previous_error, limit;
} pid = {SETPOINT, 2.0f, 20.0f, 0.0025f, 0.0f, 0.0f, 100.0f};

static float pid_step(float measured, float dt) {
    float error = pid.setpoint - measured;
    float derivative = (error - pid.previous_error) / dt;
    float command = pid.kp * error + pid.ki * (pid.integral + error * dt) + pid.kd * derivative;
    /* Anti-windup: integrate only while the actuator is not saturated. */
    if (command > pid.limit) {
        command = pid.limit;
    } else if (command < -pid.limit) {
        command = -pid.limit;
    } else {
        pid.integral += error * dt;
    }
    pid.previous_error = error;
    return command;
}

/* ---- what the handler and the main loop share ----------------------------------
 *
 * Written by the handler, read by main.  With immediate delivery the handler
 * interrupts main anywhere, as a C ISR does: volatile for every field, and
 * main copies them under set-mask so that one snapshot is one tick's. */
static volatile struct {
    float temperature;  /* the plant: what the sensor reads */
    float power;        /* what the actuator was told */
    uint32_t handled;   /* handler runs */
    uint32_t missed;    /* grid points skipped (coalesced) */
    uint32_t next;      /* the grid point the next run should serve */
    uint32_t settled_at; /* ticks after which the plant stayed within the band (0: from the start) */
    uint32_t early;     /* runs before their grid point: a runtime bug */
} shared = {.temperature = 20.0f};

static uint64_t first_release; /* the grid's origin, set before the timer starts */
static uint32_t total_ticks;   /* grid points to serve; the handler does nothing after them */

static uint64_t now_ns(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

/* The handler: `handler(line, arg)`, core type (func (param i32 i32)). */
__attribute__((export_name("on_tick"))) void on_tick(uint32_t line, uint32_t arg) {
    (void)line;
    (void)arg;
    uint32_t next = shared.next;
    if (next >= total_ticks) {
        return; /* the run is over; the timer is being stopped */
    }
    uint64_t now = now_ns();
    if (now < first_release + (uint64_t)next * PERIOD_NS) {
        shared.early++;
        return;
    }
    uint32_t index = (uint32_t)((now - first_release) / PERIOD_NS);
    if (index >= total_ticks) {
        index = total_ticks - 1; /* late past the end: the points up to it were missed */
    }
    uint32_t skipped = index - next;
    float power = pid_step(shared.temperature, DT);
    /* The plant runs in physical time: it advances by every grid point passed,
     * taken or skipped.  dT/dt = (gain * power - (T - ambient)) / tau. */
    float t = shared.temperature;
    for (uint32_t k = 0; k <= skipped; k++) {
        t += DT * (0.8f * power - (t - 20.0f)) / 0.1f;
    }
    shared.temperature = t;
    shared.power = power;
    shared.missed += skipped;
    shared.handled++;
    shared.next = index + 1;
    if (t < SETPOINT - SETTLED_BAND || t > SETPOINT + SETTLED_BAND) {
        shared.settled_at = index + 1;
    }
}

/* ---- main: set up the line, log, report ------------------------------------------- */

static int usage(const char *why) {
    fprintf(stderr, "irq_control: %s\nusage: irq_control [--ticks N] [--max-missed N]\n", why);
    return 2;
}

static int setup_failed(const char *call, sig_errno e) {
    fprintf(stderr, "irq_control: %s failed: errno %u (is the line granted as \"tick\": "
                    "WAFT_SIGNAL_GRANTS / --grant tick=timer:0@on_tick?)\n", call, (unsigned)e);
    return 3;
}

int main(int argc, char **argv) {
    uint32_t ticks = 1000, max_missed = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        unsigned long v = value ? strtoul(value, &end, 10) : 0;
        if (value == NULL || end == value || *end != '\0') {
            return usage("an option without a number after it");
        } else if (strcmp(argv[i], "--ticks") == 0) {
            ticks = (uint32_t)v;
        } else if (strcmp(argv[i], "--max-missed") == 0) {
            max_missed = (uint32_t)v;
        } else {
            return usage("unknown option");
        }
    }
    if (ticks < 100 || ticks > 600000) {
        return usage("--ticks must be 100 to 600000");
    }
    total_ticks = ticks;

    /* The line granted as "tick", and how this target can deliver it. */
    firmware_rt_string_t name;
    firmware_rt_string_set(&name, "tick");
    firmware_rt_result_line_errno_t found;
    wasi_ext_signals_signals_lookup(&name, &found);
    if (found.is_err) {
        return setup_failed("lookup(\"tick\")", found.val.err);
    }
    uint32_t line = found.val.ok;
    firmware_rt_result_line_caps_errno_t caps;
    wasi_ext_signals_signals_capabilities(line, &caps);
    if (caps.is_err || !(caps.val.ok & WASI_EXT_SIGNALS_SIGNALS_LINE_CAPS_TIMER)) {
        return setup_failed("capabilities (a timer line)", caps.is_err ? caps.val.err : WASI_EXT_TYPES_TYPES_ERRNO_NOTSUP);
    }
    bool immediate = caps.val.ok & WASI_EXT_SIGNALS_SIGNALS_LINE_CAPS_IMMEDIATE;
    firmware_rt_string_t handler;
    firmware_rt_string_set(&handler, "on_tick");
    sig_errno e = wasi_ext_signals_signals_attach_export(
        line, &handler, 0,
        immediate ? WASI_EXT_SIGNALS_SIGNALS_DELIVERY_IMMEDIATE : WASI_EXT_SIGNALS_SIGNALS_DELIVERY_DEFERRED,
        LINE_PRIORITY);
    if (e != OK) {
        return setup_failed("attach-export(on_tick)", e);
    }
    if ((e = wasi_ext_signals_signals_enable(line)) != OK) {
        return setup_failed("enable", e);
    }
    /* The grid on whole milliseconds, two periods ahead: the handler may run
     * from the first point on, and first_release is set before it can. */
    first_release = (now_ns() / PERIOD_NS + 2) * PERIOD_NS;
    if ((e = wasi_ext_signals_signals_start_timer(line, first_release, PERIOD_NS)) != OK) {
        return setup_failed("start-timer", e);
    }
    printf("irq_control: %u ticks of %llu us, handler on_tick, %s delivery\n", ticks, PERIOD_NS / 1000,
           immediate ? "immediate (the timer's vector)" : "deferred (wait-for-event)");

    uint8_t all = wasi_ext_signals_signals_priority_max();
    uint64_t end = first_release + (uint64_t)ticks * PERIOD_NS;
    uint64_t next_log = first_release + LOG_NS;
    bool finished = false;
    for (;;) {
        uint64_t now = now_ns();
        /* A snapshot of one tick's state: the handler cannot run in between. */
        uint8_t old = wasi_ext_signals_signals_set_mask(all);
        uint32_t done = shared.next, handled = shared.handled, missed = shared.missed;
        float temperature = shared.temperature, power = shared.power;
        wasi_ext_signals_signals_set_mask(old);
        if (done >= ticks) {
            finished = true;
            break;
        }
        if (now > end + GRACE_NS) {
            break; /* the handler did not keep up at all: fail instead of hanging */
        }
        if (now >= next_log) {
            printf("t=%4llu ms  temperature %6.2f  power %6.2f  handled %4u  missed %u\n",
                   (next_log - first_release) / 1000000ull, temperature, power, handled, missed);
            next_log += LOG_NS;
        }
        /* Sleep to the next log line (or the end): with deferred delivery the
         * handler runs in here; with immediate delivery it interrupts the sleep. */
        uint64_t limit = now < end ? end : end + GRACE_NS;
        uint64_t until = next_log < limit ? next_log : limit;
        firmware_rt_result_u32_errno2_t ran;
        wasi_ext_signals_signals_wait_for_event(until, &ran);
        if (ran.is_err && ran.val.err != WASI_EXT_TYPES_TYPES_ERRNO_TIMEDOUT) {
            return setup_failed("wait-for-event", ran.val.err);
        }
    }
    (void)wasi_ext_signals_signals_stop_timer(line);
    (void)wasi_ext_signals_signals_detach(line);

    uint32_t handled = shared.handled, missed = shared.missed, early = shared.early;
    float temperature = shared.temperature;
    bool settled = temperature >= SETPOINT - SETTLED_BAND && temperature <= SETPOINT + SETTLED_BAND;
    printf("ticks: %u handled, %u missed, of %u (%s delivery)\n", handled, missed, ticks,
           immediate ? "immediate" : "deferred");
    printf("plant: %.2f (setpoint %.2f), within %.1f from %u ms\n", temperature, SETPOINT, SETTLED_BAND,
           shared.settled_at);
    const char *why = NULL;
    if (!finished) {
        why = "the handler did not serve every tick in time";
    } else if (early) {
        why = "the handler ran before its grid point";
    } else if (handled + missed != ticks) {
        why = "ticks unaccounted for";
    } else if (missed > max_missed) {
        why = "too many missed ticks";
    } else if (!settled) {
        why = "the plant did not settle";
    }
    printf("%s: missed %u (<= %u), %s%s%s\n", why ? "FAIL" : "ok", missed, max_missed,
           settled ? "settled" : "not settled", why ? ": " : "", why ? why : "");
    return why ? 1 : 0;
}
