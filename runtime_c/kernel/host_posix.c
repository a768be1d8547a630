/*
 * host_posix.c: kernel.h on the host — the OS port API over POSIX threads,
 * so the runtime's thread layer (runtime_c/threads) is one program for the
 * host and for the board's kernel.
 *
 * What differs from the built-in kernel, and why:
 *   - Scheduling is the host kernel's.  Threads start under the normal
 *     policy; the first time a priority is asked for (a create with one,
 *     waft_os_set_priority), every thread of the pool moves to SCHED_RR at
 *     sched_get_priority_min + priority - 1 — round robin, because equal
 *     priorities share the core (kernel.h) — where the process may use it.
 *     Otherwise the priorities are only recorded, and one line on stderr
 *     says which capability is missing.  Plain wasi-threads programs, which
 *     never ask, so never become real-time: a busy-waiting thread at a
 *     real-time priority would starve the rest of the machine.
 *   - Per-thread state (waft_stack_limit, waft_trap_current) is thread-local
 *     (waft.h), so nothing is switched here.
 *   - Stacks: the pooled stack is the pthread's own (WAFT_OS_STACK_SIZE at
 *     least PTHREAD_STACK_MIN); a caller's stack is given to the pthread.
 *   - Time has no ticks: waft_os_tick_ns is 1 and sleeps are
 *     clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME).
 *   - Critical sections cannot mask interrupts: they take one process-wide
 *     recursive lock (nothing here runs in a signal handler: host signals are
 *     delivered deferred).  waft_os_in_isr is always false.
 *   - waft_os_exit unwinds with pthread_exit; call it from C, not from
 *     inside compiled Wasm (whose frames carry no unwind tables): the thread
 *     layer leaves Wasm through a trap frame first.
 */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, pthread_setschedparam */
#include "kernel.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct waft_os_thread {
    pthread_t pthread;
    uint32_t (*entry)(void *);
    void *arg;
    uint32_t exit_status;
    uint64_t period;          /* waft_os_set_period's, 0: aperiodic */
    uint64_t next_release;    /* the next grid point not yet waited for */
    uint8_t priority;
    bool in_use;
    bool detached;
    bool exited;
    bool joining;             /* a thread is in waft_os_join on this one */
    pthread_cond_t ended;     /* signalled when `exited` becomes true */
};

/* The pool: the main thread is slot 0. */
static waft_os_thread threads[WAFT_MAX_THREADS];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pool_ready = PTHREAD_ONCE_INIT;
static __thread waft_os_thread *self;
static bool started;
static bool realtime; /* the pool runs under SCHED_RR */

/* A condition variable whose timed waits count on CLOCK_MONOTONIC, the clock
 * every deadline here is on (a wall-clock step must not stretch a timeout). */
static void init_monotonic_cond(pthread_cond_t *cond) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

static void init_pool(void) {
    for (int i = 0; i < WAFT_MAX_THREADS; i++) {
        init_monotonic_cond(&threads[i].ended);
    }
}

/* --- priorities ------------------------------------------------------------ */

static int rr_priority(uint8_t priority) {
    int low = sched_get_priority_min(SCHED_RR);
    int high = sched_get_priority_max(SCHED_RR);
    int p = low + priority - 1;
    return p > high ? high : p;
}

static int set_rr(pthread_t thread, uint8_t priority) {
    struct sched_param param = {.sched_priority = rr_priority(priority)};
    return pthread_setschedparam(thread, SCHED_RR, &param);
}

/* The first priority asked for: move the pool's threads to SCHED_RR, or say
 * once that priorities are only recorded.  Called with pool_lock held. */
static void want_priorities(void) {
    static bool tried;
    if (tried) {
        return;
    }
    tried = true;
    int rc = set_rr(threads[0].pthread, threads[0].priority);
    realtime = rc == 0;
    for (int i = 1; realtime && i < WAFT_MAX_THREADS; i++) {
        if (threads[i].in_use && !threads[i].exited) {
            (void)set_rr(threads[i].pthread, threads[i].priority);
        }
    }
    if (!realtime) {
        fprintf(stderr, "waft: thread priorities are advisory here: SCHED_RR needs CAP_SYS_NICE or an "
                        "RLIMIT_RTPRIO (ulimit -r) of at least %d (%s)\n", rr_priority(WAFT_OS_PRIORITY_MAX),
                strerror(rc));
    }
}

int waft_os_init(uint8_t priority) {
    if (priority < 1 || priority > WAFT_OS_PRIORITY_MAX || started) {
        return WAFT_OS_EINVAL;
    }
    started = true;
    pthread_once(&pool_ready, init_pool);
    waft_os_thread *main_thread = &threads[0];
    main_thread->pthread = pthread_self();
    main_thread->priority = priority;
    main_thread->in_use = true;
    main_thread->detached = true; /* the main thread is never joined: it ends the process */
    self = main_thread;
    return WAFT_OS_OK;
}

/* --- threads --------------------------------------------------------------- */

static void *thread_main(void *arg) {
    waft_os_thread *t = arg;
    self = t;
    waft_os_exit(t->entry(t->arg));
}

int waft_os_thread_create(waft_os_thread **out, const waft_os_thread_attr *attr,
                          uint32_t (*entry)(void *arg), void *arg) {
    waft_os_thread *caller = waft_os_current();
    uint8_t priority = attr->priority != 0 ? attr->priority : (caller != NULL ? caller->priority : 1);
    if (priority > WAFT_OS_PRIORITY_MAX) {
        return WAFT_OS_EINVAL;
    }
    if (attr->stack == NULL && attr->stack_size > WAFT_OS_STACK_SIZE) {
        return WAFT_OS_EINVAL;
    }
    if (attr->stack != NULL && (attr->stack_size <= WAFT_STACK_MARGIN || ((uintptr_t)attr->stack & 7) != 0)) {
        return WAFT_OS_EINVAL;
    }
    pthread_once(&pool_ready, init_pool);
    pthread_mutex_lock(&pool_lock);
    if (attr->priority != 0) {
        want_priorities();
    }
    waft_os_thread *t = NULL;
    for (int i = 1; i < WAFT_MAX_THREADS && t == NULL; i++) {
        if (!threads[i].in_use) {
            t = &threads[i];
        }
    }
    if (t == NULL) {
        pthread_mutex_unlock(&pool_lock);
        return WAFT_OS_EAGAIN;
    }
    t->exit_status = 0;
    t->period = 0;
    t->next_release = 0;
    t->exited = false;
    t->joining = false;
    t->entry = entry;
    t->arg = arg;
    t->priority = priority;
    t->detached = attr->detached;
    t->in_use = true;
    *out = t; /* before the thread exists, so before it can run */
    pthread_mutex_unlock(&pool_lock);

    pthread_attr_t pattr;
    pthread_attr_init(&pattr);
    pthread_attr_setdetachstate(&pattr, PTHREAD_CREATE_DETACHED); /* joins go through `ended` */
    size_t size = attr->stack_size != 0 ? attr->stack_size : WAFT_OS_STACK_SIZE;
    if (size < (size_t)PTHREAD_STACK_MIN) {
        size = (size_t)PTHREAD_STACK_MIN;
    }
    int rc = attr->stack != NULL ? pthread_attr_setstack(&pattr, attr->stack, attr->stack_size)
                                 : pthread_attr_setstacksize(&pattr, size);
    if (rc == 0 && realtime) {
        struct sched_param param = {.sched_priority = rr_priority(priority)};
        pthread_attr_setinheritsched(&pattr, PTHREAD_EXPLICIT_SCHED);
        pthread_attr_setschedpolicy(&pattr, SCHED_RR);
        pthread_attr_setschedparam(&pattr, &param);
    }
    if (rc == 0) {
        rc = pthread_create(&t->pthread, &pattr, thread_main, t);
    }
    pthread_attr_destroy(&pattr);
    if (rc != 0) {
        pthread_mutex_lock(&pool_lock);
        t->in_use = false;
        pthread_mutex_unlock(&pool_lock);
        return rc == EINVAL ? WAFT_OS_EINVAL : WAFT_OS_EAGAIN;
    }
    return WAFT_OS_OK;
}

waft_os_thread *waft_os_current(void) { return self; }

void waft_os_yield(void) { sched_yield(); }

int waft_os_set_priority(waft_os_thread *t, uint8_t priority) {
    if (priority < 1 || priority > WAFT_OS_PRIORITY_MAX) {
        return WAFT_OS_EINVAL;
    }
    t = t != NULL ? t : self;
    pthread_mutex_lock(&pool_lock);
    int result = WAFT_OS_ESRCH;
    if (t != NULL && t->in_use && !t->exited) {
        want_priorities();
        t->priority = priority;
        if (realtime) {
            (void)set_rr(t->pthread, priority);
        }
        result = WAFT_OS_OK;
    }
    pthread_mutex_unlock(&pool_lock);
    return result;
}

int waft_os_get_priority(waft_os_thread *t) {
    t = t != NULL ? t : self;
    pthread_mutex_lock(&pool_lock);
    int result = t != NULL && t->in_use && !t->exited ? t->priority : WAFT_OS_ESRCH;
    pthread_mutex_unlock(&pool_lock);
    return result;
}

WAFT_NORETURN void waft_os_exit(uint32_t status) {
    waft_os_thread *t = self;
    pthread_mutex_lock(&pool_lock);
    t->exit_status = status;
    t->exited = true;
    if (t->detached) {
        t->in_use = false;
    }
    pthread_cond_broadcast(&t->ended);
    pthread_mutex_unlock(&pool_lock);
    pthread_exit(NULL);
}

/* --- time ------------------------------------------------------------------ */

uint64_t waft_os_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t waft_os_tick_ns(void) { return 1; }

static struct timespec at(uint64_t deadline_ns) {
    /* UINT64_MAX ns is 584 years: well inside a 64-bit time_t. */
    return (struct timespec){.tv_sec = (time_t)(deadline_ns / 1000000000u), .tv_nsec = (long)(deadline_ns % 1000000000u)};
}

int waft_os_sleep_until(uint64_t deadline_ns) {
    struct timespec when = at(deadline_ns);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL) == EINTR) {
    }
    return WAFT_OS_OK;
}

int waft_os_join(waft_os_thread *t, uint64_t deadline_ns, uint32_t *status) {
    if (t == NULL || t == self) {
        return WAFT_OS_EDEADLK;
    }
    pthread_mutex_lock(&pool_lock);
    int result = WAFT_OS_OK;
    if (!t->in_use) {
        result = WAFT_OS_ESRCH;
    } else if (t->detached || t->joining) {
        result = WAFT_OS_EINVAL;
    } else {
        t->joining = true;
        struct timespec when = at(deadline_ns);
        while (!t->exited && result == WAFT_OS_OK) {
            if (deadline_ns == WAFT_OS_FOREVER) {
                pthread_cond_wait(&t->ended, &pool_lock);
            } else if (pthread_cond_timedwait(&t->ended, &pool_lock, &when) == ETIMEDOUT && !t->exited) {
                result = WAFT_OS_ETIMEDOUT;
            }
        }
        t->joining = false;
        if (result == WAFT_OS_OK) {
            if (status != NULL) *status = t->exit_status; /* NULL: the caller does not want it (kernel.h) */
            t->in_use = false;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return result;
}

int waft_os_set_period(uint64_t period_ns, uint64_t first_release_ns) {
    waft_os_thread *t = self;
    if (period_ns == 0) {
        t->period = 0;
        return WAFT_OS_OK;
    }
    if (period_ns < waft_os_tick_ns()) {
        return WAFT_OS_EINVAL;
    }
    uint64_t now = waft_os_now_ns();
    uint64_t next = first_release_ns;
    if (next < now) { /* anchored in the past: the first grid point not yet passed */
        next += (now - next + period_ns - 1) / period_ns * period_ns;
    }
    t->period = period_ns;
    t->next_release = next;
    return WAFT_OS_OK;
}

int waft_os_wait_period(uint32_t *missed) {
    waft_os_thread *t = self;
    if (t->period == 0) {
        return WAFT_OS_EINVAL;
    }
    uint64_t now = waft_os_now_ns();
    uint64_t lost = 0;
    if (now >= t->next_release) { /* overran: skip the releases already passed */
        lost = (now - t->next_release) / t->period + 1;
        t->next_release += lost * t->period;
    }
    waft_os_sleep_until(t->next_release);
    t->next_release += t->period;
    *missed = lost > UINT32_MAX ? UINT32_MAX : (uint32_t)lost;
    return WAFT_OS_OK;
}

/* --- wait/notify ------------------------------------------------------------- */

/* Waiters are kept in per-address queues, hashed into a fixed set of buckets
 * each under its own lock.  A waiter compares the cell under its bucket's
 * lock before it sleeps and a notifier takes the same lock, so a store +
 * notify racing with a wait either changes the value the waiter compares or
 * finds the waiter queued: no wake-up is lost. */
#define WAIT_BUCKETS 64

typedef struct waiter {
    const volatile void *addr;
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

static bucket *bucket_of(const volatile void *addr) {
    pthread_once(&buckets_ready, init_buckets);
    uintptr_t key = (uintptr_t)addr;
    return &buckets[(key >> 2 ^ key >> 9) % WAIT_BUCKETS];
}

static void unlink_waiter(bucket *b, waiter *w) {
    for (waiter **link = &b->head; *link != NULL; link = &(*link)->next) {
        if (*link == w) {
            *link = w->next;
            return;
        }
    }
}

static int wait_on(const volatile void *addr, uint64_t expected, unsigned size, uint64_t deadline_ns) {
    bucket *b = bucket_of(addr);
    waiter me = {.addr = addr};
    init_monotonic_cond(&me.wake);
    struct timespec when = at(deadline_ns);

    pthread_mutex_lock(&b->lock);
    uint64_t value = size == 8 ? __atomic_load_n((const volatile uint64_t *)addr, __ATOMIC_SEQ_CST)
                               : __atomic_load_n((const volatile uint32_t *)addr, __ATOMIC_SEQ_CST);
    int result = WAFT_OS_WAIT_OK;
    if (value != expected) {
        result = WAFT_OS_WAIT_NOT_EQUAL;
    } else {
        me.next = b->head;
        b->head = &me;
        while (!me.woken) {
            int rc = deadline_ns == WAFT_OS_FOREVER ? pthread_cond_wait(&me.wake, &b->lock)
                                                    : pthread_cond_timedwait(&me.wake, &b->lock, &when);
            if (rc == ETIMEDOUT && !me.woken) {
                unlink_waiter(b, &me);
                result = WAFT_OS_WAIT_TIMED_OUT;
                break;
            }
        }
    }
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&me.wake);
    return result;
}

int waft_os_wait32(const volatile uint32_t *addr, uint32_t expected, uint64_t deadline_ns) {
    return wait_on(addr, expected, 4, deadline_ns);
}

int waft_os_wait64(const volatile uint64_t *addr, uint64_t expected, uint64_t deadline_ns) {
    return wait_on(addr, expected, 8, deadline_ns);
}

uint32_t waft_os_notify(const volatile void *addr, uint32_t count) {
    bucket *b = bucket_of(addr);
    uint32_t woken = 0;
    pthread_mutex_lock(&b->lock);
    for (waiter **link = &b->head; *link != NULL && woken < count;) {
        waiter *w = *link;
        if (w->addr == addr) {
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

/* --- critical sections ------------------------------------------------------- */

static pthread_mutex_t critical = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

waft_os_irq_state waft_os_critical_enter(void) {
    pthread_mutex_lock(&critical);
    return 0;
}

void waft_os_critical_exit(waft_os_irq_state state) {
    (void)state;
    pthread_mutex_unlock(&critical);
}

bool waft_os_in_isr(void) { return false; }
