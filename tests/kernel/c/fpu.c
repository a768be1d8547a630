/*
 * fpu.c: floating-point registers survive context switches (cores with an
 * FPU: M4F, M7, M33), and a thread that never touches the FPU gets no FP
 * context (lazy stacking).
 *
 * Two threads of one priority each load all of s0-s31 and FPSCR with their
 * own pattern, spin, then store them back, in one asm block: nothing but the
 * kernel can change the registers in between.  The tick hands the core from
 * one to the other in the middle of those spins (round robin), and a
 * higher-priority thread that loads a third pattern wakes every millisecond
 * and preempts them.  An integer-only thread spins beside them and checks
 * that CONTROL.FPCA stays clear while it runs: it never had FP context to
 * save or restore.  Prints "figure <name> N" counts.
 */
#include <stdint.h>

#include "ktest.h"

#if !defined(__ARM_FP)
#error "fpu.c is for cores with an FPU"
#endif

#define MS 1000000ull
#define ITERATIONS 60
#define SPIN 100000u /* two instructions each: 0.2 ms of instructions */
#define FPSCR_MASK 0x00C00000u /* the rounding mode bits, which no arithmetic here changes */

typedef struct fp_worker {
    uint32_t pattern[32];
    uint32_t fpscr;
    uint32_t seen[32];
    uint32_t seen_fpscr;
    uint32_t errors;
    uint32_t iterations;
} fp_worker;

static fp_worker workers[3];
static volatile int stop;
static volatile uint32_t high_wakes, int_fpca_seen, int_loops, fp_done;

/* Load the pattern into s0-s31 and FPSCR, spin `spin` times, store them back. */
static void hold_registers(fp_worker *w, uint32_t spin) {
    __asm__ volatile(
        "vldmia %[pattern], {s0-s31}\n\t"
        "vmsr fpscr, %[fpscr]\n\t"
        "1:\n\t"
        "subs %[spin], %[spin], #1\n\t"
        "bne 1b\n\t"
        "vstmia %[seen], {s0-s31}\n\t"
        "vmrs %[fpscr], fpscr\n\t"
        : [spin] "+r"(spin), [fpscr] "+r"(w->fpscr)
        : [pattern] "r"(w->pattern), [seen] "r"(w->seen)
        : "cc", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
          "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28",
          "s29", "s30", "s31");
}

static void check_worker(fp_worker *w, uint32_t expected_fpscr) {
    for (int i = 0; i < 32; i++) w->errors += w->seen[i] != w->pattern[i];
    w->errors += (w->fpscr & FPSCR_MASK) != expected_fpscr;
    w->fpscr = expected_fpscr;
}

static uint32_t fp_thread(void *arg) {
    fp_worker *w = arg;
    uint32_t fpscr = w->fpscr;
    for (w->iterations = 0; w->iterations < ITERATIONS; w->iterations++) {
        hold_registers(w, SPIN);
        check_worker(w, fpscr);
    }
    /* The last one stops the others (main, below them, cannot run before). */
    waft_os_irq_state s = waft_os_critical_enter();
    if (++fp_done == 2) stop = 1;
    waft_os_critical_exit(s);
    return 0;
}

static uint32_t fp_high(void *arg) {
    fp_worker *w = arg;
    uint32_t fpscr = w->fpscr;
    uint64_t next = waft_os_now_ns();
    while (!stop) {
        next += MS;
        waft_os_sleep_until(next);
        hold_registers(w, 10);
        check_worker(w, fpscr);
        high_wakes++;
    }
    return 0;
}

static uint32_t int_thread(void *arg) {
    (void)arg;
    while (!stop) {
        uint32_t control;
        __asm__ volatile("mrs %0, control" : "=r"(control));
        int_fpca_seen |= control & 4u; /* FPCA: this thread has FP context */
        int_loops++;
    }
    return 0;
}

int main(void) {
    CHECK(waft_os_init(2) == WAFT_OS_OK);
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < 32; i++) workers[t].pattern[i] = 0x3F800000u + (uint32_t)(t * 1000 + i * 7 + 1);
        workers[t].fpscr = (uint32_t)(t + 1) << 22 & FPSCR_MASK; /* round toward +inf, -inf, zero */
    }
    waft_os_thread *a, *b, *c, *h;
    waft_os_thread_attr same = {.priority = 4}, high = {.priority = 6};
    waft_os_irq_state s = waft_os_critical_enter(); /* all ready before any runs */
    CHECK(waft_os_thread_create(&a, &same, fp_thread, &workers[0]) == WAFT_OS_OK);
    CHECK(waft_os_thread_create(&b, &same, fp_thread, &workers[1]) == WAFT_OS_OK);
    CHECK(waft_os_thread_create(&c, &same, int_thread, NULL) == WAFT_OS_OK);
    CHECK(waft_os_thread_create(&h, &high, fp_high, &workers[2]) == WAFT_OS_OK);
    waft_os_critical_exit(s);
    CHECK(waft_os_join(a, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(b, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(c, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(h, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    for (int t = 0; t < 3; t++) CHECK(workers[t].errors == 0);
    CHECK(workers[0].iterations == ITERATIONS && workers[1].iterations == ITERATIONS);
    CHECK(high_wakes >= 10); /* it preempted the spinning threads many times */
    CHECK(int_loops > 0);
    CHECK(int_fpca_seen == 0);
    printf("figure register_errors %lu\n",
           (unsigned long)(workers[0].errors + workers[1].errors + workers[2].errors));
    printf("figure high_wakes %lu\n", (unsigned long)high_wakes);
    trace("fp registers preserved", workers[0].errors + workers[1].errors + workers[2].errors == 0);
    trace("integer thread without fp context", int_fpca_seen == 0);
    return finish();
}
