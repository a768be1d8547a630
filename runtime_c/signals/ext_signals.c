/*
 * ext_signals.c: the 17 imports of `wasi-ext:signals/signals@0.1.0`
 * (wasi_ext/signals, docs/wasi-ext.md) over the line table (lines.c) and
 * deferred delivery (dispatch.c).  `ctx` is the module's waft_signals.
 *
 * Written at the core level, as ext_threads.c is, rather than through
 * `waft bindgen`'s host glue: the glue is fine for the (pointer, length)
 * strings, but this layer must never allocate and must answer from inside a
 * POSIX signal handler's world (the latch path), and the handful of return
 * areas here are easier to prove bounded by hand than through a generic
 * lowering.  The signatures are the canonical ABI's lowering of the WIT
 * (tests/signals/test_signals_host.py compiles this file against prototypes
 * generated from the WIT, so a drift is a compile error):
 *
 *   lookup          (i32 name, i32 len, i32 ret) -> ()        result<line, errno>: 8 bytes, align 4
 *   capabilities    (i32 line, i32 ret) -> ()                 result<line-caps, errno>: 2 bytes
 *   priority-max    () -> i32
 *   attach          (i32 line, i32 handler, i32 arg, i32 delivery, i32 priority) -> i32 errno
 *   attach-export   (i32 line, i32 name, i32 len, i32 arg, i32 delivery, i32 priority) -> i32 errno
 *   detach, enable, disable, pend, clear-pending, stop-timer  (i32 line) -> i32 errno
 *   set-priority    (i32 line, i32 priority) -> i32 errno
 *   is-pending      (i32 line, i32 ret) -> ()                 result<bool, errno>: 2 bytes
 *   set-mask        (i32 level) -> i32
 *   dispatch        (i32 limit, i32 ret) -> ()                result<u32, errno>: 8 bytes, align 4
 *   wait-for-event  (i64 deadline, i32 ret) -> ()             result<u32, errno>
 *   start-timer     (i32 line, i64 first-release, i64 period) -> i32 errno
 *
 * Guest pointers: a string (name, len) outside the memory is `fault`, as
 * bindgen's glue answers it; a return area outside the memory or misaligned
 * is a trap (WAFT_TRAP_MEMORY_OUT_OF_BOUNDS), as a bad pointer in canonical-ABI
 * glue is.  Every range is checked against the memory's current size in
 * 64-bit arithmetic before the first access.
 */
#include "waft_signals.h"
#include "waft_canon.h"

#include <string.h>

#define EXT(name) _wasi_x2dext_x3asignals_x2fsignals_x400_x2e1_x2e0__##name

#define E_FAULT 21

/* A module given no waft_signals (an embedder that grants nothing and sets
 * no ctx) sees an empty grant table: every line is notcapable. */
static waft_signals_thread no_grants_thread;
static waft_signals no_grants = {.module = {.threads = &no_grants_thread, .thread_count = 1}};

static waft_signals *signals_of(void *ctx) { return ctx != NULL ? ctx : &no_grants; }

/* The guest's `size` bytes at `ptr`, aligned to `align`; traps otherwise. */
static uint8_t *ret_area(waft_signals *sig, int32_t ptr, uint32_t size, uint32_t align) {
    return waft_canon_ret_area(sig->memory, ptr, size, align);
}

/* The guest string (ptr, len), or NULL when it does not lie in the memory. */
static const char *guest_string(waft_signals *sig, int32_t ptr, int32_t len) {
    waft_memory *m = sig->memory;
    if (m == NULL || (uint64_t)(uint32_t)ptr + (uint32_t)len > (uint64_t)m->size) {
        return NULL;
    }
    return (const char *)m->base + (uint32_t)ptr;
}

/* result<u8-sized, errno> in 2 bytes: tag, then the value or the errno. */
static void store_byte_result(uint8_t *ret, int32_t err, uint8_t value) {
    ret[0] = err != 0;
    ret[1] = err != 0 ? (uint8_t)err : value;
}

void EXT(lookup)(void *ctx, int32_t name, int32_t len, int32_t ret) {
    waft_signals *sig = signals_of(ctx);
    uint8_t *out = ret_area(sig, ret, 8, 4);
    const char *text = guest_string(sig, name, len);
    uint32_t line = 0;
    int32_t err = text == NULL ? E_FAULT : waft_signals_lookup(sig, text, (uint32_t)len, &line);
    waft_canon_result_u32(out, (uint32_t)err, line);
}

void EXT(capabilities)(void *ctx, int32_t line, int32_t ret) {
    waft_signals *sig = signals_of(ctx);
    uint8_t *out = ret_area(sig, ret, 2, 1);
    uint8_t caps = 0;
    int32_t err = waft_signals_caps(sig, (uint32_t)line, &caps); /* before `caps` is read: argument order is unspecified */
    store_byte_result(out, err, caps);
}

int32_t EXT(_priority_x2dmax)(void *ctx) { return waft_signals_priority_max(signals_of(ctx)); }

int32_t EXT(attach)(void *ctx, int32_t line, int32_t handler, int32_t arg, int32_t delivery, int32_t priority) {
    return waft_signals_attach(signals_of(ctx), (uint32_t)line, (uint32_t)handler, (uint32_t)arg,
                               (uint32_t)delivery, (uint32_t)priority);
}

int32_t EXT(_attach_x2dexport)(void *ctx, int32_t line, int32_t name, int32_t len, int32_t arg, int32_t delivery,
                               int32_t priority) {
    waft_signals *sig = signals_of(ctx);
    const char *text = guest_string(sig, name, len);
    if (text == NULL) {
        return E_FAULT;
    }
    return waft_signals_attach_export(sig, (uint32_t)line, text, (uint32_t)len, (uint32_t)arg, (uint32_t)delivery,
                                      (uint32_t)priority);
}

int32_t EXT(detach)(void *ctx, int32_t line) { return waft_signals_detach(signals_of(ctx), (uint32_t)line); }

int32_t EXT(enable)(void *ctx, int32_t line) { return waft_signals_enable(signals_of(ctx), (uint32_t)line, true); }

int32_t EXT(disable)(void *ctx, int32_t line) { return waft_signals_enable(signals_of(ctx), (uint32_t)line, false); }

int32_t EXT(_set_x2dpriority)(void *ctx, int32_t line, int32_t priority) {
    return waft_signals_set_priority(signals_of(ctx), (uint32_t)line, (uint32_t)priority);
}

int32_t EXT(pend)(void *ctx, int32_t line) { return waft_signals_pend(signals_of(ctx), (uint32_t)line); }

int32_t EXT(_clear_x2dpending)(void *ctx, int32_t line) {
    return waft_signals_clear_pending(signals_of(ctx), (uint32_t)line);
}

void EXT(_is_x2dpending)(void *ctx, int32_t line, int32_t ret) {
    waft_signals *sig = signals_of(ctx);
    uint8_t *out = ret_area(sig, ret, 2, 1);
    bool pending = false;
    int32_t err = waft_signals_is_pending(sig, (uint32_t)line, &pending);
    store_byte_result(out, err, pending ? 1 : 0);
}

int32_t EXT(_set_x2dmask)(void *ctx, int32_t level) {
    /* The WIT's u8: the canonical ABI lifts only the low byte. */
    return waft_signals_set_mask(signals_of(ctx), (uint32_t)level & 0xFFu);
}

void EXT(dispatch)(void *ctx, int32_t limit, int32_t ret) {
    waft_signals *sig = signals_of(ctx);
    uint8_t *out = ret_area(sig, ret, 8, 4);
    uint32_t ran = 0;
    int32_t err = waft_signals_dispatch(sig, (uint32_t)limit, &ran);
    waft_canon_result_u32(out, (uint32_t)err, ran);
}

void EXT(_wait_x2dfor_x2devent)(void *ctx, int64_t deadline, int32_t ret) {
    waft_signals *sig = signals_of(ctx);
    uint8_t *out = ret_area(sig, ret, 8, 4); /* checked before sleeping, not after */
    uint32_t ran = 0;
    int32_t err = waft_signals_wait_for_event(sig, (uint64_t)deadline, &ran);
    waft_canon_result_u32(out, (uint32_t)err, ran);
}

int32_t EXT(_start_x2dtimer)(void *ctx, int32_t line, int64_t first_release, int64_t period) {
    return waft_signals_start_timer(signals_of(ctx), (uint32_t)line, (uint64_t)first_release, (uint64_t)period);
}

int32_t EXT(_stop_x2dtimer)(void *ctx, int32_t line) {
    return waft_signals_stop_timer(signals_of(ctx), (uint32_t)line);
}
