/* Linked data structures on the heap: a binary search tree and a FIFO of variable-sized
 * messages, every node from malloc and back through free.  The C library's allocator is
 * part of the work: wasi-libc's dlmalloc compiled into the module on the Wasm side,
 * newlib's (nano) malloc natively, as in firmware that queues packets and keeps tables
 * of sessions.  Uses the C library (bench/variants.py LIBC_WORKLOADS). */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define KEYS 160
#define MESSAGES 96

typedef struct tree { struct tree *left, *right; uint32_t key, value; } tree;
typedef struct msg { struct msg *next; uint16_t len; uint8_t data[]; } msg;

static tree *insert(tree *root, uint32_t key, uint32_t value, int *failed) {
    tree **link = &root;
    while (*link) {
        if (key == (*link)->key) { (*link)->value += value; return root; }
        link = key < (*link)->key ? &(*link)->left : &(*link)->right;
    }
    tree *node = malloc(sizeof *node);
    if (!node) { *failed = 1; return root; }
    node->left = node->right = NULL;
    node->key = key;
    node->value = value;
    *link = node;
    return root;
}

static tree *find(tree *root, uint32_t key) {
    while (root && root->key != key) root = key < root->key ? root->left : root->right;
    return root;
}

/* Delete `key` if present (the in-order successor takes a two-child node's place). */
static tree *delete(tree *root, uint32_t key) {
    tree **link = &root;
    while (*link && (*link)->key != key) link = key < (*link)->key ? &(*link)->left : &(*link)->right;
    tree *node = *link;
    if (!node) return root;
    if (node->left && node->right) {
        tree **succ = &node->right;
        while ((*succ)->left) succ = &(*succ)->left;
        tree *s = *succ;
        *succ = s->right;
        s->left = node->left;
        s->right = node->right;
        *link = s;
    } else {
        *link = node->left ? node->left : node->right;
    }
    free(node);
    return root;
}

/* In-order walk with an explicit stack: a checksum that depends on the order. */
static uint32_t walk(tree *root, uint32_t h) {
    tree *stack[KEYS];
    int depth = 0;
    while (root || depth) {
        while (root) { stack[depth++] = root; root = root->left; }
        root = stack[--depth];
        h = (h ^ root->key) * 16777619u + root->value;
        root = root->right;
    }
    return h;
}

static void destroy(tree *root) {
    if (!root) return;
    destroy(root->left);
    destroy(root->right);
    free(root);
}

/* Queue messages of 8..71 bytes, keep at most 24 in flight, and consume them in order. */
static uint32_t message_queue(uint32_t seed, uint32_t h, int *failed) {
    msg *head = NULL, *tail = NULL;
    int in_flight = 0;
    for (int i = 0; i < MESSAGES; i++) {
        uint32_t r = bench_rand(&seed);
        uint16_t len = (uint16_t) (8 + (r >> 26));
        msg *m = malloc(sizeof *m + len);
        if (!m) { *failed = 1; break; }
        m->next = NULL;
        m->len = len;
        memset(m->data, (int) (r & 0xFF), len);
        m->data[0] = (uint8_t) i;
        if (tail) tail->next = m; else head = m;
        tail = m;
        if (++in_flight > 24 || (r & 3) == 0) {
            msg *first = head;
            head = first->next;
            if (!head) tail = NULL;
            for (int k = 0; k < first->len; k++) h = h * 31 + first->data[k];
            free(first);
            in_flight--;
        }
    }
    while (head) {
        msg *next = head->next;
        h = h * 31 + head->len;
        free(head);
        head = next;
    }
    return h;
}

static uint32_t round_of(uint32_t seed, int *failed) {
    tree *root = NULL;
    uint32_t s = seed;
    for (int i = 0; i < KEYS; i++) {
        uint32_t r = bench_rand(&s);
        root = insert(root, r >> 22, r & 0xFFFF, failed);
    }
    uint32_t h = walk(root, seed);
    s = seed;
    for (int i = 0; i < KEYS; i += 2) {
        uint32_t r = bench_rand(&s);
        bench_rand(&s);
        tree *t = find(root, r >> 22);
        h += t ? t->value : 1;
        root = delete(root, r >> 22);
    }
    h = walk(root, h);
    destroy(root);
    return message_queue(seed ^ h, h, failed);
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t check = 0;
    int failed = 0;
    for (uint32_t it = 0; it < iterations; it++) check = round_of(it * 2246822519u ^ check, &failed);
    return failed ? 0 : check;
}

uint32_t bench_verify(void) {
    int failed = 0;
    tree *root = NULL;
    static const uint32_t keys[7] = {50, 30, 70, 20, 40, 60, 80};
    for (int i = 0; i < 7; i++) root = insert(root, keys[i], keys[i] * 10, &failed);
    root = delete(root, 50);  /* two children: 60 takes its place */
    root = delete(root, 20);  /* a leaf */
    if (failed || !root || root->key != 60 || find(root, 50) || find(root, 20) || !find(root, 80)) return 0;
    uint32_t order = 0;
    tree *stack[8];
    int depth = 0;
    for (tree *n = root; n || depth;) {
        while (n) { stack[depth++] = n; n = n->left; }
        n = stack[--depth];
        order = order * 100 + n->key;
        n = n->right;
    }
    destroy(root);
    /* The same round twice gives the same answer: the allocator reuses freed memory cleanly. */
    uint32_t a = round_of(5, &failed), b = round_of(5, &failed);
    return order == 3040607080u && a == b && !failed;
}
