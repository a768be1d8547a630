/*
 * kernel.h: the OS port API of the Waft runtime: threads, time, futex-style
 * wait/notify and critical sections, as the rest of the runtime (the
 * wasi-ext threads glue, memory.atomic.wait/notify) calls them.
 *
 * Three things implement this header:
 *   - the built-in kernel in this folder: a preemptive, fixed-priority
 *     scheduler for bare-metal Cortex-M (sched.c: every policy decision;
 *     port_cortexm.c: initial frame, PendSV switch, critical sections, idle);
 *   - host_posix.c: the host's, over POSIX threads (SCHED_FIFO priorities
 *     where the process may use them);
 *   - a vendor RTOS port (FreeRTOS, Zephyr, CMSIS-RTOS2), written by whoever
 *     needs one: docs/threads.md says, function by function, what each one
 *     maps to.  Such a port replaces sched.c and port_cortexm.c and keeps this
 *     header unchanged.
 *
 * The model:
 *   - Priorities 1 (lowest) .. WAFT_OS_PRIORITY_MAX, higher more urgent, as in
 *     FreeRTOS and CMSIS-RTOS2.  0 is never a thread's priority; where a
 *     priority is given for a new thread, 0 means "the caller's".  A ready
 *     thread of higher priority preempts a lower one at once (from thread
 *     code and from interrupts alike); equal priorities share the core
 *     round-robin, one time slice (WAFT_OS_TIMESLICE_TICKS ticks) each.
 *   - Time is the monotonic clock in nanoseconds (waft_os_now_ns, the same
 *     clock as WASI p1's monotonic clock); every deadline is absolute on it,
 *     UINT64_MAX means "never".  A ticked kernel wakes a thread at the first
 *     tick at or after its deadline (waft_os_tick_ns: 1 ms on Cortex-M).
 *   - Nothing is allocated at run time: thread control blocks come from a
 *     static pool of WAFT_MAX_THREADS, native stacks from a static pool of
 *     WAFT_MAX_THREADS stacks of WAFT_OS_STACK_SIZE bytes or from the caller.
 *   - Per-thread state the generated code and the trap path read: switching
 *     threads switches the global waft_stack_limit (to the incoming thread's
 *     stack low end + WAFT_STACK_MARGIN) and the trap-frame chain
 *     waft_trap_current (saved in the outgoing thread, restored from the
 *     incoming one), so each thread has its own stack check and its own
 *     innermost waft_call_guarded.  An RTOS port must do the same in its
 *     context-switch hook (FreeRTOS traceTASK_SWITCHED_IN, Zephyr
 *     z_thread_mark_switched_in / arch_swap, RTX osRtxThreadSwitch hook).
 *   - Interrupts: functions marked "ISR-safe" may be called from interrupt
 *     handlers whose priority is at or below the kernel's ceiling
 *     (Cortex-M: an NVIC priority value numerically >= WAFT_OS_SYSCALL_PRIORITY
 *     on Armv7-M/Armv8-M Mainline; any priority on Armv6-M, where critical
 *     sections mask everything).  Handlers above the ceiling are never
 *     delayed by the kernel and must not call it.  Blocking functions answer
 *     WAFT_OS_EPERM from an interrupt or inside a critical section.
 *
 * Error results are negated WASI p1 errno values (wasi-ext's errno), so the
 * glue passes them through: 0 success, -6 again, -16 deadlk, -28 inval,
 * -63 perm, -71 srch, -73 timedout.
 *
 * Build options (define with -D for the kernel's sources; the header checks
 * that they are sane):
 *   WAFT_MAX_THREADS          thread pool size, the main thread included,
 *                             the idle thread not (default 4)
 *   WAFT_OS_STACK_SIZE        bytes of each pooled stack (default 4096 on
 *                             boards, 1 MiB on the host);
 *                             must exceed WAFT_STACK_MARGIN
 *   WAFT_OS_ISR_STACK_SIZE    bytes of the interrupt (main) stack handlers run
 *                             on once the kernel has started (default 1024)
 *   WAFT_OS_PRIORITY_MAX      the highest thread priority, 1..31 (default 31)
 *   WAFT_OS_TIMESLICE_TICKS   ticks a thread runs before an equal-priority
 *                             ready thread gets the core (default 1)
 *   WAFT_OS_SYSCALL_PRIORITY  Armv7-M/Armv8-M Mainline: the BASEPRI value of
 *                             a critical section (default 0x40): interrupts of
 *                             that priority value and higher numbers are masked
 */
#ifndef WAFT_KERNEL_H
#define WAFT_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "waft.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WAFT_MAX_THREADS
#define WAFT_MAX_THREADS 4
#endif
#ifndef WAFT_OS_STACK_SIZE
#if defined(WAFT_PORT_HOST)
#define WAFT_OS_STACK_SIZE (1024u * 1024u) /* the host's WAFT_STACK_MARGIN alone is 64 KiB */
#else
#define WAFT_OS_STACK_SIZE 4096u
#endif
#endif
#ifndef WAFT_OS_ISR_STACK_SIZE
#define WAFT_OS_ISR_STACK_SIZE 1024u
#endif
#ifndef WAFT_OS_PRIORITY_MAX
#define WAFT_OS_PRIORITY_MAX 31
#endif
#ifndef WAFT_OS_TIMESLICE_TICKS
#define WAFT_OS_TIMESLICE_TICKS 1
#endif
#ifndef WAFT_OS_SYSCALL_PRIORITY
#define WAFT_OS_SYSCALL_PRIORITY 0x40
#endif

#if WAFT_MAX_THREADS < 1
#error "kernel.h: WAFT_MAX_THREADS must be at least 1 (the main thread)"
#endif
#if WAFT_OS_PRIORITY_MAX < 1 || WAFT_OS_PRIORITY_MAX > 31
#error "kernel.h: WAFT_OS_PRIORITY_MAX must be 1..31 (one bit of a 32-bit ready map each; bit 0 is the idle thread)"
#endif
#if WAFT_OS_STACK_SIZE <= WAFT_STACK_MARGIN
#error "kernel.h: WAFT_OS_STACK_SIZE must exceed WAFT_STACK_MARGIN: the whole stack would be margin"
#endif
#if (WAFT_OS_STACK_SIZE % 8) != 0 || (WAFT_OS_ISR_STACK_SIZE % 8) != 0
#error "kernel.h: stack sizes must be multiples of 8 bytes (AAPCS stack alignment)"
#endif
#if WAFT_OS_TIMESLICE_TICKS < 1
#error "kernel.h: WAFT_OS_TIMESLICE_TICKS must be at least 1"
#endif

/* Results: 0 or a negated WASI p1 errno. */
#define WAFT_OS_OK 0
#define WAFT_OS_EAGAIN (-6)     /* thread pool exhausted */
#define WAFT_OS_EDEADLK (-16)   /* join of the calling thread itself */
#define WAFT_OS_EINVAL (-28)    /* a bad argument: priority, stack, period, detached join... */
#define WAFT_OS_EPERM (-63)     /* blocking from an interrupt or inside a critical section */
#define WAFT_OS_ESRCH (-71)     /* no such thread (freed slot) */
#define WAFT_OS_ETIMEDOUT (-73) /* the deadline passed first */

/* waft_os_wait32/64 results: memory.atomic.wait's own values. */
#define WAFT_OS_WAIT_OK 0        /* woken by waft_os_notify */
#define WAFT_OS_WAIT_NOT_EQUAL 1 /* the value differed: did not block */
#define WAFT_OS_WAIT_TIMED_OUT 2 /* the deadline passed */

/* Deadline meaning "never". */
#define WAFT_OS_FOREVER UINT64_MAX

/* A thread: opaque; valid from create until its slot is freed (a detached
 * thread's when it ends, a joinable one's when waft_os_join collects it). */
typedef struct waft_os_thread waft_os_thread;

/* What waft_os_thread_create makes. */
typedef struct waft_os_thread_attr {
    uint8_t priority;    /* 1..WAFT_OS_PRIORITY_MAX; 0: the caller's */
    uint32_t stack_size; /* with `stack`: its size; without: at most WAFT_OS_STACK_SIZE (0: that) */
    void *stack;         /* NULL: the slot's pooled stack; else the caller's, 8-byte aligned, lowest address */
    bool detached;       /* the slot is freed when the thread ends: nobody will join it */
} waft_os_thread_attr;

/* The saved interrupt mask of a critical section. */
typedef uint32_t waft_os_irq_state;

/* --- start ------------------------------------------------------------- */

/* Turn the caller (main(), running on the main stack from reset) into the
 * main thread at `priority`, create the idle thread, give PendSV and the tick
 * the lowest interrupt priority and start the tick.  Call once, from thread
 * mode, before anything else here; returns WAFT_OS_OK or WAFT_OS_EINVAL (bad
 * priority, or called twice).  Cortex-M: the main thread moves to the process
 * stack pointer (same stack, same memory) and interrupt handlers get their
 * own stack of WAFT_OS_ISR_STACK_SIZE bytes. */
int waft_os_init(uint8_t priority);

/* --- threads ------------------------------------------------------------ */

/* Create a thread running `entry(arg)`; its return value is its exit status.
 * `*out` is written before the thread can run, so a child that preempts its
 * creator at once is already known to it.  ISR-safe.
 * Errors: WAFT_OS_EAGAIN (pool exhausted), WAFT_OS_EINVAL (priority above
 * WAFT_OS_PRIORITY_MAX, a pooled stack_size above WAFT_OS_STACK_SIZE, a
 * caller stack not larger than WAFT_STACK_MARGIN or misaligned). */
int waft_os_thread_create(waft_os_thread **out, const waft_os_thread_attr *attr,
                          uint32_t (*entry)(void *arg), void *arg);

/* The calling thread (from an interrupt: the thread it interrupted). */
waft_os_thread *waft_os_current(void);

/* Go behind the other ready threads of the caller's priority (p1 sched_yield). */
void waft_os_yield(void);

/* Change the priority of `t` (NULL: the caller).  A thread lowered below a
 * ready one yields at once; one raised above the running one preempts it.
 * ISR-safe.  Errors: WAFT_OS_EINVAL (0 or above WAFT_OS_PRIORITY_MAX),
 * WAFT_OS_ESRCH (a thread that has ended). */
int waft_os_set_priority(waft_os_thread *t, uint8_t priority);

/* The priority of `t` (NULL: the caller), or WAFT_OS_ESRCH. */
int waft_os_get_priority(waft_os_thread *t);

/* End the calling thread with `status` (what waft_os_join returns). */
WAFT_NORETURN void waft_os_exit(uint32_t status);

/* Wait until `t` ends (or `deadline_ns` passes), store its status (unless
 * `status` is NULL) and free its slot.  Errors: WAFT_OS_EDEADLK (the
 * caller), WAFT_OS_EINVAL (detached, or already being joined),
 * WAFT_OS_ESRCH, WAFT_OS_ETIMEDOUT, WAFT_OS_EPERM. */
int waft_os_join(waft_os_thread *t, uint64_t deadline_ns, uint32_t *status);

/* --- time ---------------------------------------------------------------- */

/* The monotonic clock, ns.  ISR-safe. */
uint64_t waft_os_now_ns(void);

/* The scheduler's time granularity in ns (one tick). */
uint64_t waft_os_tick_ns(void);

/* Block until the clock reaches `deadline_ns`; returns at once (WAFT_OS_OK)
 * when it has passed.  Errors: WAFT_OS_EPERM. */
int waft_os_sleep_until(uint64_t deadline_ns);

/* Release the calling thread at first_release_ns + k * period_ns (k = 0, 1,
 * ...); a first release in the past anchors the grid there.  period_ns 0
 * makes it aperiodic again.  Errors: WAFT_OS_EINVAL (a period below one
 * tick), WAFT_OS_EPERM (from an interrupt). */
int waft_os_set_period(uint64_t period_ns, uint64_t first_release_ns);

/* Block until the next release; store in *missed how many releases passed
 * since the previous waft_os_wait_period returned (0: the loop kept up).
 * Missed releases are skipped, not queued.  Errors: WAFT_OS_EINVAL (not
 * periodic), WAFT_OS_EPERM. */
int waft_os_wait_period(uint32_t *missed);

/* --- futex-style wait/notify (memory.atomic.wait32/64, memory.atomic.notify) */

/* If *addr == expected, block until a waft_os_notify on `addr` or the
 * deadline; else return WAFT_OS_WAIT_NOT_EQUAL at once.  The compare and the
 * enqueue are one atomic step against notifiers.  Returns WAFT_OS_WAIT_OK,
 * WAFT_OS_WAIT_NOT_EQUAL, WAFT_OS_WAIT_TIMED_OUT or WAFT_OS_EPERM. */
int waft_os_wait32(const volatile uint32_t *addr, uint32_t expected, uint64_t deadline_ns);
int waft_os_wait64(const volatile uint64_t *addr, uint64_t expected, uint64_t deadline_ns);

/* Wake up to `count` threads waiting on `addr`, oldest first; returns how
 * many were woken.  ISR-safe. */
uint32_t waft_os_notify(const volatile void *addr, uint32_t count);

/* --- critical sections --------------------------------------------------- */

/* Mask the interrupts that may call the kernel (Cortex-M: BASEPRI at
 * WAFT_OS_SYSCALL_PRIORITY, PRIMASK on Armv6-M) and return the previous mask;
 * nests.  ISR-safe. */
waft_os_irq_state waft_os_critical_enter(void);
void waft_os_critical_exit(waft_os_irq_state state);

/* Is the caller an interrupt handler? */
bool waft_os_in_isr(void);

/* Cortex-M: the bounds [*low, *high) of the stack interrupt handlers run on
 * once waft_os_init has moved main() to the process stack (its size is
 * WAFT_OS_ISR_STACK_SIZE).  The signals port runs immediate Wasm handlers
 * there, under a stack limit of *low + WAFT_STACK_MARGIN. */
void waft_os_isr_stack(uintptr_t *low, uintptr_t *high);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_KERNEL_H */
