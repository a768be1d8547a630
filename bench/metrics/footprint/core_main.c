/*
 * core_main.c: the `footprint` group's core-only program: the runtime core
 * and a module with no imports, instantiated and called from C (no WASI).
 * It checks the call's result and prints "done" with semihosting only.
 */
#include "prog.h"
#include "semihost.h"

static prog__instance inst;

int main(void) {
    prog__imports imports = {0};
    if (prog__instantiate(&inst, &imports) != WAFT_TRAP_NONE || prog_add(&inst, 2, 3) != 5) {
        semihost_write("problem the core module did not add\n", 36);
        return 1;
    }
    semihost_write("done\n", 5);
    return 0;
}
