/* Huffman coding: build a code from a message's symbol counts (a binary min-heap of
 * tree nodes), make it canonical, encode the message into a bit stream and decode it
 * back bit by bit against the per-length code counts (the decoder of zlib's puff.c).
 * Table-driven and branchy, the shape of the entropy coders in image, audio and
 * compression firmware. */
#include "bench.h"

#define SYMBOLS 64
#define MESSAGE 1024
#define MAX_BITS 24                     /* a 1,024-symbol message cannot need longer codes */
#define NODES (2 * SYMBOLS)

static uint8_t message[MESSAGE], decoded[MESSAGE];
static uint32_t stream[MESSAGE * MAX_BITS / 32 + 1];
static uint32_t counts[NODES];
static int16_t parent[NODES];
static uint8_t lengths[SYMBOLS];
static uint32_t codes[SYMBOLS];
static uint16_t length_count[MAX_BITS + 1];
static uint8_t sorted_symbols[SYMBOLS];

/* Min-heap of node indices ordered by count (ties by index, so every compiler agrees). */
static int16_t heap[NODES];
static int heap_size;

static int less(int a, int b) { return counts[a] < counts[b] || (counts[a] == counts[b] && a < b); }

static void heap_push(int node) {
    int i = heap_size++;
    while (i > 0 && less(node, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = (int16_t) node;
}

static int heap_pop(void) {
    int top = heap[0], last = heap[--heap_size], i = 0;
    for (;;) {
        int child = 2 * i + 1;
        if (child >= heap_size) break;
        if (child + 1 < heap_size && less(heap[child + 1], heap[child])) child++;
        if (!less(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = (int16_t) last;
    return top;
}

/* Code lengths from the symbol counts in counts[0..SYMBOLS); returns the number of used symbols. */
static int build_lengths(void) {
    heap_size = 0;
    int used = 0;
    for (int s = 0; s < SYMBOLS; s++) {
        parent[s] = -1;
        lengths[s] = 0;
        if (counts[s]) { heap_push(s); used++; }
    }
    if (used == 1) { lengths[heap[0]] = 1; return 1; }
    int next = SYMBOLS;
    while (heap_size > 1) {
        int a = heap_pop(), b = heap_pop();
        counts[next] = counts[a] + counts[b];
        parent[a] = parent[b] = (int16_t) next;
        parent[next] = -1;
        heap_push(next++);
    }
    for (int s = 0; s < SYMBOLS; s++) {
        if (!counts[s]) continue;
        int depth = 0;
        for (int n = s; parent[n] >= 0; n = parent[n]) depth++;
        lengths[s] = (uint8_t) depth;
    }
    return used;
}

/* Canonical codes (DEFLATE's rule), the per-length counts and the symbols in code order. */
static void canonical_codes(void) {
    uint32_t next_code[MAX_BITS + 1];
    for (int len = 0; len <= MAX_BITS; len++) length_count[len] = 0;
    for (int s = 0; s < SYMBOLS; s++) length_count[lengths[s]]++;
    length_count[0] = 0;
    uint32_t code = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        code = (code + length_count[len - 1]) << 1;
        next_code[len] = code;
    }
    int k = 0;
    for (int len = 1; len <= MAX_BITS; len++)
        for (int s = 0; s < SYMBOLS; s++)
            if (lengths[s] == len) sorted_symbols[k++] = (uint8_t) s;
    for (int s = 0; s < SYMBOLS; s++)
        if (lengths[s]) codes[s] = next_code[lengths[s]]++;
}

/* Append each symbol's code, most significant bit first; returns the number of bits. */
static uint32_t encode(void) {
    uint32_t pos = 0;
    for (size_t i = 0; i < sizeof stream / sizeof stream[0]; i++) stream[i] = 0;
    for (int i = 0; i < MESSAGE; i++) {
        int s = message[i];
        for (int b = lengths[s] - 1; b >= 0; b--, pos++)
            if (codes[s] >> b & 1) stream[pos >> 5] |= 1u << (31 - (pos & 31));
    }
    return pos;
}

static void decode(void) {
    uint32_t pos = 0;
    for (int i = 0; i < MESSAGE; i++) {
        int code = 0, first = 0, index = 0;
        for (int len = 1; len <= MAX_BITS; len++) {
            code |= (int) (stream[pos >> 5] >> (31 - (pos & 31)) & 1);
            pos++;
            int count = length_count[len];
            if (code - count < first) {
                decoded[i] = sorted_symbols[index + (code - first)];
                break;
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
    }
}

static void count_symbols(void) {
    for (int s = 0; s < NODES; s++) counts[s] = 0;
    for (int i = 0; i < MESSAGE; i++) counts[message[i]]++;
}

/* A skewed source: the product of two uniform 6-bit values favours small symbols. */
static void make_message(uint32_t seed) {
    for (int i = 0; i < MESSAGE; i++) {
        uint32_t r = bench_rand(&seed);
        message[i] = (uint8_t) ((((r >> 10) & 63) * ((r >> 20) & 63)) >> 6);
    }
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t check = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        make_message(it * 2654435761u ^ check);
        count_symbols();
        build_lengths();
        canonical_codes();
        uint32_t nbits = encode();
        decode();
        uint32_t h = nbits;
        for (int i = 0; i < MESSAGE; i++) h = h * 31 + decoded[i];
        for (uint32_t w = 0; w < (nbits + 31) / 32; w++) h = (h ^ stream[w]) * 16777619u;
        check ^= h;
    }
    return check;
}

uint32_t bench_verify(void) {
    /* Counts 5, 2, 1, 1 give lengths 1, 2, 3, 3 and codes 0, 10, 110, 111. */
    for (int i = 0; i < NODES; i++) counts[i] = 0;
    counts[0] = 5; counts[1] = 2; counts[2] = 1; counts[3] = 1;
    build_lengths();
    canonical_codes();
    if (lengths[0] != 1 || lengths[1] != 2 || lengths[2] != 3 || lengths[3] != 3) return 0;
    if (codes[0] != 0 || codes[1] != 2 || codes[2] != 6 || codes[3] != 7) return 0;
    /* A generated message: the code is complete (Kraft sum exactly 1) and round-trips. */
    make_message(12345);
    count_symbols();
    build_lengths();
    canonical_codes();
    uint32_t kraft = 0;
    for (int s = 0; s < SYMBOLS; s++)
        if (lengths[s]) kraft += 1u << (MAX_BITS - lengths[s]);
    if (kraft != 1u << MAX_BITS) return 0;
    encode();
    decode();
    for (int i = 0; i < MESSAGE; i++)
        if (decoded[i] != message[i]) return 0;
    return 1;
}
