/*
 * ktest.h: the shared harness of the kernel's test programs (tests/kernel/c):
 * an event trace that threads and interrupts append to and main prints at the
 * end, checks that count failures, one software-pended interrupt line, and
 * the final result line the Python side parses.
 *
 * The trace is kept in RAM and printed only when every thread is done:
 * printing through semihosting from several threads at once would interleave
 * newlib's buffers and put printf's stack on every thread.
 */
#ifndef KTEST_H
#define KTEST_H

#include <stdint.h>
#include <stdio.h>

#include "kernel.h"

#define TRACE_MAX 256

static const char *trace_event[TRACE_MAX];
static int32_t trace_value[TRACE_MAX];
static volatile uint32_t trace_count;
static uint32_t checks_run, checks_failed;

/* Append one event (from a thread or an interrupt). */
static inline void trace(const char *event, int32_t value) {
    waft_os_irq_state s = waft_os_critical_enter();
    if (trace_count < TRACE_MAX) {
        trace_event[trace_count] = event;
        trace_value[trace_count] = value;
        trace_count++;
    }
    waft_os_critical_exit(s);
}

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks_run++;                                                            \
        if (!(cond)) {                                                           \
            checks_failed++;                                                     \
            printf("check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
        }                                                                        \
    } while (0)

/* Print the trace ("trace <event> <value>") and the result line; returns the exit status. */
static inline int finish(void) {
    for (uint32_t i = 0; i < trace_count; i++) printf("trace %s %ld\n", trace_event[i], (long)trace_value[i]);
    printf("result %lu checks, %lu failed\n", (unsigned long)checks_run, (unsigned long)checks_failed);
    return checks_failed == 0 && trace_count < TRACE_MAX ? 0 : 1;
}

/* Spin (on the CPU, not sleeping) until the clock reaches `deadline`. */
static inline void busy_until(uint64_t deadline) {
    while (waft_os_now_ns() < deadline) {
    }
}

/* --- one device interrupt line, pended by software --------------------------
 * The boards' vector table in flash has the 16 system entries only: run from
 * a RAM copy with TEST_IRQ's entry added (VTOR: QEMU has it on every machine
 * used here, the Armv6-M one included, which emulates a Cortex-M3). */
#define TEST_IRQ 10u
#define NVIC_ISER (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR (*(volatile uint32_t *)0xE000E200u)
#define NVIC_IPR(n) (*(volatile uint32_t *)(0xE000E400u + 4u * ((n) / 4u)))
#define SCB_VTOR_REG (*(volatile uint32_t *)0xE000ED08u)

extern const void *const __isr_vector[];
static const void *ram_vectors[64] __attribute__((aligned(256)));

/* Route TEST_IRQ to `handler` at NVIC priority `priority` (a value below the
 * kernel's PendSV/SysTick 0xFF and at or above its ceiling: kernel-aware). */
static inline void test_irq_setup(void (*handler)(void), uint8_t priority) {
    for (int i = 0; i < 16; i++) ram_vectors[i] = __isr_vector[i];
    ram_vectors[16 + TEST_IRQ] = (const void *)handler;
    SCB_VTOR_REG = (uint32_t)(uintptr_t)ram_vectors;
    uint32_t shift = 8u * (TEST_IRQ % 4u);
    NVIC_IPR(TEST_IRQ) = (NVIC_IPR(TEST_IRQ) & ~(0xFFu << shift)) | ((uint32_t)priority << shift);
    NVIC_ISER = 1u << TEST_IRQ;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

/* Pend TEST_IRQ; it is taken before the next instruction after the barriers. */
static inline void test_irq_pend(void) {
    NVIC_ISPR = 1u << TEST_IRQ;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

#endif /* KTEST_H */
