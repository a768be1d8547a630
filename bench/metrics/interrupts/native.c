/*
 * native.c: the native side of the `interrupts` metric group -- a C interrupt
 * handler on the same NVIC line, at the same priority, measured by the same
 * instrument (irq_bench.c) as the Waft firmware's Wasm handler.
 *
 * The handler is what a C programmer writes: a function in the vector table
 * that does its work between the instrument's two marks (here: count the
 * interrupt in memory, as the Wasm handler does in its linear memory).  The
 * vector table is copied to RAM and the line's entry replaced, as the signals
 * port does for the Waft firmware, so both programs take the interrupt
 * through a RAM table at VTOR.
 *
 * -D options: BENCH_N (interrupts), BENCH_IRQ, BENCH_PRIO, BENCH_IRQ_COUNT
 * (the chip's external interrupts), BENCH_VTOR_ALIGN, and irq_bench.c's.
 */
#include <stdint.h>
#include <stdio.h>

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_IPR ((volatile uint8_t *)0xE000E400u)

void bench__enter(void *ctx);
void bench__leave(void *ctx);
void bench__run(void *ctx, int32_t n);
void bench__report(void *ctx);

static void (*ram_vectors[16 + BENCH_IRQ_COUNT])(void) __attribute__((aligned(BENCH_VTOR_ALIGN)));
static volatile uint32_t count;

static void handler(void) {
    bench__enter(0);
    count++;
    bench__leave(0);
}

int main(void) {
    void (*const *boot)(void) = (void (*const *)(void))(uintptr_t)SCB_VTOR;
    for (uint32_t v = 0; v < 16u + BENCH_IRQ_COUNT; v++) {
        ram_vectors[v] = boot[v];
    }
    ram_vectors[16 + BENCH_IRQ] = handler;
    __asm__ volatile("dsb" ::: "memory");
    SCB_VTOR = (uint32_t)(uintptr_t)ram_vectors;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    NVIC_IPR[BENCH_IRQ] = BENCH_PRIO;
    NVIC_ISER[BENCH_IRQ / 32] = 1u << (BENCH_IRQ % 32);

    bench__run(0, BENCH_N);
    if (count != BENCH_N) {
        printf("problem the handler ran %lu times for %lu pends\n", (unsigned long)count, (unsigned long)BENCH_N);
        return 1;
    }
    bench__report(0);
    return 0;
}
