/*
 * board_default.c: what the bare-metal WASI port asks of a board, for boards
 * that say nothing (weak: targets/<board>/board.c overrides any of them), on
 * every core: no RNG (random_get uses the insecure fallback generator), no
 * unique ID, no RTC (realtime is the build's time plus monotonic), and, for
 * Cortex-M's SysTick, the core clock from -DWAFT_CORE_HZ (default 25 MHz,
 * QEMU's MPS2 boards).
 */
#include "port_baremetal.h"

#ifndef WAFT_CORE_HZ
#define WAFT_CORE_HZ 25000000u
#endif

__attribute__((weak)) uint32_t waft_board_core_hz(void) { return WAFT_CORE_HZ; }

__attribute__((weak)) bool waft_board_random(uint8_t *buf, size_t len) {
    (void)buf, (void)len;
    return false;
}

__attribute__((weak)) size_t waft_board_unique_id(uint8_t *buf, size_t len) {
    (void)buf, (void)len;
    return 0;
}

__attribute__((weak)) bool waft_board_rtc_ns(uint64_t *ns) {
    (void)ns;
    return false;
}
