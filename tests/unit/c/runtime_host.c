/*
 * runtime_host.c: exercises libwaft.a on the host (run by tests/unit/test_runtime.py).
 *
 * With no argument it runs every check and prints "ok N checks" (or one FAIL
 * line per failed check, exit 1).  With an argument it does one thing whose
 * process-level result the Python test inspects: a trap with no frame, an exit
 * with no frame, or stack exhaustion on a small thread stack.
 */
#define _GNU_SOURCE /* pthread_attr_setstacksize under -std=c11 */
#include "waft.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        checks++;                                                                    \
        if (!(cond)) {                                                               \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
            failures++;                                                              \
        }                                                                            \
    } while (0)

#define PAGE 65536u
static uint8_t storage[4 * PAGE];

static void test_memory_grow(void) {
    memset(storage, 0xAA, sizeof storage); /* garbage past `size`: grow must zero it */
    waft_memory m = {storage, PAGE, 1, 4, 16};
    CHECK(waft_memory_grow(&m, 0) == 1);
    CHECK(waft_memory_grow(&m, 2) == 1);
    CHECK(m.pages == 3 && m.size == 3 * PAGE);
    CHECK(storage[PAGE - 1] == 0xAA); /* old contents untouched */
    CHECK(storage[PAGE] == 0 && storage[3 * PAGE - 1] == 0);
    CHECK(storage[3 * PAGE] == 0xAA); /* nothing past the new size */
    CHECK(waft_memory_grow(&m, 2) == -1);
    CHECK(m.pages == 3 && m.size == 3 * PAGE);
    CHECK(waft_memory_grow(&m, 1) == 3);
    CHECK(waft_memory_grow(&m, 1) == -1);
    CHECK(waft_memory_grow(&m, UINT32_MAX) == -1);
    CHECK(m.pages == 4 && m.size == 4 * PAGE);

    /* custom-page-sizes: 1-byte pages */
    memset(storage, 0xAA, sizeof storage);
    waft_memory b = {storage, 0, 0, 100, 0};
    CHECK(waft_memory_grow(&b, 10) == 0);
    CHECK(b.pages == 10 && b.size == 10 && storage[9] == 0 && storage[10] == 0xAA);
    CHECK(waft_memory_grow(&b, 91) == -1);
    CHECK(waft_memory_grow(&b, 90) == 10);
    CHECK(b.pages == 100 && b.size == 100 && storage[99] == 0 && storage[100] == 0xAA);
    CHECK(waft_memory_grow(&b, UINT32_MAX) == -1);

    /* A 4 GiB cap: the page arithmetic must not wrap (nothing is grown). */
    waft_memory big = {storage, PAGE, 1, 65536, 16};
    CHECK(waft_memory_grow(&big, UINT32_MAX) == -1);
    CHECK(waft_memory_grow(&big, 65536) == -1);
    CHECK(big.pages == 1);
    waft_memory byte_big = {storage, 1, 1, UINT32_MAX, 0};
    CHECK(waft_memory_grow(&byte_big, UINT32_MAX) == -1);
    CHECK(waft_memory_grow(&byte_big, 0) == 1);
}

/* --- trap frames ----------------------------------------------------------- */

static void trap_with(void *code, void *unused) {
    (void)unused;
    waft_trap((waft_trap_code)(intptr_t)code);
}

static void return_normally(void *a, void *b) {
    *(int *)a += 1;
    (void)b;
}

static waft_trap_code inner_result, middle_result;

/* Wasm -> import -> Wasm: an inner guarded call traps and is caught by its own
 * frame; then this level traps with `code` and the outer frame gets that. */
static void middle(void *inner_code, void *code) {
    inner_result = waft_call_guarded(trap_with, inner_code, NULL);
    waft_trap((waft_trap_code)(intptr_t)code);
}

static void outer(void *a, void *b) {
    (void)a;
    (void)b;
    middle_result = waft_call_guarded(middle, (void *)(intptr_t)WAFT_TRAP_INTEGER_OVERFLOW,
                                      (void *)(intptr_t)WAFT_TRAP_INVALID_CONVERSION);
    /* this level returns normally */
}

static void exit_with(void *status, void *unused) {
    (void)unused;
    waft_exit((int32_t)(intptr_t)status);
}

static void test_trap_frames(void) {
    int counter = 0;
    CHECK(waft_call_guarded(return_normally, &counter, NULL) == WAFT_TRAP_NONE);
    CHECK(counter == 1);
    CHECK(waft_trap_current == NULL);

    CHECK(waft_call_guarded(trap_with, (void *)(intptr_t)WAFT_TRAP_UNREACHABLE, NULL) == WAFT_TRAP_UNREACHABLE);
    CHECK(waft_trap_current == NULL);

    inner_result = middle_result = WAFT_TRAP_NONE;
    waft_trap_code code = waft_call_guarded(middle, (void *)(intptr_t)WAFT_TRAP_MEMORY_OUT_OF_BOUNDS,
                                            (void *)(intptr_t)WAFT_TRAP_UNDEFINED_ELEMENT);
    CHECK(inner_result == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(code == WAFT_TRAP_UNDEFINED_ELEMENT);
    CHECK(waft_trap_current == NULL);

    /* Three levels: the innermost trap lands in the innermost frame only. */
    inner_result = middle_result = WAFT_TRAP_NONE;
    CHECK(waft_call_guarded(outer, NULL, NULL) == WAFT_TRAP_NONE);
    CHECK(inner_result == WAFT_TRAP_INTEGER_OVERFLOW);
    CHECK(middle_result == WAFT_TRAP_INVALID_CONVERSION);
    CHECK(waft_trap_current == NULL);

    /* A NONE "trap" must not look like success. */
    CHECK(waft_call_guarded(trap_with, (void *)(intptr_t)WAFT_TRAP_NONE, NULL) == WAFT_TRAP_HOST);

    CHECK(waft_call_guarded(exit_with, (void *)(intptr_t)42, NULL) == WAFT_TRAP_EXIT);
    CHECK(waft_exit_status == 42);

    /* Manual push/pop, as an embedder without waft_call_guarded would do it. */
    waft_trap_frame frame;
    waft_trap_push(&frame);
    CHECK(waft_trap_current == &frame);
    CHECK(waft_stack_limit != 0); /* push initialised it */
    waft_trap_pop(&frame);
    CHECK(waft_trap_current == NULL);
}

static void test_strerror(void) {
    CHECK(strcmp(waft_strerror(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS), "out of bounds memory access") == 0);
    CHECK(strcmp(waft_strerror(WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO), "integer divide by zero") == 0);
    CHECK(strcmp(waft_strerror(WAFT_TRAP_INVALID_CONVERSION), "invalid conversion to integer") == 0);
    CHECK(strcmp(waft_strerror(WAFT_TRAP_CALL_STACK_EXHAUSTED), "call stack exhausted") == 0);
    CHECK(strcmp(waft_strerror((waft_trap_code)99), "unknown trap") == 0);
    CHECK(strcmp(waft_strerror((waft_trap_code)-1), "unknown trap") == 0);
}

/* --- bulk memory and tables -------------------------------------------------- */

struct bulk_args {
    waft_memory *m;
    uint32_t dst, src, n;
    const uint8_t *data;
    uint32_t len;
};

static void do_memory_init(void *p, void *unused) {
    struct bulk_args *a = p;
    (void)unused;
    waft_memory_init(a->m, a->dst, a->data, a->len, a->src, a->n);
}

static void do_memory_fill(void *p, void *unused) {
    struct bulk_args *a = p;
    (void)unused;
    waft_memory_fill(a->m, a->dst, 0x1234, a->n);
}

static void do_memory_copy(void *p, void *unused) {
    struct bulk_args *a = p;
    (void)unused;
    waft_memory_copy(a->m, a->dst, a->m, a->src, a->n);
}

static void test_bulk_memory(void) {
    memset(storage, 0, sizeof storage);
    waft_memory m = {storage, 16, 16, 16, 0};
    const uint8_t data[4] = {1, 2, 3, 4};
    struct bulk_args a = {&m, 2, 1, 3, data, 4};
    CHECK(waft_call_guarded(do_memory_init, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(storage[2] == 2 && storage[3] == 3 && storage[4] == 4 && storage[5] == 0);
    a = (struct bulk_args){&m, 14, 0, 3, data, 4}; /* dst + n = 17 > 16 */
    CHECK(waft_call_guarded(do_memory_init, &a, NULL) == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(storage[14] == 0); /* nothing written */
    a = (struct bulk_args){&m, 0, 5, 0, data, 4}; /* src past the segment, even with n = 0 */
    CHECK(waft_call_guarded(do_memory_init, &a, NULL) == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
    a = (struct bulk_args){&m, 16, 4, 0, data, 4}; /* both at their ends, n = 0: fine */
    CHECK(waft_call_guarded(do_memory_init, &a, NULL) == WAFT_TRAP_NONE);
    a = (struct bulk_args){&m, UINT32_MAX, 0, 2, data, 4}; /* dst + n wraps in 32 bits */
    CHECK(waft_call_guarded(do_memory_init, &a, NULL) == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);

    a = (struct bulk_args){&m, 10, 0, 6, NULL, 0};
    CHECK(waft_call_guarded(do_memory_fill, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(storage[10] == 0x34 && storage[15] == 0x34 && storage[9] == 0);
    a.n = 7;
    CHECK(waft_call_guarded(do_memory_fill, &a, NULL) == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);

    /* overlapping copy forwards: memmove semantics */
    a = (struct bulk_args){&m, 3, 2, 3, NULL, 0};
    CHECK(waft_call_guarded(do_memory_copy, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(storage[3] == 2 && storage[4] == 3 && storage[5] == 4);
    a = (struct bulk_args){&m, 0, 14, 3, NULL, 0};
    CHECK(waft_call_guarded(do_memory_copy, &a, NULL) == WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);
}

struct table_args {
    waft_table *t;
    uint32_t dst, src, n;
    void *const *elems;
    uint32_t len;
};

static void do_table_init(void *p, void *unused) {
    struct table_args *a = p;
    (void)unused;
    waft_table_init(a->t, a->dst, a->elems, a->len, a->src, a->n);
}

static void do_table_copy(void *p, void *unused) {
    struct table_args *a = p;
    (void)unused;
    waft_table_copy(a->t, a->dst, a->t, a->src, a->n);
}

static void do_table_fill(void *p, void *unused) {
    struct table_args *a = p;
    (void)unused;
    waft_table_fill(a->t, a->dst, (void *)a->elems, a->n);
}

static void test_tables(void) {
    void *slots[8] = {0};
    int x, y;
    waft_table t = {slots, 2, 5};
    CHECK(waft_table_grow(&t, 2, &x) == 2);
    CHECK(t.size == 4 && slots[2] == &x && slots[3] == &x && slots[4] == NULL);
    CHECK(waft_table_grow(&t, 2, &y) == -1);
    CHECK(t.size == 4);
    CHECK(waft_table_grow(&t, 1, NULL) == 4);
    CHECK(waft_table_grow(&t, 0, NULL) == 5);
    CHECK(waft_table_grow(&t, UINT32_MAX, NULL) == -1);

    void *const segment[2] = {&x, &y};
    struct table_args a = {&t, 0, 0, 2, segment, 2};
    CHECK(waft_call_guarded(do_table_init, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(slots[0] == &x && slots[1] == &y);
    a = (struct table_args){&t, 4, 0, 2, segment, 2};
    CHECK(waft_call_guarded(do_table_init, &a, NULL) == WAFT_TRAP_TABLE_OUT_OF_BOUNDS);
    a = (struct table_args){&t, 0, 3, 0, segment, 2};
    CHECK(waft_call_guarded(do_table_init, &a, NULL) == WAFT_TRAP_TABLE_OUT_OF_BOUNDS);

    a = (struct table_args){&t, 1, 0, 2, NULL, 0};
    CHECK(waft_call_guarded(do_table_copy, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(slots[1] == &x && slots[2] == &y);
    a = (struct table_args){&t, 4, 0, 2, NULL, 0};
    CHECK(waft_call_guarded(do_table_copy, &a, NULL) == WAFT_TRAP_TABLE_OUT_OF_BOUNDS);

    a = (struct table_args){&t, 3, 0, 2, (void *const *)&y, 0};
    CHECK(waft_call_guarded(do_table_fill, &a, NULL) == WAFT_TRAP_NONE);
    CHECK(slots[3] == &y && slots[4] == &y);
    a.n = 3;
    CHECK(waft_call_guarded(do_table_fill, &a, NULL) == WAFT_TRAP_TABLE_OUT_OF_BOUNDS);
}

static void test_signatures(void) {
    static const char sig[] = "iI:f";
    char copy[] = "iI:f";
    CHECK(waft_func_signature_equal(sig, sig));
    CHECK(waft_func_signature_equal(sig, copy));
    CHECK(!waft_func_signature_equal(sig, "iI:F"));
    CHECK(!waft_func_signature_equal(sig, NULL));
    CHECK(!waft_func_signature_equal(NULL, sig));
    CHECK(waft_func_signature_equal(NULL, NULL));
}

/* --- stack exhaustion ------------------------------------------------------------ */

static unsigned long depth;

/* Shaped like a compiled Wasm function: check the frame address on entry. */
static __attribute__((noinline)) int recurse(int n) {
    volatile char pad[256];
    if ((uintptr_t)__builtin_frame_address(0) < waft_stack_limit) {
        waft_trap(WAFT_TRAP_CALL_STACK_EXHAUSTED);
    }
    if (n == INT32_MAX) {
        return 0; /* never reached; tells the compiler the recursion has an end */
    }
    depth++;
    pad[0] = (char)n;
    return recurse(n + 1) + pad[0]; /* not a tail call: every level keeps a frame */
}

static void run_recursion(void *result, void *unused) {
    (void)unused;
    *(int *)result = recurse(0);
}

static void test_stack_exhaustion(void) {
    int result = 0;
    depth = 0;
    CHECK(waft_call_guarded(run_recursion, &result, NULL) == WAFT_TRAP_CALL_STACK_EXHAUSTED);
    unsigned long first = depth;
    /* The caller sets an 8 MiB stack limit: most of it must have been usable. */
    CHECK(first * 256 > 4ul * 1024 * 1024);
    printf("recursion depth %lu, frame >= 256 B\n", first);
    /* The stack unwound completely: the same depth is reachable again. */
    depth = 0;
    CHECK(waft_call_guarded(run_recursion, &result, NULL) == WAFT_TRAP_CALL_STACK_EXHAUSTED);
    CHECK(depth == first);
    CHECK(waft_trap_current == NULL);
}

/* On a thread with a small stack, the lazily read limit is that thread's: the
 * limit and the trap chain are per-thread (the main thread's are set by now). */
static void *thread_main(void *arg) {
    int result = 0;
    CHECK(waft_stack_limit == 0);
    CHECK(waft_trap_current == NULL);
    depth = 0;
    *(waft_trap_code *)arg = waft_call_guarded(run_recursion, &result, NULL);
    return NULL;
}

static int small_thread(void) {
    pthread_attr_t attr;
    pthread_t thread;
    waft_trap_code code = WAFT_TRAP_NONE;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&thread, &attr, thread_main, &code) != 0) {
        return 2;
    }
    pthread_join(thread, NULL);
    printf("thread: %s after %lu levels\n", waft_strerror(code), depth);
    return code == WAFT_TRAP_CALL_STACK_EXHAUSTED && depth > 100 && depth * 256 < 256 * 1024 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "trap-no-frame") == 0) {
            printf("before\n");
            waft_trap(WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO);
        }
        if (strcmp(argv[1], "exit-no-frame") == 0) {
            waft_exit(7);
        }
        if (strcmp(argv[1], "small-thread") == 0) {
            return small_thread();
        }
        if (strcmp(argv[1], "recurse-no-frame") == 0) {
            waft_stack_init();
            int result = 0;
            run_recursion(&result, NULL);
            return 0;
        }
        return 2;
    }
    test_memory_grow();
    test_trap_frames();
    test_strerror();
    test_bulk_memory();
    test_tables();
    test_signatures();
    test_stack_exhaustion();
    if (failures) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
