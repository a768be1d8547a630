/*
 * stack_canary.c: proves that stack exhaustion in Wasm traps before anything
 * below the stack is written.
 *
 * The module (tests/safety/test_stack_exhaustion.py generates it) exports
 * `deep(n)`: a recursion whose every frame is larger than WAFT_STACK_MARGIN.
 * Before calling it, this program paints the CANARY_BYTES just below the low
 * end of the stack the Wasm code runs on: on bare metal the main stack, whose
 * end is the linker scripts' __StackLimit (the heap lies below it); on the
 * host a thread whose stack is carved out of a static array, so the canary is
 * ordinary memory below it rather than an unmapped guard page.  The recursion
 * must end in "call stack exhausted" and every painted byte must be intact.
 * Where the last frame lands relative to the limit depends on where the
 * recursion started, so it is started OFFSETS times, each time OFFSET_STEP
 * bytes deeper, covering more than one frame's worth of positions.
 * Prints one line: "trap <message> canary intact" or "... canary hit at -N".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "waft.h"
#include "deep.h"

#ifndef CANARY_BYTES
#define CANARY_BYTES 4096u
#endif
#ifndef FRAME_BYTES
#define FRAME_BYTES 8192u /* at least the big frame: every start position modulo a frame is tried */
#endif
#define OFFSET_STEP 64u
#define CANARY 0xA5u

static deep__instance instance;
static volatile int32_t result;

static void call_deep(void *inst, void *n) { result = deep_deep((deep__instance *)inst, (int32_t)(intptr_t)n); }

/* Recurse from `offset` bytes below this frame until the trap; returns its code. */
static __attribute__((noinline)) waft_trap_code recurse_from(uint32_t offset) {
    volatile uint8_t *pad = __builtin_alloca(offset + 1);
    pad[0] = 0;
    return waft_call_guarded(call_deep, &instance, (void *)(intptr_t)1000000);
}

/* Instantiate (which sets waft_stack_limit from the current stack), then
 * for each start offset: paint the canary below `stack_end`, recurse until
 * the trap, check the paint. */
static int run(uint8_t *stack_end) {
    waft_trap_code code = deep__instantiate(&instance, NULL);
    if (code != WAFT_TRAP_NONE) {
        printf("instantiate trapped: %s\n", waft_strerror(code));
        return 1;
    }
    uint32_t hit = 0;
    for (uint32_t offset = 0; offset <= FRAME_BYTES; offset += OFFSET_STEP) {
        memset(stack_end - CANARY_BYTES, CANARY, CANARY_BYTES);
        waft_trap_code got = recurse_from(offset);
        if (got != WAFT_TRAP_CALL_STACK_EXHAUSTED) {
            code = got;
        }
        for (uint32_t i = 1; i <= CANARY_BYTES; i++) {
            if (stack_end[-(int32_t)i] != CANARY && i > hit) {
                hit = i; /* the deepest damage over all start offsets is the figure that matters */
            }
        }
    }
    if (code == WAFT_TRAP_NONE) {
        code = WAFT_TRAP_CALL_STACK_EXHAUSTED; /* every run ended in it */
    }
    if (hit) {
        printf("trap %s canary hit at -%lu\n", waft_strerror(code), (unsigned long)hit);
    } else {
        printf("trap %s canary intact\n", waft_strerror(code));
    }
    return 0;
}

#if defined(WAFT_PORT_HOST)
#include <pthread.h>

#define THREAD_STACK (1024u * 1024u)
static uint8_t region[CANARY_BYTES + THREAD_STACK] __attribute__((aligned(4096)));
static int status;

static void *thread_main(void *unused) {
    (void)unused;
    /* What waft.h asks of an embedder running Wasm on a stack of its own; the
     * test builds with a WAFT_STACK_MARGIN smaller than the host default, so
     * the module's big frame exceeds it as it would on a board. */
    waft_stack_limit = (uintptr_t)(region + CANARY_BYTES) + WAFT_STACK_MARGIN;
    status = run(region + CANARY_BYTES);
    return NULL;
}

int main(void) {
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, region + CANARY_BYTES, THREAD_STACK);
    if (pthread_create(&thread, &attr, thread_main, NULL) != 0) {
        puts("pthread_create failed");
        return 1;
    }
    pthread_join(thread, NULL);
    return status;
}
#else
extern char __StackLimit[];

int main(void) { return run((uint8_t *)__StackLimit); }
#endif
