/*
 * atomic_wait.c: memory.atomic.wait32/64 and memory.atomic.notify (threads
 * proposal), and the single-threaded defaults of their two port hooks.
 *
 * The split: this file does what every runtime does the same way (the first
 * comparison, the proposal's result codes); waft_port_wait_block and
 * waft_port_wait_wake do the blocking, which is all a multi-threaded runtime
 * (host pthreads, a Cortex-M kernel, an RTOS port) has to replace.  The
 * defaults here serve a single thread, where nothing can ever notify: a wait
 * whose value matches sleeps out its timeout and times out.
 */
#include "waft.h"

uint32_t waft_atomic_wait32(volatile uint32_t *cell, uint32_t expected, int64_t timeout_ns) {
    /* The proposal's wait is a sequentially consistent load first. */
    if (__atomic_load_n(cell, __ATOMIC_SEQ_CST) != expected) {
        return WAFT_WAIT_NOT_EQUAL;
    }
    return waft_port_wait_block(cell, expected, 4, timeout_ns);
}

uint32_t waft_atomic_wait64(volatile uint64_t *cell, uint64_t expected, int64_t timeout_ns) {
    /* On 32-bit cores without 64-bit exclusives this load is a call to
     * __atomic_load_8, which the port supplies (port/cortex-m/atomic.c,
     * port/riscv/atomic.c). */
    if (__atomic_load_n(cell, __ATOMIC_SEQ_CST) != expected) {
        return WAFT_WAIT_NOT_EQUAL;
    }
    return waft_port_wait_block(cell, expected, 8, timeout_ns);
}

uint32_t waft_atomic_notify(volatile void *cell, uint32_t count) {
    if (count == 0) {
        return 0; /* the proposal: notify with a count of 0 wakes nobody */
    }
    return waft_port_wait_wake(cell, count);
}

/* --- single-threaded defaults ------------------------------------------------ */

__attribute__((weak)) uint32_t waft_port_wait_block(volatile void *cell, uint64_t expected, uint32_t size,
                                                    int64_t timeout_ns) {
    (void)cell;
    (void)expected;
    (void)size;
    if (timeout_ns < 0) {
        /* Waiting forever with no thread that could notify never ends: say so
         * instead of hanging the program (the spec would block for ever). */
        waft_trap(WAFT_TRAP_DEADLOCK);
    }
    if (timeout_ns > 0) {
        waft_port_sleep_ns((uint64_t)timeout_ns);
    }
    return WAFT_WAIT_TIMED_OUT;
}

__attribute__((weak)) uint32_t waft_port_wait_wake(volatile void *cell, uint32_t count) {
    (void)cell;
    (void)count;
    return 0; /* one thread, and it is not waiting: nobody to wake */
}
