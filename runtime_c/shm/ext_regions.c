/*
 * ext_regions.c: the 5 imports of `wasi-ext:shared-memory/regions@0.1.0`
 * (wasi_ext/shared-memory, docs/shared-memory.md) over a module's grant table
 * (waft_shm.h).  `ctx` is the module's waft_shm; NULL is a module granted
 * nothing (every name is `noent`, every handle `badf`).
 *
 * Written at the core level, as ext_signals.c is; the signatures are the
 * canonical ABI's lowering of the WIT (tests/shm/test_shm_runtime.py compiles
 * this file against prototypes generated from the WIT):
 *
 *   open             (i32 name, i32 len, i32 access, i32 ret) -> ()   result<region, errno>: 24 bytes, align 4
 *   read             (i32 handle, i32 offset, i32 destination, i32 length) -> i32 errno
 *   write            (i32 handle, i32 offset, i32 data, i32 data-len) -> i32 errno
 *   sync-for-device  (i32 handle, i32 offset, i32 length) -> i32 errno
 *   sync-for-cpu     (i32 handle, i32 offset, i32 length) -> i32 errno
 *
 * The `region:NAME` imports are not here: the compiler answers them with the
 * window's base, a constant (aot/shm.py).  Guest ranges are checked in 64-bit
 * arithmetic before the first byte moves; a bad return area traps.
 */
#include "waft_shm.h"
#include "waft_canon.h"

#include <string.h>

#define EXT(name) _wasi_x2dext_x3ashared_x2dmemory_x2fregions_x400_x2e1_x2e0__##name

/* errno values of wasi-ext:types (the enum's case numbers). */
#define E_SUCCESS 0
#define E_BADF 8
#define E_FAULT 21
#define E_ILSEQ 25
#define E_INVAL 28
#define E_NOENT 44
#define E_NOTCAPABLE 76

#define ACCESS_READ_ONLY 0
#define ACCESS_READ_WRITE 1

static const waft_shm no_grants = {0};

static const waft_shm *shm_of(void *ctx) { return ctx != NULL ? ctx : &no_grants; }

/* The guest bytes [ptr, ptr + len) of memory 0, or NULL when they are not all inside it. */
static uint8_t *guest_bytes(const waft_shm *shm, int32_t ptr, int32_t len) {
    waft_memory *m = shm->memory;
    if (m == NULL || (uint64_t)(uint32_t)ptr + (uint32_t)len > (uint64_t)m->size) {
        return NULL;
    }
    return m->base + (uint32_t)ptr;
}

static const waft_shm_grant *grant_of(const waft_shm *shm, int32_t handle) {
    return (uint32_t)handle < shm->count ? &shm->grants[(uint32_t)handle] : NULL;
}

/* Whether [offset, offset + length) lies inside the region. */
static int in_region(const waft_shm_grant *g, int32_t offset, int32_t length) {
    return (uint64_t)(uint32_t)offset + (uint32_t)length <= g->size;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as the WIT's string is. */
static int valid_utf8(const uint8_t *s, uint32_t len) {
    uint32_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t more, cp, least;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1, cp = c & 0x1Fu, least = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, cp = c & 0x0Fu, least = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, cp = c & 0x07u, least = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= more) return 0;
        for (uint32_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += more + 1;
    }
    return 1;
}

void EXT(open)(void *ctx, int32_t name, int32_t len, int32_t access, int32_t ret_ptr) {
    const waft_shm *shm = shm_of(ctx);
    uint8_t *ret = waft_canon_ret_area(shm->memory, ret_ptr, 24, 4);
    uint32_t err = E_NOENT;
    const uint8_t *text = guest_bytes(shm, name, len);
    uint32_t handle = 0;
    if (text == NULL) {
        err = E_FAULT;
    } else if (!valid_utf8(text, (uint32_t)len)) {
        err = E_ILSEQ;
    } else {
        for (handle = 0; handle < shm->count; handle++) {
            const char *n = shm->grants[handle].name;
            if (strlen(n) == (uint32_t)len && memcmp(n, text, (uint32_t)len) == 0) {
                break;
            }
        }
        if (handle == shm->count) {
            err = E_NOENT;
        } else if (access == ACCESS_READ_WRITE && !shm->grants[handle].writable) {
            err = E_NOTCAPABLE;
        } else if (access != ACCESS_READ_ONLY && access != ACCESS_READ_WRITE) {
            err = E_INVAL;
        } else {
            err = E_SUCCESS;
        }
    }
    memset(ret, 0, 24);
    if (err != E_SUCCESS) {
        ret[0] = 1;
        ret[4] = (uint8_t)err;
        return;
    }
    const waft_shm_grant *g = &shm->grants[handle];
    /* region { handle, memory: 0 (a window of memory 0), base, size, access } at offset 4. */
    uint32_t fields[4] = {handle, 0, g->window, g->size};
    for (int f = 0; f < 4; f++) {
        for (int b = 0; b < 4; b++) {
            ret[4 + 4 * f + b] = (uint8_t)(fields[f] >> (8 * b));
        }
    }
    ret[20] = g->writable ? ACCESS_READ_WRITE : ACCESS_READ_ONLY;
}

int32_t EXT(read)(void *ctx, int32_t handle, int32_t offset, int32_t destination, int32_t length) {
    const waft_shm *shm = shm_of(ctx);
    const waft_shm_grant *g = grant_of(shm, handle);
    if (g == NULL) return E_BADF;
    if (!in_region(g, offset, length)) return E_INVAL;
    uint8_t *to = guest_bytes(shm, destination, length);
    if (to == NULL) return E_FAULT;
    memmove(to, g->host + (uint32_t)offset, (uint32_t)length);
    return E_SUCCESS;
}

int32_t EXT(write)(void *ctx, int32_t handle, int32_t offset, int32_t data, int32_t length) {
    const waft_shm *shm = shm_of(ctx);
    const waft_shm_grant *g = grant_of(shm, handle);
    if (g == NULL) return E_BADF;
    if (!g->writable) return E_NOTCAPABLE;
    if (!in_region(g, offset, length)) return E_INVAL;
    const uint8_t *from = guest_bytes(shm, data, length);
    if (from == NULL) return E_FAULT;
    memmove(g->host + (uint32_t)offset, from, (uint32_t)length);
    return E_SUCCESS;
}

#if defined(__arm__) && defined(__ARM_ARCH_7EM__)
/* Armv7-M's cache maintenance by address (Cortex-M7): CCR.DC says whether the
 * data cache is on; on cores without one (M4) that bit reads as zero. */
#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_DCIMVAC (*(volatile uint32_t *)0xE000EF5Cu)
#define SCB_DCCMVAC (*(volatile uint32_t *)0xE000EF68u)
#define CACHE_LINE 32u

static void cache_lines(volatile uint32_t *op, const uint8_t *p, uint32_t length) {
    if ((SCB_CCR & (1u << 16)) == 0 || length == 0) {
        __asm__ volatile("dmb" ::: "memory");
        return;
    }
    uintptr_t at = (uintptr_t)p & ~(uintptr_t)(CACHE_LINE - 1);
    uintptr_t end = (uintptr_t)p + length;
    __asm__ volatile("dsb" ::: "memory");
    for (; at < end; at += CACHE_LINE) {
        *op = (uint32_t)at;
    }
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
#define SYNC_FOR_DEVICE(p, n) cache_lines(&SCB_DCCMVAC, (p), (n))
#define SYNC_FOR_CPU(p, n) cache_lines(&SCB_DCIMVAC, (p), (n))
#elif defined(__arm__)
/* No data cache on these cores (M0+, M3, M33 here): order the accesses. */
#define SYNC_FOR_DEVICE(p, n) __asm__ volatile("dmb" ::: "memory")
#define SYNC_FOR_CPU(p, n) __asm__ volatile("dmb" ::: "memory")
#else
#define SYNC_FOR_DEVICE(p, n) __atomic_thread_fence(__ATOMIC_RELEASE)
#define SYNC_FOR_CPU(p, n) __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

int32_t EXT(_sync_x2dfor_x2ddevice)(void *ctx, int32_t handle, int32_t offset, int32_t length) {
    const waft_shm_grant *g = grant_of(shm_of(ctx), handle);
    if (g == NULL) return E_BADF;
    if (!in_region(g, offset, length)) return E_INVAL;
    SYNC_FOR_DEVICE(g->host + (uint32_t)offset, (uint32_t)length);
    return E_SUCCESS;
}

int32_t EXT(_sync_x2dfor_x2dcpu)(void *ctx, int32_t handle, int32_t offset, int32_t length) {
    const waft_shm_grant *g = grant_of(shm_of(ctx), handle);
    if (g == NULL) return E_BADF;
    if (!in_region(g, offset, length)) return E_INVAL;
    SYNC_FOR_CPU(g->host + (uint32_t)offset, (uint32_t)length);
    return E_SUCCESS;
}
