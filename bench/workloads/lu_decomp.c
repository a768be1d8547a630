/* LU decomposition with partial pivoting and matrix inversion in double precision, on
 * 2-D arrays indexed in nested loops: the linear algebra of Kalman filters, sensor
 * calibration and control design.  On a core without a double FPU every operation is a
 * libgcc call; the row and column indexing is what the compilers differ on. */
#include "bench.h"

#define N 12

static double a[N][N], lu[N][N], inv[N][N], product[N][N];
static int perm[N];

static double dabs(double x) { return x < 0 ? -x : x; }

/* lu = P * a factored in place (unit lower L below the diagonal, U on and above);
 * returns the determinant's sign times the product of the pivots, 0 when singular. */
static double decompose(void) {
    double det = 1.0;
    for (int i = 0; i < N; i++) {
        perm[i] = i;
        for (int j = 0; j < N; j++) lu[i][j] = a[i][j];
    }
    for (int k = 0; k < N; k++) {
        int pivot = k;
        double best = dabs(lu[k][k]);
        for (int i = k + 1; i < N; i++)
            if (dabs(lu[i][k]) > best) { best = dabs(lu[i][k]); pivot = i; }
        if (best == 0.0) return 0.0;
        if (pivot != k) {
            for (int j = 0; j < N; j++) { double t = lu[k][j]; lu[k][j] = lu[pivot][j]; lu[pivot][j] = t; }
            int t = perm[k]; perm[k] = perm[pivot]; perm[pivot] = t;
            det = -det;
        }
        det *= lu[k][k];
        for (int i = k + 1; i < N; i++) {
            double f = lu[i][k] / lu[k][k];
            lu[i][k] = f;
            for (int j = k + 1; j < N; j++) lu[i][j] -= f * lu[k][j];
        }
    }
    return det;
}

/* inv = a^-1, column by column: forward substitution with L, back substitution with U. */
static void invert(void) {
    double y[N];
    for (int c = 0; c < N; c++) {
        for (int i = 0; i < N; i++) {
            double s = perm[i] == c ? 1.0 : 0.0;
            for (int j = 0; j < i; j++) s -= lu[i][j] * y[j];
            y[i] = s;
        }
        for (int i = N - 1; i >= 0; i--) {
            double s = y[i];
            for (int j = i + 1; j < N; j++) s -= lu[i][j] * inv[j][c];
            inv[i][c] = s / lu[i][i];
        }
    }
}

/* The largest |a * inv - I| entry. */
static double residual(void) {
    double worst = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < N; k++) s += a[i][k] * inv[k][j];
            product[i][j] = s;
            double e = dabs(s - (i == j ? 1.0 : 0.0));
            if (e > worst) worst = e;
        }
    return worst;
}

static void fill(uint32_t seed) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            a[i][j] = (double) ((int32_t) (bench_rand(&seed) >> 16) - 32768) / 4096.0 + (i == j ? 4.0 : 0.0);
}

static uint32_t bits_of(double x) {
    union { double d; uint64_t u; } v = {x};
    return (uint32_t) (v.u ^ v.u >> 32);
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t check = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        fill(it * 747796405u + check);
        double det = decompose();
        invert();
        double err = residual();
        check = check * 31 + bits_of(det) + bits_of(err < 1e-9 ? 1.0 : err);
        for (int i = 0; i < N; i++) check ^= bits_of(inv[i][(i * 5 + it) % N]) + (uint32_t) i;
    }
    return check;
}

uint32_t bench_verify(void) {
    /* A 12x12 matrix with a known inverse: the tridiagonal (2, -1) matrix has det = N + 1. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) a[i][j] = i == j ? 2.0 : (i - j == 1 || j - i == 1) ? -1.0 : 0.0;
    double det = decompose();
    if (dabs(det - (N + 1)) > 1e-9) return 0;
    invert();
    /* Its inverse is min(i+1, j+1) * (N - max(i, j)) / (N + 1). */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int lo = i < j ? i : j, hi = i < j ? j : i;
            if (dabs(inv[i][j] - (double) ((lo + 1) * (N - hi)) / (N + 1)) > 1e-12) return 0;
        }
    fill(42);
    decompose();
    invert();
    return residual() < 1e-9;
}
