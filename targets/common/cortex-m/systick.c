/*
 * systick.c: the WASI port's clocks on SysTick, which every Cortex-M has.
 *
 * SysTick runs from the core clock (waft_board_core_hz) and interrupts once
 * a millisecond; the handler counts milliseconds, and a reading adds the
 * cycles since the last interrupt.  Resolution: one core cycle (6 ns at
 * 168 MHz, 63 ns at 16 MHz), reported rounded up to whole nanoseconds;
 * accuracy is the core clock's (the HSI RC oscillator on an STM32 without a
 * crystal set up is +-1%).  The count starts at the first clock reading,
 * which happens when the WASI runtime starts.  64 bits of milliseconds never
 * wrap.
 *
 * The same interrupt is the kernel's tick (runtime_c/kernel): every tick calls
 * waft_clock_tick_hook with that tick's time.  The definition here is weak
 * and empty; a firmware that links the kernel gets the kernel's instead.  (A
 * weak definition rather than a weak reference tested for null: the stack
 * analysis of tests/safety then sees a function with a known frame either
 * way, not a call to nothing.)
 */
#include <stdbool.h>
#include <stdint.h>

#include "port_baremetal.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE 4u /* the processor clock */

static volatile uint64_t millis;
static uint32_t reload, hz;

/* Replaces startup.c's weak SysTick_Handler (which reports a fault). */
void SysTick_Handler(void) {
    uint64_t ms = millis + 1u;
    millis = ms;
    waft_clock_tick_hook(ms * 1000000u);
}

__attribute__((weak)) void waft_clock_tick_hook(uint64_t now_ns) { (void)now_ns; }

void waft_clock_start(void) {
    if (hz != 0) return;
    hz = waft_board_core_hz();
    reload = hz / 1000u - 1u; /* fits SysTick's 24 bits up to 16.7 GHz / 1000 */
    SYST_CSR = 0;
    SYST_RVR = reload;
    SYST_CVR = 0;
    SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
    /* The counter reads 0 until its first load from the reload register (one
     * clock on a chip, longer under QEMU), and 0 means "a whole millisecond
     * counted" to waft_clock_ns: readings would start 1 ms ahead and then go
     * back.  Wait for the load. */
    while (SYST_CVR == 0) {
    }
}

/* The latest reading handed out: a monotonic clock never goes back. */
static uint64_t last_reading;

uint64_t waft_clock_ns(void) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    uint64_t ms = millis;
    uint32_t val = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        /* It wrapped and the interrupt is waiting for us: count that
         * millisecond, and read the counter again on its far side. */
        ms++;
        val = SYST_CVR;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    uint64_t now = ms * 1000000u + (uint64_t)(reload - val) * 1000000000u / hz;
    /* QEMU (mps2-an386 under -icount) can show the counter reloaded before
     * it shows the interrupt pending, for a reading 1 ms short of the one
     * before: hold the clock at the last reading until time passes it.  (A
     * second, short critical section: the division stays outside both.) */
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    if (now < last_reading) {
        now = last_reading;
    } else {
        last_reading = now;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return now;
}

uint64_t waft_clock_resolution_ns(void) { return (1000000000u + hz - 1u) / hz; }

void waft_clock_idle(void) { __asm__ volatile("dsb\n\twfi" ::: "memory"); }
