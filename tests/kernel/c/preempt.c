/*
 * preempt.c: the kernel's scheduling rules, proven by an event trace.
 *
 * The main thread (priority MAIN) is the busy low-priority thread of each
 * scenario; a high-priority thread made ready must run before main's next
 * trace event:
 *   create   a new thread of higher priority runs before create returns;
 *   notify   waft_os_notify from main wakes a waiting thread at once;
 *   timer    a sleeping thread wakes at its tick while main spins on the CPU;
 *   isr      an interrupt pended by software notifies, and the woken thread
 *            runs when the interrupt returns, before main goes on;
 *   priority raising a ready thread above main runs it at once; lowering
 *            main below a ready thread yields at once;
 *   yield / round robin between equal priorities, by yield and by the tick;
 *   wait/notify with timeouts, NOT_EQUAL, FIFO order and counts, wait64;
 *   join / exit statuses, timeouts, EDEADLK, EINVAL, ESRCH;
 *   pool     exhaustion is EAGAIN; bad priorities and stacks are EINVAL;
 *            freed slots are reused;
 *   perm     blocking calls from an interrupt answer EPERM.
 * tests/kernel/test_preempt.py compares the trace with
 * tests/kernel/golden/preempt.txt; the C checks cover what the trace cannot
 * (latencies, return codes).  Built with WAFT_MAX_THREADS=4.
 */
#include <stddef.h>
#include <stdint.h>

#include "ktest.h"

#define MAIN 3
#define HIGH 6
#define MS 1000000ull

static volatile uint32_t word, word2;
static volatile uint64_t word64;

static waft_os_thread *spawn(uint32_t (*entry)(void *), void *arg, uint8_t priority, int detached) {
    waft_os_thread *t = NULL;
    waft_os_thread_attr attr = {.priority = priority, .detached = detached != 0};
    int rc = waft_os_thread_create(&t, &attr, entry, arg);
    CHECK(rc == WAFT_OS_OK);
    return t;
}

/* --- create, notify ------------------------------------------------------------ */

static waft_os_thread *volatile created_self;

static uint32_t waiter(void *arg) {
    created_self = waft_os_current();
    trace("high waits", 0);
    int r = waft_os_wait32(arg, 0, WAFT_OS_FOREVER);
    trace("high woken", r);
    return 7;
}

static void scenario_notify(void) {
    word = 0;
    waft_os_thread *h = spawn(waiter, (void *)&word, HIGH, 0);
    trace("main created", 0);
    CHECK(created_self == h); /* the handle was stored before the child ran */
    word = 1;
    trace("main notifies", 0);
    uint32_t n = waft_os_notify(&word, 1);
    trace("main after notify", (int32_t)n);
    uint32_t status = 0;
    CHECK(waft_os_join(h, WAFT_OS_FOREVER, &status) == WAFT_OS_OK);
    trace("main joined", (int32_t)status);
}

/* --- timer ----------------------------------------------------------------------- */

static volatile uint64_t timer_deadline, timer_woke;

static uint32_t sleeper(void *arg) {
    (void)arg;
    trace("high sleeps", 0);
    CHECK(waft_os_sleep_until(timer_deadline) == WAFT_OS_OK);
    timer_woke = waft_os_now_ns();
    trace("high woke", 0);
    return 0;
}

static void scenario_timer(void) {
    uint64_t start = waft_os_now_ns();
    timer_deadline = start + 3 * MS + MS / 3; /* between two ticks */
    waft_os_thread *h = spawn(sleeper, NULL, HIGH, 0);
    busy_until(start + 8 * MS);
    trace("main busy done", 0);
    CHECK(waft_os_join(h, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    /* The first tick at or after the deadline, and within a small fraction of
     * a tick after it: main's spinning did not delay the wake-up. */
    uint64_t tick = (timer_deadline + MS - 1) / MS * MS;
    CHECK(timer_woke >= timer_deadline);
    CHECK(timer_woke >= tick && timer_woke - tick < MS / 20);
}

/* --- isr --------------------------------------------------------------------------- */

static volatile int isr_sleep_result, isr_wait_result, isr_join_result, isr_period_result;
static waft_os_thread *volatile isr_join_target;

static void test_isr(void) {
    trace("isr notifies", 0);
    /* Blocking is refused here; notify is fine. */
    isr_sleep_result = waft_os_sleep_until(waft_os_now_ns() + MS);
    isr_wait_result = waft_os_wait32(&word2, word2, WAFT_OS_FOREVER);
    isr_join_result = waft_os_join(isr_join_target, WAFT_OS_FOREVER, NULL);
    isr_period_result = waft_os_set_period(MS, 0);
    word2 = 1;
    waft_os_notify(&word2, 1);
}

static void scenario_isr(void) {
    word2 = 0;
    waft_os_thread *h = spawn(waiter, (void *)&word2, HIGH, 0);
    isr_join_target = h;
    trace("main pends irq", 0);
    test_irq_pend();
    trace("main after irq", 0);
    CHECK(waft_os_join(h, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(isr_sleep_result == WAFT_OS_EPERM);
    CHECK(isr_wait_result == WAFT_OS_EPERM);
    CHECK(isr_join_result == WAFT_OS_EPERM);
    CHECK(isr_period_result == WAFT_OS_EPERM);
}

/* --- priorities ------------------------------------------------------------------------ */

static uint32_t tracer(void *arg) {
    trace((const char *)arg, waft_os_get_priority(NULL));
    return 0;
}

static void scenario_priority(void) {
    /* A ready thread below main does not run... */
    waft_os_thread *low = spawn(tracer, "low runs", MAIN - 1, 0);
    trace("main created low", 0);
    /* ...until raised above it: then at once. */
    CHECK(waft_os_set_priority(low, HIGH) == WAFT_OS_OK);
    trace("main raised low", 0);
    CHECK(waft_os_join(low, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_get_priority(low) == WAFT_OS_ESRCH); /* joined: slot freed */
    /* Lowering main below a ready thread yields at once. */
    waft_os_thread *other = spawn(tracer, "other runs", MAIN - 1, 0);
    trace("main lowers itself", 0);
    CHECK(waft_os_set_priority(NULL, MAIN - 2) == WAFT_OS_OK);
    trace("main lowered", waft_os_get_priority(NULL));
    CHECK(waft_os_set_priority(NULL, MAIN) == WAFT_OS_OK);
    CHECK(waft_os_join(other, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_set_priority(NULL, 0) == WAFT_OS_EINVAL);
    CHECK(waft_os_set_priority(NULL, WAFT_OS_PRIORITY_MAX + 1) == WAFT_OS_EINVAL);
}

/* --- round robin ------------------------------------------------------------------------- */

static volatile uint32_t last_runner, rr_switches;
static volatile uint64_t rr_end;

static uint32_t yielder(void *arg) {
    for (int i = 0; i < 3; i++) {
        trace((const char *)arg, i);
        waft_os_yield();
    }
    return 0;
}

/* Spin until rr_end, tracing each time the core came back from the other thread. */
static uint32_t spinner(void *arg) {
    uint32_t me = (uint32_t)(uintptr_t)arg;
    while (waft_os_now_ns() < rr_end) {
        if (last_runner != me) {
            if (last_runner != 0) rr_switches++;
            last_runner = me;
        }
    }
    return 0;
}

static void scenario_round_robin(void) {
    waft_os_thread *a = spawn(yielder, "yield a", HIGH, 0);
    waft_os_thread *b = spawn(yielder, "yield b", HIGH, 0);
    /* a ran at once, yielded to nobody (b did not exist yet)... the trace shows it. */
    CHECK(waft_os_join(a, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(b, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);

    /* By the tick: two spinners at one priority share the core, a slice each. */
    last_runner = 0;
    rr_switches = 0;
    waft_os_thread_attr attr = {.priority = HIGH};
    waft_os_thread *s1 = NULL, *s2 = NULL;
    waft_os_irq_state s = waft_os_critical_enter(); /* both ready before either runs */
    rr_end = waft_os_now_ns() + 10 * MS;
    CHECK(waft_os_thread_create(&s1, &attr, spinner, (void *)1) == WAFT_OS_OK);
    CHECK(waft_os_thread_create(&s2, &attr, spinner, (void *)2) == WAFT_OS_OK);
    waft_os_critical_exit(s);
    CHECK(waft_os_join(s1, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(s2, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    /* 10 ms of 1 ms slices: 9 or 10 hand-overs (the first slice may be short). */
    CHECK(rr_switches >= 8 && rr_switches <= 11);
    trace("round robin hand-overs >= 8", rr_switches >= 8);
}

/* --- wait/notify ---------------------------------------------------------------------------- */

static uint32_t fifo_waiter(void *arg) {
    int r = waft_os_wait32(&word, 5, WAFT_OS_FOREVER);
    trace((const char *)arg, r);
    return 0;
}

static void scenario_wait_notify(void) {
    /* Not equal: no block. */
    word = 4;
    CHECK(waft_os_wait32(&word, 5, WAFT_OS_FOREVER) == WAFT_OS_WAIT_NOT_EQUAL);
    word64 = 0x100000000ull;
    CHECK(waft_os_wait64(&word64, 0, WAFT_OS_FOREVER) == WAFT_OS_WAIT_NOT_EQUAL); /* differs in the high word only */
    /* Timeout: returns at the first tick at or after the deadline. */
    uint64_t start = waft_os_now_ns();
    uint64_t deadline = start + 2 * MS;
    int r = waft_os_wait64(&word64, 0x100000000ull, deadline);
    uint64_t end = waft_os_now_ns();
    trace("wait64 timed out", r);
    CHECK(r == WAFT_OS_WAIT_TIMED_OUT);
    CHECK(end >= deadline && end < deadline + MS + MS / 20);
    CHECK(waft_os_wait32(&word, 4, start) == WAFT_OS_WAIT_TIMED_OUT); /* a deadline passed: a poll */
    CHECK(waft_os_notify(&word, 10) == 0);                           /* nobody waits */
    /* FIFO and count: three waiters (at main's priority: they queue in order). */
    word = 5;
    waft_os_thread *w1 = spawn(fifo_waiter, "waiter 1", MAIN + 1, 0);
    waft_os_thread *w2 = spawn(fifo_waiter, "waiter 2", MAIN + 1, 0);
    waft_os_thread *w3 = spawn(fifo_waiter, "waiter 3", MAIN + 1, 0);
    CHECK(waft_os_notify(&word2, 10) == 0); /* another address */
    trace("notify 2 woke", (int32_t)waft_os_notify(&word, 2));
    trace("notify 5 woke", (int32_t)waft_os_notify(&word, 5));
    CHECK(waft_os_join(w1, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(w2, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    CHECK(waft_os_join(w3, WAFT_OS_FOREVER, NULL) == WAFT_OS_OK);
    /* Inside a critical section a blocking call would never switch: refused. */
    waft_os_irq_state s = waft_os_critical_enter();
    r = waft_os_wait32(&word, 5, WAFT_OS_FOREVER);
    int sleep_r = waft_os_sleep_until(waft_os_now_ns() + MS);
    waft_os_critical_exit(s);
    CHECK(r == WAFT_OS_EPERM);
    CHECK(sleep_r == WAFT_OS_EPERM);
}

/* --- join, exit, pool ---------------------------------------------------------------------- */

static uint32_t exits_early(void *arg) {
    waft_os_exit((uint32_t)(uintptr_t)arg);
}

static uint32_t blocks(void *arg) {
    (void)arg;
    waft_os_wait32(&word2, 0, WAFT_OS_FOREVER);
    return 0;
}

static void scenario_join_pool(void) {
    uint32_t status = 0;
    /* exit's status reaches join; a joined slot is reused. */
    waft_os_thread *t = spawn(exits_early, (void *)42, HIGH, 0);
    CHECK(waft_os_join(t, WAFT_OS_FOREVER, &status) == WAFT_OS_OK);
    trace("exit status", (int32_t)status);
    CHECK(waft_os_join(t, WAFT_OS_FOREVER, &status) == WAFT_OS_ESRCH);
    CHECK(waft_os_join(NULL, WAFT_OS_FOREVER, &status) == WAFT_OS_EDEADLK);
    CHECK(waft_os_join(waft_os_current(), WAFT_OS_FOREVER, &status) == WAFT_OS_EDEADLK);

    /* Fill the pool (main + 3) with blocked threads; one more is EAGAIN. */
    word2 = 0;
    waft_os_thread *b1 = spawn(blocks, NULL, MAIN + 1, 0);
    waft_os_thread *b2 = spawn(blocks, NULL, MAIN + 1, 0);
    waft_os_thread *b3 = spawn(blocks, NULL, MAIN + 1, 1); /* detached */
    waft_os_thread *extra = NULL;
    waft_os_thread_attr attr = {.priority = MAIN};
    int r = waft_os_thread_create(&extra, &attr, blocks, NULL);
    trace("create beyond the pool", r);
    CHECK(r == WAFT_OS_EAGAIN);
    /* Timeouts and refusals of join. */
    CHECK(waft_os_join(b1, waft_os_now_ns() + MS, &status) == WAFT_OS_ETIMEDOUT);
    CHECK(waft_os_join(b1, 0, &status) == WAFT_OS_ETIMEDOUT);
    CHECK(waft_os_join(b3, WAFT_OS_FOREVER, &status) == WAFT_OS_EINVAL); /* detached */
    /* Bad attributes. */
    attr.priority = WAFT_OS_PRIORITY_MAX + 1;
    CHECK(waft_os_thread_create(&extra, &attr, blocks, NULL) == WAFT_OS_EINVAL);
    attr.priority = MAIN;
    attr.stack_size = WAFT_OS_STACK_SIZE + 8;
    CHECK(waft_os_thread_create(&extra, &attr, blocks, NULL) == WAFT_OS_EINVAL);
    static uint64_t tiny[WAFT_STACK_MARGIN / 8];
    attr.stack = tiny;
    attr.stack_size = sizeof tiny;
    CHECK(waft_os_thread_create(&extra, &attr, blocks, NULL) == WAFT_OS_EINVAL);
    /* Release them: joined slots and the detached one come back. */
    word2 = 1;
    trace("released", (int32_t)waft_os_notify(&word2, 10));
    CHECK(waft_os_join(b1, WAFT_OS_FOREVER, &status) == WAFT_OS_OK);
    CHECK(waft_os_join(b2, WAFT_OS_FOREVER, &status) == WAFT_OS_OK);
    waft_os_thread *again[3];
    for (int i = 0; i < 3; i++) again[i] = spawn(exits_early, (void *)(uintptr_t)i, HIGH, 0);
    for (int i = 0; i < 3; i++) {
        CHECK(waft_os_join(again[i], WAFT_OS_FOREVER, &status) == WAFT_OS_OK);
        CHECK(status == (uint32_t)i);
    }
    trace("pool reused", 3);
}

int main(void) {
    int rc = waft_os_init(MAIN);
    CHECK(rc == WAFT_OS_OK);
    CHECK(waft_os_init(MAIN) == WAFT_OS_EINVAL);
    test_irq_setup(test_isr, 0x80);
    scenario_notify();
    scenario_timer();
    scenario_isr();
    scenario_priority();
    scenario_round_robin();
    scenario_wait_notify();
    scenario_join_pool();
    return finish();
}
