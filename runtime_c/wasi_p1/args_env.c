/*
 * args_env.c: args_* and environ_*: copy the embedder's argument and
 * environment strings into guest memory, pointer array first, the strings
 * (NUL-terminated, packed) into the buffer after it.
 */
#include "wasi_internal.h"

#include <string.h>

/* Total bytes of `n` strings, NULs included. */
static uint64_t strings_size(int32_t n, const char *const *v) {
    uint64_t size = 0;
    for (int32_t i = 0; i < n; i++) {
        size += strlen(v[i]) + 1;
    }
    return size;
}

static int32_t sizes_get(waft_wasi_ctx *ctx, int32_t n, const char *const *v, int32_t count_ptr, int32_t size_ptr) {
    uint8_t *count = wasi_mem(ctx, (uint32_t)count_ptr, 4);
    uint8_t *size = wasi_mem(ctx, (uint32_t)size_ptr, 4);
    if (count == NULL || size == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint64_t total = strings_size(n, v);
    if (total > UINT32_MAX) {
        return WAFT_WASI_ERRNO_OVERFLOW;
    }
    wasi_store32(count, (uint32_t)n);
    wasi_store32(size, (uint32_t)total);
    return 0;
}

static int32_t strings_get(waft_wasi_ctx *ctx, int32_t n, const char *const *v, int32_t array_ptr, int32_t buf_ptr) {
    /* The guest sized both from *_sizes_get; check the whole extent before
     * writing a byte, so FAULT leaves memory untouched. */
    uint8_t *array = wasi_mem_array(ctx, (uint32_t)array_ptr, (uint32_t)n, 4);
    uint64_t total = strings_size(n, v);
    uint8_t *buf = wasi_mem(ctx, (uint32_t)buf_ptr, total);
    if (array == NULL || buf == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    uint32_t at = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        wasi_store32(array + 4 * i, (uint32_t)buf_ptr + at);
        memmove(buf + at, v[i], len);
        at += (uint32_t)len;
    }
    return 0;
}

int32_t wasi_snapshot_preview1__args_get(void *ctx, int32_t argv, int32_t argv_buf) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    return strings_get(c, c->argc, c->argv, argv, argv_buf);
}

int32_t wasi_snapshot_preview1__args_sizes_get(void *ctx, int32_t argc, int32_t argv_buf_size) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    return sizes_get(c, c->argc, c->argv, argc, argv_buf_size);
}

int32_t wasi_snapshot_preview1__environ_get(void *ctx, int32_t environ, int32_t environ_buf) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    return strings_get(c, c->envc, c->envp, environ, environ_buf);
}

int32_t wasi_snapshot_preview1__environ_sizes_get(void *ctx, int32_t environc, int32_t environ_buf_size) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    return sizes_get(c, c->envc, c->envp, environc, environ_buf_size);
}
