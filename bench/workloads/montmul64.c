/* 64-bit Montgomery multiplication on a 32-bit core: Miller-Rabin primality tests of
 * 62-bit numbers with Montgomery modular exponentiation (R = 2^64), the arithmetic of
 * RSA/ECC key checks and of hashing with 64-bit moduli.  All of it is i64 work: the
 * 64x64->128-bit products are built from four 32x32->64 ones, as portable C does
 * without __int128, so a 32-bit target lives on umull, adds with carry and 64-bit shifts. */
#include "bench.h"

typedef struct { uint64_t n, n_neg_inv, r2; } mont;

/* The 128-bit product a*b: returns the high half, *lo the low half. */
static uint64_t mul_wide(uint64_t a, uint64_t b, uint64_t *lo) {
    uint64_t a0 = (uint32_t) a, a1 = a >> 32, b0 = (uint32_t) b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t) p01 + (uint32_t) p10;
    *lo = (mid << 32) | (uint32_t) p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* REDC of the 128-bit t_hi:t_lo (< n * 2^64): t / 2^64 mod n.  n < 2^63, so nothing overflows. */
static uint64_t redc(const mont *m, uint64_t t_hi, uint64_t t_lo) {
    uint64_t q = t_lo * m->n_neg_inv, qn_lo;
    uint64_t qn_hi = mul_wide(q, m->n, &qn_lo);
    uint64_t sum_lo = t_lo + qn_lo;
    uint64_t r = t_hi + qn_hi + (sum_lo < t_lo);
    return r >= m->n ? r - m->n : r;
}

static uint64_t mont_mul(const mont *m, uint64_t a, uint64_t b) {
    uint64_t lo, hi = mul_wide(a, b, &lo);
    return redc(m, hi, lo);
}

static void mont_init(mont *m, uint64_t n) {
    m->n = n;
    uint64_t x = n;                       /* n * n == 1 mod 8: 3 bits right */
    for (int i = 0; i < 5; i++) x *= 2 - n * x; /* Newton: 6, 12, 24, 48, 96 bits */
    m->n_neg_inv = 0 - x;
    uint64_t r = 1;                       /* 2^128 mod n by doubling: no 64-bit division */
    for (int i = 0; i < 128; i++) {
        r <<= 1;
        if (r >= n) r -= n;
    }
    m->r2 = r;
}

static uint64_t to_mont(const mont *m, uint64_t a) { return mont_mul(m, a % m->n, m->r2); }

static uint64_t mont_pow(const mont *m, uint64_t base, uint64_t e) {
    uint64_t one = to_mont(m, 1), x = to_mont(m, base), acc = one;
    while (e) {
        if (e & 1) acc = mont_mul(m, acc, x);
        x = mont_mul(m, x, x);
        e >>= 1;
    }
    return redc(m, 0, acc);
}

/* Deterministic Miller-Rabin for n < 3.3 * 10^24 (the first twelve primes as bases). */
static int is_prime(uint64_t n) {
    static const uint32_t bases[12] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2) return 0;
    for (int i = 0; i < 12; i++)
        if (n % bases[i] == 0) return n == bases[i];
    mont m;
    mont_init(&m, n);
    uint64_t d = n - 1;
    int s = 0;
    while (!(d & 1)) { d >>= 1; s++; }
    uint64_t one = to_mont(&m, 1), minus_one = to_mont(&m, n - 1);
    for (int i = 0; i < 12; i++) {
        uint64_t x = to_mont(&m, mont_pow(&m, bases[i], d));
        if (x == one || x == minus_one) continue;
        int witness = 1;
        for (int r = 1; r < s && witness; r++) {
            x = mont_mul(&m, x, x);
            if (x == minus_one) witness = 0;
        }
        if (witness) return 0;
    }
    return 1;
}

/* Reference a*b mod n by shift-and-add (n < 2^63: no overflow), for the self-check. */
static uint64_t mulmod_slow(uint64_t a, uint64_t b, uint64_t n) {
    uint64_t r = 0;
    a %= n;
    while (b) {
        if (b & 1) { r += a; if (r >= n) r -= n; }
        a <<= 1;
        if (a >= n) a -= n;
        b >>= 1;
    }
    return r;
}

uint32_t bench_run(uint32_t iterations) {
    uint64_t check = 0;
    uint32_t seed = 7;
    for (uint32_t it = 0; it < iterations; it++) {
        /* An odd 62-bit candidate near a prime-rich region, walked upwards. */
        uint64_t n = ((uint64_t) (bench_rand(&seed) ^ (uint32_t) check) << 30 ^ bench_rand(&seed)) | (1ull << 61) | 1;
        for (int k = 0; k < 4; k++, n += 2) {
            mont m;
            mont_init(&m, n);
            uint64_t x = mont_pow(&m, n >> 7, n - 1);
            check = check * 1099511628211ull ^ x ^ (uint64_t) is_prime(n) << 63;
        }
    }
    return (uint32_t) (check ^ check >> 32);
}

uint32_t bench_verify(void) {
    static const uint64_t primes[3] = {2305843009213693951ull, 4611686018427387847ull, 9223372036854775783ull};
    static const uint64_t composites[3] = {3215031751ull, 4611686018427387849ull, 2305843009213693953ull};
    for (int i = 0; i < 3; i++) {
        if (!is_prime(primes[i]) || is_prime(composites[i])) return 0;
        mont m;
        mont_init(&m, primes[i]);
        if (mont_pow(&m, 3, primes[i] - 1) != 1) return 0; /* Fermat */
    }
    uint32_t seed = 99;
    mont m;
    mont_init(&m, primes[2]);
    for (int i = 0; i < 16; i++) {
        uint64_t a = ((uint64_t) bench_rand(&seed) << 31 ^ bench_rand(&seed)) % m.n;
        uint64_t b = ((uint64_t) bench_rand(&seed) << 31 ^ bench_rand(&seed)) % m.n;
        if (redc(&m, 0, mont_mul(&m, to_mont(&m, a), to_mont(&m, b))) != mulmod_slow(a, b, m.n)) return 0;
    }
    return 1;
}
