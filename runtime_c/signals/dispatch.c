/*
 * dispatch.c: deferred delivery — set-mask, dispatch and wait-for-event —
 * and calling a handler behind its own trap boundary.
 *
 * A deferred handler runs on the thread that attached it, inside that
 * thread's dispatch or wait-for-event import call: on the thread's own native
 * stack, below the import's frame, under the thread's own waft_stack_limit,
 * so the compiled handler's stack checks protect it exactly as they protect
 * any other call (no separate handler stack is needed, and none is used).
 * From inside a handler, dispatch runs only lines of higher priority than
 * that handler's, so nesting is bounded by priority-max() levels.
 *
 * Traps: a handler that traps ends the program, as a trap anywhere else does,
 * after one line that names the line and its grant
 * ("waft: signals: trap in the handler of line 0x0001000a (usr1)"); the line
 * is detached first, so nothing can run it again while the program unwinds.
 * Why not disable the handler and continue: the trap unwound the handler's
 * frames without restoring what the module's code keeps in globals (the
 * shadow-stack pointer of C compiled to Wasm, a lock held in linear memory),
 * so the instance the main program would continue in is not in a state its
 * code expects.  proc_exit inside a handler ends the program with its status.
 * docs/interrupts.md has the whole rule.
 */
#include "signals_port.h"

#include <string.h>

/* The bitmap of slots a dispatch considers: at most MAX_LINES (lines.c). */
#define BITMAP_WORDS (256u / 32u)

typedef struct handler_call {
    const waft_func *entry;
    void (*export_call)(void *, int32_t, int32_t);
    void *instance;
    int32_t line;
    int32_t arg;
} handler_call;

typedef void (*handler_code)(void *instance, int32_t line, int32_t arg);

/* waft_call_guarded's fn: handler(line, arg).  A table entry's code uses the
 * internal convention R code(void *instance, params...) (docs/abi.md), which
 * for (i32 i32) -> () is the C call below on every target (integers only;
 * hard-float Arm uses the C ABI's own convention for it). */
static void call_handler(void *call_ptr, void *unused) {
    (void)unused;
    handler_call *c = call_ptr;
    if (c->entry != NULL) {
        ((handler_code)(void (*)(void))c->entry->code)(c->entry->instance, c->line, c->arg);
    } else {
        c->export_call(c->instance, c->line, c->arg);
    }
}

static void write_hex32(char *out, uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 8; i++) {
        out[2 + i] = digits[(v >> (28 - 4 * i)) & 0xF];
    }
    out[10] = '\0';
}

void waft_signals_report_trap(const waft_signals_line *l, waft_trap_code code, const char *kind) {
    if (code == WAFT_TRAP_EXIT) {
        return;
    }
    char hex[11];
    write_hex32(hex, l->line);
    waft_port_write_error("waft: signals: trap in the ");
    waft_port_write_error(kind);
    waft_port_write_error(" of line ");
    waft_port_write_error(hex);
    waft_port_write_error(" (");
    waft_port_write_error(l->name);
    waft_port_write_error("): ");
    waft_port_write_error(waft_strerror(code));
    waft_port_write_error("\n");
}

/* A handler trapped: say which line, take the line out, end the program. */
static WAFT_NORETURN void handler_trapped(waft_signals *sig, waft_signals_line *l, waft_trap_code code) {
    waft_signals_report_trap(l, code, "handler");
    if (code != WAFT_TRAP_EXIT) {
        (void)waft_signals_detach(sig, l->line);
    }
    /* On to the thread's own trap boundary: _start's (the program ends with
     * the trap's status and message, or proc_exit's status) or a spawned
     * thread's (which ends every thread, as wasi-threads wants). */
    waft_trap(code);
}

/* The effective mask of a thread: its set-mask level, and inside a handler
 * that handler's priority (only higher priorities nest). */
static uint8_t effective_mask(const waft_signals_thread *t) { return t->mask > t->running ? t->mask : t->running; }

uint8_t waft_signals_set_mask(waft_signals *sig, uint32_t level) {
    uint8_t max = waft_signals_port_priority_max();
    uint8_t now = level > max ? max : (uint8_t)level;
    if (waft_signals_port_in_immediate()) {
        /* An immediate handler masks for itself only: the hardware level,
         * which its vector restores on the way out; the interrupted thread's
         * own level is left alone. */
        uint8_t old = waft_signals_port_get_mask();
        waft_signals_port_set_mask(now);
        return old;
    }
    waft_signals_thread *t = &sig->module.threads[waft_signals_current(sig)];
    uint8_t old = t->mask;
    t->mask = now;
    waft_signals_port_set_mask(now);
    return old;
}

/* The next slot to run among `candidates`: ready, highest priority first,
 * lowest line (slot order) among equals.  Claims its event (pending -> false)
 * and copies the call, all under the lock.  NULL when none is left. */
static waft_signals_line *claim_next(waft_signals *sig, uint32_t me, uint32_t *candidates, handler_call *call) {
    const waft_signals_thread *t = &sig->module.threads[me];
    uint32_t lock = waft_signals_port_lock();
    waft_signals_line *best = NULL;
    uint32_t best_index = 0;
    for (uint32_t i = 0; i < sig->module.grant_count; i++) {
        if (!(candidates[i / 32] & (1u << (i % 32)))) {
            continue;
        }
        waft_signals_line *l = &sig->module.lines[i];
        if (!waft_signals_ready(l, me, effective_mask(t))) {
            continue; /* disabled, masked, detached or cleared since the snapshot */
        }
        if (best == NULL || l->priority > best->priority) {
            best = l;
            best_index = i;
        }
    }
    if (best != NULL) {
        candidates[best_index / 32] &= ~(1u << (best_index % 32));
        atomic_store(&best->pending, false);
        *call = (handler_call){.entry = best->entry, .export_call = best->export_call, .instance = best->instance,
                               .line = (int32_t)best->line, .arg = (int32_t)best->arg};
    }
    waft_signals_port_unlock(lock);
    return best;
}

int32_t waft_signals_dispatch(waft_signals *sig, uint32_t limit, uint32_t *ran) {
    *ran = 0;
    if (waft_signals_port_in_immediate()) {
        return WAFT_SIGNALS_EPERM;
    }
    uint32_t me = waft_signals_current(sig);
    waft_signals_thread *t = &sig->module.threads[me];
    /* The lines ready when the call starts: a line raised again while its
     * handler runs waits for the next dispatch, so a busy source cannot keep
     * one dispatch(0) running for ever. */
    uint32_t candidates[BITMAP_WORDS];
    memset(candidates, 0, sizeof candidates);
    uint32_t lock = waft_signals_port_lock();
    for (uint32_t i = 0; i < sig->module.grant_count; i++) {
        if (waft_signals_ready(&sig->module.lines[i], me, effective_mask(t))) {
            candidates[i / 32] |= 1u << (i % 32);
        }
    }
    waft_signals_port_unlock(lock);

    handler_call call;
    waft_signals_line *l;
    while ((limit == 0 || *ran < limit) && (l = claim_next(sig, me, candidates, &call)) != NULL) {
        uint8_t outer = t->running;
        t->running = l->priority;
        waft_trap_code code = waft_call_guarded(call_handler, &call, NULL);
        t->running = outer;
        if (code != WAFT_TRAP_NONE) {
            handler_trapped(sig, l, code);
        }
        waft_signals_port_handled(sig, l);
        ++*ran;
    }
    return WAFT_SIGNALS_OK;
}

/* Is a handler of thread `me` ready now? */
static bool any_ready(waft_signals *sig, uint32_t me) {
    const waft_signals_thread *t = &sig->module.threads[me];
    bool any = false;
    uint32_t lock = waft_signals_port_lock();
    for (uint32_t i = 0; i < sig->module.grant_count && !any; i++) {
        any = waft_signals_ready(&sig->module.lines[i], me, effective_mask(t));
    }
    waft_signals_port_unlock(lock);
    return any;
}

int32_t waft_signals_wait_for_event(waft_signals *sig, uint64_t deadline, uint32_t *ran) {
    *ran = 0;
    if (waft_signals_port_in_immediate()) {
        return WAFT_SIGNALS_EPERM;
    }
    uint32_t me = waft_signals_current(sig);
    /* Check, then sleep: an event latched after the check wakes the port's
     * wait (its wake is remembered), so none is lost in between. */
    while (!any_ready(sig, me)) {
        if (deadline != UINT64_MAX && waft_signals_port_now_ns() >= deadline) {
            return WAFT_SIGNALS_ETIMEDOUT;
        }
        waft_signals_port_wait(sig, me, deadline);
    }
    return waft_signals_dispatch(sig, 0, ran);
}
