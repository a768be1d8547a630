/* figure.h: how the `calls` group's drivers (driver.c: native and Waft; driver_wasm2c.c: the wasm2c peer)
 * time one figure: BENCH_SAMPLES batches of BENCH_PER calls after a warm-up batch, each batch's sum of
 * results checked against the driver's own arithmetic.  One header, so both programs time alike. */
#ifndef BENCH_CALLS_FIGURE_H
#define BENCH_CALLS_FIGURE_H
#include <stdint.h>
#include <stdio.h>

#include "instrument.h"

#ifndef BENCH_PER
#define BENCH_PER 100u
#endif
#ifndef BENCH_SAMPLES
#define BENCH_SAMPLES 100u
#endif
#if BENCH_SAMPLES > BENCH_MAX_SAMPLES
#error "BENCH_SAMPLES exceeds instrument.h's BENCH_MAX_SAMPLES"
#endif

static int failed;

static uint32_t sum_index(uint32_t per) { return per * (per - 1u) / 2u; }

static void check(const char *what, uint32_t got, uint32_t want) {
    if (got != want) {
        printf("problem %s returned a sum of %lu, expected %lu\n", what, (unsigned long)got, (unsigned long)want);
        failed = 1;
    }
}

/* One figure: a warm-up batch, then BENCH_SAMPLES timed batches of `body`. */
#define FIGURE(name, want, body)                                        \
    do {                                                                \
        static bench_samples s;                                         \
        for (uint32_t b = 0; b <= BENCH_SAMPLES && !failed; b++) {      \
            uint32_t sum = 0;                                           \
            uint64_t t0 = bench_clock_ns();                             \
            body;                                                       \
            uint64_t t1 = bench_clock_ns();                             \
            check(name, sum, (want));                                   \
            if (b > 0) bench_add(&s, t1 - t0);                          \
        }                                                               \
        bench_print(name, BENCH_PER, &s);                               \
    } while (0)

#endif
