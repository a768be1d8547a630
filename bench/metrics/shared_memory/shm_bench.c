/* bench/metrics/shared_memory.py's firmware: native C and Waft read the same BENCH_WORDS words.
 *
 * Rows (each the instructions of one call, net of the instrument's own cost,
 * printed "row NAME NATIVE WAFT"):
 *   copy      copy the region into private memory, then sum it (native: memcpy;
 *             Waft: the regions `read` import into linear memory)
 *   zero      sum the region where it is (Waft: through a region:buf local)
 *   const     the same with the window's address folded into the loads (Waft)
 *   pointer   the same through a pointer argument the compiler cannot attribute (Waft)
 *   linear    sum the module's own linear memory, in the granted module
 *   nogrant   the same loop in a module granted nothing: linear memory's usual check
 * Two programs (BENCH_NOGRANT: the last row only), since two modules of one
 * 64 KiB page each do not fit a 128 KiB board beside the region.
 * Time: SysTick's current value (QEMU -icount shift=0: ticks follow executed
 * instructions), converted by a ratio measured on a loop of known length. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef BENCH_NOGRANT
#include "lin.h"
#else
#include "shm.h"
#include "bench_shm.h"
#endif
#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#ifdef BENCH_NOGRANT
static lin__instance lin_inst;
#else
static shm__instance shm_inst;
#endif
static uint32_t private_copy[BENCH_WORDS];
static volatile uint32_t sink;

static inline uint32_t now(void) { return SYST_CVR; }
static inline uint32_t since(uint32_t t0) { return (t0 - SYST_CVR) & 0xFFFFFFu; }

static __attribute__((noipa)) uint32_t native_sum(const uint32_t *p, uint32_t n) {
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++) s += p[i];
    return s;
}

static __attribute__((noinline)) void calibrate_loop(void) {
    /* 2 instructions an iteration (subs, bne) and 2 around it: 2 * 10000 + 2 */
    __asm__ volatile("movw r0, #10000\n1:\n subs r0, #1\n bne 1b\n" ::: "r0", "cc");
}

static uint32_t empty_cost;
#define MEASURE(out, expr) do { uint32_t t_ = now(); sink = (expr); out = since(t_); } while (0)

static void row(const char *name, uint32_t native_ticks, uint32_t waft_ticks, uint32_t scale_num, uint32_t scale_den) {
    /* instructions = ticks * den / num; -1: no native figure */
    long n = native_ticks == 0xFFFFFFFFu ? -1 : (long)((uint64_t)(native_ticks - empty_cost) * scale_den / scale_num);
    long w = (long)((uint64_t)(waft_ticks - empty_cost) * scale_den / scale_num);
    printf("row %s %ld %ld\n", name, n, w);
}

int main(void) {
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* processor clock, enabled, no interrupt */
    static uint32_t words[BENCH_WORDS];
    for (uint32_t i = 0; i < BENCH_WORDS; i++) words[i] = i * 2654435761u;
    uint32_t want = native_sum(words, BENCH_WORDS);

    uint32_t t = now();
    empty_cost = since(t);
    t = now();
    calibrate_loop();
    uint32_t num = since(t) - empty_cost, den = 2u * 10000u + 3u; /* ticks per instruction = num / den */

#ifdef BENCH_NOGRANT
    lin__imports li = {0};
    if (lin__instantiate(&lin_inst, &li) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    memcpy(lin_memory(&lin_inst)->base + 1024, words, BENCH_WORDS * 4);
    uint32_t n_lin, w_nogrant;
    MEASURE(n_lin, native_sum(words, BENCH_WORDS));
    MEASURE(w_nogrant, lin_linear_sum(&lin_inst, BENCH_WORDS));
    if ((uint32_t)lin_linear_sum(&lin_inst, BENCH_WORDS) != want) {
        puts("a variant summed other words");
        return 1;
    }
    row("nogrant", n_lin, w_nogrant, num, den);
#else
    shm__imports si = {0};
    si._wasi_x2dext_x3ashared_x2dmemory_x2fregions_x400_x2e1_x2e0 = &shm__shm;
    if (shm__instantiate(&shm_inst, &si) != WAFT_TRAP_NONE) {
        puts("instantiation trapped");
        return 2;
    }
    shm__shm.memory = shm_memory(&shm_inst);
    uint32_t *region = (uint32_t *)waft_shm_region_buf;
    memcpy(region, words, BENCH_WORDS * 4);
    memcpy(shm_memory(&shm_inst)->base + 1024, words, BENCH_WORDS * 4);

    uint32_t n_copy, w_copy, n_zero, w_zero, w_const, w_ptr, n_lin, w_lin;
    MEASURE(n_copy, (memcpy(private_copy, region, BENCH_WORDS * 4), native_sum(private_copy, BENCH_WORDS)));
    MEASURE(w_copy, shm_copy_sum(&shm_inst, BENCH_WORDS));
    MEASURE(n_zero, native_sum(region, BENCH_WORDS));
    MEASURE(w_zero, shm_region_sum(&shm_inst, BENCH_WORDS));
    MEASURE(w_const, shm_region_sum_const(&shm_inst, BENCH_WORDS));
    MEASURE(w_ptr, shm_pointer_sum(&shm_inst, SHM_WINDOW_BUF, BENCH_WORDS));
    MEASURE(n_lin, native_sum(private_copy, BENCH_WORDS));
    MEASURE(w_lin, shm_linear_sum(&shm_inst, BENCH_WORDS));
    /* every variant must have summed the same words */
    if ((uint32_t)shm_copy_sum(&shm_inst, BENCH_WORDS) != want || (uint32_t)shm_region_sum(&shm_inst, BENCH_WORDS) != want ||
        (uint32_t)shm_region_sum_const(&shm_inst, BENCH_WORDS) != want ||
        (uint32_t)shm_pointer_sum(&shm_inst, SHM_WINDOW_BUF, BENCH_WORDS) != want ||
        (uint32_t)shm_linear_sum(&shm_inst, BENCH_WORDS) != want) {
        puts("a variant summed other words");
        return 1;
    }
    row("copy", n_copy, w_copy, num, den);
    row("zero", n_zero, w_zero, num, den);
    row("const", n_zero, w_const, num, den);
    row("pointer", n_zero, w_ptr, num, den);
    row("linear", n_lin, w_lin, num, den);
#endif
    puts("done");
    return 0;
}
