/*
 * callee_wasm2c.c: calls.wat's imports bench.f0/4/16 for the wasm2c peer of the `calls` metric group,
 * with the bodies of callee.c's bench__f0/4/16, in wasm2c 1.0.32's import ABI (Z_benchZ_<name>, the
 * imports' instance pointer first, as Waft's ctx).  A file of its own, as callee.c is: no inlining.
 */
#include <stdint.h>

#include "calls.h"
#include "w2c_prog.h"

struct Z_bench_instance_t {
    int unused;
};

u32 Z_benchZ_f0(struct Z_bench_instance_t *ctx) { (void)ctx; return BENCH_F0_RESULT; }
u32 Z_benchZ_f4(struct Z_bench_instance_t *ctx, u32 a, u32 b, u32 c, u32 d) { (void)ctx; return (a + b) + (c + d); }
u32 Z_benchZ_f16(struct Z_bench_instance_t *ctx, ARGS16(u32)) { (void)ctx; return SUM16; }
