/* exit() from deep inside the program: atexit handlers run, stdio is
 * flushed, and proc_exit's status reaches the host unchanged. */
#include <stdio.h>
#include <stdlib.h>

static void goodbye(void) { printf("atexit ran\n"); }

static void leave(int depth) {
    if (depth == 0) {
        printf("leaving with 42\n");
        exit(42);
    }
    leave(depth - 1);
}

int main(void) {
    atexit(goodbye);
    leave(10);
    printf("not reached\n");
    return 0;
}
