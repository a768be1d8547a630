/*
 * port_baremetal_sockets.c: sockets on bare metal: there are none.  No fd a
 * board can have is a socket, so every sock_* import answers NOTSOCK (after
 * BADF for a closed fd), as sockets.c and the host answer for a file, and
 * the first call says on the error console that the board has no sockets
 * at all, so a port of a networked program fails loudly instead of looking
 * like a lost connection.  Replaces sockets.c (and the socket port calls).
 */
#include "port_baremetal.h"


#include "wasi_internal.h"

static void explain(const char *function) {
    static bool said;
    if (!said) {
        said = true;
        static const char head[] = "waft: ";
        static const char tail[] = ": this board has no sockets (WASI errno notsock)\n";
        (void)waft_console_write(2, (const uint8_t *)head, sizeof head - 1);
        size_t len = 0;
        while (function[len] != '\0') len++;
        (void)waft_console_write(2, (const uint8_t *)function, len);
        (void)waft_console_write(2, (const uint8_t *)tail, sizeof tail - 1);
    }
}

static int32_t notsock(void *ctx, int32_t fd, const char *function) {
    uint16_t err;
    if (wasi_fd(WASI_CTX(ctx), fd, 0, &err) == NULL) return err;
    explain(function);
    return WAFT_WASI_ERRNO_NOTSOCK;
}

int32_t wasi_snapshot_preview1__sock_accept(void *ctx, int32_t fd, int32_t flags, int32_t new_fd) {
    (void)flags, (void)new_fd;
    return notsock(ctx, fd, "sock_accept");
}

int32_t wasi_snapshot_preview1__sock_recv(void *ctx, int32_t fd, int32_t ri_data, int32_t ri_data_len,
                                          int32_t ri_flags, int32_t ro_datalen, int32_t ro_flags) {
    (void)ri_data, (void)ri_data_len, (void)ri_flags, (void)ro_datalen, (void)ro_flags;
    return notsock(ctx, fd, "sock_recv");
}

int32_t wasi_snapshot_preview1__sock_send(void *ctx, int32_t fd, int32_t si_data, int32_t si_data_len,
                                          int32_t si_flags, int32_t so_datalen) {
    (void)si_data, (void)si_data_len, (void)si_flags, (void)so_datalen;
    return notsock(ctx, fd, "sock_send");
}

int32_t wasi_snapshot_preview1__sock_shutdown(void *ctx, int32_t fd, int32_t how) {
    (void)how;
    return notsock(ctx, fd, "sock_shutdown");
}

/* sockets.c names these (through transfer.h); no socket fd ever
 * exists here, so they are never reached. */
uint16_t wasi_port_sock_accept(int32_t host, bool nonblock, int32_t *conn) {
    (void)host, (void)nonblock, (void)conn;
    return WAFT_WASI_ERRNO_NOTSUP;
}

uint16_t wasi_port_sock_recv(int32_t host, const wasi_iov *iov, int n, uint16_t riflags, size_t *len,
                             uint16_t *roflags) {
    (void)host, (void)iov, (void)n, (void)riflags, (void)len, (void)roflags;
    return WAFT_WASI_ERRNO_NOTSUP;
}

uint16_t wasi_port_sock_send(int32_t host, const wasi_iov *iov, int n, size_t *len) {
    (void)host, (void)iov, (void)n, (void)len;
    return WAFT_WASI_ERRNO_NOTSUP;
}

uint16_t wasi_port_sock_shutdown(int32_t host, uint8_t how) {
    (void)host, (void)how;
    return WAFT_WASI_ERRNO_NOTSUP;
}
