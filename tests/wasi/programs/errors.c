/* Error paths through raw WASI calls: every bad pointer is FAULT (21) with
 * no effect, every bad fd BADF (8), missing rights NOTCAPABLE (76), bad
 * flags and values INVAL (28), sockets calls on files NOTSOCK (57); and the
 * bound is the memory's current size, so pages added by memory.grow work. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define DIR_FD 3
#define BAD ((void *)0xfffffff0u)

static __wasi_fd_t open_file(const char *path) {
    __wasi_fd_t fd = 0;
    __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                             __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES |
                             __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_FILESTAT_GET;
    int err = __wasi_path_open(DIR_FD, 0, path, __WASI_OFLAGS_CREAT, rights, 0, 0, &fd);
    if (err != 0) {
        printf("open %s failed: %d\n", path, err);
    }
    return fd;
}

int main(void) {
    __wasi_size_t n = 0, m = 0;
    uint8_t buf[64];
    /* The end of memory right now: an object straddling it is out of bounds. */
    uintptr_t end = __builtin_wasm_memory_size(0) * 65536u;

    printf("-- memory\n");
    __wasi_ciovec_t bad_buf = {BAD, 4};
    __wasi_ciovec_t good = {(const uint8_t *)"SHOULD-NOT-APPEAR\n", 18};
    printf("fd_write iovs out: %d\n", __wasi_fd_write(1, BAD, 1, &n));
    printf("fd_write buf out: %d\n", __wasi_fd_write(1, &bad_buf, 1, &n));
    printf("fd_write result out: %d\n", __wasi_fd_write(1, &good, 1, BAD));
    printf("fd_write result straddles end: %d\n", __wasi_fd_write(1, &good, 1, (__wasi_size_t *)(end - 2)));
    printf("args_sizes_get: %d\n", __wasi_args_sizes_get(BAD, &m));
    printf("args_get: %d\n", __wasi_args_get(BAD, buf));
    printf("environ_sizes_get: %d\n", __wasi_environ_sizes_get(&n, BAD));
    printf("environ_get: %d\n", __wasi_environ_get((uint8_t **)buf, BAD));
    printf("clock_time_get: %d\n", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, BAD));
    printf("clock_res_get: %d\n", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, BAD));
    printf("random_get: %d\n", __wasi_random_get(BAD, 16));
    printf("random_get straddling end: %d\n", __wasi_random_get((uint8_t *)(end - 8), 16));
    printf("random_get at end, empty: %d\n", __wasi_random_get((uint8_t *)end, 0));
    printf("fd_prestat_dir_name: %d\n", __wasi_fd_prestat_dir_name(DIR_FD, BAD, 2));
    printf("fd_fdstat_get: %d\n", __wasi_fd_fdstat_get(1, BAD));
    printf("fd_filestat_get: %d\n", __wasi_fd_filestat_get(1, BAD));
    printf("path_filestat_get: %d\n", __wasi_path_filestat_get(DIR_FD, 0, ".", BAD));
    __wasi_subscription_t sub = {.userdata = 1, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u = {.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 0}}}};
    __wasi_event_t ev;
    printf("poll_oneoff out: %d\n", __wasi_poll_oneoff(&sub, BAD, 1, &n));
    printf("poll_oneoff in: %d\n", __wasi_poll_oneoff(BAD, &ev, 1, &n));
    printf("poll_oneoff count: %d\n", __wasi_poll_oneoff(&sub, &ev, 1, BAD));
    /* Grow memory: the new page is in bounds at once. */
    uintptr_t old_pages = __builtin_wasm_memory_grow(0, 1);
    uint8_t *fresh = (uint8_t *)(old_pages * 65536u);
    printf("grew: %d, random_get in the new page: %d\n", old_pages == end / 65536u, __wasi_random_get(fresh + 65536 - 16, 16));

    printf("-- fds\n");
    printf("fd_write 99: %d\n", __wasi_fd_write(99, &good, 1, &n));
    printf("fd_write 0xffffffff: %d\n", __wasi_fd_write(0xffffffffu, &good, 1, &n));
    printf("fd_close 99: %d\n", __wasi_fd_close(99));
    printf("fd_renumber 1 -> 99: %d\n", __wasi_fd_renumber(1, 99));
    printf("fd_prestat_get 1: %d\n", __wasi_fd_prestat_get(1, (__wasi_prestat_t *)buf));
    __wasi_prestat_t pre;
    int err = __wasi_fd_prestat_get(DIR_FD, &pre);
    printf("fd_prestat_get 3: %d tag %d len %d\n", err, pre.tag, (int)pre.u.dir.pr_name_len);
    printf("fd_prestat_dir_name short: %d\n", __wasi_fd_prestat_dir_name(DIR_FD, buf, 1));
    memset(buf, 0, sizeof buf);
    err = __wasi_fd_prestat_dir_name(DIR_FD, buf, 8);
    printf("fd_prestat_dir_name: %d [%s]\n", err, (char *)buf);
    printf("fd_prestat_get 4: %d\n", __wasi_fd_prestat_get(4, &pre));

    printf("-- rights and values\n");
    __wasi_fd_t a = open_file("a.txt"), b = open_file("b.txt");
    __wasi_fdstat_t st;
    (void)__wasi_fd_fdstat_get(a, &st);
    printf("file fdstat: type %d write %d seek %d readdir %d\n", st.fs_filetype, !!(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE),
           !!(st.fs_rights_base & __WASI_RIGHTS_FD_SEEK), !!(st.fs_rights_base & __WASI_RIGHTS_FD_READDIR));
    __wasi_filesize_t pos;
    printf("fd_seek bad whence: %d\n", __wasi_fd_seek(a, 0, 7, &pos));
    printf("fd_advise bad advice: %d\n", __wasi_fd_advise(a, 0, 0, 9));
    printf("fd_allocate zero length: %d\n", __wasi_fd_allocate(a, 0, 0));
    printf("fd_filestat_set_times atim and atim_now: %d\n",
           __wasi_fd_filestat_set_times(a, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    printf("fd_filestat_set_times unknown flag: %d\n", __wasi_fd_filestat_set_times(a, 0, 0, 0x10));
    printf("fd_filestat_set_size negative: %d\n", __wasi_fd_filestat_set_size(a, (__wasi_filesize_t)-1));
    printf("fd_fdstat_set_flags unknown: %d\n", __wasi_fd_fdstat_set_flags(a, 0x100));
    printf("fd_fdstat_set_flags append: %d\n", __wasi_fd_fdstat_set_flags(a, __WASI_FDFLAGS_APPEND));
    printf("fd_readdir on a file: %d\n", __wasi_fd_readdir(a, buf, sizeof buf, 0, &n));
    printf("path_open unknown oflags: %d\n", __wasi_path_open(DIR_FD, 0, "a.txt", 0x10, 0, 0, 0, &b));
    printf("fd_seek stdout: %d\n", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &pos));
    __wasi_iovec_t riov = {buf, sizeof buf};
    printf("fd_pread stdout: %d\n", __wasi_fd_pread(1, &riov, 1, 0, &n));
    printf("drop fd_write: %d\n", __wasi_fd_fdstat_set_rights(a, st.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE, 0));
    printf("fd_write without the right: %d\n", __wasi_fd_write(a, &good, 1, &n));
    printf("add fd_write back: %d\n", __wasi_fd_fdstat_set_rights(a, st.fs_rights_base, 0));
    printf("fd_tell still allowed: %d\n", __wasi_fd_tell(a, &pos));

    printf("-- renumber\n");
    __wasi_fd_t c = open_file("c.txt");
    __wasi_ciovec_t text = {(const uint8_t *)"to c", 4};
    printf("renumber c -> b: %d\n", __wasi_fd_renumber(c, b));
    printf("write via b: %d\n", __wasi_fd_write(b, &text, 1, &n));
    printf("close old c: %d\n", __wasi_fd_close(c));
    __wasi_filestat_t fst;
    err = __wasi_path_filestat_get(DIR_FD, 0, "c.txt", &fst);
    printf("c.txt size: %d %d\n", err, (int)fst.size);
    err = __wasi_path_filestat_get(DIR_FD, 0, "b.txt", &fst);
    printf("b.txt size: %d %d\n", err, (int)fst.size);
    printf("renumber to itself: %d\n", __wasi_fd_renumber(b, b));

    printf("-- sockets on files\n");
    __wasi_fd_t s;
    __wasi_roflags_t ro;
    printf("sock_accept stdout: %d\n", __wasi_sock_accept(1, 0, &s));
    printf("sock_accept 99: %d\n", __wasi_sock_accept(99, 0, &s));
    printf("sock_recv stdout: %d\n", __wasi_sock_recv(1, &riov, 1, 0, &n, &ro));
    printf("sock_send stdout: %d\n", __wasi_sock_send(1, &good, 1, 0, &n));
    printf("sock_shutdown stdout: %d\n", __wasi_sock_shutdown(1, __WASI_SDFLAGS_WR));

    printf("-- poll and misc\n");
    printf("poll_oneoff none: %d\n", __wasi_poll_oneoff(&sub, &ev, 0, &n));
    sub.u.tag = 9;
    printf("poll_oneoff unknown tag: %d\n", __wasi_poll_oneoff(&sub, &ev, 1, &n));
    __wasi_subscription_t subs[2] = {
        {.userdata = 5, .u = {.tag = __WASI_EVENTTYPE_FD_READ, .u = {.fd_read = {.file_descriptor = 99}}}},
        {.userdata = 6, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u = {.clock = {.id = 42, .timeout = 1}}}},
    };
    __wasi_event_t evs[2];
    err = __wasi_poll_oneoff(subs, evs, 2, &n);
    printf("poll bad fd and bad clock: %d, %d events: (%d, %d) (%d, %d)\n", err, (int)n, (int)evs[0].userdata, evs[0].error,
           (int)evs[1].userdata, evs[1].error);
    printf("clock_time_get bad id: %d\n", __wasi_clock_time_get(42, 0, (__wasi_timestamp_t *)buf));
    printf("clock_res_get bad id: %d\n", __wasi_clock_res_get(4, (__wasi_timestamp_t *)buf));
    printf("sched_yield: %d\n", __wasi_sched_yield());
    return 0;
}
