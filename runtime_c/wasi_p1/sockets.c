/*
 * sockets.c: sock_accept, sock_recv, sock_send, sock_shutdown on the sockets
 * the embedder preopened (waft_wasi_preopen_socket) and the connections
 * accepted from them.  p1 has no way to create or connect a socket.
 */
#include "wasi_internal.h"
#include "transfer.h"

#define R(name) WAFT_WASI_RIGHTS_##name

/* A socket slot with `need`, or BADF / NOTSOCK / NOTCAPABLE. */
static waft_wasi_fd *socket_fd(waft_wasi_ctx *ctx, int32_t fd, uint64_t need, uint16_t *err) {
    waft_wasi_fd *slot = wasi_fd(ctx, fd, 0, err);
    if (slot == NULL) {
        return NULL;
    }
    if (slot->kind != WAFT_WASI_FD_SOCKET) {
        *err = WAFT_WASI_ERRNO_NOTSOCK;
        return NULL;
    }
    if ((slot->rights_base & need) != need) {
        *err = WAFT_WASI_ERRNO_NOTCAPABLE;
        return NULL;
    }
    return slot;
}

int32_t wasi_snapshot_preview1__sock_accept(void *ctx, int32_t fd, int32_t flags, int32_t new_fd) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_fd(c, fd, R(SOCK_ACCEPT), &err);
    if (slot == NULL) {
        return err;
    }
    if (((uint32_t)flags & ~(uint32_t)WAFT_WASI_FDFLAGS_NONBLOCK) != 0) {
        return WAFT_WASI_ERRNO_INVAL; /* only nonblock means anything for a new connection */
    }
    uint8_t *out = wasi_mem(c, (uint32_t)new_fd, 4);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    int32_t conn_fd = wasi_fd_alloc(c);
    if (conn_fd < 0) {
        return WAFT_WASI_ERRNO_NFILE;
    }
    int32_t conn;
    err = wasi_port_sock_accept(slot->host, ((uint32_t)flags & WAFT_WASI_FDFLAGS_NONBLOCK) != 0, &conn);
    if (err != 0) {
        wasi_fd_unreserve(c, conn_fd);
        return err;
    }
    wasi_fd_set(c, conn_fd, WAFT_WASI_FD_SOCKET, conn, WAFT_WASI_FILETYPE_SOCKET_STREAM,
                slot->rights_inheriting & wasi_rights_for(WAFT_WASI_FILETYPE_SOCKET_STREAM, false), 0);
    wasi_store32(out, (uint32_t)conn_fd);
    return 0;
}

int32_t wasi_snapshot_preview1__sock_recv(void *ctx, int32_t fd, int32_t ri_data, int32_t ri_data_len,
                                          int32_t ri_flags, int32_t ro_datalen, int32_t ro_flags) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_fd(c, fd, R(FD_READ), &err);
    if (slot == NULL) {
        return err;
    }
    if (((uint32_t)ri_flags & ~(uint32_t)WAFT_WASI_RIFLAGS_ALL) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    uint8_t *len_out = wasi_mem(c, (uint32_t)ro_datalen, 4);
    uint8_t *flags_out = wasi_mem(c, (uint32_t)ro_flags, 2);
    if (len_out == NULL || flags_out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    size_t len;
    uint16_t roflags = 0;
    err = wasi_transfer(c, slot, IO_RECV, (uint32_t)ri_data, (uint32_t)ri_data_len, 0, (uint16_t)ri_flags, &len,
                        &roflags);
    if (err == 0) {
        wasi_store32(len_out, (uint32_t)len);
        wasi_store16(flags_out, roflags);
    }
    return err;
}

int32_t wasi_snapshot_preview1__sock_send(void *ctx, int32_t fd, int32_t si_data, int32_t si_data_len,
                                          int32_t si_flags, int32_t so_datalen) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_fd(c, fd, R(FD_WRITE), &err);
    if (slot == NULL) {
        return err;
    }
    if (si_flags != 0) {
        return WAFT_WASI_ERRNO_INVAL; /* the witx: no flags are defined, "it must be set to zero" */
    }
    uint8_t *len_out = wasi_mem(c, (uint32_t)so_datalen, 4);
    if (len_out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    size_t len;
    err = wasi_transfer(c, slot, IO_SEND, (uint32_t)si_data, (uint32_t)si_data_len, 0, 0, &len, NULL);
    if (err == 0) {
        wasi_store32(len_out, (uint32_t)len);
    }
    return err;
}

int32_t wasi_snapshot_preview1__sock_shutdown(void *ctx, int32_t fd, int32_t how) {
    uint16_t err;
    waft_wasi_fd *slot = socket_fd(WASI_CTX(ctx), fd, R(SOCK_SHUTDOWN), &err);
    if (slot == NULL) {
        return err;
    }
    if (how <= 0 || ((uint32_t)how & ~(uint32_t)WAFT_WASI_SDFLAGS_ALL) != 0) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    return wasi_port_sock_shutdown(slot->host, (uint8_t)how);
}
