/*
 * os_posix.c: the threads' OS port on the host — POSIX threads: the pool's
 * lock, starting a thread, and the blocking half of memory.atomic.wait/notify.
 *
 * Threads are detached: wasi-threads has no join (wasi-libc joins through
 * shared memory), and the pool slot, not the pthread, is what gets reused.
 *
 * The wait/notify and memory.grow hooks live here rather than in a file of
 * their own because they must replace runtime_c/src's weak single-thread defaults
 * exactly when threads exist: this object is linked whenever the module can
 * spawn, and only then.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock under -std=c11 */
#include "waft_threads.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

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

/* --- memory.grow on a memory the threads share ------------------------------------ */

static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

void waft_port_memory_grow_lock(void) {
    pthread_mutex_lock(&grow_lock);
}

void waft_port_memory_grow_unlock(void) {
    pthread_mutex_unlock(&grow_lock);
}

/* --- memory.atomic.wait / notify ------------------------------------------------ */

/* Waiters are kept in per-address queues, hashed into a fixed set of buckets
 * each under its own lock.  A waiter compares the cell again under its
 * bucket's lock before it sleeps, and a notifier takes the same lock, so a
 * store + notify that races with a wait either changes the value the waiter
 * compares or finds the waiter already queued: no wake-up is lost. */
#define WAIT_BUCKETS 64

typedef struct waiter {
    volatile void *cell;
    pthread_cond_t wake;
    bool woken;
    struct waiter *next;
} waiter;

typedef struct bucket {
    pthread_mutex_t lock;
    waiter *head;
} bucket;

static bucket buckets[WAIT_BUCKETS];
static pthread_once_t buckets_ready = PTHREAD_ONCE_INIT;

static void init_buckets(void) {
    for (int i = 0; i < WAIT_BUCKETS; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
    }
}

static bucket *bucket_of(volatile void *cell) {
    pthread_once(&buckets_ready, init_buckets);
    uintptr_t key = (uintptr_t)cell;
    return &buckets[(key >> 2 ^ key >> 9) % WAIT_BUCKETS];
}

static bool cell_holds(volatile void *cell, uint64_t expected, uint32_t size) {
    if (size == 8) {
        return __atomic_load_n((volatile uint64_t *)cell, __ATOMIC_SEQ_CST) == expected;
    }
    return __atomic_load_n((volatile uint32_t *)cell, __ATOMIC_SEQ_CST) == (uint32_t)expected;
}

static void unlink_waiter(bucket *b, waiter *w) {
    for (waiter **link = &b->head; *link != NULL; link = &(*link)->next) {
        if (*link == w) {
            *link = w->next;
            return;
        }
    }
}

/* The absolute CLOCK_MONOTONIC time `timeout_ns` (>= 0) from now.  time_t is
 * 64 bits on the hosts Waft supports, so even INT64_MAX ns (292 years) fits. */
static struct timespec deadline_after(int64_t timeout_ns) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t seconds = now.tv_sec + (time_t)(timeout_ns / 1000000000);
    long nanos = now.tv_nsec + (long)(timeout_ns % 1000000000);
    if (nanos >= 1000000000) {
        nanos -= 1000000000;
        seconds++;
    }
    return (struct timespec){.tv_sec = seconds, .tv_nsec = nanos};
}

uint32_t waft_port_wait_block(volatile void *cell, uint64_t expected, uint32_t size, int64_t timeout_ns) {
    bucket *b = bucket_of(cell);
    waiter self = {.cell = cell};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a wall-clock step must not stretch a timeout */
    pthread_cond_init(&self.wake, &attr);
    pthread_condattr_destroy(&attr);
    struct timespec deadline = deadline_after(timeout_ns < 0 ? 0 : timeout_ns);

    pthread_mutex_lock(&b->lock);
    uint32_t result = WAFT_WAIT_OK;
    if (!cell_holds(cell, expected, size)) {
        result = WAFT_WAIT_NOT_EQUAL;
    } else {
        self.next = b->head;
        b->head = &self;
        while (!self.woken) {
            int rc = timeout_ns < 0 ? pthread_cond_wait(&self.wake, &b->lock)
                                    : pthread_cond_timedwait(&self.wake, &b->lock, &deadline);
            if (rc == ETIMEDOUT && !self.woken) {
                unlink_waiter(b, &self);
                result = WAFT_WAIT_TIMED_OUT;
                break;
            }
        }
    }
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&self.wake);
    return result;
}

uint32_t waft_port_wait_wake(volatile void *cell, uint32_t count) {
    bucket *b = bucket_of(cell);
    uint32_t woken = 0;
    pthread_mutex_lock(&b->lock);
    for (waiter **link = &b->head; *link != NULL && woken < count;) {
        waiter *w = *link;
        if (w->cell == cell) {
            *link = w->next; /* dequeued by the notifier: the waiter sees `woken` and returns OK */
            w->woken = true;
            pthread_cond_signal(&w->wake);
            woken++;
        } else {
            link = &w->next;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return woken;
}
