/* Directory fds and fd_readdir at the byte level: "." and ".." are listed,
 * d_next cookies resume a listing, a short buffer cuts the last entry off
 * (bufused == buf_len tells the caller to retry bigger); paths relative to a
 * directory fd from path_open cannot climb out of it either.  Plus
 * scatter/gather I/O with more vectors than the runtime's batch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define DIR_FD 3
#define RW (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* List a directory fd in one go with a roomy buffer; print sorted "name:type". */
static void list(__wasi_fd_t fd) {
    uint8_t buf[4096];
    __wasi_size_t used = 0;
    int err = __wasi_fd_readdir(fd, buf, sizeof buf, 0, &used);
    char *names[32];
    int n = 0;
    for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= used && n < 32;) {
        __wasi_dirent_t d;
        memcpy(&d, buf + at, sizeof d);
        at += sizeof d;
        names[n] = malloc(d.d_namlen + 8);
        snprintf(names[n], d.d_namlen + 8, "%.*s:%d", (int)d.d_namlen, (const char *)buf + at, d.d_type);
        n++;
        at += d.d_namlen;
    }
    qsort(names, (size_t)n, sizeof names[0], compare);
    printf("readdir %d:", err);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void) {
    __wasi_fd_t sub, file;
    printf("mkdir: %d %d\n", __wasi_path_create_directory(DIR_FD, "d"), __wasi_path_create_directory(DIR_FD, "d/inner"));
    /* Every right but fd_write, which would make it ISDIR. */
    printf("open d: %d\n", __wasi_path_open(DIR_FD, 0, "d", __WASI_OFLAGS_DIRECTORY, 0x1fffffff & ~__WASI_RIGHTS_FD_WRITE,
                                             0x1fffffff, 0, &sub));
    __wasi_fdstat_t st;
    int err = __wasi_fd_fdstat_get(sub, &st);
    printf("d fdstat: %d type %d readdir %d read %d\n", err, st.fs_filetype, !!(st.fs_rights_base & __WASI_RIGHTS_FD_READDIR),
           !!(st.fs_rights_base & __WASI_RIGHTS_FD_READ));
    printf("d is not a preopen: %d\n", __wasi_fd_prestat_get(sub, (__wasi_prestat_t *)&st));
    printf("create d/aa via d: %d\n", __wasi_path_open(sub, 0, "aa", __WASI_OFLAGS_CREAT, RW, 0, 0, &file));
    printf("symlink d/ln -> aa: %d\n", __wasi_path_symlink("aa", sub, "ln"));
    printf("climb out of d: %d %d\n", __wasi_path_open(sub, 0, "../d/aa", 0, RW, 0, 0, &file),
           __wasi_path_create_directory(sub, "inner/../../x"));
    printf("inner/.. stays in d: %d\n", __wasi_path_create_directory(sub, "inner/../bb"));
    list(sub);

    /* Entries one at a time: a buffer for exactly one header and a short name. */
    __wasi_dircookie_t cookie = 0;
    int entries = 0, in_order = 1, cut = 0, namlens = 0;
    for (int guard = 0; guard < 10; guard++) {
        uint8_t one[sizeof(__wasi_dirent_t) + 2];
        __wasi_size_t used = 0;
        err = __wasi_fd_readdir(sub, one, sizeof one, cookie, &used);
        if (err != 0 || used < sizeof(__wasi_dirent_t)) {
            printf("one by one: end (%d, used %d),", err, (int)used);
            break;
        }
        __wasi_dirent_t d;
        memcpy(&d, one, sizeof d);
        entries++;
        in_order &= d.d_next == cookie + 1;
        namlens += (int)d.d_namlen;
        /* A name longer than the 2 bytes left is cut: used is the whole buffer. */
        cut += d.d_namlen > 2 && used == sizeof one;
        cookie = d.d_next;
    }
    printf(" %d entries, cookies in order %d, names %d bytes, %d cut\n", entries, in_order, namlens, cut);
    uint8_t tiny[10];
    __wasi_size_t used = 0;
    printf("tiny buffer: %d used %d\n", __wasi_fd_readdir(sub, tiny, sizeof tiny, 0, &used), (int)used);
    printf("cookie past the end: %d", __wasi_fd_readdir(sub, tiny, sizeof tiny, 1000, &used));
    printf(" used %d\n", (int)used);

    /* readlink into a short buffer is cut, not an error. */
    char link[1];
    printf("readlink short: %d", __wasi_path_readlink(sub, "ln", (uint8_t *)link, 1, &used));
    printf(" used %d [%c]\n", (int)used, link[0]);
    __wasi_filestat_t fs;
    printf("set times on the link itself: %d\n",
           __wasi_path_filestat_set_times(sub, 0, "ln", 0, 777000000000ull, __WASI_FSTFLAGS_MTIM));
    (void)__wasi_path_filestat_get(sub, 0, "ln", &fs);
    uint64_t link_mtim = fs.mtim;
    (void)__wasi_path_filestat_get(sub, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "ln", &fs);
    printf("link mtime set, target's not: %d %d\n", link_mtim == 777000000000ull, fs.mtim != 777000000000ull);
    printf("dir filestat: %d type %d\n", __wasi_fd_filestat_get(sub, &fs), fs.filetype);

    /* 40 one-byte vectors: more than one runtime batch. */
    enum { N = 40 };
    char bytes[N];
    __wasi_ciovec_t out[N];
    for (int i = 0; i < N; i++) {
        bytes[i] = (char)('A' + i % 26);
        out[i].buf = (const uint8_t *)&bytes[i];
        out[i].buf_len = 1;
    }
    __wasi_size_t n = 0;
    printf("pwrite 40 vectors: %d", __wasi_fd_pwrite(file, out, N, 5, &n));
    printf(" wrote %d\n", (int)n);
    char back[N + 5];
    memset(back, '.', sizeof back);
    __wasi_iovec_t in[N + 5];
    for (int i = 0; i < N + 5; i++) {
        in[i].buf = (uint8_t *)&back[i];
        in[i].buf_len = 1;
    }
    printf("read 45 vectors: %d", __wasi_fd_read(file, in, N + 5, &n));
    for (int i = 0; i < N + 5; i++) back[i] = back[i] ? back[i] : '0'; /* the hole before offset 5 */
    printf(" read %d [%.*s]\n", (int)n, N + 5, back);
    __wasi_filesize_t pos;
    printf("tell: %d", __wasi_fd_tell(file, &pos));
    printf(" %d\n", (int)pos);
    printf("close: %d %d\n", __wasi_fd_close(file), __wasi_fd_close(sub));
    printf("rmdir non-empty: %d\n", __wasi_path_remove_directory(DIR_FD, "d"));
    printf("unlink a dir: %d\n", __wasi_path_unlink_file(DIR_FD, "d/inner"));
    printf("unlink a file with a slash: %d\n", __wasi_path_unlink_file(DIR_FD, "d/aa/"));
    printf("rename onto a non-empty dir: %d\n", __wasi_path_rename(DIR_FD, "d/bb", DIR_FD, "d"));
    return 0;
}
