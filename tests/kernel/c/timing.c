/*
 * timing.c: sleep_until and periodic release, timed under QEMU's -icount
 * (one instruction is one nanosecond, so every figure is exact and repeats).
 *
 *   periodic  a high-priority thread released every PERIOD while two
 *             low-priority threads saturate the core: every release is taken
 *             (missed == 0) at the tick of its grid point; the wake-up
 *             latency (clock read after wait_period returns, minus the
 *             release time) is measured, min/max/jitter printed as figures
 *             and checked: jitter <= 1% of the period;
 *   overrun   a body that overruns by 2.5 periods learns missed == 2 and its
 *             next release stays on the original grid;
 *   sleep     sleep_until to deadlines between ticks wakes at the first tick
 *             at or after each, with the same small latency;
 *   anchor    set_period(P, 0) puts releases on whole multiples of P;
 *   errors    a period below one tick, wait_period when not periodic.
 */
#include <stdint.h>

#include "ktest.h"

#define MS 1000000ull
#define PERIOD (1 * MS)
#define RELEASES 50
#define HIGH 8
#define LOAD 2

static volatile int load_stop;
static uint64_t lat_min = UINT64_MAX, lat_max;
static uint32_t missed_total;

static uint32_t load(void *arg) {
    (void)arg;
    while (!load_stop) {
    }
    return 0;
}

static void note_latency(uint64_t latency) {
    if (latency < lat_min) lat_min = latency;
    if (latency > lat_max) lat_max = latency;
}

/* The release grid of the periodic thread: first release, then every PERIOD. */
static uint64_t first_release;

static uint32_t periodic(void *arg) {
    (void)arg;
    CHECK(waft_os_set_period(PERIOD, first_release) == WAFT_OS_OK);
    for (uint32_t k = 0; k < RELEASES; k++) {
        uint32_t missed = 99;
        CHECK(waft_os_wait_period(&missed) == WAFT_OS_OK);
        uint64_t now = waft_os_now_ns();
        missed_total += missed;
        note_latency(now - (first_release + k * PERIOD));
    }
    /* Overrun: 2.5 periods of work after a release: the two grid points inside
     * it are missed, and the loop wakes on the next one. */
    uint32_t missed = 99;
    CHECK(waft_os_wait_period(&missed) == WAFT_OS_OK);
    uint64_t release = first_release + RELEASES * PERIOD;
    CHECK(missed == 0);
    busy_until(release + 2 * PERIOD + PERIOD / 2);
    CHECK(waft_os_wait_period(&missed) == WAFT_OS_OK);
    uint64_t now = waft_os_now_ns();
    trace("overrun missed", (int32_t)missed);
    CHECK(missed == 2);
    uint64_t expected = release + 3 * PERIOD;
    CHECK(now >= expected && now - expected <= lat_max);
    CHECK(waft_os_set_period(0, 0) == WAFT_OS_OK);
    CHECK(waft_os_wait_period(&missed) == WAFT_OS_EINVAL);
    return 0;
}

int main(void) {
    CHECK(waft_os_init(4) == WAFT_OS_OK);
    uint64_t tick = waft_os_tick_ns();
    CHECK(tick == MS);

    /* periodic under load */
    waft_os_thread *loads[2], *p = NULL;
    waft_os_thread_attr load_attr = {.priority = LOAD}, high_attr = {.priority = HIGH};
    for (int i = 0; i < 2; i++) CHECK(waft_os_thread_create(&loads[i], &load_attr, load, NULL) == WAFT_OS_OK);
    first_release = (waft_os_now_ns() / MS + 3) * MS;
    CHECK(waft_os_thread_create(&p, &high_attr, periodic, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(p, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK); /* main blocks: the load has the core */
    load_stop = 1;
    for (int i = 0; i < 2; i++) CHECK(waft_os_join(loads[i], WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    trace("periodic missed", (int32_t)missed_total);
    CHECK(missed_total == 0);
    printf("figure periodic_latency_min_ns %lu\n", (unsigned long)lat_min);
    printf("figure periodic_latency_max_ns %lu\n", (unsigned long)lat_max);
    printf("figure periodic_jitter_ns %lu\n", (unsigned long)(lat_max - lat_min));
    CHECK(lat_max - lat_min <= PERIOD / 100);
    CHECK(lat_max < PERIOD / 20);

    /* sleep_until between ticks */
    uint64_t sleep_min = UINT64_MAX, sleep_max = 0;
    for (uint32_t i = 0; i < 20; i++) {
        uint64_t deadline = waft_os_now_ns() + 2 * MS + i * (MS / 20) + 1;
        CHECK(waft_os_sleep_until(deadline) == WAFT_OS_OK);
        uint64_t now = waft_os_now_ns();
        uint64_t at_tick = (deadline + MS - 1) / MS * MS;
        CHECK(now >= at_tick);
        uint64_t latency = now - at_tick;
        if (latency < sleep_min) sleep_min = latency;
        if (latency > sleep_max) sleep_max = latency;
    }
    CHECK(waft_os_sleep_until(0) == WAFT_OS_OK); /* passed: returns at once */
    printf("figure sleep_latency_min_ns %lu\n", (unsigned long)sleep_min);
    printf("figure sleep_latency_max_ns %lu\n", (unsigned long)sleep_max);
    CHECK(sleep_max < MS / 20);
    trace("sleeps done", 20);

    /* anchor in the past, and errors */
    CHECK(waft_os_set_period(2 * MS, 0) == WAFT_OS_OK);
    uint32_t missed = 99;
    for (int i = 0; i < 3; i++) {
        CHECK(waft_os_wait_period(&missed) == WAFT_OS_OK);
        uint64_t now = waft_os_now_ns();
        CHECK(now % (2 * MS) < MS / 20); /* just after a whole multiple of the period */
    }
    CHECK(missed == 0);
    CHECK(waft_os_set_period(tick - 1, 0) == WAFT_OS_EINVAL);
    CHECK(waft_os_set_period(0, 0) == WAFT_OS_OK);
    CHECK(waft_os_wait_period(&missed) == WAFT_OS_EINVAL);
    trace("anchor done", 3);
    return finish();
}
