/*
 * tcp_echo.c: a TCP echo server in Wasm, the same module on the host (BSD
 * sockets) and on mps2-an386 (lwIP on the board's Ethernet under QEMU).
 *
 *     tcp_echo CONNECTIONS ADDRESS [PORT]   (PORT default 7; CONNECTIONS 0: forever)
 *
 * ADDRESS is the local address to listen on: 127.0.0.1 on the host (nothing
 * outside the machine can connect), 0.0.0.0 on the board (every address it
 * has: the emulated board sits behind QEMU's loopback-only forward).
 *
 * It opens its listener through wasi-ext:sockets (the bindings `waft bindgen`
 * makes from wasi_ext/profiles' firmware-net world) and then treats every
 * socket as a p1 fd: poll_oneoff waits on the listener and up to MAX_CLIENTS
 * connections at once, read() and write() move the bytes.  What it may bind
 * is what the firmware (or `waft run --listen`) grants; a bind outside that
 * is `acces` before any packet moves.  After CONNECTIONS connections have
 * ended it prints how many bytes it echoed and exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "firmware_net.h"

#define MAX_CLIENTS 3

static uint8_t buf[4096];

/* A TCP listener on `ip`:`port`; -1 after saying why. */
static int listen_on(const uint8_t ip[4], uint16_t port) {
    firmware_net_result_fd_errno_t opened;
    wasi_ext_sockets_sockets_open(WASI_EXT_SOCKETS_SOCKETS_IP_ADDRESS_FAMILY_IPV4,
                                  WASI_EXT_SOCKETS_SOCKETS_SOCKET_TYPE_TCP, 0, &opened);
    if (opened.is_err) {
        printf("tcp_echo: open: errno %d\n", opened.val.err);
        return -1;
    }
    int fd = (int)opened.val.ok;
    wasi_ext_sockets_sockets_ip_socket_address_t local = {.tag = WASI_EXT_SOCKETS_SOCKETS_IP_SOCKET_ADDRESS_IPV4};
    local.val.ipv4.port = port;
    local.val.ipv4.address = (wasi_ext_sockets_sockets_ipv4_address_t){ip[0], ip[1], ip[2], ip[3]};
    int err = wasi_ext_sockets_sockets_set_reuse_address(fd, true);
    if (err == 0) err = wasi_ext_sockets_sockets_bind(fd, &local); /* acces unless granted */
    if (err == 0) err = wasi_ext_sockets_sockets_listen(fd, MAX_CLIENTS);
    if (err != 0) {
        printf("tcp_echo: listening on port %u: errno %d\n", port, err);
        return -1;
    }
    return fd;
}

/* Echo what is waiting on `fd`; false at its end (or on an error). */
static bool echo_some(int fd, unsigned long long *bytes) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    for (ssize_t done = 0; done < n;) {
        ssize_t w = write(fd, buf + done, (size_t)(n - done));
        if (w < 0) return false;
        done += w;
    }
    *bytes += (unsigned long long)n;
    return true;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        printf("usage: tcp_echo CONNECTIONS ADDRESS [PORT]\n");
        return 2;
    }
    int connections = atoi(argv[1]);
    uint8_t ip[4] = {0};
    const char *text = argv[2];
    for (int i = 0; i < 4; i++) {
        ip[i] = (uint8_t)strtoul(text, (char **)&text, 10);
        if (*text == '.') text++;
    }
    uint16_t port = (uint16_t)(argc > 3 ? atoi(argv[3]) : 7);
    int lfd = listen_on(ip, port);
    if (lfd < 0) return 1;
    printf("tcp_echo: listening on port %u\n", port);
    fflush(stdout);

    int clients[MAX_CLIENTS];
    int nclients = 0, ended = 0;
    unsigned long long bytes = 0;
    while (connections == 0 || ended < connections) {
        /* The listener while there is room for another client, and every client. */
        __wasi_subscription_t subs[MAX_CLIENTS + 1];
        __wasi_event_t events[MAX_CLIENTS + 1];
        __wasi_size_t nsubs = 0, nevents = 0;
        memset(subs, 0, sizeof subs);
        for (int i = 0; i < nclients; i++) {
            subs[nsubs].userdata = (uint64_t)i;
            subs[nsubs].u.tag = __WASI_EVENTTYPE_FD_READ;
            subs[nsubs++].u.u.fd_read.file_descriptor = (__wasi_fd_t)clients[i];
        }
        if (nclients < MAX_CLIENTS) {
            subs[nsubs].userdata = UINT64_MAX;
            subs[nsubs].u.tag = __WASI_EVENTTYPE_FD_READ;
            subs[nsubs++].u.u.fd_read.file_descriptor = (__wasi_fd_t)lfd;
        }
        if (__wasi_poll_oneoff(subs, events, nsubs, &nevents) != 0) return 2;
        /* Clients first; those that ended leave the list afterwards, so indexes hold meanwhile. */
        for (__wasi_size_t e = 0; e < nevents; e++) {
            uint64_t who = events[e].userdata;
            if (who != UINT64_MAX && !echo_some(clients[who], &bytes)) {
                close(clients[who]);
                clients[who] = -1;
                ended++;
            }
        }
        int kept = 0;
        for (int i = 0; i < nclients; i++) {
            if (clients[i] >= 0) clients[kept++] = clients[i];
        }
        nclients = kept;
        for (__wasi_size_t e = 0; e < nevents; e++) {
            if (events[e].userdata == UINT64_MAX && nclients < MAX_CLIENTS) {
                firmware_net_result_accepted_errno_t a;
                wasi_ext_sockets_sockets_accept(lfd, 0, &a);
                if (!a.is_err) clients[nclients++] = (int)a.val.ok.fd;
            }
        }
    }
    close(lfd);
    printf("tcp_echo: %d connections, %llu bytes echoed\n", ended, bytes);
    return 0;
}
