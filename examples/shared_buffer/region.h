/* Reaching a shared-memory region from C compiled to Wasm (docs/shared-memory.md).
 *
 * REGION(ring) declares `region_ring()`, the import `region:ring` of
 * wasi-ext:shared-memory/regions: the address of the region's first byte in
 * this module's memory (its window).  Waft resolves the call at build time to
 * a constant and refuses to build a module that imports a region it was not
 * granted.  The result is an ordinary pointer: loads and stores through it
 * reach the region's bytes, checked against the region's size. */
#ifndef REGION_H
#define REGION_H

#include <stdint.h>

#define REGIONS_MODULE "wasi-ext:shared-memory/regions@0.1.0"
#define REGION(name)                                                                     \
    __attribute__((import_module(REGIONS_MODULE), import_name("region:" #name)))       \
    uint32_t region_##name(void)

/* `sync-for-cpu`: make what a DMA engine wrote visible before reading it. */
__attribute__((import_module(REGIONS_MODULE), import_name("sync-for-cpu")))
int32_t regions_sync_for_cpu(uint32_t handle, uint32_t offset, uint32_t length);

/* `open`'s result, as the canonical ABI lays out result<region, errno>. */
typedef struct regions_open_result {
    uint8_t is_err;
    uint32_t handle, memory, base, size;
    uint8_t access;
} regions_open_result;
__attribute__((import_module(REGIONS_MODULE), import_name("open")))
void regions_open(const char *name, uint32_t len, uint32_t access, regions_open_result *ret);

#endif
