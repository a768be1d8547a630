/*
 * os_posix.c: the thread pool's OS port on the host — POSIX threads.
 *
 * Threads are detached: wasi-threads has no join (wasi-libc joins through
 * shared memory), and the pool slot, not the pthread, is what gets reused.
 */
#include "waft_threads.h"

#include <pthread.h>

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

int32_t waft_threads_os_init(waft_threads *threads) {
    /* One module's pool per process on the host: one static mutex serves it. */
    threads->os = &pool_lock;
    return 0;
}

void waft_threads_os_lock(waft_threads *threads) {
    pthread_mutex_lock((pthread_mutex_t *)threads->os);
}

void waft_threads_os_unlock(waft_threads *threads) {
    pthread_mutex_unlock((pthread_mutex_t *)threads->os);
}

typedef struct trampoline {
    void (*entry)(waft_threads_slot *);
    waft_threads_slot *slot;
} trampoline;

/* What each busy slot's pthread starts with (indexed like the pool). */
static trampoline trampolines[WAFT_THREADS_POOL_LIMIT];

static void *run(void *t) {
    trampoline *call = t;
    call->entry(call->slot);
    return NULL;
}

int32_t waft_threads_os_start(waft_threads_slot *slot, size_t stack_size, void (*entry)(waft_threads_slot *)) {
    trampoline *call = &trampolines[slot->index];
    *call = (trampoline){entry, slot};
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) {
        return -WAFT_THREADS_EAGAIN;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size != 0 && pthread_attr_setstacksize(&attr, stack_size) != 0) {
        pthread_attr_destroy(&attr);
        return -WAFT_THREADS_EAGAIN;
    }
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, run, call);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -WAFT_THREADS_EAGAIN;
}
