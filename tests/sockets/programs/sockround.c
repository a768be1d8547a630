/*
 * sockround.c: one run of every sockets scenario in a row, for the host and
 * for a board (tests/sockets/test_sockets_round.py), where a firmware's
 * arguments are fixed when it is built, so one firmware must cover them all.
 * The same code runs on both: only the addresses differ (the host binds
 * 127.0.0.1 and reaches pytest there; mps2-an386 binds 0.0.0.0 behind QEMU's
 * forward and reaches pytest at 10.0.2.2, QEMU's alias for the host).
 *
 *   sockround BIND PORT PEER PEER_PORT CLOSED_PORT DENIED_PORT UDP_PORT
 *
 * 1. echo: a TCP listener on BIND:PORT ("port P"); each connection is echoed
 *    until its end, a read that waits 2 s for nothing (a half-open peer) or
 *    an error (a reset); a connection whose first bytes are "quit" ends the
 *    phase ("echo served N errors E idle I bytes B").
 * 2. poll: three more connections (the third through p1's sock_accept), then
 *    poll_oneoff over them, the listener and a clock, three times ("ready ..."
 *    lines, as socktool's poll).
 * 3. client: connect to PEER:PEER_PORT, send, half-close, peek and print the
 *    reply (p1's sock_send, sock_shutdown, sock_recv); CLOSED_PORT is granted
 *    by the name peer.test (the static name table's), so it is acces until
 *    resolve named it, then refused (connrefused), blocking and non-blocking
 *    (inprogress, writable, take-error); PEER:DENIED_PORT is not granted (acces).
 * 4. udp: send "ping" to PEER:UDP_PORT and print the answer.
 * 5. "next fd N": every socket's slot came back, then "done".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi/api.h>

#include "sockets_guest.h"

static uint8_t bind_ip[4], peer_ip[4];
static uint8_t big[16384];

static void parse_ip(const char *text, uint8_t out[4]) {
    for (int i = 0; i < 4; i++) {
        out[i] = (uint8_t)strtoul(text, (char **)&text, 10);
        if (*text == '.') text++;
    }
}

/* Phase 1: echo until a connection says "quit". */
static void echo_phase(int lfd) {
    int served = 0, errors = 0, idle = 0;
    unsigned long long bytes = 0;
    for (;;) {
        int c = accept_one(lfd);
        if (c < 0) {
            errors++;
            continue;
        }
        /* A peer that sends nothing for 2 s is dropped, so it cannot hold the server. */
        s_set_timeouts(c, 2000000000LL, 2000000000LL);
        bool first = true, quit = false;
        for (;;) {
            ssize_t n = read(c, big, sizeof big);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) idle++;
                else if (n < 0) errors++;
                break;
            }
            if (first && n == 4 && memcmp(big, "quit", 4) == 0) {
                quit = true;
                break;
            }
            first = false;
            bytes += (unsigned long long)n;
            if (write_all(c, big, (size_t)n) != 0) {
                errors++;
                break;
            }
        }
        close(c);
        if (quit) break;
        served++;
    }
    say("echo served %d errors %d idle %d bytes %llu", served, errors, idle, bytes);
}

/* Phase 2: poll_oneoff over three connections, the listener and a clock. */
static void poll_phase(int lfd) {
    int conns[3];
    for (int i = 0; i < 2; i++) conns[i] = accept_one(lfd);
    conns[2] = accept(lfd, NULL, NULL); /* p1's sock_accept on the same listener */
    say("accepted 3");
    poll_scenario(lfd, conns);
    for (int i = 0; i < 3; i++) close(conns[i]);
}

/* Phase 3: a client, a refused destination and one not granted. */
static void client_phase(int peer_port, int closed_port, int denied_port) {
    int fd = open_socket(0, 0);
    int err = fd < 0 ? -fd : s_connect(fd, V4(peer_ip, peer_port));
    if (err != 0) {
        say("connect: %d", err);
    } else {
        /* p1's sock_send, sock_shutdown and sock_recv (with a peek first) this time. */
        static const char msg[] = "hello from the guest";
        if (send(fd, msg, sizeof msg - 1, 0) != (ssize_t)(sizeof msg - 1)) say("send: %d", errno);
        shutdown(fd, SHUT_WR);
        char first[6];
        ssize_t peeked = recv(fd, first, sizeof first, MSG_PEEK);
        size_t got = 0;
        ssize_t n;
        while ((n = recv(fd, big + got, sizeof big - 1 - got, 0)) > 0) got += (size_t)n;
        big[got] = 0;
        if (peeked <= 0 || memcmp(first, big, (size_t)peeked) != 0) say("peek %zd did not see the reply", peeked);
        say("reply %s", (char *)big);
    }
    close(fd);
    if (closed_port == 0) return;
    /* The closed port is granted by name: acces until resolve named the address, then refused. */
    fd = open_socket(0, 0);
    say("connect closed before resolve %d", s_connect(fd, V4(peer_ip, closed_port)));
    struct { uint8_t tag, pad; uint8_t a[16]; } found[2];
    u32_result r;
    s_resolve("peer.test", 9, found, 2, &r);
    say("resolve peer.test %d count %u first %d.%d.%d.%d", r.tag, r.value, found[0].a[0], found[0].a[1],
        found[0].a[2], found[0].a[3]);
    say("connect closed %d", s_connect(fd, V4(peer_ip, closed_port)));
    close(fd);
    /* Non-blocking: inprogress, then writable, and take-error says how it ended (once). */
    fd = open_socket(0, __WASI_FDFLAGS_NONBLOCK);
    err = s_connect(fd, V4(peer_ip, closed_port));
    __wasi_subscription_t sub;
    __wasi_event_t ev;
    __wasi_size_t nev = 0;
    memset(&sub, 0, sizeof sub);
    sub.u.tag = __WASI_EVENTTYPE_FD_WRITE;
    sub.u.u.fd_write.file_descriptor = (uint32_t)fd;
    int perr = __wasi_poll_oneoff(&sub, &ev, 1, &nev);
    int first = s_take_error(fd);
    say("nonblocking connect %d poll %d events %lu take-error %d then %d", err, perr, (unsigned long)nev, first,
        s_take_error(fd));
    close(fd);
    fd = open_socket(0, 0);
    say("connect denied %d", s_connect(fd, V4(peer_ip, denied_port)));
    close(fd);
}

/* Phase 4: a UDP round trip. */
static void udp_phase(int udp_port) {
    int fd = open_socket(1, 0);
    s_set_timeouts(fd, 5000000000LL, 0);
    u32_result sent;
    s_send_to(fd, "ping", 4, V4(peer_ip, udp_port), &sent);
    recv_result r;
    char buf[17] = {0};
    s_recv_from(fd, buf, 16, 0, &r);
    if (r.tag != 0) {
        say("udp sent %u recv error %d", sent.value, r.u.err);
    } else {
        say("udp sent %u got %s length %u from port %d", sent.value, buf, r.u.ok.length, r.u.ok.remote.port);
    }
    close(fd);
}

/* `sockround echo-once BIND PORT PEER PEER_PORT`: one echo, then one client
 * exchange (what `waft run`'s test needs of the forward and the grants). */
static int echo_once(int argc, char **argv) {
    if (argc != 6) return 2;
    parse_ip(argv[2], bind_ip);
    parse_ip(argv[4], peer_ip);
    int port = atoi(argv[3]);
    int lfd = open_socket(0, 0);
    int err = lfd < 0 ? -lfd : s_bind(lfd, V4(bind_ip, port));
    if (err == 0) err = s_listen(lfd, 1);
    if (err != 0) {
        say("listen: %d", err);
        return 11;
    }
    say("port %d", port);
    int c = accept_one(lfd);
    ssize_t n;
    while ((n = read(c, big, sizeof big)) > 0) write_all(c, big, (size_t)n);
    close(c);
    close(lfd);
    client_phase(atoi(argv[5]), 0, 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "echo-once") == 0) return echo_once(argc, argv);
    if (argc != 8) {
        say("usage: sockround BIND PORT PEER PEER_PORT CLOSED_PORT DENIED_PORT UDP_PORT");
        return 2;
    }
    parse_ip(argv[1], bind_ip);
    parse_ip(argv[3], peer_ip);
    int port = atoi(argv[2]);
    int lfd = open_socket(0, 0);
    int err = lfd < 0 ? -lfd : s_set_reuse_address(lfd, 1);
    if (err == 0) err = s_bind(lfd, V4(bind_ip, port));
    if (err == 0) err = s_listen(lfd, 4);
    if (err != 0) {
        say("listen: %d", err);
        return 11;
    }
    say("port %d", port);
    echo_phase(lfd);
    poll_phase(lfd);
    close(lfd);
    client_phase(atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    udp_phase(atoi(argv[7]));
    int next = open_socket(0, 0);
    say("next fd %d", next);
    close(next);
    say("done");
    return 0;
}
