/* Arm semihosting for test images under QEMU (-semihosting-config enable=on,target=native):
 * console output on the host's stdout and the exit status through SYS_EXIT_EXTENDED.
 * semihost_call is also the WASI console's semihosting backend (wasi_console.c). */
#ifndef WAFT_SEMIHOST_H
#define WAFT_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* One semihosting request: operation `op`, argument (often a pointer to a
 * parameter block) `arg`; returns the host's r0.  On M-profile cores
 * semihosting is BKPT 0xAB (not SVC); without a debugger attached it faults. */
static inline uintptr_t semihost_call(uintptr_t op, uintptr_t arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register uintptr_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Write `len` bytes to the host's stdout. Returns the number of bytes written. */
int semihost_write(const void *buf, size_t len);

/* End the emulation; QEMU exits with `status`. */
__attribute__((noreturn)) void semihost_exit(int status);

#endif
