/*
 * signals_port.h: what the signals layer needs from the platform — where
 * events come from, how a waiting thread sleeps and is woken, and whether a
 * handler can run as the interrupt itself.  Everything else (grants, the line
 * table, coalescing, masking, dispatch order, trap reporting) is portable and
 * lives in lines.c and dispatch.c.
 *
 * Implementations:
 *   port_posix.c   the host: real POSIX signals latched by an
 *                  async-signal-safe handler, POSIX timers on CLOCK_MONOTONIC
 *                  for timer lines, one POSIX semaphore per thread to wake
 *                  it; deferred delivery only.
 *   port_cortexm.c Cortex-M: NVIC lines granted at build time with vectors
 *                  generated into the firmware (main/embed_ext.h: immediate,
 *                  the vector calls the compiled handler; deferred, it
 *                  latches), a board timer per timer line, set-mask as
 *                  BASEPRI, waiting in the kernel (waft_os_wait32/notify) or
 *                  in WFI without one.
 *
 * Contract for every function below: `l` is a granted slot; the portable
 * layer has checked the arguments the WIT defines errors for.  Functions
 * marked "async-safe" may run in a POSIX signal handler or an interrupt;
 * the others run on the module's threads, under waft_signals_port_lock where
 * they change a slot.
 */
#ifndef WAFT_SIGNALS_PORT_H
#define WAFT_SIGNALS_PORT_H

#include "waft_signals.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Start the port for `sig` (every slot filled, caps set): per-thread wake
 * objects for module.thread_count threads, timers for the timer lines.
 * 0 or an errno, after writing why to the error console. */
int32_t waft_signals_port_init(waft_signals *sig);

/* The line-caps the port offers for a line of this class and number; 0 when
 * the port cannot provide it at all (it may not be granted here). */
uint8_t waft_signals_port_caps(uint32_t line);

/* priority-max(): line priorities the module may use (host: 1). */
uint8_t waft_signals_port_priority_max(void);

/* Connect `l`'s source, now that a handler is attached (host: catch the
 * POSIX signal, so its events latch instead of taking the default action).
 * 0 or an errno. */
int32_t waft_signals_port_attach(waft_signals *sig, waft_signals_line *l);

/* Disconnect it again (host: the signal's previous disposition is back). */
void waft_signals_port_detach(waft_signals *sig, waft_signals_line *l);

/* `l` was enabled or disabled (NVIC: set/clear-enable of an immediate line;
 * host: nothing more than the portable flag). */
void waft_signals_port_enable(waft_signals *sig, waft_signals_line *l, bool on);

/* Raise an immediate line from software (NVIC: set-pending).  Deferred lines
 * never come here: pend latches them in the portable layer. */
void waft_signals_port_pend_immediate(waft_signals *sig, waft_signals_line *l);

/* `l`'s priority changed (attach, set-priority): NVIC priority of its
 * vector; nothing on the host. */
void waft_signals_port_priority(waft_signals *sig, waft_signals_line *l);

/* A deferred handler of `l` returned: a device interrupt whose vector masked
 * it after latching (so a level-triggered source could not storm) is
 * unmasked again.  Nothing on the host. */
void waft_signals_port_handled(waft_signals *sig, waft_signals_line *l);

/* An event the hardware holds for an immediate line (NVIC pending bit) that
 * the portable `pending` flag does not show; clear drops it.  Host: none. */
bool waft_signals_port_hw_pending(waft_signals *sig, waft_signals_line *l);
void waft_signals_port_hw_clear(waft_signals *sig, waft_signals_line *l);

/* set-mask(level) took effect for the caller: make the hardware hold back
 * immediate lines of priority <= level (Cortex-M: BASEPRI; 0 unmasks).
 * Host: nothing (the mask gates deferred dispatch only). */
void waft_signals_port_set_mask(uint8_t level);

/* Inside an immediate handler, the mask level the hardware is at now (so
 * set-mask there returns it); never called elsewhere.  Host: 0. */
uint8_t waft_signals_port_get_mask(void);

/* Timer lines: first event at `first_release` (absolute, ns on the monotonic
 * clock; passed: at once), then every `period` ns (0: once), on the grid
 * first_release + k * period.  Restarting replaces the schedule. */
int32_t waft_signals_port_start_timer(waft_signals *sig, waft_signals_line *l, uint64_t first_release,
                                      uint64_t period);
int32_t waft_signals_port_stop_timer(waft_signals *sig, waft_signals_line *l);

/* The shortest timer period the port can keep up with, ns. */
uint64_t waft_signals_port_min_period_ns(void);

/* The monotonic clock, ns (p1's monotonic clock). */
uint64_t waft_signals_port_now_ns(void);

/* Sleep the calling thread `thread` until waft_signals_port_wake(thread) or
 * `deadline` (absolute ns; UINT64_MAX: never).  May return early (a wake
 * meant for an event already dispatched): the caller checks again. */
void waft_signals_port_wait(waft_signals *sig, uint32_t thread, uint64_t deadline);

/* Wake thread `thread` if it sleeps in waft_signals_port_wait, or make its
 * next wait return at once.  Async-safe. */
void waft_signals_port_wake(waft_signals *sig, uint32_t thread);

/* Is the caller an immediate handler (an interrupt)?  dispatch and
 * wait-for-event answer `perm` there.  Host: never. */
bool waft_signals_port_in_immediate(void);

/* Serialise changes to slots between the module's threads (never taken by
 * the event path).  Returns what unlock needs. */
uint32_t waft_signals_port_lock(void);
void waft_signals_port_unlock(uint32_t state);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_SIGNALS_PORT_H */
