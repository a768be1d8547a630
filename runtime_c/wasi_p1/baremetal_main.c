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

int main(void) {
    static waft_wasi_ctx ctx;
    static M(__instance) inst;
    if (waft_wasi_baremetal_setup(&ctx) != 0) {
        return WAFT_TRAP_EXIT_STATUS;
    }
    M(__imports) imports = {.wasi_snapshot_preview1 = &ctx};
    waft_trap_code code = M(__instantiate)(&inst, &imports);
    if (code != WAFT_TRAP_NONE) {
        waft_port_write_error("waft: trap: ");
        waft_port_write_error(waft_strerror(code));
        waft_port_write_error(" (instantiating)\n");
        return WAFT_TRAP_EXIT_STATUS;
    }
    waft_wasi_set_memory(&ctx, M(_memory)(&inst));
    return waft_wasi_run_start(&ctx, start, &inst);
}
