/*
 * port_posix.c: the WASI port layer on a POSIX host (Linux): every system
 * call the WASI runtime makes, host errno to WASI errno, and the sandboxed
 * path resolver.
 *
 * Path resolution is done here, one component at a time, rather than by
 * handing the guest's path to openat: each directory is opened with
 * O_NOFOLLOW, each symlink is read and its target spliced into the rest of the
 * path, and a running depth below the starting directory makes `..` past it
 * (or an absolute symlink target) fail with PERM before anything outside is
 * touched.  The final operation then uses the *at call on the last directory
 * with the last component and no-follow flags, so a symlink swapped in after
 * the check cannot redirect it.
 */
#define _GNU_SOURCE /* ppoll, accept4, O_PATH */
#include "wasi_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef O_PATH
#define O_PATH O_RDONLY
#endif

/* Symlinks followed in one resolution before ELOOP (Linux's limit). */
#define MAX_SYMLINKS 40

/* ------------------------------------------------------------------------- */
/* errno                                                                      */
/* ------------------------------------------------------------------------- */

static uint16_t wasi_errno(int e) {
    switch (e) {
    case 0: return WAFT_WASI_ERRNO_SUCCESS;
    case E2BIG: return WAFT_WASI_ERRNO_2BIG;
    case EACCES: return WAFT_WASI_ERRNO_ACCES;
    case EADDRINUSE: return WAFT_WASI_ERRNO_ADDRINUSE;
    case EADDRNOTAVAIL: return WAFT_WASI_ERRNO_ADDRNOTAVAIL;
    case EAFNOSUPPORT: return WAFT_WASI_ERRNO_AFNOSUPPORT;
    case EAGAIN: return WAFT_WASI_ERRNO_AGAIN;
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return WAFT_WASI_ERRNO_AGAIN;
#endif
    case EALREADY: return WAFT_WASI_ERRNO_ALREADY;
    case EBADF: return WAFT_WASI_ERRNO_BADF;
    case EBADMSG: return WAFT_WASI_ERRNO_BADMSG;
    case EBUSY: return WAFT_WASI_ERRNO_BUSY;
    case ECANCELED: return WAFT_WASI_ERRNO_CANCELED;
    case ECHILD: return WAFT_WASI_ERRNO_CHILD;
    case ECONNABORTED: return WAFT_WASI_ERRNO_CONNABORTED;
    case ECONNREFUSED: return WAFT_WASI_ERRNO_CONNREFUSED;
    case ECONNRESET: return WAFT_WASI_ERRNO_CONNRESET;
    case EDEADLK: return WAFT_WASI_ERRNO_DEADLK;
    case EDESTADDRREQ: return WAFT_WASI_ERRNO_DESTADDRREQ;
    case EDOM: return WAFT_WASI_ERRNO_DOM;
    case EDQUOT: return WAFT_WASI_ERRNO_DQUOT;
    case EEXIST: return WAFT_WASI_ERRNO_EXIST;
    case EFAULT: return WAFT_WASI_ERRNO_FAULT;
    case EFBIG: return WAFT_WASI_ERRNO_FBIG;
    case EHOSTUNREACH: return WAFT_WASI_ERRNO_HOSTUNREACH;
    case EIDRM: return WAFT_WASI_ERRNO_IDRM;
    case EILSEQ: return WAFT_WASI_ERRNO_ILSEQ;
    case EINPROGRESS: return WAFT_WASI_ERRNO_INPROGRESS;
    case EINTR: return WAFT_WASI_ERRNO_INTR;
    case EINVAL: return WAFT_WASI_ERRNO_INVAL;
    case EIO: return WAFT_WASI_ERRNO_IO;
    case EISCONN: return WAFT_WASI_ERRNO_ISCONN;
    case EISDIR: return WAFT_WASI_ERRNO_ISDIR;
    case ELOOP: return WAFT_WASI_ERRNO_LOOP;
    case EMFILE: return WAFT_WASI_ERRNO_MFILE;
    case EMLINK: return WAFT_WASI_ERRNO_MLINK;
    case EMSGSIZE: return WAFT_WASI_ERRNO_MSGSIZE;
    case EMULTIHOP: return WAFT_WASI_ERRNO_MULTIHOP;
    case ENAMETOOLONG: return WAFT_WASI_ERRNO_NAMETOOLONG;
    case ENETDOWN: return WAFT_WASI_ERRNO_NETDOWN;
    case ENETRESET: return WAFT_WASI_ERRNO_NETRESET;
    case ENETUNREACH: return WAFT_WASI_ERRNO_NETUNREACH;
    case ENFILE: return WAFT_WASI_ERRNO_NFILE;
    case ENOBUFS: return WAFT_WASI_ERRNO_NOBUFS;
    case ENODEV: return WAFT_WASI_ERRNO_NODEV;
    case ENOENT: return WAFT_WASI_ERRNO_NOENT;
    case ENOEXEC: return WAFT_WASI_ERRNO_NOEXEC;
    case ENOLCK: return WAFT_WASI_ERRNO_NOLCK;
    case ENOLINK: return WAFT_WASI_ERRNO_NOLINK;
    case ENOMEM: return WAFT_WASI_ERRNO_NOMEM;
    case ENOMSG: return WAFT_WASI_ERRNO_NOMSG;
    case ENOPROTOOPT: return WAFT_WASI_ERRNO_NOPROTOOPT;
    case ENOSPC: return WAFT_WASI_ERRNO_NOSPC;
    case ENOSYS: return WAFT_WASI_ERRNO_NOSYS;
    case ENOTCONN: return WAFT_WASI_ERRNO_NOTCONN;
    case ENOTDIR: return WAFT_WASI_ERRNO_NOTDIR;
    case ENOTEMPTY: return WAFT_WASI_ERRNO_NOTEMPTY;
    case ENOTRECOVERABLE: return WAFT_WASI_ERRNO_NOTRECOVERABLE;
    case ENOTSOCK: return WAFT_WASI_ERRNO_NOTSOCK;
    case ENOTSUP: return WAFT_WASI_ERRNO_NOTSUP;
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return WAFT_WASI_ERRNO_NOTSUP;
#endif
    case ENOTTY: return WAFT_WASI_ERRNO_NOTTY;
    case ENXIO: return WAFT_WASI_ERRNO_NXIO;
    case EOVERFLOW: return WAFT_WASI_ERRNO_OVERFLOW;
    case EOWNERDEAD: return WAFT_WASI_ERRNO_OWNERDEAD;
    case EPERM: return WAFT_WASI_ERRNO_PERM;
    case EPIPE: return WAFT_WASI_ERRNO_PIPE;
    case EPROTO: return WAFT_WASI_ERRNO_PROTO;
    case EPROTONOSUPPORT: return WAFT_WASI_ERRNO_PROTONOSUPPORT;
    case EPROTOTYPE: return WAFT_WASI_ERRNO_PROTOTYPE;
    case ERANGE: return WAFT_WASI_ERRNO_RANGE;
    case EROFS: return WAFT_WASI_ERRNO_ROFS;
    case ESPIPE: return WAFT_WASI_ERRNO_SPIPE;
    case ESRCH: return WAFT_WASI_ERRNO_SRCH;
    case ESTALE: return WAFT_WASI_ERRNO_STALE;
    case ETIMEDOUT: return WAFT_WASI_ERRNO_TIMEDOUT;
    case ETXTBSY: return WAFT_WASI_ERRNO_TXTBSY;
    case EXDEV: return WAFT_WASI_ERRNO_XDEV;
    default: return WAFT_WASI_ERRNO_IO; /* a host error WASI has no name for */
    }
}

/* Other host-side rooms (runtime_c/sockets/port_posix.c) translate errno
 * with the same table rather than a second copy of it. */
uint16_t wasi_port_posix_errno(int host_errno) { return wasi_errno(host_errno); }

/* The WASI errno for the last failed call. */
#define ERR() wasi_errno(errno)

/* ------------------------------------------------------------------------- */
/* Types and times                                                            */
/* ------------------------------------------------------------------------- */

static uint8_t filetype_of(int fd, mode_t mode) {
    if (S_ISREG(mode)) return WAFT_WASI_FILETYPE_REGULAR_FILE;
    if (S_ISDIR(mode)) return WAFT_WASI_FILETYPE_DIRECTORY;
    if (S_ISCHR(mode)) return WAFT_WASI_FILETYPE_CHARACTER_DEVICE;
    if (S_ISBLK(mode)) return WAFT_WASI_FILETYPE_BLOCK_DEVICE;
    if (S_ISLNK(mode)) return WAFT_WASI_FILETYPE_SYMBOLIC_LINK;
    if (S_ISSOCK(mode)) {
        int type = SOCK_STREAM;
        socklen_t len = sizeof type;
        if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM) {
            return WAFT_WASI_FILETYPE_SOCKET_DGRAM;
        }
        return WAFT_WASI_FILETYPE_SOCKET_STREAM;
    }
    return WAFT_WASI_FILETYPE_UNKNOWN; /* pipes, as wasmtime reports them */
}

static bool seekable_mode(mode_t mode) { return S_ISREG(mode) || S_ISBLK(mode) || S_ISDIR(mode); }

static uint64_t ns_of(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

static void filestat_of(int fd, const struct stat *st, wasi_filestat *out) {
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->filetype = filetype_of(fd, st->st_mode);
    out->nlink = (uint64_t)st->st_nlink;
    out->size = (uint64_t)st->st_size;
    out->atim = ns_of(st->st_atim);
    out->mtim = ns_of(st->st_mtim);
    out->ctim = ns_of(st->st_ctim);
}

/* The two timespecs utimensat/futimens take, from WASI times and fstflags. */
static void times_of(uint64_t atim, uint64_t mtim, uint16_t fst_flags, struct timespec ts[2]) {
    uint64_t value[2] = {atim, mtim};
    uint16_t set[2] = {WAFT_WASI_FSTFLAGS_ATIM, WAFT_WASI_FSTFLAGS_MTIM};
    uint16_t now[2] = {WAFT_WASI_FSTFLAGS_ATIM_NOW, WAFT_WASI_FSTFLAGS_MTIM_NOW};
    for (int i = 0; i < 2; i++) {
        if (fst_flags & set[i]) {
            ts[i].tv_sec = (time_t)(value[i] / 1000000000u);
            ts[i].tv_nsec = (long)(value[i] % 1000000000u);
        } else {
            ts[i].tv_sec = 0;
            ts[i].tv_nsec = (fst_flags & now[i]) ? UTIME_NOW : UTIME_OMIT;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Handles                                                                    */
/* ------------------------------------------------------------------------- */

void wasi_port_stdio(int i, int32_t *host, uint8_t *filetype, bool *seekable) {
    /* A guest writing to a closed pipe or socket gets EPIPE, as under
     * wasmtime, instead of the whole host process dying of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    struct stat st;
    *host = i;
    if (fstat(i, &st) == 0) {
        *filetype = filetype_of(i, st.st_mode);
        *seekable = seekable_mode(st.st_mode);
    } else {
        *filetype = WAFT_WASI_FILETYPE_CHARACTER_DEVICE;
        *seekable = false;
    }
}

uint16_t wasi_port_close(int32_t host) { return close(host) == 0 ? 0 : ERR(); }

void wasi_port_dir_stream_close(void *stream) { closedir((DIR *)stream); }

uint16_t wasi_port_fdflags(int32_t host, uint16_t *fdflags) {
    int fl = fcntl(host, F_GETFL);
    if (fl < 0) {
        return ERR();
    }
    uint16_t out = 0;
    if (fl & O_APPEND) out |= WAFT_WASI_FDFLAGS_APPEND;
    if (fl & O_NONBLOCK) out |= WAFT_WASI_FDFLAGS_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) {
        out |= WAFT_WASI_FDFLAGS_SYNC;
    } else if (fl & O_DSYNC) {
        out |= WAFT_WASI_FDFLAGS_DSYNC;
    }
    *fdflags = out;
    return 0;
}

uint16_t wasi_port_set_fdflags(int32_t host, uint16_t fdflags) {
    /* Linux's F_SETFL changes only O_APPEND and O_NONBLOCK; the sync modes
     * are fixed at open. */
    if (fdflags & (WAFT_WASI_FDFLAGS_DSYNC | WAFT_WASI_FDFLAGS_RSYNC | WAFT_WASI_FDFLAGS_SYNC)) {
        return WAFT_WASI_ERRNO_NOTSUP;
    }
    int fl = fcntl(host, F_GETFL);
    if (fl < 0) {
        return ERR();
    }
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (fdflags & WAFT_WASI_FDFLAGS_APPEND) fl |= O_APPEND;
    if (fdflags & WAFT_WASI_FDFLAGS_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(host, F_SETFL, fl) == 0 ? 0 : ERR();
}

uint16_t wasi_port_filestat(int32_t host, wasi_filestat *out) {
    struct stat st;
    if (fstat(host, &st) != 0) {
        return ERR();
    }
    filestat_of(host, &st, out);
    return 0;
}

uint16_t wasi_port_set_size(int32_t host, uint64_t size) {
    if (size > INT64_MAX) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return ftruncate(host, (off_t)size) == 0 ? 0 : ERR();
}

uint16_t wasi_port_set_times(int32_t host, uint64_t atim, uint64_t mtim, uint16_t fst_flags) {
    struct timespec ts[2];
    times_of(atim, mtim, fst_flags, ts);
    return futimens(host, ts) == 0 ? 0 : ERR();
}

/* wasi_iov has the layout of struct iovec on purpose; prove it. */
_Static_assert(sizeof(wasi_iov) == sizeof(struct iovec), "wasi_iov must match struct iovec");
_Static_assert(offsetof(wasi_iov, base) == offsetof(struct iovec, iov_base), "wasi_iov.base");
_Static_assert(offsetof(wasi_iov, len) == offsetof(struct iovec, iov_len), "wasi_iov.len");
#define IOV(p) ((const struct iovec *)(const void *)(p))

/* Retry on EINTR: a signal the embedder handles is not the guest's error. */
#define RETRY(call)                                                                                            \
    ({                                                                                                         \
        ssize_t r_;                                                                                            \
        do {                                                                                                   \
            r_ = (call);                                                                                       \
        } while (r_ < 0 && errno == EINTR);                                                                    \
        r_;                                                                                                    \
    })

static uint16_t io_result(ssize_t r, size_t *done) {
    if (r < 0) {
        return ERR();
    }
    *done = (size_t)r;
    return 0;
}

uint16_t wasi_port_readv(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    return io_result(RETRY(readv(host, IOV(iov), n)), done);
}

uint16_t wasi_port_writev(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    return io_result(RETRY(writev(host, IOV(iov), n)), done);
}

uint16_t wasi_port_preadv(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done) {
    if (offset > INT64_MAX) return WAFT_WASI_ERRNO_INVAL;
    return io_result(RETRY(preadv(host, IOV(iov), n, (off_t)offset)), done);
}

uint16_t wasi_port_pwritev(int32_t host, const wasi_iov *iov, int n, uint64_t offset, size_t *done) {
    if (offset > INT64_MAX) return WAFT_WASI_ERRNO_INVAL;
    return io_result(RETRY(pwritev(host, IOV(iov), n, (off_t)offset)), done);
}

uint16_t wasi_port_seek(int32_t host, int64_t offset, uint8_t whence, uint64_t *newoffset) {
    static const int whences[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t r = lseek(host, (off_t)offset, whences[whence]);
    if (r < 0) {
        return ERR();
    }
    *newoffset = (uint64_t)r;
    return 0;
}

uint16_t wasi_port_sync(int32_t host, bool data_only) {
    return (data_only ? fdatasync(host) : fsync(host)) == 0 ? 0 : ERR();
}

uint16_t wasi_port_advise(int32_t host, uint64_t offset, uint64_t len, uint8_t advice) {
    static const int advices[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                  POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    if (offset > INT64_MAX || len > INT64_MAX) return WAFT_WASI_ERRNO_INVAL;
    int r = posix_fadvise(host, (off_t)offset, (off_t)len, advices[advice]);
    return (uint16_t)(r == 0 ? 0 : wasi_errno(r)); /* returns the error, does not set errno */
}

uint16_t wasi_port_allocate(int32_t host, uint64_t offset, uint64_t len) {
    if (offset > INT64_MAX || len > INT64_MAX) return WAFT_WASI_ERRNO_INVAL;
    int r = posix_fallocate(host, (off_t)offset, (off_t)len);
    return (uint16_t)(r == 0 ? 0 : wasi_errno(r));
}

uint16_t wasi_port_readdir(waft_wasi_fd *slot, uint64_t cookie, wasi_dirent *out, bool *end) {
    DIR *dir = (DIR *)slot->dir_stream;
    if (dir == NULL) {
        /* fdopendir takes its fd over: give it a duplicate, so fd_close and
         * the stream each close their own. */
        int dup_fd = fcntl(slot->host, F_DUPFD_CLOEXEC, 0);
        if (dup_fd < 0) {
            return ERR();
        }
        dir = fdopendir(dup_fd);
        if (dir == NULL) {
            uint16_t err = ERR();
            close(dup_fd);
            return err;
        }
        slot->dir_stream = dir;
        slot->dir_cookie = 0;
    }
    /* Cookies count entries from the start: sequential reads cost nothing,
     * a jump back rewinds and skips forward. */
    if (cookie != slot->dir_cookie) {
        if (cookie < slot->dir_cookie) {
            rewinddir(dir);
            slot->dir_cookie = 0;
        }
        while (slot->dir_cookie < cookie) {
            errno = 0;
            if (readdir(dir) == NULL) {
                if (errno != 0) return ERR();
                *end = true;
                return 0;
            }
            slot->dir_cookie++;
        }
    }
    errno = 0;
    struct dirent *d = readdir(dir);
    if (d == NULL) {
        if (errno != 0) return ERR();
        *end = true;
        return 0;
    }
    slot->dir_cookie++;
    *end = false;
    out->ino = (uint64_t)d->d_ino;
    out->namlen = strlen(d->d_name);
    if (out->namlen >= sizeof out->name) {
        out->namlen = sizeof out->name - 1;
    }
    memcpy(out->name, d->d_name, out->namlen);
    out->name[out->namlen] = '\0';
    switch (d->d_type) {
    case DT_REG: out->filetype = WAFT_WASI_FILETYPE_REGULAR_FILE; break;
    case DT_DIR: out->filetype = WAFT_WASI_FILETYPE_DIRECTORY; break;
    case DT_LNK: out->filetype = WAFT_WASI_FILETYPE_SYMBOLIC_LINK; break;
    case DT_CHR: out->filetype = WAFT_WASI_FILETYPE_CHARACTER_DEVICE; break;
    case DT_BLK: out->filetype = WAFT_WASI_FILETYPE_BLOCK_DEVICE; break;
    case DT_SOCK: out->filetype = WAFT_WASI_FILETYPE_SOCKET_STREAM; break;
    default: {
        /* DT_UNKNOWN (some filesystems): ask the inode. */
        struct stat st;
        out->filetype = fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                            ? filetype_of(-1, st.st_mode)
                            : WAFT_WASI_FILETYPE_UNKNOWN;
    }
    }
    return 0;
}

uint16_t wasi_port_open_dir(const char *host_path, int32_t *host) {
    int fd = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return ERR();
    }
    *host = fd;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The sandboxed resolver                                                     */
/* ------------------------------------------------------------------------- */

/* Where a path leads: the directory holding its last component, and that
 * component ("." when the path names the directory itself). */
typedef struct resolved {
    int dir;
    bool owned;   /* `dir` was opened by the resolver: resolved_done closes it */
    bool slash;   /* the last component had a trailing slash: it must be a directory */
    bool missing; /* the last component was looked up (a trailing slash, or `follow`)
                   * and does not exist: the caller may be creating it */
    char name[256];
} resolved;

static void resolved_done(resolved *r) {
    if (r->owned) {
        close(r->dir);
        r->owned = false;
    }
}

/* Step into `next` (an fd the resolver opened) from r->dir. */
static void step(resolved *r, int next) {
    resolved_done(r);
    r->dir = next;
    r->owned = true;
}

/*
 * Resolve `path` beneath directory `root`.  `follow`: a symlink as the last
 * component is followed too (a trailing slash always follows, as POSIX has
 * it).  A missing last component is fine (the caller may be creating it); a
 * missing directory on the way is NOENT.  A trailing slash is not dropped
 * silently: an existing last component must then be a directory (NOTDIR),
 * and r->slash tells the caller, which must not create anything but a
 * directory there (`new_name_ok`).
 */
static uint16_t resolve(int root, const char *path, bool follow, resolved *r) {
    char rest[WASI_PATH_MAX];
    size_t len = strlen(path);
    r->dir = root;
    r->owned = false;
    r->slash = false;
    r->missing = false;
    if (len == 0) {
        return WAFT_WASI_ERRNO_NOENT;
    }
    if (len >= sizeof rest) {
        return WAFT_WASI_ERRNO_NAMETOOLONG;
    }
    memcpy(rest, path, len + 1);
    size_t pos = 0;
    int depth = 0, links = 0;
    for (;;) {
        while (rest[pos] == '/') pos++;
        size_t start = pos;
        while (rest[pos] != '\0' && rest[pos] != '/') pos++;
        size_t clen = pos - start;
        size_t after = pos;
        while (rest[after] == '/') after++;
        bool slash = after > pos;
        bool last = rest[after] == '\0';
        r->slash = slash;
        if (clen == 0) {
            strcpy(r->name, "."); /* nothing left: the directory itself */
            return 0;
        }
        if (clen >= sizeof r->name) {
            resolved_done(r);
            return WAFT_WASI_ERRNO_NAMETOOLONG;
        }
        memcpy(r->name, rest + start, clen);
        r->name[clen] = '\0';

        if (strcmp(r->name, ".") == 0) {
            if (last) return 0;
            pos = after;
            continue;
        }
        if (strcmp(r->name, "..") == 0) {
            if (depth == 0) {
                resolved_done(r);
                return WAFT_WASI_ERRNO_PERM; /* above the directory the path is relative to */
            }
            int up = openat(r->dir, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (up < 0) {
                uint16_t err = ERR();
                resolved_done(r);
                return err;
            }
            step(r, up);
            depth--;
            if (last) {
                strcpy(r->name, ".");
                return 0;
            }
            pos = after;
            continue;
        }
        if (last && !follow && !slash) {
            return 0;
        }
        struct stat st;
        if (fstatat(r->dir, r->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT && last) {
                r->missing = true;
                return 0;
            }
            uint16_t err = ERR();
            resolved_done(r);
            return err;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[WASI_PATH_MAX];
            if (++links > MAX_SYMLINKS) {
                resolved_done(r);
                return WAFT_WASI_ERRNO_LOOP;
            }
            ssize_t n = readlinkat(r->dir, r->name, target, sizeof target);
            if (n < 0 || (size_t)n >= sizeof target) {
                uint16_t err = n < 0 ? ERR() : WAFT_WASI_ERRNO_NAMETOOLONG;
                resolved_done(r);
                return err;
            }
            if (n == 0 || target[0] == '/') {
                resolved_done(r);
                return n == 0 ? WAFT_WASI_ERRNO_NOENT : WAFT_WASI_ERRNO_PERM;
            }
            /* rest := target [+ "/" + what followed the link] */
            const char *tail = rest + after;
            size_t tail_len = strlen(tail);
            bool sep = tail_len > 0 || slash;
            if ((size_t)n + sep + tail_len >= sizeof rest) {
                resolved_done(r);
                return WAFT_WASI_ERRNO_NAMETOOLONG;
            }
            memmove(rest + n + sep, tail, tail_len + 1);
            memcpy(rest, target, (size_t)n);
            if (sep) rest[n] = '/';
            pos = 0;
            continue;
        }
        if (last) {
            if (slash && !S_ISDIR(st.st_mode)) {
                resolved_done(r);
                return WAFT_WASI_ERRNO_NOTDIR;
            }
            return 0;
        }
        if (!S_ISDIR(st.st_mode)) {
            resolved_done(r);
            return WAFT_WASI_ERRNO_NOTDIR;
        }
        int next = openat(r->dir, r->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            uint16_t err = ERR();
            resolved_done(r);
            return err;
        }
        step(r, next);
        depth++;
        pos = after;
    }
}

/* ------------------------------------------------------------------------- */
/* Path operations                                                            */
/* ------------------------------------------------------------------------- */

/* A new link or symlink is never a directory, so a name with a trailing
 * slash must already exist (a directory: the call then fails EXIST): a missing
 * one is NOENT, as Linux's linkat/symlinkat and wasmtime answer, rather than
 * the slash being dropped and the link made under the bare name. */
static uint16_t new_name_ok(const resolved *r) { return r->slash && r->missing ? WAFT_WASI_ERRNO_NOENT : 0; }

uint16_t wasi_port_path_open(int32_t dir, const char *path, bool follow, uint16_t oflags, uint16_t fdflags,
                             bool read, bool write, int32_t *host, uint8_t *filetype, bool *seekable) {
    int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
    if (oflags & WAFT_WASI_OFLAGS_CREAT) flags |= O_CREAT;
    if (oflags & WAFT_WASI_OFLAGS_DIRECTORY) flags |= O_DIRECTORY;
    if (oflags & WAFT_WASI_OFLAGS_EXCL) flags |= O_EXCL;
    if (oflags & WAFT_WASI_OFLAGS_TRUNC) flags |= O_TRUNC;
    if (fdflags & WAFT_WASI_FDFLAGS_APPEND) flags |= O_APPEND;
    if (fdflags & WAFT_WASI_FDFLAGS_DSYNC) flags |= O_DSYNC;
    if (fdflags & WAFT_WASI_FDFLAGS_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & WAFT_WASI_FDFLAGS_RSYNC) flags |= O_RSYNC;
    if (fdflags & WAFT_WASI_FDFLAGS_SYNC) flags |= O_SYNC;
    /* O_CREAT|O_EXCL never follows a symlink (POSIX: EEXIST if it exists). */
    if ((oflags & WAFT_WASI_OFLAGS_CREAT) && (oflags & WAFT_WASI_OFLAGS_EXCL)) {
        follow = false;
    }
    resolved r;
    uint16_t err = resolve(dir, path, follow, &r);
    if (err != 0) {
        return err;
    }
    if (r.slash && r.missing && (oflags & WAFT_WASI_OFLAGS_CREAT)) {
        /* "name/" with O_CREAT: only a directory could be meant, and open
         * creates files (Linux: EISDIR; the RAM filesystem says the same). */
        resolved_done(&r);
        return WAFT_WASI_ERRNO_ISDIR;
    }
    int fd = openat(r.dir, r.name, flags, 0666);
    err = fd < 0 ? ERR() : 0;
    resolved_done(&r);
    if (err != 0) {
        return err;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = ERR();
        close(fd);
        return err;
    }
    *host = fd;
    *filetype = filetype_of(fd, st.st_mode);
    *seekable = seekable_mode(st.st_mode);
    return 0;
}

uint16_t wasi_port_path_mkdir(int32_t dir, const char *path) {
    /* mkdir ignores trailing slashes, as Linux and wasmtime do: "name/" names
     * the directory to make, so a file or a (dangling) symlink already there
     * is EXIST, never followed; the RAM filesystem answers the same. */
    char bare[WASI_PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof bare) {
        return WAFT_WASI_ERRNO_NAMETOOLONG;
    }
    while (len > 1 && path[len - 1] == '/') len--;
    memcpy(bare, path, len);
    bare[len] = '\0';
    resolved r;
    uint16_t err = resolve(dir, bare, false, &r);
    if (err == 0) {
        err = mkdirat(r.dir, r.name, 0777) == 0 ? 0 : ERR();
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_stat(int32_t dir, const char *path, bool follow, wasi_filestat *out) {
    resolved r;
    uint16_t err = resolve(dir, path, follow, &r);
    if (err == 0) {
        struct stat st;
        err = fstatat(r.dir, r.name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : ERR();
        if (err == 0) {
            filestat_of(-1, &st, out);
        }
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_set_times(int32_t dir, const char *path, bool follow, uint64_t atim, uint64_t mtim,
                                  uint16_t fst_flags) {
    resolved r;
    uint16_t err = resolve(dir, path, follow, &r);
    if (err == 0) {
        struct timespec ts[2];
        times_of(atim, mtim, fst_flags, ts);
        err = utimensat(r.dir, r.name, ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : ERR();
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_link(int32_t old_dir, const char *old_path, bool follow, int32_t new_dir,
                             const char *new_path) {
    resolved from, to;
    uint16_t err = resolve(old_dir, old_path, follow, &from);
    if (err != 0) {
        return err;
    }
    err = resolve(new_dir, new_path, false, &to);
    if (err == 0) {
        err = new_name_ok(&to);
        if (err == 0) err = linkat(from.dir, from.name, to.dir, to.name, 0) == 0 ? 0 : ERR();
        resolved_done(&to);
    }
    resolved_done(&from);
    return err;
}

uint16_t wasi_port_path_readlink(int32_t dir, const char *path, uint8_t *buf, size_t len, size_t *used) {
    resolved r;
    uint16_t err = resolve(dir, path, false, &r);
    if (err == 0) {
        ssize_t n = readlinkat(r.dir, r.name, (char *)buf, len);
        err = n < 0 ? ERR() : 0;
        if (err == 0) {
            *used = (size_t)n; /* cut to `len` when the buffer is short, as the witx says */
        }
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_rmdir(int32_t dir, const char *path) {
    resolved r;
    uint16_t err = resolve(dir, path, false, &r);
    if (err == 0) {
        err = unlinkat(r.dir, r.name, AT_REMOVEDIR) == 0 ? 0 : ERR();
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_rename(int32_t old_dir, const char *old_path, int32_t new_dir, const char *new_path) {
    resolved from, to;
    uint16_t err = resolve(old_dir, old_path, false, &from);
    if (err != 0) {
        return err;
    }
    err = resolve(new_dir, new_path, false, &to);
    if (err == 0) {
        err = renameat(from.dir, from.name, to.dir, to.name) == 0 ? 0 : ERR();
        resolved_done(&to);
    }
    resolved_done(&from);
    return err;
}

uint16_t wasi_port_path_symlink(const char *target, int32_t dir, const char *path) {
    resolved r;
    uint16_t err = resolve(dir, path, false, &r);
    if (err == 0) {
        err = new_name_ok(&r);
        if (err == 0) err = symlinkat(target, r.dir, r.name) == 0 ? 0 : ERR();
        resolved_done(&r);
    }
    return err;
}

uint16_t wasi_port_path_unlink(int32_t dir, const char *path) {
    resolved r;
    uint16_t err = resolve(dir, path, false, &r);
    if (err == 0) {
        err = unlinkat(r.dir, r.name, 0) == 0 ? 0 : ERR();
        resolved_done(&r);
    }
    return err;
}

/* ------------------------------------------------------------------------- */
/* Clocks, poll, randomness, scheduling                                       */
/* ------------------------------------------------------------------------- */

static bool host_clock(uint32_t id, clockid_t *out) {
    switch (id) {
    case WAFT_WASI_CLOCKID_REALTIME: *out = CLOCK_REALTIME; return true;
    case WAFT_WASI_CLOCKID_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WAFT_WASI_CLOCKID_PROCESS_CPUTIME_ID: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WAFT_WASI_CLOCKID_THREAD_CPUTIME_ID: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

uint16_t wasi_port_clock_res(uint32_t id, uint64_t *ns) {
    clockid_t clock;
    struct timespec ts;
    if (!host_clock(id, &clock)) return WAFT_WASI_ERRNO_INVAL;
    if (clock_getres(clock, &ts) != 0) return ERR();
    *ns = ns_of(ts);
    if (*ns == 0) *ns = 1; /* the witx: "required to provide a non-zero value" */
    return 0;
}

uint16_t wasi_port_clock_time(uint32_t id, uint64_t *ns) {
    clockid_t clock;
    struct timespec ts;
    if (!host_clock(id, &clock)) return WAFT_WASI_ERRNO_INVAL;
    if (clock_gettime(clock, &ts) != 0) return ERR();
    *ns = ns_of(ts);
    return 0;
}

uint16_t wasi_port_poll(wasi_pollfd *fds, int n, int64_t timeout_ns, bool *any) {
    struct pollfd pfd[WASI_POLL_MAX];
    for (int i = 0; i < n; i++) {
        pfd[i].fd = fds[i].host;
        pfd[i].events = (short)((fds[i].want_read ? POLLIN : 0) | (fds[i].want_write ? POLLOUT : 0));
        pfd[i].revents = 0;
    }
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    int r;
    do {
        r = ppoll(pfd, (nfds_t)n, tsp, NULL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return ERR();
    }
    *any = r > 0;
    for (int i = 0; i < n; i++) {
        short ev = pfd[i].revents;
        fds[i].ready = (ev & (POLLIN | POLLOUT)) != 0;
        fds[i].hangup = (ev & POLLHUP) != 0;
        fds[i].error = (ev & POLLNVAL) ? WAFT_WASI_ERRNO_BADF : (ev & POLLERR) ? WAFT_WASI_ERRNO_IO : 0;
        fds[i].nbytes = 0;
        int avail = 0;
        if (fds[i].want_read && (ev & POLLIN) && ioctl(fds[i].host, FIONREAD, &avail) == 0 && avail > 0) {
            fds[i].nbytes = (uint64_t)avail;
        }
    }
    return 0;
}

uint16_t wasi_port_random(uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ERR();
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

uint16_t wasi_port_yield(void) { return sched_yield() == 0 ? 0 : ERR(); }

/* ------------------------------------------------------------------------- */
/* Sockets                                                                    */
/* ------------------------------------------------------------------------- */

uint16_t wasi_port_sock_accept(int32_t host, bool nonblock, int32_t *conn) {
    int fd;
    do {
        fd = accept4(host, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return ERR();
    }
    *conn = fd;
    return 0;
}

uint16_t wasi_port_sock_recv(int32_t host, const wasi_iov *iov, int n, uint16_t riflags, size_t *len,
                             uint16_t *roflags) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)(void *)iov;
    msg.msg_iovlen = (size_t)n;
    int flags = 0;
    if (riflags & WAFT_WASI_RIFLAGS_RECV_PEEK) flags |= MSG_PEEK;
    if (riflags & WAFT_WASI_RIFLAGS_RECV_WAITALL) flags |= MSG_WAITALL;
    ssize_t r = RETRY(recvmsg(host, &msg, flags));
    if (r < 0) {
        return ERR();
    }
    *len = (size_t)r;
    *roflags = (msg.msg_flags & MSG_TRUNC) ? WAFT_WASI_ROFLAGS_RECV_DATA_TRUNCATED : 0;
    return 0;
}

uint16_t wasi_port_sock_send(int32_t host, const wasi_iov *iov, int n, size_t *len) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)(void *)iov;
    msg.msg_iovlen = (size_t)n;
    return io_result(RETRY(sendmsg(host, &msg, MSG_NOSIGNAL)), len);
}

uint16_t wasi_port_sock_shutdown(int32_t host, uint8_t how) {
    int h = how == (WAFT_WASI_SDFLAGS_RD | WAFT_WASI_SDFLAGS_WR) ? SHUT_RDWR
            : how == WAFT_WASI_SDFLAGS_RD                         ? SHUT_RD
                                                                  : SHUT_WR;
    return shutdown(host, h) == 0 ? 0 : ERR();
}

int32_t waft_wasi_listen_tcp(waft_wasi_ctx *ctx, const char *address, uint16_t *bound_port) {
    char host[64];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof host) {
        return -WAFT_WASI_ERRNO_INVAL;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return -WAFT_WASI_ERRNO_INVAL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -(int32_t)ERR();
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t salen = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
        int32_t err = -(int32_t)ERR();
        close(fd);
        return err;
    }
    if (bound_port != NULL) {
        *bound_port = ntohs(sa.sin_port);
    }
    int32_t guest = waft_wasi_preopen_socket(ctx, fd);
    if (guest < 0) {
        close(fd);
    }
    return guest;
}
