/*
 * lwip_echo.c: a native C TCP echo server on lwIP (raw API, NO_SYS) and the
 * LAN9118 driver, for mps2-an386 under QEMU: the proof that the board's
 * network stack works before any Wasm runs on it.
 *
 * Address 10.0.2.15/24, gateway 10.0.2.2 (QEMU's user network); listens on
 * ECHO_PORT; serves ECHO_CONNECTIONS connections (several at once, up to the
 * pool), then prints the stack's pool statistics (used now, high-water mark,
 * failures) so the test can check that nothing leaked, and exits 0.  Every
 * echo honours TCP's send buffer: data waits in the received pbufs (which
 * hold the window shut) until tcp_sent frees room, the shape of lwIP's own
 * contrib echo.
 */
#include <stdio.h>
#include <string.h>

#include "lan9118.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "waft.h"

#ifndef ECHO_PORT
#define ECHO_PORT 7
#endif
#ifndef ECHO_CONNECTIONS
#define ECHO_CONNECTIONS 5
#endif

void waft_clock_start(void);

typedef struct conn {
    struct tcp_pcb *pcb;
    struct pbuf *pending;  /* received, not yet written back */
    bool closing;          /* the peer finished: close once `pending` is out */
    bool used;
} conn;

static conn conns[MEMP_NUM_TCP_PCB];
static int finished, accepted, refused_conns;

static void conn_end(conn *c, bool abort_it) {
    if (c->pcb != NULL) {
        tcp_arg(c->pcb, NULL);
        tcp_recv(c->pcb, NULL);
        tcp_sent(c->pcb, NULL);
        tcp_err(c->pcb, NULL);
        if (abort_it) {
            tcp_abort(c->pcb);
        } else if (tcp_close(c->pcb) != ERR_OK) {
            tcp_abort(c->pcb);
        }
    }
    if (c->pending != NULL) pbuf_free(c->pending);
    memset(c, 0, sizeof *c);
    finished++;
}

/* Write back as much of `pending` as the send buffer takes, pbuf by pbuf. */
static void echo_send(conn *c) {
    while (c->pending != NULL && c->pending->len <= tcp_sndbuf(c->pcb)) {
        struct pbuf *head = c->pending;
        if (tcp_write(c->pcb, head->payload, head->len, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
        c->pending = head->next;
        if (c->pending != NULL) pbuf_ref(c->pending);
        u16_t len = head->len;
        pbuf_free(head);
        tcp_recved(c->pcb, len);
    }
    tcp_output(c->pcb);
    if (c->pending == NULL && c->closing) conn_end(c, false);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    conn *c = arg;
    (void)pcb;
    if (p == NULL) {  /* the peer closed its side */
        c->closing = true;
        echo_send(c);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    if (c->pending == NULL) {
        c->pending = p;
    } else {
        pbuf_cat(c->pending, p);
    }
    echo_send(c);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)pcb, (void)len;
    echo_send(arg);
    return ERR_OK;
}

static void on_err(void *arg, err_t err) {
    conn *c = arg;
    (void)err;
    c->pcb = NULL;  /* lwIP freed it already */
    conn_end(c, false);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || pcb == NULL) return ERR_VAL;
    conn *c = NULL;
    for (size_t i = 0; i < sizeof conns / sizeof conns[0] && c == NULL; i++) {
        if (!conns[i].used) c = &conns[i];
    }
    if (c == NULL) {
        refused_conns++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    c->used = true;
    c->pcb = pcb;
    accepted++;
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_nagle_disable(pcb);
    return ERR_OK;
}

/* The pools' names, in memp_t order (lwIP's own X-macro list). */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

static void print_pools(void) {
    printf("mem used %u max %u err %u\n", (unsigned)lwip_stats.mem.used, (unsigned)lwip_stats.mem.max,
           (unsigned)lwip_stats.mem.err);
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        printf("pool %s used %u max %u avail %u err %u\n", pool_names[i], (unsigned)m->used, (unsigned)m->max,
               (unsigned)m->avail, (unsigned)m->err);
    }
}

int main(void) {
    static lan9118 nic;
    static struct netif netif;
    waft_clock_start();
    lwip_init();
    if (lan9118_init(&nic, LAN9118_MPS2_BASE) != 0) {
        printf("no LAN9118 at 0x%08x\n", (unsigned)LAN9118_MPS2_BASE);
        return 1;
    }
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    netif_add(&netif, &ip, &mask, &gw, &nic, lan9118_netif_init, ethernet_input);
    netif_set_default(&netif);
    netif_set_up(&netif);
    struct tcp_pcb *listener = tcp_new();
    if (listener == NULL || tcp_bind(listener, IP_ADDR_ANY, ECHO_PORT) != ERR_OK) return 2;
    listener = tcp_listen_with_backlog(listener, 2);
    tcp_accept(listener, on_accept);
    printf("echo on port %d, mac %02x:%02x:%02x:%02x:%02x:%02x\n", ECHO_PORT, nic.mac[0], nic.mac[1], nic.mac[2],
           nic.mac[3], nic.mac[4], nic.mac[5]);
    fflush(stdout);
    while (finished < ECHO_CONNECTIONS) {
        lan9118_netif_poll(&netif);
        sys_check_timeouts();
    }
    tcp_close(listener);
    /* Let the last FINs and ACKs go out and TIME_WAIT pcbs settle before counting. */
    uint32_t until = sys_now() + 300;
    while ((int32_t)(sys_now() - until) < 0) {
        lan9118_netif_poll(&netif);
        sys_check_timeouts();
    }
    printf("served %d accepted %d refused %d rx %u dropped %u tx %u\n", finished, accepted, refused_conns,
           (unsigned)nic.rx_frames, (unsigned)nic.rx_dropped, (unsigned)nic.tx_frames);
    print_pools();
    return 0;
}
