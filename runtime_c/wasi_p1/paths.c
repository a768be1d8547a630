/*
 * paths.c: the path_* functions.  Here: the directory fd and its rights,
 * the guest's path strings (copied out of memory, checked as UTF-8 without
 * NULs, absolute ones refused), flag validation and the new fd's rights.
 * The port resolves each path beneath its directory (the sandbox) and does the
 * operation.
 */
#include "wasi_internal.h"

#include <string.h>

#define R(name) WAFT_WASI_RIGHTS_##name

/* The directory slot and the path, or an errno. */
static uint16_t dir_and_path(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, int32_t path, int32_t path_len,
                             waft_wasi_fd **slot, char *buf) {
    uint16_t err;
    *slot = wasi_dir_fd(ctx, fd, need, &err);
    if (*slot == NULL) {
        return err;
    }
    return wasi_path(ctx, (uint32_t)path, (uint32_t)path_len, buf);
}

static bool follows(int32_t lookupflags) { return ((uint32_t)lookupflags & WAFT_WASI_LOOKUPFLAGS_SYMLINK_FOLLOW) != 0; }

int32_t wasi_snapshot_preview1__path_open(void *ctx, int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                                          int32_t oflags, int64_t fs_rights_base, int64_t fs_rights_inheriting,
                                          int32_t fdflags, int32_t opened_fd) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint64_t need = R(PATH_OPEN);
    if ((uint32_t)oflags & WAFT_WASI_OFLAGS_CREAT) need |= R(PATH_CREATE_FILE);
    if ((uint32_t)oflags & WAFT_WASI_OFLAGS_TRUNC) need |= R(PATH_FILESTAT_SET_SIZE);
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(c, fd, need, path, path_len, &dir, name);
    if (err != 0) {
        return err;
    }
    if (((uint32_t)oflags & ~(uint32_t)WAFT_WASI_OFLAGS_ALL) != 0 ||
        ((uint32_t)fdflags & ~(uint32_t)WAFT_WASI_FDFLAGS_ALL) != 0 ||
        ((uint32_t)dirflags & ~(uint32_t)WAFT_WASI_LOOKUPFLAGS_ALL) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    /* Rights that apply to no file or directory (the socket ones) are
     * dropped, as the witx allows; what is left must be rights the
     * directory passes on. */
    uint64_t any_file = wasi_inheriting_for(WAFT_WASI_FILETYPE_DIRECTORY);
    uint64_t base = (uint64_t)fs_rights_base & any_file, inheriting = (uint64_t)fs_rights_inheriting & any_file;
    if ((base & ~dir->rights_inheriting) != 0 || (inheriting & ~dir->rights_inheriting) != 0) {
        return WAFT_WASI_ERRNO_NOTCAPABLE;
    }
    /* The sync fdflags make every write a sync, so the directory must be
     * able to hand out the sync rights; the guest need not ask for them in
     * the new fd's rights (as uvwasi, WAMR and wasi-common before the p2
     * rewrite check it; current wasmtime has no rights at all). */
    if (((uint32_t)fdflags & WAFT_WASI_FDFLAGS_DSYNC) && !(dir->rights_inheriting & R(FD_DATASYNC))) {
        return WAFT_WASI_ERRNO_NOTCAPABLE;
    }
    if (((uint32_t)fdflags & (WAFT_WASI_FDFLAGS_RSYNC | WAFT_WASI_FDFLAGS_SYNC)) &&
        !(dir->rights_inheriting & R(FD_SYNC))) {
        return WAFT_WASI_ERRNO_NOTCAPABLE;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)opened_fd, 4);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    int32_t slot = wasi_fd_alloc(c);
    if (slot < 0) {
        return WAFT_WASI_ERRNO_NFILE;
    }
    /* Only fd_write asks for write access outright: with it a directory is
     * ISDIR, as under wasmtime.  fd_allocate and fd_filestat_set_size need a
     * writable host handle too, but they are file rights a directory simply
     * lacks, so they never make opening a directory fail: when they alone
     * asked for write access and the path is a directory, it is opened again
     * read-only.  (fd_datasync needs no write access at all.) */
    bool is_dir = ((uint32_t)oflags & WAFT_WASI_OFLAGS_DIRECTORY) != 0;
    bool read = (base & (R(FD_READ) | R(FD_READDIR))) != 0;
    bool write_asked = (base & R(FD_WRITE)) != 0;
    bool write = write_asked || (!is_dir && (base & (R(FD_ALLOCATE) | R(FD_FILESTAT_SET_SIZE))) != 0);
    int32_t host;
    uint8_t filetype;
    bool seekable;
    err = wasi_port_path_open(dir->host, name, follows(dirflags), (uint16_t)oflags, (uint16_t)fdflags, read, write,
                              &host, &filetype, &seekable);
    if (err == WAFT_WASI_ERRNO_ISDIR && write && !write_asked) {
        err = wasi_port_path_open(dir->host, name, follows(dirflags), (uint16_t)oflags, (uint16_t)fdflags, read,
                                  false, &host, &filetype, &seekable);
    }
    if (err != 0) {
        wasi_fd_unreserve(c, slot);
        return err;
    }
    wasi_fd_set(c, slot, filetype == WAFT_WASI_FILETYPE_DIRECTORY ? WAFT_WASI_FD_DIR : WAFT_WASI_FD_FILE, host,
                filetype, base & wasi_rights_for(filetype, seekable), inheriting & wasi_inheriting_for(filetype));
    wasi_store32(out, (uint32_t)slot);
    return 0;
}

int32_t wasi_snapshot_preview1__path_create_directory(void *ctx, int32_t fd, int32_t path, int32_t path_len) {
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(WASI_CTX(ctx), fd, R(PATH_CREATE_DIRECTORY), path, path_len, &dir, name);
    return err != 0 ? err : wasi_port_path_mkdir(dir->host, name);
}

int32_t wasi_snapshot_preview1__path_filestat_get(void *ctx, int32_t fd, int32_t flags, int32_t path,
                                                  int32_t path_len, int32_t buf) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(c, fd, R(PATH_FILESTAT_GET), path, path_len, &dir, name);
    if (err != 0) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)buf, WAFT_WASI_FILESTAT_SIZE);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    wasi_filestat st;
    err = wasi_port_path_stat(dir->host, name, follows(flags), &st);
    if (err == 0) {
        wasi_encode_filestat(out, &st);
    }
    return err;
}

int32_t wasi_snapshot_preview1__path_filestat_set_times(void *ctx, int32_t fd, int32_t flags, int32_t path,
                                                        int32_t path_len, int64_t atim, int64_t mtim,
                                                        int32_t fst_flags) {
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(WASI_CTX(ctx), fd, R(PATH_FILESTAT_SET_TIMES), path, path_len, &dir, name);
    if (err != 0) {
        return err;
    }
    if ((uint32_t)fst_flags > UINT16_MAX || wasi_check_fst_flags((uint16_t)fst_flags) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_path_set_times(dir->host, name, follows(flags), (uint64_t)atim, (uint64_t)mtim,
                                    (uint16_t)fst_flags);
}

int32_t wasi_snapshot_preview1__path_link(void *ctx, int32_t old_fd, int32_t old_flags, int32_t old_path,
                                          int32_t old_path_len, int32_t new_fd, int32_t new_path,
                                          int32_t new_path_len) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    waft_wasi_fd *old_dir, *new_dir;
    char old_name[WASI_PATH_MAX], new_name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(c, old_fd, R(PATH_LINK_SOURCE), old_path, old_path_len, &old_dir, old_name);
    if (err == 0) {
        err = dir_and_path(c, new_fd, R(PATH_LINK_TARGET), new_path, new_path_len, &new_dir, new_name);
    }
    if (err != 0) {
        return err;
    }
    return wasi_port_path_link(old_dir->host, old_name, follows(old_flags), new_dir->host, new_name);
}

int32_t wasi_snapshot_preview1__path_readlink(void *ctx, int32_t fd, int32_t path, int32_t path_len, int32_t buf,
                                              int32_t buf_len, int32_t bufused) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(c, fd, R(PATH_READLINK), path, path_len, &dir, name);
    if (err != 0) {
        return err;
    }
    uint8_t *out = wasi_mem(c, (uint32_t)buf, (uint32_t)buf_len);
    uint8_t *used_out = wasi_mem(c, (uint32_t)bufused, 4);
    if (out == NULL || used_out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    size_t used;
    err = wasi_port_path_readlink(dir->host, name, out, (uint32_t)buf_len, &used);
    if (err == 0) {
        wasi_store32(used_out, (uint32_t)used);
    }
    return err;
}

int32_t wasi_snapshot_preview1__path_remove_directory(void *ctx, int32_t fd, int32_t path, int32_t path_len) {
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(WASI_CTX(ctx), fd, R(PATH_REMOVE_DIRECTORY), path, path_len, &dir, name);
    return err != 0 ? err : wasi_port_path_rmdir(dir->host, name);
}

int32_t wasi_snapshot_preview1__path_rename(void *ctx, int32_t fd, int32_t old_path, int32_t old_path_len,
                                            int32_t new_fd, int32_t new_path, int32_t new_path_len) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    waft_wasi_fd *old_dir, *new_dir;
    char old_name[WASI_PATH_MAX], new_name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(c, fd, R(PATH_RENAME_SOURCE), old_path, old_path_len, &old_dir, old_name);
    if (err == 0) {
        err = dir_and_path(c, new_fd, R(PATH_RENAME_TARGET), new_path, new_path_len, &new_dir, new_name);
    }
    return err != 0 ? err : wasi_port_path_rename(old_dir->host, old_name, new_dir->host, new_name);
}

int32_t wasi_snapshot_preview1__path_symlink(void *ctx, int32_t old_path, int32_t old_path_len, int32_t fd,
                                             int32_t new_path, int32_t new_path_len) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    waft_wasi_fd *dir;
    char target[WASI_PATH_MAX], name[WASI_PATH_MAX];
    /* The target is checked like a path too: an absolute one could never be
     * followed inside the sandbox, so it is refused (PERM) when made. */
    uint16_t err = dir_and_path(c, fd, R(PATH_SYMLINK), new_path, new_path_len, &dir, name);
    if (err == 0) {
        err = wasi_path(c, (uint32_t)old_path, (uint32_t)old_path_len, target);
    }
    return err != 0 ? err : wasi_port_path_symlink(target, dir->host, name);
}

int32_t wasi_snapshot_preview1__path_unlink_file(void *ctx, int32_t fd, int32_t path, int32_t path_len) {
    waft_wasi_fd *dir;
    char name[WASI_PATH_MAX];
    uint16_t err = dir_and_path(WASI_CTX(ctx), fd, R(PATH_UNLINK_FILE), path, path_len, &dir, name);
    return err != 0 ? err : wasi_port_path_unlink(dir->host, name);
}
