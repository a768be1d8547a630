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
 * static object, so the linker checks that it fits the board's RAM; on
 * Cortex-M it is not zeroed at reset (see WAFT_MAIN_INSTANCE_STORAGE).
 *
 * What the module imports beyond WASI p1 is described by -D options that
 * waftkit/firmware/embedding.py works out from the module (host_main.c reads
 * the same ones):
 *   WAFT_MAIN_INSTANCE_IN_BSS        the instance goes in .bss, zeroed at reset, not in
 *       .noinit (for linker scripts without one: waft bsp's vendor builds);
 *   WAFT_MAIN_NO_WASI_P1             it imports nothing from wasi_snapshot_preview1
 *       (so its imports struct has no such member);
 *   WAFT_MAIN_IMPORTED_MEMORY=member its memory is imported (threaded modules'
 *       is): a static array of WAFT_MAIN_IMPORTED_MEMORY_CAP pages, of which
 *       WAFT_MAIN_IMPORTED_MEMORY_MIN are in use at the start;
 * and the threads and signals options of main/embed_ext.h, which does that
 * wiring for this main and host_main.c alike (with threads, the kernel starts
 * before the module, main() being the thread of priority
 * WAFT_MAIN_PRIORITY, default 1).
 */
#include "port_baremetal.h"
#include "waft_wasi.h"

#ifndef WAFT_MODULE
#error "baremetal_main.c: compile with -DWAFT_MODULE=<prefix> -include <prefix>.h"
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

#if defined(WAFT_PORT_CORTEX_M) && !defined(WAFT_MAIN_INSTANCE_IN_BSS)
/* The instance goes where reset does not zero it (sections.ld's .noinit, after
 * .bss; a build whose linker script has none, such as a `waft bsp` drop-in in a
 * vendor's firmware, defines WAFT_MAIN_INSTANCE_IN_BSS and keeps it in .bss).  Its linear memory is most of it, and M(__instantiate) zeroes the
 * initial pages itself, as docs/abi.md's contract asks (an instance may live on
 * the stack, garbage and all): zeroing it as .bss too cleared every page twice
 * before the first Wasm instruction (~30,000 instructions per 64 KiB on a
 * Cortex-M4).  Every other byte of it is written by instantiation before it is
 * read, and memory.grow zero-fills the pages it adds (waft_memory_grow).
 * tests/bench/test_startup_zero_once.py boots with the section painted. */
#define WAFT_MAIN_INSTANCE_STORAGE __attribute__((section(".noinit.waft_instance")))
/* Defined by sections.ld's .noinit: a linker script without one fails the
 * link here instead of putting the instance where the heap also goes. */
extern char __noinit_end__[];
#define WAFT_MAIN_REQUIRE_NOINIT() __asm__ volatile("" : : "r"(__noinit_end__))
#else
#define WAFT_MAIN_INSTANCE_STORAGE
#define WAFT_MAIN_REQUIRE_NOINIT() ((void)0)
#endif

#define EMBED_M(name) M(name)
#include "main/embed_ext.h"

int main(void) {
    static M(__instance) inst WAFT_MAIN_INSTANCE_STORAGE;
    WAFT_MAIN_REQUIRE_NOINIT();
    if (waft_wasi_baremetal_setup(&ctx) != 0) {
        return WAFT_TRAP_EXIT_STATUS;
    }
    if (embed_start() != 0) {
        return WAFT_TRAP_EXIT_STATUS;
    }
    M(__imports) imports = {0};
    embed_fill_imports(&imports);
    waft_trap_code code = M(__instantiate)(&inst, &imports);
    if (code != WAFT_TRAP_NONE) {
        waft_port_write_error("waft: trap: ");
        waft_port_write_error(waft_strerror(code));
        waft_port_write_error(" (instantiating)\n");
        return WAFT_TRAP_EXIT_STATUS;
    }
    embed_instantiated(&inst);
    return waft_wasi_run_start(&ctx, start, &inst);
}
