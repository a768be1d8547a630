/*
 * driver_wasm2c.c: main() of the `calls` group's wasm2c peer: calls.wat translated by wasm2c 1.0.32
 * (w2c_prog.c, explicit bounds checks; bench/variants.py's one wasm2c build) and timed as driver.c
 * times Waft's build of it (figure.h):
 *   wasm2c.export0/4/16   C -> Wasm export: Z_progZ_f0/4/16 in a C loop
 *   wasm2c.import0/4/16   Wasm -> C import: Z_progZ_loop0/4/16 (a Wasm loop of bench.f* calls, which
 *                         callee_wasm2c.c answers)
 * each batch's sum of results checked, then "done".  A wrong sum prints "problem ..." and exits 1.
 */
#include <stdint.h>
#include <stdio.h>

#include "calls.h"
#include "figure.h"
#include "w2c_prog.h"

struct Z_bench_instance_t {
    int unused;
};

static Z_prog_instance_t inst;
static struct Z_bench_instance_t imports;

int main(void) {
    wasm_rt_init();
    Z_prog_init_module();
    Z_prog_instantiate(&inst, &imports);
    const uint32_t per = BENCH_PER;
    FIGURE("clock", 0u, (void)0); /* the two clock reads around a batch, taken off every sample */
    FIGURE("wasm2c.export0", 7u * per, for (uint32_t i = 0; i < per; i++) sum += Z_progZ_f0(&inst));
    FIGURE("wasm2c.export4", sum_index(per) + 6u * per,
           for (uint32_t i = 0; i < per; i++) sum += Z_progZ_f4(&inst, i, 1, 2, 3));
    FIGURE("wasm2c.export16", sum_index(per) + 120u * per,
           for (uint32_t i = 0; i < per; i++)
               sum += Z_progZ_f16(&inst, i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    FIGURE("wasm2c.import0", 7u * per, sum = Z_progZ_loop0(&inst, per));
    FIGURE("wasm2c.import4", sum_index(per) + 6u * per, sum = Z_progZ_loop4(&inst, per));
    FIGURE("wasm2c.import16", sum_index(per) + 120u * per, sum = Z_progZ_loop16(&inst, per));
    if (failed) return 1;
    printf("done\n");
    return 0;
}
