/* A module importing every function of wasi_snapshot_preview1, for
 * measuring the runtime's full size on a board: each import is called only
 * when argc says so (never, in the tests), so the program itself is tiny and
 * exits 0. */
#include <stdio.h>
#include <wasi/api.h>

/* wasi-libc no longer declares proc_raise. */
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

int main(int argc, char **argv) {
    (void)argv;
    if (argc < 100) {
        puts("all of WASI linked");
        return 0;
    }
    int fd = argc;
    uint8_t buf[64];
    __wasi_size_t n;
    __wasi_filesize_t pos;
    __wasi_timestamp_t t;
    __wasi_iovec_t iov = {buf, sizeof buf};
    __wasi_ciovec_t ciov = {buf, sizeof buf};
    __wasi_fdstat_t fdstat;
    __wasi_filestat_t filestat;
    __wasi_prestat_t prestat;
    __wasi_fd_t newfd;
    __wasi_subscription_t sub = {0};
    __wasi_event_t ev;
    __wasi_roflags_t ro;
    uint8_t *ptrs[4];
    int r = 0;
    r |= __wasi_args_get(ptrs, buf);
    r |= __wasi_args_sizes_get(&n, &n);
    r |= __wasi_environ_get(ptrs, buf);
    r |= __wasi_environ_sizes_get(&n, &n);
    r |= __wasi_clock_res_get(0, &t);
    r |= __wasi_clock_time_get(0, 1, &t);
    r |= __wasi_fd_advise(fd, 0, 0, 0);
    r |= __wasi_fd_allocate(fd, 0, 1);
    r |= __wasi_fd_close(fd);
    r |= __wasi_fd_datasync(fd);
    r |= __wasi_fd_fdstat_get(fd, &fdstat);
    r |= __wasi_fd_fdstat_set_flags(fd, 0);
    r |= __wasi_fd_fdstat_set_rights(fd, 0, 0);
    r |= __wasi_fd_filestat_get(fd, &filestat);
    r |= __wasi_fd_filestat_set_size(fd, 0);
    r |= __wasi_fd_filestat_set_times(fd, 0, 0, 0);
    r |= __wasi_fd_pread(fd, &iov, 1, 0, &n);
    r |= __wasi_fd_prestat_get(fd, &prestat);
    r |= __wasi_fd_prestat_dir_name(fd, buf, sizeof buf);
    r |= __wasi_fd_pwrite(fd, &ciov, 1, 0, &n);
    r |= __wasi_fd_read(fd, &iov, 1, &n);
    r |= __wasi_fd_readdir(fd, buf, sizeof buf, 0, &n);
    r |= __wasi_fd_renumber(fd, fd + 1);
    r |= __wasi_fd_seek(fd, 0, 0, &pos);
    r |= __wasi_fd_sync(fd);
    r |= __wasi_fd_tell(fd, &pos);
    r |= __wasi_fd_write(fd, &ciov, 1, &n);
    r |= __wasi_path_create_directory(fd, "d");
    r |= __wasi_path_filestat_get(fd, 0, "f", &filestat);
    r |= __wasi_path_filestat_set_times(fd, 0, "f", 0, 0, 0);
    r |= __wasi_path_link(fd, 0, "a", fd, "b");
    r |= __wasi_path_open(fd, 0, "f", 0, 0, 0, 0, &newfd);
    r |= __wasi_path_readlink(fd, "l", buf, sizeof buf, &n);
    r |= __wasi_path_remove_directory(fd, "d");
    r |= __wasi_path_rename(fd, "a", fd, "b");
    r |= __wasi_path_symlink("a", fd, "b");
    r |= __wasi_path_unlink_file(fd, "f");
    r |= __wasi_poll_oneoff(&sub, &ev, 1, &n);
    r |= raw_proc_raise(0);
    r |= __wasi_sched_yield();
    r |= __wasi_random_get(buf, sizeof buf);
    r |= __wasi_sock_accept(fd, 0, &newfd);
    r |= __wasi_sock_recv(fd, &iov, 1, 0, &n, &ro);
    r |= __wasi_sock_send(fd, &ciov, 1, 0, &n);
    r |= __wasi_sock_shutdown(fd, 0);
    __wasi_proc_exit((__wasi_exitcode_t)r);
}
