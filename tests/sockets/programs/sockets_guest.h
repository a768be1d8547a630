/*
 * sockets_guest.h: what the sockets test programs (socktool.c, sockround.c)
 * share: the wasi-ext:sockets imports declared by hand from the WIT
 * (docs/wasi-ext.md's core signatures), their return areas as the canonical
 * ABI lays them out, and the few helpers every scenario uses.  Declared by
 * hand on purpose: the tests check the ABI the WIT promises, not what a
 * generator happens to emit.
 */
#ifndef SOCKETS_GUEST_H
#define SOCKETS_GUEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define SOCK(name) __attribute__((import_module("wasi-ext:sockets/sockets@0.1.0"), import_name(name)))
#define LOOKUP(name) __attribute__((import_module("wasi-ext:sockets/name-lookup@0.1.0"), import_name(name)))
/* A flattened ip-socket-address: the case (0: IPv4), the port, then eight address words. */
#define ADDR int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t
#define V4(ip, port) 0, (port), (ip)[0], (ip)[1], (ip)[2], (ip)[3], 0, 0, 0, 0, 0, 0

SOCK("open") void s_open(int32_t family, int32_t type, int32_t flags, void *ret);
SOCK("bind") int32_t s_bind(int32_t fd, ADDR);
SOCK("listen") int32_t s_listen(int32_t fd, int32_t backlog);
SOCK("connect") int32_t s_connect(int32_t fd, ADDR);
SOCK("accept") void s_accept(int32_t fd, int32_t flags, void *ret);
SOCK("send-to") void s_send_to(int32_t fd, const void *data, int32_t len, ADDR, void *ret);
SOCK("recv-from") void s_recv_from(int32_t fd, void *buf, int32_t len, int32_t flags, void *ret);
SOCK("local-address") void s_local_address(int32_t fd, void *ret);
SOCK("remote-address") void s_remote_address(int32_t fd, void *ret);
SOCK("take-error") int32_t s_take_error(int32_t fd);
SOCK("set-nodelay") int32_t s_set_nodelay(int32_t fd, int32_t on);
SOCK("set-keepalive") int32_t s_set_keepalive(int32_t fd, int64_t idle, int64_t interval, int32_t count);
SOCK("set-timeouts") int32_t s_set_timeouts(int32_t fd, int64_t receive, int64_t send);
SOCK("set-reuse-address") int32_t s_set_reuse_address(int32_t fd, int32_t on);
LOOKUP("resolve") void s_resolve(const char *name, int32_t len, void *results, int32_t capacity, void *ret);

/* Return areas, laid out as the canonical ABI lays them out. */
typedef struct {
    uint8_t tag, err, pad[2];
    uint32_t value;
} u32_result; /* result<u32, errno>: the errno is at byte 4 too, read through value's low byte */

typedef struct {
    uint8_t tag;       /* 0 ipv4, 1 ipv6 */
    uint8_t pad[3];
    uint16_t port;
    uint8_t a[4];      /* IPv4 address at byte 6 */
    uint8_t rest[22];
} sock_address;        /* 32 bytes, align 4 */

typedef struct {
    uint8_t tag, pad[3];
    union {
        struct { uint32_t fd; sock_address remote; } ok;
        uint8_t err;
    } u;
} accept_result;       /* 40 bytes */

typedef struct {
    uint8_t tag, pad[3];
    union {
        struct { uint32_t length; uint8_t truncated, pad[3]; sock_address remote; } ok;
        uint8_t err;
    } u;
} recv_result;         /* 44 bytes */

typedef struct {
    uint8_t tag, pad[3];
    union {
        sock_address ok;
        uint8_t err;
    } u;
} address_result;      /* 36 bytes */

_Static_assert(sizeof(accept_result) == 40, "accept's return area");
_Static_assert(sizeof(recv_result) == 44, "recv-from's return area");
_Static_assert(sizeof(address_result) == 36, "local-address's return area");

/* One line of output, flushed at once: the tests read the guest line by line. */
static inline void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* The u32 of a result, or minus its errno. */
static inline int64_t value_of(const u32_result *r) {
    return r->tag == 0 ? (int64_t)r->value : -(int64_t)(r->value & 0xFF);
}

/* An IPv4 socket of the WIT's socket-type `type`, or minus the errno. */
static inline int open_socket(int type, int flags) {
    u32_result r;
    s_open(0, type, flags, &r);
    return (int)value_of(&r);
}

/* The next connection on listener `lfd` (blocking), or minus the errno. */
static inline int accept_one(int lfd) {
    accept_result a;
    s_accept(lfd, 0, &a);
    return a.tag == 0 ? (int)a.u.ok.fd : -a.u.err;
}

/* All of p[0..n) written to `fd`, or minus the errno of the write that failed. */
static inline int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * The poll scenario on three accepted connections and their listener:
 * poll_oneoff over the three, the listener and a far clock, three times,
 * one "ready U/NBYTES[h] ..." line per poll.  What was reported is drained so
 * the next poll starts clean: a connection at its end is swapped for a far
 * clock; a ready listener is made non-blocking (p1's fd_fdstat_set_flags),
 * accepted from, and accepted from again, which must answer "again" at once
 * ("second accept ERRNO"); then it blocks again.
 */
static inline void poll_scenario(int lfd, const int conns[3]) {
    __wasi_subscription_t subs[5];
    __wasi_event_t events[5];
    __wasi_size_t n;
    memset(subs, 0, sizeof subs);
    for (int i = 0; i < 3; i++) {
        subs[i].userdata = (uint64_t)i;
        subs[i].u.tag = __WASI_EVENTTYPE_FD_READ;
        subs[i].u.u.fd_read.file_descriptor = (uint32_t)conns[i];
    }
    subs[3].userdata = 3;
    subs[3].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[3].u.u.fd_read.file_descriptor = (uint32_t)lfd;
    subs[4].userdata = 9;
    subs[4].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[4].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[4].u.u.clock.timeout = 10000000000ull;
    for (int step = 0; step < 3; step++) {
        char line[80] = "ready";
        int err = __wasi_poll_oneoff(subs, events, 5, &n);
        for (__wasi_size_t i = 0; i < n && err == 0; i++) {
            size_t len = strlen(line);
            snprintf(line + len, sizeof line - len, " %llu/%llu%s", (unsigned long long)events[i].userdata,
                     (unsigned long long)events[i].fd_readwrite.nbytes,
                     events[i].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP ? "h" : "");
        }
        say("%s", line);
        for (__wasi_size_t i = 0; i < n; i++) {
            uint64_t u = events[i].userdata;
            if (u < 3) {
                char buf[16];
                if (read(conns[u], buf, sizeof buf) == 0) { /* its end: watch a far clock instead */
                    memset(&subs[u].u, 0, sizeof subs[u].u);
                    subs[u].u.tag = __WASI_EVENTTYPE_CLOCK;
                    subs[u].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
                    subs[u].u.u.clock.timeout = 10000000000ull;
                }
            } else if (u == 3) {
                if (__wasi_fd_fdstat_set_flags(lfd, __WASI_FDFLAGS_NONBLOCK) != 0) say("set flags failed");
                int c = accept_one(lfd);
                if (c >= 0) close(c);
                say("second accept %d", -accept_one(lfd));
                if (__wasi_fd_fdstat_set_flags(lfd, 0) != 0) say("set flags failed");
            }
        }
    }
}

#endif
