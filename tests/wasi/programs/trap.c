/* A trap (abort() is `unreachable` in wasi-libc) ends the run with status 70
 * and the trap's message on stderr, after the output written so far. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("before the trap\n");
    fflush(stdout);
    abort();
}
