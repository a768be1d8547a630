/*
 * wasi_internal.h: what the WASI runtime's files share and nobody else sees:
 * guest-memory access (mem.c), the fd table (fdtable.c), and the port layer,
 * the narrow interface to the platform that port_posix.c implements on the
 * host and a board port implements on bare metal.
 *
 * Port functions take native buffers and port handles (never guest
 * addresses: the generic files check and translate those first) and return a
 * WASI errno, 0 on success.
 */
#ifndef WAFT_WASI_INTERNAL_H
#define WAFT_WASI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/waft_wasi.h"

/* Every import starts with this: `ctx` is the embedder's waft_wasi_ctx. */
#define WASI_CTX(p) ((waft_wasi_ctx *)(p))

/* Scatter/gather vectors are handled in batches of this many native vectors
 * (a stack array: no allocation); a call with more vectors goes on batch by
 * batch until one comes back short. */
#define WASI_IOV_BATCH 32

/* For helpers that must be specialised at each call (a constant argument
 * selecting what they link): transfer.h. */
#define WASI_ALWAYS_INLINE __attribute__((always_inline))

/* Longest path a guest may pass, NUL included (Linux's PATH_MAX).  Path
 * functions keep one or two such buffers on the stack; bare-metal ports with
 * small stacks build with a smaller value. */
#ifndef WASI_PATH_MAX
#define WASI_PATH_MAX 4096
#endif

/* Most fd subscriptions one poll_oneoff call may hold (NOTSUP past it). */
#ifndef WASI_POLL_MAX
#define WASI_POLL_MAX 64
#endif

/* ------------------------------------------------------------------------- */
/* Guest memory (mem.c)                                                       */
/* ------------------------------------------------------------------------- */

/* The native address of guest bytes [ptr, ptr + len), or NULL when any of
 * them lies outside the memory (len 0 is fine up to and at the end). */
uint8_t *wasi_mem(waft_wasi_ctx *ctx, uint32_t ptr, uint64_t len);

/* Same, for an array of `count` elements of `size` bytes (overflow-safe). */
uint8_t *wasi_mem_array(waft_wasi_ctx *ctx, uint32_t ptr, uint32_t count, uint32_t size);

/* Little-endian loads and stores: linear memory is little-endian whatever
 * the host is, and guest addresses need not be aligned. */
static inline uint16_t wasi_load16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t wasi_load32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t wasi_load64(const uint8_t *p) {
    return (uint64_t)wasi_load32(p) | ((uint64_t)wasi_load32(p + 4) << 32);
}
static inline void wasi_store8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void wasi_store16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wasi_store32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi_store64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A native scatter/gather vector. */
typedef struct wasi_iov {
    uint8_t *base;
    size_t len;
} wasi_iov;

/* Translate guest (c)iovecs [first, first + n) of the array at `iovs` into
 * `out` (n <= WASI_IOV_BATCH).  FAULT when the array or any buffer is outside
 * memory; the total length is added to *total. */
uint16_t wasi_iovs(waft_wasi_ctx *ctx, uint32_t iovs, uint32_t first, uint32_t n, wasi_iov *out, uint64_t *total);

/* Check a whole (c)iovec array and every buffer it names: FAULT or 0. */
uint16_t wasi_iovs_check(waft_wasi_ctx *ctx, uint32_t iovs, uint32_t iovs_len);

/* Copy the guest path [ptr, ptr + len) into `out` (WASI_PATH_MAX bytes) as a
 * C string.  FAULT outside memory, NAMETOOLONG when too long, ILSEQ for an
 * embedded NUL or bytes that are not UTF-8, PERM for an absolute path (the
 * sandbox admits only paths relative to a directory fd). */
uint16_t wasi_path(waft_wasi_ctx *ctx, uint32_t ptr, uint32_t len, char *out);

/* ------------------------------------------------------------------------- */
/* The fd table (fdtable.c)                                                   */
/* ------------------------------------------------------------------------- */

/* The slot for guest fd `fd` if it is open and has every right in `need`:
 * sets *err to BADF (closed or out of range) or NOTCAPABLE and returns NULL
 * otherwise. */
waft_wasi_fd *wasi_fd(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, uint16_t *err);

/* Same, and the fd must be a directory (NOTDIR otherwise). */
waft_wasi_fd *wasi_dir_fd(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, uint16_t *err);

/* Claim the lowest free slot (RESERVED until wasi_fd_set fills it or
 * wasi_fd_unreserve gives it back), or -1 (the table is full: NFILE). */
int32_t wasi_fd_alloc(waft_wasi_ctx *ctx);

/* Give back a slot wasi_fd_alloc claimed when the open failed. */
void wasi_fd_unreserve(waft_wasi_ctx *ctx, int32_t fd);

/* Fill claimed slot `fd` with an open port handle and publish it. */
void wasi_fd_set(waft_wasi_ctx *ctx, int32_t fd, waft_wasi_fd_kind kind, int32_t host, uint8_t filetype,
                 uint64_t base, uint64_t inheriting);

/* Release a slot: close its handle (when owned) and its directory stream. */
uint16_t wasi_fd_release(waft_wasi_fd *slot);

/* The rights a fd of `filetype` can use at all (base and inheriting);
 * `seekable` is false for pipes and terminals. */
uint64_t wasi_rights_for(uint8_t filetype, bool seekable);
uint64_t wasi_inheriting_for(uint8_t filetype);

/* ------------------------------------------------------------------------- */
/* Shared by the function groups                                              */
/* ------------------------------------------------------------------------- */

typedef struct wasi_filestat wasi_filestat;

/* Write `st` in the guest's filestat layout (WAFT_WASI_FILESTAT_SIZE bytes). */
void wasi_encode_filestat(uint8_t *out, const wasi_filestat *st);

/* INVAL for unknown fstflags bits or a time given both explicitly and as "now". */
uint16_t wasi_check_fst_flags(uint16_t fst_flags);

typedef enum wasi_io_op { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE, IO_SEND, IO_RECV } wasi_io_op;

/* The transfer loop over these is transfer.h's wasi_transfer (always inlined). */

/* ------------------------------------------------------------------------- */
/* The port layer                                                             */
/* ------------------------------------------------------------------------- */

/* File attributes in native form; filled by the port, encoded by fds.c. */
struct wasi_filestat {
    uint64_t dev, ino, nlink, size, atim, mtim, ctim;
    uint8_t filetype;
};

/* One directory entry from wasi_port_readdir. */
typedef struct wasi_dirent {
    uint64_t ino;
    uint8_t filetype;
    size_t namlen;          /* length of the name written to the caller's buffer */
    char name[256];         /* NAME_MAX + 1 */
} wasi_dirent;

/* One fd subscription for wasi_port_poll. */
typedef struct wasi_pollfd {
    int32_t host;
    bool want_read, want_write;   /* in */
    bool ready, hangup;           /* out */
    uint16_t error;               /* out: a WASI errno for this fd, 0 if none */
    uint64_t nbytes;              /* out: bytes ready to read (0 when unknown) */
} wasi_pollfd;

/* The port's stdio: handle, filetype and seekability of fd `i` (0-2). */
void wasi_port_stdio(int i, int32_t *host, uint8_t *filetype, bool *seekable);
uint16_t wasi_port_close(int32_t host);
void wasi_port_dir_stream_close(void *stream);

uint16_t wasi_port_fdflags(int32_t host, uint16_t *fdflags);
uint16_t wasi_port_set_fdflags(int32_t host, uint16_t fdflags);
uint16_t wasi_port_filestat(int32_t host, wasi_filestat *out);
uint16_t wasi_port_set_size(int32_t host, uint64_t size);
uint16_t wasi_port_set_times(int32_t host, uint64_t atim, uint64_t mtim, uint16_t fst_flags);
uint16_t wasi_port_readv(int32_t host, const wasi_iov *iov, int n, size_t *done);
uint16_t wasi_port_writev(int32_t host, const wasi_iov *iov, int n, size_t *done);
uint16_t wasi_port_preadv(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done);
uint16_t wasi_port_pwritev(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done);
uint16_t wasi_port_seek(int32_t host, int64_t offset, uint8_t whence, uint64_t *newoffset);
uint16_t wasi_port_sync(int32_t host, bool data_only);
uint16_t wasi_port_advise(int32_t host, uint64_t offset, uint64_t len, uint8_t advice);
uint16_t wasi_port_allocate(int32_t host, uint64_t offset, uint64_t len);
/* The entry at `cookie` (0 is the first) of directory `slot`, or *end = true
 * past the last one.  The port keeps its stream in slot->dir_stream. */
uint16_t wasi_port_readdir(waft_wasi_fd *slot, uint64_t cookie, wasi_dirent *out, bool *end);

/* Open a host directory for a preopen. */
uint16_t wasi_port_open_dir(const char *host_path, int32_t *host);

/* Path operations, relative to directory handle `dir`; `path` is a relative
 * C string (wasi_path made sure).  `follow`: resolve a symlink in the last
 * component.  Every one resolves the path beneath `dir` (PERM when it would
 * leave it) before touching anything. */
uint16_t wasi_port_path_open(int32_t dir, const char *path, bool follow, uint16_t oflags, uint16_t fdflags,
                             bool read, bool write, int32_t *host, uint8_t *filetype, bool *seekable);
uint16_t wasi_port_path_mkdir(int32_t dir, const char *path);
uint16_t wasi_port_path_stat(int32_t dir, const char *path, bool follow, wasi_filestat *out);
uint16_t wasi_port_path_set_times(int32_t dir, const char *path, bool follow, uint64_t atim, uint64_t mtim,
                                  uint16_t fst_flags);
uint16_t wasi_port_path_link(int32_t old_dir, const char *old_path, bool follow, int32_t new_dir,
                             const char *new_path);
uint16_t wasi_port_path_readlink(int32_t dir, const char *path, uint8_t *buf, size_t len, size_t *used);
uint16_t wasi_port_path_rmdir(int32_t dir, const char *path);
uint16_t wasi_port_path_rename(int32_t old_dir, const char *old_path, int32_t new_dir, const char *new_path);
uint16_t wasi_port_path_symlink(const char *target, int32_t dir, const char *path);
uint16_t wasi_port_path_unlink(int32_t dir, const char *path);

/* Clocks: `id` is a WASI clock id (INVAL for others). */
uint16_t wasi_port_clock_res(uint32_t id, uint64_t *ns);
uint16_t wasi_port_clock_time(uint32_t id, uint64_t *ns);

/* Wait until an fd in `fds` is ready or `timeout_ns` passed (-1: no limit;
 * n may be 0: a plain sleep).  Sets *any when some fd is ready. */
uint16_t wasi_port_poll(wasi_pollfd *fds, int n, int64_t timeout_ns, bool *any);

uint16_t wasi_port_random(uint8_t *buf, size_t len);
uint16_t wasi_port_yield(void);

uint16_t wasi_port_sock_accept(int32_t host, bool nonblock, int32_t *conn);
uint16_t wasi_port_sock_recv(int32_t host, const wasi_iov *iov, int n, uint16_t riflags, size_t *len,
                             uint16_t *roflags);
uint16_t wasi_port_sock_send(int32_t host, const wasi_iov *iov, int n, size_t *len);
uint16_t wasi_port_sock_shutdown(int32_t host, uint8_t how);

/* Bare metal: sockets of a board's network port (runtime_c/sockets/lwip/
 * port_lwip.c, linked only into firmware whose module imports
 * wasi-ext:sockets).  Their handles start at WAFT_NET_HANDLE_BASE, above any
 * console or file handle, and port_baremetal.c hands every p1 operation on
 * such a handle to these (referred to weakly: without the network port no
 * such handle exists).  waft_net_poll fills one subscription's result;
 * waft_net_service lets the stack take received frames and run its timers. */
#define WAFT_NET_HANDLE_BASE 1024
uint16_t waft_net_close(int32_t host);
uint8_t waft_net_filetype(int32_t host);
uint16_t waft_net_fdflags(int32_t host, uint16_t *fdflags);
uint16_t waft_net_set_fdflags(int32_t host, uint16_t fdflags);
uint16_t waft_net_readv(int32_t host, const wasi_iov *iov, int n, size_t *done);
uint16_t waft_net_writev(int32_t host, const wasi_iov *iov, int n, size_t *done);
void waft_net_poll(wasi_pollfd *p);
void waft_net_service(void);

/* Host port only: the WASI errno for a POSIX errno value (port_posix.c's
 * table, shared with the sockets layer's host port). */
uint16_t wasi_port_posix_errno(int host_errno);

#endif /* WAFT_WASI_INTERNAL_H */
