/*
 * large.c: the wasi-libc-sized program of the `startup` metric group: stdio
 * with float formatting, qsort, malloc and a few KiB of tables, so the
 * module carries most of what a C program pulls in from wasi-libc (the
 * native twin: from newlib or glibc).  Its first act is to read the monotonic
 * clock and print "started <ns>"; it then checks its tables and prints the
 * marker and "done".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instrument.h"

static const char marker[] = "waft-startup-marker";
/* Initialised data: a table the start-up copies (native .data, a Wasm data segment). */
static uint32_t table[1024] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597};

static int by_value(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(void) {
    uint64_t t = bench_clock_ns();
    printf("started %llu\n", (unsigned long long)t);
    uint32_t *copy = malloc(sizeof table);
    if (copy == NULL) {
        printf("problem malloc failed\n");
        return 1;
    }
    memcpy(copy, table, sizeof table);
    qsort(copy, 1024, sizeof *copy, by_value);
    if (copy[1023] != 1597 || table[15] != 1597) {
        printf("problem the data segment is not in memory\n");
        return 1;
    }
    printf("%s %.3f\ndone\n", marker, (double)copy[1020] / 7.0);
    free(copy);
    return 0;
}
