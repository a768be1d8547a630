/* POSIX write() for fds 1 and 2 on bare-metal RISC-V images, through semihosting.
 *
 * picolibc's libsemihost write() passes the fd straight to SYS_WRITE as a host
 * handle, but nothing opened handles 1 and 2, so write(1, ...) is silently lost
 * (its stdio FILEs use SYS_WRITEC instead and do work).  The spectest harness
 * and the runtime's error path use write(): this definition, linked ahead of
 * libsemihost, opens the host console ":tt" on first use (mode "w" for fd 1,
 * "a" for fd 2, as the semihosting spec names stdout and stderr; QEMU prints
 * both on its stdout) and forwards other fds unchanged.
 */
#include <errno.h>
#include <semihost.h>
#include <stdint.h>
#include <unistd.h>

/* Host handles for stdout and stderr; -1 until first opened. */
static int console[3] = {-1, -1, -1};

static int host_handle(int fd) {
    if (fd != 1 && fd != 2) return fd;
    if (console[fd] < 0) console[fd] = sys_semihost_open(":tt", fd == 1 ? SH_OPEN_W : SH_OPEN_A);
    return console[fd];
}

ssize_t write(int fd, const void *buf, size_t count) {
    int handle = host_handle(fd);
    if (handle < 0) {
        errno = EBADF;
        return -1;
    }
    /* SYS_WRITE returns the number of bytes NOT written. */
    uintptr_t left = sys_semihost_write(handle, buf, count);
    if (left > count) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)(count - left);
}
