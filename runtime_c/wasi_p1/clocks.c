/*
 * clocks.c: clock_res_get and clock_time_get over the port's clocks.
 */
#include "wasi_internal.h"

int32_t wasi_snapshot_preview1__clock_res_get(void *ctx, int32_t id, int32_t resolution) {
    uint8_t *out = wasi_mem(WASI_CTX(ctx), (uint32_t)resolution, 8);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint64_t ns;
    uint16_t err = wasi_port_clock_res((uint32_t)id, &ns);
    if (err == 0) {
        wasi_store64(out, ns);
    }
    return err;
}

int32_t wasi_snapshot_preview1__clock_time_get(void *ctx, int32_t id, int64_t precision, int32_t time) {
    (void)precision; /* every port reads its clock at full precision */
    uint8_t *out = wasi_mem(WASI_CTX(ctx), (uint32_t)time, 8);
    if (out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint64_t ns;
    uint16_t err = wasi_port_clock_time((uint32_t)id, &ns);
    if (err == 0) {
        wasi_store64(out, ns);
    }
    return err;
}
