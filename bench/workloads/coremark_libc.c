/* A CoreMark-class mixed workload on the C library: a sorted list of malloc'd records,
 * a table of named records sorted with qsort (a comparator called through a function
 * pointer, strcmp on the names), int16 matrix work set up with memset/memcpy, and a
 * number-scanning state machine over text assembled with memcpy/strlen; CRC-16 over the
 * results, each round seeded by the last.  On the Wasm side the C library (memcpy,
 * memset, malloc, qsort, strcmp, strlen) is wasi-libc compiled into the module; natively
 * it is newlib.  Uses the C library (bench/variants.py LIBC_WORKLOADS). */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define RECORDS 48
#define M 10
#define TEXT 384

typedef struct { char name[12]; int32_t score; uint16_t id; } record;
typedef struct item { struct item *next; int32_t key; uint16_t data; } item;

static record records[RECORDS];
static int16_t mat_a[M][M], mat_b[M][M], mat_t[M][M];
static int32_t mat_c[M][M];
static char text[TEXT + 16];

static uint16_t crc16(uint16_t crc, uint32_t data, int bytes) {
    for (int b = 0; b < bytes; b++) {
        crc ^= (uint8_t) (data >> (8 * b));
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (uint16_t) ((crc >> 1) ^ 0xA001) : (uint16_t) (crc >> 1);
    }
    return crc;
}

static int by_name_score_id(const void *pa, const void *pb) {
    const record *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c) return c;
    if (a->score != b->score) return a->score < b->score ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id); /* a total order: newlib's and musl's qsort agree */
}

static uint16_t records_round(uint16_t crc, uint32_t seed) {
    static const char *const stems[8] = {"pump", "valve", "motor", "fan", "heater", "relay", "sensor", "led"};
    for (int i = 0; i < RECORDS; i++) {
        uint32_t r = bench_rand(&seed);
        const char *stem = stems[r >> 29];
        size_t n = strlen(stem);
        memcpy(records[i].name, stem, n);
        records[i].name[n] = (char) ('0' + (r >> 8) % 10);
        records[i].name[n + 1] = 0;
        records[i].score = (int32_t) (r & 0xFFF) - 2048;
        records[i].id = (uint16_t) i;
    }
    qsort(records, RECORDS, sizeof records[0], by_name_score_id);
    for (int i = 0; i < RECORDS; i++) crc = crc16(crc, records[i].id, 2);
    return crc;
}

static uint16_t list_round(uint16_t crc, uint32_t seed, int *failed) {
    item *head = NULL;
    for (int i = 0; i < 40; i++) {
        item *it = malloc(sizeof *it);
        if (!it) { *failed = 1; break; }
        it->key = (int32_t) (bench_rand(&seed) >> 22);
        it->data = (uint16_t) i;
        item **at = &head;
        while (*at && (*at)->key < it->key) at = &(*at)->next;
        it->next = *at;
        *at = it;
    }
    for (int i = 0; i < 20; i++) {  /* remove every key divisible by a rotating divisor */
        int32_t d = 3 + i % 5;
        item **at = &head;
        while (*at && (*at)->key % d) at = &(*at)->next;
        if (*at) { item *dead = *at; *at = dead->next; crc = crc16(crc, dead->data, 2); free(dead); }
    }
    while (head) { item *next = head->next; crc = crc16(crc, (uint32_t) head->key, 2); free(head); head = next; }
    return crc;
}

static uint16_t matrix_round(uint16_t crc, int16_t seed) {
    memset(mat_a, 0, sizeof mat_a);
    for (int i = 0; i < M; i++)
        for (int j = 0; j <= i; j++) mat_a[i][j] = (int16_t) ((i * 7 + j * 3 + seed) & 0x7F);
    memcpy(mat_b, mat_a, sizeof mat_a);
    for (int i = 0; i < M; i++) mat_b[i][i] = (int16_t) (mat_b[i][i] + seed % 13);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) mat_t[j][i] = mat_b[i][j];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t acc = 0;
            for (int k = 0; k < M; k++) acc += mat_a[i][k] * mat_t[j][k];
            mat_c[i][j] = acc;
        }
    for (int i = 0; i < M; i++) crc = crc16(crc, (uint32_t) mat_c[i][(i + (uint16_t) seed) % M], 4);
    return crc;
}

/* CoreMark's core_state in spirit: classify comma-separated tokens as int, float, hex or invalid. */
enum { START, INT, FLOAT, HEX0, HEX, EXP, EXP_SIGN, EXP_DIGITS, INVALID, STATES };

static uint16_t scan_round(uint16_t crc, uint32_t seed) {
    static const char *const tokens[8] = {"5012", "1.25", "-190", "0x3fA", "4e-2", "+0.7e5", "1.x", "-"};
    size_t len = 0;
    while (len < TEXT) {
        const char *t = tokens[bench_rand(&seed) >> 29];
        size_t n = strlen(t);
        memcpy(text + len, t, n);
        len += n;
        text[len++] = ',';
    }
    text[len] = 0;
    uint32_t counts[STATES] = {0};
    int state = START;
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == ',') { counts[state]++; state = START; continue; }
        int digit = c >= '0' && c <= '9';
        switch (state) {
        case START: state = digit ? INT : (c == '+' || c == '-') ? INT : c == '.' ? FLOAT : INVALID;
            if (c == '0' && p[1] == 'x') { state = HEX0; p++; } break;
        case INT: state = digit ? INT : c == '.' ? FLOAT : (c == 'e' || c == 'E') ? EXP : INVALID; break;
        case FLOAT: state = digit ? FLOAT : (c == 'e' || c == 'E') ? EXP : INVALID; break;
        case HEX0: case HEX: state = (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) ? HEX : INVALID; break;
        case EXP: state = (c == '+' || c == '-') ? EXP_SIGN : digit ? EXP_DIGITS : INVALID; break;
        case EXP_SIGN: case EXP_DIGITS: state = digit ? EXP_DIGITS : INVALID; break;
        default: break;
        }
    }
    for (int s = 0; s < STATES; s++) crc = crc16(crc, counts[s], 2);
    return crc;
}

uint32_t bench_run(uint32_t iterations) {
    uint16_t crc = 0;
    int failed = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        uint32_t seed = it * 2654435761u ^ crc;
        crc = list_round(crc, seed, &failed);
        crc = records_round(crc, seed);
        crc = matrix_round(crc, (int16_t) crc);
        crc = scan_round(crc, seed);
    }
    return failed ? 0 : crc;
}

uint32_t bench_verify(void) {
    /* CRC-16/ARC("123456789") = 0xBB3D. */
    uint16_t crc = 0;
    for (const char *p = "123456789"; *p; p++) crc = crc16(crc, (uint8_t) *p, 1);
    if (crc != 0xBB3D) return 0;
    records_round(0, 77);
    for (int i = 1; i < RECORDS; i++)
        if (by_name_score_id(&records[i - 1], &records[i]) > 0) return 0;
    /* Every id survives the sort exactly once. */
    uint32_t seen[2] = {0, 0};
    for (int i = 0; i < RECORDS; i++) seen[records[i].id >> 5] |= 1u << (records[i].id & 31);
    if (seen[0] != 0xFFFFFFFFu || seen[1] != 0xFFFFu) return 0;
    int failed = 0;
    return list_round(0, 3, &failed) == list_round(0, 3, &failed) && !failed;
}
