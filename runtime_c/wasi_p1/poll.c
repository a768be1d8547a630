/*
 * poll.c: poll_oneoff.  Clock subscriptions become one timeout (the
 * earliest), fd subscriptions one port poll; regular files are always ready
 * (the witx says so), and a subscription on a bad fd is reported at once as an
 * event carrying the error, as wasmtime does.
 *
 * The subscriptions are read from guest memory twice (to set up the wait,
 * then to report), so no per-subscription state is kept and their number is
 * unbounded; only fd subscriptions that really wait take a slot
 * (WASI_POLL_MAX of them).
 */
#include "wasi_internal.h"

#include <string.h>

#define R(name) WAFT_WASI_RIGHTS_##name

/* What one subscription is, read from guest memory. */
typedef struct sub {
    uint64_t userdata;
    uint8_t tag;
    uint32_t clock_id;
    uint64_t timeout;
    bool abstime;
    int32_t fd;
} sub;

static void read_sub(const uint8_t *p, sub *s) {
    s->userdata = wasi_load64(p + WAFT_WASI_SUBSCRIPTION_OFF_USERDATA);
    s->tag = p[WAFT_WASI_SUBSCRIPTION_OFF_TAG];
    s->clock_id = wasi_load32(p + WAFT_WASI_SUBSCRIPTION_OFF_CLOCK_ID);
    s->timeout = wasi_load64(p + WAFT_WASI_SUBSCRIPTION_OFF_CLOCK_TIMEOUT);
    s->abstime = (wasi_load16(p + WAFT_WASI_SUBSCRIPTION_OFF_CLOCK_FLAGS) & WAFT_WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) != 0;
    s->fd = (int32_t)wasi_load32(p + WAFT_WASI_SUBSCRIPTION_OFF_FD_READWRITE_FILE_DESCRIPTOR);
}

/* Nanoseconds until a clock subscription fires (0: already due), or an errno. */
static uint16_t clock_wait(const sub *s, uint64_t *ns) {
    if (!s->abstime) {
        /* Relative timeouts need only to know the clock exists. */
        uint64_t res;
        uint16_t err = wasi_port_clock_res(s->clock_id, &res);
        *ns = s->timeout;
        return err;
    }
    uint64_t now;
    uint16_t err = wasi_port_clock_time(s->clock_id, &now);
    if (err != 0) {
        return err;
    }
    *ns = s->timeout > now ? s->timeout - now : 0;
    return 0;
}

/* A subscription on an fd that needs no waiting: a bad fd, a missing right,
 * or a regular file (always ready).  Returns true and fills err/nbytes then. */
static bool fd_immediate(waft_wasi_ctx *ctx, const sub *s, waft_wasi_fd **slot_out, uint16_t *err, uint64_t *nbytes) {
    uint64_t need = R(POLL_FD_READWRITE) | (s->tag == WAFT_WASI_EVENTTYPE_FD_READ ? R(FD_READ) : R(FD_WRITE));
    *nbytes = 0;
    waft_wasi_fd *slot = wasi_fd(ctx, s->fd, need, err);
    *slot_out = slot;
    if (slot == NULL) {
        return true;
    }
    if (slot->filetype != WAFT_WASI_FILETYPE_REGULAR_FILE) {
        return false;
    }
    *err = 0;
    if (s->tag == WAFT_WASI_EVENTTYPE_FD_READ) {
        /* Bytes left before end of file, as wasmtime reports for files. */
        wasi_filestat st;
        uint64_t pos;
        if (wasi_port_filestat(slot->host, &st) == 0 && wasi_port_seek(slot->host, 0, WAFT_WASI_WHENCE_CUR, &pos) == 0 &&
            st.size > pos) {
            *nbytes = st.size - pos;
        }
    }
    return true;
}

static void write_event(uint8_t *out, const sub *s, uint16_t err, uint64_t nbytes, bool hangup) {
    memset(out, 0, WAFT_WASI_EVENT_SIZE);
    wasi_store64(out + WAFT_WASI_EVENT_OFF_USERDATA, s->userdata);
    wasi_store16(out + WAFT_WASI_EVENT_OFF_ERROR, err);
    wasi_store8(out + WAFT_WASI_EVENT_OFF_TYPE, s->tag);
    if (s->tag != WAFT_WASI_EVENTTYPE_CLOCK) {
        wasi_store64(out + WAFT_WASI_EVENT_OFF_FD_READWRITE_NBYTES, nbytes);
        wasi_store16(out + WAFT_WASI_EVENT_OFF_FD_READWRITE_FLAGS, hangup ? WAFT_WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP : 0);
    }
}

int32_t wasi_snapshot_preview1__poll_oneoff(void *ctx, int32_t in, int32_t out, int32_t nsubscriptions,
                                            int32_t nevents) {
    waft_wasi_ctx *c = WASI_CTX(ctx);
    uint32_t n = (uint32_t)nsubscriptions;
    if (n == 0) {
        return WAFT_WASI_ERRNO_INVAL; /* the witx: "If nsubscriptions is 0, returns errno::inval" */
    }
    const uint8_t *subs = wasi_mem_array(c, (uint32_t)in, n, WAFT_WASI_SUBSCRIPTION_SIZE);
    uint8_t *events = wasi_mem_array(c, (uint32_t)out, n, WAFT_WASI_EVENT_SIZE);
    uint8_t *count_out = wasi_mem(c, (uint32_t)nevents, 4);
    if (subs == NULL || events == NULL || count_out == NULL) {
        return WAFT_WASI_ERRNO_FAULT;
    }

    /* Pass 1: the wait.  Timeout = the earliest clock; fds to poll; is
     * anything ready already? */
    wasi_pollfd fds[WASI_POLL_MAX];
    int nfds = 0;
    bool immediate = false, have_clock = false;
    uint64_t earliest = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        sub s;
        read_sub(subs + (size_t)i * WAFT_WASI_SUBSCRIPTION_SIZE, &s);
        if (s.tag == WAFT_WASI_EVENTTYPE_CLOCK) {
            uint64_t ns;
            if (clock_wait(&s, &ns) != 0) {
                immediate = true; /* reported as an event with the error */
            } else {
                have_clock = true;
                earliest = ns < earliest ? ns : earliest;
            }
        } else if (s.tag == WAFT_WASI_EVENTTYPE_FD_READ || s.tag == WAFT_WASI_EVENTTYPE_FD_WRITE) {
            waft_wasi_fd *slot;
            uint16_t err;
            uint64_t nbytes;
            if (fd_immediate(c, &s, &slot, &err, &nbytes)) {
                immediate = true;
            } else if (nfds == WASI_POLL_MAX) {
                return WAFT_WASI_ERRNO_NOTSUP;
            } else {
                memset(&fds[nfds], 0, sizeof fds[nfds]);
                fds[nfds].host = slot->host;
                fds[nfds].want_read = s.tag == WAFT_WASI_EVENTTYPE_FD_READ;
                fds[nfds].want_write = s.tag == WAFT_WASI_EVENTTYPE_FD_WRITE;
                nfds++;
            }
        } else {
            return WAFT_WASI_ERRNO_INVAL;
        }
    }

    int64_t timeout;
    if (immediate || (have_clock && earliest == 0)) {
        timeout = 0;
    } else if (have_clock) {
        timeout = earliest > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)earliest;
    } else {
        timeout = -1;
    }
    uint64_t start = 0;
    (void)wasi_port_clock_time(WAFT_WASI_CLOCKID_MONOTONIC, &start);
    bool any_fd = false;
    uint16_t err = wasi_port_poll(fds, nfds, timeout, &any_fd);
    if (err != 0) {
        return err;
    }
    uint64_t now = start;
    (void)wasi_port_clock_time(WAFT_WASI_CLOCKID_MONOTONIC, &now);
    uint64_t elapsed = now - start;
    /* When nothing else woke us, the earliest clock did, even if the
     * monotonic clock's granularity makes `elapsed` look a hair short. */
    bool clock_woke = !immediate && !any_fd && have_clock;

    /* Pass 2: report, in subscription order. */
    uint32_t count = 0;
    int fdi = 0;
    for (uint32_t i = 0; i < n; i++) {
        sub s;
        read_sub(subs + (size_t)i * WAFT_WASI_SUBSCRIPTION_SIZE, &s);
        uint8_t *ev = events + (size_t)count * WAFT_WASI_EVENT_SIZE;
        if (s.tag == WAFT_WASI_EVENTTYPE_CLOCK) {
            uint64_t ns;
            uint16_t cerr = clock_wait(&s, &ns);
            bool due = cerr != 0 || (s.abstime ? ns == 0 : ns <= elapsed) || (clock_woke && ns <= earliest);
            if (due) {
                write_event(ev, &s, cerr, 0, false);
                count++;
            }
            continue;
        }
        waft_wasi_fd *slot;
        uint16_t ferr;
        uint64_t nbytes;
        if (fd_immediate(c, &s, &slot, &ferr, &nbytes)) {
            write_event(ev, &s, ferr, nbytes, false);
            count++;
            continue;
        }
        const wasi_pollfd *p = &fds[fdi++];
        if (p->ready || p->hangup || p->error != 0) {
            write_event(ev, &s, p->error, p->nbytes, p->hangup);
            count++;
        }
    }
    wasi_store32(count_out, count);
    return 0;
}
