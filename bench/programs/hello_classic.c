/* The classic hello world, as most people first write it: main(void) and a constant string.
 * clang turns this printf into puts, so the module carries wasi-libc's stdio write path but
 * neither printf's formatter nor malloc (no argv).  bench/wasi_size.py measures its firmware
 * image beside the same source built natively with newlib-nano (issue 17's size goal). */
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    return 0;
}
