/* 16x16 int32 matrix multiply, C = A*B, with the product fed back into A. */
#include "bench.h"

#define N 16

static int32_t A[N][N], B[N][N], C[N][N];

static void matmul(int32_t (*c)[N], int32_t (*a)[N], int32_t (*b)[N]) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < N; k++) acc += a[i][k] * b[k][j];
            c[i][j] = acc;
        }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t seed = 17, sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (int32_t) (bench_rand(&seed) >> 24) - 128;
            B[i][j] = (int32_t) (bench_rand(&seed) >> 24) - 128;
        }
    for (uint32_t it = 0; it < iterations; it++) {
        matmul(C, A, B);
        for (int i = 0; i < N; i++) A[i][it % N] = C[i][(it + 1) % N] & 0xFF;
        for (int i = 0; i < N; i++) sum = sum * 31u + (uint32_t) C[i][i];
    }
    return sum;
}

uint32_t bench_verify(void) {
    /* A*I == A, and a 2x2 product known by hand in the corner of otherwise-zero matrices. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = i * 31 - j * 7;
            B[i][j] = i == j;
        }
    matmul(C, A, B);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (C[i][j] != A[i][j]) return 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) A[i][j] = B[i][j] = 0;
    A[0][0] = 1; A[0][1] = 2; A[1][0] = 3; A[1][1] = 4;
    B[0][0] = 5; B[0][1] = 6; B[1][0] = 7; B[1][1] = 8;
    matmul(C, A, B);
    return C[0][0] == 19 && C[0][1] == 22 && C[1][0] == 43 && C[1][1] == 50 && C[2][2] == 0;
}
