/*
 * transfer.h: the loop that moves data between a descriptor and the guest's
 * (c)iovec array, batch by batch, for fd_read/fd_write/fd_pread/fd_pwrite
 * (fds.c) and sock_recv/sock_send (sockets.c).
 *
 * Always inlined, and always called with a constant `op`: each caller keeps
 * only its own port call, so an image links only the port functions its
 * module's imports reach (a hello that only writes links no read, pread,
 * pwrite or console-read code: issue 17's image size).  Out of line, the
 * switch below named all six and --gc-sections could drop none.
 */
#ifndef WAFT_WASI_TRANSFER_H
#define WAFT_WASI_TRANSFER_H

#include "wasi_internal.h"

/* Move data between `slot` and the guest (c)iovec array, batch by batch.
 * Checks the whole array first (FAULT, nothing moved).  Bytes moved before an
 * error are reported as success, as readv/writev do. */
WASI_ALWAYS_INLINE static inline uint16_t wasi_transfer(waft_wasi_ctx *ctx, waft_wasi_fd *slot, wasi_io_op op,
                                                      uint32_t iovs, uint32_t iovs_len, uint64_t offset,
                                                      uint16_t riflags, size_t *done, uint16_t *roflags) {
    *done = 0;
    uint16_t err = wasi_iovs_check(ctx, iovs, iovs_len);
    if (err != 0) {
        return err;
    }
    for (uint32_t first = 0; first < iovs_len || (first == 0 && iovs_len == 0);) {
        uint32_t n = iovs_len - first < WASI_IOV_BATCH ? iovs_len - first : WASI_IOV_BATCH;
        wasi_iov batch[WASI_IOV_BATCH];
        uint64_t want = 0;
        err = wasi_iovs(ctx, iovs, first, n, batch, &want);
        if (err != 0) {
            break;
        }
        size_t got = 0;
        switch (op) {
        case IO_READ: err = wasi_port_readv(slot->host, batch, (int)n, &got); break;
        case IO_WRITE: err = wasi_port_writev(slot->host, batch, (int)n, &got); break;
        case IO_PREAD: err = wasi_port_preadv(slot->host, batch, (int)n, offset + *done, &got); break;
        case IO_PWRITE: err = wasi_port_pwritev(slot->host, batch, (int)n, offset + *done, &got); break;
        case IO_SEND: err = wasi_port_sock_send(slot->host, batch, (int)n, &got); break;
        case IO_RECV: err = wasi_port_sock_recv(slot->host, batch, (int)n, riflags, &got, roflags); break;
        }
        if (err != 0) {
            break;
        }
        *done += got;
        first += n;
        /* Go on only where another call cannot block: after a short
         * transfer there is nothing more for now, and on pipes, terminals
         * and sockets even a full one says nothing about the next. */
        if (got < want || n == 0 || slot->filetype != WAFT_WASI_FILETYPE_REGULAR_FILE) {
            break;
        }
    }
    /* Bytes already moved count: report them, as readv would, and let the
     * error surface on the next call. */
    return *done > 0 ? 0 : err;
}

#endif
