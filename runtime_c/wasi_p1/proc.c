/*
 * proc.c: the process: proc_exit, proc_raise, sched_yield, and
 * waft_wasi_run_start, the trap boundary an embedder runs `_start` behind.
 *
 * proc_exit unwinds through waft_exit (WAFT_TRAP_EXIT).  proc_raise first
 * offers the signal to the signals extension (waft_wasi_set_signals,
 * waft_signals_proc_raise): with wasi-ext:signals, a signal line that has a handler attached is pended
 * instead, and the call returns success.  Otherwise a signal whose default
 * action terminates the process unwinds with WAFT_TRAP_HOST after noting the
 * signal in the ctx: p1 itself has no sigaction, so the default action is
 * the whole story, and raising a real host signal would take the embedder
 * down with it.
 */
#include "wasi_internal.h"

#include <stdio.h>

#if defined(WAFT_PORT_CORTEX_M) && defined(_NEWLIB_VERSION)
/* On a newlib board, a weak reference: firmware whose C never uses newlib's stdio
 * (a WASI firmware: the console is the port's) must not link fflush, which
 * brings __sinit, the FILE allocator, malloc and the stdio syscalls (~2 KB).
 * Any C that does use stdio links fflush itself (__sinit, fvwrite and wbuf
 * call _fflush_r, which lives in fflush's object), and then it is flushed. */
#pragma weak fflush
#endif

WAFT_NORETURN void wasi_snapshot_preview1__proc_exit(void *ctx, int32_t rval) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    c->exit_code = rval;
    c->exited = true;
    waft_exit(rval);
}

/* Signals whose default action is to do nothing here: "Ignored" in the witx,
 * and the job-control ones (stop/continue), which have no meaning for a
 * program that is the whole process. */
static bool ignored_by_default(uint8_t sig) {
    switch (sig) {
    case WAFT_WASI_SIGNAL_NONE:
    case WAFT_WASI_SIGNAL_CHLD:
    case WAFT_WASI_SIGNAL_CONT:
    case WAFT_WASI_SIGNAL_URG:
    case WAFT_WASI_SIGNAL_WINCH:
    case WAFT_WASI_SIGNAL_STOP:
    case WAFT_WASI_SIGNAL_TSTP:
    case WAFT_WASI_SIGNAL_TTIN:
    case WAFT_WASI_SIGNAL_TTOU:
        return true;
    default:
        return false;
    }
}

int32_t wasi_snapshot_preview1__proc_raise(void *ctx, int32_t sig) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    if (sig < 0 || sig >= WAFT_WASI_SIGNAL_COUNT) {
        return WAFT_WASI_ERRNO_INVAL;
    }
    if (c->signals != NULL && waft_signals_proc_raise(c->signals, sig)) {
        return 0;
    }
    if (ignored_by_default((uint8_t)sig)) {
        return 0;
    }
    c->raised_signal = (uint8_t)sig;
    waft_trap(WAFT_TRAP_HOST);
}

void waft_wasi_set_signals(waft_wasi_ctx *ctx, void *signals) { ctx->signals = signals; }

/* No signals extension linked: every signal takes p1's default action. */
__attribute__((weak)) bool waft_signals_proc_raise(void *signals, int32_t sig) {
    (void)signals, (void)sig;
    return false;
}

int32_t wasi_snapshot_preview1__sched_yield(void *ctx) {
    (void)ctx;
    return wasi_port_yield();
}

/* waft_call_guarded calls fn(a, b): carry the start function in a struct,
 * since a function pointer cannot travel as a void *. */
typedef struct start_call {
    void (*start)(void *inst);
} start_call;

static void call_start(void *call, void *inst) { ((start_call *)call)->start(inst); }

int32_t waft_wasi_run_start(waft_wasi_ctx *ctx, void (*start)(void *inst), void *inst) {
    start_call call = {start};
    ctx->exited = false;
    ctx->raised_signal = 0;
    waft_trap_code code = waft_call_guarded(call_start, &call, inst);
    if (fflush != NULL) {
        fflush(stdout); /* the embedder's own stdio, before any message of ours */
    }
    return waft_wasi_exit_status(ctx, code);
}

int32_t waft_wasi_exit_status(waft_wasi_ctx *ctx, waft_trap_code code) {
    switch (code) {
    case WAFT_TRAP_NONE:
        return 0; /* returning from _start is exit(0) */
    case WAFT_TRAP_EXIT:
        return ctx->exited ? ctx->exit_code : waft_exit_status;
    default:
        break;
    }
    if (code == WAFT_TRAP_HOST && ctx->raised_signal != 0) {
        static const char *const names[] = {WAFT_WASI_SIGNAL_NAMES};
        waft_port_write_error("waft: terminated by ");
        waft_port_write_error(names[ctx->raised_signal]);
        waft_port_write_error(" (proc_raise)\n");
        return 128 + ctx->raised_signal;
    }
    waft_port_write_error("waft: trap: ");
    waft_port_write_error(waft_strerror(code));
    waft_port_write_error("\n");
    return WAFT_TRAP_EXIT_STATUS;
}
