/*
 * waft_shm.h: shared-memory regions granted to a module (wasi-ext:shared-memory,
 * docs/shared-memory.md).
 *
 * The firmware declares each region once (a static array in a linker section,
 * or a fixed address such as a DMA buffer) and gives each module that may use
 * it a grant: the region's bytes, its window in the module's memory 0 and the
 * access.  The compiled module reaches a region's bytes directly through its
 * window (aot/shm.py lays the windows out; the compiled code references the
 * region's symbol), so this table is only what the `regions` imports answer:
 * `open` reports a grant, `read`/`write` copy, `sync-*` order caches and DMA.
 * The build generates the tables (waftkit/firmware/shm_regions.py); nothing
 * here allocates.
 */
#ifndef WAFT_SHM_H
#define WAFT_SHM_H

#include <stdint.h>

#include "waft.h"

/* One region as granted to one module. */
typedef struct waft_shm_grant {
    const char *name;  /* the region's name, NUL-terminated (1 to 32 bytes) */
    uint8_t *host;     /* its first byte, as native code and DMA see it */
    uint32_t window;   /* its first byte in the module's memory 0 (aot/shm.py's layout) */
    uint32_t size;     /* its size in bytes */
    uint8_t writable;  /* 1: read-write grant; 0: read-only */
} waft_shm_grant;

/* The ctx of a module's `wasi-ext:shared-memory/regions` imports. */
typedef struct waft_shm {
    waft_memory *memory;          /* the module's memory 0: names, return areas, read/write buffers */
    const waft_shm_grant *grants; /* the module's grants, in the order the compiler was given them */
    uint32_t count;               /* number of grants */
} waft_shm;

#endif /* WAFT_SHM_H */
