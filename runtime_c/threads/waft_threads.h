/*
 * waft_threads.h: wasi-threads for one compiled module — a static pool of
 * thread slots, `wasi.thread-spawn`, and "a trap or proc_exit in any thread
 * ends them all".
 *
 * The model is wasi-threads' (../shared/wasi-threads): a thread is a new
 * instance of the module that shares its (shared, usually imported) memory,
 * entered at the export `wasi_thread_start(tid, start_arg)`.  The runtime
 * knows nothing of the module's C types, so the embedder describes the module
 * once (waft_threads_module: where the instance pool lives, how to
 * instantiate one sharing the memory, how to call wasi_thread_start, what
 * ending the program means) and puts the waft_threads's address in the
 * imports struct as the `wasi` member.
 *
 * Nothing is allocated: instances come from the embedder's static pool, slot
 * bookkeeping lives in waft_threads.  The native thread (its stack, its
 * scheduling) is the OS port's (threads/os_*.c).
 *
 * Thread ids are in [1, 2^29) as wasi-threads requires; 1 is never returned
 * by spawn, so the main thread can be told apart.  The id is chosen before
 * the thread exists, so the child's wasi_thread_start(tid, ...) and the
 * parent's return value agree from the child's first instruction on.
 */
#ifndef WAFT_THREADS_H
#define WAFT_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most threads a pool may hold (a build-time bound; the pool itself is the
 * embedder's array, sized by `waft compile/run --max-threads`). */
#define WAFT_THREADS_POOL_LIMIT 256

/* Negative errno values wasi.thread-spawn returns (wasi-threads only says
 * "negative"; WASI's numbering, as wasi-ext:threads reports them). */
#define WAFT_THREADS_EAGAIN 6   /* the pool is exhausted, or the OS refused a thread */
#define WAFT_THREADS_ENOTSUP 58 /* the module has no wasi_thread_start (no pool configured) */

/* What the runtime needs to know about the module whose threads it runs. */
typedef struct waft_threads_module {
    void *instances;          /* the pool: max_threads instances, instance_stride bytes apart */
    size_t instance_stride;   /* sizeof(P__instance) */
    uint32_t max_threads;     /* threads besides the main one; at most WAFT_THREADS_POOL_LIMIT */
    size_t stack_size;        /* each thread's native stack in bytes; 0: the OS port's default */
    /* Instantiate `inst` with imports that share the main instance's memory
     * (and point `wasi` at this waft_threads).  Returns its trap code. */
    waft_trap_code (*instantiate)(void *inst, void *user);
    /* Call the module's wasi_thread_start(tid, start_arg) on `inst`. */
    void (*thread_start)(void *inst, int32_t tid, int32_t start_arg);
    /* A thread trapped (or called proc_exit: WAFT_TRAP_EXIT): end the whole
     * program, as wasi-threads requires.  Must not return. */
    void (*end_program)(void *user, waft_trap_code code);
    void *user;               /* passed to the three callbacks */
} waft_threads_module;

struct waft_threads;

/* One pool slot: an instance in use by a thread, and what its thread starts with. */
typedef struct waft_threads_slot {
    struct waft_threads *owner;
    uint32_t index;           /* which instance of the pool */
    int32_t tid;              /* 0 while the slot is free */
    int32_t start_arg;
} waft_threads_slot;

/* One module's threads.  Opaque; static storage. */
typedef struct waft_threads {
    waft_threads_module module;
    uint32_t next_tid;                        /* the next id to hand out */
    uint32_t running;                         /* threads started and not yet ended */
    void *os;                                 /* the OS port's lock, set by waft_threads_init */
    waft_threads_slot slots[WAFT_THREADS_POOL_LIMIT];
} waft_threads;

/* Set up `threads` for `module` (copied).  Returns 0, or -EINVAL (28) when
 * max_threads passes WAFT_THREADS_POOL_LIMIT. */
int32_t waft_threads_init(waft_threads *threads, const waft_threads_module *module);

/* wasi.thread-spawn: instantiate a pool slot and start a thread running
 * wasi_thread_start(tid, start_arg) on it.  Returns the new tid (> 0), or a
 * negated errno: -EAGAIN when every slot is busy or the OS cannot start a
 * thread, -ENOTSUP without a pool.  A trap while instantiating ends the program. */
int32_t waft_threads_spawn(waft_threads *threads, int32_t start_arg);

/* Threads started and not yet ended (for tests and the embedder's shutdown). */
uint32_t waft_threads_running(waft_threads *threads);

/* The import itself (`(import "wasi" "thread-spawn" (func (param i32) (result i32)))`):
 * `ctx` is the imports struct's `wasi` member, a waft_threads. */
int32_t wasi___thread_x2dspawn(void *ctx, int32_t start_arg);

/* --- OS port (threads/os_posix.c on the host) -------------------------------- */

/* Create the port's lock for `threads` and store it in threads->os.  0 or -errno. */
int32_t waft_threads_os_init(waft_threads *threads);
void waft_threads_os_lock(waft_threads *threads);
void waft_threads_os_unlock(waft_threads *threads);
/* Start a native thread for `slot` with `stack_size` bytes of stack (0: the
 * port's default) running entry(slot).  The slot's index is stable while it
 * is busy, so a port without a heap can keep the slot's stack and control
 * block in static arrays indexed by it.  0, or -EAGAIN when it cannot. */
int32_t waft_threads_os_start(waft_threads_slot *slot, size_t stack_size, void (*entry)(waft_threads_slot *));

#ifdef __cplusplus
}
#endif

#endif /* WAFT_THREADS_H */
