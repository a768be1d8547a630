/* 16x16 float matrix multiply, C = A*B, with the product fed back (scaled) into A. */
#include "bench.h"

#define N 16

static float A[N][N], B[N][N], C[N][N];

static void matmul(float (*c)[N], float (*a)[N], float (*b)[N]) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int k = 0; k < N; k++) acc += a[i][k] * b[k][j];
            c[i][j] = acc;
        }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t seed = 19, sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (float) (int32_t) (bench_rand(&seed) >> 24) / 128.0f - 1.0f;
            B[i][j] = (float) (int32_t) (bench_rand(&seed) >> 24) / 128.0f - 1.0f;
        }
    for (uint32_t it = 0; it < iterations; it++) {
        matmul(C, A, B);
        for (int i = 0; i < N; i++) A[i][it % N] = C[i][(it + 1) % N] * 0.125f;
        for (int i = 0; i < N; i++) sum = sum * 31u + (uint32_t) (int32_t) (C[i][i] * 1024.0f);
    }
    return sum;
}

uint32_t bench_verify(void) {
    /* Small integers are exact in float: the float product must equal the integer one. */
    int32_t want[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (float) ((i * 7 + j * 3) % 11 - 5);
            B[i][j] = (float) ((i * 5 + j * 13) % 9 - 4);
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < N; k++) acc += ((i * 7 + k * 3) % 11 - 5) * ((k * 5 + j * 13) % 9 - 4);
            want[i][j] = acc;
        }
    matmul(C, A, B);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (C[i][j] != (float) want[i][j]) return 0;
    return 1;
}
