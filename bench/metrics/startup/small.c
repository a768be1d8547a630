/*
 * small.c: the small program of the `startup` metric group: no libc, one
 * data segment, a handful of functions.  Built to wasm32 (-nostdlib, its own
 * _start, WASI imports declared here) and natively (main).
 *
 * Its first act is to read the monotonic clock and print "started <ns>"; the
 * host measures spawn -> that reading.  It then checks its data segment
 * (the marker) and prints it: a program whose data was not set up fails.
 */
#include <stdint.h>

static const char marker[] = "waft-startup-marker";

#if defined(__wasm__)
typedef struct { const char *buf; uint32_t len; } ciovec;
__attribute__((import_module("wasi_snapshot_preview1"), import_name("clock_time_get")))
int32_t wasi_clock_time_get(uint32_t id, uint64_t precision, uint64_t *out);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int32_t wasi_fd_write(int32_t fd, const ciovec *iovs, uint32_t n, uint32_t *written);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit")))
_Noreturn void wasi_proc_exit(int32_t code);

static uint64_t now_ns(void) {
    uint64_t t = 0;
    wasi_clock_time_get(1, 1, &t); /* 1: CLOCK_MONOTONIC */
    return t;
}
static void out(const char *s, uint32_t n) {
    ciovec iov = {s, n};
    uint32_t done;
    wasi_fd_write(1, &iov, 1, &done);
}
#define ENTRY void _start(void)
#define FINISH(code) wasi_proc_exit(code)
#elif defined(BENCH_BOARD)
#include <unistd.h>
uint64_t waft_clock_ns(void);
void waft_clock_start(void);
static uint64_t now_ns(void) {
    waft_clock_start();
    return waft_clock_ns();
}
static void out(const char *s, uint32_t n) { write(1, s, n); }
#define ENTRY int main(void)
#define FINISH(code) return code
#else
#include <time.h>
#include <unistd.h>
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static void out(const char *s, uint32_t n) { (void)!write(1, s, n); }
#define ENTRY int main(void)
#define FINISH(code) return code
#endif

ENTRY {
    uint64_t t = now_ns();
    char line[40];
    uint32_t i = sizeof line;
    line[--i] = '\n';
    do {
        line[--i] = (char)('0' + t % 10u);
        t /= 10u;
    } while (t != 0 && i > 9);
    const char *head = "started ";
    for (uint32_t k = 8; k-- > 0;) line[--i] = head[k];
    out(line + i, (uint32_t)(sizeof line - i));
    volatile const char *m = marker;
    if (m[0] != 'w' || m[sizeof marker - 2] != 'r') {
        out("problem the data segment is not in memory\n", 42);
        FINISH(1);
    }
    out(marker, sizeof marker - 1);
    out("\ndone\n", 6);
    FINISH(0);
}
