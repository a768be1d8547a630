/*
 * table.c: table growth, the bulk-table helpers, and call_indirect's
 * signature comparison.
 */
#include "waft.h"

#include <string.h>

int32_t waft_table_grow(waft_table *t, uint32_t delta, void *init) {
    uint32_t old_size = t->size;
    /* size <= max always holds, so this subtraction cannot wrap. */
    if (delta > t->max - old_size) {
        return -1;
    }
    for (uint32_t i = 0; i < delta; i++) {
        t->elems[old_size + i] = init;
    }
    t->size = old_size + delta;
    return (int32_t)old_size;
}

void waft_table_init(waft_table *t, uint32_t dst, void *const *elems, uint32_t elems_len,
                     uint32_t src, uint32_t n) {
    if ((uint64_t)src + n > elems_len || (uint64_t)dst + n > t->size) {
        waft_trap(WAFT_TRAP_TABLE_OUT_OF_BOUNDS);
    }
    if (n != 0) {
        memcpy(t->elems + dst, elems + src, (size_t)n * sizeof(void *));
    }
}

void waft_table_copy(waft_table *dst_table, uint32_t dst, const waft_table *src_table, uint32_t src,
                     uint32_t n) {
    if ((uint64_t)src + n > src_table->size || (uint64_t)dst + n > dst_table->size) {
        waft_trap(WAFT_TRAP_TABLE_OUT_OF_BOUNDS);
    }
    if (n != 0) {
        memmove(dst_table->elems + dst, src_table->elems + src, (size_t)n * sizeof(void *));
    }
}

void waft_table_fill(waft_table *t, uint32_t dst, void *value, uint32_t n) {
    if ((uint64_t)dst + n > t->size) {
        waft_trap(WAFT_TRAP_TABLE_OUT_OF_BOUNDS);
    }
    for (uint32_t i = 0; i < n; i++) {
        t->elems[dst + i] = value;
    }
}

bool waft_func_signature_equal(const char *a, const char *b) {
    if (a == b) {
        return true;
    }
    if (a == NULL || b == NULL) {
        return false;
    }
    /* A byte loop, not strcmp: signatures are a few characters (and equal ones
     * usually share one COMDAT string, caught above), while newlib's strcmp for
     * Armv7E-M is a 732-byte word-at-a-time routine that every firmware with a
     * call_indirect would otherwise link. */
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}
