/*
 * port_lwip.c: sockets_port.h over lwIP's raw API (NO_SYS), for boards, and
 * the socket half of the bare-metal WASI p1 port (fd_read, fd_write,
 * poll_oneoff, fd_close, fdstat flags and p1's sock_* on socket fds: the
 * hooks port_baremetal.c calls for handles from WAFT_NET_HANDLE_BASE up).
 *
 * A socket is a record in a static table (WAFT_LWIP_SOCKETS of them): its
 * lwIP pcb, the data lwIP delivered and the guest has not read (TCP: one pbuf
 * chain, the window held shut until the guest reads it; UDP: a small ring of
 * datagrams with their senders), a listener's accepted connections not yet
 * taken, the pending error, its flags and timeouts.  A handle is
 * WAFT_NET_HANDLE_BASE + the record's index.  Nothing is allocated outside
 * lwIP's own static pools.
 *
 * NO_SYS: lwIP runs only when this file calls it.  Every socket call first
 * lets the stack take what the NIC received and run its timers
 * (net_service); a call that must wait (a blocking accept, connect, read or
 * a full send buffer) repeats that until it can answer, or its timeout
 * passes.  poll_oneoff does the same through waft_net_service.  Between
 * frames the core spins while traffic flows and sleeps (WFI, the
 * millisecond tick wakes it) once the NIC has been quiet for a millisecond,
 * so an idle board costs the host nothing and a transfer is not paced by the
 * tick.  One thread: a firmware that runs threads gets no sockets
 * (waftkit/firmware/embedding.py refuses the combination).
 *
 * The board's address is static (QEMU's user network: 10.0.2.15/24, gateway
 * 10.0.2.2; -DWAFT_LWIP_IP=0x0A00020F and friends change it, host order).
 * IPv4 only (LWIP_IPV6 is 0): an IPv6 socket is `afnosupport`.  No DNS: the
 * static name table answers names, resolve otherwise says `notsup`.
 *
 * The NIC sits behind two hooks (waft_net_nic.h): waft_net_nic_init, the
 * netif's init function, and waft_net_nic_poll, which hands lwIP the frames
 * received.  This file defines them on the LAN9118 driver (lan9118.c), unless
 * built with WAFT_NET_VENDOR_NIC: then the firmware brings its own driver (a
 * `waft bsp --nic vendor` drop-in, docs/bsp.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waft_net_nic.h"
#if !defined(WAFT_NET_VENDOR_NIC)
#include "lan9118.h"
#endif
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/priv/tcp_priv.h" /* tcp_tw_pcbs, for the report */
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#include "../../wasi_p1/port_baremetal.h"
#include "../../wasi_p1/wasi_internal.h"
#include "../sockets_port.h"
#include "waft.h"

#define E(name) WAFT_WASI_ERRNO_##name

#ifndef WAFT_LWIP_SOCKETS
/* Connections and listeners and UDP sockets at once: what lwIP's pools hold. */
#define WAFT_LWIP_SOCKETS (MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN + MEMP_NUM_UDP_PCB)
#endif
#ifndef WAFT_LWIP_BACKLOG
#define WAFT_LWIP_BACKLOG 4      /* connections a listener holds for accept */
#endif
#ifndef WAFT_LWIP_DGRAMS
#define WAFT_LWIP_DGRAMS 4       /* datagrams a UDP socket holds unread; more are dropped */
#endif
#ifndef WAFT_LWIP_IP
#define WAFT_LWIP_IP 0x0A00020Fu       /* 10.0.2.15 */
#endif
#ifndef WAFT_LWIP_NETMASK
#define WAFT_LWIP_NETMASK 0xFFFFFF00u  /* /24 */
#endif
#ifndef WAFT_LWIP_GATEWAY
#define WAFT_LWIP_GATEWAY 0x0A000202u  /* 10.0.2.2 */
#endif
/* How long the NIC may be quiet before a waiting call sleeps between polls. */
#define SPIN_NS 1000000u

typedef struct dgram {
    struct pbuf *p;
    ip_addr_t addr;
    u16_t port;
} dgram;

typedef struct lsock {
    bool used;
    bool tcp;
    bool nonblock;
    bool listening;
    bool connecting;     /* a TCP connect under way */
    bool connected;      /* TCP: established at some point; UDP: udp_connect'ed */
    bool eof;            /* TCP: the peer's FIN (or the connection's end) arrived */
    bool accepted;       /* a connection taken from a listener's backlog by the guest */
    uint16_t error;      /* pending asynchronous error (WASI errno), take-error's */
    union {
        struct tcp_pcb *tcp;
        struct udp_pcb *udp;
    } pcb;
    struct pbuf *rx;     /* TCP: received, unread */
    dgram dgrams[WAFT_LWIP_DGRAMS];
    uint8_t dg_head, dg_count;
    int8_t backlog[WAFT_LWIP_BACKLOG]; /* listener: records of connections not accepted yet */
    uint8_t bl_head, bl_count, bl_max;
    uint64_t recv_timeout_ns, send_timeout_ns;
} lsock;

static lsock socks[WAFT_LWIP_SOCKETS];
static struct netif netif;
static bool started;
static uint64_t last_frame_ns;

void waft_net_report(void);

/* An immediate interrupt handler (wasi-ext:signals) may have interrupted the
 * program anywhere, lwIP included, and lwIP is not re-entrant: every sockets
 * call made in handler mode is `perm` (docs/wasi-ext.md), before it touches
 * anything. */
static inline bool in_handler(void) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return (ipsr & 0x1FFu) != 0;
}
#define REFUSE_IN_HANDLER()                                                                                  \
    do {                                                                                                     \
        if (in_handler()) return E(PERM);                                                                    \
    } while (0)

/* ---- the NIC: the library's LAN9118 driver, or the firmware's ------------- */

#if !defined(WAFT_NET_VENDOR_NIC)
static lan9118 nic;

int waft_net_nic_init(struct netif *n) {
    if (lan9118_init(&nic, LAN9118_MPS2_BASE) != 0) {
        waft_port_write_error("waft: sockets: no LAN9118 network controller answers on this board\n");
        return ERR_IF;
    }
    n->state = &nic;
    return lan9118_netif_init(n);
}

int waft_net_nic_poll(struct netif *n) { return lan9118_netif_poll(n); }
#endif

/* netif_add takes an init function of lwIP's type; the hook returns an int. */
static err_t nic_init(struct netif *n) { return (err_t)waft_net_nic_init(n); }

/* ---- the stack's clock work --------------------------------------------- */

uint16_t waft_sock_port_start(void) {
    if (started) return 0;
    waft_clock_start();
    lwip_init();
    ip4_addr_t ip, mask, gw;
    ip4_addr_set_u32(&ip, lwip_htonl(WAFT_LWIP_IP));
    ip4_addr_set_u32(&mask, lwip_htonl(WAFT_LWIP_NETMASK));
    ip4_addr_set_u32(&gw, lwip_htonl(WAFT_LWIP_GATEWAY));
    if (netif_add(&netif, &ip, &mask, &gw, NULL, nic_init, ethernet_input) == NULL) {
#if defined(WAFT_NET_VENDOR_NIC)
        waft_port_write_error("waft: sockets: the firmware's NIC driver did not start (waft_net_nic_init)\n");
#endif
        return E(NETDOWN);
    }
    netif_set_default(&netif);
    netif_set_up(&netif);
    netif_set_link_up(&netif);
    started = true;
#if defined(WAFT_LWIP_REPORT_AT_EXIT)
    /* Tests and the benchmark read the pools after the program ended. */
    atexit(waft_net_report);
#endif
    return 0;
}

/* Taking a frame in is lwIP's deepest path: the driver hands it to
 * ethernet_input, then IP, TCP, this file's callbacks, and often TCP's
 * answer all the way out through ARP to the driver again, about 1 KiB of
 * stack.  A socket call runs below the Wasm code's checked stack pointer, in
 * WAFT_STACK_MARGIN, which that would nearly exhaust; so that path runs on
 * a stack of its own (checked by tests/sockets/test_sockets_stack_usage.py). */
#ifndef WAFT_LWIP_STACK_SIZE
#define WAFT_LWIP_STACK_SIZE 2048
#endif
static uint64_t net_stack[WAFT_LWIP_STACK_SIZE / 8];
static bool in_service;

static void service_body(void) {
    if (waft_net_nic_poll(&netif) > 0) last_frame_ns = waft_clock_ns();
    sys_check_timeouts();
}

/* Call `fn` with the stack pointer at `top` (8-byte aligned), then come back
 * to the caller's stack.  An interrupt taken meanwhile stacks on `top`'s
 * stack too, which its size allows for. */
__attribute__((noinline)) static void call_on_stack(void (*fn)(void), uint64_t *top) {
    __asm__ volatile(
        "mov r12, sp\n\t"
        "mov sp, %1\n\t"
        "push {r12, lr}\n\t" /* the caller's stack pointer, kept 8-byte aligned */
        "blx %0\n\t"
        "pop {r12, lr}\n\t"
        "mov sp, r12\n\t"
        :
        : "r"(fn), "r"(top)
        : "r0", "r1", "r2", "r3", "r12", "lr", "memory", "cc");
}

/* Take what the NIC received and run lwIP's timers, once, on the network's stack. */
static void net_service(void) {
    if (!started || in_service) return;
    in_service = true;
    call_on_stack(service_body, &net_stack[sizeof net_stack / sizeof net_stack[0]]);
    in_service = false;
}

void waft_net_service(void) {
    if (!in_handler()) net_service();
}

/* One step of a wait: service the stack, then sleep until the next tick if
 * the NIC has been quiet for a while.  False once `deadline` (0: none) passed. */
static bool wait_step(uint64_t deadline) {
    net_service();
    uint64_t now = waft_clock_ns();
    if (deadline != 0 && now >= deadline) return false;
    if (now - last_frame_ns > SPIN_NS) waft_clock_idle();
    return true;
}

static uint64_t deadline_of(uint64_t timeout_ns) {
    return timeout_ns == 0 ? 0 : waft_clock_ns() + timeout_ns;
}

/* ---- records and handles ------------------------------------------------- */

static lsock *sock_of(int32_t h) {
    int32_t i = h - WAFT_NET_HANDLE_BASE;
    if (i < 0 || i >= WAFT_LWIP_SOCKETS || !socks[i].used) return NULL;
    return &socks[i];
}

static int32_t handle_of(const lsock *s) { return WAFT_NET_HANDLE_BASE + (int32_t)(s - socks); }

static lsock *sock_new(bool tcp) {
    for (int i = 0; i < WAFT_LWIP_SOCKETS; i++) {
        if (!socks[i].used) {
            memset(&socks[i], 0, sizeof socks[i]);
            socks[i].used = true;
            socks[i].tcp = tcp;
            return &socks[i];
        }
    }
    return NULL;
}

static uint16_t errno_of(err_t e) {
    switch (e) {
    case ERR_OK: return 0;
    case ERR_MEM: case ERR_BUF: return E(NOBUFS);
    case ERR_TIMEOUT: return E(TIMEDOUT);
    case ERR_RTE: return E(HOSTUNREACH);
    case ERR_INPROGRESS: return E(INPROGRESS);
    case ERR_VAL: case ERR_ARG: return E(INVAL);
    case ERR_WOULDBLOCK: return E(AGAIN);
    case ERR_USE: return E(ADDRINUSE);
    case ERR_ALREADY: return E(ALREADY);
    case ERR_ISCONN: return E(ISCONN);
    case ERR_CONN: return E(NOTCONN);
    case ERR_IF: return E(NETDOWN);
    case ERR_ABRT: return E(CONNABORTED);
    case ERR_RST: return E(CONNRESET);
    case ERR_CLSD: return E(NOTCONN);
    default: return E(IO);
    }
}

static void addr_to_lwip(const waft_sock_addr *a, ip_addr_t *out) {
    uint32_t v;
    memcpy(&v, a->addr, 4); /* network order, as lwIP keeps it */
    ip_addr_set_ip4_u32(out, v);
}

static void addr_from_lwip(const ip_addr_t *ip, u16_t port, waft_sock_addr *out) {
    memset(out, 0, sizeof *out);
    out->family = 4;
    out->port = port;
    uint32_t v = ip4_addr_get_u32(ip_2_ip4(ip));
    memcpy(out->addr, &v, 4);
}

/* ---- lwIP's callbacks ------------------------------------------------------ */

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    lsock *s = arg;
    (void)pcb;
    if (s == NULL) { /* the record is gone: nobody reads this */
        if (p != NULL) pbuf_free(p);
        return ERR_OK;
    }
    if (p == NULL) {
        s->eof = true;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    /* Held unread: lwIP's window stays shut by these bytes until the guest reads them. */
    if (s->rx == NULL) {
        s->rx = p;
    } else {
        pbuf_cat(s->rx, p);
    }
    return ERR_OK;
}

/* The pcb is freed by lwIP when this runs: forget it. */
static void on_tcp_err(void *arg, err_t err) {
    lsock *s = arg;
    if (s == NULL) return;
    s->pcb.tcp = NULL;
    s->eof = true;
    if (s->connecting) {
        s->error = err == ERR_RST ? E(CONNREFUSED) : errno_of(err);
        s->connecting = false;
    } else {
        s->error = errno_of(err);
    }
}

static err_t on_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    lsock *s = arg;
    (void)pcb;
    if (s != NULL) {
        s->connecting = false;
        if (err == ERR_OK) {
            s->connected = true;
        } else {
            s->error = errno_of(err);
        }
    }
    return ERR_OK;
}

/* A new connection on a listener: give it a record at once (data may come
 * before the guest accepts), or refuse it when the records or the backlog are
 * full: bounded, whatever a peer floods the board with. */
static err_t on_tcp_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    lsock *l = arg;
    if (err != ERR_OK || newpcb == NULL) return ERR_VAL;
    lsock *c = NULL;
    if (l != NULL && l->bl_count < l->bl_max) c = sock_new(true);
    if (c == NULL) {
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    c->pcb.tcp = newpcb;
    c->connected = true;
    tcp_arg(newpcb, c);
    tcp_recv(newpcb, on_tcp_recv);
    tcp_err(newpcb, on_tcp_err);
    l->backlog[(l->bl_head + l->bl_count) % WAFT_LWIP_BACKLOG] = (int8_t)(c - socks);
    l->bl_count++;
    return ERR_OK;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
    lsock *s = arg;
    (void)pcb;
    if (s == NULL || s->dg_count == WAFT_LWIP_DGRAMS) {
        pbuf_free(p); /* the guest is behind: drop, as a full socket buffer does */
        return;
    }
    dgram *d = &s->dgrams[(s->dg_head + s->dg_count) % WAFT_LWIP_DGRAMS];
    d->p = p;
    ip_addr_copy(d->addr, *addr);
    d->port = port;
    s->dg_count++;
}

/* ---- sockets_port.h -------------------------------------------------------- */

uint16_t waft_sock_port_open(uint8_t family, uint8_t protocol, bool nonblock, int32_t *handle) {
    REFUSE_IN_HANDLER();
    if (family != 4) return E(AFNOSUPPORT);
    if (!started) return E(NETDOWN);
    net_service();
    lsock *s = sock_new(protocol == WAFT_SOCKETS_TCP);
    if (s == NULL) return E(NOBUFS);
    if (s->tcp) {
        s->pcb.tcp = tcp_new();
        if (s->pcb.tcp != NULL) {
            tcp_arg(s->pcb.tcp, s);
            tcp_recv(s->pcb.tcp, on_tcp_recv);
            tcp_err(s->pcb.tcp, on_tcp_err);
        }
    } else {
        s->pcb.udp = udp_new();
        if (s->pcb.udp != NULL) udp_recv(s->pcb.udp, on_udp_recv, s);
    }
    if (s->pcb.tcp == NULL && s->pcb.udp == NULL) {
        s->used = false;
        return E(NOBUFS);
    }
    s->nonblock = nonblock;
    *handle = handle_of(s);
    return 0;
}

uint16_t waft_sock_port_kind(int32_t h, uint8_t *family, uint8_t *protocol) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    *family = 4;
    *protocol = s->tcp ? WAFT_SOCKETS_TCP : WAFT_SOCKETS_UDP;
    return 0;
}

/* The TCP pcb, or the error that ended it (NOTCONN when none was recorded). */
static uint16_t live_tcp(lsock *s) {
    if (s->pcb.tcp != NULL) return 0;
    return s->error != 0 ? s->error : E(NOTCONN);
}

uint16_t waft_sock_port_bind(int32_t h, const waft_sock_addr *local) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    net_service();
    ip_addr_t ip;
    addr_to_lwip(local, &ip);
    /* lwIP would take any address and never match it: only the board's own or any. */
    if (!ip_addr_isany(&ip) && !ip_addr_cmp(&ip, &netif.ip_addr)) return E(ADDRNOTAVAIL);
    if (s->tcp) {
        uint16_t err = live_tcp(s);
        if (err != 0) return err;
        if (s->pcb.tcp->local_port != 0) return E(INVAL);
        return errno_of(tcp_bind(s->pcb.tcp, &ip, local->port));
    }
    if (s->pcb.udp->local_port != 0) return E(INVAL);
    return errno_of(udp_bind(s->pcb.udp, &ip, local->port));
}

uint16_t waft_sock_port_listen(int32_t h, uint32_t backlog) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (!s->tcp) return E(NOTSUP);
    uint16_t err = live_tcp(s);
    if (err != 0) return err;
    if (s->listening) return 0;
    if (s->pcb.tcp->local_port == 0) return E(DESTADDRREQ);
    if (s->connected || s->connecting) return E(INVAL);
    struct tcp_pcb *l = tcp_listen_with_backlog(s->pcb.tcp, 255);
    if (l == NULL) return E(NOBUFS); /* the old pcb is still there */
    s->pcb.tcp = l;
    s->listening = true;
    s->bl_max = (uint8_t)(backlog == 0 || backlog > WAFT_LWIP_BACKLOG ? WAFT_LWIP_BACKLOG : backlog);
    tcp_arg(l, s);
    tcp_accept(l, on_tcp_accept);
    return 0;
}

uint16_t waft_sock_port_connect(int32_t h, const waft_sock_addr *remote) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    net_service();
    ip_addr_t ip;
    addr_to_lwip(remote, &ip);
    if (!s->tcp) {
        err_t e = udp_connect(s->pcb.udp, &ip, remote->port);
        if (e == ERR_OK) s->connected = true;
        return errno_of(e);
    }
    if (s->listening) return E(INVAL);
    if (s->connecting) return E(ALREADY);
    if (s->connected) return s->pcb.tcp != NULL ? E(ISCONN) : live_tcp(s);
    uint16_t err = live_tcp(s);
    if (err != 0) return err;
    if (ip_addr_isany(&ip) || remote->port == 0) return E(ADDRNOTAVAIL);
    s->error = 0;
    s->connecting = true;
    err_t e = tcp_connect(s->pcb.tcp, &ip, remote->port, on_tcp_connected);
    if (e != ERR_OK) {
        s->connecting = false;
        return errno_of(e);
    }
    if (s->nonblock) return E(INPROGRESS);
    while (s->connecting) wait_step(0);
    if (s->connected) return 0;
    uint16_t why = s->error != 0 ? s->error : E(CONNREFUSED);
    s->error = 0;
    return why;
}

uint16_t waft_sock_port_accept(int32_t h, bool nonblock, int32_t *conn, waft_sock_addr *remote) {
    REFUSE_IN_HANDLER();
    lsock *l = sock_of(h);
    if (l == NULL) return E(BADF);
    if (!l->tcp || !l->listening) return E(INVAL);
    uint64_t deadline = deadline_of(l->recv_timeout_ns);
    net_service();
    while (l->bl_count == 0) {
        if (l->nonblock) return E(AGAIN);
        if (!wait_step(deadline)) return E(AGAIN);
    }
    lsock *c = &socks[l->backlog[l->bl_head]];
    l->bl_head = (uint8_t)((l->bl_head + 1) % WAFT_LWIP_BACKLOG);
    l->bl_count--;
    c->accepted = true;
    c->nonblock = nonblock;
    if (c->pcb.tcp != NULL) {
        addr_from_lwip(&c->pcb.tcp->remote_ip, c->pcb.tcp->remote_port, remote);
    } else {
        memset(remote, 0, sizeof *remote); /* reset before it was taken: reads say why */
        remote->family = 4;
    }
    *conn = handle_of(c);
    return 0;
}

/* Queue up to `len` bytes on a TCP connection; waits for room unless
 * non-blocking.  *sent may be short only for a non-blocking socket. */
static uint16_t tcp_send_bytes(lsock *s, const uint8_t *data, size_t len, size_t *sent) {
    uint64_t deadline = deadline_of(s->send_timeout_ns);
    *sent = 0;
    while (*sent < len) {
        uint16_t err = live_tcp(s);
        if (err != 0) return *sent > 0 ? 0 : (err == E(NOTCONN) && s->connected ? E(PIPE) : err);
        if (!s->connected) return E(NOTCONN);
        size_t room = tcp_sndbuf(s->pcb.tcp);
        size_t n = len - *sent;
        if (n > room) n = room;
        if (n > 0xFFFFu) n = 0xFFFFu;
        if (n > 0 && tcp_sndqueuelen(s->pcb.tcp) < TCP_SND_QUEUELEN - 1) {
            err_t e = tcp_write(s->pcb.tcp, data + *sent, (u16_t)n, TCP_WRITE_FLAG_COPY);
            if (e == ERR_OK) {
                *sent += n;
                continue;
            }
            if (e != ERR_MEM) return *sent > 0 ? 0 : errno_of(e);
        }
        /* No room: push out what is queued, then wait for acknowledgements. */
        tcp_output(s->pcb.tcp);
        if (s->nonblock) return *sent > 0 ? 0 : E(AGAIN);
        if (!wait_step(deadline)) return *sent > 0 ? 0 : E(AGAIN);
    }
    if (s->pcb.tcp != NULL) tcp_output(s->pcb.tcp);
    return 0;
}

/* The largest datagram: one Ethernet frame's worth, since IP_FRAG is off (lwipopts.h says why). */
#define UDP_MAX (1500u - 20u - 8u)

static uint16_t udp_send_bytes(lsock *s, const uint8_t *data, size_t len, const ip_addr_t *ip, u16_t port) {
    if (len > UDP_MAX) return E(MSGSIZE);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (p == NULL) return E(NOBUFS);
    err_t e = pbuf_take(p, data, (u16_t)len);
    if (e == ERR_OK) e = ip != NULL ? udp_sendto(s->pcb.udp, p, ip, port) : udp_send(s->pcb.udp, p);
    pbuf_free(p);
    return errno_of(e);
}

uint16_t waft_sock_port_send_to(int32_t h, const uint8_t *data, size_t len, const waft_sock_addr *remote,
                                size_t *sent) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (s->tcp) return E(ISCONN);
    net_service();
    ip_addr_t ip;
    addr_to_lwip(remote, &ip);
    uint16_t err = udp_send_bytes(s, data, len, &ip, remote->port);
    if (err == 0) *sent = len;
    return err;
}

/* Take the oldest datagram into `buf`; AGAIN when none is there. */
static uint16_t udp_take(lsock *s, uint8_t *buf, size_t len, bool peek, size_t *got, bool *truncated,
                         waft_sock_addr *remote) {
    if (s->dg_count == 0) return E(AGAIN);
    dgram *d = &s->dgrams[s->dg_head];
    size_t n = d->p->tot_len < len ? d->p->tot_len : len;
    pbuf_copy_partial(d->p, buf, (u16_t)n, 0);
    *got = n;
    if (truncated != NULL) *truncated = n < d->p->tot_len;
    if (remote != NULL) addr_from_lwip(&d->addr, d->port, remote);
    if (!peek) {
        pbuf_free(d->p);
        d->p = NULL;
        s->dg_head = (uint8_t)((s->dg_head + 1) % WAFT_LWIP_DGRAMS);
        s->dg_count--;
    }
    return 0;
}

uint16_t waft_sock_port_recv_from(int32_t h, uint8_t *buf, size_t len, bool peek, size_t *got, bool *truncated,
                                  waft_sock_addr *remote) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (s->tcp) return E(NOTSUP);
    uint64_t deadline = deadline_of(s->recv_timeout_ns);
    net_service();
    for (;;) {
        uint16_t err = udp_take(s, buf, len, peek, got, truncated, remote);
        if (err != E(AGAIN) || s->nonblock || !wait_step(deadline)) return err;
    }
}

uint16_t waft_sock_port_local_address(int32_t h, waft_sock_addr *out) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (s->tcp) {
        uint16_t err = live_tcp(s);
        if (err != 0) return err;
        if (s->pcb.tcp->local_port == 0) return E(INVAL);
        addr_from_lwip(&s->pcb.tcp->local_ip, s->pcb.tcp->local_port, out);
    } else {
        if (s->pcb.udp->local_port == 0) return E(INVAL);
        addr_from_lwip(&s->pcb.udp->local_ip, s->pcb.udp->local_port, out);
    }
    return 0;
}

uint16_t waft_sock_port_remote_address(int32_t h, waft_sock_addr *out) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (!s->connected) return E(NOTCONN);
    if (s->tcp) {
        uint16_t err = live_tcp(s);
        if (err != 0) return err;
        addr_from_lwip(&s->pcb.tcp->remote_ip, s->pcb.tcp->remote_port, out);
    } else {
        addr_from_lwip(&s->pcb.udp->remote_ip, s->pcb.udp->remote_port, out);
    }
    return 0;
}

uint16_t waft_sock_port_take_error(int32_t h, uint16_t *error) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    net_service();
    *error = s->error;
    s->error = 0;
    return 0;
}

uint16_t waft_sock_port_set_nodelay(int32_t h, bool enabled) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    uint16_t err = live_tcp(s);
    if (err != 0) return err;
    if (enabled) {
        tcp_nagle_disable(s->pcb.tcp);
    } else {
        tcp_nagle_enable(s->pcb.tcp);
    }
    return 0;
}

static u32_t ms_up(uint64_t ns) {
    uint64_t ms = ns / 1000000u + (ns % 1000000u != 0);
    return ms > 0x7FFFFFFFu ? 0x7FFFFFFFu : (u32_t)ms;
}

uint16_t waft_sock_port_set_keepalive(int32_t h, uint64_t idle_ns, uint64_t interval_ns, uint32_t count) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    uint16_t err = live_tcp(s);
    if (err != 0) return err;
    if (idle_ns == 0) {
        ip_reset_option(s->pcb.tcp, SOF_KEEPALIVE);
        return 0;
    }
    s->pcb.tcp->keep_idle = ms_up(idle_ns);
    s->pcb.tcp->keep_intvl = ms_up(interval_ns);
    s->pcb.tcp->keep_cnt = count;
    ip_set_option(s->pcb.tcp, SOF_KEEPALIVE);
    return 0;
}

uint16_t waft_sock_port_set_timeouts(int32_t h, uint64_t receive_ns, uint64_t send_ns) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    s->recv_timeout_ns = receive_ns;
    s->send_timeout_ns = send_ns;
    return 0;
}

uint16_t waft_sock_port_set_reuse_address(int32_t h, bool enabled) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(h);
    if (s == NULL) return E(BADF);
    if (s->tcp) {
        uint16_t err = live_tcp(s);
        if (err != 0) return err;
        if (enabled) {
            ip_set_option(s->pcb.tcp, SOF_REUSEADDR);
        } else {
            ip_reset_option(s->pcb.tcp, SOF_REUSEADDR);
        }
    } else if (enabled) {
        ip_set_option(s->pcb.udp, SOF_REUSEADDR);
    } else {
        ip_reset_option(s->pcb.udp, SOF_REUSEADDR);
    }
    return 0;
}

uint16_t waft_sock_port_resolve(const char *name, waft_sock_addr *out, uint32_t cap, uint32_t *count) {
    REFUSE_IN_HANDLER();
    (void)name, (void)out, (void)cap, (void)count;
    return E(NOTSUP); /* no DNS on the board: the static name table is all there is */
}

/* ---- the p1 port's socket half (port_baremetal.c's hooks) ------------------ */

/* Let go of a TCP pcb: close it politely, abort when lwIP cannot. */
static void tcp_release(struct tcp_pcb *pcb, bool abort_it) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_sent(pcb, NULL);
    if (abort_it || tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

/* A connection's record: its pcb closed (reset when data was left unread, as
 * a BSD stack does), its unread data freed. */
static void conn_free(lsock *s) {
    if (s->pcb.tcp != NULL) tcp_release(s->pcb.tcp, false);
    if (s->rx != NULL) pbuf_free(s->rx);
    memset(s, 0, sizeof *s);
}

static void sock_free(lsock *s) {
    if (s->tcp) {
        if (s->listening) {
            while (s->bl_count > 0) { /* connections nobody accepted */
                lsock *c = &socks[s->backlog[s->bl_head]];
                s->bl_head = (uint8_t)((s->bl_head + 1) % WAFT_LWIP_BACKLOG);
                s->bl_count--;
                conn_free(c);
            }
            if (s->pcb.tcp != NULL) {
                tcp_arg(s->pcb.tcp, NULL);
                tcp_accept(s->pcb.tcp, NULL);
                tcp_close(s->pcb.tcp); /* a listener's close never fails */
            }
        } else {
            conn_free(s);
            return;
        }
    } else {
        udp_remove(s->pcb.udp);
        while (s->dg_count > 0) {
            pbuf_free(s->dgrams[s->dg_head].p);
            s->dg_head = (uint8_t)((s->dg_head + 1) % WAFT_LWIP_DGRAMS);
            s->dg_count--;
        }
    }
    memset(s, 0, sizeof *s);
}

uint16_t waft_net_close(int32_t host) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    sock_free(s);
    net_service();
    return 0;
}

uint8_t waft_net_filetype(int32_t host) {
    lsock *s = sock_of(host);
    return s != NULL && !s->tcp ? WAFT_WASI_FILETYPE_SOCKET_DGRAM : WAFT_WASI_FILETYPE_SOCKET_STREAM;
}

uint16_t waft_net_fdflags(int32_t host, uint16_t *fdflags) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    *fdflags = s->nonblock ? WAFT_WASI_FDFLAGS_NONBLOCK : 0;
    return 0;
}

uint16_t waft_net_set_fdflags(int32_t host, uint16_t fdflags) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    if (fdflags & ~WAFT_WASI_FDFLAGS_NONBLOCK) return E(NOTSUP);
    s->nonblock = (fdflags & WAFT_WASI_FDFLAGS_NONBLOCK) != 0;
    return 0;
}

/* Copy received TCP bytes into the vectors; consumed ones (not `peek`) open the window again. */
static size_t tcp_take(lsock *s, const wasi_iov *iov, int n, bool peek) {
    size_t done = 0;
    for (int i = 0; i < n && s->rx != NULL; i++) {
        size_t avail = s->rx->tot_len - done;
        size_t k = iov[i].len < avail ? iov[i].len : avail;
        if (k > 0xFFFFu) k = 0xFFFFu;
        pbuf_copy_partial(s->rx, iov[i].base, (u16_t)k, (u16_t)done);
        done += k;
        if (done == s->rx->tot_len) break;
    }
    if (!peek && done > 0) {
        s->rx = pbuf_free_header(s->rx, (u16_t)done);
        if (s->pcb.tcp != NULL) tcp_recved(s->pcb.tcp, (u16_t)done);
    }
    return done;
}

static uint16_t net_read(lsock *s, const wasi_iov *iov, int n, bool peek, bool waitall, size_t *done,
                         bool *truncated, waft_sock_addr *remote) {
    uint64_t deadline = deadline_of(s->recv_timeout_ns);
    size_t want = 0;
    for (int i = 0; i < n; i++) want += iov[i].len;
    *done = 0;
    net_service();
    if (!s->tcp) {
        for (int i = 0; i < n; i++) {
            if (iov[i].len == 0) continue;
            for (;;) { /* a datagram lands in the first non-empty vector */
                uint16_t err = udp_take(s, iov[i].base, iov[i].len, peek, done, truncated, remote);
                if (err != E(AGAIN) || s->nonblock || !wait_step(deadline)) return err;
            }
        }
        return 0;
    }
    if (s->listening) return E(NOTCONN);
    if (want == 0) return 0;
    for (;;) {
        if (s->rx != NULL) {
            if (!waitall || peek || s->rx->tot_len >= want || s->eof || s->pcb.tcp == NULL) {
                *done = tcp_take(s, iov, n, peek);
                return 0;
            }
        } else if (s->eof) {
            if (s->error != 0 && s->pcb.tcp == NULL) {
                uint16_t err = s->error; /* a reset: said once, then end of stream */
                s->error = 0;
                return err;
            }
            return 0;
        } else if (!s->connected) {
            return s->connecting ? E(AGAIN) : E(NOTCONN);
        }
        if (s->nonblock) return E(AGAIN);
        if (!wait_step(deadline)) return E(AGAIN);
    }
}

uint16_t waft_net_readv(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    return net_read(s, iov, n, false, false, done, NULL, NULL);
}

static uint16_t net_write(lsock *s, const wasi_iov *iov, int n, size_t *done) {
    *done = 0;
    net_service();
    if (!s->tcp) {
        if (!s->connected) return E(DESTADDRREQ);
        /* One datagram per call: the vectors gathered. */
        size_t total = 0;
        for (int i = 0; i < n; i++) total += iov[i].len;
        if (total > UDP_MAX) return E(MSGSIZE);
        struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)total, PBUF_RAM);
        if (p == NULL) return E(NOBUFS);
        size_t at = 0;
        for (int i = 0; i < n; i++) {
            pbuf_take_at(p, iov[i].base, (u16_t)iov[i].len, (u16_t)at);
            at += iov[i].len;
        }
        err_t e = udp_send(s->pcb.udp, p);
        pbuf_free(p);
        if (e != ERR_OK) return errno_of(e);
        *done = total;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t sent;
        uint16_t err = tcp_send_bytes(s, iov[i].base, iov[i].len, &sent);
        *done += sent;
        if (err != 0) return *done > 0 ? 0 : err;
        if (sent < iov[i].len) break;
    }
    return 0;
}

uint16_t waft_net_writev(int32_t host, const wasi_iov *iov, int n, size_t *done) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    return net_write(s, iov, n, done);
}

void waft_net_poll(wasi_pollfd *p) {
    lsock *s = sock_of(p->host);
    p->ready = false;
    p->hangup = false;
    p->nbytes = 0;
    if (in_handler()) {
        p->ready = true;
        p->error = E(PERM);
        return;
    }
    if (s == NULL) {
        p->ready = true;
        p->error = E(BADF);
        return;
    }
    if (p->want_read) {
        if (s->listening) {
            p->ready = s->bl_count > 0;
            p->nbytes = s->bl_count;
        } else if (s->tcp) {
            p->nbytes = s->rx != NULL ? s->rx->tot_len : 0;
            p->hangup = s->eof;
            p->ready = s->rx != NULL || s->eof || s->error != 0 || (!s->connected && !s->connecting);
        } else {
            p->ready = s->dg_count > 0;
            p->nbytes = s->dg_count > 0 ? s->dgrams[s->dg_head].p->tot_len : 0;
        }
    }
    if (p->want_write) {
        if (s->tcp) {
            bool room = s->pcb.tcp != NULL && s->connected && !s->listening && tcp_sndbuf(s->pcb.tcp) > 0;
            p->ready = room || s->error != 0 || s->pcb.tcp == NULL || (!s->connecting && !s->connected);
            if (room) p->nbytes = tcp_sndbuf(s->pcb.tcp);
            p->hangup = s->pcb.tcp == NULL;
        } else {
            p->ready = true;
        }
    }
}

/* p1's sock_* on these sockets (wasi_p1/sockets.c calls them). */
uint16_t wasi_port_sock_accept(int32_t host, bool nonblock, int32_t *conn) {
    REFUSE_IN_HANDLER();
    waft_sock_addr remote;
    return waft_sock_port_accept(host, nonblock, conn, &remote);
}

uint16_t wasi_port_sock_recv(int32_t host, const wasi_iov *iov, int n, uint16_t riflags, size_t *len,
                             uint16_t *roflags) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    bool truncated = false;
    uint16_t err = net_read(s, iov, n, (riflags & WAFT_WASI_RIFLAGS_RECV_PEEK) != 0,
                            (riflags & WAFT_WASI_RIFLAGS_RECV_WAITALL) != 0, len, &truncated, NULL);
    *roflags = truncated ? WAFT_WASI_ROFLAGS_RECV_DATA_TRUNCATED : 0;
    return err;
}

uint16_t wasi_port_sock_send(int32_t host, const wasi_iov *iov, int n, size_t *len) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    return net_write(s, iov, n, len);
}

uint16_t wasi_port_sock_shutdown(int32_t host, uint8_t how) {
    REFUSE_IN_HANDLER();
    lsock *s = sock_of(host);
    if (s == NULL) return E(BADF);
    if (!s->tcp) return s->connected ? 0 : E(NOTCONN);
    if (!s->connected) return E(NOTCONN);
    uint16_t err = live_tcp(s);
    if (err != 0) return err;
    bool rd = (how & WAFT_WASI_SDFLAGS_RD) != 0, wr = (how & WAFT_WASI_SDFLAGS_WR) != 0;
    if (rd && s->rx != NULL) {
        tcp_recved(s->pcb.tcp, s->rx->tot_len);
        pbuf_free(s->rx);
        s->rx = NULL;
    }
    if (rd && wr) {
        /* Both ways: the record keeps no pcb; further reads see the end, writes an error. */
        tcp_release(s->pcb.tcp, false);
        s->pcb.tcp = NULL;
        s->eof = true;
    } else if (rd) {
        s->eof = true;
    } else if (wr) {
        err = errno_of(tcp_shutdown(s->pcb.tcp, 0, 1));
    }
    net_service();
    return err;
}

/* ---- the pools, for tests and the benchmark --------------------------------- */

/* The pools' names, in memp_t order (lwIP's own X-macro list). */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

/* Print lwIP's heap and pool statistics on stdout: used now, high-water mark,
 * allocation failures, and the connections in TIME_WAIT (which hold a pcb
 * for a while after an active close, by design). */
void waft_net_report(void) {
    static char line[96];
    /* Let the last FINs and ACKs go out first. */
    uint64_t until = waft_clock_ns() + 300000000u;
    while (started && waft_clock_ns() < until) wait_step(until);
    int tw = 0;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next) tw++;
    int n = 0;
#define OUT(...) do { n = snprintf(line, sizeof line, __VA_ARGS__); (void)waft_console_write(1, (const uint8_t *)line, (size_t)n); } while (0)
#if !defined(WAFT_NET_VENDOR_NIC)
    OUT("lwip: nic rx %u dropped %u errors %u tx %u\n", (unsigned)nic.rx_frames, (unsigned)nic.rx_dropped,
        (unsigned)nic.rx_errors, (unsigned)nic.tx_frames);
#endif
    OUT("lwip: mem used %u max %u err %u\n", (unsigned)lwip_stats.mem.used, (unsigned)lwip_stats.mem.max,
        (unsigned)lwip_stats.mem.err);
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        if (m == NULL) continue;
        OUT("lwip: pool %s used %u max %u avail %u err %u\n", pool_names[i], (unsigned)m->used, (unsigned)m->max,
            (unsigned)m->avail, (unsigned)m->err);
    }
    OUT("lwip: tcp time-wait %d\n", tw);
    int open = 0;
    for (int i = 0; i < WAFT_LWIP_SOCKETS; i++) open += socks[i].used;
    OUT("lwip: sockets open %d\n", open);
#undef OUT
}
