/*
 * driver.c: main() of the `components` metric group's program.  The component (guest.c) is unwrapped
 * and compiled by Waft as module `prog`; `waft compile`'s C for its exports (prog_component.h and
 * the files it includes) is linked in.  Per figure, BENCH_SAMPLES batches of BENCH_PER calls (a
 * warm-up batch first, not kept), timed with instrument.h's clock:
 *
 *   native.count   the same work in C (tally.h), a function in this file called through a pointer
 *   core.count     a core call: the text copied into the module's static buffer, core_tally called,
 *                  the three fields read where it answers (the module ABI only)
 *   canon.count    a canonical-ABI call through the generated C: the string lowered into memory the
 *                  module's cabi_realloc gives (freed by the guest), the record lifted back, every
 *                  guest pointer checked
 *
 * Every call's result is checked against tally.h computed here: a wrong one prints "problem ..." and
 * the program exits 1.  All of it runs inside one waft_call_guarded (a trap is reported, not a crash).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "instrument.h"
#include "prog_component.h"
#include "tally.h"

#ifndef BENCH_PER
#define BENCH_PER 100u
#endif
#ifndef BENCH_SAMPLES
#define BENCH_SAMPLES 100u
#endif
#if BENCH_SAMPLES > BENCH_MAX_SAMPLES
#error "BENCH_SAMPLES exceeds instrument.h's BENCH_MAX_SAMPLES"
#endif

static const char TEXT[] = "setpoint 60.5 kp=3.0 ki=1.5 run"; /* a typical command line: 31 bytes */

static prog__instance inst;
static prog_ctx ctx;
static uint8_t scratch[256];
static int failed;
static bench_tally want;

static void check(const char *what, uint32_t bytes, uint32_t digits, uint32_t checksum) {
    if (!failed && (bytes != want.bytes || digits != want.digits || checksum != want.checksum)) {
        printf("problem %s answered {%lu, %lu, %lu}, expected {%lu, %lu, %lu}\n", what, (unsigned long)bytes,
               (unsigned long)digits, (unsigned long)checksum, (unsigned long)want.bytes,
               (unsigned long)want.digits, (unsigned long)want.checksum);
        failed = 1;
    }
}

/* Through a pointer so the compiler cannot fold the native side's work away. */
static bench_tally (*volatile native_tally)(const uint8_t *, size_t) = bench_tally_of;

#define FIGURE(name, ...)  /* the body may hold commas */              \
    do {                                                                \
        static bench_samples s;                                         \
        for (uint32_t b = 0; b <= BENCH_SAMPLES && !failed; b++) {      \
            uint64_t t0 = bench_clock_ns();                             \
            for (uint32_t i = 0; i < BENCH_PER; i++) {                  \
                __VA_ARGS__;                                            \
            }                                                           \
            uint64_t t1 = bench_clock_ns();                             \
            if (b > 0) bench_add(&s, t1 - t0);                          \
        }                                                               \
        bench_print(name, BENCH_PER, &s);                               \
    } while (0)

static void run_all(void *unused_a, void *unused_b) {
    (void)unused_a;
    (void)unused_b;
    const size_t n = sizeof TEXT - 1;
    uint8_t *memory = prog_memory(&inst)->base;
    int32_t buffer = prog_core_buffer(&inst);

    FIGURE("clock", (void)0);
    FIGURE("native.count", {
        bench_tally t = native_tally((const uint8_t *)TEXT, n);
        check("native.count", t.bytes, t.digits, t.checksum);
    });
    FIGURE("core.count", {
        memcpy(memory + (uint32_t)buffer, TEXT, n);
        const uint8_t *r = memory + (uint32_t)prog_core_tally(&inst, (int32_t)n);
        uint32_t f[3];
        memcpy(f, r, sizeof f);
        check("core.count", f[0], f[1], f[2]);
    });
    FIGURE("canon.count", {
        prog_string_t text = {(const uint8_t *)TEXT, n};
        bench_components_api_tally_t t;
        exports_bench_components_api_count(&ctx, &text, &t);
        check("canon.count", t.bytes, t.digits, t.checksum);
    });
}

int main(void) {
    prog__imports imports = {0};
    want = bench_tally_of((const uint8_t *)TEXT, sizeof TEXT - 1);
    prog_ctx_init(&ctx, scratch, sizeof scratch, NULL, 0, NULL);
    if (prog__instantiate(&inst, &imports) != WAFT_TRAP_NONE || prog_component_start(&ctx, &inst) != WAFT_TRAP_NONE) {
        printf("problem instantiating the component's module trapped\n");
        return 1;
    }
    waft_trap_code trap = waft_call_guarded(run_all, NULL, NULL);
    if (trap != WAFT_TRAP_NONE) {
        printf("problem a call trapped: %s\n", waft_strerror(trap));
        return 1;
    }
    if (failed) return 1;
    printf("done\n");
    return 0;
}
