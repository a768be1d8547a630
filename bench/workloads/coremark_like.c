/* A CoreMark-like mixed kernel: linked-list search/reverse/sort, a small integer matrix
 * pass and CRC-16 over the results, each round seeded by the last. */
#include "bench.h"

#define NODES 64
#define M 8

typedef struct node { struct node *next; int16_t value, index; } node;

static node pool[NODES];
static int16_t mat_a[M][M], mat_b[M][M];
static int32_t mat_c[M][M];

static uint16_t crc16(uint16_t crc, uint16_t data) {
    /* CRC-16/ARC (poly 0xA001 reflected), a byte at a time. */
    for (int byte = 0; byte < 2; byte++) {
        crc ^= (uint8_t) (data >> (8 * byte));
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (uint16_t) ((crc >> 1) ^ 0xA001) : (uint16_t) (crc >> 1);
    }
    return crc;
}

static node *list_build(uint32_t seed) {
    for (int i = 0; i < NODES; i++) {
        pool[i].value = (int16_t) (bench_rand(&seed) >> 20);
        pool[i].index = (int16_t) i;
        pool[i].next = i + 1 < NODES ? &pool[i + 1] : NULL;
    }
    return &pool[0];
}

static node *list_reverse(node *head) {
    node *prev = NULL;
    while (head) { node *next = head->next; head->next = prev; prev = head; head = next; }
    return prev;
}

static node *list_find(node *head, int16_t value) {
    while (head && head->value != value) head = head->next;
    return head;
}

/* Merge sort on the list by value (stable, iterative as in CoreMark's core_list_mergesort). */
static node *list_sort(node *list) {
    for (int insize = 1;; insize *= 2) {
        node *p = list, *tail = NULL;
        int merges = 0;
        list = NULL;
        while (p) {
            merges++;
            node *q = p;
            int psize = 0, qsize = insize;
            for (int i = 0; i < insize && q; i++) { psize++; q = q->next; }
            while (psize > 0 || (qsize > 0 && q)) {
                node *e;
                if (psize == 0) { e = q; q = q->next; qsize--; }
                else if (qsize == 0 || !q || p->value <= q->value) { e = p; p = p->next; psize--; }
                else { e = q; q = q->next; qsize--; }
                if (tail) tail->next = e; else list = e;
                tail = e;
            }
            p = q;
        }
        tail->next = NULL;
        if (merges <= 1) return list;
    }
}

static uint16_t matrix_round(uint16_t crc, int16_t seed) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            mat_a[i][j] = (int16_t) ((i * M + j + seed) & 0x3F);
            mat_b[i][j] = (int16_t) (((i ^ j) + seed) & 0x1F);
        }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t acc = 0;
            for (int k = 0; k < M; k++) acc += (int32_t) mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
        }
    int32_t best = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t v = mat_c[i][j] >> 2;
            if (v > best) best = v;
            crc = crc16(crc, (uint16_t) v);
        }
    return crc16(crc, (uint16_t) best);
}

uint32_t bench_run(uint32_t iterations) {
    uint16_t crc = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        node *head = list_build(it * 40503u + crc);
        head = list_reverse(head);
        node *found = list_find(head, pool[(it * 7) % NODES].value);
        crc = crc16(crc, (uint16_t) (found ? found->index : -1));
        head = list_sort(head);
        for (node *n = head; n; n = n->next) crc = crc16(crc, (uint16_t) n->value);
        crc = matrix_round(crc, (int16_t) crc);
    }
    return crc;
}

uint32_t bench_verify(void) {
    static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    uint16_t crc = 0;
    /* CRC-16/ARC("123456789") = 0xBB3D; feed it two bytes at a time (the last pair is '9', 0). */
    for (int i = 0; i < 8; i += 2) crc = crc16(crc, (uint16_t) (check[i] | check[i + 1] << 8));
    uint16_t c9 = crc;
    c9 ^= check[8];
    for (int k = 0; k < 8; k++) c9 = (c9 & 1) ? (uint16_t) ((c9 >> 1) ^ 0xA001) : (uint16_t) (c9 >> 1);
    if (c9 != 0xBB3D) return 0;
    /* Sorting gives ascending values, keeps every node, and reversing twice is the identity. */
    node *head = list_sort(list_reverse(list_reverse(list_build(99))));
    int count = 0;
    for (node *n = head; n; n = n->next, count++)
        if (n->next && n->value > n->next->value) return 0;
    return count == NODES && list_find(head, pool[17].value) != NULL;
}
