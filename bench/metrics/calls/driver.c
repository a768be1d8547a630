/*
 * driver.c: main() of the `calls` metric group's one program, which holds
 * both sides: native C calls (callee.c) and calls.wat compiled by Waft
 * (prog.o, embedded directly: no WASI, just the module ABI of docs/abi.md).
 *
 * For each figure it times BENCH_SAMPLES batches of BENCH_PER calls (one
 * warm-up batch first, not kept) with instrument.h's clock and checks each
 * batch's sum of results against its own arithmetic:
 *   export0/4/16   C -> Wasm export: prog_f0/4/16 in a C loop; native: nat_f0/4/16
 *   import0/4/16   Wasm -> C import: prog_loop0/4/16 (a Wasm loop of bench.f*
 *                  calls); native: nat_loop0/4/16 (a C loop of imp_f* calls)
 * and prints "sample <side>.<figure> <per> <ns>..." (side: native, waft),
 * then "done".  "clock" times an empty batch: the clock reads around a batch,
 * which the parser takes off every sample.  A wrong sum prints "problem ..." and exits 1.
 */
#include <stdint.h>
#include <stdio.h>

#include "calls.h"
#include "figure.h"
#include "prog.h"

static prog__instance inst;

int main(void) {
    prog__imports imports = {0};
    if (prog__instantiate(&inst, &imports) != WAFT_TRAP_NONE) {
        printf("problem instantiating calls.wasm trapped\n");
        return 1;
    }
    const uint32_t per = BENCH_PER;
    FIGURE("clock", 0u, (void)0); /* the two clock reads around a batch, taken off every sample */
    FIGURE("native.export0", 7u * per, for (uint32_t i = 0; i < per; i++) sum += (uint32_t)nat_f0());
    FIGURE("waft.export0", 7u * per, for (uint32_t i = 0; i < per; i++) sum += (uint32_t)prog_f0(&inst));
    FIGURE("native.export4", sum_index(per) + 6u * per,
           for (uint32_t i = 0; i < per; i++) sum += (uint32_t)nat_f4((int32_t)i, 1, 2, 3));
    FIGURE("waft.export4", sum_index(per) + 6u * per,
           for (uint32_t i = 0; i < per; i++) sum += (uint32_t)prog_f4(&inst, (int32_t)i, 1, 2, 3));
    FIGURE("native.export16", sum_index(per) + 120u * per,
           for (uint32_t i = 0; i < per; i++)
               sum += (uint32_t)nat_f16((int32_t)i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    FIGURE("waft.export16", sum_index(per) + 120u * per,
           for (uint32_t i = 0; i < per; i++)
               sum += (uint32_t)prog_f16(&inst, (int32_t)i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    FIGURE("native.import0", 7u * per, sum = (uint32_t)nat_loop0(per));
    FIGURE("waft.import0", 7u * per, sum = (uint32_t)prog_loop0(&inst, (int32_t)per));
    FIGURE("native.import4", sum_index(per) + 6u * per, sum = (uint32_t)nat_loop4(per));
    FIGURE("waft.import4", sum_index(per) + 6u * per, sum = (uint32_t)prog_loop4(&inst, (int32_t)per));
    FIGURE("native.import16", sum_index(per) + 120u * per, sum = (uint32_t)nat_loop16(per));
    FIGURE("waft.import16", sum_index(per) + 120u * per, sum = (uint32_t)prog_loop16(&inst, (int32_t)per));
    if (failed) return 1;
    printf("done\n");
    return 0;
}
