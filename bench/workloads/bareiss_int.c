/* Exact integer elimination on small systems: fraction-free (Bareiss) determinants of 3x3 to
 * 5x5 integer matrices with row pivoting, and unit lower-triangular forward substitution.  The
 * shape of small calibration and control code that avoids floating point: triangular nested
 * loops with trips of 1 to 5, a 2-D array indexed by every loop variable, and an integer
 * division in the innermost loop.  With loops this short, whatever a compiler does on entry
 * to each loop (set-up, hoisted checks) costs as much as the loop body itself. */
#include "bench.h"

#define NMAX 5

static int32_t m[NMAX][NMAX + 1]; /* an augmented matrix: n rows, n + 1 columns */
static int32_t low[NMAX][NMAX], rhs[NMAX], sol[NMAX];

/* Determinant of m's first n columns, eliminating in place (the last row ends up holding it). */
static int32_t bareiss(int n) {
    int32_t prev = 1, sign = 1;
    for (int k = 0; k < n - 1; k++) {
        if (m[k][k] == 0) { /* pivot: the first lower row with a non-zero in column k */
            int r = k + 1;
            while (r < n && m[r][k] == 0) r++;
            if (r == n) return 0;
            for (int c = 0; c <= n; c++) {
                int32_t t = m[k][c];
                m[k][c] = m[r][c];
                m[r][c] = t;
            }
            sign = -sign;
        }
        for (int i = k + 1; i < n; i++) {
            for (int j = k + 1; j <= n; j++)
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) / prev; /* exact, by Sylvester's identity */
            m[i][k] = 0;
        }
        prev = m[k][k];
    }
    return sign * m[n - 1][n - 1];
}

/* sol = low^-1 * rhs for a unit lower-triangular low. */
static void forward(int n) {
    for (int i = 0; i < n; i++) {
        int32_t w = rhs[i];
        for (int j = 0; j < i; j++) w -= low[i][j] * sol[j];
        sol[i] = w;
    }
}

/* Entries in [-3, 3] keep every intermediate of a 5x5 elimination far inside int32 (Hadamard). */
static void fill(int n, uint32_t *seed) {
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= n; j++) m[i][j] = (int32_t) (bench_rand(seed) >> 29) - 3;
        for (int j = 0; j < n; j++) low[i][j] = j < i ? (int32_t) (bench_rand(seed) >> 30) - 2 : j == i;
        rhs[i] = (int32_t) (bench_rand(seed) >> 28) - 8;
    }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t check = 0, seed = 12345;
    for (uint32_t it = 0; it < iterations; it++) {
        for (int n = 3; n <= NMAX; n++) {
            seed ^= check;
            fill(n, &seed);
            check = check * 31u + (uint32_t) bareiss(n) + (uint32_t) m[n - 1][n];
            forward(n);
            for (int i = 0; i < n; i++) check = check * 7u + (uint32_t) sol[i];
        }
    }
    return check;
}

/* The determinant by cofactor expansion along the first row, for the self-check. */
static int32_t laplace(const int32_t a[NMAX][NMAX], int n) {
    if (n == 1) return a[0][0];
    int32_t sub[NMAX][NMAX], det = 0, sign = 1;
    for (int c = 0; c < n; c++) {
        for (int i = 1; i < n; i++)
            for (int j = 0, k = 0; j < n; j++)
                if (j != c) sub[i - 1][k++] = a[i][j];
        det += sign * a[0][c] * laplace(sub, n - 1);
        sign = -sign;
    }
    return det;
}

uint32_t bench_verify(void) {
    /* The (2, -1) tridiagonal matrix has determinant n + 1; a row swap flips the sign. */
    for (int n = 2; n <= NMAX; n++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= n; j++) m[i][j] = i == j ? 2 : (i - j == 1 || j - i == 1) ? -1 : 0;
        if (bareiss(n) != n + 1) return 0;
    }
    m[0][0] = 0, m[0][1] = 1, m[1][0] = 1, m[1][1] = 0;
    if (bareiss(2) != -1) return 0;
    uint32_t seed = 7;
    for (int trial = 0; trial < 20; trial++) {
        int n = 3 + trial % 3;
        int32_t copy[NMAX][NMAX];
        fill(n, &seed);
        if (trial % 4 == 0) m[0][0] = 0; /* make the pivot search run */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) copy[i][j] = m[i][j];
        if (bareiss(n) != laplace(copy, n)) return 0;
        forward(n);
        for (int i = 0; i < n; i++) { /* low * sol == rhs */
            int32_t s = 0;
            for (int j = 0; j < n; j++) s += low[i][j] * sol[j];
            if (s != rhs[i]) return 0;
        }
    }
    return 1;
}
