/* Data logger: append sensor records to a file, then read them back and summarise.
 *
 * The preopened `data` folder is, on a board, the RAM filesystem seeded at
 * build time from seed/ (header.txt); on the host, a fresh copy of seed/.
 * Plain stdio: wasi-libc turns it into path_open, fd_write, fd_seek... */
#include <stdio.h>
#include <string.h>

#define RECORDS 24

static int millivolts(int tick) {
    return 3300 - (tick * 37) % 500;   /* a battery sagging and recovering */
}

int main(void) {
    char line[64];
    FILE *log = fopen("data/log.csv", "w");
    FILE *header = fopen("data/header.txt", "r");
    if (log == NULL || header == NULL) {
        perror("data/");
        return 1;
    }
    while (fgets(line, sizeof line, header)) {   /* the seeded header goes first */
        fputs(line, log);
    }
    fclose(header);
    for (int tick = 0; tick < RECORDS; tick++) {
        fprintf(log, "%d,%d\n", tick, millivolts(tick));
    }
    fclose(log);

    log = fopen("data/log.csv", "r");
    int records = 0, min = 1 << 30, max = 0, tick, mv;
    long sum = 0;
    while (fgets(line, sizeof line, log)) {
        if (line[0] == '#' || sscanf(line, "%d,%d", &tick, &mv) != 2) {
            continue;
        }
        records++;
        sum += mv;
        min = mv < min ? mv : min;
        max = mv > max ? mv : max;
    }
    long size = ftell(log);
    fclose(log);
    printf("%d records, %ld bytes: min %d mV, max %d mV, mean %ld mV\n", records, size, min, max,
           sum / records);
    return records == RECORDS ? 0 : 1;
}
