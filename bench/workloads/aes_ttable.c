/* AES-128 encryption the way table-driven crypto libraries write it: four 256-entry
 * 32-bit "T-tables" that fold SubBytes, ShiftRows and MixColumns into one lookup per byte,
 * reached through a pointer to a table struct, and a byte S-box for the last round.
 *
 * The family (issue 17's "table-driven crypto") in the shape where Waft trailed GCC:
 * loads `T->t[k][(x >> 8) & 0xff]` from tables whose address is a value (a parameter,
 * a constant only once the call is inlined).  The tables are computed at start-up from
 * the field arithmetic (no copied data); bench_verify checks the FIPS-197 C.1 vector.
 */
#include "bench.h"

struct cipher_tables {
    uint8_t sbox[256];
    uint32_t t[4][256];
};

static struct cipher_tables tables;
static int tables_ready;

static uint8_t gf_mul(uint8_t a, uint8_t b) {
    uint8_t r = 0;
    while (b) {
        if (b & 1) r ^= a;
        a = (uint8_t) ((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
        b >>= 1;
    }
    return r;
}

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void build_tables(void) {
    for (int x = 0; x < 256; x++) {
        uint8_t inv = 0;
        for (int y = 1; y < 256 && x; y++)
            if (gf_mul((uint8_t) x, (uint8_t) y) == 1) { inv = (uint8_t) y; break; }
        uint8_t s = inv;
        for (int i = 1; i <= 4; i++) s ^= (uint8_t) ((inv << i) | (inv >> (8 - i)));
        s ^= 0x63;
        tables.sbox[x] = s;
        /* Little-endian column: bytes 2s, s, s, 3s from the lowest. */
        uint32_t col = (uint32_t) gf_mul(s, 2) | (uint32_t) s << 8 | (uint32_t) s << 16 | (uint32_t) gf_mul(s, 3) << 24;
        for (int k = 0; k < 4; k++) tables.t[k][x] = k ? rotl(col, 8 * k) : col;
    }
    tables_ready = 1;
}

#define B0(x) ((x) & 0xff)
#define B1(x) (((x) >> 8) & 0xff)
#define B2(x) (((x) >> 16) & 0xff)
#define B3(x) ((x) >> 24)

static uint32_t load_le(const uint8_t *p) {
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void store_le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t) v; p[1] = (uint8_t) (v >> 8); p[2] = (uint8_t) (v >> 16); p[3] = (uint8_t) (v >> 24);
}

static uint32_t sub_word(const struct cipher_tables *T, uint32_t w) {
    return (uint32_t) T->sbox[B0(w)] | (uint32_t) T->sbox[B1(w)] << 8
         | (uint32_t) T->sbox[B2(w)] << 16 | (uint32_t) T->sbox[B3(w)] << 24;
}

/* The AES-128 key schedule: 44 words, little-endian columns. */
static void expand_key(const struct cipher_tables *T, const uint8_t key[16], uint32_t rk[44]) {
    uint8_t rcon = 1;
    for (int i = 0; i < 4; i++) rk[i] = load_le(key + 4 * i);
    for (int i = 4; i < 44; i++) {
        uint32_t t = rk[i - 1];
        if (i % 4 == 0) {
            t = sub_word(T, rotl(t, 24)) ^ rcon;
            rcon = (uint8_t) ((rcon << 1) ^ ((rcon & 0x80) ? 0x1b : 0));
        }
        rk[i] = rk[i - 4] ^ t;
    }
}

static void encrypt(const struct cipher_tables *T, const uint32_t *rk, int rounds,
                    const uint8_t *in, uint8_t *out) {
    uint32_t w0 = load_le(in) ^ rk[0], w1 = load_le(in + 4) ^ rk[1];
    uint32_t w2 = load_le(in + 8) ^ rk[2], w3 = load_le(in + 12) ^ rk[3];
    for (int r = 1; r < rounds; r++) {
        const uint32_t *k = rk + 4 * r;
        uint32_t t0 = T->t[0][B0(w0)] ^ T->t[1][B1(w1)] ^ T->t[2][B2(w2)] ^ T->t[3][B3(w3)] ^ k[0];
        uint32_t t1 = T->t[0][B0(w1)] ^ T->t[1][B1(w2)] ^ T->t[2][B2(w3)] ^ T->t[3][B3(w0)] ^ k[1];
        uint32_t t2 = T->t[0][B0(w2)] ^ T->t[1][B1(w3)] ^ T->t[2][B2(w0)] ^ T->t[3][B3(w1)] ^ k[2];
        uint32_t t3 = T->t[0][B0(w3)] ^ T->t[1][B1(w0)] ^ T->t[2][B2(w1)] ^ T->t[3][B3(w2)] ^ k[3];
        w0 = t0; w1 = t1; w2 = t2; w3 = t3;
    }
    const uint32_t *k = rk + 4 * rounds;
    uint32_t s[4] = {w0, w1, w2, w3};
    for (int c = 0; c < 4; c++) {
        uint32_t v = (uint32_t) T->sbox[B0(s[c])] | (uint32_t) T->sbox[B1(s[(c + 1) & 3])] << 8
                   | (uint32_t) T->sbox[B2(s[(c + 2) & 3])] << 16 | (uint32_t) T->sbox[B3(s[(c + 3) & 3])] << 24;
        store_le(out + 4 * c, v ^ k[c]);
    }
}

static uint8_t buffer[256];

uint32_t bench_run(uint32_t iterations) {
    if (!tables_ready) build_tables();
    uint8_t key[16], chain[16] = {0};
    uint32_t rk[44], seed = 11, sum = 0;
    for (int i = 0; i < 16; i++) key[i] = (uint8_t) (bench_rand(&seed) >> 24);
    for (int i = 0; i < 256; i++) buffer[i] = (uint8_t) (bench_rand(&seed) >> 24);
    for (uint32_t it = 0; it < iterations; it++) {
        key[it & 15] ^= (uint8_t) sum;
        expand_key(&tables, key, rk);
        /* CBC over the buffer: each block depends on the one before. */
        for (int b = 0; b < 256; b += 16) {
            for (int i = 0; i < 16; i++) chain[i] ^= buffer[b + i];
            encrypt(&tables, rk, 10, chain, chain);
            for (int i = 0; i < 16; i++) buffer[b + i] = chain[i];
        }
        sum = sum * 31 + load_le(chain) + load_le(chain + 12);
    }
    return sum;
}

uint32_t bench_verify(void) {
    if (!tables_ready) build_tables();
    static const uint8_t key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    static const uint8_t plain[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static const uint8_t cipher[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                       0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
    uint32_t rk[44];
    uint8_t out[16];
    expand_key(&tables, key, rk);
    encrypt(&tables, rk, 10, plain, out);
    for (int i = 0; i < 16; i++)
        if (out[i] != cipher[i]) return 0;
    return tables.sbox[0] == 0x63 && tables.sbox[0x53] == 0xed;
}
