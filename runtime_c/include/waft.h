/*
 * waft.h: the one ABI header of the Waft runtime.
 *
 * Everything a compiled Wasm module calls and everything an embedder needs to
 * drive one: trap codes and the trap-frame API, the memory, table and
 * function descriptors, the growth and bulk-operation helpers, and the
 * native-stack limit.  docs/abi.md is the contract this header implements;
 * aot/abi.py mirrors it in Python and tests/unit/test_abi.py proves that the
 * two agree (enum values, struct sizes and offsets, helper prototypes).
 *
 * Nothing here allocates: instances are plain structs the embedder places in
 * .bss, on the stack or (on the host, for 4 GiB memories) in calloc'ed memory.
 *
 * Threads: waft_stack_limit and the trap-frame chain belong to the thread
 * that runs Wasm.  On the host they are thread-locals (generated code
 * reads the limit as a thread-local too), so any POSIX thread may call into
 * Wasm after its own waft_stack_init.  On bare metal they are plain globals:
 * a scheduler that switches threads switches them with the stack (set
 * waft_stack_limit yourself whenever you switch stacks).  memory.atomic.wait
 * blocks through two port hooks (below): a single-threaded build can only
 * time out; the host's threads (runtime_c/threads) wake each other.
 *
 * Build options (define with -D when building runtime_c and your code alike):
 *   WAFT_PORT_HOST / WAFT_PORT_CORTEX_M / WAFT_PORT_RISCV  which port the code
 *                        is built for; by default detected from the compiler's
 *                        predefined macros.
 *   WAFT_STACK_MARGIN    bytes of native stack kept free below the limit the
 *                        generated code checks (default per port, see below).
 */
#ifndef WAFT_H
#define WAFT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Build options and their consistency                                        */
/* ------------------------------------------------------------------------- */

#if (defined(WAFT_PORT_HOST) + defined(WAFT_PORT_CORTEX_M) + defined(WAFT_PORT_RISCV)) > 1
#error "waft.h: WAFT_PORT_HOST, WAFT_PORT_CORTEX_M and WAFT_PORT_RISCV contradict each other: define at most one"
#endif

#if !defined(WAFT_PORT_HOST) && !defined(WAFT_PORT_CORTEX_M) && !defined(WAFT_PORT_RISCV)
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define WAFT_PORT_CORTEX_M 1
#elif defined(__riscv) && !defined(__linux__)
#define WAFT_PORT_RISCV 1
#elif defined(__linux__)
#define WAFT_PORT_HOST 1
#else
#error "waft.h: unknown platform: define WAFT_PORT_HOST, WAFT_PORT_CORTEX_M or WAFT_PORT_RISCV"
#endif
#endif

#if defined(WAFT_PORT_RISCV) && defined(__linux__)
#error "waft.h: WAFT_PORT_RISCV is for bare-metal RISC-V builds, but this compiler targets Linux"
#endif

#if defined(WAFT_PORT_CORTEX_M) && defined(__linux__)
#error "waft.h: WAFT_PORT_CORTEX_M is for bare-metal Cortex-M builds, but this compiler targets Linux"
#endif

#if defined(WAFT_THREADS)
#error "waft.h: WAFT_THREADS is not supported yet: the runtime is single-threaded (see the comment at the top)"
#endif

/* Storage class of the per-thread runtime state (the stack limit and the
 * trap-frame chain): one copy per POSIX thread on the host; on bare metal one
 * copy that the scheduler switches.  Generated code for host targets reads
 * waft_stack_limit as a thread-local (aot/lower/module.py), so the two must
 * agree: do not redefine it. */
#if defined(WAFT_PORT_HOST)
/* GNU `__thread` rather than C11's `_Thread_local`: the header is also C++,
 * and `__thread` means the same (static initialisation only) in both. */
#define WAFT_THREAD_LOCAL __thread
#else
#define WAFT_THREAD_LOCAL
#endif

/*
 * WAFT_STACK_MARGIN: how far above the true end of the native stack
 * waft_stack_limit sits.  Generated code traps with
 * WAFT_TRAP_CALL_STACK_EXHAUSTED when, on function entry, its frame address is
 * below waft_stack_limit (leaves, which call nothing and are reached only by
 * direct calls from checked functions, skip it: docs/security.md).  That check
 * runs after the function's prologue, so
 * the margin must hold (1) the largest frame a Wasm function pushes before its
 * check — the compiler measures every frame, checks bigger ones before they
 * are pushed (frame guards), and writes the largest unchecked one into the
 * module's header as P__MAX_UNCHECKED_FRAME, which the header checks against
 * this margin —, (2) the trap path (WAFT_TRAP_STACK_RESERVE), and (3) any
 * imported C function the module calls while near the limit
 * (docs/security.md has the measured figures for the WASI imports).
 *
 * Host: 64 KiB.  Imports (WASI) call into libc, whose stdio can use several
 * KiB of stack; Linux stacks are megabytes, so the margin costs nothing.
 * Cortex-M and RISC-V: 2 KiB, shared out as docs/security.md tabulates
 * (measured by waftkit/firmware/stack_usage.py from GCC's call graphs and the
 * libraries' machine code, and enforced by tests/safety): the trap path
 * (48 bytes on Cortex-M, 144 on riscv32-virt; WAFT_TRAP_STACK_RESERVE keeps
 * 256), the largest unchecked Wasm frame (the compiler guards frames above
 * 512 bytes: target.toml max_unguarded_frame), an interrupt taken at the
 * deepest point (the core's exception frame and the SysTick handler: 112
 * bytes on a Cortex-M4F), and what is left, about 1.2 KiB, for the deepest
 * import's whole call chain (1072 bytes on stm32f4 today).
 * Imports with deep C call chains (newlib's printf family among them) need a
 * larger margin: measure them (python -m waftkit.firmware.stack_usage) and
 * pass -DWAFT_STACK_MARGIN=... to everything that includes this file.
 */
#define WAFT_STACK_MARGIN_MIN 256
/* Stack the trap path may use below a frame that failed its check. */
#define WAFT_TRAP_STACK_RESERVE 256
#ifndef WAFT_STACK_MARGIN
#if defined(WAFT_PORT_HOST)
#define WAFT_STACK_MARGIN (64u * 1024u)
#else
#define WAFT_STACK_MARGIN (2u * 1024u)
#endif
#endif
#if WAFT_STACK_MARGIN < WAFT_STACK_MARGIN_MIN
#error "waft.h: WAFT_STACK_MARGIN is smaller than WAFT_STACK_MARGIN_MIN: the trap path itself would overflow the stack"
#endif

/* The exit status of a process whose trap reached no trap frame. 70 is
 * EX_SOFTWARE in <sysexits.h>: "internal software error". */
#define WAFT_TRAP_EXIT_STATUS 70

/*
 * WAFT_ABI_VERSION: the version of the contract in this file and docs/abi.md
 * (symbol names, struct layouts, calling conventions, trap codes), frozen per
 * version by docs/lts.md and the golden snapshots in tests/lts/golden/.
 * aot/abi.py's ABI_VERSION is the same number.  Checked twice:
 *   - at link time: every compiled module references the symbol
 *     waft_abi_v<N> (from its P__initialize), which only a runtime of
 *     version N defines (src/abi_version.c), so an object and a runtime of
 *     different versions fail to link with "undefined reference to
 *     `waft_abi_v<N>'" (waft's own link step says both versions in one line);
 *   - at compile time: a module's generated header #errors unless it is
 *     included with a waft.h of its version.
 * Bump it (and regenerate the goldens) for any change a separately built
 * object would notice; additions that old objects cannot see (a new helper,
 * a new trap code at the end) keep it.
 */
#define WAFT_ABI_VERSION 1
#define WAFT_ABI_CAT2_(a, b) a##b
#define WAFT_ABI_CAT_(a, b) WAFT_ABI_CAT2_(a, b)
/* The link-time marker: waft_abi_v1 for version 1. */
#define WAFT_ABI_SYMBOL WAFT_ABI_CAT_(waft_abi_v, WAFT_ABI_VERSION)

/* Spelling of noreturn and alignment that works from C11 and C++11 alike. */
#ifdef __cplusplus
#define WAFT_NORETURN [[noreturn]]
#define WAFT_ALIGNAS(n) alignas(n)
#else
#define WAFT_NORETURN _Noreturn
#define WAFT_ALIGNAS(n) _Alignas(n)
#endif

/* Defined by the runtime only (src/abi_version.c); holds WAFT_ABI_VERSION.
 * Referenced by every compiled module: see WAFT_ABI_VERSION. */
extern const uint8_t WAFT_ABI_SYMBOL;

/* ------------------------------------------------------------------------- */
/* Traps                                                                      */
/* ------------------------------------------------------------------------- */

/* Why execution stopped.  Values are stable: generated code passes them as
 * 32-bit integers (aot/abi.py's TRAP_CODES mirrors this list). */
typedef enum waft_trap_code {
    WAFT_TRAP_NONE = 0,                    /* no trap: the guarded call returned normally */
    WAFT_TRAP_UNREACHABLE = 1,             /* the `unreachable` instruction ran */
    WAFT_TRAP_MEMORY_OUT_OF_BOUNDS = 2,    /* load/store/bulk memory op or active data segment past the memory's size */
    WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO = 3,  /* div/rem with a zero divisor */
    WAFT_TRAP_INTEGER_OVERFLOW = 4,        /* signed division INT_MIN / -1, or trunc of a float outside the integer's range */
    WAFT_TRAP_INVALID_CONVERSION = 5,      /* trunc of NaN */
    WAFT_TRAP_INDIRECT_CALL_TYPE_MISMATCH = 6, /* call_indirect: the entry's signature differs from the expected one */
    WAFT_TRAP_UNDEFINED_ELEMENT = 7,       /* call_indirect: index past the table's current size */
    WAFT_TRAP_UNINITIALIZED_ELEMENT = 8,   /* call_indirect: the table entry is null */
    WAFT_TRAP_TABLE_OUT_OF_BOUNDS = 9,     /* table.get/set/fill/copy/init or active element segment out of bounds */
    WAFT_TRAP_CALL_STACK_EXHAUSTED = 10,   /* the native stack reached waft_stack_limit */
    WAFT_TRAP_NULL_REFERENCE = 11,         /* a null reference where a non-null one is required */
    WAFT_TRAP_HOST = 12,                   /* an imported (embedder) function gave up: an unsupported call, a bad argument */
    WAFT_TRAP_EXIT = 13,                   /* not an error: waft_exit() (WASI proc_exit) ended the program; see waft_exit_status */
    WAFT_TRAP_UNALIGNED_ATOMIC = 14,       /* an atomic access (threads proposal) at an address that is not a multiple of its size */
    WAFT_TRAP_EXPECTED_SHARED_MEMORY = 15, /* memory.atomic.wait32/64 on a memory that is not shared */
    WAFT_TRAP_DEADLOCK = 16,               /* memory.atomic.wait without a timeout where no other thread can ever notify (single-threaded runtime) */
    WAFT_TRAP__FORCE_32BIT = 0x7fffffff    /* not a code: keeps the enum 32 bits wide under -fshort-enums (arm-none-eabi's default) */
} waft_trap_code;

/* The number of trap codes, WAFT_TRAP_NONE included. */
#define WAFT_TRAP_CODE_COUNT 17

/* The spec interpreter's message for a trap ("out of bounds memory access"...),
 * "unknown trap" for a value outside the enum.  Never NULL. */
const char *waft_strerror(waft_trap_code code);

/*
 * Stop the running Wasm code.  Generated code calls this for every trap.
 * The default (a weak symbol: define your own waft_trap to replace it) unwinds
 * with longjmp to the innermost frame pushed by waft_trap_push, unlinking that
 * frame and storing `code` in it.  With no frame pushed it writes
 * "waft: trap: <message>\n" to the port's error console (stderr on the host,
 * semihosting on Cortex-M) and exits with WAFT_TRAP_EXIT_STATUS; for
 * WAFT_TRAP_EXIT it exits silently with waft_exit_status.
 * WAFT_TRAP_NONE is not a trap; passing it is reported as WAFT_TRAP_HOST.
 * longjmp runs no C++ destructors: keep C++ frames with non-trivial locals out
 * of the stretch between a waft_call_guarded and the Wasm code it calls.
 */
WAFT_NORETURN void waft_trap(waft_trap_code code);

/* What the default waft_trap does, for a replacement that handles some traps
 * itself and leaves the rest to the usual unwinding. */
WAFT_NORETURN void waft_trap_unwind(waft_trap_code code);

/* One trap boundary on the native stack.  Push before calling into Wasm, pop
 * after it returns normally; a trap unlinks it and longjmps to `jmp`. */
typedef struct waft_trap_frame {
    jmp_buf jmp;                        /* where waft_trap longjmps to (with value 1) */
    struct waft_trap_frame *prev;       /* the next outer frame, NULL for the outermost */
    volatile waft_trap_code code;       /* set by waft_trap before the longjmp; volatile because it changes between setjmp and longjmp */
} waft_trap_frame;

/* The calling thread's innermost pushed frame, NULL when none (for embedders
 * that replace waft_trap). */
extern WAFT_THREAD_LOCAL waft_trap_frame *waft_trap_current;

/* Link `frame` as the innermost one.  Also initialises waft_stack_limit (via
 * waft_stack_init) the first time, while it is still 0.  Call setjmp(frame->jmp)
 * yourself, in a function that stays live until the matching pop. */
void waft_trap_push(waft_trap_frame *frame);

/* Unlink `frame`, which must be the innermost one (after a normal return). */
void waft_trap_pop(waft_trap_frame *frame);

/* Run fn(a, b) behind a trap boundary: push, setjmp, call, pop.  Returns
 * WAFT_TRAP_NONE when fn returned, else the code it trapped with.  Nests:
 * an import may call back into Wasm through its own waft_call_guarded. */
waft_trap_code waft_call_guarded(void (*fn)(void *, void *), void *a, void *b);

/* The status passed to the last waft_exit (0 until then). */
extern int32_t waft_exit_status;

/* End the program with `status` (WASI proc_exit): records it in
 * waft_exit_status and traps with WAFT_TRAP_EXIT, so the innermost
 * waft_call_guarded returns WAFT_TRAP_EXIT, or the process exits with
 * `status` when no frame is pushed. */
WAFT_NORETURN void waft_exit(int32_t status);

/* ------------------------------------------------------------------------- */
/* Native stack limit                                                         */
/* ------------------------------------------------------------------------- */

/* Generated code traps with WAFT_TRAP_CALL_STACK_EXHAUSTED when, on function
 * entry, its frame address is below this value.  0 means "not set yet": no
 * check fires.  Set by waft_stack_init (lazily from waft_trap_push); an
 * embedder that runs Wasm on another stack (an RTOS task) sets it to that
 * stack's low end + WAFT_STACK_MARGIN before calling in.  Per thread on the
 * host (WAFT_THREAD_LOCAL). */
extern WAFT_THREAD_LOCAL uintptr_t waft_stack_limit;

/* Port function: set waft_stack_limit to the current thread's stack low end
 * plus WAFT_STACK_MARGIN.  Host: from pthread_getattr_np.  Cortex-M: from the
 * linker symbol __StackLimit, which every target's linker script must define
 * (with __StackTop) as the lowest address of the main stack.  Weak. */
void waft_stack_init(void);

/* ------------------------------------------------------------------------- */
/* Port layer (port/host, port/cortex-m); weak, so a board may replace them   */
/* ------------------------------------------------------------------------- */

/* Write `text` (NUL-terminated) to the error console: stderr on the host,
 * semihosting SYS_WRITE0 on Cortex-M. */
void waft_port_write_error(const char *text);

/* End the process with `status`: exit() on the host, semihosting
 * SYS_EXIT_EXTENDED on Cortex-M (then a halt loop if the debugger ignores it). */
WAFT_NORETURN void waft_port_exit(int status);

/* ------------------------------------------------------------------------- */
/* Linear memory                                                              */
/* ------------------------------------------------------------------------- */

/* One linear memory.  Its storage (max_pages pages) lives in the instance or
 * wherever the embedder put it; the runtime never allocates. */
typedef struct waft_memory {
    uint8_t *base;            /* byte 0 of linear memory */
    size_t size;              /* current size in bytes (pages << page_size_log2) */
    uint32_t pages;           /* current size in pages */
    uint32_t max_pages;       /* build-time cap; memory.grow never passes it */
    uint32_t page_size_log2;  /* 16, or 0 for 1-byte pages (custom-page-sizes) */
} waft_memory;

/* memory.grow: add `delta_pages` zero-filled pages.  Returns the old page count,
 * or -1 (memory unchanged) when the result would pass max_pages or not fit a
 * size_t.  Works for any page_size_log2, 0 included.  Threads sharing the
 * memory may grow it at once: growth is serialised by the port hooks below,
 * and `pages`/`size` only ever increase, so a thread reading them without the
 * lock sees an old or a new size, both backed by storage. */
int32_t waft_memory_grow(waft_memory *m, uint32_t delta_pages);

/* Port hooks (weak; no-ops for a single thread): hold off other threads'
 * waft_memory_grow while one zero-fills and publishes its pages.  The host's
 * threads (runtime_c/threads/os_posix.c) use a mutex. */
void waft_port_memory_grow_lock(void);
void waft_port_memory_grow_unlock(void);

/* memory.init and active data segments: copy data[src .. src+n) to
 * m[dst .. dst+n).  Traps with WAFT_TRAP_MEMORY_OUT_OF_BOUNDS, copying nothing,
 * when src + n > data_len or dst + n > m->size (also when n is 0, as the spec
 * requires).  A dropped segment is data_len 0. */
void waft_memory_init(waft_memory *m, uint32_t dst, const uint8_t *data, uint32_t data_len,
                      uint32_t src, uint32_t n);

/* memory.copy: memmove semantics (ranges may overlap, and the memories may be
 * the same).  Traps with WAFT_TRAP_MEMORY_OUT_OF_BOUNDS when either range is
 * out of bounds. */
void waft_memory_copy(waft_memory *dst_mem, uint32_t dst, const waft_memory *src_mem, uint32_t src,
                      uint32_t n);

/* memory.fill: set m[dst .. dst+n) to the low byte of `value`.  Traps with
 * WAFT_TRAP_MEMORY_OUT_OF_BOUNDS when the range is out of bounds. */
void waft_memory_fill(waft_memory *m, uint32_t dst, uint32_t value, uint32_t n);

/* ------------------------------------------------------------------------- */
/* Threads proposal: memory.atomic.wait32/64 and memory.atomic.notify          */
/* ------------------------------------------------------------------------- */

/* Generated code checks bounds and alignment (and traps with
 * WAFT_TRAP_EXPECTED_SHARED_MEMORY for a wait on an unshared memory) before it
 * calls these, so `cell` always points at a naturally aligned cell inside a
 * shared linear memory.  The cell's address is the wait queue's key: instances
 * that share the memory share the cell.  src/atomic_wait.c implements them on
 * top of the two port hooks below. */

/* What memory.atomic.wait32/64 return (the proposal's numbers). */
#define WAFT_WAIT_OK 0u         /* woken by memory.atomic.notify */
#define WAFT_WAIT_NOT_EQUAL 1u  /* the cell did not hold `expected` */
#define WAFT_WAIT_TIMED_OUT 2u  /* `timeout_ns` passed first */

/* memory.atomic.wait32: WAFT_WAIT_NOT_EQUAL at once unless *cell == expected,
 * else block until notified or until timeout_ns nanoseconds pass (a negative
 * timeout waits forever). */
uint32_t waft_atomic_wait32(volatile uint32_t *cell, uint32_t expected, int64_t timeout_ns);

/* memory.atomic.wait64: the same on a 64-bit cell. */
uint32_t waft_atomic_wait64(volatile uint64_t *cell, uint64_t expected, int64_t timeout_ns);

/* memory.atomic.notify: wake up to `count` threads waiting on `cell`; returns
 * how many were woken. */
uint32_t waft_atomic_notify(volatile void *cell, uint32_t count);

/*
 * Port hooks for the blocking part, so that a multi-threaded runtime (host
 * pthreads, a Cortex-M kernel, an RTOS) replaces only these two.  Both are weak;
 * the defaults in src/atomic_wait.c are for a single thread, where nobody can
 * notify: waft_port_wait_block sleeps for the timeout (waft_port_sleep_ns) and
 * returns WAFT_WAIT_TIMED_OUT, or traps with WAFT_TRAP_DEADLOCK for a negative
 * timeout, and waft_port_wait_wake wakes nobody.
 *
 * waft_port_wait_block: block the calling thread on `cell` until woken by
 * waft_port_wait_wake or until timeout_ns passes (negative: no timeout).  A
 * multi-threaded port must compare the `size`-byte (4 or 8) value at `cell`
 * with `expected` again under its wait-queue lock, and return
 * WAFT_WAIT_NOT_EQUAL when it differs, so that a notify between the runtime's
 * first comparison and the enqueue is never lost.  Returns a WAFT_WAIT_* value.
 */
uint32_t waft_port_wait_block(volatile void *cell, uint64_t expected, uint32_t size, int64_t timeout_ns);

/* Wake up to `count` threads blocked on `cell`; returns how many were woken. */
uint32_t waft_port_wait_wake(volatile void *cell, uint32_t count);

/* Port function: sleep at least `ns` nanoseconds (weak).  Host: nanosleep.
 * Cortex-M and RISC-V: polls the semihosting clock (SYS_CLOCK, 10 ms steps), so
 * like the error console it needs a debugger or QEMU; boards replace it. */
void waft_port_sleep_ns(uint64_t ns);

/* ------------------------------------------------------------------------- */
/* Tables and functions                                                       */
/* ------------------------------------------------------------------------- */

/* One table.  Its storage (max entries) lives in the instance. */
typedef struct waft_table {
    void **elems;             /* funcref: const waft_func *; externref: void * */
    uint32_t size;            /* current number of entries */
    uint32_t max;             /* build-time cap; table.grow never passes it */
} waft_table;

/* A function reference: what funcref values and table entries point to. */
typedef struct waft_func {
    const char *signature;    /* signature string ("iI:f"), see docs/abi.md */
    void (*code)(void);       /* internal calling convention: R code(void *instance, params...) */
    void *instance;           /* first argument for code */
} waft_func;

/* table.grow: add `delta` entries set to `init`.  Returns the old size, or -1
 * (table unchanged) when the result would pass max. */
int32_t waft_table_grow(waft_table *t, uint32_t delta, void *init);

/* table.init and active element segments: copy elems[src .. src+n) to
 * t[dst .. dst+n).  Traps with WAFT_TRAP_TABLE_OUT_OF_BOUNDS, copying nothing,
 * when either range is out of bounds (also when n is 0).  A dropped segment is
 * elems_len 0. */
void waft_table_init(waft_table *t, uint32_t dst, void *const *elems, uint32_t elems_len,
                     uint32_t src, uint32_t n);

/* table.copy: memmove semantics.  Traps with WAFT_TRAP_TABLE_OUT_OF_BOUNDS
 * when either range is out of bounds. */
void waft_table_copy(waft_table *dst_table, uint32_t dst, const waft_table *src_table, uint32_t src,
                     uint32_t n);

/* table.fill: set t[dst .. dst+n) to `value`.  Traps with
 * WAFT_TRAP_TABLE_OUT_OF_BOUNDS when the range is out of bounds. */
void waft_table_fill(waft_table *t, uint32_t dst, void *value, uint32_t n);

/* call_indirect's slow path: do two signature strings name the same type?
 * Compares the pointers first (each string is one linkonce constant per link),
 * then the text (strings from separately linked objects).  NULL equals only NULL. */
bool waft_func_signature_equal(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_H */
