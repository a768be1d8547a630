/*
 * spawn.c: the thread pool of waft_threads.h — spawn, ids, join and exit, and
 * the rule that a trap or proc_exit in any thread ends the program — over
 * the OS port API (kernel.h).
 *
 * Also here, because they must be linked exactly when threads exist: the
 * multi-threaded versions of the runtime's blocking hooks (waft.h), which
 * replace the weak single-thread defaults in runtime_c/src:
 * memory.atomic.wait/notify on the port's futex-style queues, and
 * memory.grow's lock as a critical section, and the bare-metal WASI port's
 * lock, sleep and yield (runtime_c/wasi_p1/port_baremetal.h; unused on the
 * host, whose port is the OS's).
 */
#include "waft_threads.h"

#include <string.h>

/* wasi-threads: ids are in [1, 2^29); 1 is the main thread's. */
#define MAIN_TID 1
#define FIRST_SPAWNED_TID 2u
#define TID_LIMIT (1u << 29)

/* Negated errno values (WASI p1 numbering, as wasi-ext's errno). */
#define E_AGAIN (-6)
#define E_INVAL (-28)
#define E_NOTSUP (-58)
#define E_PERM (-63)
#define E_SRCH (-71)

int32_t waft_threads_init(waft_threads *threads, const waft_threads_module *module) {
    if (module->max_threads > WAFT_THREADS_POOL_LIMIT) {
        return WAFT_OS_EINVAL;
    }
    memset(threads, 0, sizeof *threads);
    threads->module = *module;
    threads->next_tid = FIRST_SPAWNED_TID;
    threads->main = (waft_threads_slot){.owner = threads, .os = waft_os_current(), .tid = MAIN_TID};
    for (uint32_t i = 0; i < WAFT_THREADS_POOL_LIMIT; i++) {
        threads->slots[i] = (waft_threads_slot){.owner = threads, .index = i};
    }
    return WAFT_OS_OK;
}

void waft_threads_set_memory(waft_threads *threads, waft_memory *memory) { threads->memory = memory; }

static void *slot_instance(waft_threads *threads, uint32_t index) {
    return (uint8_t *)threads->module.instances + (size_t)index * threads->module.instance_stride;
}

waft_threads_slot *waft_threads_current(waft_threads *threads) {
    waft_os_thread *me = waft_os_current();
    for (uint32_t i = 0; i < threads->module.max_threads; i++) {
        if (threads->slots[i].tid != 0 && threads->slots[i].os == me) {
            return &threads->slots[i];
        }
    }
    return &threads->main;
}

waft_threads_slot *waft_threads_find(waft_threads *threads, int32_t tid) {
    if (tid == 0) {
        return waft_threads_current(threads);
    }
    if (tid == MAIN_TID) {
        return &threads->main;
    }
    waft_threads_slot *found = NULL;
    waft_os_irq_state s = waft_os_critical_enter();
    for (uint32_t i = 0; i < threads->module.max_threads && found == NULL; i++) {
        if (threads->slots[i].tid == tid) {
            found = &threads->slots[i];
        }
    }
    waft_os_critical_exit(s);
    return found;
}

/* An id no live thread has: ids wrap within [2, 2^29) and skip the busy ones.
 * Called inside a critical section. */
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

static void free_slot(waft_threads_slot *slot) {
    waft_os_irq_state s = waft_os_critical_enter();
    slot->tid = 0;
    slot->os = NULL;
    waft_os_critical_exit(s);
}

/* A thread trapped or called proc_exit: the embedder ends the program; if its
 * callback came back anyway, stop here rather than run on. */
static WAFT_NORETURN void end_program(waft_threads *threads, waft_trap_code code) {
    threads->module.end_program(threads->module.user, code);
    waft_port_exit(WAFT_TRAP_EXIT_STATUS);
}

static void call_thread_start(void *slot_ptr, void *unused) {
    (void)unused;
    waft_threads_slot *slot = slot_ptr;
    waft_threads *threads = slot->owner;
    threads->module.thread_start(slot_instance(threads, slot->index), slot->tid, slot->start_arg);
}

/* The OS thread's body: wasi_thread_start behind the thread's own trap
 * boundary (the port gives each thread its own stack limit and trap chain). */
static uint32_t thread_entry(void *slot_ptr) {
    waft_threads_slot *slot = slot_ptr;
    waft_threads *threads = slot->owner;
    waft_trap_code code = waft_call_guarded(call_thread_start, slot, NULL);
    uint32_t status = 0;
    if (code == WAFT_TRAP_EXIT && slot->exiting) {
        status = slot->exit_status; /* wasi-ext exit: this thread only */
    } else if (code != WAFT_TRAP_NONE) {
        end_program(threads, code); /* ends every thread */
    }
    if (slot->detached) {
        free_slot(slot); /* nobody joins it: the instance is free again */
    }
    return status;
}

static void store32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* wasi-ext's result<tid, errno> in the guest's 8-byte return area. */
static void store_result(uint8_t *ret_area, int32_t value) {
    if (ret_area == NULL) {
        return;
    }
    ret_area[0] = value < 0;
    memset(ret_area + 1, 0, 7);
    if (value < 0) {
        ret_area[4] = (uint8_t)-value; /* errno (an enum of < 256 cases: one byte) */
    } else {
        store32(ret_area + 4, (uint32_t)value);
    }
}

int32_t waft_threads_spawn(waft_threads *threads, int32_t start_arg, uint8_t priority, uint32_t stack_size,
                           bool detached, uint8_t *ret_area) {
    int32_t result = 0;
    if (threads == NULL || threads->module.max_threads == 0 || threads->module.thread_start == NULL) {
        result = E_NOTSUP;
    } else if (priority > WAFT_OS_PRIORITY_MAX) {
        result = E_PERM;
    } else if (stack_size > WAFT_OS_STACK_SIZE) {
        result = E_INVAL;
    }
    if (result != 0) {
        store_result(ret_area, result);
        return result;
    }
    waft_os_irq_state s = waft_os_critical_enter();
    waft_threads_slot *slot = NULL;
    for (uint32_t i = 0; i < threads->module.max_threads && slot == NULL; i++) {
        if (threads->slots[i].tid == 0) {
            slot = &threads->slots[i];
        }
    }
    if (slot != NULL) {
        slot->tid = next_free_tid(threads);
        slot->start_arg = start_arg;
        slot->detached = detached;
        slot->exiting = false;
        slot->spawn_priority = 0;
        slot->spawn_stack_size = 0;
    }
    waft_os_critical_exit(s);
    if (slot == NULL) {
        store_result(ret_area, E_AGAIN);
        return E_AGAIN;
    }

    waft_trap_code code = threads->module.instantiate(slot_instance(threads, slot->index), threads->module.user);
    if (code != WAFT_TRAP_NONE) {
        end_program(threads, code);
    }
    int32_t tid = slot->tid;
    /* The id reaches the guest before the thread exists, so before it can run. */
    store_result(ret_area, tid);
    waft_os_thread_attr attr = {.priority = priority, .stack_size = stack_size, .detached = detached};
    int rc = waft_os_thread_create(&slot->os, &attr, thread_entry, slot);
    if (rc != WAFT_OS_OK) {
        free_slot(slot);
        store_result(ret_area, rc);
        return rc;
    }
    return tid;
}

int32_t waft_threads_join(waft_threads *threads, int32_t tid, uint64_t deadline_ns, uint32_t *status) {
    waft_threads_slot *me = waft_threads_current(threads);
    if (tid == 0 || tid == me->tid) {
        return WAFT_OS_EDEADLK;
    }
    waft_threads_slot *slot = waft_threads_find(threads, tid);
    if (slot == NULL) {
        return E_SRCH;
    }
    if (slot == &threads->main || slot->detached) {
        return E_INVAL;
    }
    int rc = waft_os_join(slot->os, deadline_ns, status);
    if (rc == WAFT_OS_OK) {
        free_slot(slot);
    }
    return rc;
}

WAFT_NORETURN void waft_threads_exit(waft_threads *threads, uint32_t status) {
    waft_threads_slot *me = waft_threads_current(threads);
    if (me == &threads->main) {
        waft_exit((int32_t)status); /* the main thread's exit is proc_exit: it ends every thread */
    }
    me->exit_status = status;
    me->exiting = true;
    waft_trap(WAFT_TRAP_EXIT); /* to thread_entry's trap frame, which ends only this thread */
}

int32_t wasi___thread_x2dspawn(void *ctx, int32_t start_arg) {
    waft_threads *threads = ctx;
    if (threads == NULL) {
        return E_NOTSUP;
    }
    waft_threads_slot *me = waft_threads_current(threads);
    return waft_threads_spawn(threads, start_arg, me->spawn_priority, me->spawn_stack_size, true, NULL);
}

/* --- the multi-threaded blocking hooks (waft.h) ---------------------------------- */

uint32_t waft_port_wait_block(volatile void *cell, uint64_t expected, uint32_t size, int64_t timeout_ns) {
    uint64_t deadline = WAFT_OS_FOREVER;
    if (timeout_ns >= 0) {
        uint64_t now = waft_os_now_ns();
        deadline = (uint64_t)timeout_ns > WAFT_OS_FOREVER - now - 1 ? WAFT_OS_FOREVER - 1 : now + (uint64_t)timeout_ns;
    }
    int rc = size == 8 ? waft_os_wait64((volatile uint64_t *)cell, expected, deadline)
                       : waft_os_wait32((volatile uint32_t *)cell, (uint32_t)expected, deadline);
    if (rc < 0) {
        waft_trap(WAFT_TRAP_HOST); /* blocking where the port cannot (an interrupt handler) */
    }
    return (uint32_t)rc;
}

uint32_t waft_port_wait_wake(volatile void *cell, uint32_t count) { return waft_os_notify(cell, count); }

/* Growth is rare and short: a critical section serialises it.  The state of
 * the outermost one is kept while it is held (nothing else can enter). */
static waft_os_irq_state grow_state;

void waft_port_memory_grow_lock(void) { grow_state = waft_os_critical_enter(); }

void waft_port_memory_grow_unlock(void) { waft_os_critical_exit(grow_state); }

/* --- the bare-metal WASI port (port_baremetal.h) ------------------------------------------------ */

/* The port lock: a futex mutex (Drepper, "Futexes Are Tricky", mutex 2:
 * 0 free, 1 held, 2 held and maybe waited for), taken at the immediate
 * priority ceiling: the holder runs at WAFT_OS_PRIORITY_MAX until it lets
 * go, so no thread of middle priority can keep it from finishing while a
 * more urgent one waits (unbounded priority inversion); a waiter blocks for
 * at most one filesystem operation.  The ceiling is the top of the module's
 * priorities, which are the kernel's own (ext_threads.c's priority-max).
 * An interrupt handler never waits: it takes the lock only when it is free. */
static volatile uint32_t wasi_lock_word;
static int wasi_lock_saved_priority; /* the holder's own priority; written only by the holder */

bool waft_port_wasi_lock(void) {
    uint32_t seen = 0;
    if (waft_os_in_isr()) {
        return __atomic_compare_exchange_n(&wasi_lock_word, &seen, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    }
    int own = waft_os_get_priority(NULL);
    (void)waft_os_set_priority(NULL, WAFT_OS_PRIORITY_MAX);
    if (!__atomic_compare_exchange_n(&wasi_lock_word, &seen, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if (seen != 2) seen = __atomic_exchange_n(&wasi_lock_word, 2, __ATOMIC_ACQUIRE);
        while (seen != 0) {
            (void)waft_os_wait32(&wasi_lock_word, 2, WAFT_OS_FOREVER);
            seen = __atomic_exchange_n(&wasi_lock_word, 2, __ATOMIC_ACQUIRE);
        }
    }
    wasi_lock_saved_priority = own;
    return true;
}

void waft_port_wasi_unlock(void) {
    bool in_isr = waft_os_in_isr();
    int own = wasi_lock_saved_priority;
    if (__atomic_exchange_n(&wasi_lock_word, 0, __ATOMIC_RELEASE) == 2) {
        (void)waft_os_notify(&wasi_lock_word, 1);
    }
    if (!in_isr && own > 0) {
        (void)waft_os_set_priority(NULL, (uint8_t)own); /* back down: a waiting thread above runs now */
    }
}

/* From an interrupt handler sleep_until answers EPERM at once: the caller
 * loops on the clock, as it must where nothing can block. */
void waft_port_wasi_sleep(uint64_t until_ns) { (void)waft_os_sleep_until(until_ns); }

void waft_port_wasi_yield(void) { waft_os_yield(); }
