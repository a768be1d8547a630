/*
 * port/riscv/port.c: the runtime's platform layer on bare-metal RISC-V (rv32,
 * picolibc): the stack limit from the linker script, the error console through
 * picolibc's semihosting library, and exit through semihosting (QEMU's
 * -semihosting-config, or a debug probe).
 *
 * The board's linker script (targets/<name>/link.ld) defines __StackLimit,
 * the lowest address of the stack.  The console goes through picolibc's
 * libsemihost (linked with --oslib=semihost): write() to the host's stderr.
 * Exit makes the semihosting call itself: SYS_EXIT_EXTENDED, so QEMU's exit
 * code is the program's status.  picolibc's _exit() does the same after
 * reading the host's feature file, through three 80-byte frames: 272 bytes
 * for the trap path, more than WAFT_TRAP_STACK_RESERVE
 * (tests/safety/test_import_stack_usage.py).  Every function here is weak, so
 * a board without a debugger can route the console to a UART and exit to a
 * halt instead.
 */
#include "waft.h"

#include <semihost.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Defined by the target's linker script (targets/riscv32-virt/link.ld). */
extern char __StackLimit[];

/* Semihosting operations ("Semihosting for AArch32 and AArch64", which the
 * RISC-V semihosting specification adopts). */
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN 0x20023

static uintptr_t semihost(uintptr_t op, uintptr_t arg) {
    register uintptr_t a0 __asm__("a0") = op;
    register uintptr_t a1 __asm__("a1") = arg;
    /* The RISC-V semihosting trap: these three uncompressed instructions, in
     * one aligned block so that they never straddle a page. */
    __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                     "slli zero, zero, 0x1f\n\tebreak\n\tsrai zero, zero, 7\n\t"
                     ".option pop"
                     : "+r"(a0)
                     : "r"(a1)
                     : "memory");
    return a0;
}

__attribute__((weak)) void waft_stack_init(void) {
    waft_stack_limit = (uintptr_t)__StackLimit + WAFT_STACK_MARGIN;
}

__attribute__((weak)) void waft_port_write_error(const char *text) {
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(2, text, len);
        if (n <= 0) {
            return;
        }
        text += n;
        len -= (size_t)n;
    }
}

__attribute__((weak)) WAFT_NORETURN void waft_port_exit(int status) {
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(intptr_t)status};
    semihost(SYS_EXIT_EXTENDED, (uintptr_t)block);
    /* A debugger without the extension: plain SYS_EXIT, which on a 32-bit
     * target takes the reason code itself and can only say success or failure. */
    semihost(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

/* Sleep by polling the debugger's clock: SYS_CLOCK (picolibc's
 * sys_semihost_clock, which also keeps the trap sequence's alignment right)
 * counts centiseconds since the program started, -1 when the host has no
 * clock: then there is nothing to wait by, and the call returns at once.  The
 * first step may come at any moment, so waiting for one step more than the
 * timeout covers guarantees "at least `ns`".  Only memory.atomic.wait with a
 * timeout calls this; a board with a timer (CLINT mtime) replaces it. */
__attribute__((weak)) void waft_port_sleep_ns(uint64_t ns) {
    const uint64_t step_ns = 10000000u;
    uintptr_t start = (uintptr_t)sys_semihost_clock();
    if (start == (uintptr_t)-1) {
        return;
    }
    uint64_t steps = ns / step_ns + 1 + (ns % step_ns != 0);
    while ((uint64_t)((uintptr_t)sys_semihost_clock() - start) < steps) {
    }
}
