/*
 * POSIX threads over wasi-threads, for a wasi-libc that predates them.
 *
 * Waft's addition to Debian's wasi-libc (see ../README.md): threads are
 * spawned with the host's `wasi.thread-spawn` and enter through
 * wasi_thread_start.s; mutexes, condition variables and the rest block with
 * memory.atomic.wait32/notify on the shared memory. The whole pthread state is
 * this file's: musl's own thread code (pthread_impl.h, futex syscalls) is not
 * built.
 *
 * Not here: pthread_exit, cancellation, scheduling, process-shared or robust
 * mutexes, pthread_getattr_np. A detached thread's stack is freed by the next
 * pthread_create or pthread_detach after it has ended.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

#define DEFAULT_STACK_SIZE (16 * 1024)

enum { EXITED = 0, RUNNING = 1 };

struct __pthread {
    /* Read by wasi_thread_start.s at these offsets. */
    void *stack_top;        /* 0 */
    void *tls;              /* 4 */
    volatile int state;     /* 8: RUNNING until the thread no longer uses its stack */
    /* This file's. */
    void *(*start)(void *);
    void *arg;
    void *result;
    int tid;
    int detached;
    struct __pthread *next_detached;
};

static struct __pthread main_thread = {.state = RUNNING};
static _Thread_local struct __pthread *self;

/* The spawned thread's first C code, after wasi_thread_start.s. */
void __waft_pthread_start(int tid, struct __pthread *t);

/* ---- waiting on a word of the shared memory ---- */

static void wait_word(volatile int *addr, int expected, int64_t timeout_ns)
{
    __builtin_wasm_memory_atomic_wait32((int *)addr, expected, timeout_ns);
}

static void wake_word(volatile int *addr, unsigned count)
{
    __builtin_wasm_memory_atomic_notify((int *)addr, count);
}

/* Nanoseconds from now until the absolute time `at` on `clock`: 0 if past. */
static int64_t ns_until(clockid_t clock, const struct timespec *at)
{
    struct timespec now;
    clock_gettime(clock, &now);
    int64_t ns = (int64_t)(at->tv_sec - now.tv_sec) * 1000000000 + (at->tv_nsec - now.tv_nsec);
    return ns > 0 ? ns : 0;
}

static int valid_timespec(const struct timespec *at)
{
    return at->tv_nsec >= 0 && at->tv_nsec < 1000000000;
}

/* A lock word: 0 free, 1 held, 2 held with (maybe) waiters. */
static int lock_word(volatile int *w, const struct timespec *at)
{
    int c = 0;
    if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return 0;
    if (c != 2)
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        int64_t timeout = -1;
        if (at) {
            timeout = ns_until(CLOCK_REALTIME, at);
            if (timeout == 0)
                return ETIMEDOUT;
        }
        wait_word(w, 2, timeout);
        c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
    }
    return 0;
}

static void unlock_word(volatile int *w)
{
    if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2)
        wake_word(w, 1);
}

/* ---- threads ---- */

pthread_t pthread_self(void)
{
    return self ? self : &main_thread;
}

#undef pthread_equal
int pthread_equal(pthread_t a, pthread_t b)
{
    return a == b;
}

/* Detached threads that may still be running: their blocks are freed once
 * they have ended. */
static volatile int detached_lock;
static struct __pthread *detached_list;

static void reap_detached(void)
{
    lock_word(&detached_lock, NULL);
    for (struct __pthread **p = &detached_list; *p;) {
        struct __pthread *t = *p;
        if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == EXITED) {
            *p = t->next_detached;
            free(t);
        } else {
            p = &t->next_detached;
        }
    }
    unlock_word(&detached_lock);
}

static void add_detached(struct __pthread *t)
{
    lock_word(&detached_lock, NULL);
    t->detached = 1;
    t->next_detached = detached_list;
    detached_list = t;
    unlock_word(&detached_lock);
}

static void run_key_destructors(void);

void __waft_pthread_start(int tid, struct __pthread *t)
{
    self = t;
    t->tid = tid;
    t->result = t->start(t->arg);
    run_key_destructors();
}

int pthread_create(pthread_t *restrict out, const pthread_attr_t *restrict attr,
                   void *(*start)(void *), void *restrict arg)
{
    /* Keep wasi_thread_start (its own object) in every module that creates threads. */
    extern void wasi_thread_start(int, void *);
    static void (*volatile entry)(int, void *) = wasi_thread_start;
    (void)entry;

    reap_detached();

    size_t stack_size = attr && attr->__u.__s[0] ? attr->__u.__s[0] : DEFAULT_STACK_SIZE;
    int detached = attr && attr->__u.__i[1] == PTHREAD_CREATE_DETACHED;
    size_t tls_size = __builtin_wasm_tls_size();
    size_t tls_align = __builtin_wasm_tls_align();
    if (tls_align < 16)
        tls_align = 16;

    /* [struct __pthread][TLS block][stack, growing down from the end] */
    size_t tls_offset = (sizeof(struct __pthread) + tls_align - 1) & ~(tls_align - 1);
    size_t stack_offset = (tls_offset + tls_size + 15) & ~(size_t)15;
    stack_size = (stack_size + 15) & ~(size_t)15;
    if (stack_size > SIZE_MAX - stack_offset - tls_align)
        return EAGAIN;
    unsigned char *block = aligned_alloc(tls_align, stack_offset + stack_size);
    if (!block)
        return EAGAIN;

    struct __pthread *t = (struct __pthread *)block;
    memset(t, 0, sizeof *t);
    t->tls = block + tls_offset;
    t->stack_top = block + stack_offset + stack_size;
    t->state = RUNNING;
    t->start = start;
    t->arg = arg;
    if (detached)
        add_detached(t);

    int tid = __wasi_thread_spawn(t);
    if (tid < 0) {
        if (detached) {
            /* Never ran: mark it ended, and the reaper frees it. */
            __atomic_store_n(&t->state, EXITED, __ATOMIC_RELEASE);
            reap_detached();
        } else {
            free(block);
        }
        return EAGAIN;
    }
    *out = t;
    return 0;
}

int pthread_join(pthread_t t, void **result)
{
    if (t == pthread_self())
        return EDEADLK;
    if (t->detached)
        return EINVAL;
    int s;
    while ((s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE)) != EXITED)
        wait_word(&t->state, s, -1);
    if (result)
        *result = t->result;
    free(t);
    return 0;
}

int pthread_detach(pthread_t t)
{
    if (t == &main_thread || t->detached)
        return EINVAL;
    add_detached(t);
    reap_detached();
    return 0;
}

/* ---- attributes ---- */

int pthread_attr_init(pthread_attr_t *a)
{
    memset(a, 0, sizeof *a);
    return 0;
}

int pthread_attr_destroy(pthread_attr_t *a)
{
    return 0;
}

int pthread_attr_setstacksize(pthread_attr_t *a, size_t size)
{
    if (size < PTHREAD_STACK_MIN)
        return EINVAL;
    a->__u.__s[0] = size;
    return 0;
}

int pthread_attr_getstacksize(const pthread_attr_t *restrict a, size_t *restrict size)
{
    *size = a->__u.__s[0] ? a->__u.__s[0] : DEFAULT_STACK_SIZE;
    return 0;
}

int pthread_attr_setdetachstate(pthread_attr_t *a, int state)
{
    if (state != PTHREAD_CREATE_JOINABLE && state != PTHREAD_CREATE_DETACHED)
        return EINVAL;
    a->__u.__i[1] = state;
    return 0;
}

int pthread_attr_getdetachstate(const pthread_attr_t *a, int *state)
{
    *state = a->__u.__i[1];
    return 0;
}

/* ---- mutexes: __vi[0] the lock word, __i[1] the type, __i[2] the owner, __i[3] the depth ---- */

#define M_LOCK(m) (&(m)->__u.__vi[0])
#define M_TYPE(m) ((m)->__u.__i[1])
#define M_OWNER(m) ((m)->__u.__vi[2])
#define M_DEPTH(m) ((m)->__u.__i[3])

int pthread_mutexattr_init(pthread_mutexattr_t *a)
{
    a->__attr = PTHREAD_MUTEX_DEFAULT;
    return 0;
}

int pthread_mutexattr_destroy(pthread_mutexattr_t *a)
{
    return 0;
}

int pthread_mutexattr_settype(pthread_mutexattr_t *a, int type)
{
    if (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_RECURSIVE &&
        type != PTHREAD_MUTEX_ERRORCHECK)
        return EINVAL;
    a->__attr = type;
    return 0;
}

int pthread_mutexattr_gettype(const pthread_mutexattr_t *restrict a, int *restrict type)
{
    *type = a->__attr;
    return 0;
}

int pthread_mutex_init(pthread_mutex_t *restrict m, const pthread_mutexattr_t *restrict a)
{
    memset(m, 0, sizeof *m);
    M_TYPE(m) = a ? (int)a->__attr : PTHREAD_MUTEX_DEFAULT;
    return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
    return 0;
}

static int owner_id(void)
{
    return (int)(uintptr_t)pthread_self();
}

static int mutex_lock(pthread_mutex_t *m, const struct timespec *at, int try)
{
    int type = M_TYPE(m);
    if (type != PTHREAD_MUTEX_NORMAL && M_OWNER(m) == owner_id()) {
        if (type != PTHREAD_MUTEX_RECURSIVE)
            return EDEADLK;
        if (M_DEPTH(m) == INT_MAX)
            return EAGAIN;
        M_DEPTH(m)++;
        return 0;
    }
    if (try) {
        int c = 0;
        if (!__atomic_compare_exchange_n(M_LOCK(m), &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return EBUSY;
    } else {
        if (at && !valid_timespec(at))
            return EINVAL;
        int r = lock_word(M_LOCK(m), at);
        if (r)
            return r;
    }
    if (type != PTHREAD_MUTEX_NORMAL) {
        M_OWNER(m) = owner_id();
        M_DEPTH(m) = 1;
    }
    return 0;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    return mutex_lock(m, NULL, 0);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    return mutex_lock(m, NULL, 1);
}

int pthread_mutex_timedlock(pthread_mutex_t *restrict m, const struct timespec *restrict at)
{
    return mutex_lock(m, at, 0);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) {
        if (M_OWNER(m) != owner_id())
            return EPERM;
        if (--M_DEPTH(m) > 0)
            return 0;
        M_OWNER(m) = 0;
    }
    unlock_word(M_LOCK(m));
    return 0;
}

/* ---- condition variables: __vi[0] a sequence number, __i[1] the clock ---- */

/* clockid_t is a pointer in WASI: attributes and conditions keep 0 or 1. */
#define CLOCK_CODE_MONOTONIC 1

static clockid_t clock_of(int code)
{
    return code == CLOCK_CODE_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int pthread_condattr_init(pthread_condattr_t *a)
{
    a->__attr = 0;
    return 0;
}

int pthread_condattr_destroy(pthread_condattr_t *a)
{
    return 0;
}

int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t clock)
{
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
        return EINVAL;
    a->__attr = clock == CLOCK_MONOTONIC ? CLOCK_CODE_MONOTONIC : 0;
    return 0;
}

int pthread_condattr_getclock(const pthread_condattr_t *restrict a, clockid_t *restrict clock)
{
    *clock = clock_of(a->__attr);
    return 0;
}

int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
    memset(c, 0, sizeof *c);
    if (a)
        c->__u.__i[1] = a->__attr;
    return 0;
}

int pthread_cond_destroy(pthread_cond_t *c)
{
    return 0;
}

int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                           const struct timespec *restrict at)
{
    if (at && !valid_timespec(at))
        return EINVAL;
    clockid_t clock = clock_of(c->__u.__i[1]);
    int seq = __atomic_load_n(&c->__u.__vi[0], __ATOMIC_ACQUIRE);
    int r = pthread_mutex_unlock(m);
    if (r)
        return r;
    int64_t timeout = at ? ns_until(clock, at) : -1;
    if (timeout != 0)
        wait_word(&c->__u.__vi[0], seq, timeout);
    /* The mutex is taken again whatever happened; a wake-up may be spurious. */
    mutex_lock(m, NULL, 0);
    if (at && __atomic_load_n(&c->__u.__vi[0], __ATOMIC_ACQUIRE) == seq && ns_until(clock, at) == 0)
        return ETIMEDOUT;
    return 0;
}

int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
    return pthread_cond_timedwait(c, m, NULL);
}

int pthread_cond_signal(pthread_cond_t *c)
{
    __atomic_fetch_add(&c->__u.__vi[0], 1, __ATOMIC_RELEASE);
    wake_word(&c->__u.__vi[0], 1);
    return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
    __atomic_fetch_add(&c->__u.__vi[0], 1, __ATOMIC_RELEASE);
    wake_word(&c->__u.__vi[0], UINT32_MAX);
    return 0;
}

/* ---- once: 0 not yet, 1 running, 2 done ---- */

int pthread_once(pthread_once_t *once, void (*fn)(void))
{
    volatile int *w = (volatile int *)once;
    for (;;) {
        int s = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        if (s == 2)
            return 0;
        if (s == 0) {
            if (__atomic_compare_exchange_n(w, &s, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                fn();
                __atomic_store_n(w, 2, __ATOMIC_RELEASE);
                wake_word(w, UINT32_MAX);
                return 0;
            }
            continue;
        }
        wait_word(w, 1, -1);
    }
}

/* ---- spin locks ---- */

int pthread_spin_init(pthread_spinlock_t *s, int shared)
{
    *s = 0;
    return 0;
}

int pthread_spin_destroy(pthread_spinlock_t *s)
{
    return 0;
}

int pthread_spin_lock(pthread_spinlock_t *s)
{
    while (__atomic_exchange_n((volatile int *)s, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    return 0;
}

int pthread_spin_trylock(pthread_spinlock_t *s)
{
    return __atomic_exchange_n((volatile int *)s, 1, __ATOMIC_ACQUIRE) ? EBUSY : 0;
}

int pthread_spin_unlock(pthread_spinlock_t *s)
{
    __atomic_store_n((volatile int *)s, 0, __ATOMIC_RELEASE);
    return 0;
}

/* ---- thread-specific data ---- */

#define KEY_FREE ((void (*)(void *))0)
#define KEY_NO_DESTRUCTOR ((void (*)(void *))1)

static volatile int keys_lock;
static void (*key_destructors[PTHREAD_KEYS_MAX])(void *);
static _Thread_local void *key_values[PTHREAD_KEYS_MAX];

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
    lock_word(&keys_lock, NULL);
    for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
        if (key_destructors[k] == KEY_FREE) {
            key_destructors[k] = destructor ? destructor : KEY_NO_DESTRUCTOR;
            unlock_word(&keys_lock);
            *key = k;
            return 0;
        }
    }
    unlock_word(&keys_lock);
    return EAGAIN;
}

int pthread_key_delete(pthread_key_t key)
{
    if (key >= PTHREAD_KEYS_MAX)
        return EINVAL;
    lock_word(&keys_lock, NULL);
    key_destructors[key] = KEY_FREE;
    unlock_word(&keys_lock);
    return 0;
}

void *pthread_getspecific(pthread_key_t key)
{
    return key < PTHREAD_KEYS_MAX ? key_values[key] : NULL;
}

int pthread_setspecific(pthread_key_t key, const void *value)
{
    if (key >= PTHREAD_KEYS_MAX)
        return EINVAL;
    key_values[key] = (void *)value;
    return 0;
}

static void run_key_destructors(void)
{
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
        int again = 0;
        for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
            void *v = key_values[k];
            void (*d)(void *) = key_destructors[k];
            if (v && d != KEY_FREE && d != KEY_NO_DESTRUCTOR) {
                key_values[k] = NULL;
                d(v);
                again = 1;
            }
        }
        if (!again)
            break;
    }
}
