/*
 * host_main.c: the host embedder `waft run` (and the WASI tests) link each compiled program
 * with: parse the options, set up a waft_wasi_ctx, instantiate, run _start.
 *
 *     runner [--dir HOST::GUEST]... [--env K=V]... [--listen A.B.C.D:PORT]... [--] ARGS...
 *
 * ARGS become the guest's argv (argv[0] included).  For a module that
 * imports wasi-ext:sockets, --listen SPEC, --allow-connect SPEC and
 * --resolve NAME=ADDRESS are its grants and name table instead (embed_ext.h,
 * docs/sockets.md): it opens its own listeners.  Otherwise --listen prints
 * "waft: listening on PORT" to stderr once the socket is bound, so a test
 * can connect to a port the kernel picked (":0").  The module must have been
 * compiled under the prefix `prog`.
 *
 * What the module imports is described by -D options (waftkit/run.py works
 * them out from the module):
 *   WAFT_MAIN_NO_WASI_P1         it imports nothing from wasi_snapshot_preview1
 *       (so its imports struct has no such member);
 *   WAFT_MAIN_IMPORTED_MEMORY=member  the module imports its memory (wasi-threads
 *       modules do: `(import "env" "memory" (memory 1 16 shared))`); the runner
 *       provides it, WAFT_MAIN_IMPORTED_MEMORY_MIN pages initially and room for
 *       WAFT_MAIN_IMPORTED_MEMORY_CAP;
 * and the threads and signals options of embed_ext.h, which does that wiring
 * for this main and baremetal_main.c alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"
#include "waft_wasi.h"

#define MAX_ENV 64

static void start(void *inst) { prog___x5fstart((prog__instance *)inst); }

static waft_wasi_ctx ctx;

#if defined(WAFT_MAIN_IMPORTED_MEMORY)
static waft_memory memory;

/* The imported memory, zero-filled, with its whole cap reserved up front so
 * that memory.grow never moves it under another thread. */
static int provide_memory(void) {
    memory.base = calloc(WAFT_MAIN_IMPORTED_MEMORY_CAP ? (size_t)WAFT_MAIN_IMPORTED_MEMORY_CAP : 1, 65536);
    if (memory.base == NULL) {
        return -1;
    }
    memory.pages = WAFT_MAIN_IMPORTED_MEMORY_MIN;
    memory.size = (size_t)WAFT_MAIN_IMPORTED_MEMORY_MIN << 16;
    memory.max_pages = WAFT_MAIN_IMPORTED_MEMORY_CAP;
    memory.page_size_log2 = 16;
    return 0;
}
#endif

#define EMBED_CAT2(a, b) a##b
#define EMBED_M(name) EMBED_CAT2(prog, name) /* two levels: `name` may be a macro */
#define EMBED_FLUSH() fflush(stdout)
#include "embed_ext.h"

int main(int argc, char **argv) {
    const char *dirs[16][2];
    const char *listens[4];
    const char *env[MAX_ENV + 1];
    int ndirs = 0, nlistens = 0, nenv = 0, i = 1;
#if defined(WAFT_MAIN_USES_SOCKETS)
    int taken;
#endif
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
#if defined(WAFT_MAIN_USES_SOCKETS)
        } else if (i + 1 < argc && (taken = embed_sockets_option(argv[i], argv[i + 1])) != 0) {
            if (taken < 0) {
                return 2;
            }
            i++;
#endif
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
#if defined(WAFT_MAIN_IMPORTED_MEMORY)
    if (provide_memory() != 0) {
        fprintf(stderr, "runner: out of memory for the module's imported memory\n");
        return 2;
    }
#endif
    if (embed_start() != 0) {
        return 2;
    }
    prog__imports imports = {0};
    embed_fill_imports(&imports);
    waft_trap_code code = prog__instantiate(inst, &imports);
    if (code != WAFT_TRAP_NONE) {
        fprintf(stderr, "waft: trap: %s (instantiating)\n", waft_strerror(code));
        return WAFT_TRAP_EXIT_STATUS;
    }
    embed_instantiated(inst);
    int32_t status = waft_wasi_run_start(&ctx, start, inst);
    waft_wasi_destroy(&ctx);
    free(inst);
    return (int)status;
}
