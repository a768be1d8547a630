/*
 * ramfs_model.c: drive the RAM filesystem (runtime_c/wasi_p1/ramfs.c) on the
 * host against a model: files written, grown, shrunk, copied out of their
 * seed and removed at random, every file's contents checked against a shadow
 * copy after every step.  The pool is kept packed by moving files, which is
 * where a wrong offset would corrupt a neighbour.  Prints "ok" or the first
 * mismatch; exit status 0 only when everything matched.  The pool is small
 * enough that writes often find it full (short writes, NOSPC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ramfs.h"
#include "waft_wasi_p1.h"

#define FILES 6
#define POOL 1536
#define MAXSIZE 2048

static waft_ramfs_node nodes[16];
static uint8_t pool[POOL];
static uint8_t shadow[FILES][MAXSIZE];
static uint32_t sizes[FILES];
static uint16_t ids[FILES];
static const uint8_t seed_a[300] = {1, 2, 3};

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int check(int step) {
    uint8_t buf[MAXSIZE];
    for (int f = 0; f < FILES; f++) {
        size_t got;
        if (waft_ramfs_size(ids[f]) != sizes[f]) {
            printf("step %d: file %d size %u, want %u\n", step, f, waft_ramfs_size(ids[f]), sizes[f]);
            return 1;
        }
        if (waft_ramfs_read(ids[f], 0, buf, sizeof buf, &got) != 0 || got != sizes[f] ||
            memcmp(buf, shadow[f], got) != 0) {
            printf("step %d: file %d contents differ\n", step, f);
            return 1;
        }
    }
    return 0;
}

int main(void) {
    const waft_ramfs_seed seed[] = {
        {"d", WAFT_WASI_FILETYPE_DIRECTORY, NULL, 0, 0},
        {"d/seeded", WAFT_WASI_FILETYPE_REGULAR_FILE, seed_a, sizeof seed_a, 0},
    };
    if (waft_ramfs_mount(nodes, 16, pool, POOL, seed, 2, 1) != 0) return 2;
    uint16_t d;
    if (waft_ramfs_find("/d", &d) != 0) return 2;
    /* File 0 is the seeded one (contents in "flash"); the others start empty. */
    memcpy(shadow[0], seed_a, sizeof seed_a);
    sizes[0] = sizeof seed_a;
    if (waft_ramfs_open(d, "seeded", false, false, false, false, true, 2, &ids[0]) != 0) return 2;
    for (int f = 1; f < FILES; f++) {
        char name[8];
        snprintf(name, sizeof name, "f%d", f);
        if (waft_ramfs_open(d, name, true, true, false, false, true, 2, &ids[f]) != 0) return 2;
    }
    for (int step = 0; step < 20000; step++) {
        int f = (int)(next() % FILES);
        uint32_t op = next() % 4;
        if (op < 2) { /* write somewhere, maybe past the end */
            uint32_t off = next() % (sizes[f] + 64), len = next() % 200;
            if (off + len > MAXSIZE) continue;
            uint8_t data[200];
            for (uint32_t i = 0; i < len; i++) data[i] = (uint8_t)next();
            size_t done;
            uint16_t err = waft_ramfs_write(ids[f], off, data, len, 3, &done);
            if (err != 0 && err != WAFT_WASI_ERRNO_NOSPC) {
                printf("step %d: write error %u\n", step, err);
                return 1;
            }
            if (err == 0 && done > 0) { /* an empty write extends nothing */
                if (off > sizes[f]) memset(shadow[f] + sizes[f], 0, off - sizes[f]);
                memcpy(shadow[f] + off, data, done);
                if (off + done > sizes[f]) sizes[f] = off + (uint32_t)done;
            }
        } else if (op == 2) { /* truncate or extend */
            uint32_t size = next() % 700;
            uint16_t err = waft_ramfs_set_size(ids[f], size, 3);
            if (err == 0) {
                if (size > sizes[f]) memset(shadow[f] + sizes[f], 0, size - sizes[f]);
                sizes[f] = size;
            } else if (err != WAFT_WASI_ERRNO_NOSPC) {
                printf("step %d: set_size error %u\n", step, err);
                return 1;
            }
        } else { /* empty it: the next writes come back at the pool's end */
            if (waft_ramfs_set_size(ids[f], 0, 3) != 0) return 1;
            sizes[f] = 0;
        }
        if (check(step) != 0) return 1;
        uint32_t total = 0;
        for (int g = 0; g < FILES; g++) total += sizes[g];
        if (waft_ramfs_used() > total || waft_ramfs_used() > POOL) {
            printf("step %d: pool says %u used for %u bytes of files\n", step, waft_ramfs_used(), total);
            return 1;
        }
    }
    /* Removing every file gives the whole pool back. */
    for (int f = 0; f < FILES; f++) {
        char name[8];
        snprintf(name, sizeof name, f == 0 ? "seeded" : "f%d", f);
        if (waft_ramfs_unlink(d, name) != 0) return 1;
    }
    if (waft_ramfs_used() != 0) {
        printf("%u bytes still used after unlinking everything\n", waft_ramfs_used());
        return 1;
    }
    printf("ok\n");
    return 0;
}
