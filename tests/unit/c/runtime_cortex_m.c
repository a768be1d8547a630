/*
 * runtime_cortex_m.c: the Cortex-M port under QEMU (run by tests/unit/test_runtime.py).
 *
 * Recursion shaped like compiled Wasm (frame-address check on entry) must end
 * in WAFT_TRAP_CALL_STACK_EXHAUSTED caught by waft_call_guarded, with the
 * limit taken from the linker script's __StackLimit; then a trap with no frame
 * must print through semihosting and exit with WAFT_TRAP_EXIT_STATUS.
 */
#include <stdio.h>
#include <stdint.h>
#include "waft.h"
static unsigned long depth;
static __attribute__((noinline)) int recurse(int n) {
    volatile char pad[64];
    if ((uintptr_t)__builtin_frame_address(0) < waft_stack_limit) waft_trap(WAFT_TRAP_CALL_STACK_EXHAUSTED);
    if (n == INT32_MAX) return 0;
    depth++; pad[0] = (char)n;
    return recurse(n + 1) + pad[0];
}
static void run(void *a, void *b) { (void)b; *(int *)a = recurse(0); }
extern char __StackLimit[];
int main(void) {
    int r = 0;
    waft_trap_code c = waft_call_guarded(run, &r, NULL);
    printf("guarded: %s depth %lu limit-ok %d\n", waft_strerror(c), depth,
           waft_stack_limit == (uintptr_t)__StackLimit + WAFT_STACK_MARGIN);
    fflush(stdout);
    waft_trap(WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO);
}
