/*
 * memory.c: linear-memory growth and the bulk-memory helpers.
 *
 * Bounds arithmetic is done in uint64_t: a Wasm address, offset and length are
 * each 32 bits, so their sums cannot wrap there, and on 32-bit targets size_t
 * could.
 */
#include "waft.h"

#include <string.h>

__attribute__((weak)) void waft_port_memory_grow_lock(void) {}
__attribute__((weak)) void waft_port_memory_grow_unlock(void) {}

static int32_t grow_locked(waft_memory *m, uint32_t delta_pages);

int32_t waft_memory_grow(waft_memory *m, uint32_t delta_pages) {
    /* Under the lock, so that two threads growing one shared memory neither
     * hand out the same pages nor zero-fill pages the other has published. */
    waft_port_memory_grow_lock();
    int32_t old_pages = grow_locked(m, delta_pages);
    waft_port_memory_grow_unlock();
    return old_pages;
}

static int32_t grow_locked(waft_memory *m, uint32_t delta_pages) {
    uint32_t old_pages = m->pages;
    /* pages <= max_pages always holds, so this subtraction cannot wrap. */
    if (delta_pages > m->max_pages - old_pages) {
        return -1;
    }
    if (m->page_size_log2 > 16) {
        return -1; /* no Wasm page size is larger than 64 KiB */
    }
    uint64_t new_pages = (uint64_t)old_pages + delta_pages;
    uint64_t new_size = new_pages << m->page_size_log2; /* at most 2^48: no wrap */
    /* A 4 GiB memory does not fit a 32-bit size_t; the cap should prevent it,
     * but a wrong cap must fail the grow rather than wrap the size. */
    if (new_size > (uint64_t)SIZE_MAX) {
        return -1;
    }
    size_t old_size = m->size;
    memset(m->base + old_size, 0, (size_t)new_size - old_size);
    /* Release stores: a thread that sees the new size also sees the zeroes. */
    __atomic_store_n(&m->pages, (uint32_t)new_pages, __ATOMIC_RELEASE);
    __atomic_store_n(&m->size, (size_t)new_size, __ATOMIC_RELEASE);
    return (int32_t)old_pages;
}

void waft_memory_init(waft_memory *m, uint32_t dst, const uint8_t *data, uint32_t data_len,
                      uint32_t src, uint32_t n) {
    if ((uint64_t)src + n > data_len || (uint64_t)dst + n > m->size) {
        waft_trap(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    }
    if (n != 0) {
        memcpy(m->base + dst, data + src, n);
    }
}

void waft_memory_copy(waft_memory *dst_mem, uint32_t dst, const waft_memory *src_mem, uint32_t src,
                      uint32_t n) {
    if ((uint64_t)src + n > src_mem->size || (uint64_t)dst + n > dst_mem->size) {
        waft_trap(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    }
    if (n != 0) {
        memmove(dst_mem->base + dst, src_mem->base + src, n);
    }
}

void waft_memory_fill(waft_memory *m, uint32_t dst, uint32_t value, uint32_t n) {
    if ((uint64_t)dst + n > m->size) {
        waft_trap(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    }
    if (n != 0) {
        memset(m->base + dst, (int)(uint8_t)value, n);
    }
}
