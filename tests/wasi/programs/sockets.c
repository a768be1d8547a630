/* A preopened listening socket (the runner's --listen): accept a connection,
 * wait for data with poll_oneoff, peek, receive, answer in upper case with
 * sock_send and fd_write, shut the sending side down.  wasi-libc's scan for
 * preopened directories stops at fd 3, which is this listener. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define LISTENER 3

int main(void) {
    __wasi_fdstat_t st;
    int err = __wasi_fd_fdstat_get(LISTENER, &st);
    printf("listener: %d type %d accept right %d\n", err, st.fs_filetype, !!(st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT));
    __wasi_prestat_t pre;
    printf("listener is not a preopened dir: %d\n", __wasi_fd_prestat_get(LISTENER, &pre));
    printf("recv on the listener: %d\n", __wasi_sock_recv(LISTENER, NULL, 0, 0, NULL, NULL) != 0);
    fflush(stdout);

    __wasi_fd_t conn;
    err = __wasi_sock_accept(LISTENER, 0, &conn);
    printf("accept: %d\n", err);
    if (err != 0) return 1;
    (void)__wasi_fd_fdstat_get(conn, &st);
    printf("connection: type %d shutdown right %d accept right %d\n", st.fs_filetype,
           !!(st.fs_rights_base & __WASI_RIGHTS_SOCK_SHUTDOWN), !!(st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT));

    __wasi_subscription_t sub = {.userdata = 9, .u = {.tag = __WASI_EVENTTYPE_FD_READ, .u = {.fd_read = {.file_descriptor = conn}}}};
    __wasi_event_t ev;
    __wasi_size_t n;
    err = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    printf("poll: %d, %d event(s), userdata %d error %d\n", err, (int)n, (int)ev.userdata, ev.error);

    char buf[64];
    __wasi_iovec_t iov = {(uint8_t *)buf, 5};
    __wasi_size_t len = 0;
    __wasi_roflags_t ro = 0;
    err = __wasi_sock_recv(conn, &iov, 1, __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, &len, &ro);
    printf("peek: %d [%.*s]\n", err, (int)len, buf);
    iov.buf_len = sizeof buf;
    err = __wasi_sock_recv(conn, &iov, 1, 0, &len, &ro);
    printf("recv: %d [%.*s] flags %d\n", err, (int)len, buf, ro);
    for (__wasi_size_t i = 0; i < len; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
    __wasi_ciovec_t out[2] = {{(const uint8_t *)"echo: ", 6}, {(const uint8_t *)buf, len}};
    __wasi_size_t sent = 0;
    printf("send: %d %d\n", __wasi_sock_send(conn, out, 2, 0, &sent), (int)sent);
    printf("send with flags: %d\n", __wasi_sock_send(conn, out, 2, 1, &sent));
    __wasi_ciovec_t tail = {(const uint8_t *)" (fd_write)\n", 12};
    printf("fd_write: %d\n", __wasi_fd_write(conn, &tail, 1, &sent));
    printf("shutdown bad how: %d\n", __wasi_sock_shutdown(conn, 0));
    printf("shutdown wr: %d\n", __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR));
    iov.buf_len = sizeof buf;
    err = __wasi_sock_recv(conn, &iov, 1, 0, &len, &ro);
    printf("recv after the peer closed: %d len %d\n", err, (int)len);
    printf("close: %d\n", __wasi_fd_close(conn));
    return 0;
}
