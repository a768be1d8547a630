/*
 * wasi_ops.c: the `wasi` metric group's one source, built twice
 * (bench/metrics/wasi.py): to wasm32-wasi, where each operation is the raw
 * WASI preview1 call (wasi/api.h: no libc layer in between) run by Waft, and
 * natively, where it is the call a C programmer makes for the same thing:
 *
 *   operation     Wasm (WASI p1)               board (newlib, board, runtime C)     host (POSIX)
 *   write1/64/1024 fd_write(1, ...)            write(1, ...): newlib -> semihosting  write(1, ...)
 *   clock         clock_time_get(MONOTONIC)    waft_clock_ns (SysTick)               clock_gettime
 *   random16      random_get(16 bytes)         waft_board_random, else the runtime's getrandom
 *                                              fallback generator (what random_get does)
 *   fs_cycle      path_open(create) on the     waft_ramfs_open, _write, _read,       open, write, pread,
 *                 preopened RAM filesystem,    _release (runtime_c/wasi_p1/ramfs.c,  close (in argv[1])
 *                 fd_write, fd_pread, fd_close the RAM filesystem WASI sits on)
 *
 * Every batch checks its results (bytes written, a clock that does not go
 * back, random bytes that change, the file's contents read back); a failure
 * prints "problem ..." and exits 1.  Console payloads are lines of dots
 * (the 1-byte one a bare newline), so the sample lines stay parseable.
 * -DBENCH_BREAK_FS builds the broken variant tests/bench checks: it reads
 * back one byte short.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "instrument.h"

#ifndef BENCH_SAMPLES
#define BENCH_SAMPLES 100u
#endif
#define FS_BYTES 64u

static int failed;
static uint8_t payload[1024];
static uint8_t rbuf[FS_BYTES];

static void problem(const char *what, long value) {
    if (!failed) printf("\nproblem %s (%ld)\n", what, value); /* the first one says it */
    failed = 1;
}

#if defined(__wasm__)
/* ---- Wasm: WASI preview1, called directly ---------------------------------------------------- */
static __wasi_fd_t dir_fd;

static int setup(int argc, char **argv) {
    (void)argc, (void)argv;
    /* The first preopen (fd 3) is the folder wasi.py grants as "fs". */
    __wasi_prestat_t pre;
    char name[8] = {0};
    if (__wasi_fd_prestat_get(3, &pre) != 0 || pre.u.dir.pr_name_len != 2 ||
        __wasi_fd_prestat_dir_name(3, (uint8_t *)name, 2) != 0 || memcmp(name, "fs", 2) != 0) {
        problem("fd 3 is not the preopened folder \"fs\"", 3);
        return 1;
    }
    dir_fd = 3;
    return 0;
}

static long op_write(const uint8_t *buf, size_t n) {
    __wasi_ciovec_t iov = {buf, n};
    __wasi_size_t done = 0;
    return __wasi_fd_write(1, &iov, 1, &done) == 0 ? (long)done : -1;
}

static uint64_t op_clock(void) { return bench_clock_ns(); }

static int op_random(uint8_t *buf, size_t n) { return __wasi_random_get(buf, n) == 0 ? 0 : -1; }

static long op_fs_cycle(void) {
    __wasi_fd_t fd;
    __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK; /* pread: read + seek */
    __wasi_errno_t err = __wasi_path_open(dir_fd, 0, "bench.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC,
                                          rights, 0, 0, &fd);
    if (err != 0) return -1000 - (long)err;
    __wasi_ciovec_t out = {payload, FS_BYTES};
    __wasi_iovec_t in = {rbuf, FS_BYTES};
    __wasi_size_t wrote = 0, got = 0;
    if ((err = __wasi_fd_write(fd, &out, 1, &wrote)) != 0) return -2000 - (long)err;
    if ((err = __wasi_fd_pread(fd, &in, 1, 0, &got)) != 0) return -3000 - (long)err;
    if ((err = __wasi_fd_close(fd)) != 0) return -4000 - (long)err;
    return wrote == FS_BYTES ? (long)got : -1;
}

#elif defined(BENCH_BOARD)
/* ---- a board: newlib's write, the board's clock and RNG, the runtime's RAM filesystem ------- */
#include <unistd.h>

#include "port_baremetal.h"
#include "ramfs.h"

void waft_insecure_fallback_random(uint8_t *buf, size_t len);

static waft_ramfs_node nodes[4];
static uint8_t pool[1024];
static uint16_t root;

static int setup(int argc, char **argv) {
    (void)argc, (void)argv;
    if (waft_ramfs_mount(nodes, 4, pool, sizeof pool, NULL, 0, 0) != 0 || waft_ramfs_find("", &root) != 0) {
        problem("mounting the RAM filesystem failed", 0);
        return 1;
    }
    return 0;
}

static long op_write(const uint8_t *buf, size_t n) { return (long)write(1, buf, n); }

static uint64_t op_clock(void) { return waft_clock_ns(); }

static int op_random(uint8_t *buf, size_t n) {
    if (!waft_board_random(buf, n)) waft_insecure_fallback_random(buf, n);
    return 0;
}

static long op_fs_cycle(void) {
    uint16_t node;
    uint64_t now = waft_clock_ns();
    if (waft_ramfs_open(root, "bench.txt", true, false, false, true, true, now, &node) != 0) return -1;
    waft_ramfs_retain(node); /* an open handle, as the WASI port keeps one */
    size_t wrote = 0, got = 0;
    int bad = waft_ramfs_write(node, 0, payload, FS_BYTES, now, &wrote) != 0 ||
              waft_ramfs_read(node, 0, rbuf, FS_BYTES, &got) != 0;
    waft_ramfs_release(node);
    if (bad || wrote != FS_BYTES) return -1;
    return (long)got;
}

#else
/* ---- the host: POSIX -------------------------------------------------------------------------- */
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

static char path[512];

static int setup(int argc, char **argv) {
    if (argc < 2) {
        problem("usage: wasi_ops FOLDER", 0);
        return 1;
    }
    snprintf(path, sizeof path, "%s/bench.txt", argv[1]);
    return 0;
}

static long op_write(const uint8_t *buf, size_t n) { return (long)write(1, buf, n); }

static uint64_t op_clock(void) { return bench_clock_ns(); }

static int op_random(uint8_t *buf, size_t n) { return getrandom(buf, n, 0) == (ssize_t)n ? 0 : -1; }

static long op_fs_cycle(void) {
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) return -1;
    ssize_t wrote = write(fd, payload, FS_BYTES), got = pread(fd, rbuf, FS_BYTES, 0);
    if (close(fd) != 0 || wrote != (ssize_t)FS_BYTES) return -1;
    return (long)got;
}
#endif

/* A warm-up batch, then BENCH_SAMPLES timed batches of `per` runs of `body`. */
#define FIGURE(name, per, body)                                          \
    do {                                                                 \
        static bench_samples s;                                          \
        for (uint32_t b = 0; b <= BENCH_SAMPLES && !failed; b++) {       \
            uint64_t t0 = bench_clock_ns();                              \
            for (uint32_t i = 0; i < (per); i++) {                       \
                body;                                                    \
            }                                                            \
            uint64_t t1 = bench_clock_ns();                              \
            if (b > 0) bench_add(&s, t1 - t0);                           \
        }                                                                \
        samples_##name = s;                                              \
        per_##name = (per);                                              \
    } while (0)

static bench_samples samples_clock0, samples_write1, samples_write64, samples_write1024, samples_clock,
    samples_random16, samples_fs_cycle;
static uint32_t per_clock0, per_write1, per_write64, per_write1024, per_clock, per_random16, per_fs_cycle;

int main(int argc, char **argv) {
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)((i % 64u == 63u) ? '\n' : '.');
    if (setup(argc, argv) != 0) return 1;
    uint8_t nl = '\n';
    FIGURE(clock0, 1u, (void)0);
    FIGURE(write1, 10u, { long n = op_write(&nl, 1); if (n != 1) problem("fd_write of 1 byte wrote", n); });
    FIGURE(write64, 10u, { long n = op_write(payload, 64); if (n != 64) problem("fd_write of 64 bytes wrote", n); });
    FIGURE(write1024, 10u,
           { long n = op_write(payload, 1024); if (n != 1024) problem("fd_write of 1024 bytes wrote", n); });
    uint64_t last = 0;
    FIGURE(clock, 100u, {
        uint64_t t = op_clock();
        if (t < last || t == 0) problem("the monotonic clock went back", (long)(last - t));
        last = t;
    });
    static uint8_t rnd[2][16];
    uint32_t same = 0;
    FIGURE(random16, 100u, {
        if (op_random(rnd[i & 1u], 16) != 0) problem("random_get failed", 0);
        same += memcmp(rnd[0], rnd[1], 16) == 0;
    });
    if (same > 1) problem("random_get returned the same 16 bytes twice in a row", (long)same);
    FIGURE(fs_cycle, 10u, {
        memset(rbuf, 0, sizeof rbuf);
        long got = op_fs_cycle();
#if defined(BENCH_BREAK_FS)
        got -= 1;
#endif
        if (got != (long)FS_BYTES || memcmp(rbuf, payload, FS_BYTES) != 0)
            problem("the RAM filesystem cycle read back other bytes than it wrote", got);
    });
    fflush(stdout);
    if (failed) return 1;
    printf("\n");
    bench_print("clock0", per_clock0, &samples_clock0);
    bench_print("write1", per_write1, &samples_write1);
    bench_print("write64", per_write64, &samples_write64);
    bench_print("write1024", per_write1024, &samples_write1024);
    bench_print("clock", per_clock, &samples_clock);
    bench_print("random16", per_random16, &samples_random16);
    bench_print("fs_cycle", per_fs_cycle, &samples_fs_cycle);
    printf("done\n");
    return 0;
}
