/* CoreMark-style input classifier: a state machine that sorts comma-separated words into
 * integers, decimals, scientific numbers and invalid words, counting transitions. */
#include "bench.h"

enum { S_START, S_INVALID, S_S1, S_S2, S_INT, S_FLOAT, S_EXPONENT, S_SCIENTIFIC, S_COUNT };

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Advances over one word; returns the final state and counts transitions. */
static int next_state(const char **p, uint32_t transitions[S_COUNT]) {
    const char *s = *p;
    int state = S_START;
    for (; *s && state != S_INVALID; s++) {
        char c = *s;
        if (c == ',') { s++; break; }
        switch (state) {
        case S_START:
            if (is_digit(c)) state = S_INT;
            else if (c == '+' || c == '-') state = S_S1;
            else if (c == '.') state = S_FLOAT;
            else { state = S_INVALID; transitions[S_INVALID]++; }
            transitions[S_START]++;
            break;
        case S_S1:
            if (is_digit(c)) { state = S_INT; transitions[S_S1]++; }
            else if (c == '.') { state = S_FLOAT; transitions[S_S1]++; }
            else { state = S_INVALID; transitions[S_S1]++; }
            break;
        case S_INT:
            if (c == '.') { state = S_FLOAT; transitions[S_INT]++; }
            else if (!is_digit(c)) { state = S_INVALID; transitions[S_INT]++; }
            break;
        case S_FLOAT:
            if (c == 'E' || c == 'e') { state = S_S2; transitions[S_FLOAT]++; }
            else if (!is_digit(c)) { state = S_INVALID; transitions[S_FLOAT]++; }
            break;
        case S_S2:
            if (c == '+' || c == '-') { state = S_EXPONENT; transitions[S_S2]++; }
            else { state = S_INVALID; transitions[S_S2]++; }
            break;
        case S_EXPONENT:
            if (is_digit(c)) { state = S_SCIENTIFIC; transitions[S_EXPONENT]++; }
            else { state = S_INVALID; transitions[S_EXPONENT]++; }
            break;
        case S_SCIENTIFIC:
            if (!is_digit(c)) { state = S_INVALID; transitions[S_INVALID]++; }
            break;
        }
    }
    if (state == S_INVALID) /* skip the rest of an invalid word */
        while (*s && *s++ != ',') {}
    *p = s;
    return state;
}

static const char *const words[] = {"5012", "1234", "-874", "+122", "35.54", ".1234", "-110.700", "+0.64",
                                    "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F", "-T.T++Tq",
                                    "1T3.4e4z", "34.0e-T^"};
static char input[512];

static uint32_t classify(const char *s, uint32_t finals[S_COUNT], uint32_t transitions[S_COUNT]) {
    for (int k = 0; k < S_COUNT; k++) finals[k] = transitions[k] = 0;
    while (*s) finals[next_state(&s, transitions)]++;
    uint32_t h = 0;
    for (int k = 0; k < S_COUNT; k++) h = h * 131u + finals[k] * 7u + transitions[k];
    return h;
}

static uint32_t build_input(uint32_t seed) {
    uint32_t n = 0;
    while (n < sizeof input - 12) {
        const char *w = words[(bench_rand(&seed) >> 16) % 16];
        while (*w) input[n++] = *w++;
        input[n++] = ',';
    }
    input[n] = 0;
    return seed;
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t finals[S_COUNT], transitions[S_COUNT], sum = 0, seed = 23;
    for (uint32_t it = 0; it < iterations; it++) {
        if ((it & 7) == 0) seed = build_input(seed + sum);
        input[(it * 13u) % 400u] ^= 1; /* flip a bit: digits stay digits, signs change class */
        sum = sum * 31u + classify(input, finals, transitions);
    }
    return sum;
}

uint32_t bench_verify(void) {
    static const char sample[] = "5012,-874,35.54,.1234,5.500e+3,-.123e-2,T0.3e-1F,1T3.4e4z,+0.64,";
    uint32_t finals[S_COUNT], transitions[S_COUNT];
    classify(sample, finals, transitions);
    /* 5012 -874: int; 35.54 .1234 +0.64: float; 5.500e+3 -.123e-2: scientific; two invalid. */
    return finals[S_INT] == 2 && finals[S_FLOAT] == 3 && finals[S_SCIENTIFIC] == 2 && finals[S_INVALID] == 2;
}
