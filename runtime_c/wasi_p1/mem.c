/*
 * mem.c: every guest pointer the WASI runtime follows goes through here, so
 * the bounds check that keeps a bad pointer from becoming a crash is written
 * once.  The memory's size is read at each call: memory.grow may have moved
 * the bound since the last one.
 */
#include "wasi_internal.h"

#include <string.h>

uint8_t *wasi_mem(waft_wasi_ctx *ctx, uint32_t ptr, uint64_t len) {
    const waft_memory *m = ctx->memory;
    if (m == NULL || m->base == NULL) {
        return NULL;
    }
    /* 64-bit sum: ptr + len cannot wrap (ptr < 2^32, len < 2^33 here). */
    if ((uint64_t)ptr + len > (uint64_t)m->size) {
        return NULL;
    }
    return m->base + ptr;
}

uint8_t *wasi_mem_array(waft_wasi_ctx *ctx, uint32_t ptr, uint32_t count, uint32_t size) {
    return wasi_mem(ctx, ptr, (uint64_t)count * size);
}

uint16_t wasi_iovs(waft_wasi_ctx *ctx, uint32_t iovs, uint32_t first, uint32_t n, wasi_iov *out, uint64_t *total) {
    uint64_t at = (uint64_t)iovs + (uint64_t)first * WAFT_WASI_IOVEC_SIZE;
    uint8_t *array = at > UINT32_MAX ? NULL : wasi_mem_array(ctx, (uint32_t)at, n, WAFT_WASI_IOVEC_SIZE);
    if (array == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *iov = array + i * WAFT_WASI_IOVEC_SIZE;
        uint32_t buf = wasi_load32(iov + WAFT_WASI_IOVEC_OFF_BUF);
        uint32_t len = wasi_load32(iov + WAFT_WASI_IOVEC_OFF_BUF_LEN);
        uint8_t *p = wasi_mem(ctx, buf, len);
        if (p == NULL) {
            return WAFT_WASI_ERRNO_FAULT;
        }
        out[i].base = p;
        out[i].len = len;
        *total += len;
    }
    return 0;
}

uint16_t wasi_iovs_check(waft_wasi_ctx *ctx, uint32_t iovs, uint32_t iovs_len) {
    uint8_t *array = wasi_mem_array(ctx, iovs, iovs_len, WAFT_WASI_IOVEC_SIZE);
    if (array == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    for (uint32_t i = 0; i < iovs_len; i++) {
        const uint8_t *iov = array + (size_t)i * WAFT_WASI_IOVEC_SIZE;
        if (wasi_mem(ctx, wasi_load32(iov + WAFT_WASI_IOVEC_OFF_BUF), wasi_load32(iov + WAFT_WASI_IOVEC_OFF_BUF_LEN)) == NULL) {
            return WAFT_WASI_ERRNO_FAULT;
        }
    }
    return 0;
}

/* Strict UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF): WASI
 * paths are strings, and wasmtime refuses the same byte sequences. */
static bool valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += len;
    }
    return true;
}

uint16_t wasi_path(waft_wasi_ctx *ctx, uint32_t ptr, uint32_t len, char *out) {
    const uint8_t *p = wasi_mem(ctx, ptr, len);
    if (p == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }
    if (len >= WASI_PATH_MAX) {
        return WAFT_WASI_ERRNO_NAMETOOLONG;
    }
    if (memchr(p, 0, len) != NULL || !valid_utf8(p, len)) {
        return WAFT_WASI_ERRNO_ILSEQ;
    }
    if (len > 0 && p[0] == '/') {
        return WAFT_WASI_ERRNO_PERM;
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}
