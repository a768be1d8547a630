/* The benchmark harness: times one workload module in one variant and prints what it measured.
 *
 * The variant (native C, Waft, wasm2c) is hidden behind the macros of
 * "glue.h", which bench/run.py writes for each build: MOD_SETUP() (one-time
 * runtime set-up), MOD_INSTANTIATE(), MOD_RUN(n), MOD_VERIFY() and, for the
 * call-overhead module (HAVE_CALLS), MOD_EMPTY() and MOD_CALL_IMPORT(n).
 * Output is one "key value" line per figure, ending with "done"; run.py parses it.
 *
 * Time: on Cortex-M, the DWT cycle counter where the core has one that counts
 * (real Armv7-M/Armv8-M silicon: cycles, read on the board, e.g. run through
 * pyOCD), else SysTick ticks counted through its overflow interrupt (QEMU has
 * no DWT; with -icount shift=0 the ticks follow executed instructions exactly,
 * run after run).  "clock_dwt 1" or "0" says which.  On the host,
 * CLOCK_MONOTONIC nanoseconds.
 * Stack: on Cortex-M the free stack is painted before bench_run and the
 * deepest overwritten word found afterwards (peak native stack of the run).
 */
#include <stdint.h>
#include <string.h>

#include "glue.h"

#ifndef BENCH_ITERATIONS
#error "BENCH_ITERATIONS must be defined (bench/run.py passes it)"
#endif
#ifndef BENCH_REPEATS
#define BENCH_REPEATS 1
#endif
#define CALL_COUNT 100000u

#if defined(__arm__)
#include "semihost.h"

static void out(const char *s) { semihost_write(s, strlen(s)); }

#define SYST_CSR (*(volatile uint32_t *) 0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *) 0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *) 0xE000E018u)
#define SCB_VTOR (*(volatile uint32_t *) 0xE000ED08u)
#define SYSTICK_PERIOD 0x1000000u /* 24-bit counter: reload 0xFFFFFF */

extern const void *const __isr_vector[];
extern uint32_t __StackLimit[];
static volatile uint32_t systick_overflows;
/* The board's vector table is in flash with SysTick pointing at the fault
 * handler: run from a RAM copy with our handler (VTOR wants 128-byte alignment). */
static const void *ram_vectors[16] __attribute__((aligned(128)));

static void systick_handler(void) { systick_overflows++; }

/* The DWT cycle counter (Armv7-M/Armv8-M Mainline; absent on Armv6-M and in QEMU). */
#define DEMCR (*(volatile uint32_t *) 0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL (*(volatile uint32_t *) 0xE0001000u)
#define DWT_CTRL_CYCCNTENA 1u
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_CYCCNT (*(volatile uint32_t *) 0xE0001004u)

static int use_dwt;

/* Start the cycle counter if the core has one, and keep it only if it really counts. */
static void dwt_init(void) {
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
    DEMCR |= DEMCR_TRCENA;
    if (DWT_CTRL & DWT_CTRL_NOCYCCNT) return;
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    for (volatile int i = 0; i < 4; i++) {}
    use_dwt = DWT_CYCCNT != 0;
#endif
}

static void timer_init(void) {
    dwt_init();
    for (int i = 0; i < 16; i++) ram_vectors[i] = __isr_vector[i];
    ram_vectors[15] = (const void *) systick_handler;
    SCB_VTOR = (uint32_t) (uintptr_t) ram_vectors;
    SYST_RVR = SYSTICK_PERIOD - 1;
    SYST_CVR = 0;
    SYST_CSR = 7; /* enable, interrupt on wrap, processor clock */
    /* Writing CVR clears it to 0; the first reload (to RVR) raises no interrupt. */
    while (SYST_CVR == 0) {}
}

static uint64_t now(void) {
    if (use_dwt) {
        /* 32-bit counter made 64-bit: correct while now() runs at least once per wrap
         * (2^32 cycles, 25 s at 168 MHz; every interval timed here is far shorter). */
        static uint32_t last, wraps;
        uint32_t cycles = DWT_CYCCNT;
        if (cycles < last) wraps++;
        last = cycles;
        return (uint64_t) wraps << 32 | cycles;
    }
    uint32_t hi, lo;
    do {
        hi = systick_overflows;
        lo = SYST_CVR;
    } while (hi != systick_overflows);
    return (uint64_t) hi * SYSTICK_PERIOD + (SYSTICK_PERIOD - 1 - lo);
}

#define STACK_PAINT 0x5AFE57ACu

/* Paint the free stack below this frame; returns the address the peak is measured from
 * (this frame's, i.e. about main's stack pointer, where the module's calls start). */
static __attribute__((noinline)) uintptr_t stack_paint(void) {
    volatile uint32_t here = 0;
    uintptr_t top = ((uintptr_t) &here - 16) & ~(uintptr_t) 3;
    for (uint32_t *p = __StackLimit; (uintptr_t) p < top; p++) *p = STACK_PAINT;
    return (uintptr_t) &here;
}

static uint32_t stack_peak(uintptr_t base) {
    uint32_t *p = __StackLimit;
    while ((uintptr_t) p < base && *p == STACK_PAINT) p++;
    return (uint32_t) (base - (uintptr_t) p);
}
#else
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void out(const char *s) { fputs(s, stdout); }
static void timer_init(void) {}

static uint64_t now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}
#endif

static void report(const char *key, uint64_t value) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    out(key);
    out(" ");
    char line[26];
    for (int i = 0; i < n; i++) line[i] = digits[n - 1 - i];
    line[n] = '\n';
    line[n + 1] = 0;
    out(line);
}

#ifdef HAVE_CALLS
/* The import the call-overhead module calls (Wasm -> host). */
IMPORT_DEFINITION
#endif

int main(int argc, char **argv) {
    int repeats = BENCH_REPEATS;
#if !defined(__arm__)
    /* The host may ask for another number of runs (bench/analysis.py runs one under callgrind). */
    if (argc > 1) repeats = atoi(argv[1]);
#else
    (void) argc;
    (void) argv;
#endif
    timer_init();
#if defined(__arm__)
    report("clock_dwt", (uint64_t) use_dwt);
#endif
    MOD_SETUP();
    uint64_t t0 = now();
    MOD_INSTANTIATE();
    report("instantiate_ticks", now() - t0);
    uint32_t ok = MOD_VERIFY();
    report("verify", ok);
#if defined(__arm__)
    uintptr_t painted = stack_paint();
#endif
    for (int r = 0; r < repeats; r++) {
        uint64_t start = now();
        uint32_t checksum = MOD_RUN(BENCH_ITERATIONS);
        report("run_ticks", now() - start);
        report("checksum", checksum);
    }
#if defined(__arm__)
    report("stack_peak", stack_peak(painted));
#endif
#ifdef HAVE_CALLS
    /* The loop's own cost is measured with an empty asm body and subtracted by run.py. */
    uint64_t start = now();
    for (uint32_t i = 0; i < CALL_COUNT; i++) __asm__ volatile("" ::: "memory");
    report("loop_ticks", now() - start);
    start = now();
    for (uint32_t i = 0; i < CALL_COUNT; i++) {
        MOD_EMPTY();
        __asm__ volatile("" ::: "memory");
    }
    report("empty_call_ticks", now() - start);
    start = now();
    MOD_CALL_IMPORT(CALL_COUNT);
    report("import_call_ticks", now() - start);
    report("call_count", CALL_COUNT);
#endif
    out("done\n");
    return ok == 1 ? 0 : 1;
}
