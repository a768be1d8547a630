/*
 * host_main.c: the host embedder `waft run` (and the WASI tests) link each compiled program
 * with: parse the options, set up a waft_wasi_ctx, instantiate, run _start.
 *
 *     runner [--dir HOST::GUEST]... [--env K=V]... [--listen A.B.C.D:PORT]... [--] ARGS...
 *
 * ARGS become the guest's argv (argv[0] included).  --listen prints
 * "waft: listening on PORT" to stderr once the socket is bound, so a test
 * can connect to a port the kernel picked (":0").  The module must have been
 * compiled under the prefix `prog`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"
#include "waft_wasi.h"

#define MAX_ENV 64

static void start(void *inst) { prog___x5fstart((prog__instance *)inst); }

int main(int argc, char **argv) {
    static waft_wasi_ctx ctx;
    const char *dirs[16][2];
    const char *listens[4];
    const char *env[MAX_ENV + 1];
    int ndirs = 0, nlistens = 0, nenv = 0, i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc && ndirs < 16) {
            char *spec = argv[++i];
            char *sep = strstr(spec, "::");
            if (sep == NULL) {
                fprintf(stderr, "runner: --dir wants HOST::GUEST, got %s\n", spec);
                return 2;
            }
            *sep = '\0';
            dirs[ndirs][0] = spec;
            dirs[ndirs][1] = sep + 2;
            ndirs++;
        } else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc && nenv < MAX_ENV) {
            env[nenv++] = argv[++i];
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && nlistens < 4) {
            listens[nlistens++] = argv[++i];
        } else {
            break;
        }
    }
    env[nenv] = NULL;
    waft_wasi_init(&ctx, argc - i, (const char *const *)argv + i, env);
    for (int d = 0; d < ndirs; d++) {
        int32_t fd = waft_wasi_preopen_dir(&ctx, dirs[d][0], dirs[d][1]);
        if (fd < 0) {
            fprintf(stderr, "runner: cannot preopen %s: %s\n", dirs[d][0], waft_wasi_errno_name(-fd));
            return 2;
        }
    }
    for (int l = 0; l < nlistens; l++) {
        uint16_t port = 0;
        int32_t fd = waft_wasi_listen_tcp(&ctx, listens[l], &port);
        if (fd < 0) {
            fprintf(stderr, "runner: cannot listen on %s: %s\n", listens[l], waft_wasi_errno_name(-fd));
            return 2;
        }
        fprintf(stderr, "waft: listening on %u\n", (unsigned)port);
        fflush(stderr);
    }
    prog__instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL) {
        fprintf(stderr, "runner: out of memory for the instance\n");
        return 2;
    }
    prog__imports imports = {.wasi_snapshot_preview1 = &ctx};
    waft_trap_code code = prog__instantiate(inst, &imports);
    if (code != WAFT_TRAP_NONE) {
        fprintf(stderr, "waft: trap: %s (instantiating)\n", waft_strerror(code));
        return WAFT_TRAP_EXIT_STATUS;
    }
    waft_wasi_set_memory(&ctx, prog_memory(inst));
    int32_t status = waft_wasi_run_start(&ctx, start, inst);
    waft_wasi_destroy(&ctx);
    free(inst);
    return (int)status;
}
