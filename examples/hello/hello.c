/* Hello, WASI: a plain C program compiled to wasm32-wasi, printing through fd_write.
 * On a board its stdout is the build's console (semihosting by default). */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from WebAssembly, %s!\n", argc > 1 ? argv[1] : "world");
    return 0;
}
