/* Arguments and environment through wasi-libc: argv, getenv, environ, and
 * the exit status main returns. */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=[%s]\n", i, argv[i]);
    }
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    printf("MISSING=%s\n", getenv("MISSING") ? "set" : "(unset)");
    int n = 0;
    for (char **e = environ; *e != NULL; e++) {
        n++;
    }
    printf("envc=%d\n", n);
    return 3;
}
