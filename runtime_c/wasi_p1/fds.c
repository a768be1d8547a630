/*
 * fds.c: the fd_* functions: I/O, seeking, attributes, flags and rights,
 * preopen descriptions, directory listing, renumbering and closing.
 *
 * Each one checks its fd and rights (wasi_fd), then every guest range it will
 * touch, and only then asks the port; so BADF, NOTCAPABLE and FAULT calls have
 * no effect.
 */
#include "wasi_internal.h"
#include "transfer.h"

#include <string.h>

#define R(name) WAFT_WASI_RIGHTS_##name

void wasi_encode_filestat(uint8_t *out, const wasi_filestat *st) {
    memset(out, 0, WAFT_WASI_FILESTAT_SIZE);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_DEV, st->dev);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_INO, st->ino);
    wasi_store8(out + WAFT_WASI_FILESTAT_OFF_FILETYPE, st->filetype);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_NLINK, st->nlink);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_SIZE, st->size);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_ATIM, st->atim);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_MTIM, st->mtim);
    wasi_store64(out + WAFT_WASI_FILESTAT_OFF_CTIM, st->ctim);
}

uint16_t wasi_check_fst_flags(uint16_t fst_flags) {
    if ((fst_flags & ~WAFT_WASI_FSTFLAGS_ALL) != 0 ||
        ((fst_flags & WAFT_WASI_FSTFLAGS_ATIM) && (fst_flags & WAFT_WASI_FSTFLAGS_ATIM_NOW)) ||
        ((fst_flags & WAFT_WASI_FSTFLAGS_MTIM) && (fst_flags & WAFT_WASI_FSTFLAGS_MTIM_NOW))) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Reads and writes                                                           */
/* ------------------------------------------------------------------------- */

/* Inlined into each fd_* function with its `op` a constant, like wasi_transfer. */
WASI_ALWAYS_INLINE static inline int32_t io(void *ctx, int32_t fd, uint64_t need, wasi_io_op op, int32_t iovs,
                                            int32_t iovs_len, uint64_t offset, int32_t result) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(c, fd, need, &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)result, 4);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    if ((op == IO_PREAD || op == IO_PWRITE) && offset > INT64_MAX) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    size_t done;
    err = wasi_transfer(c, slot, op, (uint32_t)iovs, (uint32_t)iovs_len, offset, 0, &done, NULL);
    if (err == 0) {
        wasi_store32(out, (uint32_t)done);
    }
    return err;
}

int32_t wasi_snapshot_preview1__fd_read(void *ctx, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nread) {
    return io(ctx, fd, R(FD_READ), IO_READ, iovs, iovs_len, 0, nread);
}

int32_t wasi_snapshot_preview1__fd_write(void *ctx, int32_t fd, int32_t iovs, int32_t iovs_len, int32_t nwritten) {
    return io(ctx, fd, R(FD_WRITE), IO_WRITE, iovs, iovs_len, 0, nwritten);
}

int32_t wasi_snapshot_preview1__fd_pread(void *ctx, int32_t fd, int32_t iovs, int32_t iovs_len, int64_t offset,
                                         int32_t nread) {
    return io(ctx, fd, R(FD_READ) | R(FD_SEEK), IO_PREAD, iovs, iovs_len, (uint64_t)offset, nread);
}

int32_t wasi_snapshot_preview1__fd_pwrite(void *ctx, int32_t fd, int32_t iovs, int32_t iovs_len, int64_t offset,
                                          int32_t nwritten) {
    return io(ctx, fd, R(FD_WRITE) | R(FD_SEEK), IO_PWRITE, iovs, iovs_len, (uint64_t)offset, nwritten);
}

/* ------------------------------------------------------------------------- */
/* Offsets                                                                    */
/* ------------------------------------------------------------------------- */

int32_t wasi_snapshot_preview1__fd_seek(void *ctx, int32_t fd, int64_t offset, int32_t whence, int32_t newoffset) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    /* fd_tell's right suffices for a seek that cannot move the offset. */
    bool tell_only = offset == 0 && whence == WAFT_WASI_WHENCE_CUR;
    waft_wasi_fd *slot = wasi_fd(c, fd, 0, &err);
    if (slot == NULL) {
        return err;
    }
    bool allowed = (slot->rights_base & R(FD_SEEK)) != 0 || (tell_only && (slot->rights_base & R(FD_TELL)) != 0);
    if (!allowed) {
        return WAFT_WASI_ERRNO_NOTCAPABLE;
    }
    if ((uint32_t)whence > WAFT_WASI_WHENCE_END) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)newoffset, 8);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint64_t pos;
    err = wasi_port_seek(slot->host, offset, (uint8_t)whence, &pos);
    if (err == 0) {
        wasi_store64(out, pos);
    }
    return err;
}

int32_t wasi_snapshot_preview1__fd_tell(void *ctx, int32_t fd, int32_t offset) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(c, fd, R(FD_TELL), &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)offset, 8);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint64_t pos;
    err = wasi_port_seek(slot->host, 0, WAFT_WASI_WHENCE_CUR, &pos);
    if (err == 0) {
        wasi_store64(out, pos);
    }
    return err;
}

/* ------------------------------------------------------------------------- */
/* Data and space                                                             */
/* ------------------------------------------------------------------------- */

int32_t wasi_snapshot_preview1__fd_advise(void *ctx, int32_t fd, int64_t offset, int64_t len, int32_t advice) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_ADVISE), &err);
    if (slot == NULL) {
        return err;
    }
    if ((uint32_t)advice >= WAFT_WASI_ADVICE_COUNT || offset < 0 || len < 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_advise(slot->host, (uint64_t)offset, (uint64_t)len, (uint8_t)advice);
}

int32_t wasi_snapshot_preview1__fd_allocate(void *ctx, int32_t fd, int64_t offset, int64_t len) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_ALLOCATE), &err);
    if (slot == NULL) {
        return err;
    }
    if (offset < 0 || len <= 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_allocate(slot->host, (uint64_t)offset, (uint64_t)len);
}

int32_t wasi_snapshot_preview1__fd_datasync(void *ctx, int32_t fd) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_DATASYNC), &err);
    return slot == NULL ? err : wasi_port_sync(slot->host, true);
}

int32_t wasi_snapshot_preview1__fd_sync(void *ctx, int32_t fd) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_SYNC), &err);
    return slot == NULL ? err : wasi_port_sync(slot->host, false);
}

/* ------------------------------------------------------------------------- */
/* Attributes, flags, rights                                                  */
/* ------------------------------------------------------------------------- */

int32_t wasi_snapshot_preview1__fd_fdstat_get(void *ctx, int32_t fd, int32_t stat) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(c, fd, 0, &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)stat, WAFT_WASI_FDSTAT_SIZE);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint16_t flags = 0;
    err = wasi_port_fdflags(slot->host, &flags);
    if (err != 0) {
        return err;
    }
    memset(out, 0, WAFT_WASI_FDSTAT_SIZE);
    wasi_store8(out + WAFT_WASI_FDSTAT_OFF_FS_FILETYPE, slot->filetype);
    wasi_store16(out + WAFT_WASI_FDSTAT_OFF_FS_FLAGS, flags);
    wasi_store64(out + WAFT_WASI_FDSTAT_OFF_FS_RIGHTS_BASE, slot->rights_base);
    wasi_store64(out + WAFT_WASI_FDSTAT_OFF_FS_RIGHTS_INHERITING, slot->rights_inheriting);
    return 0;
}

int32_t wasi_snapshot_preview1__fd_fdstat_set_flags(void *ctx, int32_t fd, int32_t flags) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_FDSTAT_SET_FLAGS), &err);
    if (slot == NULL) {
        return err;
    }
    if (((uint32_t)flags & ~(uint32_t)WAFT_WASI_FDFLAGS_ALL) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_set_fdflags(slot->host, (uint16_t)flags);
}

int32_t wasi_snapshot_preview1__fd_fdstat_set_rights(void *ctx, int32_t fd, int64_t fs_rights_base,
                                                     int64_t fs_rights_inheriting) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, 0, &err);
    if (slot == NULL) {
        return err;
    }
    uint64_t base = (uint64_t)fs_rights_base, inheriting = (uint64_t)fs_rights_inheriting;
    /* Rights only ever shrink. */
    if ((base & ~slot->rights_base) != 0 || (inheriting & ~slot->rights_inheriting) != 0) {
        return WAFT_WASI_ERRNO_NOTCAPABLE;
    }
    slot->rights_base = base;
    slot->rights_inheriting = inheriting;
    return 0;
}

int32_t wasi_snapshot_preview1__fd_filestat_get(void *ctx, int32_t fd, int32_t buf) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(c, fd, R(FD_FILESTAT_GET), &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)buf, WAFT_WASI_FILESTAT_SIZE);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    wasi_filestat st;
    err = wasi_port_filestat(slot->host, &st);
    if (err == 0) {
        wasi_encode_filestat(out, &st);
    }
    return err;
}

int32_t wasi_snapshot_preview1__fd_filestat_set_size(void *ctx, int32_t fd, int64_t size) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_FILESTAT_SET_SIZE), &err);
    if (slot == NULL) {
        return err;
    }
    if (size < 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_set_size(slot->host, (uint64_t)size);
}

int32_t wasi_snapshot_preview1__fd_filestat_set_times(void *ctx, int32_t fd, int64_t atim, int64_t mtim,
                                                      int32_t fst_flags) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, R(FD_FILESTAT_SET_TIMES), &err);
    if (slot == NULL) {
        return err;
    }
    if ((uint32_t)fst_flags > UINT16_MAX || wasi_check_fst_flags((uint16_t)fst_flags) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_set_times(slot->host, (uint64_t)atim, (uint64_t)mtim, (uint16_t)fst_flags);
}

/* ------------------------------------------------------------------------- */
/* Preopens                                                                   */
/* ------------------------------------------------------------------------- */

/* Preopen `fd`, or NULL with *err set: the fd's own error, or BADF for an open
 * fd that is not a preopen (wasi-libc's scan of the preopens stops there). */
static waft_wasi_fd *preopen(waft_wasi_ctx *c, int32_t fd, uint16_t *err) {
    waft_wasi_fd *slot = wasi_fd(c, fd, 0, err);
    if (slot != NULL && slot->kind != WAFT_WASI_FD_PREOPEN) {
        *err = WAFT_WASI_ERRNO_BADF;
        return NULL;
    }
    return slot;
}

int32_t wasi_snapshot_preview1__fd_prestat_get(void *ctx, int32_t fd, int32_t buf) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = preopen(c, fd, &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)buf, WAFT_WASI_PRESTAT_SIZE);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    memset(out, 0, WAFT_WASI_PRESTAT_SIZE);
    wasi_store8(out + WAFT_WASI_PRESTAT_OFF_TAG, WAFT_WASI_PREOPENTYPE_DIR);
    wasi_store32(out + WAFT_WASI_PRESTAT_OFF_DIR_PR_NAME_LEN, (uint32_t)strlen(slot->guest_name));
    return 0;
}

int32_t wasi_snapshot_preview1__fd_prestat_dir_name(void *ctx, int32_t fd, int32_t path, int32_t path_len) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = preopen(c, fd, &err);
    if (slot == NULL) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)path, (uint32_t)path_len);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    size_t len = strlen(slot->guest_name);
    if ((uint32_t)path_len < len) {
        return WAFT_WASI_ERRNO_NAMETOOLONG; /* as wasmtime: the name is never cut short */
    }
    memcpy(out, slot->guest_name, len); /* no NUL: the length came from fd_prestat_get */
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Directories                                                                */
/* ------------------------------------------------------------------------- */

int32_t wasi_snapshot_preview1__fd_readdir(void *ctx, int32_t fd, int32_t buf, int32_t buf_len, int64_t cookie,
                                           int32_t bufused) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(c, fd, R(FD_READDIR), &err);
    if (slot == NULL) {
        return err;
    }
    if (slot->kind != WAFT_WASI_FD_DIR && slot->kind != WAFT_WASI_FD_PREOPEN) {
        return WAFT_WASI_ERRNO_NOTDIR;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)buf, (uint32_t)buf_len);
    uint8_t *used_out = wasi_mem(c, (uint32_t)bufused, 4);
    if (out == NULL || used_out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    /* Entries go out as header + name, back to back; the last one that does
     * not fit is cut off at the end of the buffer, which tells the caller to
     * retry with a bigger one (the witx's contract). */
    size_t cap = (uint32_t)buf_len, used = 0;
    uint64_t at = (uint64_t)cookie;
    while (used < cap) {
        wasi_dirent entry;
        bool end = false;
        err = wasi_port_readdir(slot, at, &entry, &end);
        if (err != 0) {
            return err;
        }
        if (end) {
            break;
        }
        uint8_t header[WAFT_WASI_DIRENT_SIZE];
        memset(header, 0, sizeof header);
        wasi_store64(header + WAFT_WASI_DIRENT_OFF_D_NEXT, at + 1);
        wasi_store64(header + WAFT_WASI_DIRENT_OFF_D_INO, entry.ino);
        wasi_store32(header + WAFT_WASI_DIRENT_OFF_D_NAMLEN, (uint32_t)entry.namlen);
        wasi_store8(header + WAFT_WASI_DIRENT_OFF_D_TYPE, entry.filetype);
        size_t n = cap - used < sizeof header ? cap - used : sizeof header;
        memcpy(out + used, header, n);
        used += n;
        n = cap - used < entry.namlen ? cap - used : entry.namlen;
        memcpy(out + used, entry.name, n);
        used += n;
        at++;
    }
    wasi_store32(used_out, (uint32_t)used);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The table itself                                                           */
/* ------------------------------------------------------------------------- */

int32_t wasi_snapshot_preview1__fd_close(void *ctx, int32_t fd) {
    uint16_t err;
    waft_wasi_fd *slot = wasi_fd(WASI_CTX(ctx), fd, 0, &err);
    if (slot == NULL) {
        return err;
    }
    return wasi_fd_release(slot);
}

int32_t wasi_snapshot_preview1__fd_renumber(void *ctx, int32_t fd, int32_t to) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *from_slot = wasi_fd(c, fd, 0, &err);
    if (from_slot == NULL) {
        return err;
    }
    waft_wasi_fd *to_slot = wasi_fd(c, to, 0, &err);
    if (to_slot == NULL) {
        return err;
    }
    if (from_slot == to_slot) {
        return 0;
    }
    (void)wasi_fd_release(to_slot); /* like dup2: an error closing `to` is not reported */
    *to_slot = *from_slot;
    memset(from_slot, 0, sizeof *from_slot);
    from_slot->kind = WAFT_WASI_FD_FREE;
    from_slot->host = -1;
    return 0;
}
