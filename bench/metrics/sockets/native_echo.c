/*
 * native_echo.c: the native C side of the `sockets` metric group, the same
 * echo loop as echo.c written against lwIP's raw API (NO_SYS) and the
 * LAN9118 driver, as C firmware on lwIP is written: a callback takes each
 * received pbuf, writes it back as tcp_sndbuf allows, and acknowledges what
 * it wrote.  Address 10.0.2.15/24 (QEMU's user network); listens on
 * BENCH_PORT, serves BENCH_CONNECTIONS connections one after the other
 * (nodelay, as echo.c), prints "echo done N" and exits 0.
 */
#include <stdio.h>
#include <string.h>

#include "lan9118.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "waft.h"

void waft_clock_start(void);

static struct pbuf *pending; /* received, not yet written back */
static struct tcp_pcb *current;
static int finished;
static bool closing;

static void conn_end(struct tcp_pcb *pcb) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    if (pending != NULL) pbuf_free(pending);
    pending = NULL;
    current = NULL;
    closing = false;
    finished++;
}

/* Write back as much as the send buffer takes (part of a pbuf too, as the
 * Wasm side's write does), acknowledging what was written. */
static void echo_send(struct tcp_pcb *pcb) {
    while (pending != NULL) {
        u16_t room = tcp_sndbuf(pcb);
        u16_t n = pending->len < room ? pending->len : room;
        if (n == 0 || tcp_write(pcb, pending->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
        pending = pbuf_free_header(pending, n);
        tcp_recved(pcb, n);
    }
    tcp_output(pcb);
    if (pending == NULL && closing) conn_end(pcb);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg;
    if (p == NULL) {
        closing = true;
        echo_send(pcb);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    if (pending == NULL) {
        pending = p;
    } else {
        pbuf_cat(pending, p);
    }
    echo_send(pcb);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)arg, (void)len;
    echo_send(pcb);
    return ERR_OK;
}

static void on_err(void *arg, err_t err) {
    (void)arg, (void)err;
    if (pending != NULL) pbuf_free(pending);
    pending = NULL;
    current = NULL;
    closing = false;
    finished++;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || current != NULL) { /* one connection at a time, as echo.c */
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    current = pcb;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

int main(void) {
    static lan9118 nic;
    static struct netif netif;
    waft_clock_start();
    lwip_init();
    if (lan9118_init(&nic, LAN9118_MPS2_BASE) != 0) return 1;
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    netif_add(&netif, &ip, &mask, &gw, &nic, lan9118_netif_init, ethernet_input);
    netif_set_default(&netif);
    netif_set_up(&netif);
    netif_set_link_up(&netif);
    struct tcp_pcb *listener = tcp_new();
    if (listener == NULL || tcp_bind(listener, IP_ADDR_ANY, BENCH_PORT) != ERR_OK) return 2;
    listener = tcp_listen_with_backlog(listener, 1);
    tcp_accept(listener, on_accept);
    /* The same service loop as the Wasm side's waits: poll the NIC, run the timers. */
    while (finished < BENCH_CONNECTIONS) {
        lan9118_netif_poll(&netif);
        sys_check_timeouts();
    }
    tcp_close(listener);
    printf("echo done %d\n", finished);
    return 0;
}
