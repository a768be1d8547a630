/* CRC-32 (IEEE 802.3, reflected, table-driven) over a 1 KiB buffer. */
#include "bench.h"

static uint32_t table[256];
static uint8_t buffer[1024];

static void make_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t seed = 1, sum = 0;
    make_table();
    for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (uint8_t) (bench_rand(&seed) >> 24);
    for (uint32_t it = 0; it < iterations; it++) {
        uint32_t c = crc32(buffer, sizeof buffer);
        buffer[it % sizeof buffer] ^= (uint8_t) c;
        sum += c;
    }
    return sum;
}

uint32_t bench_verify(void) {
    static const uint8_t check[] = "123456789";
    make_table();
    return crc32(check, 9) == 0xCBF43926u && crc32(check, 0) == 0;
}
