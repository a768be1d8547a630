/*
 * wasi_direct.c: the WASI runtime's embedder API and edge cases, called from
 * C with a waft_memory over a static buffer (no compiled module needed):
 * a ctx without memory, preopen and listen errors, a full fd table,
 * waft_wasi_run_start's statuses for return / proc_exit / trap / proc_raise,
 * and destroy closing what the guest left open.  Prints "ok <name>" per
 * check and exits non-zero on the first failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waft_wasi.h"

#define W(name) wasi_snapshot_preview1__##name
#define CHECK(name, cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAILED %s (line %d): %s\n", name, __LINE__, #cond);        \
            exit(1);                                                           \
        }                                                                      \
        printf("ok %s\n", name);                                               \
    } while (0)

static uint8_t storage[65536];
static waft_memory memory = {storage, sizeof storage, 1, 1, 16};
static waft_wasi_ctx ctx;

static void returns(void *inst) { (void)inst; }
static void exits(void *inst) { W(proc_exit)(inst, 7); }
static void traps(void *inst) { (void)inst; waft_trap(WAFT_TRAP_INTEGER_DIVIDE_BY_ZERO); }
static void raises(void *inst) { (void)W(proc_raise)(inst, WAFT_WASI_SIGNAL_TERM); }

int main(int argc, char **argv) {
    (void)argc;
    const char *args[] = {"prog", "x"};
    const char *env[] = {"A=1", NULL};
    waft_wasi_init(&ctx, 2, args, env);

    /* No memory yet: every pointer is out of bounds, even address 0. */
    CHECK("no memory: FAULT", W(args_sizes_get)(&ctx, 0, 4) == WAFT_WASI_ERRNO_FAULT);
    waft_wasi_set_memory(&ctx, &memory);
    CHECK("args sizes", W(args_sizes_get)(&ctx, 0, 4) == 0 && storage[0] == 2 && storage[4] == 7);
    CHECK("args", W(args_get)(&ctx, 16, 64) == 0 && strcmp((char *)storage + 64, "prog") == 0 &&
                      storage[16] == 64 && storage[20] == 69);
    CHECK("environ", W(environ_sizes_get)(&ctx, 0, 4) == 0 && storage[0] == 1 && storage[4] == 4);
    CHECK("args_get past the end", W(args_get)(&ctx, 16, (int32_t)sizeof storage - 3) == WAFT_WASI_ERRNO_FAULT);
    /* The guest's memory grows: the new size counts at once. */
    memory.size = 32768;
    CHECK("shrunk view: FAULT", W(random_get)(&ctx, 40000, 4) == WAFT_WASI_ERRNO_FAULT);
    memory.size = sizeof storage;
    CHECK("grown view: ok", W(random_get)(&ctx, 40000, 4) == 0);

    CHECK("preopen missing dir", waft_wasi_preopen_dir(&ctx, "/nonexistent/waft", "x") == -WAFT_WASI_ERRNO_NOENT);
    CHECK("preopen a file", waft_wasi_preopen_dir(&ctx, argv[0], "x") == -WAFT_WASI_ERRNO_NOTDIR);
    int32_t dir = waft_wasi_preopen_dir(&ctx, ".", "/sandbox");
    CHECK("preopen", dir == 3 && ctx.fds[3].kind == WAFT_WASI_FD_PREOPEN);
    CHECK("listen bad address", waft_wasi_listen_tcp(&ctx, "localhost", NULL) == -WAFT_WASI_ERRNO_INVAL &&
                                    waft_wasi_listen_tcp(&ctx, "1.2.3:80", NULL) == -WAFT_WASI_ERRNO_INVAL &&
                                    waft_wasi_listen_tcp(&ctx, "127.0.0.1:99999", NULL) == -WAFT_WASI_ERRNO_INVAL);
    uint16_t port = 0;
    int32_t listener = waft_wasi_listen_tcp(&ctx, "127.0.0.1:0", &port);
    CHECK("listen", listener == 4 && port != 0 && ctx.fds[4].kind == WAFT_WASI_FD_SOCKET);

    /* Fill the table through path_open: NFILE when full, and nothing leaks. */
    const char *name = "wasi_direct.c";
    memcpy(storage + 100, name, strlen(name));
    int opened = 0;
    int32_t err;
    while ((err = W(path_open)(&ctx, dir, 0, 100, (int32_t)strlen(name), 0, WAFT_WASI_RIGHTS_FD_READ, 0, 0, 200)) == 0) {
        opened++;
    }
    CHECK("table full: NFILE", err == WAFT_WASI_ERRNO_NFILE && opened == WAFT_WASI_MAX_FDS - 5);
    int32_t last = (int32_t)(storage[200] | storage[201] << 8);
    CHECK("close frees a slot", W(fd_close)(&ctx, last) == 0 &&
                                   W(path_open)(&ctx, dir, 0, 100, (int32_t)strlen(name), 0, 2, 0, 0, 200) == 0);
    int32_t host = ctx.fds[last].host;

    CHECK("returning from _start is 0", waft_wasi_run_start(&ctx, returns, &ctx) == 0);
    CHECK("proc_exit", waft_wasi_run_start(&ctx, exits, &ctx) == 7 && ctx.exited && ctx.exit_code == 7);
    CHECK("trap is 70", waft_wasi_run_start(&ctx, traps, &ctx) == WAFT_TRAP_EXIT_STATUS);
    CHECK("proc_raise SIGTERM is 143", waft_wasi_run_start(&ctx, raises, &ctx) == 128 + 15 &&
                                           ctx.raised_signal == WAFT_WASI_SIGNAL_TERM);
    CHECK("errno names", strcmp(waft_wasi_errno_name(8), "badf") == 0 &&
                             strcmp(waft_wasi_errno_name(76), "notcapable") == 0 &&
                             strcmp(waft_wasi_errno_name(77), "unknown") == 0);

    waft_wasi_destroy(&ctx);
    CHECK("destroy closes the guest's fds", fcntl(host, F_GETFD) < 0);
    CHECK("destroy leaves stdio open", fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0);
    return 0;
}
