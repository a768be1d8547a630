/*
 * echo.c: the Wasm side of the `sockets` metric group, a TCP echo server
 * over wasi-ext:sockets (imports declared from the WIT by hand, data through
 * p1's read/write), the same loop as native_echo.c's:
 *
 *     echo PORT CONNECTIONS
 *
 * listens on 0.0.0.0:PORT, echoes CONNECTIONS connections one after the
 * other (nodelay, so every small reply leaves at once, as in the native
 * twin), prints "echo done N" and exits.  The client is bench/metrics/sockets.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SOCK(name) __attribute__((import_module("wasi-ext:sockets/sockets@0.1.0"), import_name(name)))
#define ADDR int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t

SOCK("open") void s_open(int32_t family, int32_t type, int32_t flags, void *ret);
SOCK("bind") int32_t s_bind(int32_t fd, ADDR);
SOCK("listen") int32_t s_listen(int32_t fd, int32_t backlog);
SOCK("accept") void s_accept(int32_t fd, int32_t flags, void *ret);
SOCK("set-nodelay") int32_t s_set_nodelay(int32_t fd, int32_t on);

static uint8_t buf[4096];

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int port = atoi(argv[1]), connections = atoi(argv[2]);
    struct { uint8_t tag, pad[3]; uint32_t value; } opened;
    s_open(0, 0, 0, &opened);
    if (opened.tag != 0) return 3;
    int lfd = (int)opened.value;
    if (s_bind(lfd, 0, port, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) != 0 || s_listen(lfd, 1) != 0) return 4;
    for (int i = 0; i < connections; i++) {
        struct { uint8_t tag, pad[3]; uint32_t fd; uint8_t remote[32]; } a;
        s_accept(lfd, 0, &a);
        if (a.tag != 0) return 5;
        int c = (int)a.fd;
        s_set_nodelay(c, 1);
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0) {
            for (ssize_t done = 0; done < n;) {
                ssize_t w = write(c, buf + done, (size_t)(n - done));
                if (w < 0) return 6;
                done += w;
            }
        }
        close(c);
    }
    close(lfd);
    printf("echo done %d\n", connections);
    return 0;
}
