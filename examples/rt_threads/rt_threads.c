/* Real-time threads in Wasm: a 1 kHz control thread keeps its period while a
 * low-priority logger saturates the core.
 *
 *   control  priority 10: set-period(1 ms) + wait-period, one PI step of a
 *            simulated plant per release; records each release's latency
 *            (monotonic clock at wake-up minus the grid point) and the
 *            releases wait-period reports missed.
 *   logger   priority 2: never blocks; CRC-32 and min/max/mean over blocks of
 *            synthetic samples, as a data logger would before storing them.
 *   main     raised to priority 20 while it creates both (so neither runs
 *            before both exist), then a watchdog: blocked until the control
 *            thread has covered its periods, or 100 periods after it should
 *            have (a control thread that never runs, starved by a busy
 *            thread above it, fails the run instead of hanging it); it
 *            stops the logger and prints the one summary.
 *
 * Threads are wasi-libc pthreads (wasi-threads underneath); their priority
 * comes from wasi-ext:threads' set-spawn-attributes just before
 * pthread_create, which the WIT gives as the way an unmodified pthread_create
 * makes a real-time thread: it starts at its priority, with no window at the
 * wrong one.  The wasi-ext imports are declared by the guest bindings that
 * `waft bindgen wasi_ext/profiles -w firmware-rt --guest` generates (the
 * SConscript runs it).
 *
 * Nothing is printed until the end: on a board the console is semihosting,
 * which halts the core for as long as the debugger takes, so printing from
 * the logger would steal the control thread's releases on silicon.  Progress
 * goes through shared memory instead: the control thread samples the
 * logger's block count every 100 releases.
 *
 *   rt_threads [--periods N] [--max-missed N] [--max-jitter-pct P|off]
 *              [--control-priority P]
 *
 * Exit status 0 when at most --max-missed releases were missed (default 0),
 * the jitter (max - min latency) is at most P % of the period (default 1),
 * no release came before its grid point, the plant settled and the logger
 * made progress in every 100 ms window; 1 otherwise, 2 for bad arguments,
 * 3 when a thread could not be created.  --control-priority (default 10)
 * shows what the priority buys: at 1, below the logger, the control thread
 * never runs on a board, and the watchdog fails the run. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "firmware_rt.h"

#define PERIOD_NS 1000000ull /* 1 kHz */
#define PRIO_CONTROL 10 /* the default of --control-priority */
#define PRIO_LOGGER 2
#define PRIO_MAIN 20
/* Each pthread's shadow stack (in linear memory, from malloc): the module has
 * one 64 KiB page, so the default 16 KiB would not leave room for two. */
#define THREAD_STACK 4096
#define WINDOW 100 /* releases per progress sample of the logger */
#define MAX_WINDOWS 64
#define GRACE_PERIODS 100 /* the watchdog's margin past the last release */

/* ---- what the threads share ---------------------------------------------------- */

static struct control_result {
    uint32_t periods;       /* grid points the control thread covers */
    uint32_t taken;         /* releases it ran at */
    uint32_t missed;        /* releases wait-period reported missed */
    uint32_t early;         /* releases seen before their grid point (a runtime bug) */
    uint64_t lat_min, lat_max, lat_sum;
    float plant, setpoint;
    uint32_t settled_ms;    /* last release at which the plant was outside 2 % */
    uint32_t windows;
    uint32_t blocks_at[MAX_WINDOWS + 1]; /* the logger's block count every WINDOW releases */
    int error;              /* a wasi-ext call that failed: its errno, 0 if none */
    const char *failed_call;
} control_result;

static atomic_int control_done; /* 1 once the control thread has finished; main waits on it */
static atomic_uint logger_blocks;
static atomic_int logger_stop;
static uint32_t logger_crc;

static uint64_t now_ns(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

/* ---- the control thread: a PI controller on a first-order plant ---------------- */

typedef struct {
    float kp, ki, integral, limit;
} pi_controller;

/* One control step of `dt` seconds (as examples/control_loop/pid.c, without the D term). */
static float pi_step(pi_controller *c, float error, float dt) {
    float command = c->kp * error + c->ki * (c->integral + error * dt);
    if (command > c->limit) {
        command = c->limit;
    } else if (command < -c->limit) {
        command = -c->limit;
    } else {
        c->integral += error * dt; /* anti-windup: integrate only while unsaturated */
    }
    return command;
}

static void fail(const char *call, int error) {
    control_result.failed_call = call;
    control_result.error = error;
}

static void *control(void *arg) {
    (void)arg;
    const float dt = (float)PERIOD_NS * 1e-9f, tau = 0.02f; /* the plant's time constant: 20 ms */
    pi_controller pi = {.kp = 4.0f, .ki = 200.0f, .limit = 10.0f};
    float y = 0.0f, setpoint = 1.0f;

    /* The grid sits on whole periods of the clock, two periods ahead: the
     * kernel's tick is on whole milliseconds, so releases fall on ticks. */
    uint64_t first = (now_ns() / PERIOD_NS + 2) * PERIOD_NS;
    wasi_ext_threads_threads_errno_t e = wasi_ext_threads_threads_set_period(PERIOD_NS, first);
    if (e != WASI_EXT_TYPES_TYPES_ERRNO_SUCCESS) {
        fail("set-period", e);
        return NULL;
    }
    control_result.lat_min = UINT64_MAX;
    for (uint32_t index = 0, next = 0; next < control_result.periods; next = index + 1) {
        firmware_rt_result_u32_errno_t r;
        wasi_ext_threads_threads_wait_period(&r);
        uint64_t woke = now_ns();
        if (r.is_err) {
            fail("wait-period", r.val.err);
            return NULL;
        }
        /* The release this wake-up belongs to: skipped ones are not queued. */
        index = next + r.val.ok;
        control_result.missed += r.val.ok;
        control_result.taken++;
        uint64_t grid = first + (uint64_t)index * PERIOD_NS;
        if (woke < grid) {
            control_result.early++;
        } else {
            uint64_t latency = woke - grid;
            control_result.lat_sum += latency;
            if (latency < control_result.lat_min) control_result.lat_min = latency;
            if (latency > control_result.lat_max) control_result.lat_max = latency;
        }
        /* The control law, once per release; the plant advances by the grid
         * points passed, so a missed release shows in the plant too. */
        float u = pi_step(&pi, setpoint - y, dt);
        for (uint32_t k = 0; k <= r.val.ok; k++) {
            y += dt / tau * (u - y);
        }
        if (y < setpoint * 0.98f || y > setpoint * 1.02f) {
            control_result.settled_ms = index + 1;
        }
        if ((index + 1) % WINDOW == 0 && control_result.windows < MAX_WINDOWS) {
            control_result.blocks_at[++control_result.windows] = atomic_load(&logger_blocks);
        }
    }
    control_result.plant = y;
    control_result.setpoint = setpoint;
    return NULL;
}

/* The control thread's body, then the watchdog's wake-up (memory.atomic.notify). */
static void *control_thread(void *arg) {
    control(arg);
    atomic_store(&control_done, 1);
    __builtin_wasm_memory_atomic_notify((int *)&control_done, 1);
    return NULL;
}

/* Blocks (memory.atomic.wait32, so the core is free for the others) until
 * the control thread is done or the monotonic clock passes `deadline`;
 * returns whether it is done. */
static int wait_for_control(uint64_t deadline) {
    while (!atomic_load(&control_done)) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            return 0;
        }
        __builtin_wasm_memory_atomic_wait32((int *)&control_done, 0, (int64_t)(deadline - now));
    }
    return 1;
}

/* ---- the logger: CRC-32 and statistics over blocks of samples, without end ------ */

#define BLOCK_SAMPLES 256

static uint32_t crc_table[256];

static void crc32_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) {
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
}

static void *logger(void *arg) {
    (void)arg;
    static uint16_t block[BLOCK_SAMPLES];
    uint32_t seed = 12345, crc = 0;
    uint64_t sum_of_means = 0;
    while (!atomic_load_explicit(&logger_stop, memory_order_relaxed)) {
        /* A block of "ADC readings": a slow ramp plus noise, as a logger records them. */
        uint16_t lo = UINT16_MAX, hi = 0;
        uint32_t sum = 0;
        for (int i = 0; i < BLOCK_SAMPLES; i++) {
            seed = seed * 1664525u + 1013904223u;
            uint16_t v = (uint16_t)(2048 + (i * 4) + (seed >> 24));
            block[i] = v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            sum += v;
        }
        crc = crc32_update(crc, (const uint8_t *)block, sizeof block);
        sum_of_means += sum / BLOCK_SAMPLES + (hi - lo) / 1024; /* keeps the statistics live */
        atomic_fetch_add_explicit(&logger_blocks, 1, memory_order_relaxed);
    }
    logger_crc = crc ^ (uint32_t)sum_of_means;
    return NULL;
}

/* ---- main: start both, wait, report ------------------------------------------- */

/* pthread_create at `priority`: wasi-libc's pthread_create calls
 * wasi.thread-spawn, which takes the calling thread's spawn attributes. */
static int start_thread(pthread_t *thread, void *(*entry)(void *), uint8_t priority) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    wasi_ext_threads_threads_errno_t e = wasi_ext_threads_threads_set_spawn_attributes(priority, 0);
    int rc = e != WASI_EXT_TYPES_TYPES_ERRNO_SUCCESS ? e : pthread_create(thread, &attr, entry, NULL);
    (void)wasi_ext_threads_threads_set_spawn_attributes(0, 0);
    pthread_attr_destroy(&attr);
    return rc;
}

static int usage(const char *why) {
    fprintf(stderr, "rt_threads: %s\nusage: rt_threads [--periods N] [--max-missed N] "
                    "[--max-jitter-pct P|off] [--control-priority P]\n", why);
    return 2;
}

int main(int argc, char **argv) {
    uint32_t periods = 1000, max_missed = 0, control_priority = PRIO_CONTROL;
    double max_jitter_pct = 1.0; /* < 0: not bounded */
    for (int i = 1; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (value == NULL) {
            return usage("an option without its value");
        } else if (strcmp(argv[i], "--periods") == 0) {
            periods = (uint32_t)strtoul(value, &end, 10);
        } else if (strcmp(argv[i], "--max-missed") == 0) {
            max_missed = (uint32_t)strtoul(value, &end, 10);
        } else if (strcmp(argv[i], "--control-priority") == 0) {
            control_priority = (uint32_t)strtoul(value, &end, 10);
        } else if (strcmp(argv[i], "--max-jitter-pct") == 0) {
            max_jitter_pct = strcmp(value, "off") == 0 ? -1.0 : strtod(value, &end);
            end = strcmp(value, "off") == 0 ? (char *)value + 3 : end;
        } else {
            return usage("unknown option");
        }
        if (end == value || *end != '\0' || (strcmp(argv[i], "--periods") == 0 && periods == 0)) {
            return usage("a bad value");
        }
    }
    if (periods < WINDOW || periods > WINDOW * MAX_WINDOWS) {
        return usage("--periods must be 100 to 6400");
    }
    if (control_priority < 1 || control_priority >= PRIO_MAIN) {
        return usage("--control-priority must be 1 to 19 (main runs at 20)");
    }
    control_result.periods = periods;
    crc32_init();

    wasi_ext_threads_threads_errno_t e = wasi_ext_threads_threads_set_priority(0, PRIO_MAIN);
    if (e != WASI_EXT_TYPES_TYPES_ERRNO_SUCCESS) {
        fprintf(stderr, "rt_threads: set-priority(%d): errno %d\n", PRIO_MAIN, e);
        return 3;
    }
    pthread_t logger_thread, control_thread_id;
    int rc = start_thread(&logger_thread, logger, PRIO_LOGGER);
    if (rc == 0) {
        rc = start_thread(&control_thread_id, control_thread, (uint8_t)control_priority);
        if (rc != 0) {
            atomic_store(&logger_stop, 1);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "rt_threads: cannot create a thread: error %d (--max-threads?)\n", rc);
        return 3;
    }
    /* Two periods to the first release, then the periods, then the margin. */
    uint64_t deadline = now_ns() + (periods + 2 + GRACE_PERIODS) * PERIOD_NS;
    int finished = wait_for_control(deadline);
    if (!finished) {
        /* Leave the threads as they are: exit ends them all (proc_exit). */
        printf("control: %u of %u periods done %u ms after the last release was due\n",
               control_result.taken + control_result.missed, periods, GRACE_PERIODS);
        printf("FAIL: the control thread (priority %u) did not keep up: starved by a busier thread "
               "at or above its priority?\n", control_priority);
        return 1;
    }
    pthread_join(control_thread_id, NULL);
    atomic_store(&logger_stop, 1);
    pthread_join(logger_thread, NULL);

    const struct control_result *c = &control_result;
    if (c->failed_call != NULL) {
        printf("rt_threads: %s failed: errno %d\n", c->failed_call, c->error);
        return 1;
    }
    uint64_t lat_min = c->taken > c->early ? c->lat_min : 0;
    uint64_t jitter = c->lat_max - lat_min;
    double jitter_pct = 100.0 * (double)jitter / (double)PERIOD_NS;
    uint32_t slowest = UINT32_MAX;
    for (uint32_t w = 1; w <= c->windows; w++) {
        uint32_t n = c->blocks_at[w] - c->blocks_at[w - 1];
        slowest = n < slowest ? n : slowest;
    }
    unsigned blocks = atomic_load(&logger_blocks);

    printf("control: %u periods of %llu us at priority %u: %u releases, %u missed\n",
           c->periods, PERIOD_NS / 1000, control_priority, c->taken, c->missed);
    printf("latency: min %.3f us, max %.3f us, mean %.3f us; jitter %.3f us (%.3f%% of the period)\n",
           lat_min / 1e3, c->lat_max / 1e3,
           c->taken > c->early ? (double)c->lat_sum / (c->taken - c->early) / 1e3 : 0.0,
           jitter / 1e3, jitter_pct);
    printf("plant: %.3f (setpoint %.3f), within 2%% from %u ms\n", c->plant, c->setpoint, c->settled_ms);
    printf("logger: %u blocks of %u bytes at priority %d (CRC-32 %08x), at least %u per %d ms\n",
           blocks, (unsigned)sizeof(uint16_t) * BLOCK_SAMPLES, PRIO_LOGGER, logger_crc,
           c->windows ? slowest : 0, WINDOW);

    const char *why = NULL;
    if (c->early) {
        why = "a release came before its grid point";
    } else if (c->missed > max_missed) {
        why = "too many missed releases";
    } else if (max_jitter_pct >= 0 && jitter_pct > max_jitter_pct) {
        why = "jitter above its bound";
    } else if (c->plant < c->setpoint * 0.98f || c->plant > c->setpoint * 1.02f) {
        why = "the plant did not settle";
    } else if (c->windows == 0 || slowest == 0) {
        why = "the logger was starved";
    }
    char bound[32] = "not bounded";
    if (max_jitter_pct >= 0) {
        snprintf(bound, sizeof bound, "<= %.2f%%", max_jitter_pct);
    }
    printf("%s: missed %u (<= %u), jitter %.3f%% (%s)%s%s\n", why ? "FAIL" : "ok", c->missed, max_missed,
           jitter_pct, bound, why ? ": " : "", why ? why : "");
    return why ? 1 : 0;
}
