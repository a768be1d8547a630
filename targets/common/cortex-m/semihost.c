/* Semihosting calls and the newlib system calls built on them, for Cortex-M test images.
 *
 * newlib (nano) needs _write/_sbrk/_exit and friends; here stdout and stderr go to
 * the host through semihosting, the heap is the RAM between the end of .bss and
 * the stack (__HeapBase .. __StackLimit from the linker script), and exit(status)
 * becomes QEMU's exit status.
 */
#include "semihost.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

/* The host stdout handle: ":tt" opened for writing (mode 4, "w"). */
static intptr_t stdout_handle = -1;

int semihost_write(const void *buf, size_t len) {
    if (stdout_handle < 0) {
        uintptr_t open_args[3] = {(uintptr_t) ":tt", 4, 3};
        stdout_handle = (intptr_t) semihost_call(SYS_OPEN, (uintptr_t) open_args);
        if (stdout_handle < 0) return -1;
    }
    uintptr_t args[3] = {(uintptr_t) stdout_handle, (uintptr_t) buf, len};
    /* SYS_WRITE returns the number of bytes NOT written. */
    uintptr_t left = semihost_call(SYS_WRITE, (uintptr_t) args);
    return (int) (len - left);
}

void semihost_exit(int status) {
    uintptr_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t) status};
    semihost_call(SYS_EXIT_EXTENDED, (uintptr_t) args);
    /* A host without SYS_EXIT_EXTENDED: plain exit (status 0 only). */
    semihost_call(SYS_EXIT, ADP_STOPPED_APPLICATION_EXIT);
    for (;;) {
    }
}

/* ---- newlib system calls ---------------------------------------------------- */

extern char __HeapBase[], __HeapLimit[];
static char *heap_end = __HeapBase;

void *_sbrk(ptrdiff_t incr) {
    char *prev = heap_end;
    if (incr > __HeapLimit - heap_end) {
        errno = ENOMEM;
        return (void *) -1;
    }
    heap_end += incr;
    return prev;
}

int _write(int fd, const char *buf, int len) {
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    return semihost_write(buf, (size_t) len);
}

int _read(int fd, char *buf, int len) {
    (void) fd, (void) buf, (void) len;
    return 0;
}

int _close(int fd) {
    (void) fd;
    return -1;
}

int _lseek(int fd, int off, int whence) {
    (void) fd, (void) off, (void) whence;
    return 0;
}

int _fstat(int fd, struct stat *st) {
    (void) fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd) {
    return fd <= 2;
}

int _getpid(void) {
    return 1;
}

int _kill(int pid, int sig) {
    (void) pid, (void) sig;
    errno = EINVAL;
    return -1;
}

void _exit(int status) {
    semihost_exit(status);
}
