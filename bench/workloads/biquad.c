/* Two cascaded float biquad sections (transposed direct form II) over 256-sample blocks. */
#include "bench.h"

#define BLOCK 256
#define SECTIONS 2

typedef struct { float b0, b1, b2, a1, a2, z1, z2; } biquad;

/* Butterworth low-pass sections (fc = fs/10), coefficients from the bilinear transform. */
static biquad filters[SECTIONS];
static float signal[BLOCK];

static void init_filters(void) {
    static const float c[SECTIONS][5] = {
        {0.06745527f, 0.13491055f, 0.06745527f, -1.14298050f, 0.41280160f},
        {0.06745527f, 0.13491055f, 0.06745527f, -1.14298050f, 0.41280160f},
    };
    for (int s = 0; s < SECTIONS; s++) {
        filters[s].b0 = c[s][0]; filters[s].b1 = c[s][1]; filters[s].b2 = c[s][2];
        filters[s].a1 = c[s][3]; filters[s].a2 = c[s][4];
        filters[s].z1 = filters[s].z2 = 0.0f;
    }
}

static void biquad_block(float *x, int n) {
    for (int s = 0; s < SECTIONS; s++) {
        biquad *f = &filters[s];
        float z1 = f->z1, z2 = f->z2;
        for (int i = 0; i < n; i++) {
            float in = x[i], out = f->b0 * in + z1;
            z1 = f->b1 * in - f->a1 * out + z2;
            z2 = f->b2 * in - f->a2 * out;
            x[i] = out;
        }
        f->z1 = z1; f->z2 = z2;
    }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t seed = 5, sum = 0;
    init_filters();
    for (uint32_t it = 0; it < iterations; it++) {
        for (int i = 0; i < BLOCK; i++) signal[i] = (float) (int32_t) (bench_rand(&seed) >> 20) - 2048.0f;
        biquad_block(signal, BLOCK);
        sum = sum * 31u + (uint32_t) (int32_t) (signal[BLOCK - 1] * 16.0f);
    }
    return sum;
}

uint32_t bench_verify(void) {
    /* A step settles to the cascade's DC gain, (b0+b1+b2)/(1+a1+a2) per section (1.0 here). */
    float x[BLOCK];
    init_filters();
    for (int block = 0; block < 4; block++) {
        for (int i = 0; i < BLOCK; i++) x[i] = 1.0f;
        biquad_block(x, BLOCK);
    }
    float gain = 1.0f;
    for (int s = 0; s < SECTIONS; s++)
        gain *= (filters[s].b0 + filters[s].b1 + filters[s].b2) / (1.0f + filters[s].a1 + filters[s].a2);
    return bench_fabsf(x[BLOCK - 1] - gain) < 1e-4f && bench_fabsf(gain - 1.0f) < 1e-3f;
}
