/* A regular-expression matcher: patterns compiled to a list of atoms (literal, any,
 * 256-bit character class; each with *, +, ? or once), matched by backtracking at every
 * start position, as in Kernighan and Pike's matcher and the small regex engines of
 * command shells, log filters and protocol parsers on microcontrollers.  Recursion,
 * table lookups and byte-by-byte scanning of text. */
#include "bench.h"

#define MAX_ATOMS 24
#define LINES 24
#define LINE_LEN 48

enum { ONCE, STAR, PLUS, QUEST };

typedef struct {
    uint32_t set[8];    /* the bytes this atom accepts */
    uint8_t quant;
} atom;

typedef struct {
    atom atoms[MAX_ATOMS];
    int count;
    int anchored_start, anchored_end;
} regex;

static const char *const patterns[] = {
    "^ERR [0-9]+:", "temp=[1-9][0-9]?[0-9]?", "sensor_[a-f0-9]+ ok$", "[^ ]*=[0-9]*[02468] ",
    "x[0-9a-f][0-9a-f]*", "^[A-Z]+ .*warn", "id:[0-9]+,v=-?[0-9]+", "a.*b.*c",
};
#define PATTERNS (sizeof patterns / sizeof patterns[0])

static regex compiled[PATTERNS];
static char text[LINES][LINE_LEN];

static void set_add(atom *a, int c) { a->set[(uint8_t) c >> 5] |= 1u << (c & 31); }
static int set_has(const atom *a, int c) { return a->set[(uint8_t) c >> 5] >> (c & 31) & 1; }

/* Compile a pattern; returns 0 when it is malformed or too long. */
static int compile(const char *p, regex *re) {
    re->count = 0;
    re->anchored_start = *p == '^';
    re->anchored_end = 0;
    if (re->anchored_start) p++;
    while (*p) {
        if (p[0] == '$' && p[1] == 0) { re->anchored_end = 1; break; }
        if (re->count == MAX_ATOMS) return 0;
        atom *a = &re->atoms[re->count++];
        for (int i = 0; i < 8; i++) a->set[i] = 0;
        a->quant = ONCE;
        if (*p == '.') {
            for (int i = 0; i < 8; i++) a->set[i] = ~0u;
            a->set[0] &= ~1u; /* never the terminating NUL */
            p++;
        } else if (*p == '[') {
            int negate = *++p == '^';
            if (negate) p++;
            while (*p && *p != ']') {
                if (p[1] == '-' && p[2] && p[2] != ']') {
                    for (int c = (uint8_t) p[0]; c <= (uint8_t) p[2]; c++) set_add(a, c);
                    p += 3;
                } else {
                    set_add(a, *p++);
                }
            }
            if (*p++ != ']') return 0;
            if (negate) {
                for (int i = 0; i < 8; i++) a->set[i] = ~a->set[i];
                a->set[0] &= ~1u;
            }
        } else {
            set_add(a, *p++);
        }
        if (*p == '*') { a->quant = STAR; p++; }
        else if (*p == '+') { a->quant = PLUS; p++; }
        else if (*p == '?') { a->quant = QUEST; p++; }
    }
    return 1;
}

/* Match atoms [i, count) at s; returns the end of the match or 0. */
static const char *match_here(const regex *re, int i, const char *s) {
    for (; i < re->count; i++) {
        const atom *a = &re->atoms[i];
        if (a->quant == ONCE) {
            if (!set_has(a, (uint8_t) *s)) return 0;
            s++;
            continue;
        }
        /* Greedy: take as many as allowed, then give back one at a time. */
        const char *start = s;
        int min = a->quant == PLUS;
        int max = a->quant == QUEST ? 1 : LINE_LEN;
        while (s - start < max && set_has(a, (uint8_t) *s)) s++;
        for (; s - start >= min; s--) {
            const char *end = match_here(re, i + 1, s);
            if (end) return end;
            if (s == start) break;
        }
        return 0;
    }
    if (re->anchored_end && *s) return 0;
    return s;
}

/* The first match in line: its start offset + 1 and length packed, or 0. */
static uint32_t search(const regex *re, const char *line) {
    const char *s = line;
    do {
        const char *end = match_here(re, 0, s);
        if (end) return (uint32_t) (s - line + 1) << 16 | (uint32_t) (end - s);
    } while (!re->anchored_start && *s++);
    return 0;
}

static void put(char **at, const char *s) { while (*s) *(*at)++ = *s++; }

static void put_number(char **at, uint32_t v, int base) {
    char digits[12];
    int n = 0;
    do { digits[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    while (n) *(*at)++ = digits[--n];
}

/* Log-like lines built from the seed. */
static void make_text(uint32_t seed) {
    static const char *const levels[] = {"ERR ", "WARN ", "INFO ", "DBG "};
    static const char *const words[] = {"temp=", "sensor_", "id:", "warn ", "abc ", "x", "rate=", "ok "};
    for (int l = 0; l < LINES; l++) {
        char *at = text[l], *end = text[l] + LINE_LEN - 14;
        put(&at, levels[bench_rand(&seed) >> 30]);
        while (at < end) {
            uint32_t r = bench_rand(&seed);
            put(&at, words[r >> 29]);
            put_number(&at, (r >> 8) & 0x3FF, (r & 1) ? 16 : 10);
            if ((r >> 20 & 3) == 0) put(&at, ",v=-");
            *at++ = (r >> 22 & 1) ? ' ' : ':';
            if ((r >> 23 & 7) == 0) { put(&at, " ok"); break; }
        }
        *at = 0;
    }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t check = 0;
    for (unsigned p = 0; p < PATTERNS; p++) compile(patterns[p], &compiled[p]);
    for (uint32_t it = 0; it < iterations; it++) {
        make_text(it * 2891336453u + check);
        for (unsigned p = 0; p < PATTERNS; p++)
            for (int l = 0; l < LINES; l++) check = check * 33 + search(&compiled[p], text[l]);
    }
    return check;
}

static int expect(const char *pattern, const char *s, uint32_t want) {
    regex re;
    return compile(pattern, &re) && search(&re, s) == want;
}

uint32_t bench_verify(void) {
    return expect("b+c", "aabbbcd", 3u << 16 | 4) && expect("^ab*$", "abbb", 1u << 16 | 4) &&
           expect("^ab*$", "abbbc", 0) && expect("[0-9]+x?", "id 42x!", 4u << 16 | 3) &&
           expect("a.*b", "xxaqqbzb", 3u << 16 | 6) && expect("[^a-c]+", "abcxyz", 4u << 16 | 3) &&
           expect("c?d$", "abd", 3u << 16 | 1) && expect("temp=[1-9][0-9]?[0-9]?", "ERR temp=0 temp=105", 12u << 16 | 8);
}
