/* Arm semihosting for test images under QEMU (-semihosting-config enable=on,target=native):
 * console output on the host's stdout and the exit status through SYS_EXIT_EXTENDED. */
#ifndef WAFT_SEMIHOST_H
#define WAFT_SEMIHOST_H

#include <stddef.h>

/* Write `len` bytes to the host's stdout. Returns the number of bytes written. */
int semihost_write(const void *buf, size_t len);

/* End the emulation; QEMU exits with `status`. */
__attribute__((noreturn)) void semihost_exit(int status);

#endif
