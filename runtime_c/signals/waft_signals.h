/*
 * waft_signals.h: interrupts and signals into Wasm — the portable layer of
 * `wasi-ext:signals/signals@0.1.0` (wasi_ext/signals, docs/wasi-ext.md,
 * docs/interrupts.md) for one compiled module.
 *
 * A *line* is an event source named by a u32 whose upper half is its class
 * (device interrupt, p1 signal, software line, timer).  The firmware (or
 * `waft run --grant`) grants the module lines under names when it is built;
 * the runtime keeps one static slot per granted line (waft_signals_line, in
 * storage the embedder sizes at build time) and answers `notcapable` for any
 * other line.  A handler is a Wasm function of type (func (param i32 i32)):
 * an entry of the module's table 0 (`attach`) or a function export
 * (`attach-export`), called handler(line, arg) on the thread that attached
 * it.
 *
 * Layers, each calling only the one below:
 *   ext_signals.c  the 17 core imports: guest pointers and return areas
 *   lines.c        the line table: grants, lookup, attach/detach, enable,
 *                  pend/clear/is-pending, priorities, timers, proc_raise
 *   dispatch.c     deferred delivery: set-mask, dispatch, wait-for-event,
 *                  calling a handler behind its own trap boundary
 *   signals_port.h what differs per platform (sources, timers, waking a
 *                  waiting thread, immediate delivery); port_posix.c is the
 *                  host's, port_cortexm.c the Cortex-M (NVIC) one.
 *
 * The event path is the only part that runs asynchronously (a POSIX signal
 * handler, an interrupt): waft_signals_latch, which touches atomics only and
 * asks the port to wake the waiting thread, so it is async-signal-safe and
 * ISR-safe.  Everything else runs on the module's threads, serialised by the
 * port's lock where threads share a slot.
 *
 * Nothing is allocated: the embedder passes the line slots (one per grant)
 * and the per-thread records (one per thread the module may run).
 */
#ifndef WAFT_SIGNALS_H
#define WAFT_SIGNALS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Line classes: the upper 16 bits of a line. */
#define WAFT_SIGNALS_CLASS_IRQ 0x0000u    /* device interrupt n (NVIC external interrupt n) */
#define WAFT_SIGNALS_CLASS_SIGNAL 0x0001u /* p1 signal ss: 0x0001_00ss */
#define WAFT_SIGNALS_CLASS_SOFT 0x0002u   /* software line n: only pend raises it */
#define WAFT_SIGNALS_CLASS_TIMER 0x0003u  /* timer n: start-timer */
#define WAFT_SIGNALS_CLASS(line) ((uint32_t)(line) >> 16)

/* line-caps flags (the WIT's bit order). */
#define WAFT_SIGNALS_CAP_IMMEDIATE 0x01u
#define WAFT_SIGNALS_CAP_DEFERRED 0x02u
#define WAFT_SIGNALS_CAP_PEND 0x04u
#define WAFT_SIGNALS_CAP_PRIORITY 0x08u
#define WAFT_SIGNALS_CAP_TIMER 0x10u

/* delivery enum */
#define WAFT_SIGNALS_IMMEDIATE 0u
#define WAFT_SIGNALS_DEFERRED 1u

/* errno values (WASI p1 numbering, wasi-ext's errno). */
#define WAFT_SIGNALS_OK 0
#define WAFT_SIGNALS_EBUSY 10
#define WAFT_SIGNALS_EILSEQ 25
#define WAFT_SIGNALS_EINVAL 28
#define WAFT_SIGNALS_ENOENT 44
#define WAFT_SIGNALS_ENOTSUP 58
#define WAFT_SIGNALS_EPERM 63
#define WAFT_SIGNALS_ETIMEDOUT 73
#define WAFT_SIGNALS_ENOTCAPABLE 76

/* One grant: the module may use `line` and finds it by `name` (lookup). */
typedef struct waft_signals_grant {
    const char *name;
    uint32_t line;
} waft_signals_grant;

/* A function export the module has, for attach-export.  `call` calls it on
 * an instance as handler(line, arg); NULL when the export's type is not
 * (func (param i32 i32)), so the name is known but refused (`inval`). */
typedef struct waft_signals_export {
    const char *name;
    void (*call)(void *instance, int32_t line, int32_t arg);
} waft_signals_export;

/* One granted line's slot.  Fields marked "atomic" are read by
 * waft_signals_latch, from a signal handler or an interrupt. */
typedef struct waft_signals_line {
    uint32_t line;              /* the granted line (never changes) */
    const char *name;           /* its grant name */
    uint8_t caps;               /* line-caps on this port (never changes) */
    bool attached;              /* a handler is attached */
    uint8_t delivery;           /* WAFT_SIGNALS_IMMEDIATE / _DEFERRED */
    uint8_t priority;           /* 1..priority-max */
    uint32_t thread;            /* the attaching thread (embedder's index) */
    uint32_t arg;               /* the handler's second argument */
    const waft_func *entry;     /* attach: the table 0 entry (signature checked) */
    void (*export_call)(void *instance, int32_t line, int32_t arg); /* attach-export */
    void *instance;             /* attach-export: the attaching thread's instance */
    atomic_bool enabled;        /* atomic: events reach the handler */
    atomic_bool pending;        /* atomic: an event is latched (coalesces) */
    atomic_int wake;            /* atomic: the thread to wake on an event, -1 none (not attached
                                 * deferred and enabled) */
    uintptr_t port;             /* the port's own word (host: the POSIX timer of a timer line) */
} waft_signals_line;

/* What the runtime keeps per thread of the module. */
typedef struct waft_signals_thread {
    uint8_t mask;               /* set-mask: lines of this priority or lower wait */
    uint8_t running;            /* priority of the handler running on this thread, 0: none */
} waft_signals_thread;

/* What the embedder tells the runtime about the module and the grants. */
typedef struct waft_signals_module {
    const waft_signals_grant *grants; /* the build-time grants, `grant_count` of them */
    uint32_t grant_count;
    waft_signals_line *lines;         /* grant_count slots (static storage) */
    waft_signals_thread *threads;     /* thread_count records (static storage), at least 1 */
    uint32_t thread_count;
    /* The calling thread's index, 0..thread_count-1 (0: the main thread).
     * NULL: a module without threads, always 0. */
    uint32_t (*current_thread)(void *user);
    /* The instance thread `thread` runs (the main one's for index 0). */
    void *(*instance)(uint32_t thread, void *user);
    /* The instance's table 0, or NULL when the module does not export it (then
     * `attach` sees an empty table: every index is `inval`). */
    waft_table *(*table0)(void *instance);
    const waft_signals_export *exports; /* every function export, export_count of them */
    uint32_t export_count;
    void *user;                       /* passed to the callbacks */
} waft_signals_module;

/* One module's signals.  Static storage. */
typedef struct waft_signals {
    waft_signals_module module;
    waft_memory *memory;              /* the guest's memory 0: where names and results are */
} waft_signals;

/* Set up `sig` for `module` (copied): fill one slot per grant and start the
 * port.  Grants must name distinct lines of the classes the port offers
 * (waftkit checks that before building); returns 0, or an errno
 * (WAFT_SIGNALS_EINVAL for a bad table, WAFT_SIGNALS_ENOTSUP for a class the
 * port cannot provide) after writing why to the error console. */
int32_t waft_signals_init(waft_signals *sig, const waft_signals_module *module);

/* The memory guest pointers refer to (after instantiation). */
void waft_signals_set_memory(waft_signals *sig, waft_memory *memory);

/* An event on `l`: mark it pending and wake its thread.  Async-signal-safe and
 * ISR-safe (atomics and the port's wake only); what the port's sources call. */
void waft_signals_latch(waft_signals *sig, waft_signals_line *l);

/* p1 proc_raise(signal) with a handler attached to that signal's line: pend
 * the line and answer true; false leaves the default action to p1.  p1's
 * proc_raise calls it directly (waft_wasi.h says why; proc.c has the weak
 * stand-in for firmware without signals) once waft_wasi_set_signals ran. */
bool waft_signals_proc_raise(void *sig, int32_t signal);

/* ---- for the layers of this folder ------------------------------------- */

/* The slot of `line`, or NULL (not granted). */
waft_signals_line *waft_signals_find(waft_signals *sig, uint32_t line);

/* The calling thread's index and record. */
uint32_t waft_signals_current(waft_signals *sig);

/* Say on the error console that `kind` ("handler", "immediate handler") of
 * line `l` trapped with `code`: "waft: signals: trap in the <kind> of line
 * 0x........ (<name>): <message>".  Nothing for WAFT_TRAP_EXIT (proc_exit). */
void waft_signals_report_trap(const waft_signals_line *l, waft_trap_code code, const char *kind);

/* Whether `l` is ready for deferred delivery to thread `thread` under `mask`:
 * attached deferred to it, enabled, pending, priority above the mask. */
bool waft_signals_ready(const waft_signals_line *l, uint32_t thread, uint8_t mask);

/* Errno-style results of the line operations (0 or a WAFT_SIGNALS_E* value),
 * the argument checks the WIT lists included; lines.c. */
int32_t waft_signals_lookup(waft_signals *sig, const char *name, uint32_t len, uint32_t *line);
int32_t waft_signals_caps(waft_signals *sig, uint32_t line, uint8_t *caps);
uint8_t waft_signals_priority_max(waft_signals *sig);
int32_t waft_signals_attach(waft_signals *sig, uint32_t line, uint32_t index, uint32_t arg, uint32_t delivery,
                            uint32_t priority);
int32_t waft_signals_attach_export(waft_signals *sig, uint32_t line, const char *name, uint32_t len, uint32_t arg,
                                   uint32_t delivery, uint32_t priority);
int32_t waft_signals_detach(waft_signals *sig, uint32_t line);
int32_t waft_signals_enable(waft_signals *sig, uint32_t line, bool on);
int32_t waft_signals_set_priority(waft_signals *sig, uint32_t line, uint32_t priority);
int32_t waft_signals_pend(waft_signals *sig, uint32_t line);
int32_t waft_signals_clear_pending(waft_signals *sig, uint32_t line);
int32_t waft_signals_is_pending(waft_signals *sig, uint32_t line, bool *pending);
int32_t waft_signals_start_timer(waft_signals *sig, uint32_t line, uint64_t first_release, uint64_t period);
int32_t waft_signals_stop_timer(waft_signals *sig, uint32_t line);

/* dispatch.c */
uint8_t waft_signals_set_mask(waft_signals *sig, uint32_t level);
/* Run up to `limit` ready handlers of the calling thread (0: all ready at the
 * start); *ran gets how many.  0 or WAFT_SIGNALS_EPERM. */
int32_t waft_signals_dispatch(waft_signals *sig, uint32_t limit, uint32_t *ran);
/* Wait until a handler of the calling thread is ready or `deadline` passes,
 * then dispatch(0).  0, WAFT_SIGNALS_ETIMEDOUT or WAFT_SIGNALS_EPERM. */
int32_t waft_signals_wait_for_event(waft_signals *sig, uint64_t deadline, uint32_t *ran);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_SIGNALS_H */
