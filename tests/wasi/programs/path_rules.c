/* path_open's rights and fdflags and the trailing-slash rules, as the
 * official wasi-testsuite (wasmtime) has them: write access to a directory is
 * ISDIR, but rights that merely do not apply to one are dropped; the sync
 * fdflags need the directory to pass on fd_sync/fd_datasync, not the new
 * fd's rights to name them; a new link, symlink or file whose name ends in
 * a slash is never created under the bare name; mkdir ignores the slash.
 * And none of it opens a way out of the preopen. */
#include <stdint.h>
#include <stdio.h>
#include <wasi/api.h>

#define DIR_FD 3
#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)

static int open_close(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags, __wasi_rights_t base,
                      __wasi_rights_t inheriting, __wasi_fdflags_t fdflags) {
    __wasi_fd_t fd;
    int err = __wasi_path_open(dir, 0, path, oflags, base, inheriting, fdflags, &fd);
    if (err == 0) {
        (void)__wasi_fd_close(fd);
    }
    return err;
}

/* 0 when `path` exists (not followed), else the errno. */
static int exists(const char *path) {
    __wasi_filestat_t st;
    return __wasi_path_filestat_get(DIR_FD, 0, path, &st);
}

int main(void) {
    __wasi_fdstat_t pre;
    __wasi_fd_t fd;
    printf("-- rights\n");
    printf("preopen fdstat: %d\n", __wasi_fd_fdstat_get(DIR_FD, &pre));
    printf("open . with the preopen's rights: %d\n",
           open_close(DIR_FD, ".", 0, pre.fs_rights_base, pre.fs_rights_inheriting, 0));
    printf("open . read/write, O_DIRECTORY: %d\n", open_close(DIR_FD, ".", __WASI_OFLAGS_DIRECTORY, RW, 0, 0));
    printf("open . read/write: %d\n", open_close(DIR_FD, ".", 0, RW, 0, 0));
    printf("open . with fd_filestat_set_size and fd_allocate: %d\n",
           open_close(DIR_FD, ".", 0, __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_ALLOCATE, 0, 0));
    printf("create f: %d\n", open_close(DIR_FD, "f", __WASI_OFLAGS_CREAT, RW, 0, 0));
    int err = __wasi_path_open(DIR_FD, 0, "f", 0, __WASI_RIGHTS_FD_FILESTAT_SET_SIZE, 0, 0, &fd);
    printf("open f with fd_filestat_set_size only: %d, set size: %d\n", err, __wasi_fd_filestat_set_size(fd, 3));
    (void)__wasi_fd_close(fd);

    printf("-- sync fdflags\n");
    err = __wasi_path_open(DIR_FD, 0, "f", 0, RW, 0, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC, &fd);
    __wasi_fdstat_t st = {0};
    (void)__wasi_fd_fdstat_get(fd, &st);
    printf("append|sync without fd_sync in the rights: %d, flags %d\n", err, st.fs_flags);
    (void)__wasi_fd_close(fd);
    printf("dsync without fd_datasync in the rights: %d\n", open_close(DIR_FD, "f", 0, RW, 0, __WASI_FDFLAGS_DSYNC));
    __wasi_fd_t nosync;
    printf("mkdir d: %d\n", __wasi_path_create_directory(DIR_FD, "d"));
    err = __wasi_path_open(DIR_FD, 0, "d", __WASI_OFLAGS_DIRECTORY, pre.fs_rights_base,
                           pre.fs_rights_inheriting & ~(__WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC), 0, &nosync);
    printf("open d, passing on neither sync right: %d\n", err);
    printf("  sync from d: %d\n", open_close(nosync, "g", __WASI_OFLAGS_CREAT, RW, 0, __WASI_FDFLAGS_SYNC));
    printf("  rsync from d: %d\n", open_close(nosync, "g", __WASI_OFLAGS_CREAT, RW, 0, __WASI_FDFLAGS_RSYNC));
    printf("  dsync from d: %d\n", open_close(nosync, "g", __WASI_OFLAGS_CREAT, RW, 0, __WASI_FDFLAGS_DSYNC));
    printf("  no sync from d: %d\n", open_close(nosync, "g", __WASI_OFLAGS_CREAT, RW, 0, 0));
    (void)__wasi_fd_close(nosync);

    printf("-- trailing slashes\n");
    printf("symlink dangling -> nowhere: %d\n", __wasi_path_symlink("nowhere", DIR_FD, "dangling"));
    printf("link f -> new/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "new/"));
    printf("link f -> d/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "d/"));
    printf("link f -> f/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "f/"));
    printf("link f -> dangling/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "dangling/"));
    printf("link f/ -> new: %d\n", __wasi_path_link(DIR_FD, 0, "f/", DIR_FD, "new"));
    printf("symlink new/: %d\n", __wasi_path_symlink("f", DIR_FD, "new/"));
    printf("symlink d/: %d\n", __wasi_path_symlink("f", DIR_FD, "d/"));
    printf("symlink f/: %d\n", __wasi_path_symlink("f", DIR_FD, "f/"));
    printf("symlink dangling/: %d\n", __wasi_path_symlink("f", DIR_FD, "dangling/"));
    printf("create new/: %d\n", open_close(DIR_FD, "new/", __WASI_OFLAGS_CREAT, RW, 0, 0));
    printf("create dangling/: %d\n", open_close(DIR_FD, "dangling/", __WASI_OFLAGS_CREAT, RW, 0, 0));
    printf("open d/: %d\n", open_close(DIR_FD, "d/", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, 0));
    printf("nothing made: new %d, nowhere %d\n", exists("new"), exists("nowhere"));
    printf("mkdir f/: %d\n", __wasi_path_create_directory(DIR_FD, "f/"));
    printf("mkdir d/: %d\n", __wasi_path_create_directory(DIR_FD, "d/"));
    printf("mkdir dangling/: %d, nowhere %d\n", __wasi_path_create_directory(DIR_FD, "dangling/"), exists("nowhere"));
    printf("mkdir e//: %d, e %d\n", __wasi_path_create_directory(DIR_FD, "e//"), exists("e"));
    printf("without the slash: link %d, symlink %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "new"),
           __wasi_path_symlink("f", DIR_FD, "new2"));

    printf("-- still inside\n");
    printf("symlink up -> ..: %d\n", __wasi_path_symlink("..", DIR_FD, "up"));
    printf("link f -> ../x/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "../x/"));
    printf("link f -> up/x/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "up/x/"));
    printf("link f -> up/: %d\n", __wasi_path_link(DIR_FD, 0, "f", DIR_FD, "up/"));
    printf("symlink up/: %d\n", __wasi_path_symlink("f", DIR_FD, "up/"));
    printf("symlink ../x/: %d\n", __wasi_path_symlink("f", DIR_FD, "../x/"));
    printf("create up/x/: %d\n", open_close(DIR_FD, "up/x/", __WASI_OFLAGS_CREAT, RW, 0, 0));
    printf("open up/ read/write: %d\n", open_close(DIR_FD, "up/", 0, RW, 0, 0));
    printf("open up/ with fd_allocate: %d\n", open_close(DIR_FD, "up/", 0, __WASI_RIGHTS_FD_ALLOCATE, 0, 0));
    printf("mkdir up/x/: %d\n", __wasi_path_create_directory(DIR_FD, "up/x/"));
    printf("mkdir ../x/: %d\n", __wasi_path_create_directory(DIR_FD, "../x/"));
    return 0;
}
