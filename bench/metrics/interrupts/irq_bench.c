/*
 * irq_bench.c: the instrument of the `interrupts` metric group, linked into
 * both programs it compares (bench/metrics/interrupts.py): native.c, whose
 * interrupt handler is C, and the Waft firmware of interrupts.wat, whose
 * handler is a Wasm export the build binds to the line (the generated vector
 * calls the compiled function directly).  Both programs run the same
 * functions here, so whatever the instrument costs, it costs both the same.
 *
 * The functions are the imports of module "bench" as Waft's ABI names them
 * (aot/abi.py: module__name(void *ctx, ...)); native.c calls them with a
 * NULL ctx.
 *
 *   bench__run(n)   calibrates the counter, measures the instrument's own
 *                   cost, then pends the line n times from thread code and
 *                   records, per interrupt:
 *                     entry  the counter read just before the NVIC pend ->
 *                            the handler's first act, bench__enter
 *                     exit   the handler's last act, bench__leave -> the
 *                            counter read right after the pend returns
 *                   each less the instrument's cost measured with no
 *                   interrupt in between (a read, then bench__enter called
 *                   directly; bench__leave, then a read).
 *   bench__enter, bench__leave   the handler's first and last act: one
 *                   counter read each.
 *   bench__report() prints "dist <name> <min> <max> <sum> <count>" (whole
 *                   instructions, or cycles), "info" lines and "done".
 *
 * The counter is SysTick's current value, which QEMU models from its virtual
 * clock: under `-icount shift=S` each instruction is 2^S ns of it, so the
 * count between two reads is exactly the instructions executed between them
 * times a fixed ratio.  bench/metrics/interrupts.py runs QEMU with a shift
 * that gives at least two SysTick ticks per instruction (SysTick runs from
 * the core clock: 25 MHz on mps2-an386, 168 MHz on netduinoplus2), and the
 * ratio is measured here (two asm loops of known length; their difference
 * cancels whatever surrounds them), so each sample converts to whole
 * instructions.  Exception entry and return are not instructions: QEMU
 * spends no virtual time on them, a chip 12 + 10-ish cycles (Cortex-M4) on
 * both sides alike.  -DBENCH_CYCLES (a real board) reports SysTick counts
 * as they are: core cycles.  QEMU models no DWT cycle counter.
 *
 * SysTick keeps its reload (the Waft firmware's clock sets 1 ms; native.c
 * lets it run free) and is moved to the lowest priority; each measurement
 * runs with BASEPRI at that level, so a clock tick waits until the sample
 * is taken instead of landing inside it.  The measured line is more urgent
 * than that level on both sides (-DBENCH_PRIO, its NVIC value).
 *
 * -D options: BENCH_IRQ (the line's NVIC interrupt), BENCH_PRIO (its NVIC
 * priority value), BENCH_BASEPRI (the level that masks SysTick and nothing
 * more urgent), BENCH_MAX (samples kept: runs beyond it are refused).
 */
#include <stdint.h>
#include <stdio.h>

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)
#define CSR_ENABLE 1u
#define CSR_CLKSOURCE 4u /* the processor clock */

#ifndef BENCH_IRQ
#error "BENCH_IRQ: the NVIC interrupt of the measured line (bench/metrics/interrupts.py passes it)"
#endif
#ifndef BENCH_BASEPRI
#error "BENCH_BASEPRI: the priority level that masks SysTick only"
#endif

typedef struct dist {
    uint32_t min, max, count;
    uint64_t sum;
} dist;

static uint32_t modulus;           /* SysTick counts reload + 1 values, down */
static uint32_t q16_per_instr;     /* ticks per instruction, 16.16 fixed point (1 << 16: cycles) */
static volatile uint32_t t_enter, t_leave;
static uint32_t base_enter, base_leave; /* the instrument's own cost, in ticks */
static dist entry, exit_, calib_ticks;
static uint32_t handled_before;    /* bench__enter calls, to check each pend ran the handler once */
static volatile uint32_t enters;
static const char *problem;

static inline uint32_t now(void) { return SYST_CVR; }

/* Ticks from `from` to `to` on the down-counter (at most one wrap). */
static inline uint32_t ticks_between(uint32_t from, uint32_t to) {
    return from >= to ? from - to : from + modulus - to;
}

static inline void set_basepri(uint32_t value) { __asm__ volatile("msr basepri, %0\n\tisb" ::"r"(value) : "memory"); }

void bench__enter(void *ctx) {
    (void)ctx;
    t_enter = now();
    enters++;
}

void bench__leave(void *ctx) {
    (void)ctx;
    t_leave = now();
}

/* Ticks to whole instructions (rounded: the counter runs at >= 2 ticks per instruction). */
static uint32_t instructions(uint32_t ticks) {
    return (uint32_t)((((uint64_t)ticks << 16) + q16_per_instr / 2) / q16_per_instr);
}

static void dist_add(dist *d, uint32_t v) {
    if (d->count == 0 || v < d->min) d->min = v;
    if (v > d->max) d->max = v;
    d->sum += v;
    d->count++;
}

/* `loops` turns of a two-instruction loop (subs, bne), between two reads. */
static uint32_t loop_ticks(uint32_t loops) {
    uint32_t t0 = now();
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(loops)::"cc");
    uint32_t t1 = now();
    return ticks_between(t0, t1);
}

static void start_counter(void) {
    if (!(SYST_CSR & CSR_ENABLE)) { /* native.c: nobody runs SysTick; let it count freely */
        SYST_RVR = 0x00FFFFFFu;
        SYST_CVR = 0;
        SYST_CSR = CSR_ENABLE | CSR_CLKSOURCE;
        while (SYST_CVR == 0) {
        }
    }
    modulus = SYST_RVR + 1u;
    SCB_SHPR3 |= 0xFFu << 24; /* SysTick at the lowest level: BASEPRI_LOW holds it back */
}

static void calibrate(void) {
#ifdef BENCH_CYCLES
    q16_per_instr = 1u << 16;
#else
    /* 1000 more turns = 2000 more instructions; whatever surrounds the loop cancels. */
    set_basepri(BENCH_BASEPRI);
    uint32_t a = loop_ticks(200), b = loop_ticks(1200);
    set_basepri(0);
    dist_add(&calib_ticks, b - a);
    q16_per_instr = (uint32_t)(((uint64_t)(b - a) << 16) / 2000u);
    if (q16_per_instr < (2u << 16)) {
        problem = "the counter is too coarse: fewer than 2 SysTick ticks per instruction (raise -icount shift)";
    }
#endif
}

/* The instrument with no interrupt: a read then bench__enter; bench__leave then a read. */
static void measure_instrument(void) {
    uint32_t e = UINT32_MAX, l = UINT32_MAX;
    set_basepri(BENCH_BASEPRI);
    for (int i = 0; i < 8; i++) {
        uint32_t t0 = now();
        bench__enter(0);
        uint32_t d = ticks_between(t0, t_enter);
        e = d < e ? d : e;
        bench__leave(0);
        uint32_t t3 = now();
        d = ticks_between(t_leave, t3);
        l = d < l ? d : l;
    }
    set_basepri(0);
    base_enter = e;
    base_leave = l;
    enters = 0;
}

static uint32_t net(uint32_t ticks, uint32_t base) { return ticks > base ? instructions(ticks - base) : 0; }

void bench__run(void *ctx, int32_t n) {
    (void)ctx;
    start_counter();
    calibrate();
    measure_instrument();
    handled_before = enters;
    volatile uint32_t *pend = &NVIC_ISPR[BENCH_IRQ / 32];
    const uint32_t bit = 1u << (BENCH_IRQ % 32);
    for (int32_t i = 0; i < n && problem == NULL; i++) {
        uint32_t seen = enters;
        set_basepri(BENCH_BASEPRI);
        uint32_t t0 = now();
        *pend = bit;
        __asm__ volatile("dsb\n\tisb" ::: "memory"); /* the interrupt is taken here */
        uint32_t t3 = now();
        set_basepri(0);
        if (enters != seen + 1) {
            problem = "a pend did not run the handler exactly once before the next instruction";
            break;
        }
        dist_add(&entry, net(ticks_between(t0, t_enter), base_enter));
        dist_add(&exit_, net(ticks_between(t_leave, t3), base_leave));
    }
}

static void print_dist(const char *name, const dist *d) {
    printf("dist %s %lu %lu %lu %lu\n", name, (unsigned long)d->min, (unsigned long)d->max,
           (unsigned long)d->sum, (unsigned long)d->count); /* sums stay far below 2^32 at these counts */
}

void bench__report(void *ctx) {
    (void)ctx;
    if (problem != NULL) {
        printf("problem %s\n", problem);
        return;
    }
    print_dist("entry", &entry);
    print_dist("exit", &exit_);
    printf("info ticks_per_instruction_q16 %lu\n", (unsigned long)q16_per_instr);
    printf("info instrument_ticks %lu %lu\n", (unsigned long)base_enter, (unsigned long)base_leave);
    printf("info handled %lu\n", (unsigned long)(enters - handled_before));
    printf("done\n");
}
