/*
 * socktool.c: the guest side of tests/sockets, one WASI program with a
 * scenario per first argument, calling wasi-ext:sockets through imports
 * declared by hand from the WIT (docs/wasi-ext.md's core signatures), and
 * moving data with wasi-libc's read/write/shutdown (p1's fd_read, fd_write,
 * sock_shutdown) on the same fds.  Each line it prints is what the test
 * asserts; it flushes after each so the test can talk to it step by step.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi/api.h>

#define SOCK(name) __attribute__((import_module("wasi-ext:sockets/sockets@0.1.0"), import_name(name)))
#define LOOKUP(name) __attribute__((import_module("wasi-ext:sockets/name-lookup@0.1.0"), import_name(name)))
#define ADDR int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t
/* A flattened ip-socket-address for 127.0.0.1:port (case 0: IPv4). */
#define LOOPBACK(port) 0, (port), 127, 0, 0, 1, 0, 0, 0, 0, 0, 0

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

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* The u32 of a result, or minus its errno. */
static int64_t value_of(const u32_result *r) { return r->tag == 0 ? (int64_t)r->value : -(int64_t)(r->value & 0xFF); }

static int open_socket(int type, int flags) {
    u32_result r;
    s_open(0, type, flags, &r);
    return (int)value_of(&r);
}

static int local_port(int fd) {
    address_result r;
    s_local_address(fd, &r);
    return r.tag == 0 ? r.u.ok.port : -r.u.err;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint8_t big[65536];

/* A TCP listener on 127.0.0.1 (port 0: ephemeral), or exits. */
static int listener(int port) {
    int fd = open_socket(0, 0);
    if (fd < 0) {
        say("open: %d", -fd);
        exit(10);
    }
    int err = s_set_reuse_address(fd, 1);
    if (err == 0) err = s_bind(fd, LOOPBACK(port));
    if (err == 0) err = s_listen(fd, 8);
    if (err != 0) {
        say("listen: %d", err);
        exit(11);
    }
    say("port %d", local_port(fd));
    return fd;
}

/* Echo COUNT connections, one after the other, then exit 0. */
static int echo_server(int count) {
    int lfd = listener(0);
    int served = 0, errors = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < count; i++) {
        accept_result a;
        s_accept(lfd, 0, &a);
        if (a.tag != 0) {
            say("accept: %d", a.u.err);
            errors++;
            continue;
        }
        int c = (int)a.u.ok.fd;
        for (;;) {
            ssize_t n = read(c, big, sizeof big);
            if (n <= 0) {
                if (n < 0) errors++;
                break;
            }
            bytes += (uint64_t)n;
            if (write_all(c, big, (size_t)n) != 0) {
                errors++;
                break;
            }
        }
        close(c);
        served++;
    }
    close(lfd);
    say("served %d errors %d bytes %llu", served, errors, (unsigned long long)bytes);
    /* Every connection's slot came back: the next socket takes fd 3 again. */
    say("next fd %d", open_socket(0, 0));
    return 0;
}

/* Send MSG to 127.0.0.1:PORT, half-close, print the reply. */
static int client(int port, const char *msg) {
    int fd = open_socket(0, 0);
    int err = fd < 0 ? -fd : s_connect(fd, LOOPBACK(port));
    if (err != 0) {
        say("connect: %d", err);
        return 12;
    }
    say("nodelay %d keepalive %d", s_set_nodelay(fd, 1), s_set_keepalive(fd, 5000000000LL, 1000000000LL, 3));
    address_result r;
    s_remote_address(fd, &r);
    say("remote %d.%d.%d.%d:%d", r.u.ok.a[0], r.u.ok.a[1], r.u.ok.a[2], r.u.ok.a[3], r.u.ok.port);
    write_all(fd, (const uint8_t *)msg, strlen(msg));
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, big + got, sizeof big - 1 - got)) > 0) got += (size_t)n;
    big[got] = 0;
    say("reply %s", (char *)big);
    close(fd);
    return 0;
}

/* UDP both ways with a peer at PORT: send "ping", take its answer, then a
 * datagram larger than the buffer (truncated). */
static int udp(int port) {
    int fd = open_socket(1, 0);
    if (fd < 0) {
        say("open: %d", -fd);
        return 13;
    }
    int err = s_bind(fd, LOOPBACK(0));
    say("bind %d port %d", err, local_port(fd));
    u32_result sent;
    s_send_to(fd, "ping", 4, LOOPBACK(port), &sent);
    say("sent %lld", (long long)value_of(&sent));
    for (int i = 0; i < 2; i++) {
        recv_result r;
        char buf[17] = {0};
        s_recv_from(fd, buf, 16, 0, &r);
        if (r.tag != 0) {
            say("recv: %d", r.u.err);
            return 14;
        }
        say("got %s length %u truncated %d from port %d", buf, r.u.ok.length, r.u.ok.truncated,
            r.u.ok.remote.port);
    }
    /* Connected UDP: p1's fd_write goes to the connected (granted) peer. */
    err = s_connect(fd, LOOPBACK(port));
    ssize_t w = write(fd, "fd_write", 8);
    say("connect %d write %zd", err, w);
    return 0;
}

/* Refusals: not granted, granted but closed, datagrams, bad pointers, wrong calls. */
static int refused(int denied, int closed) {
    int fd = open_socket(0, 0);
    say("connect denied %d", s_connect(fd, LOOPBACK(denied)));
    say("connect closed %d", s_connect(fd, LOOPBACK(closed)));
    int fd2 = open_socket(0, 0);
    say("bind denied %d", s_bind(fd2, LOOPBACK(denied)));
    say("listen unbound %d", s_listen(fd2, 1));
    say("connect ipv6 on ipv4 %d", s_connect(fd2, 1, closed, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0));
    say("connect bad case %d", s_connect(fd2, 7, closed, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    int u = open_socket(1, 0);
    u32_result r;
    s_send_to(u, "x", 1, LOOPBACK(denied), &r);
    say("send-to denied %lld", (long long)value_of(&r));
    s_send_to(u, (const void *)0x7ffffff0, 64, LOOPBACK(closed), &r);
    say("send-to fault %lld", (long long)value_of(&r));
    recv_result rr;
    s_recv_from(u, (void *)0x7ffffff0, 64, 0, &rr);
    say("recv-from fault %d", rr.tag ? rr.u.err : 0);
    s_recv_from(fd, big, 64, 0, &rr);
    say("recv-from tcp %d", rr.tag ? rr.u.err : 0);
    say("listen udp %d", s_listen(u, 1));
    say("nodelay udp %d", s_set_nodelay(u, 1));
    say("keepalive bad %d", s_set_keepalive(fd2, 1000000000, 0, 3));
    say("take-error stdout %d", s_take_error(1));
    say("take-error closed fd %d", s_take_error(40));
    accept_result a;
    s_accept(fd2, 0, &a);
    say("accept not listening %d", a.tag ? a.u.err : 0);
    s_open(2, 0, 0, &r);
    say("open bad family %lld", (long long)value_of(&r));
    s_open(0, 0, 1, &r);
    say("open bad flags %lld", (long long)value_of(&r));
    return 0;
}

/* With no grant at all: open is acces. */
static int nogrants(void) {
    int fd = open_socket(0, 0);
    say("open tcp %s %d", fd < 0 ? "errno" : "fd", fd < 0 ? -fd : fd);
    return 0;
}

/* poll_oneoff over a listener and three connections. */
static int poll_many(void) {
    int lfd = listener(0);
    int conns[3];
    for (int i = 0; i < 3; i++) {
        accept_result a;
        s_accept(lfd, 0, &a);
        conns[i] = (int)a.u.ok.fd;
    }
    say("accepted 3");
    /* Step 1: the test wrote 5 bytes on connection 1 only. */
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
        /* Drain what was reported so the next step starts clean. */
        for (__wasi_size_t i = 0; i < n; i++) {
            uint64_t u = events[i].userdata;
            if (u < 3) {
                char buf[16];
                ssize_t r = read(conns[u], buf, sizeof buf);
                if (r == 0) { /* EOF: watch a far clock instead */
                    memset(&subs[u].u, 0, sizeof subs[u].u);
                    subs[u].u.tag = __WASI_EVENTTYPE_CLOCK;
                    subs[u].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
                    subs[u].u.u.clock.timeout = 10000000000ull;
                }
            } else if (u == 3) {
                accept_result a;
                /* A non-blocking listener (p1's fd_fdstat_set_flags) answers again when empty. */
                if (__wasi_fd_fdstat_set_flags(lfd, __WASI_FDFLAGS_NONBLOCK) != 0) say("set flags failed");
                s_accept(lfd, 0, &a);
                if (a.tag == 0) close((int)a.u.ok.fd);
                s_accept(lfd, 0, &a);
                say("second accept %d", a.tag ? a.u.err : 0);
            }
        }
    }
    return 0;
}

/* Non-blocking connect: refused and accepted, with take-error; timeouts. */
static int nbconnect(int open_port, int closed_port) {
    for (int k = 0; k < 2; k++) {
        int port = k == 0 ? closed_port : open_port;
        int fd = open_socket(0, __WASI_FDFLAGS_NONBLOCK);
        int err = s_connect(fd, LOOPBACK(port));
        __wasi_subscription_t sub;
        __wasi_event_t ev;
        __wasi_size_t n = 0;
        memset(&sub, 0, sizeof sub);
        sub.u.tag = __WASI_EVENTTYPE_FD_WRITE;
        sub.u.u.fd_write.file_descriptor = (uint32_t)fd;
        int perr = __wasi_poll_oneoff(&sub, &ev, 1, &n);
        say("connect %d poll %d events %lu take-error %d then %d", err, perr, n, s_take_error(fd),
            s_take_error(fd));
        if (k == 1) {
            /* Linux answers the first connect after completion with 0, then isconn. */
            int first = s_connect(fd, LOOPBACK(port));
            say("connect after %d then %d", first, s_connect(fd, LOOPBACK(port)));
            /* Blocking read with a 200 ms receive timeout: again. */
            say("blocking %d", __wasi_fd_fdstat_set_flags(fd, 0));
            say("timeouts %d", s_set_timeouts(fd, 200000000, 0));
            uint8_t b;
            ssize_t r = read(fd, &b, 1);
            say("read %zd errno %d", r, r < 0 ? errno : 0);
        }
        close(fd);
    }
    return 0;
}

/* Name lookup: numeric, the static table, the host's resolver, errors, and
 * a grant by name admitting what resolve returned. */
static int resolve(int port) {
    struct { uint8_t tag, pad; uint16_t g[8]; } out[4];
    u32_result r;
    const char *names[] = {"10.1.2.3", "sensor.test", "localhost", "no-such-host.invalid", "", "::1"};
    for (int i = 0; i < 6; i++) {
        memset(out, 0xAA, sizeof out);
        s_resolve(names[i], (int32_t)strlen(names[i]), out, 4, &r);
        const uint8_t *b = (const uint8_t *)&out[0];
        say("resolve '%s' %lld first %d %d.%d.%d.%d", names[i], (long long)value_of(&r), b[0], b[2], b[3], b[4], b[5]);
    }
    char long_name[300];
    memset(long_name, 'a', sizeof long_name);
    s_resolve(long_name, 300, out, 4, &r);
    say("long %lld", (long long)value_of(&r));
    s_resolve("\xff\xfe", 2, out, 4, &r);
    say("bad utf8 %lld", (long long)value_of(&r));
    s_resolve("localhost", 9, (void *)0x7ffffff0, 4, &r);
    say("fault %lld", (long long)value_of(&r));
    int fd = open_socket(0, 0);
    say("connect before %d", s_connect(fd, LOOPBACK(port)));
    s_resolve("granted.test", 12, out, 4, &r);
    say("connect after %d", s_connect(fd, LOOPBACK(port)));
    close(fd);
    return 0;
}

/* A return area outside memory: the call traps (exit status 70). */
static int badret(void) {
    s_open(0, 0, 0, (void *)0x7ffffff0);
    say("not reached");
    return 0;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    int a = argc > 2 ? atoi(argv[2]) : 0, b = argc > 3 ? atoi(argv[3]) : 0;
    if (strcmp(what, "echo-server") == 0) return echo_server(a);
    if (strcmp(what, "client") == 0) return client(a, argc > 3 ? argv[3] : "");
    if (strcmp(what, "udp") == 0) return udp(a);
    if (strcmp(what, "refused") == 0) return refused(a, b);
    if (strcmp(what, "nogrants") == 0) return nogrants();
    if (strcmp(what, "poll") == 0) return poll_many();
    if (strcmp(what, "nbconnect") == 0) return nbconnect(a, b);
    if (strcmp(what, "resolve") == 0) return resolve(a);
    if (strcmp(what, "badret") == 0) return badret();
    say("unknown scenario '%s'", what);
    return 2;
}
