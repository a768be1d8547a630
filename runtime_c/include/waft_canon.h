/*
 * waft_canon.h: the canonical ABI's return areas, for runtime code that
 * implements an extension's imports by hand (runtime_c/threads/ext_threads.c,
 * signals/ext_signals.c, sockets/ext_sockets.c).  A return area is checked
 * against the guest's memory before the first write: outside it, or
 * misaligned, is a trap (WAFT_TRAP_MEMORY_OUT_OF_BOUNDS), as a bad pointer in
 * canonical-ABI glue is.  `waft bindgen`'s generated host glue makes the same
 * check in its own code.
 */
#ifndef WAFT_CANON_H
#define WAFT_CANON_H

#include <stdint.h>
#include <string.h>

#include "waft.h"

/* The guest's `size` bytes at `ptr` in `memory`, aligned to `align` (a power
 * of two); traps when they do not lie inside the memory's current size (64-bit
 * arithmetic: no wrap-around), are misaligned, or there is no memory. */
static inline uint8_t *waft_canon_ret_area(waft_memory *memory, int32_t ptr, uint32_t size, uint32_t align) {
    uint32_t at = (uint32_t)ptr;
    if (memory == NULL || (at & (align - 1)) != 0 || (uint64_t)at + size > (uint64_t)memory->size) {
        waft_trap(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    }
    return memory->base + at;
}

/* result<u32, errno> in its 8 bytes: the case byte, then at 4 the errno (one
 * byte: an enum of fewer than 256 cases) when `err` is not 0, else the u32
 * (little-endian, as Wasm stores it). */
static inline void waft_canon_result_u32(uint8_t *ret, uint32_t err, uint32_t value) {
    memset(ret, 0, 8);
    ret[0] = err != 0;
    if (err != 0) {
        ret[4] = (uint8_t)err;
    } else {
        ret[4] = (uint8_t)value;
        ret[5] = (uint8_t)(value >> 8);
        ret[6] = (uint8_t)(value >> 16);
        ret[7] = (uint8_t)(value >> 24);
    }
}

#endif /* WAFT_CANON_H */
