/* proc_raise: signals that do nothing by default return success; SIGABRT
 * ends the program with 128 + 6.  wasi-libc no longer declares proc_raise, so
 * the import is declared here by hand. */
#include <stdint.h>
#include <stdio.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

int main(void) {
    printf("none: %d\n", (int)raw_proc_raise(0));
    printf("chld: %d\n", (int)raw_proc_raise(16));
    printf("winch: %d\n", (int)raw_proc_raise(27));
    printf("out of range: %d\n", (int)raw_proc_raise(31));
    fflush(stdout);
    raw_proc_raise(6);
    printf("not reached\n");
    return 0;
}
