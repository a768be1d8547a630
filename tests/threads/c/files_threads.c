/* Threads and the board's WASI port: four threads rewrite and read back
 * their own files in the RAM filesystem at once (the port's lock keeps the
 * filesystem whole while time slices preempt them mid-operation), and a
 * sleeping thread of higher priority lets a lower one run (poll_oneoff
 * blocks the thread, it does not spin in WFI at its priority).
 * Usage: files_threads DIR.  Exits 0 when all holds; prints what it saw. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 150
#define RECORDS 16
#define RECORD 64

/* wasi-ext:threads set-priority(tid, priority) -> errno; tid 0 is the caller. */
__attribute__((import_module("wasi-ext:threads/threads@0.1.0"), import_name("set-priority")))
extern int32_t ext_set_priority(int32_t tid, int32_t priority);

static const char *dir;
static int bad[THREADS];

static void record(char *buf, int thread, int round, int i)
{
    memset(buf, 'a' + thread, RECORD);
    snprintf(buf, RECORD, "t%d r%03d i%02d", thread, round, i);
    buf[RECORD - 1] = '\n';
}

static void *rewrite(void *arg)
{
    int n = (int)(long)arg;
    char path[128], want[RECORD], got[RECORD];
    snprintf(path, sizeof path, "%s/t%d.txt", dir, n);
    for (int round = 0; round < ROUNDS; round++) {
        int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0) { bad[n]++; continue; }
        for (int i = 0; i < RECORDS; i++) {
            record(want, n, round, i);
            if (write(fd, want, RECORD) != RECORD) bad[n]++;
        }
        close(fd);
        fd = open(path, O_RDONLY);
        if (fd < 0) { bad[n]++; continue; }
        for (int i = 0; i < RECORDS; i++) {
            record(want, n, round, i);
            if (read(fd, got, RECORD) != RECORD || memcmp(got, want, RECORD) != 0) bad[n]++;
        }
        if (read(fd, got, 1) != 0) bad[n]++;
        close(fd);
    }
    return NULL;
}

static atomic_int stop;
static atomic_uint counted;

static void *count(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) atomic_fetch_add(&counted, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: files_threads DIR\n");
        return 2;
    }
    dir = argv[1];
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, rewrite, (void *)i);
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        printf("thread %d: %d bad\n", i, bad[i]);
        failures += bad[i];
    }

    /* The counter inherits priority 1; main goes above it, then sleeps. */
    pthread_t counter;
    pthread_create(&counter, NULL, count, NULL);
    int rc = ext_set_priority(0, 2);
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    unsigned while_asleep = atomic_load(&counted);
    atomic_store(&stop, 1);
    ext_set_priority(0, 1);
    pthread_join(counter, NULL);
    printf("set-priority %d, counted while main slept: %s\n", rc, while_asleep > 0 ? "yes" : "no");
    return failures == 0 && rc == 0 && while_asleep > 0 ? 0 : 1;
}
