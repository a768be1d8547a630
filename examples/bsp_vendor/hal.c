/*
 * hal.c: the vendor HAL (see hal.h): SysTick time base, watchdog, semihosting console, exit.
 * The SysTick handler itself is the project's (vendor_it.c), which calls hal_inc_tick.
 */
#include "hal.h"

#include <string.h>

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u) /* SysTick's priority in [31:24] */

#define RELOAD (HAL_CORE_HZ / 1000u - 1u)

static volatile uint64_t millis;
static volatile uint64_t watchdog_deadline; /* 0: disarmed */
static uint32_t watchdog_period;

void hal_inc_tick(void) {
    uint64_t ms = millis + 1u;
    millis = ms;
    if (watchdog_deadline != 0 && ms >= watchdog_deadline) {
        hal_puts("vendor watchdog: not stopped within ");
        hal_put_int((long)watchdog_period);
        hal_puts(" ms\n");
        hal_exit(HAL_WATCHDOG_STATUS);
    }
}

void hal_watchdog_start(uint32_t ms) {
    watchdog_period = ms;
    watchdog_deadline = millis + ms;
}

void hal_watchdog_stop(void) { watchdog_deadline = 0; }

void hal_init(void) {
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | ((uint32_t)HAL_TICK_PRIORITY << 24);
    SYST_CSR = 0;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

uint64_t hal_millis(void) { return millis; }

uint64_t hal_nanos(void) {
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    uint64_t ms = millis;
    uint32_t val = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) { /* wrapped, interrupt not taken yet */
        ms++;
        val = SYST_CVR;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return ms * 1000000u + (uint64_t)(RELOAD - val) * 1000000000u / HAL_CORE_HZ;
}

void hal_delay_ms(uint32_t ms) {
    uint64_t until = millis + ms;
    while (millis < until) {
        __asm__ volatile("dsb\n\twfi" ::: "memory");
    }
}

/* Arm semihosting (BKPT 0xAB on M-profile cores). */
static uintptr_t semihost(uintptr_t op, uintptr_t arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static intptr_t handles[3] = {-1, -1, -1};

void hal_console_write(int stream, const char *text, size_t len) {
    int s = stream == 2 ? 2 : 1;
    if (handles[s] < 0) { /* ":tt" opened "w" (4) is stdout, "a" (8) stderr */
        uintptr_t open_args[3] = {(uintptr_t) ":tt", (uintptr_t)(4 * s), 3};
        handles[s] = (intptr_t)semihost(0x01, (uintptr_t)open_args);
    }
    uintptr_t args[3] = {(uintptr_t)handles[s], (uintptr_t)text, len};
    (void)semihost(0x05, (uintptr_t)args); /* SYS_WRITE */
}

void hal_puts(const char *text) { hal_console_write(1, text, strlen(text)); }

void hal_put_int(long value) {
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long v = value < 0 ? 0ul - (unsigned long)value : (unsigned long)value;
    *--p = '\0';
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    if (value < 0) *--p = '-';
    hal_puts(p);
}

void hal_exit(int status) {
    uintptr_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uintptr_t)(intptr_t)status};
    (void)semihost(0x20, (uintptr_t)block); /* SYS_EXIT_EXTENDED */
    for (;;) {
        __asm__ volatile("wfi");
    }
}
