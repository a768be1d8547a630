/*
 * kernel_port.h: the contract between the portable scheduler (sched.c) and
 * the architecture port (port_cortexm.c) of the built-in kernel.  Not part of
 * the OS port API (kernel.h): a vendor RTOS replaces both files and never
 * sees this one.
 *
 * The scheduler owns every decision: it keeps the thread control blocks, the
 * ready lists and the timers, and names the thread that should run in
 * waft_os__sched.next, asking the port to switch (waft_port_pend_switch).
 * The port only switches: it saves the outgoing thread's registers on its
 * stack, makes `next` current, loads the per-thread globals (waft_stack_limit,
 * waft_trap_current) and restores the incoming thread.  The assembly reads
 * the first fields of waft_os_thread at fixed offsets: sched.c checks them
 * with static assertions.
 */
#ifndef WAFT_KERNEL_PORT_H
#define WAFT_KERNEL_PORT_H

#include <stdint.h>

#include "kernel.h"

/* An intrusive doubly linked list node; a list is a node used as its head. */
typedef struct waft_os_link {
    struct waft_os_link *next, *prev;
} waft_os_link;

typedef enum waft_os_state {
    WAFT_OS_FREE = 0,  /* unused slot */
    WAFT_OS_READY,     /* in a ready list (the running thread too) */
    WAFT_OS_SLEEPING,  /* in the delayed list only: sleep_until, wait_period */
    WAFT_OS_WAITING,   /* in the futex waiter list (and the delayed list with a deadline) */
    WAFT_OS_JOINING,   /* waiting for a thread to end (and in the delayed list with a deadline) */
    WAFT_OS_EXITED,    /* ended; a joinable thread keeps its slot until joined */
} waft_os_state;

struct waft_os_thread {
    /* --- read and written by the port's switch code: offsets fixed ----- */
    uintptr_t sp;           /* 0: saved stack pointer while not running */
    uintptr_t stack_limit;  /* 4: waft_stack_limit while running: stack low end + WAFT_STACK_MARGIN */
    void *trap_current;     /* 8: waft_trap_current while not running */
    uintptr_t stack_low;    /* 12: lowest stack address (Armv8-M Mainline: PSPLIM) */
    /* --- the scheduler's ---------------------------------------------- */
    waft_os_link link;       /* ready list, futex waiter list */
    waft_os_link delay_link; /* delayed list (sorted by deadline), when timed */
    uint64_t deadline;       /* when delay_link is linked: the wake-up time, ns */
    uint64_t period;         /* waft_os_set_period's, 0: aperiodic */
    uint64_t next_release;   /* the next grid point not yet waited for */
    const volatile void *wait_addr; /* WAITING: the address */
    struct waft_os_thread *joiner;  /* the thread joining this one */
    int32_t wake_result;     /* why a blocking call returned */
    uint32_t exit_status;
    uint8_t priority;
    uint8_t state;           /* waft_os_state */
    uint8_t detached;
    uint8_t slice;           /* ticks left of its time slice */
};

/* The running thread and the one the scheduler wants; read by PendSV. */
typedef struct waft_os_sched {
    waft_os_thread *current; /* 0 */
    waft_os_thread *next;    /* 4 */
} waft_os_sched;

extern waft_os_sched waft_os__sched;

/* --- port functions (port_cortexm.c) ------------------------------------- */

/* Move the caller onto the process stack (same memory) and give handlers
 * their own stack; set the PendSV/tick priorities and the FPU's lazy
 * stacking.  `main_thread` describes the caller's stack. */
void waft_port_start(waft_os_thread *main_thread);

/* Build the first frame of a thread on the stack [low, low + size) so that
 * the first switch to it enters waft_port_thread_entry(arg, entry); returns
 * the saved stack pointer. */
uintptr_t waft_port_frame(uintptr_t low, uint32_t size, uint32_t (*entry)(void *), void *arg);

/* Ask for a switch to waft_os__sched.next as soon as no other handler runs
 * (PendSV).  Called inside a critical section. */
void waft_port_pend_switch(void);

/* Sleep the core until an interrupt (the idle thread's loop). */
void waft_port_idle(void);

/* Where a new thread starts: calls entry(arg) and ends the thread with its
 * status (sched.c). */
WAFT_NORETURN void waft_os__thread_main(void *arg, uint32_t (*entry)(void *));

/* The tick, from the clock's interrupt with the tick's time in ns (sched.c). */
void waft_os__tick(uint64_t now_ns);

#endif /* WAFT_KERNEL_PORT_H */
