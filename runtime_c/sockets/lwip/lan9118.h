/*
 * lan9118.h: the SMSC LAN9118 / LAN9220 Ethernet controller (the MPS2 boards'
 * NIC, QEMU's hw/net/lan9118.c) as an lwIP netif, polled.
 *
 * Three layers in lan9118.c: register offsets and bits; chip helpers (reset,
 * MAC CSR access, one frame in, one frame out), which know nothing of lwIP;
 * and the netif glue (init, linkoutput, poll).  Polling from the firmware's
 * loop rather than the NIC interrupt: under NO_SYS the stack runs in one
 * context anyway, and no interrupt source is enabled that nobody handles.
 */
#ifndef WAFT_LAN9118_H
#define WAFT_LAN9118_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

/* Where QEMU's mps2-an385/an386/an500 put the controller (hw/arm/mps2.c). */
#define LAN9118_MPS2_BASE 0x40200000u

typedef struct lan9118 {
    uintptr_t base;
    uint8_t mac[6];
    uint32_t rx_frames, rx_dropped, rx_errors, tx_frames, tx_errors;
} lan9118;

/* Reset the chip and bring the MAC up (own address + broadcast, full
 * duplex).  0, or -1 when no LAN9118 answers at `base` (BYTE_TEST / ID_REV). */
int lan9118_init(lan9118 *dev, uintptr_t base);

/* The lwIP netif init function; netif->state must point at a lan9118 that
 * lan9118_init set up. */
err_t lan9118_netif_init(struct netif *netif);

/* Hand every frame waiting in the RX FIFO to netif->input; returns how many. */
int lan9118_netif_poll(struct netif *netif);

#endif /* WAFT_LAN9118_H */
