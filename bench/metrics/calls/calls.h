/* calls.h: the declarations driver.c and callee.c share (the `calls` metric group). */
#ifndef BENCH_CALLS_H
#define BENCH_CALLS_H
#include <stdint.h>

#define ARGS16(T) T a0, T a1, T a2, T a3, T a4, T a5, T a6, T a7, T a8, T a9, T a10, T a11, T a12, T a13, T a14, T a15
#define SUM16 (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) + (((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)))

/* What bench.f0 answers the Wasm module: 7.  -DBENCH_F0_RESULT=8 builds the
 * broken variant tests/bench uses to see the self-check fail. */
#ifndef BENCH_F0_RESULT
#define BENCH_F0_RESULT 7
#endif

int32_t nat_f0(void);
int32_t nat_f4(int32_t a, int32_t b, int32_t c, int32_t d);
int32_t nat_f16(ARGS16(int32_t));
int32_t nat_loop0(uint32_t n);
int32_t nat_loop4(uint32_t n);
int32_t nat_loop16(uint32_t n);
#endif
