/*
 * kernel_switch.c: what the built-in kernel's operations cost, in executed
 * instructions, under QEMU's -icount shift=0 (one instruction is one
 * nanosecond of the clock, so the kernel's own clock counts instructions).
 * bench/kernel_switch.py builds and runs it and writes the report.
 *
 * Each figure is an average over N repetitions, with the loop's own cost
 * (measured with the operation left out) and one clock read subtracted:
 *   calibration        ns per instruction of an asm loop of known length (1.0 expected)
 *   yield_alone        waft_os_yield with no other ready thread: no switch
 *   yield_switch       one thread's yield to the other thread's return from
 *                      its own yield: a whole thread-to-thread switch through
 *                      the API (scheduler + PendSV)
 *   notify_round_trip  two threads ping-pong with wait32/notify: two
 *                      switches, two notifies, two waits per round
 *   isr_wake           from pending an interrupt in a low-priority thread to
 *                      a high-priority thread, woken by the interrupt's
 *                      notify, running: interrupt entry, handler, PendSV
 *   spawn_join         create a thread of higher priority that returns at
 *                      once, and join it
 *   fp_yield_switch    yield_switch between two threads that both have FP
 *                      context (cores with an FPU): s16-s31 saved and restored
 * Output: "figure <name> <value>" lines (value in instructions x 100, to keep
 * two decimals without printf's floats), then "done".
 */
#include <stdint.h>
#include <stdio.h>

#include "kernel.h"

#define N 20000u
#define TEST_IRQ 10u

static uint64_t now(void) { return waft_os_now_ns(); }

static uint64_t clock_cost; /* one waft_os_now_ns call, x100 */

static void report(const char *name, uint64_t total_ns, uint64_t baseline_ns, uint32_t count) {
    uint64_t net = total_ns > baseline_ns ? total_ns - baseline_ns : 0;
    printf("figure %s %lu\n", name, (unsigned long)(net * 100u / count));
}

/* --- calibration -------------------------------------------------------------------- */

static void spin(uint32_t n) {
    __asm__ volatile(".syntax unified\n1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n)::"cc");
}

static void calibrate(void) {
    uint64_t t0 = now();
    spin(1000000u);
    uint64_t t1 = now();
    printf("figure calibration %lu\n", (unsigned long)((t1 - t0) * 100u / 2000000u));
    t0 = now();
    for (int i = 0; i < 1000; i++) (void)now();
    t1 = now();
    clock_cost = (t1 - t0) * 100u / 1000u;
}

/* --- yield ---------------------------------------------------------------------------- */

static uint32_t yielder(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < N; i++) waft_os_yield();
    return 0;
}

static uint64_t empty_loop_ns(void) {
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) __asm__ volatile("" ::: "memory");
    return now() - t0;
}

static void bench_yield(void) {
    uint64_t loop = empty_loop_ns();
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) waft_os_yield();
    report("yield_alone", now() - t0, loop, N);

    /* Two threads above main, one priority: 2N yields, each a switch.  The
     * clock read after the critical section happens when both have finished
     * (main is below them); their two starts and ends are below 0.1% of it. */
    waft_os_thread *a, *b;
    waft_os_thread_attr attr = {.priority = 5};
    waft_os_irq_state s = waft_os_critical_enter();
    int rc = waft_os_thread_create(&a, &attr, yielder, NULL);
    rc |= waft_os_thread_create(&b, &attr, yielder, NULL);
    t0 = now();
    waft_os_critical_exit(s);
    uint64_t t1 = now();
    if (rc != WAFT_OS_OK) {
        printf("figure error_create 1\n");
        return;
    }
    waft_os_join(a, WAFT_OS_FOREVER, NULL);
    waft_os_join(b, WAFT_OS_FOREVER, NULL);
    report("yield_switch", t1 - t0, loop * 2u, 2u * N);
}

/* --- wait/notify ping-pong -------------------------------------------------------------- */

static volatile uint32_t ping, pong;

static uint32_t ponger(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < N; i++) {
        while (ping == 0) waft_os_wait32(&ping, 0, WAFT_OS_FOREVER);
        ping = 0;
        pong = 1;
        waft_os_notify(&pong, 1);
    }
    return 0;
}

static void bench_notify(void) {
    uint64_t loop = empty_loop_ns();
    waft_os_thread *t;
    waft_os_thread_attr attr = {.priority = 6};
    ping = pong = 0;
    waft_os_thread_create(&t, &attr, ponger, NULL); /* runs at once and waits */
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) {
        ping = 1;
        waft_os_notify(&ping, 1); /* switches to the ponger, which notifies back and waits */
        while (pong == 0) waft_os_wait32(&pong, 0, WAFT_OS_FOREVER);
        pong = 0;
    }
    report("notify_round_trip", now() - t0, loop, N);
    waft_os_join(t, WAFT_OS_FOREVER, NULL);
}

/* --- interrupt -> thread -------------------------------------------------------------------- */

static volatile uint32_t irq_word;
static volatile uint64_t woke_total, pended_at;

static void isr(void) {
    irq_word = 1;
    waft_os_notify(&irq_word, 1);
}

static uint32_t irq_waiter(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < N; i++) {
        while (irq_word == 0) waft_os_wait32(&irq_word, 0, WAFT_OS_FOREVER);
        woke_total += now() - pended_at;
        irq_word = 0;
    }
    return 0;
}

extern const void *const __isr_vector[];
static const void *ram_vectors[64] __attribute__((aligned(256)));
#define NVIC_ISER (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR (*(volatile uint32_t *)0xE000E200u)
#define NVIC_IPR(n) (*(volatile uint32_t *)(0xE000E400u + 4u * ((n) / 4u)))
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

static void bench_isr(void) {
    for (int i = 0; i < 16; i++) ram_vectors[i] = __isr_vector[i];
    ram_vectors[16 + TEST_IRQ] = (const void *)isr;
    SCB_VTOR = (uint32_t)(uintptr_t)ram_vectors;
    uint32_t shift = 8u * (TEST_IRQ % 4u);
    NVIC_IPR(TEST_IRQ) = (NVIC_IPR(TEST_IRQ) & ~(0xFFu << shift)) | (0x80u << shift);
    NVIC_ISER = 1u << TEST_IRQ;
    waft_os_thread *t;
    waft_os_thread_attr attr = {.priority = 6};
    irq_word = 0;
    waft_os_thread_create(&t, &attr, irq_waiter, NULL);
    for (uint32_t i = 0; i < N; i++) {
        pended_at = now();
        NVIC_ISPR = 1u << TEST_IRQ;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
    }
    waft_os_join(t, WAFT_OS_FOREVER, NULL);
    /* From the clock read before the pend to the one after waking: one clock read too many. */
    report("isr_wake", woke_total * 100u, clock_cost * N, 100u * N);
}

/* --- spawn ------------------------------------------------------------------------------------ */

static uint32_t returns(void *arg) { return (uint32_t)(uintptr_t)arg; }

static void bench_spawn(void) {
    uint64_t loop = empty_loop_ns();
    waft_os_thread_attr attr = {.priority = 6};
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) {
        waft_os_thread *t;
        waft_os_thread_create(&t, &attr, returns, NULL);
        waft_os_join(t, WAFT_OS_FOREVER, NULL);
    }
    report("spawn_join", now() - t0, loop, N);
}

/* --- FP threads ---------------------------------------------------------------------------------- */

#if defined(__ARM_FP)
static uint32_t fp_yielder(void *arg) {
    (void)arg;
    __asm__ volatile("vmov s16, s17, %0, %0" ::"r"(1u) : "s16", "s17"); /* gives the thread FP context */
    for (uint32_t i = 0; i < N; i++) waft_os_yield();
    return 0;
}

static void bench_fp_yield(void) {
    uint64_t loop = empty_loop_ns();
    waft_os_thread *a, *b;
    waft_os_thread_attr attr = {.priority = 5};
    waft_os_irq_state s = waft_os_critical_enter();
    waft_os_thread_create(&a, &attr, fp_yielder, NULL);
    waft_os_thread_create(&b, &attr, fp_yielder, NULL);
    uint64_t t0 = now();
    waft_os_critical_exit(s);
    uint64_t t1 = now();
    waft_os_join(a, WAFT_OS_FOREVER, NULL);
    waft_os_join(b, WAFT_OS_FOREVER, NULL);
    report("fp_yield_switch", t1 - t0, loop * 2u, 2u * N);
}
#endif

int main(void) {
    if (waft_os_init(2) != WAFT_OS_OK) return 1;
    calibrate();
    bench_yield();
    bench_notify();
    bench_isr();
    bench_spawn();
#if defined(__ARM_FP)
    bench_fp_yield();
#endif
    printf("done\n");
    return 0;
}
