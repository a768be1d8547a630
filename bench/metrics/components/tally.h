/* tally.h: the work both calls do, shared by the guest (Wasm) and the driver (its own check). */
#ifndef BENCH_TALLY_H
#define BENCH_TALLY_H
#include <stddef.h>
#include <stdint.h>

typedef struct bench_tally {
    uint32_t bytes, digits, checksum;
} bench_tally;

static inline bench_tally bench_tally_of(const uint8_t *p, size_t n) {
    bench_tally t = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        t.bytes++;
        t.digits += p[i] >= '0' && p[i] <= '9';
        t.checksum = t.checksum * 31u + p[i];
    }
    return t;
}
#endif
