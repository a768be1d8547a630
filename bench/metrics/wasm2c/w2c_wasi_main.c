/*
 * w2c_wasi_main.c: main() of a WASI command translated by wasm2c, for the wasm2c peer of the wasi and
 * startup metric groups: set up the WASI process as Waft's mains do (a board: the generated
 * wasi_config.c, waft_wasi_baremetal_setup; the host: argv[1], when given, preopened as "fs"),
 * instantiate, run _start behind Waft's trap boundary, return its exit status.
 */
#include <stddef.h>

#include "w2c_wasi.h"

#if defined(BENCH_BOARD)
int waft_wasi_baremetal_setup(waft_wasi_ctx *ctx);
#endif

static Z_prog_instance_t inst;
static struct Z_wasi_snapshot_preview1_instance_t wasi;

static void start(void *instance) { Z_progZ__start((Z_prog_instance_t *)instance); }

int main(int argc, char **argv) {
#if defined(BENCH_BOARD)
    (void)argc;
    (void)argv;
    if (waft_wasi_baremetal_setup(&wasi.wasi) != 0) return WAFT_TRAP_EXIT_STATUS;
#else
    static const char *const guest_argv[] = {"program.wasm", NULL};
    waft_wasi_init(&wasi.wasi, 1, guest_argv, NULL);
    if (argc > 1 && waft_wasi_preopen_dir(&wasi.wasi, argv[1], "fs") < 0) return WAFT_TRAP_EXIT_STATUS;
#endif
    wasm_rt_init();
    Z_prog_init_module();
    Z_prog_instantiate(&inst, &wasi);
    w2c_wasi_attach(&wasi, Z_progZ_memory(&inst));
    return waft_wasi_run_start(&wasi.wasi, start, &inst);
}
