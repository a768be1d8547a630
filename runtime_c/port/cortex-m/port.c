/*
 * port/cortex-m/port.c: the runtime's platform layer on bare-metal Cortex-M:
 * the stack limit from the linker script, and the error console and exit
 * through Arm semihosting (QEMU's -semihosting, or a debug probe).
 *
 * Board startup code and linker scripts live in targets/<name>/; the one thing
 * this file needs from them is the symbol __StackLimit (the lowest address of
 * the main stack; scripts define __StackTop beside it).  Every function here is
 * weak, so a board without a debugger attached can route the console to a
 * UART and exit to a reset or a halt instead.
 */
#include "waft.h"

#include <stdint.h>

/* Defined by the target's linker script (see the linker scripts in targets/). */
extern char __StackLimit[];

/* Semihosting operations (Arm "Semihosting for AArch32 and AArch64"). */
#define SYS_WRITE0 0x04
#define SYS_CLOCK 0x10
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN 0x20023

static uintptr_t semihost(uintptr_t op, uintptr_t arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    /* On M-profile cores semihosting is BKPT 0xAB (not SVC). */
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

__attribute__((weak)) void waft_stack_init(void) {
    waft_stack_limit = (uintptr_t)__StackLimit + WAFT_STACK_MARGIN;
}

__attribute__((weak)) void waft_port_write_error(const char *text) {
    semihost(SYS_WRITE0, (uintptr_t)text);
}

__attribute__((weak)) WAFT_NORETURN void waft_port_exit(int status) {
    /* SYS_EXIT_EXTENDED carries the status (QEMU makes it its exit code). */
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(intptr_t)status};
    semihost(SYS_EXIT_EXTENDED, (uintptr_t)block);
    /* A debugger without the extension: plain SYS_EXIT, which on AArch32
     * takes the reason code itself and can only say success or failure. */
    semihost(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

/* Sleep by polling the debugger's clock: SYS_CLOCK counts centiseconds since
 * the program started (-1 when the host has no clock: then there is nothing to
 * wait by, and the call returns at once).  The first step may come at any
 * moment, so waiting for one step more than the timeout covers guarantees "at
 * least `ns`".  Only memory.atomic.wait with a timeout calls this; a board
 * with a timer replaces it. */
__attribute__((weak)) void waft_port_sleep_ns(uint64_t ns) {
    const uint64_t step_ns = 10000000u;
    uintptr_t start = semihost(SYS_CLOCK, 0);
    if (start == (uintptr_t)-1) {
        return;
    }
    uint64_t steps = ns / step_ns + 1 + (ns % step_ns != 0);
    while ((uint64_t)(semihost(SYS_CLOCK, 0) - start) < steps) {
    }
}
