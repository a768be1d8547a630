/*
 * instrument.h: the clock and the sample log the calls, wasi and startup
 * metric groups share (bench/metrics/<group>.py parses what it prints).
 *
 * One header, compiled into native C programs (host: CLOCK_MONOTONIC; a
 * board: the WASI port's SysTick clock, targets/common/cortex-m/systick.c,
 * which under QEMU -icount shift=0 advances one nanosecond per executed
 * instruction) and into Wasm (wasi-libc: WASI clock_time_get, which is that
 * same clock behind the runtime).  So both sides of a figure read one clock
 * the same way.
 *
 * A sample is the clock's nanoseconds for one batch of `per` operations;
 * bench_print prints them as lines
 *     sample <name> <per> <ns> <ns> ...
 * (at most 16 a line) and the parser divides by `per`.  A failed self-check
 * prints "problem <what>" and the program exits non-zero: a wrong result is
 * an error, never a number.
 */
#ifndef BENCH_INSTRUMENT_H
#define BENCH_INSTRUMENT_H

#include <stdint.h>
#include <stdio.h>

#if defined(__wasm__)
#include <wasi/api.h>
static inline uint64_t bench_clock_ns(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}
#elif defined(BENCH_BOARD)
void waft_clock_start(void);
uint64_t waft_clock_ns(void);
/* waft_clock_start returns at once after the first call (the WASI port calls it the same way). */
static inline uint64_t bench_clock_ns(void) {
    waft_clock_start();
    return waft_clock_ns();
}
#else
#include <time.h>
static inline uint64_t bench_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#ifndef BENCH_MAX_SAMPLES
#define BENCH_MAX_SAMPLES 256
#endif

typedef struct bench_samples {
    uint32_t n;
    uint32_t ns[BENCH_MAX_SAMPLES];
} bench_samples;

static inline void bench_add(bench_samples *s, uint64_t ns) {
    if (s->n < BENCH_MAX_SAMPLES) s->ns[s->n++] = ns > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ns;
}

static inline void bench_print(const char *name, uint32_t per, const bench_samples *s) {
    for (uint32_t i = 0; i < s->n; i += 16) {
        printf("sample %s %lu", name, (unsigned long)per);
        for (uint32_t j = i; j < s->n && j < i + 16; j++) printf(" %lu", (unsigned long)s->ns[j]);
        printf("\n");
    }
}

#endif
