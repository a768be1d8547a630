/*
 * socktool.c: the guest side of tests/sockets, one WASI program with a
 * scenario per first argument, calling wasi-ext:sockets through imports
 * declared by hand from the WIT (sockets_guest.h), and
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

#include "sockets_guest.h"

/* A flattened ip-socket-address for 127.0.0.1:port. */
#define LOOPBACK(port) 0, (port), 127, 0, 0, 1, 0, 0, 0, 0, 0, 0

static int local_port(int fd) {
    address_result r;
    s_local_address(fd, &r);
    return r.tag == 0 ? r.u.ok.port : -r.u.err;
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
    for (int i = 0; i < 3; i++) conns[i] = accept_one(lfd);
    say("accepted 3");
    /* Step 1: the test wrote 5 bytes on connection 1 only. */
    poll_scenario(lfd, conns);
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
