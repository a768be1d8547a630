/* A board's clocks and sleeping, in figures the test checks
 * (tests/wasi/test_wasi_cortexm.py, test_clock_and_sleep): each clock's
 * resolution, the smallest step monotonic time takes, poll_oneoff clock
 * subscriptions of 1, 5, 20 and 100 ms and how long each took by the
 * monotonic clock, then one long sleep of argv[1] ms (default 0) and how far
 * realtime moved meanwhile. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

static uint64_t now(__wasi_clockid_t id) {
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(id, 1, &t) != 0) {
        printf("clock_time_get(%d) failed\n", (int)id);
        exit(1);
    }
    return t;
}

/* Sleep `ns` in poll_oneoff (one relative monotonic subscription); returns
 * the monotonic time it took. */
static uint64_t poll_sleep(uint64_t ns) {
    __wasi_subscription_t sub = {
        .userdata = 9,
        .u = {.tag = __WASI_EVENTTYPE_CLOCK, .u = {.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = ns}}},
    };
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    uint64_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    __wasi_errno_t err = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    uint64_t took = now(__WASI_CLOCKID_MONOTONIC) - t0;
    if (err != 0 || n != 1 || ev.userdata != 9 || ev.type != __WASI_EVENTTYPE_CLOCK || ev.error != 0) {
        printf("poll_oneoff: err %d, %d event(s)\n", err, (int)n);
        exit(1);
    }
    return took;
}

int main(int argc, char **argv) {
    static const char *const names[] = {"realtime", "monotonic", "process", "thread"};
    for (__wasi_clockid_t id = 0; id < 4; id++) {
        __wasi_timestamp_t res = 0;
        __wasi_errno_t err = __wasi_clock_res_get(id, &res);
        printf("res %s %d %llu\n", names[id], err, (unsigned long long)res);
    }
    /* The smallest step monotonic time takes (over a few tries). */
    uint64_t step = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t a = now(__WASI_CLOCKID_MONOTONIC), b;
        while ((b = now(__WASI_CLOCKID_MONOTONIC)) == a) {
        }
        if (b < a) {
            printf("monotonic went back: %llu after %llu\n", (unsigned long long)b, (unsigned long long)a);
            return 1;
        }
        if (b - a < step) step = b - a;
    }
    printf("step %llu\n", (unsigned long long)step);
    static const uint64_t naps_ms[] = {1, 5, 20, 100};
    for (int i = 0; i < 4; i++) {
        printf("sleep %llu took %llu\n", (unsigned long long)naps_ms[i] * 1000000u,
               (unsigned long long)poll_sleep(naps_ms[i] * 1000000u));
    }
    uint64_t long_ns = (argc > 1 ? strtoull(argv[1], NULL, 10) : 0) * 1000000u;
    uint64_t rt0 = now(__WASI_CLOCKID_REALTIME);
    uint64_t took = poll_sleep(long_ns);
    uint64_t rt = now(__WASI_CLOCKID_REALTIME) - rt0;
    printf("sleep %llu took %llu realtime %llu\n", (unsigned long long)long_ns, (unsigned long long)took,
           (unsigned long long)rt);
    return 0;
}
