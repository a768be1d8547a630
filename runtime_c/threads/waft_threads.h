/*
 * waft_threads.h: threads for one compiled module — wasi-threads'
 * `wasi.thread-spawn` and the `wasi-ext:threads/threads@0.1.0` interface —
 * over a static pool of instances, on the OS port API (runtime_c/kernel/
 * kernel.h: the built-in Cortex-M kernel, the host's POSIX threads, or a
 * vendor RTOS).
 *
 * The model is wasi-threads' (../shared/wasi-threads): a thread is a new
 * instance of the module that shares its (shared, imported) memory, entered
 * at the export `wasi_thread_start(tid, start_arg)`; a trap or proc_exit in
 * any thread ends them all.  The runtime knows nothing of the module's C
 * types, so the embedder describes the module once (waft_threads_module:
 * where the instance pool lives, how to instantiate one sharing the memory,
 * how to call wasi_thread_start, what ending the program means) and puts
 * this waft_threads's address in the imports struct for both import
 * modules (`wasi` and `wasi-ext:threads/threads@0.1.0`).
 *
 * Nothing is allocated: instances come from the embedder's static pool,
 * threads and their stacks from the OS port's.  Thread ids are in [1, 2^29)
 * as wasi-threads requires; 1 is the main thread's.  A new thread's id is
 * fixed before the thread exists: wasi_thread_start(tid, ...) and the
 * spawner's result agree from the child's first instruction on, and
 * wasi-ext's spawn stores the id in the guest's return area before the child
 * can run (so a child of higher priority that preempts its parent at once
 * finds its id already known).
 *
 * This file's functions are also what links the multi-threaded versions of
 * the runtime's blocking hooks (memory.atomic.wait/notify, memory.grow's
 * lock, waft.h): they live in spawn.c, which every threaded program links.
 */
#ifndef WAFT_THREADS_H
#define WAFT_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernel/kernel.h" /* the OS port API, a sibling folder of runtime_c */
#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most spawned threads a pool may hold (the pool itself is the embedder's
 * array, sized by `waft run --max-threads`). */
#define WAFT_THREADS_POOL_LIMIT 64

/* What the runtime needs to know about the module whose threads it runs. */
typedef struct waft_threads_module {
    void *instances;          /* the pool: max_threads instances, instance_stride bytes apart */
    size_t instance_stride;   /* sizeof(P__instance) */
    uint32_t max_threads;     /* threads besides the main one; at most WAFT_THREADS_POOL_LIMIT */
    /* Instantiate `inst` with imports that share the main instance's memory
     * and point both thread import modules at this waft_threads.  Returns
     * its trap code. */
    waft_trap_code (*instantiate)(void *inst, void *user);
    /* Call the module's wasi_thread_start(tid, start_arg) on `inst`. */
    void (*thread_start)(void *inst, int32_t tid, int32_t start_arg);
    /* A thread trapped (or called proc_exit: WAFT_TRAP_EXIT): end the whole
     * program, as wasi-threads requires.  Must not return. */
    void (*end_program)(void *user, waft_trap_code code);
    void *user;               /* passed to the three callbacks */
} waft_threads_module;

struct waft_threads;

/* A thread of the module: the main one, or a pool slot. */
typedef struct waft_threads_slot {
    struct waft_threads *owner;
    waft_os_thread *os;       /* the OS port's thread, while it runs or awaits a join */
    uint32_t index;           /* which instance of the pool (the main thread: none) */
    int32_t tid;              /* 0 while the slot is free */
    int32_t start_arg;
    uint32_t exit_status;     /* wasi-ext exit's status, while unwinding to the entry */
    bool exiting;             /* wasi-ext exit was called: end this thread only */
    bool detached;
    uint8_t spawn_priority;   /* set-spawn-attributes: for this thread's later spawns */
    uint32_t spawn_stack_size;
} waft_threads_slot;

/* One module's threads.  Opaque; static storage. */
typedef struct waft_threads {
    waft_threads_module module;
    waft_memory *memory;      /* the shared memory: where wasi-ext results are written */
    uint32_t next_tid;        /* the next id to hand out */
    waft_threads_slot main;   /* tid 1 */
    waft_threads_slot slots[WAFT_THREADS_POOL_LIMIT];
} waft_threads;

/* Set up `threads` for `module` (copied), called from the main thread, which
 * becomes tid 1.  The OS port must be started (waft_os_init).  Returns 0, or
 * WAFT_OS_EINVAL when max_threads passes WAFT_THREADS_POOL_LIMIT. */
int32_t waft_threads_init(waft_threads *threads, const waft_threads_module *module);

/* The memory wasi-ext results are written to (the module's, once instantiated). */
void waft_threads_set_memory(waft_threads *threads, waft_memory *memory);

/* Start a thread running wasi_thread_start(tid, start_arg) on a free pool
 * instance, at `priority` (0: the caller's) with `stack_size` bytes of native
 * stack (0: the port's default).  With `ret_area` (a host pointer to 8 bytes
 * of the guest's memory, already checked), a wasi-ext `result<tid, errno>` is
 * stored there before the thread can run.  Returns the tid (> 0) or a negated
 * errno: -EAGAIN (6) with no free slot or OS thread, -EINVAL (28) for a
 * stack too big, -EPERM (63) for a priority above WAFT_OS_PRIORITY_MAX,
 * -ENOTSUP (58) without a pool.  A trap while instantiating ends the program. */
int32_t waft_threads_spawn(waft_threads *threads, int32_t start_arg, uint8_t priority, uint32_t stack_size,
                           bool detached, uint8_t *ret_area);

/* The calling thread's slot (the main thread's for any thread not of this module). */
waft_threads_slot *waft_threads_current(waft_threads *threads);

/* The busy slot with id `tid` (0: the caller's), or NULL. */
waft_threads_slot *waft_threads_find(waft_threads *threads, int32_t tid);

/* Collect a joinable thread: wait until `deadline_ns` for it to end, store its
 * status, free its slot.  0 or a negated errno (see wasi-ext's join). */
int32_t waft_threads_join(waft_threads *threads, int32_t tid, uint64_t deadline_ns, uint32_t *status);

/* End the calling spawned thread with `status` (unwinds its Wasm frames to
 * the thread's entry); in the main thread, proc_exit(status). */
WAFT_NORETURN void waft_threads_exit(waft_threads *threads, uint32_t status);

/* The import (`(import "wasi" "thread-spawn" (func (param i32) (result i32)))`):
 * `ctx` is a waft_threads; the calling thread's spawn attributes apply and
 * the thread is detached. */
int32_t wasi___thread_x2dspawn(void *ctx, int32_t start_arg);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_THREADS_H */
