/*
 * random.c: random_get, filled by the port's entropy source (getrandom on the
 * host, the board's RNG on bare metal).
 */
#include "wasi_internal.h"

int32_t wasi_snapshot_preview1__random_get(void *ctx, int32_t buf, int32_t buf_len) {
    uint8_t *p = wasi_mem(WASI_CTX(ctx), (uint32_t)buf, (uint32_t)buf_len);
    if (p == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    return wasi_port_random(p, (uint32_t)buf_len);
}
