/*
 * instantiate.c: times Waft's instantiation of a module (the `startup`
 * metric group): prog__instantiate on one static instance, BENCH_SAMPLES
 * times after one warm-up, each timed by instrument.h's clock.  Each time it
 * checks that the module's data segment (small.c's and large.c's marker) is
 * in linear memory, so an instantiation that did not apply it is an error.
 * The module's WASI imports are linked (the runtime library) but never
 * called: a command module has no start function, so instantiating runs
 * none of its code.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "instrument.h"
#include "prog.h"

#ifndef BENCH_SAMPLES
#define BENCH_SAMPLES 20u
#endif
#ifndef BENCH_MARKER
#define BENCH_MARKER "waft-startup-marker"
#endif

static prog__instance inst;

static int has_marker(void) {
    const waft_memory *mem = prog_memory(&inst);
    static const char want[] = BENCH_MARKER;
    for (size_t i = 0; i + sizeof want - 1 <= mem->size; i++) {
        if (mem->base[i] == (uint8_t)want[0] && memcmp(mem->base + i, want, sizeof want - 1) == 0) return 1;
    }
    return 0;
}

int main(void) {
    static bench_samples s, clock;
    for (uint32_t b = 0; b <= BENCH_SAMPLES; b++) {
        prog__imports imports;
        memset(&imports, 0, sizeof imports);
        uint64_t t0 = bench_clock_ns();
        waft_trap_code code = prog__instantiate(&inst, &imports);
        uint64_t t1 = bench_clock_ns();
        uint64_t t2 = bench_clock_ns();
        if (code != WAFT_TRAP_NONE) {
            printf("problem instantiating trapped: %s\n", waft_strerror(code));
            return 1;
        }
        if (!has_marker()) {
            printf("problem the data segment's marker is not in linear memory after instantiating\n");
            return 1;
        }
        if (b > 0) {
            bench_add(&s, t1 - t0);
            bench_add(&clock, t2 - t1);
        }
    }
    bench_print("clock", 1, &clock);
    bench_print("instantiate", 1, &s);
    printf("info instance_bytes %lu\n", (unsigned long)sizeof inst);
    printf("done\n");
    return 0;
}
