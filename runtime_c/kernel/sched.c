/*
 * sched.c: the built-in kernel's scheduler, all of its policy and none of
 * the architecture: the thread pool, the ready lists, the delayed list, the
 * futex waiters, periodic release, join/exit, and the choice of the thread
 * that runs next.  port_cortexm.c does the switching it asks for.
 *
 * Data structures (FreeRTOS's shape, sized for a few threads):
 *   - one FIFO ready list per priority plus a 32-bit map of non-empty lists:
 *     the next thread is the head of the highest non-empty list, found with
 *     one count-leading-zeros.  The idle thread sits alone at priority 0, so
 *     the map is never empty.  The running thread stays in its list (at its
 *     head, unless it yielded or its slice ended, which move it to the tail;
 *     a preempted thread keeps its place, as SCHED_FIFO requires);
 *   - one delayed list sorted by deadline (ns, 64-bit: it never wraps, so the
 *     two-list swap a 32-bit tick counter needs does not exist here); the tick
 *     looks only at its head;
 *   - one FIFO list of futex waiters (memory.atomic.notify wakes oldest first).
 * Every function that changes these runs inside a critical section; the ones
 * that can make another thread the best call reschedule(), which names it
 * in waft_os__sched.next and pends the switch.  The switch happens when the
 * critical section ends (thread code) or when the last interrupt returns.
 */
#include <stddef.h>

#include "kernel_port.h"

/* The port's switch code reads these offsets (kernel_port.h). */
_Static_assert(offsetof(waft_os_thread, sp) == 0, "PendSV reads sp at offset 0");
_Static_assert(offsetof(waft_os_thread, stack_limit) == 4, "PendSV reads stack_limit at offset 4");
_Static_assert(offsetof(waft_os_thread, trap_current) == 8, "PendSV reads trap_current at offset 8");
_Static_assert(offsetof(waft_os_thread, stack_low) == 12, "PendSV reads stack_low at offset 12");
_Static_assert(offsetof(waft_os_sched, next) == 4, "PendSV reads next at offset 4");

/* The idle thread only sleeps the core; interrupts stack onto it. */
#define IDLE_STACK_SIZE 512u
/* Pooled stacks: slot 0 is the main thread, which keeps the main stack. */
#define POOL_STACKS (WAFT_MAX_THREADS > 1 ? WAFT_MAX_THREADS - 1 : 1)

waft_os_sched waft_os__sched;

static waft_os_thread threads[WAFT_MAX_THREADS];
static waft_os_thread idle_thread;
static uint64_t pool_stacks[POOL_STACKS][WAFT_OS_STACK_SIZE / 8]; /* uint64_t: 8-byte aligned */
static uint64_t idle_stack[IDLE_STACK_SIZE / 8];
static waft_os_link ready[WAFT_OS_PRIORITY_MAX + 1];
static uint32_t ready_map; /* bit p: ready[p] is not empty */
static waft_os_link delayed;
static waft_os_link waiters;
static bool started;
/* Round robin: whose slice the tick is counting down, and what is left. */
static waft_os_thread *slice_owner;
static uint32_t slice_left;

#define THREAD_OF(node, field) ((waft_os_thread *)((char *)(node) - offsetof(waft_os_thread, field)))

/* --- lists ---------------------------------------------------------------- */

static void list_init(waft_os_link *l) { l->next = l->prev = l; }
static bool list_empty(const waft_os_link *l) { return l->next == l; }

static void list_insert_before(waft_os_link *pos, waft_os_link *n) {
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
}

/* Unlink `n` (a no-op when it is not linked: unlinked nodes point to themselves). */
static void list_remove(waft_os_link *n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* --- ready lists ----------------------------------------------------------- */

static void ready_add(waft_os_thread *t) {
    list_insert_before(&ready[t->priority], &t->link);
    ready_map |= 1u << t->priority;
    t->state = WAFT_OS_READY;
}

static void ready_remove(waft_os_thread *t) {
    list_remove(&t->link);
    if (list_empty(&ready[t->priority])) ready_map &= ~(1u << t->priority);
}

/* Name the best ready thread as next, and ask for a switch when it is not
 * the running one. */
static void reschedule(void) {
    unsigned top = 31u - (unsigned)__builtin_clz(ready_map);
    waft_os_thread *best = THREAD_OF(ready[top].next, link);
    waft_os__sched.next = best;
    if (best != waft_os__sched.current) waft_port_pend_switch();
}

/* --- timers and wake-ups --------------------------------------------------- */

static void delay_add(waft_os_thread *t, uint64_t deadline) {
    t->deadline = deadline;
    waft_os_link *pos = delayed.next;
    while (pos != &delayed && THREAD_OF(pos, delay_link)->deadline <= deadline) pos = pos->next;
    list_insert_before(pos, &t->delay_link); /* equal deadlines wake in the order they slept */
}

/* Make a blocked thread ready again; `result` is what its blocking call returns. */
static void wake(waft_os_thread *t, int32_t result) {
    list_remove(&t->delay_link);
    if (t->state == WAFT_OS_WAITING) list_remove(&t->link);
    if (t->state == WAFT_OS_JOINING) ((waft_os_thread *)t->wait_addr)->joiner = NULL;
    t->wake_result = result;
    ready_add(t);
}

/* Take the running thread off the ready lists into `state`, with a deadline
 * unless it is WAFT_OS_FOREVER, and switch away. */
static void block_current(waft_os_state state, uint64_t deadline) {
    waft_os_thread *cur = waft_os__sched.current;
    ready_remove(cur);
    cur->state = (uint8_t)state;
    cur->wake_result = WAFT_OS_OK;
    if (deadline != WAFT_OS_FOREVER) delay_add(cur, deadline);
    reschedule();
}

void waft_os__tick(uint64_t now_ns) {
    if (!started) return;
    waft_os_irq_state s = waft_os_critical_enter();
    while (!list_empty(&delayed)) {
        waft_os_thread *t = THREAD_OF(delayed.next, delay_link);
        if (t->deadline > now_ns) break;
        int32_t result = t->state == WAFT_OS_WAITING   ? WAFT_OS_WAIT_TIMED_OUT
                         : t->state == WAFT_OS_JOINING ? WAFT_OS_ETIMEDOUT
                                                       : WAFT_OS_OK;
        wake(t, result);
    }
    /* Round robin: at the end of its slice the running thread goes behind the
     * other ready threads of its priority. */
    waft_os_thread *cur = waft_os__sched.current;
    if (cur != slice_owner) {
        slice_owner = cur;
        slice_left = WAFT_OS_TIMESLICE_TICKS;
    }
    if (--slice_left == 0) {
        slice_left = WAFT_OS_TIMESLICE_TICKS;
        if (cur->state == WAFT_OS_READY && cur->link.next != cur->link.prev) {
            list_remove(&cur->link);
            list_insert_before(&ready[cur->priority], &cur->link);
        }
    }
    reschedule();
    waft_os_critical_exit(s);
}

/* --- start ------------------------------------------------------------------ */

static void thread_reset(waft_os_thread *t, uint8_t priority) {
    *t = (waft_os_thread){.priority = priority};
    list_init(&t->link);
    list_init(&t->delay_link);
}

static uint32_t idle_main(void *arg) {
    (void)arg;
    for (;;) waft_port_idle();
    return 0; /* never reached; says so to the compiler */
}

int waft_os_init(uint8_t priority) {
    if (started || priority == 0 || priority > WAFT_OS_PRIORITY_MAX) return WAFT_OS_EINVAL;
    for (unsigned p = 0; p <= WAFT_OS_PRIORITY_MAX; p++) list_init(&ready[p]);
    list_init(&delayed);
    list_init(&waiters);

    thread_reset(&idle_thread, 0);
    idle_thread.stack_low = (uintptr_t)idle_stack;
    idle_thread.stack_limit = (uintptr_t)idle_stack; /* it never runs Wasm */
    idle_thread.sp = waft_port_frame((uintptr_t)idle_stack, sizeof idle_stack, idle_main, NULL);
    idle_thread.detached = 1;
    ready_add(&idle_thread);

    waft_os_thread *main_thread = &threads[0];
    thread_reset(main_thread, priority);
    main_thread->detached = 1; /* nobody joins main; its slot is never reused */
    ready_add(main_thread);
    waft_os__sched.current = waft_os__sched.next = main_thread;
    waft_port_start(main_thread);
    started = true;
    return WAFT_OS_OK;
}

/* --- threads ----------------------------------------------------------------- */

/* Is `t` one of the pool's control blocks? */
static bool in_pool(const waft_os_thread *t) {
    uintptr_t off = (uintptr_t)t - (uintptr_t)threads;
    return (uintptr_t)t >= (uintptr_t)threads && off < sizeof threads && off % sizeof *t == 0;
}

/* A slot a new thread may take: never used, or a detached thread that ended
 * and is no longer on the core (its stack is not in use any more). */
static bool slot_free(const waft_os_thread *t) {
    return t->state == WAFT_OS_FREE ||
           (t->state == WAFT_OS_EXITED && t->detached && t != waft_os__sched.current);
}

int waft_os_thread_create(waft_os_thread **out, const waft_os_thread_attr *attr,
                          uint32_t (*entry)(void *arg), void *arg) {
    if (!started || entry == NULL) return WAFT_OS_EINVAL;
    uint8_t priority = attr->priority ? attr->priority : waft_os__sched.current->priority;
    if (priority == 0 || priority > WAFT_OS_PRIORITY_MAX) return WAFT_OS_EINVAL;
    if (attr->stack != NULL) {
        if (attr->stack_size <= WAFT_STACK_MARGIN || ((uintptr_t)attr->stack & 7u) != 0) return WAFT_OS_EINVAL;
    } else if (attr->stack_size > WAFT_OS_STACK_SIZE) {
        return WAFT_OS_EINVAL;
    }
    waft_os_irq_state s = waft_os_critical_enter();
    waft_os_thread *t = NULL;
    unsigned slot;
    for (slot = 1; slot < WAFT_MAX_THREADS; slot++) {
        if (slot_free(&threads[slot])) {
            t = &threads[slot];
            break;
        }
    }
    if (t == NULL) {
        waft_os_critical_exit(s);
        return WAFT_OS_EAGAIN;
    }
    uintptr_t low = attr->stack ? (uintptr_t)attr->stack : (uintptr_t)pool_stacks[slot - 1];
    uint32_t size = attr->stack ? attr->stack_size : WAFT_OS_STACK_SIZE;
    thread_reset(t, priority);
    t->stack_low = low;
    t->stack_limit = low + WAFT_STACK_MARGIN;
    t->sp = waft_port_frame(low, size, entry, arg);
    t->detached = attr->detached;
    *out = t; /* before the thread can run */
    ready_add(t);
    reschedule();
    waft_os_critical_exit(s);
    return WAFT_OS_OK;
}

waft_os_thread *waft_os_current(void) { return waft_os__sched.current; }

void waft_os_yield(void) {
    if (waft_os_in_isr()) return;
    waft_os_irq_state s = waft_os_critical_enter();
    waft_os_thread *cur = waft_os__sched.current;
    list_remove(&cur->link);
    list_insert_before(&ready[cur->priority], &cur->link);
    reschedule();
    waft_os_critical_exit(s);
}

/* A thread that set_priority/get_priority may name: alive, in the pool. */
static bool alive(const waft_os_thread *t) {
    return in_pool(t) && t->state != WAFT_OS_FREE && t->state != WAFT_OS_EXITED;
}

int waft_os_set_priority(waft_os_thread *t, uint8_t priority) {
    if (priority == 0 || priority > WAFT_OS_PRIORITY_MAX) return WAFT_OS_EINVAL;
    waft_os_irq_state s = waft_os_critical_enter();
    if (t == NULL) t = waft_os__sched.current;
    if (!alive(t)) {
        waft_os_critical_exit(s);
        return WAFT_OS_ESRCH;
    }
    if (t->priority != priority) {
        if (t->state == WAFT_OS_READY) {
            ready_remove(t);
            t->priority = priority;
            ready_add(t);
            reschedule();
        } else {
            t->priority = priority; /* takes effect when it becomes ready */
        }
    }
    waft_os_critical_exit(s);
    return WAFT_OS_OK;
}

int waft_os_get_priority(waft_os_thread *t) {
    waft_os_irq_state s = waft_os_critical_enter();
    if (t == NULL) t = waft_os__sched.current;
    int result = alive(t) ? t->priority : WAFT_OS_ESRCH;
    waft_os_critical_exit(s);
    return result;
}

WAFT_NORETURN void waft_os__thread_main(void *arg, uint32_t (*entry)(void *)) { waft_os_exit(entry(arg)); }

WAFT_NORETURN void waft_os_exit(uint32_t status) {
    if (waft_os_in_isr()) {
        waft_port_write_error("waft: kernel: waft_os_exit called from an interrupt handler\n");
        waft_port_exit(WAFT_TRAP_EXIT_STATUS);
    }
    (void)waft_os_critical_enter();
    waft_os_thread *cur = waft_os__sched.current;
    ready_remove(cur);
    cur->state = WAFT_OS_EXITED;
    cur->exit_status = status;
    if (cur->joiner != NULL) wake(cur->joiner, WAFT_OS_OK);
    reschedule();
    /* Unmask whatever the caller held: the switch away must happen now. */
    waft_os_critical_exit(0);
    for (;;) {
    }
}

/* Blocking calls: refused from interrupts and inside critical sections
 * (where the switch could not happen). */
static bool may_block(waft_os_irq_state s) { return s == 0 && !waft_os_in_isr(); }

int waft_os_join(waft_os_thread *t, uint64_t deadline_ns, uint32_t *status) {
    waft_os_thread *cur = waft_os__sched.current;
    if (t == NULL || t == cur) return WAFT_OS_EDEADLK;
    waft_os_irq_state s = waft_os_critical_enter();
    int result = WAFT_OS_OK;
    if (!may_block(s)) {
        result = WAFT_OS_EPERM;
    } else if (!in_pool(t) || t->state == WAFT_OS_FREE) {
        result = WAFT_OS_ESRCH;
    } else if (t->detached || t->joiner != NULL) {
        result = WAFT_OS_EINVAL;
    } else if (t->state != WAFT_OS_EXITED) {
        if (deadline_ns != WAFT_OS_FOREVER && deadline_ns <= waft_os_now_ns()) {
            result = WAFT_OS_ETIMEDOUT;
        } else {
            t->joiner = cur;
            cur->wait_addr = t;
            block_current(WAFT_OS_JOINING, deadline_ns);
            waft_os_critical_exit(s); /* switches away; back when t ended or the deadline passed */
            s = waft_os_critical_enter();
            result = cur->wake_result;
        }
    }
    if (result == WAFT_OS_OK) {
        if (status != NULL) *status = t->exit_status;
        t->state = WAFT_OS_FREE;
    }
    waft_os_critical_exit(s);
    return result;
}

/* --- time ------------------------------------------------------------------- */

/* Sleep inside a critical section the caller entered with `s` (which may block). */
static void sleep_locked(waft_os_irq_state s, uint64_t deadline_ns) {
    if (deadline_ns > waft_os_now_ns()) block_current(WAFT_OS_SLEEPING, deadline_ns);
    waft_os_critical_exit(s);
}

int waft_os_sleep_until(uint64_t deadline_ns) {
    waft_os_irq_state s = waft_os_critical_enter();
    if (!may_block(s)) {
        waft_os_critical_exit(s);
        return WAFT_OS_EPERM;
    }
    sleep_locked(s, deadline_ns);
    return WAFT_OS_OK;
}

int waft_os_set_period(uint64_t period_ns, uint64_t first_release_ns) {
    if (waft_os_in_isr()) return WAFT_OS_EPERM; /* it would change the interrupted thread */
    waft_os_thread *cur = waft_os__sched.current;
    if (period_ns == 0) {
        cur->period = 0;
        return WAFT_OS_OK;
    }
    if (period_ns < waft_os_tick_ns()) return WAFT_OS_EINVAL;
    uint64_t now = waft_os_now_ns();
    uint64_t next = first_release_ns;
    if (next < now) next += (now - next + period_ns - 1) / period_ns * period_ns; /* first grid point not passed */
    cur->period = period_ns;
    cur->next_release = next;
    return WAFT_OS_OK;
}

int waft_os_wait_period(uint32_t *missed) {
    waft_os_thread *cur = waft_os__sched.current;
    if (cur->period == 0) return WAFT_OS_EINVAL;
    waft_os_irq_state s = waft_os_critical_enter();
    if (!may_block(s)) {
        waft_os_critical_exit(s);
        return WAFT_OS_EPERM;
    }
    uint64_t now = waft_os_now_ns();
    uint64_t release = cur->next_release;
    uint32_t lost = 0;
    if (now >= release) {
        /* Releases at `release`, `release + period`... up to now went by while
         * the thread ran: skip them and wait for the first one ahead. */
        uint64_t passed = (now - release) / cur->period + 1u;
        release += passed * cur->period;
        lost = (uint32_t)(passed > UINT32_MAX ? UINT32_MAX : passed);
    }
    cur->next_release = release + cur->period;
    if (missed != NULL) *missed = lost;
    sleep_locked(s, release);
    return WAFT_OS_OK;
}

/* --- futex-style wait/notify --------------------------------------------------- */

/* Block on `addr` (inside the critical section `s`) once the caller has seen
 * the expected value there. */
static int wait_locked(waft_os_irq_state s, const volatile void *addr, uint64_t deadline_ns) {
    /* No clock read for "never": it costs a 64-bit division. */
    if (deadline_ns != WAFT_OS_FOREVER && deadline_ns <= waft_os_now_ns()) {
        waft_os_critical_exit(s);
        return WAFT_OS_WAIT_TIMED_OUT;
    }
    waft_os_thread *cur = waft_os__sched.current;
    cur->wait_addr = addr;
    block_current(WAFT_OS_WAITING, deadline_ns);
    list_insert_before(&waiters, &cur->link); /* block_current took it off the ready list */
    waft_os_critical_exit(s);                 /* switches away until notified or timed out */
    return cur->wake_result == WAFT_OS_OK ? WAFT_OS_WAIT_OK : cur->wake_result;
}

int waft_os_wait32(const volatile uint32_t *addr, uint32_t expected, uint64_t deadline_ns) {
    waft_os_irq_state s = waft_os_critical_enter();
    if (!may_block(s)) {
        waft_os_critical_exit(s);
        return WAFT_OS_EPERM;
    }
    if (*addr != expected) {
        waft_os_critical_exit(s);
        return WAFT_OS_WAIT_NOT_EQUAL;
    }
    return wait_locked(s, addr, deadline_ns);
}

int waft_os_wait64(const volatile uint64_t *addr, uint64_t expected, uint64_t deadline_ns) {
    waft_os_irq_state s = waft_os_critical_enter();
    if (!may_block(s)) {
        waft_os_critical_exit(s);
        return WAFT_OS_EPERM;
    }
    /* Two word loads, but on one core no other thread and no kernel-aware
     * interrupt runs inside the critical section: the compare is atomic
     * against every notifier. */
    if (*addr != expected) {
        waft_os_critical_exit(s);
        return WAFT_OS_WAIT_NOT_EQUAL;
    }
    return wait_locked(s, addr, deadline_ns);
}

uint32_t waft_os_notify(const volatile void *addr, uint32_t count) {
    uint32_t woken = 0;
    waft_os_irq_state s = waft_os_critical_enter();
    waft_os_link *n = waiters.next;
    while (n != &waiters && woken < count) {
        waft_os_link *following = n->next;
        waft_os_thread *t = THREAD_OF(n, link);
        if (t->wait_addr == addr) {
            wake(t, WAFT_OS_OK);
            woken++;
        }
        n = following;
    }
    if (woken) reschedule();
    waft_os_critical_exit(s);
    return woken;
}
