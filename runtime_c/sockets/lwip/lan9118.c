/*
 * lan9118.c: the SMSC LAN9118 driver (lan9118.h), polled, static: one
 * frame buffer for transmit; received frames go straight from the FIFO into a
 * pbuf of lwIP's static pool (one pbuf per frame: PBUF_POOL_BUFSIZE holds a
 * whole one), or are drained and counted as dropped when the pool is empty.
 * The register map is the datasheet's, as QEMU's model implements it.
 */
#include "lan9118.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

/* ---- registers ------------------------------------------------------------ */

#define RX_DATA_FIFO 0x00
#define TX_DATA_FIFO 0x20
#define RX_STATUS_FIFO 0x40
#define TX_STATUS_FIFO 0x48
#define ID_REV 0x50
#define INT_EN 0x5C
#define BYTE_TEST 0x64
#define TX_CFG 0x70
#define HW_CFG 0x74
#define RX_FIFO_INF 0x7C
#define TX_FIFO_INF 0x80
#define PMT_CTRL 0x84
#define MAC_CSR_CMD 0xA4
#define MAC_CSR_DATA 0xA8

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST (1u << 0)
#define PMT_CTRL_READY (1u << 0)
#define TX_CFG_TX_ON (1u << 1)
#define TX_CFG_TXSAO (1u << 2)     /* drop TX status words when the status FIFO is full: nobody reads them */
#define CSR_BUSY (1u << 31)
#define CSR_READ (1u << 30)
#define MAC_CR 1
#define MAC_ADDRH 2
#define MAC_ADDRL 3
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_FDPX (1u << 20)
#define TXA_FIRST (1u << 13)
#define TXA_LAST (1u << 12)
#define RXS_ERROR (1u << 15)
#define FRAME_MAX 1518               /* with the CRC the chip appends to what it receives */
/* A received frame's words, CRC and padding included, fit one pool pbuf. */
_Static_assert(PBUF_POOL_BUFSIZE >= (FRAME_MAX + 3) / 4 * 4, "PBUF_POOL_BUFSIZE must hold a whole frame");

static inline uint32_t rd(const lan9118 *d, uint32_t off) { return *(volatile uint32_t *)(d->base + off); }
static inline void wr(const lan9118 *d, uint32_t off, uint32_t v) { *(volatile uint32_t *)(d->base + off) = v; }

/* ---- chip helpers ---------------------------------------------------------- */

/* Bounded spin: a chip that never clears `bits` is a dead chip, not a hang. */
static bool wait_clear(const lan9118 *d, uint32_t off, uint32_t bits) {
    for (uint32_t i = 0; i < 100000u; i++) {
        if ((rd(d, off) & bits) == 0) return true;
    }
    return false;
}

static uint32_t mac_read(const lan9118 *d, uint32_t reg) {
    wr(d, MAC_CSR_CMD, CSR_BUSY | CSR_READ | reg);
    (void)wait_clear(d, MAC_CSR_CMD, CSR_BUSY);
    return rd(d, MAC_CSR_DATA);
}

static void mac_write(const lan9118 *d, uint32_t reg, uint32_t value) {
    wr(d, MAC_CSR_DATA, value);
    wr(d, MAC_CSR_CMD, CSR_BUSY | reg);
    (void)wait_clear(d, MAC_CSR_CMD, CSR_BUSY);
}

int lan9118_init(lan9118 *dev, uintptr_t base) {
    memset(dev, 0, sizeof *dev);
    dev->base = base;
    if (rd(dev, BYTE_TEST) != BYTE_TEST_VALUE || (rd(dev, ID_REV) >> 16) != 0x0118u) return -1;
    wr(dev, HW_CFG, HW_CFG_SRST);
    if (!wait_clear(dev, HW_CFG, HW_CFG_SRST)) return -1;
    for (uint32_t i = 0; i < 100000u && (rd(dev, PMT_CTRL) & PMT_CTRL_READY) == 0; i++) {
    }
    wr(dev, INT_EN, 0); /* polled: no interrupt source nobody handles */
    uint32_t lo = mac_read(dev, MAC_ADDRL), hi = mac_read(dev, MAC_ADDRH);
    for (int i = 0; i < 4; i++) dev->mac[i] = (uint8_t)(lo >> (8 * i));
    dev->mac[4] = (uint8_t)hi;
    dev->mac[5] = (uint8_t)(hi >> 8);
    /* Own address and broadcast (reset leaves it promiscuous), full duplex. */
    mac_write(dev, MAC_CR, MAC_CR_RXEN | MAC_CR_TXEN | MAC_CR_FDPX);
    wr(dev, TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
    return 0;
}

/* One frame out, as one segment from a word-aligned buffer. */
static int chip_send(lan9118 *d, const uint32_t *words, uint32_t len) {
    if (len == 0 || len > 1514u || (rd(d, TX_FIFO_INF) & 0xFFFFu) < len + 8u) {
        d->tx_errors++;
        return -1; /* too big, or no room: lwIP's TCP retransmits */
    }
    wr(d, TX_DATA_FIFO, TXA_FIRST | TXA_LAST | len);
    wr(d, TX_DATA_FIFO, (len << 16) | len); /* tag = length; packet length */
    for (uint32_t i = 0; i < (len + 3u) / 4u; i++) wr(d, TX_DATA_FIFO, words[i]);
    d->tx_frames++;
    return 0;
}

/* The next frame's status word, or 0 when the RX status FIFO is empty. */
static uint32_t chip_rx_status(const lan9118 *d) {
    return ((rd(d, RX_FIFO_INF) >> 16) & 0xFFu) != 0 ? rd(d, RX_STATUS_FIFO) : 0;
}

/* Read (or, with `out` NULL, discard) the `words` data words of a frame. */
static void chip_rx_data(const lan9118 *d, uint32_t *out, uint32_t words) {
    for (uint32_t i = 0; i < words; i++) {
        uint32_t w = rd(d, RX_DATA_FIFO);
        if (out != NULL) out[i] = w;
    }
}

/* ---- netif glue -------------------------------------------------------------- */

static uint32_t tx_buffer[(1514 + 3) / 4];

static err_t linkoutput(struct netif *netif, struct pbuf *p) {
    lan9118 *d = netif->state;
    if (p->tot_len > sizeof tx_buffer) return ERR_BUF;
    pbuf_copy_partial(p, tx_buffer, p->tot_len, 0);
    if (chip_send(d, tx_buffer, p->tot_len) != 0) {
        LINK_STATS_INC(link.drop);
        return ERR_MEM;
    }
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

err_t lan9118_netif_init(struct netif *netif) {
    lan9118 *d = netif->state;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, d->mac, ETH_HWADDR_LEN);
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = linkoutput;
    return ERR_OK;
}

int lan9118_netif_poll(struct netif *netif) {
    lan9118 *d = netif->state;
    int n = 0;
    uint32_t status;
    /* At most a FIFO's worth per call, so the caller's timers still run under a flood. */
    while (n < 32 && (status = chip_rx_status(d)) != 0) {
        uint32_t len = (status >> 16) & 0x3FFFu; /* with the CRC */
        uint32_t words = (len + 3u) / 4u;
        struct pbuf *p = NULL;
        if ((status & RXS_ERROR) == 0 && len > 4u && len <= FRAME_MAX) {
            p = pbuf_alloc(PBUF_RAW, (u16_t)(len - 4u), PBUF_POOL);
        }
        if (p == NULL || p->next != NULL || ((uintptr_t)p->payload & 3u) != 0) {
            /* Bad frame, pool empty, or a pbuf that cannot take the words whole: drain and count it. */
            if (p != NULL) pbuf_free(p);
            chip_rx_data(d, NULL, words);
            if (status & RXS_ERROR) d->rx_errors++; else d->rx_dropped++;
            LINK_STATS_INC(link.drop);
            n++;
            continue;
        }
        /* The payload takes the frame's words; the CRC word's spill past p->len
         * lands inside PBUF_POOL_BUFSIZE (1536 > 1518 rounded up). */
        chip_rx_data(d, p->payload, words);
        d->rx_frames++;
        LINK_STATS_INC(link.recv);
        if (netif->input(p, netif) != ERR_OK) pbuf_free(p);
        n++;
    }
    return n;
}
