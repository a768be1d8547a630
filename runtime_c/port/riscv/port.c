/*
 * port/riscv/port.c: the runtime's platform layer on bare-metal RISC-V (rv32,
 * picolibc): the stack limit from the linker script, and the error console and
 * exit through picolibc's semihosting library (QEMU's -semihosting-config, or
 * a debug probe).
 *
 * The board's linker script (targets/<name>/link.ld) defines __StackLimit,
 * the lowest address of the stack.  Console and exit go through picolibc's
 * libsemihost (linked with --oslib=semihost): write() to the host's stderr,
 * and _exit(), which uses SYS_EXIT_EXTENDED so QEMU's exit code is the
 * program's status.  Every function here is weak, so a board without a
 * debugger can route the console to a UART and exit to a halt instead.
 */
#include "waft.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Defined by the target's linker script (targets/riscv32-virt/link.ld). */
extern char __StackLimit[];

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
    _exit(status);
}
