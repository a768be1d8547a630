/*
 * port_baremetal.c: the WASI port layer on bare metal (Cortex-M, RISC-V):
 * stdio on the board's console, files and directories in the RAM filesystem
 * (ramfs.c), clocks from the board's timer (SysTick, the CLINT's mtime),
 * random bytes from the board's RNG or the (insecure, loudly named) fallback
 * generator, and poll_oneoff sleeping in WFI.  Everything that touches the
 * hardware is board glue behind port_baremetal.h.  Sockets are in
 * port_baremetal_sockets.c.
 *
 * Threads: the open-file table, the RAM filesystem and the fallback
 * generator are plain data, so every function that touches them holds the
 * port lock (FS_LOCK below); a console read never does, since it may wait.
 * The lock, the sleep of poll_oneoff and sched_yield are weak single-thread
 * defaults here; the thread layer (runtime_c/threads/spawn.c) replaces them
 * when the firmware runs threads.
 *
 * Port handles: 0-2 are the console (stdin, stdout, stderr); a handle from
 * HANDLE_BASE up is an open RAM-filesystem node (a slot of `opens`, which
 * keeps the node and the file position).  Each function is in its own
 * section (-ffunction-sections), so a module that never opens a file links
 * none of the filesystem.  Handles from WAFT_NET_HANDLE_BASE up are sockets
 * of the board's network port (runtime_c/sockets/lwip/port_lwip.c), which
 * every function here hands over (is_net below).
 */
#include "port_baremetal.h"

#include <string.h>

#include "wasi_internal.h"

#define HANDLE_BASE 16

/* One thread: nothing to serialise, and waiting is WFI (the tick wakes it). */
__attribute__((weak)) bool waft_port_wasi_lock(void) { return true; }
__attribute__((weak)) void waft_port_wasi_unlock(void) {}
__attribute__((weak)) void waft_port_wasi_sleep(uint64_t until_ns) {
    (void)until_ns;
    waft_clock_idle();
}
__attribute__((weak)) void waft_port_wasi_yield(void) {}

static void fs_unlock(const bool *held) {
    if (*held) waft_port_wasi_unlock();
}

/* Hold the port lock from here to the end of the enclosing block, however it
 * is left (the cleanup attribute, as the Linux kernel's guard(), so no early
 * return can forget the unlock).  An interrupt handler that interrupted the
 * holder cannot wait for it: the call answers AGAIN. */
#define FS_LOCK()                                                                                              \
    __attribute__((cleanup(fs_unlock))) const bool fs_held_ = waft_port_wasi_lock();                          \
    if (!fs_held_) return WAFT_WASI_ERRNO_AGAIN

/* The RAM filesystem is linked only when the firmware mounts it (the
 * generated configuration does, for --dir): referring to it weakly here
 * keeps a console-only program's image free of it.  No handle other than
 * the console can exist without a mount, so these are never reached then;
 * wasi_port_open_dir checks, for embedders that preopen without one. */
#pragma weak waft_ramfs_find
#pragma weak waft_ramfs_open_at
#pragma weak waft_ramfs_symlink
#pragma weak waft_ramfs_readlink
#pragma weak waft_ramfs_link
#pragma weak waft_ramfs_mkdir
#pragma weak waft_ramfs_path_node
#pragma weak waft_ramfs_rmdir
#pragma weak waft_ramfs_unlink
#pragma weak waft_ramfs_rename
#pragma weak waft_ramfs_stat_node
#pragma weak waft_ramfs_set_times
#pragma weak waft_ramfs_read
#pragma weak waft_ramfs_write
#pragma weak waft_ramfs_set_size
#pragma weak waft_ramfs_size
#pragma weak waft_ramfs_readdir
#pragma weak waft_ramfs_retain
#pragma weak waft_ramfs_release

/* The network port (runtime_c/sockets/lwip/port_lwip.c) replaces these weak
 * definitions in firmware that opens sockets.  Without it no handle reaches
 * WAFT_NET_HANDLE_BASE, so they are never called; they are definitions, not
 * weak references, so that the stack analysis (waftkit/firmware/stack_usage.py)
 * sees a bounded callee either way. */
__attribute__((weak)) uint16_t waft_net_close(int32_t host) { (void)host; return WAFT_WASI_ERRNO_BADF; }
__attribute__((weak)) uint8_t waft_net_filetype(int32_t host) { (void)host; return WAFT_WASI_FILETYPE_UNKNOWN; }
__attribute__((weak)) uint16_t waft_net_fdflags(int32_t host, uint16_t *fdflags) {
    (void)host, (void)fdflags;
    return WAFT_WASI_ERRNO_BADF;
}
__attribute__((weak)) uint16_t waft_net_set_fdflags(int32_t host, uint16_t fdflags) {
    (void)host, (void)fdflags;
    return WAFT_WASI_ERRNO_BADF;
}
__attribute__((weak)) uint16_t waft_net_readv(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    (void)host, (void)iov, (void)n, (void)done;
    return WAFT_WASI_ERRNO_BADF;
}
__attribute__((weak)) uint16_t waft_net_writev(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    (void)host, (void)iov, (void)n, (void)done;
    return WAFT_WASI_ERRNO_BADF;
}
__attribute__((weak)) void waft_net_poll(wasi_pollfd *p) {
    p->ready = true;
    p->error = WAFT_WASI_ERRNO_BADF;
}
__attribute__((weak)) void waft_net_service(void) {}

static bool is_net(int32_t host) { return host >= WAFT_NET_HANDLE_BASE; }

uint64_t waft_wasi_epoch_ns;
uint32_t waft_wasi_build_seed[4];

/* One open file or directory of the RAM filesystem. */
typedef struct open_node {
    bool used;
    bool append;
    uint16_t sync; /* the sync fdflags it was opened with: RAM keeps them all, fdstat reports them */
    uint16_t node;
    uint64_t pos;
} open_node;

/* Never more than the fd table holds (plus the preopens, which are fds). */
static open_node opens[WAFT_WASI_MAX_FDS];

static open_node *open_of(int32_t host) {
    int32_t i = host - HANDLE_BASE;
    if (i < 0 || i >= WAFT_WASI_MAX_FDS || !opens[i].used) return NULL;
    return &opens[i];
}

static uint16_t open_new(uint16_t node, int32_t *host) {
    for (int32_t i = 0; i < WAFT_WASI_MAX_FDS; i++) {
        if (!opens[i].used) {
            opens[i] = (open_node){.used = true, .node = node};
            waft_ramfs_retain(node);
            *host = HANDLE_BASE + i;
            return 0;
        }
    }
    return WAFT_WASI_ERRNO_NFILE;
}

static bool is_console(int32_t host) { return host >= 0 && host <= 2; }

uint64_t waft_wasi_realtime_ns(void) {
    uint64_t ns;
    (void)wasi_port_clock_time(WAFT_WASI_CLOCKID_REALTIME, &ns);
    return ns;
}

/* File times.  The clock comes through a hook that the configuration which
 * mounts the RAM filesystem defines (waftkit/firmware/wasi_firmware.py), so a
 * program without files links no clock, RTC or 64-bit division for them even
 * though writev's file branch is in its image.  No mount, no file: the
 * fallback is never used. */
#pragma weak waft_ramfs_clock_ns
static uint64_t now_ns(void) { return waft_ramfs_clock_ns != NULL ? waft_ramfs_clock_ns() : 0; }

static void stat_of(uint16_t node, wasi_filestat *out) {
    waft_ramfs_stat st;
    waft_ramfs_stat_node(node, &st);
    out->dev = 1;
    out->ino = st.ino;
    out->filetype = st.type;
    out->nlink = st.nlink;
    out->size = st.size;
    out->atim = st.atim;
    out->mtim = st.mtim;
    out->ctim = st.ctim;
}

/* WASI times and fstflags to a node's new times ("now" is realtime). */
static void apply_times(uint16_t node, uint64_t atim, uint64_t mtim, uint16_t fst_flags) {
    uint64_t now = (fst_flags & (WAFT_WASI_FSTFLAGS_ATIM_NOW | WAFT_WASI_FSTFLAGS_MTIM_NOW)) ? now_ns() : 0;
    bool set_a = (fst_flags & (WAFT_WASI_FSTFLAGS_ATIM | WAFT_WASI_FSTFLAGS_ATIM_NOW)) != 0;
    bool set_m = (fst_flags & (WAFT_WASI_FSTFLAGS_MTIM | WAFT_WASI_FSTFLAGS_MTIM_NOW)) != 0;
    waft_ramfs_set_times(node, set_a, (fst_flags & WAFT_WASI_FSTFLAGS_ATIM_NOW) ? now : atim, set_m,
                         (fst_flags & WAFT_WASI_FSTFLAGS_MTIM_NOW) ? now : mtim);
}

/* ------------------------------------------------------------------------- */
/* Handles                                                                    */
/* ------------------------------------------------------------------------- */

void wasi_port_stdio(int i, int32_t *host, uint8_t *filetype, bool *seekable) {
    *host = i;
    *filetype = WAFT_WASI_FILETYPE_CHARACTER_DEVICE;
    *seekable = false;
}

uint16_t wasi_port_close(int32_t host) {
    if (is_net(host)) return waft_net_close(host);
    FS_LOCK();
    if (is_console(host)) return 0;
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_BADF;
    waft_ramfs_release(o->node);
    o->used = false;
    return 0;
}

void wasi_port_dir_stream_close(void *stream) { (void)stream; /* readdir keeps no stream here */ }

uint16_t wasi_port_fdflags(int32_t host, uint16_t *fdflags) {
    if (is_net(host)) return waft_net_fdflags(host, fdflags);
    FS_LOCK();
    open_node *o = open_of(host);
    *fdflags = o == NULL ? 0 : (uint16_t)((o->append ? WAFT_WASI_FDFLAGS_APPEND : 0) | o->sync);
    return 0;
}

uint16_t wasi_port_set_fdflags(int32_t host, uint16_t fdflags) {
    if (is_net(host)) return waft_net_set_fdflags(host, fdflags);
    FS_LOCK();
    /* RAM is always in sync; NONBLOCK changes nothing for files, and the
     * console reads what is there once a byte arrived anyway. */
    if (fdflags & (WAFT_WASI_FDFLAGS_DSYNC | WAFT_WASI_FDFLAGS_RSYNC | WAFT_WASI_FDFLAGS_SYNC)) {
        return WAFT_WASI_ERRNO_NOTSUP;
    }
    open_node *o = open_of(host);
    if (o != NULL) {
        o->append = (fdflags & WAFT_WASI_FDFLAGS_APPEND) != 0;
    } else if (fdflags & WAFT_WASI_FDFLAGS_APPEND) {
        return WAFT_WASI_ERRNO_NOTSUP;
    }
    return 0;
}

uint16_t wasi_port_filestat(int32_t host, wasi_filestat *out) {
    FS_LOCK();
    if (is_console(host) || is_net(host)) {
        memset(out, 0, sizeof *out);
        out->filetype = is_net(host) ? waft_net_filetype(host) : WAFT_WASI_FILETYPE_CHARACTER_DEVICE;
        out->nlink = 1;
        return 0;
    }
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_BADF;
    stat_of(o->node, out);
    return 0;
}

uint16_t wasi_port_set_size(int32_t host, uint64_t size) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_INVAL;
    return waft_ramfs_set_size(o->node, size, now_ns());
}

uint16_t wasi_port_set_times(int32_t host, uint64_t atim, uint64_t mtim, uint16_t fst_flags) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_NOTSUP; /* the console has no times to set */
    apply_times(o->node, atim, mtim, fst_flags);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* I/O                                                                        */
/* ------------------------------------------------------------------------- */

static uint16_t file_io(open_node *o, bool write, const wasi_iov *iov, int n, uint64_t offset, size_t *done) {
    *done = 0;
    uint64_t now = write ? now_ns() : 0;
    for (int i = 0; i < n; i++) {
        size_t got = 0;
        uint16_t err = write ? waft_ramfs_write(o->node, offset, iov[i].base, iov[i].len, now, &got)
                             : waft_ramfs_read(o->node, offset, iov[i].base, iov[i].len, &got);
        if (err != 0) return *done > 0 ? 0 : err;
        *done += got;
        offset += got;
        if (got < iov[i].len) break;
    }
    return 0;
}

uint16_t wasi_port_readv(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    *done = 0;
    if (host == 0) {
        /* The first non-empty buffer: a console read waits only for its first byte. */
        for (int i = 0; i < n; i++) {
            if (iov[i].len > 0) {
                *done = waft_console_read(iov[i].base, iov[i].len);
                break;
            }
        }
        return 0;
    }
    if (is_net(host)) return waft_net_readv(host, iov, n, done);
    if (is_console(host)) return WAFT_WASI_ERRNO_BADF;
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_BADF;
    uint16_t err = file_io(o, false, iov, n, o->pos, done);
    o->pos += *done;
    return err;
}

uint16_t wasi_port_writev(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    *done = 0;
    if (host == 1 || host == 2) {
        for (int i = 0; i < n; i++) *done += waft_console_write(host, iov[i].base, iov[i].len);
        return 0;
    }
    if (is_net(host)) return waft_net_writev(host, iov, n, done);
    if (is_console(host)) return WAFT_WASI_ERRNO_BADF;
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_BADF;
    if (o->append) o->pos = waft_ramfs_size(o->node);
    uint16_t err = file_io(o, true, iov, n, o->pos, done);
    o->pos += *done;
    return err;
}

uint16_t wasi_port_preadv(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_SPIPE;
    return file_io(o, false, iov, n, offset, done);
}

uint16_t wasi_port_pwritev(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_SPIPE;
    return file_io(o, true, iov, n, offset, done);
}

uint16_t wasi_port_seek(int32_t host, int64_t offset, uint8_t whence, uint64_t *newoffset) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_SPIPE;
    int64_t base = whence == WAFT_WASI_WHENCE_SET ? 0
                   : whence == WAFT_WASI_WHENCE_CUR ? (int64_t)o->pos
                                                    : (int64_t)waft_ramfs_size(o->node);
    if ((offset < 0 && base + offset < 0) || (offset > 0 && base > INT64_MAX - offset)) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    o->pos = (uint64_t)(base + offset);
    *newoffset = o->pos;
    return 0;
}

uint16_t wasi_port_sync(int32_t host, bool data_only) {
    (void)host, (void)data_only; /* RAM: nothing to flush */
    return 0;
}

uint16_t wasi_port_advise(int32_t host, uint64_t offset, uint64_t len, uint8_t advice) {
    (void)host, (void)offset, (void)len, (void)advice;
    return 0;
}

uint16_t wasi_port_allocate(int32_t host, uint64_t offset, uint64_t len) {
    FS_LOCK();
    open_node *o = open_of(host);
    if (o == NULL) return WAFT_WASI_ERRNO_SPIPE;
    if (offset + len > waft_ramfs_size(o->node)) return waft_ramfs_set_size(o->node, offset + len, now_ns());
    return 0;
}

uint16_t wasi_port_readdir(waft_wasi_fd *slot, uint64_t cookie, wasi_dirent *out, bool *end) {
    FS_LOCK();
    open_node *o = open_of(slot->host);
    if (o == NULL) return WAFT_WASI_ERRNO_BADF;
    return waft_ramfs_readdir(o->node, cookie, out->name, &out->namlen, &out->filetype, &out->ino, end);
}

/* ------------------------------------------------------------------------- */
/* Paths                                                                      */
/* ------------------------------------------------------------------------- */

uint16_t wasi_port_open_dir(const char *host_path, int32_t *host) {
    FS_LOCK();
    if (waft_ramfs_find == NULL) return WAFT_WASI_ERRNO_NOENT; /* nothing mounted: no folders at all */
    uint16_t node;
    uint16_t err = waft_ramfs_find(host_path, &node);
    if (err != 0) return err;
    waft_ramfs_stat st;
    waft_ramfs_stat_node(node, &st);
    if (st.type != WAFT_WASI_FILETYPE_DIRECTORY) return WAFT_WASI_ERRNO_NOTDIR;
    return open_new(node, host);
}

/* The directory node behind a directory handle. */
#define DIR_NODE(host, var)                                                                                    \
    open_node *var##_open = open_of(host);                                                                     \
    if (var##_open == NULL) return WAFT_WASI_ERRNO_BADF;                                                       \
    uint16_t var = var##_open->node

uint16_t wasi_port_path_open(int32_t dir, const char *path, bool follow, uint16_t oflags, uint16_t fdflags,
                             bool read, bool write, int32_t *host, uint8_t *filetype, bool *seekable) {
    FS_LOCK();
    (void)read;
    DIR_NODE(dir, d);
    uint16_t node;
    uint16_t err = waft_ramfs_open_at(d, path, follow, (oflags & WAFT_WASI_OFLAGS_CREAT) != 0,
                                      (oflags & WAFT_WASI_OFLAGS_EXCL) != 0, (oflags & WAFT_WASI_OFLAGS_DIRECTORY) != 0,
                                      (oflags & WAFT_WASI_OFLAGS_TRUNC) != 0, write, now_ns(), &node);
    if (err != 0) return err;
    err = open_new(node, host);
    if (err != 0) return err;
    open_of(*host)->append = (fdflags & WAFT_WASI_FDFLAGS_APPEND) != 0;
    /* RAM is always in sync, so every sync mode holds: keep the flags, for fdstat. */
    open_of(*host)->sync = fdflags & (WAFT_WASI_FDFLAGS_DSYNC | WAFT_WASI_FDFLAGS_RSYNC | WAFT_WASI_FDFLAGS_SYNC);
    waft_ramfs_stat st;
    waft_ramfs_stat_node(node, &st);
    *filetype = st.type;
    *seekable = true;
    return 0;
}

uint16_t wasi_port_path_mkdir(int32_t dir, const char *path) {
    FS_LOCK();
    DIR_NODE(dir, d);
    return waft_ramfs_mkdir(d, path, now_ns());
}

uint16_t wasi_port_path_stat(int32_t dir, const char *path, bool follow, wasi_filestat *out) {
    FS_LOCK();
    DIR_NODE(dir, d);
    uint16_t node;
    uint16_t err = waft_ramfs_path_node(d, path, follow, &node);
    if (err == 0) stat_of(node, out);
    return err;
}

uint16_t wasi_port_path_set_times(int32_t dir, const char *path, bool follow, uint64_t atim, uint64_t mtim,
                                  uint16_t fst_flags) {
    FS_LOCK();
    DIR_NODE(dir, d);
    uint16_t node;
    uint16_t err = waft_ramfs_path_node(d, path, follow, &node);
    if (err == 0) apply_times(node, atim, mtim, fst_flags);
    return err;
}

uint16_t wasi_port_path_link(int32_t old_dir, const char *old_path, bool follow, int32_t new_dir,
                             const char *new_path) {
    FS_LOCK();
    DIR_NODE(old_dir, from);
    DIR_NODE(new_dir, to);
    return waft_ramfs_link(from, old_path, follow, to, new_path, now_ns());
}

uint16_t wasi_port_path_readlink(int32_t dir, const char *path, uint8_t *buf, size_t len, size_t *used) {
    FS_LOCK();
    DIR_NODE(dir, d);
    return waft_ramfs_readlink(d, path, buf, len, used);
}

uint16_t wasi_port_path_rmdir(int32_t dir, const char *path) {
    FS_LOCK();
    DIR_NODE(dir, d);
    return waft_ramfs_rmdir(d, path);
}

uint16_t wasi_port_path_rename(int32_t old_dir, const char *old_path, int32_t new_dir, const char *new_path) {
    FS_LOCK();
    DIR_NODE(old_dir, from);
    DIR_NODE(new_dir, to);
    return waft_ramfs_rename(from, old_path, to, new_path, now_ns());
}

uint16_t wasi_port_path_symlink(const char *target, int32_t dir, const char *path) {
    FS_LOCK();
    DIR_NODE(dir, d);
    return waft_ramfs_symlink(target, d, path, now_ns());
}

uint16_t wasi_port_path_unlink(int32_t dir, const char *path) {
    FS_LOCK();
    DIR_NODE(dir, d);
    return waft_ramfs_unlink(d, path);
}

/* ------------------------------------------------------------------------- */
/* Clocks, poll, random, yield                                                */
/* ------------------------------------------------------------------------- */

uint16_t wasi_port_clock_res(uint32_t id, uint64_t *ns) {
    if (id >= WAFT_WASI_CLOCKID_COUNT) return WAFT_WASI_ERRNO_INVAL;
    waft_clock_start();
    *ns = waft_clock_resolution_ns();
    return 0;
}

uint16_t wasi_port_clock_time(uint32_t id, uint64_t *ns) {
    if (id >= WAFT_WASI_CLOCKID_COUNT) return WAFT_WASI_ERRNO_INVAL;
    waft_clock_start();
    /* One program owns the core: process and thread CPU time are the
     * monotonic clock (time since the clock started, close to boot). */
    uint64_t mono = waft_clock_ns();
    if (id == WAFT_WASI_CLOCKID_REALTIME) {
        uint64_t rtc;
        *ns = waft_board_rtc_ns(&rtc) ? rtc : waft_wasi_epoch_ns + mono;
    } else {
        *ns = mono;
    }
    return 0;
}

static bool poll_ready(wasi_pollfd *fds, int n) {
    bool any = false;
    for (int i = 0; i < n; i++) {
        wasi_pollfd *p = &fds[i];
        if (is_net(p->host)) {
            waft_net_poll(p);
        } else if (p->want_write) {
            p->ready = true; /* console writes never wait for long */
        } else if (p->want_read && p->host == 0) {
            p->ready = waft_console_readable();
        } else {
            p->ready = true; /* a directory or anything else: nothing to wait for */
        }
        any = any || p->ready;
    }
    return any;
}

/* How often a sleeping poll_oneoff looks at the console again. */
#define CONSOLE_POLL_NS 1000000u

static bool awaits_console(const wasi_pollfd *fds, int n) {
    for (int i = 0; i < n; i++) {
        if (fds[i].want_read && fds[i].host == 0) return true;
        if (is_net(fds[i].host)) return true; /* sockets are polled too: look again each tick */
    }
    return false;
}

uint16_t wasi_port_poll(wasi_pollfd *fds, int n, int64_t timeout_ns, bool *any) {
    waft_clock_start();
    uint64_t start = waft_clock_ns();
    for (;;) {
        waft_net_service(); /* a network stack runs while the program waits */
        *any = poll_ready(fds, n);
        if (*any) return 0;
        uint64_t now = waft_clock_ns();
        if (timeout_ns >= 0 && now - start >= (uint64_t)timeout_ns) return 0;
        /* Sleep to the deadline, or a millisecond at a time while the console
         * may bring input (it is polled, not interrupt-driven).  With one
         * thread this is WFI until the next interrupt. */
        uint64_t until = timeout_ns >= 0 ? start + (uint64_t)timeout_ns : UINT64_MAX;
        if (awaits_console(fds, n) && until - now > CONSOLE_POLL_NS) until = now + CONSOLE_POLL_NS;
        waft_port_wasi_sleep(until);
    }
}

/* xoshiro128** (Blackman and Vigna): small and fast, and NOT cryptographic. */
static uint32_t rng_state[4];
static bool rng_seeded;

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t xoshiro_next(void) {
    uint32_t *s = rng_state;
    uint32_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

/* splitmix32-style mixing of seed words into the state. */
static uint32_t mix(uint32_t z) {
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    return z ^ (z >> 16);
}

/*
 * !!! NOT CRYPTOGRAPHICALLY SECURE !!!
 * Used only where the board has no hardware RNG (or it does not answer, as
 * under QEMU).  Its output is predictable from the firmware image and the
 * boot timing.  Good for hash seeds and simulations, never for keys, nonces
 * or tokens.  Boards with an RNG never reach this.
 */
void waft_insecure_fallback_random(uint8_t *buf, size_t len) {
    if (!rng_seeded) {
        uint8_t uid[16] = {0};
        (void)waft_board_unique_id(uid, sizeof uid);
        waft_clock_start();
        uint64_t t = waft_clock_ns();
        for (int i = 0; i < 4; i++) {
            uint32_t u;
            memcpy(&u, uid + 4 * i, 4);
            rng_state[i] = mix(waft_wasi_build_seed[i] ^ u ^ (uint32_t)(t >> (8 * i)) ^ (0x9e3779b9u * (uint32_t)(i + 1)));
        }
        rng_seeded = true;
    }
    /* Every call also stirs in the clock, so two reads never repeat a run. */
    rng_state[0] ^= (uint32_t)waft_clock_ns();
    for (size_t i = 0; i < len; i += 4) {
        uint32_t r = xoshiro_next();
        size_t k = len - i < 4 ? len - i : 4;
        memcpy(buf + i, &r, k);
    }
}

uint16_t wasi_port_random(uint8_t *buf, size_t len) {
    if (!waft_board_random(buf, len)) {
        FS_LOCK(); /* the generator's state is shared */
        waft_insecure_fallback_random(buf, len);
    }
    return 0;
}

uint16_t wasi_port_yield(void) {
    waft_port_wasi_yield();
    return 0;
}
