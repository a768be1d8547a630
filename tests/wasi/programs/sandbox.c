/* The preopen sandbox, through raw WASI calls: `..`, absolute paths and
 * symlinks that lead outside the preopened directory are refused with PERM
 * (63), whatever the operation; paths that stay inside work.  Run with the
 * argument "planted" after the host put fs/planted -> /etc/passwd there. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define DIR_FD 3
#define ALL ((__wasi_rights_t)0x1fffffff) /* every file and directory right */

/* path_open with an explicit length, for paths C strings cannot carry. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open")))
int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len, int32_t oflags,
                      int64_t base, int64_t inheriting, int32_t fdflags, int32_t out);

static int open_at(const char *path, __wasi_lookupflags_t follow, __wasi_oflags_t oflags, __wasi_fd_t *fd) {
    /* Every right, but no write access to a directory (that is ISDIR). */
    __wasi_rights_t base = (oflags & __WASI_OFLAGS_DIRECTORY) ? ALL & ~__WASI_RIGHTS_FD_WRITE : ALL;
    return __wasi_path_open(DIR_FD, follow, path, oflags, base, ALL, 0, fd);
}

static void try_open(const char *label, const char *path, __wasi_lookupflags_t follow, __wasi_oflags_t oflags) {
    __wasi_fd_t fd = 0;
    int err = open_at(path, follow, oflags, &fd);
    printf("%s: %d\n", label, err);
    if (err == 0) {
        (void)__wasi_fd_close(fd);
    }
}

int main(int argc, char **argv) {
    const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    __wasi_fd_t fd;
    printf("mkdir sub: %d\n", __wasi_path_create_directory(DIR_FD, "sub"));
    printf("create sub/file: %d\n", open_at("sub/file", 0, __WASI_OFLAGS_CREAT, &fd));
    __wasi_ciovec_t iov = {(const uint8_t *)"inside", 6};
    __wasi_size_t n;
    printf("write: %d\n", __wasi_fd_write(fd, &iov, 1, &n));
    (void)__wasi_fd_close(fd);

    try_open("open ..", "..", FOLLOW, __WASI_OFLAGS_DIRECTORY);
    try_open("open ../fs/sub/file", "../fs/sub/file", FOLLOW, 0);
    try_open("open sub/../../x", "sub/../../x", FOLLOW, 0);
    try_open("open /etc/passwd", "/etc/passwd", FOLLOW, 0);
    try_open("open sub/../sub/file", "sub/../sub/file", FOLLOW, 0);
    try_open("open ./sub/./file", "./sub/./file", FOLLOW, 0);
    try_open("open .", ".", FOLLOW, __WASI_OFLAGS_DIRECTORY);
    try_open("open sub/..", "sub/..", FOLLOW, __WASI_OFLAGS_DIRECTORY);
    try_open("open sub/file/", "sub/file/", FOLLOW, 0);
    try_open("open missing/x", "missing/x", FOLLOW, 0);
    try_open("open empty", "", FOLLOW, 0);

    printf("symlink up -> ..: %d\n", __wasi_path_symlink("..", DIR_FD, "up"));
    try_open("open up/fs (follow)", "up/fs", FOLLOW, __WASI_OFLAGS_DIRECTORY);
    try_open("open up (follow)", "up", FOLLOW, __WASI_OFLAGS_DIRECTORY);
    try_open("open up (nofollow)", "up", 0, 0);
    __wasi_filestat_t st;
    int err = __wasi_path_filestat_get(DIR_FD, 0, "up", &st);
    printf("stat up (nofollow): %d type %d\n", err, st.filetype);
    printf("stat up (follow): %d\n", __wasi_path_filestat_get(DIR_FD, FOLLOW, "up", &st));
    char buf[16];
    __wasi_size_t used = 0;
    err = __wasi_path_readlink(DIR_FD, "up", (uint8_t *)buf, sizeof buf, &used);
    printf("readlink up: %d [%.*s]\n", err, (int)used, buf);
    printf("symlink escape -> ../secret: %d\n", __wasi_path_symlink("../secret", DIR_FD, "escape"));
    try_open("open escape (follow)", "escape", FOLLOW, 0);
    printf("symlink abs -> /etc: %d\n", __wasi_path_symlink("/etc", DIR_FD, "abs"));
    printf("symlink in -> sub/file: %d\n", __wasi_path_symlink("sub/file", DIR_FD, "in"));
    err = open_at("in", FOLLOW, 0, &fd);
    __wasi_iovec_t riov = {(uint8_t *)buf, sizeof buf};
    n = 0;
    if (err == 0) {
        (void)__wasi_fd_read(fd, &riov, 1, &n);
        (void)__wasi_fd_close(fd);
    }
    printf("open in (follow): %d [%.*s]\n", err, (int)n, buf);
    printf("symlink sub/back -> ../in: %d\n", __wasi_path_symlink("../in", DIR_FD, "sub/back"));
    try_open("open sub/back (follow, chain)", "sub/back", FOLLOW, 0);
    printf("symlink loop1 -> loop2: %d\n", __wasi_path_symlink("loop2", DIR_FD, "loop1"));
    printf("symlink loop2 -> loop1: %d\n", __wasi_path_symlink("loop1", DIR_FD, "loop2"));
    try_open("open loop1 (follow)", "loop1", FOLLOW, 0);

    printf("mkdir ../evil: %d\n", __wasi_path_create_directory(DIR_FD, "../evil"));
    printf("unlink ../secret: %d\n", __wasi_path_unlink_file(DIR_FD, "../secret"));
    printf("rmdir ..: %d\n", __wasi_path_remove_directory(DIR_FD, ".."));
    printf("rename sub/file -> ../stolen: %d\n", __wasi_path_rename(DIR_FD, "sub/file", DIR_FD, "../stolen"));
    printf("link ../secret -> mine: %d\n", __wasi_path_link(DIR_FD, 0, "../secret", DIR_FD, "mine"));
    printf("link escape (follow) -> mine: %d\n", __wasi_path_link(DIR_FD, FOLLOW, "escape", DIR_FD, "mine"));
    printf("stat ../secret: %d\n", __wasi_path_filestat_get(DIR_FD, 0, "../secret", &st));
    printf("set times up/secret: %d\n",
           __wasi_path_filestat_set_times(DIR_FD, FOLLOW, "up/secret", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));

    /* Byte-level checks need the explicit length. */
    static const char bad_utf8[] = "sub/\xff";
    static const char with_nul[] = "sub/file\0x";
    printf("invalid utf-8: %d\n", (int)raw_path_open(DIR_FD, 0, (int32_t)(uintptr_t)bad_utf8, 5, 0, ALL, ALL, 0, (int32_t)(uintptr_t)&fd));
    printf("embedded nul: %d\n", (int)raw_path_open(DIR_FD, 0, (int32_t)(uintptr_t)with_nul, 10, 0, ALL, ALL, 0, (int32_t)(uintptr_t)&fd));
    printf("path out of bounds: %d\n", (int)raw_path_open(DIR_FD, 0, (int32_t)0xfffffff0, 8, 0, ALL, ALL, 0, (int32_t)(uintptr_t)&fd));
    printf("result out of bounds: %d\n", (int)raw_path_open(DIR_FD, 0, (int32_t)(uintptr_t)"sub/file", 8, 0, ALL, ALL, 0, (int32_t)0xfffffffc));

    if (argc > 1 && strcmp(argv[1], "planted") == 0) {
        try_open("open planted (follow)", "planted", FOLLOW, 0);
        printf("stat planted (nofollow): %d\n", __wasi_path_filestat_get(DIR_FD, 0, "planted", &st));
        try_open("open planted (nofollow)", "planted", 0, 0);
    }

    /* Rights: socket rights apply to no file and are dropped; what the
     * directory does not pass on cannot be asked for; without
     * PATH_CREATE_FILE, O_CREAT is refused but plain opens work. */
    err = __wasi_path_open(DIR_FD, 0, "sub/file", 0, __WASI_RIGHTS_SOCK_ACCEPT | __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    __wasi_fdstat_t fst = {0};
    (void)__wasi_fd_fdstat_get(fd, &fst);
    printf("ask for sock_accept: %d, got 0x%llx\n", err, (unsigned long long)fst.fs_rights_base);
    printf("file as directory: %d\n", __wasi_path_open(fd, 0, "x", 0, 0, 0, 0, &fd));
    (void)__wasi_fd_fdstat_get(DIR_FD, &fst);
    printf("drop create_file and inherited write: %d\n",
           __wasi_fd_fdstat_set_rights(DIR_FD, fst.fs_rights_base & ~__WASI_RIGHTS_PATH_CREATE_FILE,
                                       fst.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE));
    printf("ask for write: %d\n", __wasi_path_open(DIR_FD, 0, "sub/file", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
    printf("add a right back: %d\n", __wasi_fd_fdstat_set_rights(DIR_FD, fst.fs_rights_base, fst.fs_rights_inheriting));
    try_open("create after drop", "new", 0, __WASI_OFLAGS_CREAT);
    printf("read-only open after drop: %d\n", __wasi_path_open(DIR_FD, 0, "sub/file", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));

    return 0;
}
