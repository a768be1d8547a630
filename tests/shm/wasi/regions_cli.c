/* tests/shm/test_shm_waft_run.py's WASI command: regions through `waft run --region`.
 *
 *   regions_cli            write through the `ring` window, read the bytes back through the `read`
 *                          import (the runtime copies from the region's native address), check `open`
 *                          and the read-only `rom`; prints "regions ok" and exits 0, else exits 10+
 *   regions_cli store-rom  store into read-only `rom`: must trap
 *   regions_cli past-end   load the byte after `ring`: must trap */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define REGIONS "wasi-ext:shared-memory/regions@0.1.0"
__attribute__((import_module(REGIONS), import_name("region:ring"))) uint32_t region_ring(void);
__attribute__((import_module(REGIONS), import_name("region:rom"))) uint32_t region_rom(void);
__attribute__((import_module(REGIONS), import_name("read")))
int32_t regions_read(uint32_t handle, uint32_t offset, void *destination, uint32_t length);
typedef struct { uint8_t is_err; uint32_t handle, memory, base, size; uint8_t access; } open_result;
__attribute__((import_module(REGIONS), import_name("open")))
void regions_open(const char *name, uint32_t len, uint32_t access, open_result *ret);

int main(int argc, char **argv) {
    volatile uint8_t *ring = (volatile uint8_t *)region_ring();
    volatile uint8_t *rom = (volatile uint8_t *)region_rom();
    if (argc > 1 && strcmp(argv[1], "store-rom") == 0) {
        rom[1] = 7;
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "past-end") == 0) {
        return ring[256];
    }
    open_result r;
    regions_open("ring", 4, 1, &r);
    if (r.is_err || r.memory != 0 || r.base != (uint32_t)(uintptr_t)ring || r.size != 256) return 10;
    regions_open("rom", 3, 1, &r);
    if (!r.is_err || r.handle != 76) return 11; /* notcapable: errno in the payload's first byte */
    const char *text = "zero copy";
    for (size_t i = 0; i <= strlen(text); i++) ring[100 + i] = (uint8_t)text[i];
    char back[16] = {0};
    if (regions_read(0, 100, back, 10) != 0 || strcmp(back, text) != 0) return 12;
    for (int i = 0; i < 64; i++) {
        if (rom[i] != 0) return 13; /* a region starts zeroed (.bss) */
    }
    printf("regions ok: %s\n", back);
    return 0;
}
