/*
 * waft_net_nic.h: the two hooks between Waft's lwIP (NO_SYS, driven by the
 * socket calls: port_lwip.c) and the network controller's driver.  Part of
 * the frozen BSP hooks (docs/lts.md).
 *
 *   waft_net_nic_init  lwIP's netif init function (netif_add calls it once,
 *                      when the module's first socket call starts the
 *                      network): bring the controller up and fill the netif
 *                      (name, hwaddr, mtu, flags with NETIF_FLAG_ETHARP,
 *                      output = etharp_output, linkoutput = the driver's
 *                      send).  Returns 0 (ERR_OK) or a negative lwIP err_t.
 *   waft_net_nic_poll  hand every frame received since the last call to
 *                      netif->input (a PBUF_POOL pbuf each; free it when input
 *                      refuses it) and return how many; called before every
 *                      socket call and on every step of a wait, never from an
 *                      interrupt.  A driver that takes frames in an interrupt
 *                      queues them there and hands them over here.
 *
 * Waft's own firmware and a `waft bsp --nic lan9118` drop-in get both from
 * the library (the MPS2 boards' LAN9118, polled).  A `waft bsp --nic vendor`
 * drop-in leaves them to the firmware, whose driver compiles against the
 * lwIP headers and lwipopts.h the drop-in carries (the same pools and
 * options as the library's lwIP).
 */
#ifndef WAFT_NET_NIC_H
#define WAFT_NET_NIC_H

#ifdef __cplusplus
extern "C" {
#endif

struct netif;

/* Bring the controller up and describe it in `netif`; 0, or a negative lwIP err_t. */
int waft_net_nic_init(struct netif *netif);

/* Hand the frames received to netif->input; returns how many. */
int waft_net_nic_poll(struct netif *netif);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_NET_NIC_H */
