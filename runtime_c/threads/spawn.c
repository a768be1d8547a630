/*
 * spawn.c: wasi.thread-spawn over a static pool of instances (waft_threads.h).
 *
 * OS-independent: the pool, thread ids, and the rule that a trap or proc_exit
 * in a thread ends the program.  Native threads and the lock come from the OS
 * port (os_posix.c on the host).
 */
#include "waft_threads.h"

/* wasi-threads: ids are in [1, 2^29); 1 is the main thread's. */
#define FIRST_SPAWNED_TID 2u
#define TID_LIMIT (1u << 29)

int32_t waft_threads_init(waft_threads *threads, const waft_threads_module *module) {
    if (module->max_threads > WAFT_THREADS_POOL_LIMIT) {
        return -28; /* EINVAL */
    }
    *threads = (waft_threads){.module = *module, .next_tid = FIRST_SPAWNED_TID};
    for (uint32_t i = 0; i < WAFT_THREADS_POOL_LIMIT; i++) {
        threads->slots[i] = (waft_threads_slot){.owner = threads, .index = i};
    }
    return waft_threads_os_init(threads);
}

uint32_t waft_threads_running(waft_threads *threads) {
    waft_threads_os_lock(threads);
    uint32_t running = threads->running;
    waft_threads_os_unlock(threads);
    return running;
}

static void *slot_instance(waft_threads *threads, uint32_t index) {
    return (uint8_t *)threads->module.instances + (size_t)index * threads->module.instance_stride;
}

/* An id no live thread has: ids wrap within [2, 2^29) and skip the busy ones. */
static int32_t next_free_tid(waft_threads *threads) {
    for (;;) {
        uint32_t tid = threads->next_tid;
        threads->next_tid = tid + 1 < TID_LIMIT ? tid + 1 : FIRST_SPAWNED_TID;
        bool busy = false;
        for (uint32_t i = 0; i < threads->module.max_threads && !busy; i++) {
            busy = threads->slots[i].tid == (int32_t)tid;
        }
        if (!busy) {
            return (int32_t)tid;
        }
    }
}

/* A thread trapped or called proc_exit: the embedder ends the program; if its
 * callback came back anyway, stop here rather than run on with a dead thread's
 * slot half set up. */
static WAFT_NORETURN void end_program(waft_threads *threads, waft_trap_code code) {
    threads->module.end_program(threads->module.user, code);
    waft_port_exit(WAFT_TRAP_EXIT_STATUS);
}

static void release(waft_threads_slot *slot) {
    waft_threads *threads = slot->owner;
    waft_threads_os_lock(threads);
    slot->tid = 0;
    threads->running--;
    waft_threads_os_unlock(threads);
}

static void call_thread_start(void *slot_ptr, void *unused) {
    (void)unused;
    waft_threads_slot *slot = slot_ptr;
    waft_threads *threads = slot->owner;
    threads->module.thread_start(slot_instance(threads, slot->index), slot->tid, slot->start_arg);
}

/* The native thread's body: its own stack limit and trap chain (thread-locals
 * on the host, switched by the kernel on boards), then wasi_thread_start. */
static void thread_entry(waft_threads_slot *slot) {
    waft_threads *threads = slot->owner;
    waft_stack_init();
    waft_trap_code code = waft_call_guarded(call_thread_start, slot, NULL);
    if (code != WAFT_TRAP_NONE) {
        end_program(threads, code); /* ends every thread */
    }
    release(slot); /* returning from wasi_thread_start ends only this thread */
}

int32_t waft_threads_spawn(waft_threads *threads, int32_t start_arg) {
    if (threads == NULL || threads->module.max_threads == 0 || threads->module.thread_start == NULL) {
        return -WAFT_THREADS_ENOTSUP;
    }
    waft_threads_os_lock(threads);
    waft_threads_slot *slot = NULL;
    for (uint32_t i = 0; i < threads->module.max_threads && slot == NULL; i++) {
        if (threads->slots[i].tid == 0) {
            slot = &threads->slots[i];
        }
    }
    if (slot == NULL) {
        waft_threads_os_unlock(threads);
        return -WAFT_THREADS_EAGAIN;
    }
    /* The id is fixed here, before the thread exists: the child's first
     * instruction already sees the id its parent is about to receive. */
    slot->tid = next_free_tid(threads);
    slot->start_arg = start_arg;
    threads->running++;
    waft_threads_os_unlock(threads);

    waft_trap_code code = threads->module.instantiate(slot_instance(threads, slot->index), threads->module.user);
    if (code != WAFT_TRAP_NONE) {
        end_program(threads, code);
    }
    int32_t tid = slot->tid;
    if (waft_threads_os_start(slot, threads->module.stack_size, thread_entry) != 0) {
        release(slot);
        return -WAFT_THREADS_EAGAIN;
    }
    return tid;
}

int32_t wasi___thread_x2dspawn(void *ctx, int32_t start_arg) {
    return waft_threads_spawn((waft_threads *)ctx, start_arg);
}
