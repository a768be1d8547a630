/*
 * callee.c: the far side of every call the `calls` metric group times, in a
 * translation unit of its own so that the compiler cannot inline a call it
 * is asked to make (no LTO in these builds).
 *
 *   nat_f0/4/16        native C functions, the bodies of calls.wat's exports f0/4/16
 *   nat_loop0/4/16     the native twin of calls.wat's loop0/4/16: n calls of
 *                      imp_f0/4/16 with the loop index in the arguments
 *   imp_f0/4/16        what those loops call: the import bodies, native signature
 *   bench__f0/4/16     the same bodies as the Wasm module's imports "bench"
 *                      (Waft's import ABI: a leading ctx pointer)
 */
#include <stdint.h>

#include "calls.h"

int32_t nat_f0(void) { return 7; }
int32_t nat_f4(int32_t a, int32_t b, int32_t c, int32_t d) { return (a + b) + (c + d); }
int32_t nat_f16(ARGS16(int32_t)) { return SUM16; }

/* noipa: the loops below are in this file, and a call the compiler may inline or fold is no call. */
__attribute__((noipa)) int32_t imp_f0(void) { return 7; }
__attribute__((noipa)) int32_t imp_f4(int32_t a, int32_t b, int32_t c, int32_t d) { return (a + b) + (c + d); }
__attribute__((noipa)) int32_t imp_f16(ARGS16(int32_t)) { return SUM16; }

int32_t bench__f0(void *ctx) { (void)ctx; return BENCH_F0_RESULT; }
int32_t bench__f4(void *ctx, int32_t a, int32_t b, int32_t c, int32_t d) { (void)ctx; return (a + b) + (c + d); }
int32_t bench__f16(void *ctx, ARGS16(int32_t)) { (void)ctx; return SUM16; }

int32_t nat_loop0(uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += (uint32_t)imp_f0();
    return (int32_t)sum;
}

int32_t nat_loop4(uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += (uint32_t)imp_f4((int32_t)i, 1, 2, 3);
    return (int32_t)sum;
}

int32_t nat_loop16(uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += (uint32_t)imp_f16((int32_t)i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return (int32_t)sum;
}
