/*
 * board.c: the riscv32-virt (QEMU `virt`) parts of the WASI port.
 *
 * CLOCK_REALTIME comes from the machine's Goldfish RTC (google,goldfish-rtc
 * at 0x00101000, in every QEMU virt machine since 5.0), which counts
 * nanoseconds since the Unix epoch from the host's clock (QEMU's -rtc base,
 * UTC by default): reading TIME_LOW latches TIME_HIGH.  The machine has no
 * RNG (virtio-rng would have to be added on QEMU's command line, and rv32imac
 * has no Zkr seed CSR) and no unique ID, so random_get uses the port's
 * insecure fallback generator (targets/common/board_default.c says "none").
 */
#include <stdbool.h>
#include <stdint.h>

#include "port_baremetal.h"

#define RTC_TIME_LOW (*(volatile uint32_t *)0x00101000u)
#define RTC_TIME_HIGH (*(volatile uint32_t *)0x00101004u)

bool waft_board_rtc_ns(uint64_t *ns) {
    uint32_t lo = RTC_TIME_LOW; /* first: latches the high half */
    uint32_t hi = RTC_TIME_HIGH;
    uint64_t t = (uint64_t)hi << 32 | lo;
    if (t == 0) return false; /* not there (or never set): build time + monotonic */
    *ns = t;
    return true;
}
