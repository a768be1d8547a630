/*
 * port_posix.c: the host's signals port (signals_port.h) — real POSIX
 * signals, POSIX timers, deferred delivery only.
 *
 * Signal lines.  From `attach` on, the runtime catches the line's POSIX
 * signal with a handler that only latches: waft_signals_latch stores the
 * slot's atomic pending flag and, when the line is enabled, wakes the
 * attaching thread with sem_post.  Atomics on lock-free types and sem_post
 * are async-signal-safe (POSIX 2017, 2.4.3), and nothing else runs in the
 * handler; errno is saved around it.  Before `attach` and after `detach` the
 * signal has its previous disposition (its default action: SIGINT still stops
 * a program that never attached a handler to it).  Installing the handler at
 * attach rather than at enable is what lets a disabled line latch, as the
 * WIT requires.  SA_RESTART keeps the guest's blocking p1 calls (fd_read...)
 * from seeing EINTR for an event that is not theirs.
 *
 * Timer lines are POSIX timers (timer_create on CLOCK_MONOTONIC, one per
 * granted timer line, made at start-up) that signal SIGRTMIN with the slot in
 * si_value; the same latching handler takes them.  Why POSIX timers and not
 * a timer thread: the kernel keeps the grid (TIMER_ABSTIME first release plus
 * an interval: first + k * period, never drifting with how late a handler
 * ran), coalesces expirations itself (one queued signal per timer, overruns
 * counted, matching the line's coalescing), needs no thread of its own (a
 * module without threads stays single-threaded, and nothing competes with a
 * SCHED_FIFO control thread), and uses the one event path real signals use.
 * SIGRTMIN is the runtime's own: p1 has no real-time signals, so no grant
 * can name it, and a SIGRTMIN that no timer sent (si_code != SI_TIMER) is
 * ignored.
 *
 * Waking: one semaphore per thread of the module, plus a flag so that a storm
 * of events posts it once per wait, never up to SEM_VALUE_MAX.  Waiting is
 * sem_clockwait on CLOCK_MONOTONIC, the clock deadlines are on.
 *
 * One module per process: the signal handler finds its slots through this
 * file's globals, set by waft_signals_port_init.
 */
#define _GNU_SOURCE /* sem_clockwait (glibc 2.30) */

#include "signals_port.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* Threads a module may have on the host (waft run --max-threads is at most 256, plus main). */
#define MAX_THREADS 257u
/* Deferred delivery is a signal, a wake-up and a dispatch: faster timers only
 * pile up coalesced events.  50 us is what a loaded host still keeps. */
#define MIN_PERIOD_NS 50000u
/* Signal numbers: Linux has 64. */
#define MAX_SIGNO 65

/* p1's signal numbering -> POSIX, 0 where the line cannot be offered:
 * uncatchable (kill, stop) or synchronous faults (ill, trap, abrt, bus, fpe,
 * segv: returning from their handler re-runs the faulting instruction, so
 * they cannot be deferred). */
static const int POSIX_OF_P1[31] = {
    [1] = SIGHUP,     [2] = SIGINT,    [3] = SIGQUIT,  [10] = SIGUSR1, [12] = SIGUSR2, [13] = SIGPIPE,
    [14] = SIGALRM,   [15] = SIGTERM,  [16] = SIGCHLD, [17] = SIGCONT, [19] = SIGTSTP, [20] = SIGTTIN,
    [21] = SIGTTOU,   [22] = SIGURG,   [23] = SIGXCPU, [24] = SIGXFSZ, [25] = SIGVTALRM, [26] = SIGPROF,
    [27] = SIGWINCH,  [28] = SIGPOLL,  [29] = SIGPWR,  [30] = SIGSYS,
};

static waft_signals *the_signals;                      /* the process's one module */
static waft_signals_line *volatile line_of_signo[MAX_SIGNO];
static struct sigaction saved_action[MAX_SIGNO];       /* the disposition attach replaced */
static int timer_signo;                                /* SIGRTMIN, read once (it is a function call) */
static sem_t wake_sem[MAX_THREADS];
static atomic_bool wake_posted[MAX_THREADS];
static uint32_t threads_ready;                         /* semaphores initialised */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;

static int posix_signo(uint32_t line) {
    uint32_t p1 = line & 0xFFFFu;
    return p1 < sizeof POSIX_OF_P1 / sizeof POSIX_OF_P1[0] ? POSIX_OF_P1[p1] : 0;
}

/* The only code that runs in signal context. */
static void on_signal(int signo, siginfo_t *info, void *ucontext) {
    (void)ucontext;
    int saved_errno = errno;
    waft_signals_line *l = NULL;
    if (signo == timer_signo) {
        if (info != NULL && info->si_code == SI_TIMER) {
            l = info->si_value.sival_ptr;
        }
    } else if (signo > 0 && signo < MAX_SIGNO) {
        l = line_of_signo[signo];
    }
    if (l != NULL && the_signals != NULL) {
        waft_signals_latch(the_signals, l);
    }
    errno = saved_errno;
}

static int catch_signal(int signo, struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, old);
}

int32_t waft_signals_port_init(waft_signals *sig) {
    const waft_signals_module *m = &sig->module;
    if (m->thread_count > MAX_THREADS) {
        waft_port_write_error("waft: signals: more threads than the host port can wake\n");
        return WAFT_SIGNALS_EINVAL;
    }
    for (uint32_t t = 0; t < m->thread_count; t++) {
        if (sem_init(&wake_sem[t], 0, 0) != 0) {
            waft_port_write_error("waft: signals: sem_init failed\n");
            return WAFT_SIGNALS_EINVAL;
        }
        atomic_init(&wake_posted[t], false);
    }
    threads_ready = m->thread_count;
    timer_signo = SIGRTMIN;
    the_signals = sig;
    bool timers = false;
    for (uint32_t i = 0; i < m->grant_count; i++) {
        waft_signals_line *l = &m->lines[i];
        if (!(l->caps & WAFT_SIGNALS_CAP_TIMER)) {
            continue;
        }
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = timer_signo;
        ev.sigev_value.sival_ptr = l;
        timer_t timer;
        if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) {
            waft_port_write_error("waft: signals: timer_create failed for the line granted as ");
            waft_port_write_error(l->name);
            waft_port_write_error("\n");
            return WAFT_SIGNALS_EINVAL;
        }
        l->port = (uintptr_t)timer;
        timers = true;
    }
    if (timers && catch_signal(timer_signo, NULL) != 0) {
        waft_port_write_error("waft: signals: cannot catch the timer signal\n");
        return WAFT_SIGNALS_EINVAL;
    }
    return WAFT_SIGNALS_OK;
}

uint8_t waft_signals_port_caps(uint32_t line) {
    switch (WAFT_SIGNALS_CLASS(line)) {
    case WAFT_SIGNALS_CLASS_SIGNAL:
        /* 0x0001_00ss: ss must be a p1 signal the host can catch and defer. */
        return (line & 0xFF00u) == 0 && posix_signo(line) != 0 ? WAFT_SIGNALS_CAP_DEFERRED | WAFT_SIGNALS_CAP_PEND
                                                                 : 0;
    case WAFT_SIGNALS_CLASS_SOFT:
        return WAFT_SIGNALS_CAP_DEFERRED | WAFT_SIGNALS_CAP_PEND;
    case WAFT_SIGNALS_CLASS_TIMER:
        return WAFT_SIGNALS_CAP_DEFERRED | WAFT_SIGNALS_CAP_PEND | WAFT_SIGNALS_CAP_TIMER;
    default:
        return 0; /* no device interrupts on the host; reserved classes nowhere */
    }
}

uint8_t waft_signals_port_priority_max(void) { return 1; }

int32_t waft_signals_port_attach(waft_signals *sig, waft_signals_line *l) {
    (void)sig;
    if (WAFT_SIGNALS_CLASS(l->line) != WAFT_SIGNALS_CLASS_SIGNAL) {
        return WAFT_SIGNALS_OK; /* software and timer lines latch from the runtime itself */
    }
    int signo = posix_signo(l->line);
    line_of_signo[signo] = l; /* before the handler can run */
    if (catch_signal(signo, &saved_action[signo]) != 0) {
        line_of_signo[signo] = NULL;
        return WAFT_SIGNALS_EINVAL;
    }
    return WAFT_SIGNALS_OK;
}

void waft_signals_port_detach(waft_signals *sig, waft_signals_line *l) {
    (void)sig;
    if (WAFT_SIGNALS_CLASS(l->line) == WAFT_SIGNALS_CLASS_SIGNAL) {
        int signo = posix_signo(l->line);
        sigaction(signo, &saved_action[signo], NULL);
        line_of_signo[signo] = NULL;
    }
}

void waft_signals_port_enable(waft_signals *sig, waft_signals_line *l, bool on) {
    (void)sig, (void)l, (void)on; /* the portable `enabled` flag is the whole story */
}

void waft_signals_port_pend_immediate(waft_signals *sig, waft_signals_line *l) {
    waft_signals_latch(sig, l); /* unreachable: no line is immediate on the host */
}

void waft_signals_port_priority(waft_signals *sig, waft_signals_line *l) {
    (void)sig, (void)l; /* one priority on the host: set-priority answers notsup before this */
}

void waft_signals_port_handled(waft_signals *sig, waft_signals_line *l) { (void)sig, (void)l; }

bool waft_signals_port_hw_pending(waft_signals *sig, waft_signals_line *l) {
    (void)sig, (void)l;
    return false; /* the portable flag is the whole story */
}

void waft_signals_port_hw_clear(waft_signals *sig, waft_signals_line *l) { (void)sig, (void)l; }

void waft_signals_port_set_mask(uint8_t level) { (void)level; /* it gates deferred dispatch only */ }

uint8_t waft_signals_port_get_mask(void) { return 0; /* never in an immediate handler here */ }

static struct timespec to_timespec(uint64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
}

int32_t waft_signals_port_start_timer(waft_signals *sig, waft_signals_line *l, uint64_t first_release,
                                      uint64_t period) {
    (void)sig;
    struct itimerspec spec = {
        /* An all-zero it_value would disarm the timer: a release at 0 is in
         * the past anyway, and 1 ns fires at once just the same. */
        .it_value = to_timespec(first_release != 0 ? first_release : 1),
        .it_interval = to_timespec(period),
    };
    if (first_release > (uint64_t)INT64_MAX) {
        return WAFT_SIGNALS_EINVAL; /* past time_t's reach */
    }
    return timer_settime((timer_t)l->port, TIMER_ABSTIME, &spec, NULL) == 0 ? WAFT_SIGNALS_OK : WAFT_SIGNALS_EINVAL;
}

int32_t waft_signals_port_stop_timer(waft_signals *sig, waft_signals_line *l) {
    (void)sig;
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    return timer_settime((timer_t)l->port, 0, &off, NULL) == 0 ? WAFT_SIGNALS_OK : WAFT_SIGNALS_EINVAL;
}

uint64_t waft_signals_port_min_period_ns(void) { return MIN_PERIOD_NS; }

uint64_t waft_signals_port_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void waft_signals_port_wait(waft_signals *sig, uint32_t thread, uint64_t deadline) {
    (void)sig;
    if (thread >= threads_ready) {
        /* No port (an embedder that never called init): nothing can wake us. */
        struct timespec until = to_timespec(deadline == UINT64_MAX ? (uint64_t)INT64_MAX : deadline);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
        return;
    }
    int rc;
    if (deadline == UINT64_MAX || deadline > (uint64_t)INT64_MAX) {
        rc = sem_wait(&wake_sem[thread]);
    } else {
        struct timespec until = to_timespec(deadline);
        rc = sem_clockwait(&wake_sem[thread], CLOCK_MONOTONIC, &until);
    }
    (void)rc; /* woken, timed out or interrupted: the caller looks again either way */
    atomic_store(&wake_posted[thread], false);
}

void waft_signals_port_wake(waft_signals *sig, uint32_t thread) {
    (void)sig;
    if (thread < threads_ready && !atomic_exchange(&wake_posted[thread], true)) {
        sem_post(&wake_sem[thread]);
    }
}

bool waft_signals_port_in_immediate(void) { return false; }

uint32_t waft_signals_port_lock(void) {
    pthread_mutex_lock(&slot_lock);
    return 0;
}

void waft_signals_port_unlock(uint32_t state) {
    (void)state;
    pthread_mutex_unlock(&slot_lock);
}
