/* A 32-tap float FIR low-pass filter over 256-sample blocks, delay line carried across blocks. */
#include "bench.h"

#define TAPS 32
#define BLOCK 256

static float coeffs[TAPS];
static float history[TAPS];
static float input[BLOCK], output[BLOCK];

static void init_coeffs(void) {
    /* A triangular window: symmetric, sums to 1, exactly representable steps. */
    float total = 0.0f;
    for (int i = 0; i < TAPS; i++) {
        coeffs[i] = (float) (i < TAPS / 2 ? i + 1 : TAPS - i);
        total += coeffs[i];
    }
    for (int i = 0; i < TAPS; i++) coeffs[i] /= total;
}

static void fir_block(const float *in, float *out, int n) {
    for (int i = 0; i < n; i++) {
        for (int k = TAPS - 1; k > 0; k--) history[k] = history[k - 1];
        history[0] = in[i];
        float acc = 0.0f;
        for (int k = 0; k < TAPS; k++) acc += coeffs[k] * history[k];
        out[i] = acc;
    }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t seed = 11, sum = 0;
    init_coeffs();
    for (int k = 0; k < TAPS; k++) history[k] = 0.0f;
    for (int i = 0; i < BLOCK; i++) input[i] = (float) (int32_t) (bench_rand(&seed) >> 20) - 2048.0f;
    for (uint32_t it = 0; it < iterations; it++) {
        fir_block(input, output, BLOCK);
        input[it % BLOCK] = output[BLOCK - 1];
        sum = sum * 31u + (uint32_t) (int32_t) (output[BLOCK - 1] * 16.0f);
    }
    return sum;
}

uint32_t bench_verify(void) {
    /* The impulse response of a FIR filter is its coefficients, exactly. */
    float in[TAPS + 4], out[TAPS + 4];
    init_coeffs();
    for (int k = 0; k < TAPS; k++) history[k] = 0.0f;
    for (int i = 0; i < TAPS + 4; i++) in[i] = i == 0 ? 1.0f : 0.0f;
    fir_block(in, out, TAPS + 4);
    for (int i = 0; i < TAPS + 4; i++)
        if (out[i] != (i < TAPS ? coeffs[i] : 0.0f)) return 0;
    return 1;
}
