/* pthread_create/join over wasi-threads: a mutex-protected counter, per-thread
 * errno and _Thread_local, malloc from threads, results through join.
 * Exits 0 when all hold; prints what it saw. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define ROUNDS 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counter;
static _Thread_local int mine;

static void *work(void *arg)
{
    int n = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        free(malloc(16 + i % 64));
    }
    mine = n + 1;
    errno = n + 1;
    return (void *)(long)(n * 10 + (mine == n + 1) + (errno == n + 1));
}

int main(void)
{
    pthread_t t[THREADS];
    errno = 0;
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, (void *)i) != 0)
            return 1;
    long sum = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        if (pthread_join(t[i], &r) != 0)
            return 2;
        sum += (long)r;
    }
    int main_errno = errno, main_mine = mine;
    printf("counter %d sum %ld errno %d mine %d\n", counter, sum, main_errno, main_mine);
    return counter == THREADS * ROUNDS && sum == 68 && main_errno == 0 && main_mine == 0 ? 0 : 3;
}
