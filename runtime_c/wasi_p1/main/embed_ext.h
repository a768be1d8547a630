/*
 * embed_ext.h: the wiring both generic mains share (host_main.c and
 * baremetal_main.c) for what a module imports beyond WASI p1 — the thread
 * pool of wasi-threads / wasi-ext:threads and the line table of
 * wasi-ext:signals — so it is written once.  Included by exactly one main per
 * program: it defines static objects and functions.
 *
 * The including main defines before it:
 *   EMBED_M(name)      the module's symbol `name` with the module prefix
 *                      (prog##name on the host; WAFT_MODULE##name on a board)
 *   `ctx`              its static waft_wasi_ctx
 *   EMBED_FLUSH()      optional: flush buffered output before the program ends
 * and calls, in order: embed_start() (0, or -1 after writing why),
 * embed_fill_imports() for the main instance, then embed_instantiated(inst).
 *
 * The -D options (waftkit/firmware/embedding.py works them out from the module;
 * the mains' comments list the memory ones):
 *   WAFT_MAIN_IMPORTS_WASI              the module imports `wasi.thread-spawn`;
 *   WAFT_MAIN_IMPORTS_EXT_THREADS=member  ... or wasi-ext:threads (that member);
 *   WAFT_MAIN_THREADS                   ... and exports wasi_thread_start: spawned
 *       threads run on a pool of WAFT_MAX_THREADS - 1 instances (the OS port's
 *       pool counts the main thread too); without it every spawn is -ENOTSUP.
 *   WAFT_MAIN_PRIORITY           the main thread's priority (default 1).
 *   WAFT_MAIN_IMPORTS_EXT_SIGNALS=member  the module imports wasi-ext:signals:
 *   WAFT_MAIN_SIGNAL_GRANTS             the grants, G("name", line) ... in
 *       ascending line order (empty: none; every call answers notcapable);
 *   WAFT_MAIN_SIGNAL_EXPORTS            the module's function exports for
 *       attach-export: H("name", symbol) for those of type (func (param i32
 *       i32)), N("name") for the others (known, refused with `inval`);
 *   WAFT_MAIN_SIGNAL_TABLE0=symbol      its table 0 is exported as EMBED_M(symbol)
 *       (without it `attach` sees no table: every index is `inval`).
 */
#ifndef WAFT_EMBED_EXT_H
#define WAFT_EMBED_EXT_H

#ifndef EMBED_FLUSH
#define EMBED_FLUSH() ((void)0)
#endif
#ifndef WAFT_MAIN_PRIORITY
#define WAFT_MAIN_PRIORITY 1
#endif

#if defined(WAFT_MAIN_IMPORTS_WASI) || defined(WAFT_MAIN_IMPORTS_EXT_THREADS)
#define WAFT_MAIN_USES_THREADS 1
#include "../../threads/waft_threads.h"
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
#include "../../signals/waft_signals.h"
#endif

#if defined(WAFT_MAIN_USES_THREADS)
static waft_threads threads;
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
static waft_signals signals;
#endif
static EMBED_M(__instance) *main_instance;

/* One instance's imports: the same contexts for every thread's instance. */
static void embed_fill_imports(EMBED_M(__imports) *imports) {
#if !defined(WAFT_MAIN_NO_WASI_P1)
    imports->wasi_snapshot_preview1 = &ctx;
#endif
#if defined(WAFT_MAIN_IMPORTED_MEMORY)
    imports->WAFT_MAIN_IMPORTED_MEMORY = &memory;
#endif
#if defined(WAFT_MAIN_IMPORTS_WASI)
    imports->wasi = &threads;
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_THREADS)
    imports->WAFT_MAIN_IMPORTS_EXT_THREADS = &threads;
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
    imports->WAFT_MAIN_IMPORTS_EXT_SIGNALS = &signals;
#endif
    (void)imports;
}

/* ---- threads ------------------------------------------------------------ */

#if defined(WAFT_MAIN_THREADS)
static EMBED_M(__instance) thread_instances[WAFT_MAX_THREADS - 1];

static waft_trap_code instantiate_thread(void *inst, void *user) {
    (void)user;
    EMBED_M(__imports) imports = {0};
    embed_fill_imports(&imports);
    return EMBED_M(__instantiate)((EMBED_M(__instance) *)inst, &imports);
}

static void thread_start(void *inst, int32_t tid, int32_t start_arg) {
    EMBED_M(_wasi_thread_start)((EMBED_M(__instance) *)inst, tid, start_arg);
}

/* A thread trapped or called proc_exit: the whole program ends, with the
 * status _start would have given (under QEMU, the emulator's exit status). */
static void end_program(void *user, waft_trap_code code) {
    (void)user;
    EMBED_FLUSH();
    waft_port_exit(waft_wasi_exit_status(&ctx, code));
}
#endif

static int embed_start_threads(void) {
#if defined(WAFT_MAIN_USES_THREADS)
    if (waft_os_init(WAFT_MAIN_PRIORITY) != WAFT_OS_OK) {
        return -1;
    }
#endif
#if defined(WAFT_MAIN_THREADS)
    waft_threads_module module = {
        .instances = thread_instances,
        .instance_stride = sizeof thread_instances[0],
        .max_threads = WAFT_MAX_THREADS - 1,
        .instantiate = instantiate_thread,
        .thread_start = thread_start,
        .end_program = end_program,
    };
    return waft_threads_init(&threads, &module);
#elif defined(WAFT_MAIN_USES_THREADS)
    waft_threads_module none = {0}; /* no wasi_thread_start: spawn answers -ENOTSUP */
    return waft_threads_init(&threads, &none);
#else
    return 0;
#endif
}

/* ---- signals ------------------------------------------------------------ */

#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
#ifndef WAFT_MAIN_SIGNAL_GRANTS
#define WAFT_MAIN_SIGNAL_GRANTS
#endif
#ifndef WAFT_MAIN_SIGNAL_EXPORTS
#define WAFT_MAIN_SIGNAL_EXPORTS
#endif

/* The grants, then a terminator so that an empty list is still an array. */
#define G(name, line) {name, line},
static const waft_signals_grant signal_grants[] = {WAFT_MAIN_SIGNAL_GRANTS{NULL, 0}};
#undef G
#define SIGNAL_GRANT_COUNT (sizeof signal_grants / sizeof signal_grants[0] - 1)
static waft_signals_line signal_lines[SIGNAL_GRANT_COUNT + 1]; /* one slot per grant (+1: never 0-sized) */

/* Thread records: the main thread and, with a pool, each spawned one. */
#if defined(WAFT_MAIN_THREADS)
#define SIGNAL_THREADS WAFT_MAX_THREADS
#else
#define SIGNAL_THREADS 1
#endif
static waft_signals_thread signal_threads[SIGNAL_THREADS];

/* attach-export's name -> function map: a typed wrapper per (i32 i32) export,
 * so each is called through its own prototype, never through a cast. */
#define H(name, symbol)                                                                                       \
    static void signal_export_##symbol(void *inst, int32_t line, int32_t arg) {                              \
        EMBED_M(symbol)((EMBED_M(__instance) *)inst, line, arg);                                              \
    }
#define N(name)
WAFT_MAIN_SIGNAL_EXPORTS
#undef H
#undef N
#define H(name, symbol) {name, signal_export_##symbol},
#define N(name) {name, NULL},
static const waft_signals_export signal_exports[] = {WAFT_MAIN_SIGNAL_EXPORTS{NULL, NULL}};
#undef H
#undef N

static uint32_t signal_current_thread(void *user) {
    (void)user;
#if defined(WAFT_MAIN_THREADS)
    waft_threads_slot *slot = waft_threads_current(&threads);
    return slot == &threads.main ? 0 : slot->index + 1;
#else
    return 0;
#endif
}

static void *signal_instance(uint32_t thread, void *user) {
    (void)user;
#if defined(WAFT_MAIN_THREADS)
    if (thread > 0) {
        return &thread_instances[thread - 1];
    }
#endif
    (void)thread;
    return main_instance;
}

#if defined(WAFT_MAIN_SIGNAL_TABLE0)
static waft_table *signal_table0(void *inst) { return EMBED_M(WAFT_MAIN_SIGNAL_TABLE0)((EMBED_M(__instance) *)inst); }
#endif

static int embed_start_signals(void) {
    waft_signals_module module = {
        .grants = signal_grants,
        .grant_count = (uint32_t)SIGNAL_GRANT_COUNT,
        .lines = signal_lines,
        .threads = signal_threads,
        .thread_count = SIGNAL_THREADS,
#if defined(WAFT_MAIN_THREADS)
        .current_thread = signal_current_thread,
#endif
        .instance = signal_instance,
#if defined(WAFT_MAIN_SIGNAL_TABLE0)
        .table0 = signal_table0,
#endif
        .exports = signal_exports,
        .export_count = (uint32_t)(sizeof signal_exports / sizeof signal_exports[0] - 1),
    };
    (void)signal_current_thread;
    if (waft_signals_init(&signals, &module) != WAFT_SIGNALS_OK) {
        return -1;
    }
    waft_wasi_set_raise_hook(&ctx, waft_signals_proc_raise, &signals);
    return 0;
}
#endif

/* ---- the sequence -------------------------------------------------------- */

/* Before instantiating: the OS port and thread pool, then the line table
 * (which the thread records size).  0, or -1 after writing why. */
static int embed_start(void) {
    if (embed_start_threads() != 0) {
        waft_port_write_error("waft: the thread pool cannot be set up\n");
        return -1;
    }
#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
    if (embed_start_signals() != 0) {
        return -1; /* waft_signals_init said why */
    }
#endif
    return 0;
}

/* After the main instance is instantiated: where guest pointers point. */
static void embed_instantiated(EMBED_M(__instance) *inst) {
    main_instance = inst;
    waft_memory *mem = EMBED_M(_memory)(inst);
    waft_wasi_set_memory(&ctx, mem);
#if defined(WAFT_MAIN_USES_THREADS)
    waft_threads_set_memory(&threads, mem);
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_SIGNALS)
    waft_signals_set_memory(&signals, mem);
#endif
}

#endif /* WAFT_EMBED_EXT_H */
