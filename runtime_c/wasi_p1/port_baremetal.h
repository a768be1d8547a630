/*
 * port_baremetal.h: what the bare-metal WASI port (port_baremetal.c) needs
 * from a board, and what a firmware's main gives it.  The WASI code never
 * touches a register: the board glue does, per core (Cortex-M:
 * targets/common/cortex-m/ for what every Cortex-M has: SysTick,
 * semihosting, the RTT block; RISC-V: targets/common/riscv/wasi_board.c, the
 * CLINT timer and semihosting), weak defaults for the rest
 * (targets/common/board_default.c), and targets/<board>/board.c for the chip:
 * UART, RNG, unique ID, RTC.
 *
 * Console backends on Cortex-M, chosen when the board glue is compiled with
 * -DWAFT_WASI_CONSOLE=semihost|uart|rtt (default semihost): see
 * targets/common/cortex-m/wasi_console.c.  RISC-V has semihosting only.
 */
#ifndef WAFT_PORT_BAREMETAL_H
#define WAFT_PORT_BAREMETAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- console (cortex-m/wasi_console.c, riscv/wasi_board.c) ---------------- */

/* Write to stdout (stream 1) or stderr (stream 2); returns bytes taken. */
size_t waft_console_write(int stream, const uint8_t *buf, size_t len);
/* Read up to `len` bytes of stdin, waiting for the first one.  Returns the
 * count, 0 at end of input. */
size_t waft_console_read(uint8_t *buf, size_t len);
/* Would a read return without waiting? */
bool waft_console_readable(void);

/* --- clock (cortex-m/systick.c: SysTick; riscv/wasi_board.c: CLINT mtime) -- */

/* Start the clock (idempotent); every clock reading calls it first. */
void waft_clock_start(void);
/* Nanoseconds since waft_clock_start. */
uint64_t waft_clock_ns(void);
/* The clock's resolution in ns (one tick of its counter, rounded up:
 * a core cycle on Cortex-M, an mtime tick on RISC-V). */
uint64_t waft_clock_resolution_ns(void);
/* Sleep until an interrupt (WFI); the timer wakes it within a millisecond. */
void waft_clock_idle(void);
/* Called from the clock's interrupt at every tick (Cortex-M SysTick: each
 * millisecond) with the tick's time in ns on the waft_clock_ns scale.  The
 * clock's own definition is weak and does nothing; the kernel
 * (runtime_c/kernel) defines the real one. */
void waft_clock_tick_hook(uint64_t now_ns);

/* --- board (targets/<board>/board.c, weak defaults in common/board_default.c) */

/* The core clock SysTick counts, in Hz (Cortex-M). */
uint32_t waft_board_core_hz(void);
/* Fill `buf` from a hardware RNG; false when the board has none (or it does
 * not answer), and then the port uses waft_insecure_fallback_random. */
bool waft_board_random(uint8_t *buf, size_t len);
/* Bytes that differ from chip to chip (a unique device ID), for seeding the
 * fallback generator; returns how many were written (0: none). */
size_t waft_board_unique_id(uint8_t *buf, size_t len);
/* Realtime in ns since the Unix epoch from an RTC; false when there is none. */
bool waft_board_rtc_ns(uint64_t *ns);
/* The UART console backend's driver (no default: a board that offers the
 * UART console defines them; STM32F4: USART2 in targets/stm32f4/board.c). */
void waft_board_uart_init(void);
void waft_board_uart_putc(uint8_t c);
int waft_board_uart_getc(void); /* -1: nothing received yet */

/* --- threads (weak single-thread defaults in port_baremetal.c; the thread
 *     layer's versions in runtime_c/threads/spawn.c) ----------------------- */

/* Take the lock that serialises the port's files, open-file table and
 * fallback generator between threads.  False when the caller cannot wait
 * for it (an interrupt handler that interrupted the holder). */
bool waft_port_wasi_lock(void);
void waft_port_wasi_unlock(void);
/* Block the calling thread until the clock reaches `until_ns` (or earlier:
 * callers loop).  One thread: WFI until the next interrupt. */
void waft_port_wasi_sleep(uint64_t until_ns);
/* p1 sched_yield: go behind the other ready threads of the caller's priority. */
void waft_port_wasi_yield(void);

/* --- file times ------------------------------------------------------------ */

/* The realtime clock in ns: the board's RTC, else waft_wasi_epoch_ns plus the
 * monotonic clock (port_baremetal.c). */
uint64_t waft_wasi_realtime_ns(void);
/* The clock the RAM filesystem stamps files with.  Defined by the
 * configuration that mounts it (as waft_wasi_realtime_ns), referenced weakly
 * by the port: firmware without files links no clock code for them. */
uint64_t waft_ramfs_clock_ns(void);

/* --- from the firmware's main (runtime_c/wasi_p1/baremetal_main.c) ------- */

/* CLOCK_REALTIME without an RTC: this plus the monotonic clock.  The
 * generated configuration sets it to the build's time. */
extern uint64_t waft_wasi_epoch_ns;
/* A seed fixed at build time, mixed into the fallback random generator. */
extern uint32_t waft_wasi_build_seed[4];

/* NOT CRYPTOGRAPHIC.  The random source for boards without a hardware RNG
 * (and QEMU, whose STM32 RNG never becomes ready and whose riscv32 virt
 * machine has none): xoshiro128** seeded from the build seed, the unique ID
 * and the clock.  Predictable by anyone who knows
 * the image and can guess the boot timing.  Never use it for keys. */
void waft_insecure_fallback_random(uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_PORT_BAREMETAL_H */
