/*
 * stack_limit.c: each thread's compiled Wasm code is checked against its own
 * stack, and traps into its own waft_call_guarded.
 *
 * The module (tests/kernel/test_stack_limit.py generates it) exports
 * `deep(n)`, a recursion whose frames are larger than the compiler's
 * unguarded-frame limit, calling two imports per level: note(n), which
 * records the depth reached and yields, and get(i), which feeds the locals
 * that keep the frame big.  Two threads of one priority, each with its own
 * instance and a stack of STACK_BYTES that the caller gives, with CANARY_BYTES
 * of paint just below it, recurse until the stack check traps, ROUNDS times;
 * because note() yields at every level, the two recursions interleave and
 * every level runs after a context switch.  Then the main thread does the
 * same on the main stack.  What must hold:
 *   - every call ends in "call stack exhausted", in the thread that recursed;
 *   - the depth reached shows the thread was checked against its own stack
 *     (a limit left from the other thread would trap at once or never);
 *   - the paint below each stack is intact (the check, not the neighbour,
 *     stopped the recursion);
 *   - waft_trap_current, seen from inside each recursion, is a frame on the
 *     thread's own stack, and empty again after each call.
 * Prints "figure depth_<who> N" lines.
 */
#include <stdint.h>
#include <string.h>

#include "deep.h"
#include "ktest.h"

#define STACK_BYTES 8192u
#define CANARY_BYTES 1024u
#define CANARY 0xA5u
#define ROUNDS 20
#define START 100000

typedef struct worker {
    deep__instance inst;
    deep__imports imports;
    uintptr_t low, high;  /* the stack the worker runs on */
    int32_t min_n;        /* smallest n note() saw in the current call */
    uint32_t chain_bad;   /* note() found waft_trap_current off this stack */
    uint32_t wrong_codes; /* calls that did not end in call stack exhausted */
    int32_t depth_min, depth_max;
} worker;

static struct region {
    uint8_t canary[CANARY_BYTES];
    uint8_t stack[STACK_BYTES];
} regions[2] __attribute__((aligned(8)));

static worker workers[3]; /* two threads, then main */

void env__note(void *ctx, int32_t n) {
    worker *w = ctx;
    if (n < w->min_n) w->min_n = n;
    uintptr_t frame = (uintptr_t)waft_trap_current;
    if (frame < w->low || frame >= w->high) w->chain_bad++;
    waft_os_yield();
}

int64_t env__get(void *ctx, int32_t i) { return (int64_t)i * 0x10001 + (int64_t)(uintptr_t)ctx; }

static void call_deep(void *inst, void *n) { (void)deep_deep(inst, (int32_t)(intptr_t)n); }

static uint32_t recurse(void *arg) {
    worker *w = arg;
    w->imports.env = w;
    w->depth_min = INT32_MAX;
    if (deep__instantiate(&w->inst, &w->imports) != WAFT_TRAP_NONE) w->wrong_codes++;
    for (int r = 0; r < ROUNDS; r++) {
        w->min_n = START;
        waft_trap_code code = waft_call_guarded(call_deep, &w->inst, (void *)(intptr_t)START);
        if (code != WAFT_TRAP_CALL_STACK_EXHAUSTED) w->wrong_codes++;
        if (waft_trap_current != NULL) w->chain_bad++;
        int32_t depth = START - w->min_n;
        if (depth < w->depth_min) w->depth_min = depth;
        if (depth > w->depth_max) w->depth_max = depth;
    }
    return 0;
}

extern char __StackLimit[], __StackTop[];

int main(void) {
    CHECK(waft_os_init(2) == WAFT_OS_OK);
    for (int i = 0; i < 2; i++) memset(regions[i].canary, CANARY, CANARY_BYTES);
    waft_os_thread *threads[2];
    for (int i = 0; i < 2; i++) {
        workers[i].low = (uintptr_t)regions[i].stack;
        workers[i].high = workers[i].low + STACK_BYTES;
        waft_os_thread_attr attr = {.priority = 3, .stack = regions[i].stack, .stack_size = STACK_BYTES};
        CHECK(waft_os_thread_create(&threads[i], &attr, recurse, &workers[i]) == WAFT_OS_OK);
    }
    for (int i = 0; i < 2; i++) CHECK(waft_os_join(threads[i], WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    /* The main thread, on the main stack, with nobody to yield to. */
    workers[2].low = (uintptr_t)__StackLimit;
    workers[2].high = (uintptr_t)__StackTop;
    recurse(&workers[2]);

    /* A stack of S bytes minus the margin holds at least (S - margin) / 2 KiB
     * frames of this module (its frames are about 1 KiB). */
    int32_t thread_floor = (int32_t)((STACK_BYTES - WAFT_STACK_MARGIN) / 2048u);
    for (int i = 0; i < 3; i++) {
        worker *w = &workers[i];
        CHECK(w->wrong_codes == 0);
        CHECK(w->chain_bad == 0);
        CHECK(w->depth_min >= (i < 2 ? thread_floor : 4 * thread_floor));
        CHECK(w->depth_max - w->depth_min <= 1);
    }
    for (int i = 0; i < 2; i++) {
        uint32_t hit = 0;
        for (uint32_t b = 0; b < CANARY_BYTES; b++) hit += regions[i].canary[b] != CANARY;
        CHECK(hit == 0);
        trace(i == 0 ? "canary below thread 1 intact" : "canary below thread 2 intact", hit == 0);
    }
    printf("figure depth_thread1 %ld\nfigure depth_thread2 %ld\nfigure depth_main %ld\n", (long)workers[0].depth_min,
           (long)workers[1].depth_min, (long)workers[2].depth_min);
    trace("every call trapped with call stack exhausted",
          workers[0].wrong_codes + workers[1].wrong_codes + workers[2].wrong_codes == 0);
    return finish();
}
