/*
 * instantiate_wasm2c.c: the wasm2c peer of instantiate.c (the `startup` metric group): times
 * Z_prog_instantiate of the module translated by wasm2c (allocate and zero its linear memory, apply
 * the data segments, set globals), BENCH_SAMPLES times after one warm-up, and checks each time that
 * the data segment's marker is in memory.  Z_prog_free (untimed) releases the memory between runs:
 * wasm2c allocates an instance's memory, where Waft's instance holds it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "instrument.h"
#include "w2c_wasi.h"

#ifndef BENCH_SAMPLES
#define BENCH_SAMPLES 20u
#endif
#ifndef BENCH_MARKER
#define BENCH_MARKER "waft-startup-marker"
#endif

static Z_prog_instance_t inst;
static struct Z_wasi_snapshot_preview1_instance_t wasi;

static int has_marker(void) {
    const wasm_rt_memory_t *mem = Z_progZ_memory(&inst);
    static const char want[] = BENCH_MARKER;
    for (size_t i = 0; i + sizeof want - 1 <= mem->size; i++) {
        if (mem->data[i] == (uint8_t)want[0] && memcmp(mem->data + i, want, sizeof want - 1) == 0) return 1;
    }
    return 0;
}

int main(void) {
    static bench_samples s, clock;
    wasm_rt_init();
    Z_prog_init_module();
    for (uint32_t b = 0; b <= BENCH_SAMPLES; b++) {
        uint64_t t0 = bench_clock_ns();
        Z_prog_instantiate(&inst, &wasi);
        uint64_t t1 = bench_clock_ns();
        uint64_t t2 = bench_clock_ns();
        if (!has_marker()) {
            printf("problem the data segment's marker is not in wasm2c's linear memory after instantiating\n");
            return 1;
        }
        Z_prog_free(&inst);
        if (b > 0) {
            bench_add(&s, t1 - t0);
            bench_add(&clock, t2 - t1);
        }
    }
    bench_print("clock", 1, &clock);
    bench_print("instantiate", 1, &s);
    printf("done\n");
    return 0;
}
