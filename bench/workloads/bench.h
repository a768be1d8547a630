/* The contract every workload keeps, so one harness can drive it in every variant.
 *
 * A workload is one C file with no libc beyond <stdint.h>/<stddef.h>: it
 * builds unchanged as native code and as a reactor-style Wasm module (no WASI,
 * one 64 KiB page) exporting exactly these two functions:
 *   bench_run(n)    does n iterations of the work and returns a checksum that
 *                   depends on every iteration (so no compiler can drop one);
 *   bench_verify()  checks the kernel against known answers; 1 means correct.
 * Iterations feed each other (the checksum of one perturbs the input of the
 * next), so the work cannot be hoisted out of the loop.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

uint32_t bench_run(uint32_t iterations);
uint32_t bench_verify(void);

/* Numerical Recipes' LCG: cheap, deterministic test data on every variant. */
static inline uint32_t bench_rand(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

static inline float bench_fabsf(float x) { return x < 0.0f ? -x : x; }

#endif
