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
 *       (without it `attach` sees no table: every index is `inval`);
 *   WAFT_MAIN_SIGNAL_VECTORS            Cortex-M: each slot's hardware, in slot
 *       order (signals_cortexm.h): S(line) no vector (a p1 signal line);
 *       V(slot, line, irq, timer, kind) the generic vector of NVIC interrupt
 *       `irq` (kind SOFT, IRQ or TIMER; timer: the board timer, -1 for others);
 *       D(slot, line, irq, timer, kind, symbol) the same with a direct call of
 *       the export EMBED_M(symbol) the grant bound the line to;
 *   WAFT_MAIN_SIGNAL_IRQ_COUNT, WAFT_MAIN_SIGNAL_VTOR_ALIGN, WAFT_MAIN_SIGNAL_PRIO_BITS
 *       the board's external interrupt count (the RAM vector table's size),
 *       that table's alignment, and its NVIC priority bits.
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

/* ---- sockets (wasi-ext:sockets, runtime_c/sockets) ----------------------
 *   WAFT_MAIN_IMPORTS_EXT_SOCKETS=member      the module imports wasi-ext:sockets/sockets;
 *   WAFT_MAIN_IMPORTS_EXT_NAME_LOOKUP=member  ... or name-lookup: both point at `sockets`.
 *   WAFT_MAIN_SOCKET_OPTIONS                  a board's grants, fixed at build time:
 *       O("--listen", "tcp:*:7") O("--allow-connect", "udp:10.0.2.2:9000") ...
 * The host main hands its --allow-connect / --listen / --resolve options to
 * embed_sockets_option; the grants and name table are static arrays. */
#if defined(WAFT_MAIN_IMPORTS_EXT_SOCKETS) || defined(WAFT_MAIN_IMPORTS_EXT_NAME_LOOKUP)
#define WAFT_MAIN_USES_SOCKETS 1
#include <string.h>

#include "../../sockets/waft_sockets.h"
uint16_t waft_sock_port_start(void); /* runtime_c/sockets/sockets_port.h */
#ifndef WAFT_MAIN_SOCKET_GRANTS_MAX
#define WAFT_MAIN_SOCKET_GRANTS_MAX 32
#endif
static waft_sockets sockets;
static waft_sockets_grant socket_connect[WAFT_MAIN_SOCKET_GRANTS_MAX], socket_listen[WAFT_MAIN_SOCKET_GRANTS_MAX];
static waft_sockets_host_entry socket_hosts[WAFT_MAIN_SOCKET_GRANTS_MAX];
static uint32_t socket_connect_count, socket_listen_count, socket_host_count;

/* One sockets option: 1 taken (with its value), 0 not one, -1 bad (said why). */
static int embed_sockets_option(const char *option, char *value) {
    const char *why = NULL;
    if (strcmp(option, "--allow-connect") == 0 || strcmp(option, "--listen") == 0) {
        bool listen = option[2] == 'l';
        uint32_t *count = listen ? &socket_listen_count : &socket_connect_count;
        waft_sockets_grant *g = listen ? &socket_listen[*count] : &socket_connect[*count];
        if (*count == WAFT_MAIN_SOCKET_GRANTS_MAX) {
            why = "too many grants";
        } else if ((why = waft_sockets_parse_grant(value, g)) == NULL) {
            if (listen && g->host == WAFT_SOCKETS_HOST_NAME) {
                why = "a local address is an IP address or *, not a name";
            } else {
                (*count)++;
            }
        }
    } else if (strcmp(option, "--resolve") == 0) {
        if (socket_host_count == WAFT_MAIN_SOCKET_GRANTS_MAX) {
            why = "too many names";
        } else if ((why = waft_sockets_parse_host(value, &socket_hosts[socket_host_count])) == NULL) {
            socket_host_count++;
        }
    } else {
        return 0;
    }
    if (why != NULL) {
        waft_port_write_error("runner: ");
        waft_port_write_error(option);
        waft_port_write_error(": ");
        waft_port_write_error(why);
        waft_port_write_error("\n");
        return -1;
    }
    return 1;
}
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
#if defined(WAFT_MAIN_IMPORTS_EXT_SOCKETS)
    imports->WAFT_MAIN_IMPORTS_EXT_SOCKETS = &sockets;
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_NAME_LOOKUP)
    imports->WAFT_MAIN_IMPORTS_EXT_NAME_LOOKUP = &sockets;
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

#if defined(WAFT_MAIN_SIGNAL_VECTORS)
/* ---- Cortex-M: the granted lines' vectors, generated for this build ------
 *
 * One function per granted NVIC line, installed by the port in the RAM
 * vector table below.  An immediate handler runs as the interrupt itself,
 * and three things keep it apart from the code it interrupted:
 *
 * - its own stack limit: it runs on the interrupt stack, whose limit
 *   (waft_signals_cortexm_isr_limit) replaces the interrupted code's
 *   waft_stack_limit for the handler's stack checks.  With threads that is
 *   the kernel's interrupt stack, so the vector switches the limit and
 *   restores it; without threads handlers share the main stack with the
 *   only thread there is, whose limit is the interrupt stack's already
 *   (port_cortexm.c sets them equal), so there is nothing to switch.
 * - its trap boundary: a trap (or proc_exit) in an immediate handler never
 *   returns into the interrupted code, whose globals (the shadow-stack
 *   pointer) and memory are as the trap left them; it ends the program after
 *   one line naming the line (docs/interrupts.md).  That needs no setjmp:
 *   the vector records the line it runs in signal_immediate (saved and
 *   restored around the handler, so vectors nest), and this firmware's
 *   waft_trap (replacing the runtime's weak one, as waft.h allows) reports
 *   and ends the program from where the trap happened whenever
 *   signal_immediate is set.  Nothing an immediate handler may call pushes a
 *   trap frame of its own (dispatch, wait-for-event and thread start answer
 *   perm or cannot run there), so every trap while it is set is the
 *   handler's.
 * - its BASEPRI: a handler's set-mask is its own; the vector restores the
 *   level it found.
 *
 * Each of these is a few loads and stores on the vector's path, which is
 * what bench/metrics/interrupts.py measures against a native C handler. */
#include "../../signals/signals_cortexm.h"

typedef void (*signal_code_fn)(void *, int32_t, int32_t);

static void (*signal_ram_vectors[16 + WAFT_MAIN_SIGNAL_IRQ_COUNT])(void)
    __attribute__((aligned(WAFT_MAIN_SIGNAL_VTOR_ALIGN)));

/* The innermost immediate handler's line while one runs, NULL otherwise. */
static waft_signals_line *volatile signal_immediate;

static void signal_end_program(waft_trap_code code) {
    EMBED_FLUSH();
    waft_port_exit(waft_wasi_exit_status(&ctx, code));
}

/* The runtime's waft_trap (runtime_c/src/trap.c), with immediate handlers'
 * traps ended here: inside one, report the line and end the program;
 * elsewhere the runtime's own unwinding (waft_trap_unwind). */
WAFT_NORETURN void waft_trap(waft_trap_code code) {
    if (code == WAFT_TRAP_NONE) {
        code = WAFT_TRAP_HOST;
    }
    waft_signals_line *l = signal_immediate;
    if (l != NULL) {
        waft_signals_cortexm_trapped(l, code, signal_end_program);
    }
    waft_trap_unwind(code);
}

#if defined(WAFT_MAIN_USES_THREADS)
/* Threads run on their own stacks and handlers on the kernel's interrupt stack. */
#define SIGNAL_LIMIT_ENTER()                                                                                  \
    uintptr_t limit_ = waft_stack_limit;                                                                      \
    waft_stack_limit = waft_signals_cortexm_isr_limit
#define SIGNAL_LIMIT_LEAVE() waft_stack_limit = limit_
#else
/* One stack and one limit for main and handlers (port_cortexm.c: isr_limit = waft_stack_limit). */
#define SIGNAL_LIMIT_ENTER() ((void)0)
#define SIGNAL_LIMIT_LEAVE() ((void)0)
#endif

/* The immediate call, as a macro: one call less on the interrupt's path.
 * CALL is the handler call: a direct one for a line bound to an export,
 * else from the slot. */
#define SIGNAL_IMMEDIATE(l, CALL)                                                                             \
    do {                                                                                                      \
        waft_signals_line *outer_ = signal_immediate;                                                         \
        uint32_t basepri_;                                                                                    \
        __asm__ volatile("mrs %0, basepri" : "=r"(basepri_));                                                 \
        SIGNAL_LIMIT_ENTER();                                                                                 \
        signal_immediate = (l);                                                                               \
        CALL;                                                                                                 \
        signal_immediate = outer_;                                                                            \
        SIGNAL_LIMIT_LEAVE();                                                                                 \
        __asm__ volatile("msr basepri, %0" ::"r"(basepri_) : "memory");                                       \
    } while (0)

/* A handler from the slot: the table 0 entry attach gave, or attach-export's export. */
static void signal_call_slot(waft_signals_line *l) {
    if (l->entry != NULL) {
        ((signal_code_fn)(void (*)(void))l->entry->code)(l->entry->instance, (int32_t)l->line, (int32_t)l->arg);
    } else {
        l->export_call(l->instance, (int32_t)l->line, (int32_t)l->arg);
    }
}

/* The vector of `slot`, by kind.  SOFT: only an attached, enabled immediate
 * line has its NVIC line enabled (deferred software lines latch in `pend`
 * and never come here), so the vector goes straight to the handler.  IRQ:
 * a deferred device line latches and stays masked until dispatched.  TIMER:
 * the timer's grid first; a disabled or deferred line latches. */
#define SIGNAL_VECTOR_SOFT(slot, CALL) SIGNAL_IMMEDIATE(&signal_lines[slot], CALL)
#define SIGNAL_VECTOR_IRQ(slot, CALL)                                                                         \
    if (signal_lines[slot].delivery == WAFT_SIGNALS_IMMEDIATE) {                                              \
        SIGNAL_IMMEDIATE(&signal_lines[slot], CALL);                                                          \
    } else {                                                                                                  \
        waft_signals_cortexm_latch_masked(&signals, &signal_lines[slot]);                                     \
    }
#define SIGNAL_VECTOR_TIMER(slot, CALL)                                                                       \
    waft_signals_line *l_ = &signal_lines[slot];                                                              \
    if (!waft_signals_cortexm_timer_fired(l_)) {                                                              \
        return;                                                                                               \
    }                                                                                                         \
    if (l_->attached && l_->delivery == WAFT_SIGNALS_IMMEDIATE && atomic_load(&l_->enabled)) {                \
        SIGNAL_IMMEDIATE(l_, CALL);                                                                           \
    } else {                                                                                                  \
        waft_signals_latch(&signals, l_); /* deferred, or disabled: delivered on enable */                    \
    }

#define S(line)
#define V(slot, line, irq, timer, kind)                                                                       \
    static void signal_vector_##slot(void) { SIGNAL_VECTOR_##kind(slot, signal_call_slot(&signal_lines[slot])); }
#define D(slot, line, irq, timer, kind, symbol)                                                               \
    static void signal_vector_##slot(void) {                                                                  \
        SIGNAL_VECTOR_##kind(slot, EMBED_M(symbol)((EMBED_M(__instance) *)signal_lines[slot].instance,         \
                                                   (int32_t)(line), (int32_t)signal_lines[slot].arg));         \
    }
WAFT_MAIN_SIGNAL_VECTORS
#undef S
#undef V
#undef D
#define S(line) {line, WAFT_SIGNALS_NO_IRQ, -1, NULL, NULL},
#define V(slot, line, irq, timer, kind) {line, irq, timer, signal_vector_##slot, NULL},
#define D(slot, line, irq, timer, kind, symbol) {line, irq, timer, signal_vector_##slot, signal_export_##symbol},
static const waft_signals_cortexm_line signal_hw[] = {WAFT_MAIN_SIGNAL_VECTORS{0, WAFT_SIGNALS_NO_IRQ, -1, NULL, NULL}};
#undef S
#undef V
#undef D

static const waft_signals_cortexm_config signal_board = {
    .lines = signal_hw,
    .count = (uint32_t)(sizeof signal_hw / sizeof signal_hw[0] - 1),
    .ram_vectors = signal_ram_vectors,
    .irq_count = WAFT_MAIN_SIGNAL_IRQ_COUNT,
    .priority_bits = WAFT_MAIN_SIGNAL_PRIO_BITS,
#if defined(WAFT_MAIN_USES_THREADS)
    .os = {.wait32 = waft_os_wait32, .notify = waft_os_notify, .isr_stack = waft_os_isr_stack},
#endif
};
#endif /* WAFT_MAIN_SIGNAL_VECTORS */

static int embed_start_signals(void) {
#if defined(WAFT_MAIN_SIGNAL_VECTORS)
    waft_signals_cortexm_configure(&signal_board);
#endif
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
    waft_wasi_set_signals(&ctx, &signals);
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
#if defined(WAFT_MAIN_USES_SOCKETS)
#if defined(WAFT_MAIN_SOCKET_OPTIONS)
    /* A board's grants and name table, fixed when the firmware was built:
     * O("--listen", "tcp:*:7") ... (parsed here as the host main parses its argv). */
#define O(option, value)                                                                                      \
    {                                                                                                         \
        static char text[] = value;                                                                           \
        if (embed_sockets_option(option, text) < 0) return -1;                                                \
    }
    WAFT_MAIN_SOCKET_OPTIONS
#undef O
#endif
    waft_sockets_init(&sockets, &ctx, socket_connect, socket_connect_count, socket_listen, socket_listen_count,
                      socket_hosts, socket_host_count);
    if (waft_sock_port_start() != 0) {
        return -1; /* the port said why */
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
