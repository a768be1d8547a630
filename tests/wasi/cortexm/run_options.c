/* What `waft run` hands a board program, all at once: the arguments after
 * `--`, `--env`, a `--dir HOST::GUEST` folder copied into the RAM filesystem
 * (tests/wasi/cortexm/seed as "data"), piped stdin (whose end stays the
 * end: another read returns 0 at once), and an exit status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    char line[128];
    FILE *f = fopen("data/hello.txt", "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        printf("cannot read data/hello.txt\n");
        return 1;
    }
    fclose(f);
    printf("data/hello.txt: %s", line);
    f = fopen("data/written.txt", "w");
    fputs("written at run time\n", f);
    fclose(f);
    f = fopen("data/written.txt", "r");
    printf("data/written.txt: %s", fgets(line, sizeof line, f) ? line : "(nothing)\n");
    fclose(f);
    int lines = 0;
    while (fgets(line, sizeof line, stdin) != NULL) printf("stdin %d: %s", ++lines, line);
    printf("%d line(s) of stdin\n", lines);
    printf("read after the end: %d\n", (int)read(0, line, sizeof line));
    return 7;
}
