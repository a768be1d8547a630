/*
 * hal.h: the vendor's tiny HAL for the MPS2 AN386 (QEMU mps2-an386) example
 * projects.  It stands for whatever HAL a real BSP brings (STM32Cube, a
 * vendor SDK): it owns the SysTick interrupt and the console, and knows
 * nothing of Waft.  waft_hooks.c adapts it to the hooks the runtime asks for.
 */
#ifndef HAL_H
#define HAL_H

#include <stddef.h>
#include <stdint.h>

/* The core clock: the AN386 FPGA image (and QEMU's mps2-an386) runs the Cortex-M4 at 25 MHz. */
#define HAL_CORE_HZ 25000000u

/* SysTick's NVIC priority value (STM32Cube's TICK_INT_PRIORITY): the lowest level by default. */
#ifndef HAL_TICK_PRIORITY
#define HAL_TICK_PRIORITY 0xFFu
#endif
/* The exit status when the watchdog bites. */
#define HAL_WATCHDOG_STATUS 4

/* Start SysTick at 1 kHz at HAL_TICK_PRIORITY (the HAL's time base, as STM32Cube's HAL_Init does). */
void hal_init(void);
/* Count one millisecond: the project's SysTick_Handler calls it (STM32Cube's HAL_IncTick). */
void hal_inc_tick(void);
/* Milliseconds since hal_init, counted by hal_inc_tick. */
uint64_t hal_millis(void);
/* A software watchdog on the tick: unless stopped within `ms`, it says so and exits with
 * HAL_WATCHDOG_STATUS (a real board would reset). */
void hal_watchdog_start(uint32_t ms);
void hal_watchdog_stop(void);
/* Nanoseconds since hal_init: the millisecond count plus SysTick's current count. */
uint64_t hal_nanos(void);
/* Busy-wait (with WFI) for at least `ms` milliseconds. */
void hal_delay_ms(uint32_t ms);

/* The console: stream 1 is stdout, 2 stderr (the debug console through
 * semihosting here; a UART on a real board). */
void hal_console_write(int stream, const char *text, size_t len);
void hal_puts(const char *text);
void hal_put_int(long value);

/* End the program with `status` (semihosting SYS_EXIT_EXTENDED: QEMU's exit status). */
void hal_exit(int status) __attribute__((noreturn));

#endif /* HAL_H */
