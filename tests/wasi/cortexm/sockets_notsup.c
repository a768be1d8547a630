/* Sockets on a board: there are none, so no fd is one.  Every sock_* call
 * answers ENOTSOCK, as for a file on the host (BADF for a closed fd), and
 * the runtime says why on stderr, once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <wasi/api.h>

static const char *name(int e) { return e == ENOTSOCK ? "ENOTSOCK" : e == EBADF ? "EBADF" : strerror(e); }

int main(void) {
    errno = 0;
    printf("accept: %d %s\n", accept(0, NULL, NULL), name(errno));
    char buf[4];
    errno = 0;
    printf("recv: %d %s\n", (int)recv(1, buf, sizeof buf, 0), name(errno));
    errno = 0;
    printf("send: %d %s\n", (int)send(1, "x", 1, 0), name(errno));
    errno = 0;
    printf("shutdown: %d %s\n", shutdown(1, SHUT_RDWR), name(errno));
    __wasi_fd_t conn;
    printf("sock_accept on a closed fd: %d\n", __wasi_sock_accept(9, 0, &conn));
    return 0;
}
