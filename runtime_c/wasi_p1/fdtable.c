/*
 * fdtable.c: the guest's file-descriptor table (a fixed array in the ctx),
 * which rights each kind of fd gets, and the embedder calls that fill the
 * table: init, preopens, destroy.
 *
 * Guest fd numbers are slot indexes.  Slots 0-2 are stdio; preopens follow
 * from 3 in the order they were added, which is the order wasi-libc finds
 * them (it asks fd_prestat_get for 3, 4, ... until BADF).
 */
#include "wasi_internal.h"

#include <string.h>

/* Rights by what the fd is.  A right missing here is one the operation can
 * never use on such an fd, so path_open may drop it (the witx allows
 * "fewer rights than specified ... if those rights do not apply"). */
#define R(name) WAFT_WASI_RIGHTS_##name
#define FILE_RIGHTS                                                                                          \
    (R(FD_DATASYNC) | R(FD_READ) | R(FD_SEEK) | R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) | R(FD_TELL) |        \
     R(FD_WRITE) | R(FD_ADVISE) | R(FD_ALLOCATE) | R(FD_FILESTAT_GET) | R(FD_FILESTAT_SET_SIZE) |          \
     R(FD_FILESTAT_SET_TIMES) | R(POLL_FD_READWRITE))
#define DIR_RIGHTS                                                                                           \
    (R(FD_FDSTAT_SET_FLAGS) | R(FD_SYNC) | R(FD_DATASYNC) | R(FD_ADVISE) | R(PATH_CREATE_DIRECTORY) |     \
     R(PATH_CREATE_FILE) | R(PATH_LINK_SOURCE) | R(PATH_LINK_TARGET) | R(PATH_OPEN) | R(FD_READDIR) |     \
     R(PATH_READLINK) | R(PATH_RENAME_SOURCE) | R(PATH_RENAME_TARGET) | R(PATH_FILESTAT_GET) |            \
     R(PATH_FILESTAT_SET_SIZE) | R(PATH_FILESTAT_SET_TIMES) | R(FD_FILESTAT_GET) |                          \
     R(FD_FILESTAT_SET_TIMES) | R(PATH_SYMLINK) | R(PATH_REMOVE_DIRECTORY) | R(PATH_UNLINK_FILE) |         \
     R(POLL_FD_READWRITE))
#define SOCKET_RIGHTS                                                                                        \
    (R(FD_READ) | R(FD_WRITE) | R(FD_FDSTAT_SET_FLAGS) | R(FD_FILESTAT_GET) | R(POLL_FD_READWRITE) |      \
     R(SOCK_SHUTDOWN))
/* Terminals and pipes: no offset, so no seek/tell (wasi-libc's isatty
 * tests exactly that) and no pread/pwrite. */
#define STREAM_RIGHTS                                                                                        \
    (R(FD_READ) | R(FD_WRITE) | R(FD_FDSTAT_SET_FLAGS) | R(FD_FILESTAT_GET) | R(FD_FILESTAT_SET_TIMES) |  \
     R(FD_SYNC) | R(FD_DATASYNC) | R(POLL_FD_READWRITE))

uint64_t wasi_rights_for(uint8_t filetype, bool seekable) {
    switch (filetype) {
    case WAFT_WASI_FILETYPE_DIRECTORY:
        return DIR_RIGHTS;
    case WAFT_WASI_FILETYPE_SOCKET_STREAM:
    case WAFT_WASI_FILETYPE_SOCKET_DGRAM:
        return SOCKET_RIGHTS;
    default:
        return seekable ? FILE_RIGHTS : STREAM_RIGHTS;
    }
}

uint64_t wasi_inheriting_for(uint8_t filetype) {
    return filetype == WAFT_WASI_FILETYPE_DIRECTORY ? (DIR_RIGHTS | FILE_RIGHTS) : 0;
}

/* Threads (wasi-threads) share one fd table.  A slot changes hands through its
 * `kind` alone: claimed FREE -> RESERVED with a compare-and-swap, filled in,
 * then published with a release store of its real kind; freed by a release
 * store of FREE after its fields are reset.  So two threads opening at once
 * never get the same slot, and a lookup that sees a kind sees its fields. */
static waft_wasi_fd_kind kind_of(const waft_wasi_fd *slot) {
    return __atomic_load_n(&slot->kind, __ATOMIC_ACQUIRE);
}

waft_wasi_fd *wasi_fd(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, uint16_t *err) {
    if (fd < 0 || fd >= WAFT_WASI_MAX_FDS || kind_of(&ctx->fds[fd]) == WAFT_WASI_FD_FREE ||
        kind_of(&ctx->fds[fd]) == WAFT_WASI_FD_RESERVED) {
        *err = WAFT_WASI_ERRNO_BADF;
        return NULL;
    }
    waft_wasi_fd *slot = &ctx->fds[fd];
    if ((slot->rights_base & need) != need) {
        *err = WAFT_WASI_ERRNO_NOTCAPABLE;
        return NULL;
    }
    return slot;
}

waft_wasi_fd *wasi_dir_fd(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, uint16_t *err) {
    /* BADF before NOTDIR before NOTCAPABLE: a file fd lacks the path rights
     * anyway, and NOTDIR says what is actually wrong. */
    waft_wasi_fd *slot = wasi_fd(ctx, fd, 0, err);
    if (slot == NULL) {
        return NULL;
    }
    if (slot->kind != WAFT_WASI_FD_DIR && slot->kind != WAFT_WASI_FD_PREOPEN) {
        *err = WAFT_WASI_ERRNO_NOTDIR;
        return NULL;
    }
    if ((slot->rights_base & need) != need) {
        *err = WAFT_WASI_ERRNO_NOTCAPABLE;
        return NULL;
    }
    return slot;
}

int32_t wasi_fd_alloc(waft_wasi_ctx *ctx) {
    for (int32_t i = 0; i < WAFT_WASI_MAX_FDS; i++) {
        waft_wasi_fd_kind free_kind = WAFT_WASI_FD_FREE;
        if (__atomic_compare_exchange_n(&ctx->fds[i].kind, &free_kind, WAFT_WASI_FD_RESERVED, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            return i;
        }
    }
    return -1;
}

void wasi_fd_unreserve(waft_wasi_ctx *ctx, int32_t fd) {
    __atomic_store_n(&ctx->fds[fd].kind, WAFT_WASI_FD_FREE, __ATOMIC_RELEASE);
}

void wasi_fd_set(waft_wasi_ctx *ctx, int32_t fd, waft_wasi_fd_kind kind, int32_t host, uint8_t filetype,
                 uint64_t base, uint64_t inheriting) {
    waft_wasi_fd *slot = &ctx->fds[fd];
    slot->host = host;
    slot->owned = true;
    slot->filetype = filetype;
    slot->rights_base = base;
    slot->rights_inheriting = inheriting;
    slot->guest_name = NULL;
    slot->dir_stream = NULL;
    slot->dir_cookie = 0;
    __atomic_store_n(&slot->kind, kind, __ATOMIC_RELEASE); /* last: publishes the fields */
}

uint16_t wasi_fd_release(waft_wasi_fd *slot) {
    uint16_t err = 0;
    if (slot->dir_stream != NULL) {
        wasi_port_dir_stream_close(slot->dir_stream);
    }
    if (slot->owned) {
        err = wasi_port_close(slot->host);
    }
    waft_wasi_fd_kind kind = slot->kind;
    memset(slot, 0, sizeof *slot);
    slot->kind = kind; /* still claimed until the store below */
    slot->host = -1;
    __atomic_store_n(&slot->kind, WAFT_WASI_FD_FREE, __ATOMIC_RELEASE);
    return err;
}

void waft_wasi_init(waft_wasi_ctx *ctx, int argc, const char *const *argv, const char *const *envp) {
    memset(ctx, 0, sizeof *ctx);
    ctx->argc = argc;
    ctx->argv = argv;
    ctx->envp = envp;
    ctx->envc = 0;
    while (envp != NULL && envp[ctx->envc] != NULL) {
        ctx->envc++;
    }
    for (int i = 0; i < WAFT_WASI_MAX_FDS; i++) {
        ctx->fds[i].host = -1;
    }
    for (int i = 0; i < 3; i++) {
        int32_t host;
        uint8_t filetype;
        bool seekable;
        wasi_port_stdio(i, &host, &filetype, &seekable);
        wasi_fd_set(ctx, i, WAFT_WASI_FD_FILE, host, filetype, wasi_rights_for(filetype, seekable), 0);
        ctx->fds[i].owned = false;  /* the embedder's: never closed by us */
    }
}

void waft_wasi_set_memory(waft_wasi_ctx *ctx, waft_memory *memory) { ctx->memory = memory; }

int32_t waft_wasi_preopen_dir(waft_wasi_ctx *ctx, const char *host_path, const char *guest_name) {
    if (host_path == NULL || guest_name == NULL) {
        return -WAFT_WASI_ERRNO_INVAL;
    }
    int32_t fd = wasi_fd_alloc(ctx);
    if (fd < 0) {
        return -WAFT_WASI_ERRNO_NFILE;
    }
    int32_t host;
    uint16_t err = wasi_port_open_dir(host_path, &host);
    if (err != 0) {
        wasi_fd_unreserve(ctx, fd);
        return -(int32_t)err;
    }
    wasi_fd_set(ctx, fd, WAFT_WASI_FD_PREOPEN, host, WAFT_WASI_FILETYPE_DIRECTORY, DIR_RIGHTS,
                DIR_RIGHTS | FILE_RIGHTS);
    ctx->fds[fd].guest_name = guest_name;
    return fd;
}

int32_t waft_wasi_preopen_socket(waft_wasi_ctx *ctx, int32_t host_handle) {
    int32_t fd = wasi_fd_alloc(ctx);
    if (fd < 0) {
        return -WAFT_WASI_ERRNO_NFILE;
    }
    /* A listener: accept, poll for incoming connections, flags, stat. */
    wasi_fd_set(ctx, fd, WAFT_WASI_FD_SOCKET, host_handle, WAFT_WASI_FILETYPE_SOCKET_STREAM,
                R(SOCK_ACCEPT) | R(POLL_FD_READWRITE) | R(FD_FDSTAT_SET_FLAGS) | R(FD_FILESTAT_GET) | R(FD_READ),
                SOCKET_RIGHTS);
    return fd;
}

void waft_wasi_destroy(waft_wasi_ctx *ctx) {
    for (int i = 0; i < WAFT_WASI_MAX_FDS; i++) {
        if (ctx->fds[i].kind != WAFT_WASI_FD_FREE) {
            (void)wasi_fd_release(&ctx->fds[i]);
        }
    }
}

const char *waft_wasi_errno_name(int32_t err) {
    static const char *const names[] = {WAFT_WASI_ERRNO_NAMES};
    if (err < 0 || (uint32_t)err >= sizeof names / sizeof names[0]) {
        return "unknown";
    }
    return names[err];
}
