/* A JSON tokenizer (strings with escapes, numbers, literals, punctuation) over a half-KiB document. */
#include "bench.h"

enum { T_PUNCT, T_STRING, T_NUMBER, T_LITERAL, T_ERROR, T_KINDS };

static const char document[] =
    "{\"sensors\":[{\"id\":1,\"name\":\"temp\\\"in\\\"\",\"value\":21.5,\"ok\":true,\"unit\":\"C\"},"
    "{\"id\":2,\"name\":\"humidity\",\"value\":-4.25e1,\"ok\":false,\"unit\":\"%\"},"
    "{\"id\":3,\"name\":\"pressure\",\"value\":1013.25,\"ok\":true,\"unit\":\"hPa\",\"trend\":null}],"
    "\"config\":{\"rate_hz\":100,\"filters\":[0.5,0.25,0.125,6.25E-2],\"label\":\"line\\nbreak \\u00e9\","
    "\"limits\":{\"min\":-40,\"max\":125,\"hysteresis\":0.5},\"enabled\":true,\"tags\":[\"a\",\"b\",\"c\"]},"
    "\"log\":[[1,2,3],[4,5,6],[7,8,9],{\"t\":1700000000,\"msg\":\"boot \\\\ ok\"},null,false,true]}";

static char buffer[sizeof document];

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Counts tokens by kind; returns a hash of (kind, length) over the token stream. */
static uint32_t tokenize(const char *s, uint32_t n, uint32_t counts[T_KINDS]) {
    uint32_t hash = 2166136261u, i = 0;
    for (int k = 0; k < T_KINDS; k++) counts[k] = 0;
    while (i < n) {
        char c = s[i];
        uint32_t start = i, kind;
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') { i++; continue; }
        if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') {
            kind = T_PUNCT; i++;
        } else if (c == '"') {
            kind = T_STRING; i++;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\') {
                    i++;
                    if (i < n && s[i] == 'u') i += 4;
                }
                i++;
            }
            if (i >= n) kind = T_ERROR;
            i++;
        } else if (c == '-' || is_digit(c)) {
            kind = T_NUMBER; i++;
            while (i < n && (is_digit(s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-')) i++;
        } else if (c == 't' || c == 'f' || c == 'n') {
            kind = T_LITERAL;
            while (i < n && s[i] >= 'a' && s[i] <= 'z') i++;
            uint32_t len = i - start;
            if (!((len == 4 && c != 'f') || (len == 5 && c == 'f'))) kind = T_ERROR;
        } else {
            kind = T_ERROR; i++;
        }
        counts[kind]++;
        hash = (hash ^ (kind << 8 | (i - start))) * 16777619u;
    }
    return hash;
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t counts[T_KINDS], sum = 0, n = sizeof document - 1;
    for (uint32_t i = 0; i < sizeof document; i++) buffer[i] = document[i];
    for (uint32_t it = 0; it < iterations; it++) {
        /* Turn one digit into another each round: the token stream stays valid but the input changes. */
        uint32_t pos = (it * 7919u) % n;
        if (is_digit(buffer[pos])) buffer[pos] = (char) ('0' + (buffer[pos] - '0' + 1) % 10);
        sum += tokenize(buffer, n, counts) + counts[T_NUMBER];
    }
    return sum;
}

uint32_t bench_verify(void) {
    static const char small[] = "{\"a\":[1,2.5,true,null],\"b\":\"x\\\"y\", \"c\": -3e2 } @";
    uint32_t counts[T_KINDS];
    tokenize(small, sizeof small - 1, counts);
    /* { : [ , , , ] , : , : } = 12 punctuation; "a" "b" "x\"y" "c"; 1 2.5 -3e2; true null; @ */
    if (!(counts[T_PUNCT] == 12 && counts[T_STRING] == 4 && counts[T_NUMBER] == 3 &&
          counts[T_LITERAL] == 2 && counts[T_ERROR] == 1))
        return 0;
    tokenize(document, sizeof document - 1, counts);
    return counts[T_ERROR] == 0 && counts[T_STRING] > 40 && counts[T_NUMBER] > 20;
}
