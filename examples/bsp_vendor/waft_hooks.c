/*
 * waft_hooks.c: the Waft runtime's hooks, implemented on the vendor's HAL.
 *
 * The drop-in's libwaft.a leaves the console and the clock to the firmware
 * (port_baremetal.h declares them; waft_bsp.h lists them), so that the vector
 * table, SysTick and the UART stay the vendor's.  Random numbers, the unique
 * ID and the RTC have weak "none" defaults; a board with an RNG defines
 * waft_board_random here too.
 */
#include <string.h>

#include "hal.h"
#include "waft_bsp.h"

/* --- console: WASI stdout/stderr (and stdin: none here, end of input at once) */

size_t waft_console_write(int stream, const uint8_t *buf, size_t len) {
    hal_console_write(stream, (const char *)buf, len);
    return len;
}

size_t waft_console_read(uint8_t *buf, size_t len) {
    (void)buf, (void)len;
    return 0;
}

bool waft_console_readable(void) { return true; }

/* The runtime's error console (trap messages).  Its default is semihosting,
 * which halts a board without a debugger: a product routes it to its log. */
void waft_port_write_error(const char *text) { hal_console_write(2, text, strlen(text)); }

/* --- clock: WASI CLOCK_MONOTONIC and poll timeouts, on the HAL's SysTick time base */

void waft_clock_start(void) {} /* hal_init started SysTick before anything runs Wasm */

uint64_t waft_clock_ns(void) { return hal_nanos(); }

uint64_t waft_clock_resolution_ns(void) { return (1000000000u + HAL_CORE_HZ - 1u) / HAL_CORE_HZ; }

void waft_clock_idle(void) { __asm__ volatile("dsb\n\twfi" ::: "memory"); }
