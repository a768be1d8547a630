/*
 * baremetal_main.c: main() for a WASI command module on a bare-metal board:
 * set up the WASI process from the configuration fixed at build time,
 * instantiate the module, run _start, return its exit status (which the
 * board's startup code hands to exit(): under QEMU, the emulator's status).
 *
 * Compile with the module's prefix and header:
 *     -DWAFT_MODULE=prog -include prog.h
 * and link with the generated configuration (waftkit/firmware/wasi_firmware.py writes
 * it: args, environ, the RAM filesystem's seed and preopens), which defines
 * waft_wasi_baremetal_setup.  The instance (linear memory included) is a
 * static object, so the linker checks that it fits the board's RAM.
 *
 * What the module imports beyond WASI p1 is described by -D options that
 * waftkit/firmware/embedding.py works out from the module (host_main.c reads
 * the same ones):
 *   WAFT_MAIN_NO_WASI_P1             it imports nothing from wasi_snapshot_preview1
 *       (so its imports struct has no such member);
 *   WAFT_MAIN_IMPORTED_MEMORY=member its memory is imported (threaded modules'
 *       is): a static array of WAFT_MAIN_IMPORTED_MEMORY_CAP pages, of which
 *       WAFT_MAIN_IMPORTED_MEMORY_MIN are in use at the start;
 *   WAFT_MAIN_IMPORTS_WASI, WAFT_MAIN_IMPORTS_EXT_THREADS=member  it imports
 *       wasi-threads' spawn or wasi-ext:threads: the kernel (runtime_c/kernel)
 *       starts before the module, with main() as the thread of priority
 *       WAFT_MAIN_PRIORITY (default 1), and the module's threads run on a pool
 *       of WAFT_MAX_THREADS - 1 static instances (WAFT_MAIN_THREADS: it
 *       exports wasi_thread_start; without it every spawn answers -ENOTSUP).
 */
#include "port_baremetal.h"
#include "waft_wasi.h"
#if defined(WAFT_MAIN_IMPORTS_WASI) || defined(WAFT_MAIN_IMPORTS_EXT_THREADS)
#define WAFT_MAIN_USES_THREADS 1
#include "../threads/waft_threads.h"
#endif

#ifndef WAFT_MODULE
#error "baremetal_main.c: compile with -DWAFT_MODULE=<prefix> -include <prefix>.h"
#endif
#ifndef WAFT_MAIN_PRIORITY
#define WAFT_MAIN_PRIORITY 1
#endif

#define WAFT_BM_CAT2(a, b) a##b
#define WAFT_BM_CAT(a, b) WAFT_BM_CAT2(a, b)
#define M(name) WAFT_BM_CAT(WAFT_MODULE, name)

/* From the generated configuration: fill `ctx` (args, environ, preopens).
 * Returns 0, or a WASI errno after printing why. */
int waft_wasi_baremetal_setup(waft_wasi_ctx *ctx);

static void start(void *inst) { M(___x5fstart)((M(__instance) *)inst); }

static waft_wasi_ctx ctx;

#if defined(WAFT_MAIN_IMPORTED_MEMORY)
/* Zero-filled .bss, its whole cap reserved, so memory.grow never moves it. */
static uint8_t memory_storage[(size_t)WAFT_MAIN_IMPORTED_MEMORY_CAP << 16] __attribute__((aligned(16)));
static waft_memory memory = {
    .base = memory_storage,
    .size = (size_t)WAFT_MAIN_IMPORTED_MEMORY_MIN << 16,
    .pages = WAFT_MAIN_IMPORTED_MEMORY_MIN,
    .max_pages = WAFT_MAIN_IMPORTED_MEMORY_CAP,
    .page_size_log2 = 16,
};
#endif

#if defined(WAFT_MAIN_USES_THREADS)
static waft_threads threads;
#endif

static void fill_imports(M(__imports) *imports) {
#if !defined(WAFT_MAIN_NO_WASI_P1)
    imports->wasi_snapshot_preview1 = &ctx;
#endif
#if defined(WAFT_MAIN_IMPORTED_MEMORY)
    imports->WAFT_MAIN_IMPORTED_MEMORY = &memory;
#endif
#if defined(WAFT_MAIN_IMPORTS_WASI)
    imports->wasi = &threads;
#endif
#if defined(WAFT_MAIN_IMPORTS_EXT_THREADS)
    imports->WAFT_MAIN_IMPORTS_EXT_THREADS = &threads;
#endif
    (void)imports;
}

#if defined(WAFT_MAIN_THREADS)
static M(__instance) thread_instances[WAFT_MAX_THREADS - 1];

static waft_trap_code instantiate_thread(void *inst, void *user) {
    (void)user;
    M(__imports) imports = {0};
    fill_imports(&imports);
    return M(__instantiate)((M(__instance) *)inst, &imports);
}

static void thread_start(void *inst, int32_t tid, int32_t start_arg) {
    M(_wasi_thread_start)((M(__instance) *)inst, tid, start_arg);
}

/* A thread trapped or called proc_exit: the firmware ends, with the status
 * _start would have given (under QEMU, the emulator's exit status). */
static void end_program(void *user, waft_trap_code code) {
    (void)user;
    waft_port_exit(waft_wasi_exit_status(&ctx, code));
}
#endif

static int start_threads(void) {
#if defined(WAFT_MAIN_USES_THREADS)
    if (waft_os_init(WAFT_MAIN_PRIORITY) != WAFT_OS_OK) {
        return -1;
    }
#endif
#if defined(WAFT_MAIN_THREADS)
    waft_threads_module module = {
        .instances = thread_instances,
        .instance_stride = sizeof thread_instances[0],
        .max_threads = WAFT_MAX_THREADS - 1,
        .instantiate = instantiate_thread,
        .thread_start = thread_start,
        .end_program = end_program,
    };
    return waft_threads_init(&threads, &module);
#elif defined(WAFT_MAIN_USES_THREADS)
    waft_threads_module none = {0}; /* no wasi_thread_start: spawn answers -ENOTSUP */
    return waft_threads_init(&threads, &none);
#else
    return 0;
#endif
}

int main(void) {
    static M(__instance) inst;
    if (waft_wasi_baremetal_setup(&ctx) != 0) {
        return WAFT_TRAP_EXIT_STATUS;
    }
    if (start_threads() != 0) {
        waft_port_write_error("waft: the thread pool cannot be set up\n");
        return WAFT_TRAP_EXIT_STATUS;
    }
    M(__imports) imports = {0};
    fill_imports(&imports);
    waft_trap_code code = M(__instantiate)(&inst, &imports);
    if (code != WAFT_TRAP_NONE) {
        waft_port_write_error("waft: trap: ");
        waft_port_write_error(waft_strerror(code));
        waft_port_write_error(" (instantiating)\n");
        return WAFT_TRAP_EXIT_STATUS;
    }
    waft_wasi_set_memory(&ctx, M(_memory)(&inst));
#if defined(WAFT_MAIN_USES_THREADS)
    waft_threads_set_memory(&threads, M(_memory)(&inst));
#endif
    return waft_wasi_run_start(&ctx, start, &inst);
}
