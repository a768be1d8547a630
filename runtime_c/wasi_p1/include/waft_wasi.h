/*
 * waft_wasi.h: the WASI preview 1 runtime's embedder API.
 *
 * A waft_wasi_ctx is one WASI "process": the guest's linear memory, its
 * arguments and environment, and its file-descriptor table (stdio, preopened
 * directories and sockets, and whatever the guest opens).  The embedder fills
 * one in, puts its address in the module's imports struct as the
 * `wasi_snapshot_preview1` member, and runs `_start` through
 * waft_wasi_run_start.  The 46 imports themselves are declared in
 * waft_wasi_p1.h, generated from waftkit/wasi.py.
 *
 * Guarantees every import keeps, whatever the guest passes:
 *   - every guest pointer and length is checked against the memory's current
 *     size: a bad one returns WAFT_WASI_ERRNO_FAULT, never a crash or a trap;
 *     output pointers are checked before anything happens, so a call that
 *     returns FAULT had no effect;
 *   - every fd is checked against the table (BADF), and every operation
 *     against the fd's rights (NOTCAPABLE), as the witx describes them;
 *   - path arguments are resolved beneath the directory fd they are relative
 *     to: absolute paths, `..` above that directory and symlinks whose target
 *     is absolute or leads above it fail with WAFT_WASI_ERRNO_PERM (what
 *     wasmtime returns for such "not permitted" paths).
 *   - only proc_exit (WAFT_TRAP_EXIT) and proc_raise with a terminating signal
 *     (WAFT_TRAP_HOST, with the signal in ctx->raised_signal) leave through
 *     waft_trap.
 *
 * Nothing here allocates on the heap; the fd table is fixed-size
 * (WAFT_WASI_MAX_FDS).  The host port keeps a directory stream per fd that
 * fd_readdir has used (from fdopendir, which does allocate, in libc).
 *
 * Build options:
 *   WAFT_WASI_MAX_FDS     size of the fd table (default 64; stdio takes 3).
 */
#ifndef WAFT_WASI_H
#define WAFT_WASI_H

#include <stdbool.h>
#include <stdint.h>

#include "waft.h"
#include "waft_wasi_p1.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WAFT_WASI_MAX_FDS
#define WAFT_WASI_MAX_FDS 64
#endif
#if WAFT_WASI_MAX_FDS < 3
#error "waft_wasi.h: WAFT_WASI_MAX_FDS must leave room for stdin, stdout and stderr"
#endif

/* What a table slot holds. */
typedef enum waft_wasi_fd_kind {
    WAFT_WASI_FD_FREE = 0,      /* unused slot: BADF */
    WAFT_WASI_FD_FILE,          /* anything opened as a file: stdio, regular files, devices */
    WAFT_WASI_FD_DIR,           /* a directory opened by path_open */
    WAFT_WASI_FD_PREOPEN,       /* a preopened directory (fd_prestat_get answers for it) */
    WAFT_WASI_FD_SOCKET,        /* a socket: preopened listener or an accepted connection */
    WAFT_WASI_FD_RESERVED,      /* claimed by a call still opening it (another thread sees BADF) */
    WAFT_WASI_FD__FORCE_32BIT = 0x7fffffff
} waft_wasi_fd_kind;

/* One slot of the fd table.  The guest's fd number is the slot's index. */
typedef struct waft_wasi_fd {
    waft_wasi_fd_kind kind;
    int32_t host;                  /* the port's handle (a POSIX fd on the host) */
    bool owned;                    /* fd_close closes `host` (false for the embedder's stdio) */
    uint8_t filetype;              /* WAFT_WASI_FILETYPE_* */
    uint64_t rights_base;          /* what this fd may do */
    uint64_t rights_inheriting;    /* what fds opened through it may get */
    const char *guest_name;        /* PREOPEN: the directory's guest path (borrowed) */
    void *dir_stream;              /* port-owned directory stream for fd_readdir, NULL until used */
    uint64_t dir_cookie;           /* the WASI cookie `dir_stream` is positioned at */
} waft_wasi_fd;

/* One WASI process. */
typedef struct waft_wasi_ctx {
    waft_memory *memory;           /* the guest's exported "memory"; NULL: every pointer is FAULT */
    int32_t argc;                  /* argv[0] is the program name */
    const char *const *argv;       /* borrowed; must outlive the run */
    int32_t envc;
    const char *const *envp;       /* "KEY=VALUE" strings, borrowed */
    int32_t exit_code;             /* proc_exit's status, once `exited` */
    bool exited;                   /* proc_exit ran */
    uint8_t raised_signal;         /* proc_raise's terminating signal (WAFT_WASI_SIGNAL_*), 0 if none */
    /* The module's wasi-ext:signals state (waft_wasi_set_signals), which
     * proc_raise offers the signal to first; NULL: p1's default actions only. */
    void *signals;
    waft_wasi_fd fds[WAFT_WASI_MAX_FDS];
} waft_wasi_ctx;

/* Set up `ctx`: no memory yet (see waft_wasi_set_memory), the given
 * arguments and environment (envp may be NULL), and fds 0-2 on the port's
 * stdin, stdout and stderr (not closed by waft_wasi_destroy).  The host port
 * also sets SIGPIPE to SIG_IGN for the process, so that a guest writing to a
 * closed pipe or socket gets PIPE, as under wasmtime, instead of killing the
 * embedder. */
void waft_wasi_init(waft_wasi_ctx *ctx, int argc, const char *const *argv, const char *const *envp);

/* The guest memory every pointer refers to (after instantiation: the
 * module's exported memory accessor, e.g. P_memory(inst)). */
void waft_wasi_set_memory(waft_wasi_ctx *ctx, waft_memory *memory);

/* Let the signals extension (runtime_c/signals) take proc_raise(sig) before
 * its default action: proc_raise calls waft_signals_proc_raise(signals, sig),
 * and true means a line with a handler was pended.  Call after
 * waft_wasi_init, which clears it. */
void waft_wasi_set_signals(waft_wasi_ctx *ctx, void *signals);

/* The signals extension's side of proc_raise.  A direct call rather than a
 * function pointer, so the stack analysis (waftkit/firmware/stack_usage.py)
 * follows it: proc.c has a weak definition answering false, which
 * runtime_c/signals/lines.c replaces when the extension is linked. */
bool waft_signals_proc_raise(void *signals, int32_t sig);

/* Preopen host directory `host_path` as guest directory `guest_name` (e.g.
 * "/" or "."); `guest_name` is borrowed.  Returns the guest fd, or minus a
 * WASI errno (-WAFT_WASI_ERRNO_NOENT...).  Preopens must be added before the
 * guest starts: wasi-libc scans fds 3, 4, ... until the first non-preopen. */
int32_t waft_wasi_preopen_dir(waft_wasi_ctx *ctx, const char *host_path, const char *guest_name);

/* Add an already listening stream socket (a port handle: a POSIX fd on the
 * host, which ctx then owns).  Returns the guest fd or minus a WASI errno. */
int32_t waft_wasi_preopen_socket(waft_wasi_ctx *ctx, int32_t host_handle);

/* Host port only: listen on TCP "A.B.C.D:PORT" (PORT 0 picks a free one) and
 * preopen the socket.  Returns the guest fd or minus a WASI errno; when
 * `bound_port` is not NULL it receives the port actually bound. */
int32_t waft_wasi_listen_tcp(waft_wasi_ctx *ctx, const char *address, uint16_t *bound_port);

/* Close every fd ctx owns. */
void waft_wasi_destroy(waft_wasi_ctx *ctx);

/* Run a command module's `_start` (`start(inst)`) behind a trap boundary and
 * return the process's exit status: 0 when _start returns, proc_exit's status,
 * 128 + the signal number for proc_raise with a terminating signal, or
 * WAFT_TRAP_EXIT_STATUS (70) for a trap, whose message goes to the error
 * console as "waft: trap: <message>". */
int32_t waft_wasi_run_start(waft_wasi_ctx *ctx, void (*start)(void *inst), void *inst);

/* The exit status of a run that ended with `code` (WAFT_TRAP_NONE: _start
 * returned), by waft_wasi_run_start's rules, saying the trap or signal on the
 * error console.  For embedders that run Wasm on more threads than one: a
 * trap or proc_exit in any of them ends the process with this status. */
int32_t waft_wasi_exit_status(waft_wasi_ctx *ctx, waft_trap_code code);

/* The witx name of a WASI errno ("badf"), "unknown" outside the enum. */
const char *waft_wasi_errno_name(int32_t err);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_WASI_H */
