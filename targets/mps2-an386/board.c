/*
 * board.c: the MPS2 AN386 parts the runtime asks of a board beyond the
 * defaults (targets/common/board_default.c: 25 MHz core, no RNG, no RTC):
 * the timers behind wasi-ext:signals timer lines
 * (runtime_c/signals/port_cortexm.c).
 *
 * Board timer 0 is the CMSDK APB timer 0 (0x40000000, IRQ 8), timer 1 the
 * APB timer 1 (0x40001000, IRQ 9): 32-bit down-counters on the 25 MHz
 * peripheral clock that interrupt when they reach 0 and reload (target.toml's
 * [interrupts] names the same).  SysTick stays the kernel's.  The port arms a
 * timer for one interval at a time and re-arms it from its vector on the
 * monotonic clock's grid, so the grid never drifts with the timer.
 */
#include <stdint.h>

#include "port_baremetal.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
static const uint32_t TIMER_BASE[2] = {0x40000000u, 0x40001000u};
#define TIMER_CTRL(b) REG((b) + 0x0u)
#define TIMER_VALUE(b) REG((b) + 0x4u)
#define TIMER_RELOAD(b) REG((b) + 0x8u)
#define TIMER_INTCLEAR(b) REG((b) + 0xCu)
#define TIMER_CTRL_EN 1u
#define TIMER_CTRL_IRQEN 8u

uint32_t waft_board_timer_hz(uint32_t n) {
    (void)n;
    return waft_board_core_hz(); /* PCLK = the core clock on the MPS2 FPGA images */
}

uint32_t waft_board_timer_max_ticks(uint32_t n) {
    (void)n;
    return 0xFFFFFFFFu;
}

void waft_board_timer_arm(uint32_t n, uint32_t ticks) {
    uint32_t b = TIMER_BASE[n & 1u];
    TIMER_CTRL(b) = 0;
    TIMER_INTCLEAR(b) = 1;
    TIMER_RELOAD(b) = ticks;
    TIMER_VALUE(b) = ticks;
    TIMER_CTRL(b) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
}

void waft_board_timer_ack(uint32_t n) { TIMER_INTCLEAR(TIMER_BASE[n & 1u]) = 1; }

void waft_board_timer_stop(uint32_t n) {
    uint32_t b = TIMER_BASE[n & 1u];
    TIMER_CTRL(b) = 0;
    TIMER_INTCLEAR(b) = 1;
}
