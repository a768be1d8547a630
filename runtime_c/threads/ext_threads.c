/*
 * ext_threads.c: the imports of `wasi-ext:threads/threads@0.1.0`
 * (wasi_ext/threads, docs/wasi-ext.md) on the thread pool (spawn.c) and the
 * OS port (kernel.h).  `ctx` is the module's waft_threads.
 *
 * Written at the core level, as WASI p1's functions are, rather than through
 * `waft bindgen`'s host glue: spawn must store the new id in the guest's
 * return area before the thread can run, and generated glue stores results
 * only after the callee returns — by then a child of higher priority has
 * already run.  The signatures are the canonical ABI's lowering of the WIT
 * (tests/threads/test_ext_threads.py compiles this file against prototypes
 * generated from the WIT, so a drift is a compile error):
 *
 *   spawn                (i32 start-arg, i32 priority, i32 stack-size, i32 flags, i32 ret) -> ()
 *   set-spawn-attributes (i32 priority, i32 stack-size) -> i32 errno
 *   current              () -> i32 tid
 *   priority-max         () -> i32
 *   set-priority         (i32 tid, i32 priority) -> i32 errno
 *   get-priority         (i32 tid, i32 ret) -> ()          result<u8, errno>: 2 bytes
 *   sleep-until          (i64 deadline) -> i32 errno
 *   set-period           (i64 period, i64 first-release) -> i32 errno
 *   wait-period          (i32 ret) -> ()                   result<u32, errno>: 8 bytes
 *   join                 (i32 tid, i64 deadline, i32 ret) -> ()  result<u32, errno>
 *   exit                 (i32 status) -> ()
 *
 * A return area outside the guest's memory or misaligned is a trap
 * (WAFT_TRAP_MEMORY_OUT_OF_BOUNDS), as a bad pointer in canonical-ABI glue is.
 */
#include "waft_threads.h"
#include "waft_canon.h"

#include <string.h>

#define EXT(name) _wasi_x2dext_x3athreads_x2fthreads_x400_x2e1_x2e0__##name

/* errno values (WASI p1 numbering). */
#define E_SUCCESS 0
#define E_INVAL 28
#define E_PERM 63
#define E_SRCH 71

/* spawn-flags */
#define FLAG_DETACHED 1u

/* The guest's `size` bytes at `ptr`, aligned to `align`; traps otherwise. */
static uint8_t *ret_area(waft_threads *threads, int32_t ptr, uint32_t size, uint32_t align) {
    return waft_canon_ret_area(threads->memory, ptr, size, align);
}

/* result<u32, errno> from the OS port's convention: a negated errno, or the value. */
static void store_u32_result(uint8_t *ret, int32_t value) {
    waft_canon_result_u32(ret, value < 0 ? (uint32_t)-value : 0, value < 0 ? 0 : (uint32_t)value);
}

/* A priority argument: 0 (the caller's) or 1..max; errno or 0. */
static int32_t check_priority(uint32_t priority, bool zero_allowed) {
    if (priority == 0) {
        return zero_allowed ? E_SUCCESS : E_INVAL;
    }
    return priority > WAFT_OS_PRIORITY_MAX ? E_PERM : E_SUCCESS;
}

void EXT(spawn)(void *ctx, int32_t start_arg, int32_t priority, int32_t stack_size, int32_t flags, int32_t ret) {
    waft_threads *threads = ctx;
    uint8_t *out = ret_area(threads, ret, 8, 4);
    int32_t err = check_priority((uint32_t)priority, true);
    if (err == E_SUCCESS && ((uint32_t)flags & ~FLAG_DETACHED) != 0) {
        err = E_INVAL; /* a flag this version does not know */
    }
    if (err != E_SUCCESS) {
        store_u32_result(out, -err);
        return;
    }
    /* Stores the result itself, before the thread can run. */
    (void)waft_threads_spawn(threads, start_arg, (uint8_t)priority, (uint32_t)stack_size,
                             ((uint32_t)flags & FLAG_DETACHED) != 0, out);
}

int32_t EXT(_set_x2dspawn_x2dattributes)(void *ctx, int32_t priority, int32_t stack_size) {
    waft_threads *threads = ctx;
    int32_t err = check_priority((uint32_t)priority, true);
    if (err != E_SUCCESS) {
        return err;
    }
    if ((uint32_t)stack_size > WAFT_OS_STACK_SIZE) {
        return E_INVAL;
    }
    waft_threads_slot *me = waft_threads_current(threads);
    me->spawn_priority = (uint8_t)priority;
    me->spawn_stack_size = (uint32_t)stack_size;
    return E_SUCCESS;
}

int32_t EXT(current)(void *ctx) { return waft_threads_current((waft_threads *)ctx)->tid; }

int32_t EXT(_priority_x2dmax)(void *ctx) {
    (void)ctx;
    return WAFT_OS_PRIORITY_MAX;
}

int32_t EXT(_set_x2dpriority)(void *ctx, int32_t tid, int32_t priority) {
    int32_t err = check_priority((uint32_t)priority, false);
    if (err != E_SUCCESS) {
        return err;
    }
    waft_threads_slot *slot = waft_threads_find((waft_threads *)ctx, tid);
    if (slot == NULL || slot->os == NULL) {
        return E_SRCH;
    }
    int rc = waft_os_set_priority(slot->os, (uint8_t)priority);
    return rc < 0 ? -rc : E_SUCCESS;
}

void EXT(_get_x2dpriority)(void *ctx, int32_t tid, int32_t ret) {
    waft_threads *threads = ctx;
    uint8_t *out = ret_area(threads, ret, 2, 1);
    waft_threads_slot *slot = waft_threads_find(threads, tid);
    int rc = slot == NULL || slot->os == NULL ? -E_SRCH : waft_os_get_priority(slot->os);
    out[0] = rc < 0;
    out[1] = (uint8_t)(rc < 0 ? -rc : rc);
}

int32_t EXT(_sleep_x2duntil)(void *ctx, int64_t deadline) {
    (void)ctx;
    int rc = waft_os_sleep_until((uint64_t)deadline);
    return rc < 0 ? -rc : E_SUCCESS;
}

int32_t EXT(_set_x2dperiod)(void *ctx, int64_t period, int64_t first_release) {
    (void)ctx;
    int rc = waft_os_set_period((uint64_t)period, (uint64_t)first_release);
    return rc < 0 ? -rc : E_SUCCESS;
}

void EXT(_wait_x2dperiod)(void *ctx, int32_t ret) {
    uint8_t *out = ret_area((waft_threads *)ctx, ret, 8, 4);
    uint32_t missed = 0;
    int rc = waft_os_wait_period(&missed);
    store_u32_result(out, rc < 0 ? rc : (int32_t)(missed > INT32_MAX ? INT32_MAX : missed));
}

void EXT(join)(void *ctx, int32_t tid, int64_t deadline, int32_t ret) {
    waft_threads *threads = ctx;
    uint8_t *out = ret_area(threads, ret, 8, 4);
    uint32_t status = 0;
    int32_t rc = waft_threads_join(threads, tid, (uint64_t)deadline, &status);
    if (rc < 0) {
        store_u32_result(out, rc);
        return;
    }
    memset(out, 0, 8);
    memcpy(out + 4, &status, sizeof status); /* the whole u32: a status may use bit 31 */
}

void EXT(exit)(void *ctx, int32_t status) { waft_threads_exit((waft_threads *)ctx, (uint32_t)status); }
