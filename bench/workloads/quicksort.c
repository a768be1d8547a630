/* Quicksort (median of three, insertion sort below 16 elements) of 512 pseudo-random int32. */
#include "bench.h"

#define COUNT 512

static int32_t values[COUNT];

static void insertion_sort(int32_t *a, int n) {
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        for (; j >= 0 && a[j] > v; j--) a[j + 1] = a[j];
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int n) {
    while (n > 16) {
        int32_t x = a[0], y = a[n / 2], z = a[n - 1];
        int32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            int32_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++; j--;
        }
        /* Recurse into the smaller half, loop on the larger: stack depth stays O(log n). */
        if (j + 1 < n - j - 1) {
            quicksort(a, j + 1);
            a += j + 1; n -= j + 1;
        } else {
            quicksort(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion_sort(a, n);
}

static void fill(uint32_t seed) {
    for (int i = 0; i < COUNT; i++) values[i] = (int32_t) bench_rand(&seed) >> 8;
}

uint32_t bench_run(uint32_t iterations) {
    uint32_t sum = 0;
    for (uint32_t it = 0; it < iterations; it++) {
        fill(it * 2654435761u + sum);
        quicksort(values, COUNT);
        sum = sum * 31u + (uint32_t) values[it % COUNT] + (uint32_t) values[COUNT / 2];
    }
    return sum;
}

uint32_t bench_verify(void) {
    /* Sorted, and the same multiset: sum and xor survive the sort. */
    uint32_t add = 0, mix = 0;
    fill(42);
    for (int i = 0; i < COUNT; i++) { add += (uint32_t) values[i]; mix ^= (uint32_t) values[i] * 2654435761u; }
    quicksort(values, COUNT);
    for (int i = 0; i < COUNT; i++) { add -= (uint32_t) values[i]; mix ^= (uint32_t) values[i] * 2654435761u; }
    for (int i = 1; i < COUNT; i++)
        if (values[i - 1] > values[i]) return 0;
    return add == 0 && mix == 0;
}
