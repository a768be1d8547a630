/* Clocks, sleeping, randomness and formatted floats through wasi-libc:
 * clock_gettime/clock_getres on every clock, nanosleep and poll_oneoff's
 * clock subscriptions (relative and absolute), getentropy, sched_yield,
 * printf of floats. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void) {
    struct timespec ts;
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    const char *names[] = {"realtime", "monotonic", "process", "thread"};
    for (int i = 0; i < 4; i++) {
        int got = clock_gettime(clocks[i], &ts);
        int res = clock_getres(clocks[i], &ts);
        printf("%s: gettime %d getres %d positive %d\n", names[i], got, res, ts.tv_sec > 0 || ts.tv_nsec > 0);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("realtime after 2020: %d\n", ts.tv_sec > 1577836800);

    uint64_t t0 = mono_ns();
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    printf("nanosleep: %d\n", nanosleep(&nap, NULL));
    uint64_t slept = mono_ns() - t0;
    printf("slept at least 20ms: %d, under 2s: %d\n", slept >= 20000000u, slept < 2000000000u);

    /* Two relative clocks: only the earlier fires. */
    __wasi_subscription_t subs[3] = {
        {.userdata = 1, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u = {.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 10000000}}}},
        {.userdata = 2, .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u = {.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 5000000000u}}}},
    };
    __wasi_event_t ev[3];
    __wasi_size_t n = 0;
    t0 = mono_ns();
    int err = __wasi_poll_oneoff(subs, ev, 2, &n);
    uint64_t waited = mono_ns() - t0;
    printf("poll two clocks: %d, %d event(s), first userdata %d type %d, waited 10ms..2s: %d\n", err, (int)n,
           (int)ev[0].userdata, ev[0].type, waited >= 10000000u && waited < 2000000000u);
    /* An absolute deadline in the past fires at once. */
    __wasi_timestamp_t now;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    subs[0].u.u.clock.id = __WASI_CLOCKID_REALTIME;
    subs[0].u.u.clock.timeout = now - 1000000000u;
    subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    t0 = mono_ns();
    err = __wasi_poll_oneoff(subs, ev, 2, &n);
    printf("poll past deadline: %d, %d event(s), userdata %d, quick: %d\n", err, (int)n, (int)ev[0].userdata,
           mono_ns() - t0 < 1000000000u);

    /* A regular file is always ready, and says how much is left to read. */
    FILE *f = fopen("fs/ready.txt", "w+");
    fputs("0123456789", f);
    fflush(f);
    fseek(f, 3, SEEK_SET);
    fflush(f);
    subs[2] = (__wasi_subscription_t){.userdata = 3, .u = {.tag = __WASI_EVENTTYPE_FD_READ, .u = {.fd_read = {.file_descriptor = (__wasi_fd_t)fileno(f)}}}};
    err = __wasi_poll_oneoff(&subs[1], ev, 2, &n);
    printf("poll file: %d, %d event(s), userdata %d type %d nbytes %d\n", err, (int)n, (int)ev[0].userdata, ev[0].type,
           (int)ev[0].fd_readwrite.nbytes);
    fclose(f);

    unsigned char a[32], b[32], zero[32] = {0};
    printf("getentropy: %d %d\n", getentropy(a, sizeof a), getentropy(b, sizeof b));
    printf("random differs: %d, nonzero: %d\n", memcmp(a, b, sizeof a) != 0, memcmp(a, zero, sizeof a) != 0);
    printf("sched_yield: %d\n", sched_yield());

    double x = 3.14159265358979;
    float y = 2.5e-3f;
    printf("floats: %.3f %g %e %.10f %g %g\n", x, y, 6.02214076e23, 1.0 / 3.0, -0.0, 1e300 * 1e10);
    return 0;
}
