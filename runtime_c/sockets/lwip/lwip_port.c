/*
 * lwip_port.c: what lwIP's NO_SYS core asks of the platform: sys_now() in
 * milliseconds from the board's SysTick clock (targets/common/cortex-m/
 * systick.c), random numbers for TCP's initial sequence numbers and ports,
 * and assertions that say where they failed on the error console and stop the
 * board with a non-zero status, rather than spin where nobody sees it.
 */
#include <stdint.h>

#include "lwip/arch.h"
#include "lwip/sys.h"
#include "waft.h"

uint64_t waft_clock_ns(void); /* targets/common/cortex-m/systick.c */

u32_t sys_now(void) { return (u32_t)(waft_clock_ns() / 1000000u); }

/* xorshift32 from the clock at first use: ISNs need to differ run to run,
 * not to be secret (QEMU's boards have no RNG to do better with). */
uint32_t waft_lwip_rand(void) {
    static uint32_t state;
    if (state == 0) state = (uint32_t)waft_clock_ns() | 1u;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

void waft_lwip_assert(const char *message, const char *file, int line) {
    char num[12];
    int n = 0;
    unsigned v = (unsigned)line;
    num[sizeof num - 1] = '\0';
    do {
        num[sizeof num - 2 - n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n < 10);
    waft_port_write_error("lwip: assertion failed: ");
    waft_port_write_error(message);
    waft_port_write_error(" (");
    waft_port_write_error(file);
    waft_port_write_error(":");
    waft_port_write_error(num + sizeof num - 1 - n);
    waft_port_write_error(")\n");
    waft_port_exit(70);
}
