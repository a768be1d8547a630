/*
 * native.c: the thread figures of issue 14 for native C on the OS port API
 * (kernel.h): the built-in kernel on Cortex-M, POSIX threads (host_posix.c)
 * on the host.  bench/metrics/threads/threads.wat measures the same figures,
 * in the same order and with the same thread structure, from Wasm threads on
 * the same scheduler; bench/metrics/threads.py builds and runs both and
 * writes the side-by-side report.  bench/kernel_switch.py runs this file too
 * (its older, native-only report).
 *
 * Time is the kernel's clock, waft_os_now_ns: under QEMU's -icount shift=0
 * one instruction is one nanosecond of it (calibrated below), on a board it
 * counts core cycles through SysTick, on the host it is CLOCK_MONOTONIC.
 * The Wasm side reads the same clock through WASI's clock_time_get, so both
 * sides are timed by one clock.
 *
 * Figures ("figure <name> <value x 100>", a mean per operation with the
 * loop's own cost, measured with the operation left out, subtracted):
 *   calibration        ns per instruction of an asm loop of known length
 *                      (Cortex-M; 1.0 expected under -icount)
 *   clock_read         one clock read
 *   yield_alone        waft_os_yield with no other ready thread: no switch
 *   yield_switch       two threads of one priority yield to each other: one
 *                      thread's yield to the other thread's return from its
 *                      own, a whole switch through the API (scheduler + PendSV)
 *   notify_round_trip  two threads ping-pong with wait32/notify: two
 *                      switches, two notifies, two waits per round
 *   spawn_join         create a thread of higher priority that returns at
 *                      once, and join it
 *   isr_wake           (Cortex-M) from pending an interrupt in a low-priority
 *                      thread to the woken high-priority thread running
 *   fp_yield_switch    (FPU cores) yield_switch between threads with FP context
 * Distributions ("dist <name> <min> <max> <sum> <count>", raw clock ns; the
 * report takes one clock read off wake-up latencies):
 *   notify_wake        a low-priority thread notifies, the high-priority
 *                      waiter runs: from the clock read before the notify to
 *                      the waiter's clock read
 *   release_latency    a 1 kHz periodic thread of high priority, with a
 *                      saturating low-priority thread: from each release
 *                      (the grid point, a whole millisecond) to its clock read
 *   period             the time between consecutive releases' clock reads
 *                      (only releases that missed none): max - min is the jitter
 * Facts ("info <name> <value>"): core_hz, switches (yields that did switch,
 * of 2N), missed (releases the periodic thread missed), load (iterations of
 * the load thread: it did run).  Then "done".
 *
 * BENCH_N (repetitions) and BENCH_PERIODS (releases of the 1 kHz loop) are
 * -D options.
 */
#include <stdint.h>
#include <stdio.h>

#include "kernel.h"

#ifndef BENCH_N
#define BENCH_N 20000u
#endif
#ifndef BENCH_PERIODS
#define BENCH_PERIODS 1000u
#endif
#define N ((uint32_t)BENCH_N)
#define PERIOD_NS 1000000u

/* The priorities, as the Wasm side has them: main 1 (the firmware's main
 * thread), load 2, the measured threads above. */
#define PRIO_MAIN 1
#define PRIO_LOAD 2
#define PRIO_YIELD 5
#define PRIO_HIGH 6
#define PRIO_PERIODIC 10

#if defined(__arm__)
#define CORTEX_M 1
#include "port_baremetal.h" /* waft_board_core_hz */
#endif

static uint64_t now(void) { return waft_os_now_ns(); }

/* Join and drop the status (host_posix.c wants somewhere to store it). */
static void join(waft_os_thread *t) {
    uint32_t status;
    waft_os_join(t, WAFT_OS_FOREVER, &status);
}

/* printf's %llu is missing from newlib-nano: 64-bit numbers by hand. */
static const char *u64(uint64_t v, char buf[24]) {
    char *p = buf + 23;
    *p = 0;
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    return p;
}

static void figure(const char *name, uint64_t total_ns, uint64_t baseline_ns, uint32_t count) {
    char b[24];
    uint64_t net = total_ns > baseline_ns ? total_ns - baseline_ns : 0;
    printf("figure %s %s\n", name, u64(net * 100u / count, b));
}

static void info(const char *name, uint64_t value) {
    char b[24];
    printf("info %s %s\n", name, u64(value, b));
}

typedef struct dist {
    uint64_t min, max, sum;
    uint32_t count;
} dist;

static void dist_add(dist *d, uint64_t v) {
    if (d->count == 0 || v < d->min) d->min = v;
    if (v > d->max) d->max = v;
    d->sum += v;
    d->count++;
}

static void dist_print(const char *name, const dist *d) {
    char b1[24], b2[24], b3[24];
    printf("dist %s %s %s %s %lu\n", name, u64(d->min, b1), u64(d->max, b2), u64(d->sum, b3),
           (unsigned long)d->count);
}

/* --- calibration and the clock ---------------------------------------------------- */

static void calibrate(void) {
#if CORTEX_M
    uint32_t n = 1000000u;
    uint64_t s0 = now();
    __asm__ volatile(".syntax unified\n1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n)::"cc");
    uint64_t s1 = now();
    figure("calibration", s1 - s0, 0, 2000000u); /* two instructions per turn */
    info("core_hz", waft_board_core_hz());
#endif
    uint64_t t0 = now();
    for (int i = 0; i < 1000; i++) (void)now();
    figure("clock_read", now() - t0, 0, 1000u);
}

/* --- yield ---------------------------------------------------------------------------- */

/* The yielders start together at a gate, so neither runs its loop alone; each
 * notes who ran last, which counts the yields that really switched. */
static volatile uint32_t gate, owner, switches;

static void yield_loop(uint32_t me, int do_yield) {
    for (uint32_t i = 0; i < N; i++) {
        owner = me;
        if (do_yield) waft_os_yield();
        if (owner != me) switches++;
    }
}

static uint32_t yielder(void *arg) {
    while (gate == 0) waft_os_wait32(&gate, 0, WAFT_OS_FOREVER);
    yield_loop((uint32_t)(uintptr_t)arg, 1);
    return 0;
}

#if defined(__ARM_FP)
static uint32_t fp_yielder(void *arg) {
    __asm__ volatile("vmov s16, s17, %0, %0" ::"r"(1u) : "s16", "s17"); /* gives the thread FP context */
    return yielder(arg);
}
#endif

/* Two yielders at one priority above main, released together: 2N yields. */
static uint64_t two_yielders(uint32_t (*body)(void *)) {
    waft_os_thread *a, *b;
    waft_os_thread_attr attr = {.priority = PRIO_YIELD};
    gate = 0;
    switches = 0;
    if (waft_os_thread_create(&a, &attr, body, (void *)1) != WAFT_OS_OK ||
        waft_os_thread_create(&b, &attr, body, (void *)2) != WAFT_OS_OK) {
        printf("error create\n");
        return 0;
    }
    uint64_t t0 = now();
    gate = 1;
    waft_os_notify(&gate, 2); /* both run now, above main; main goes on when both have ended */
    uint64_t t1 = now();
    join(a);
    join(b);
    return t1 - t0;
}

static void bench_yield(void) {
    uint64_t t0 = now();
    yield_loop(1, 0);
    uint64_t loop = now() - t0;
    t0 = now();
    yield_loop(1, 1);
    figure("yield_alone", now() - t0, loop, N);
    figure("yield_switch", two_yielders(yielder), loop * 2u, 2u * N);
    info("switches", switches);
#if defined(__ARM_FP)
    figure("fp_yield_switch", two_yielders(fp_yielder), loop * 2u, 2u * N);
#endif
}

/* --- wait/notify ---------------------------------------------------------------------- */

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

static uint64_t empty_loop_ns(void) {
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) __asm__ volatile("" ::: "memory");
    return now() - t0;
}

static void bench_round_trip(void) {
    uint64_t loop = empty_loop_ns();
    waft_os_thread *t;
    waft_os_thread_attr attr = {.priority = PRIO_HIGH};
    ping = pong = 0;
    waft_os_thread_create(&t, &attr, ponger, NULL); /* runs at once and waits */
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) {
        ping = 1;
        waft_os_notify(&ping, 1); /* switches to the ponger, which notifies back and waits */
        while (pong == 0) waft_os_wait32(&pong, 0, WAFT_OS_FOREVER);
        pong = 0;
    }
    figure("notify_round_trip", now() - t0, loop, N);
    join(t);
}

/* The waiter, above main, measures from main's clock read before the notify. */
static volatile uint32_t wake;
static volatile uint64_t sent_at;
static dist wake_dist;

static uint32_t wake_waiter(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < N; i++) {
        while (wake == 0) waft_os_wait32(&wake, 0, WAFT_OS_FOREVER);
        dist_add(&wake_dist, now() - sent_at);
        wake = 0;
    }
    return 0;
}

static void bench_notify_wake(void) {
    waft_os_thread *t;
    waft_os_thread_attr attr = {.priority = PRIO_HIGH};
    wake = 0;
    waft_os_thread_create(&t, &attr, wake_waiter, NULL);
    for (uint32_t i = 0; i < N; i++) {
        sent_at = now();
        wake = 1;
        waft_os_notify(&wake, 1);
    }
    join(t);
    dist_print("notify_wake", &wake_dist);
}

/* --- spawn ------------------------------------------------------------------------------ */

static uint32_t returns(void *arg) { return (uint32_t)(uintptr_t)arg; }

static void bench_spawn(void) {
    uint64_t loop = empty_loop_ns();
    waft_os_thread_attr attr = {.priority = PRIO_HIGH};
    uint64_t t0 = now();
    for (uint32_t i = 0; i < N; i++) {
        waft_os_thread *t;
        waft_os_thread_create(&t, &attr, returns, NULL);
        join(t);
    }
    figure("spawn_join", now() - t0, loop, N);
}

/* --- interrupt -> thread (Cortex-M: the Wasm side has no interrupt to pend) ------------- */

#if CORTEX_M
#define TEST_IRQ 10u
static volatile uint32_t irq_word;
static volatile uint64_t pended_at;
static dist isr_dist;

static void isr(void) {
    irq_word = 1;
    waft_os_notify(&irq_word, 1);
}

static uint32_t irq_waiter(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < N; i++) {
        while (irq_word == 0) waft_os_wait32(&irq_word, 0, WAFT_OS_FOREVER);
        dist_add(&isr_dist, now() - pended_at);
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
    waft_os_thread_attr attr = {.priority = PRIO_HIGH};
    irq_word = 0;
    waft_os_thread_create(&t, &attr, irq_waiter, NULL);
    for (uint32_t i = 0; i < N; i++) {
        pended_at = now();
        NVIC_ISPR = 1u << TEST_IRQ;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
    }
    join(t);
    dist_print("isr_wake", &isr_dist);
}
#endif

/* --- the 1 kHz loop under load ------------------------------------------------------------ */

static volatile uint32_t stop_load, load_count, missed_total;
static dist release_dist, period_dist;

static uint32_t load(void *arg) {
    (void)arg;
    while (!stop_load) load_count++;
    return 0;
}

static uint32_t periodic(void *arg) {
    (void)arg;
    /* First release 0, in the past: the grid is the whole milliseconds of the clock. */
    waft_os_set_period(PERIOD_NS, 0);
    uint64_t prev = 0;
    for (uint32_t k = 0; k <= BENCH_PERIODS; k++) {
        uint32_t missed = 0;
        waft_os_wait_period(&missed);
        uint64_t t = now();
        if (k > 0) { /* the first release only starts the measurement */
            missed_total += missed;
            dist_add(&release_dist, t % PERIOD_NS);
            if (missed == 0) dist_add(&period_dist, t - prev);
        }
        prev = t;
    }
    stop_load = 1;
    return 0;
}

static void bench_periodic(void) {
    waft_os_thread *p, *l;
    waft_os_thread_attr high = {.priority = PRIO_PERIODIC}, low = {.priority = PRIO_LOAD};
    stop_load = 0;
    waft_os_thread_create(&p, &high, periodic, NULL); /* sets its period and waits */
    waft_os_thread_create(&l, &low, load, NULL);      /* spins above main until the loop is done */
    join(p);
    join(l);
    dist_print("release_latency", &release_dist);
    dist_print("period", &period_dist);
    info("missed", missed_total);
    info("load", load_count);
}

int main(void) {
    if (waft_os_init(PRIO_MAIN) != WAFT_OS_OK) return 1;
    calibrate();
    bench_yield();
    bench_round_trip();
    bench_notify_wake();
    bench_spawn();
#if CORTEX_M
    bench_isr();
#endif
    bench_periodic();
    printf("done\n");
    return 0;
}
