/*
 * eth_an386.c: the vendor's own Ethernet driver for the AN386's SMSC LAN9118, on the lwIP that a
 * `waft bsp --nic vendor` drop-in carries: the two hooks of waft_net_nic.h.  It stands for
 * whatever driver a BSP brings (an STM32 ETH HAL, a Wi-Fi module's SDK): polled, no interrupt,
 * one frame buffer each way; compiled against the drop-in's lwIP headers and lwipopts.h, so its
 * pbufs are the library's pools.  The register map is the datasheet's, as QEMU's model has it.
 */
#include <stddef.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "waft_net_nic.h"

/* The LAN9118's registers, as a CMSIS-style struct at its address on the MPS2 boards. */
typedef struct {
    volatile uint32_t RX_DATA;       /* 0x00 */
    uint32_t reserved0[7];
    volatile uint32_t TX_DATA;       /* 0x20 */
    uint32_t reserved1[7];
    volatile uint32_t RX_STATUS;     /* 0x40 */
    volatile uint32_t RX_STATUS_PEEK;
    volatile uint32_t TX_STATUS;
    volatile uint32_t TX_STATUS_PEEK;
    volatile uint32_t ID_REV;        /* 0x50 */
    volatile uint32_t IRQ_CFG;
    volatile uint32_t INT_STS;
    volatile uint32_t INT_EN;
    uint32_t reserved2;
    volatile uint32_t BYTE_TEST;     /* 0x64 */
    volatile uint32_t FIFO_INT;
    volatile uint32_t RX_CFG;
    volatile uint32_t TX_CFG;        /* 0x70 */
    volatile uint32_t HW_CFG;
    volatile uint32_t RX_DP_CTRL;
    volatile uint32_t RX_FIFO_INF;   /* 0x7C */
    volatile uint32_t TX_FIFO_INF;   /* 0x80 */
    volatile uint32_t PMT_CTRL;
    uint32_t reserved3[7];
    volatile uint32_t MAC_CSR_CMD;   /* 0xA4 */
    volatile uint32_t MAC_CSR_DATA;
} eth_regs;

#define ETH ((eth_regs *)0x40200000u)
_Static_assert(offsetof(eth_regs, MAC_CSR_CMD) == 0xA4, "LAN9118 register map");

#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define FRAME_WORDS ((1518u + 3u) / 4u) /* the longest frame with its CRC, in FIFO words */

static uint32_t frame[FRAME_WORDS];

static uint32_t mac_csr(uint32_t reg, int write, uint32_t value) {
    if (write) ETH->MAC_CSR_DATA = value;
    ETH->MAC_CSR_CMD = (1u << 31) | (write ? 0u : 1u << 30) | reg;
    for (int i = 0; i < 100000 && (ETH->MAC_CSR_CMD & (1u << 31)); i++) {
    }
    return ETH->MAC_CSR_DATA;
}

static err_t eth_output(struct netif *netif, struct pbuf *p) {
    (void)netif;
    uint32_t len = p->tot_len;
    if (len > sizeof frame || (ETH->TX_FIFO_INF & 0xFFFFu) < len + 8u) return ERR_MEM; /* TCP retransmits */
    pbuf_copy_partial(p, frame, (u16_t)len, 0);
    ETH->TX_DATA = (1u << 13) | (1u << 12) | len; /* command A: first and last segment */
    ETH->TX_DATA = (len << 16) | len;             /* command B: tag, length */
    for (uint32_t i = 0; i < (len + 3u) / 4u; i++) ETH->TX_DATA = frame[i];
    return ERR_OK;
}

int waft_net_nic_init(struct netif *netif) {
    if (ETH->BYTE_TEST != 0x87654321u || (ETH->ID_REV >> 16) != 0x0118u) return ERR_IF;
    ETH->HW_CFG = 1u; /* soft reset */
    for (int i = 0; i < 100000 && (ETH->HW_CFG & 1u); i++) {
    }
    for (int i = 0; i < 100000 && !(ETH->PMT_CTRL & 1u); i++) {
    }
    ETH->INT_EN = 0;
    uint32_t lo = mac_csr(MAC_ADDRL, 0, 0), hi = mac_csr(MAC_ADDRH, 0, 0);
    const uint8_t mac[6] = {(uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
                            (uint8_t)hi, (uint8_t)(hi >> 8)};
    mac_csr(MAC_CR, 1, (1u << 20) | (1u << 3) | (1u << 2)); /* full duplex, TX, RX */
    ETH->TX_CFG = (1u << 2) | (1u << 1);                     /* drop TX status words; TX on */
    netif->name[0] = 'v';
    netif->name[1] = 'e';
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, mac, sizeof mac);
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = eth_output;
    return ERR_OK;
}

int waft_net_nic_poll(struct netif *netif) {
    int n = 0;
    while (n < 16 && ((ETH->RX_FIFO_INF >> 16) & 0xFFu) != 0) {
        uint32_t status = ETH->RX_STATUS;
        uint32_t len = (status >> 16) & 0x3FFFu; /* with the CRC */
        uint32_t words = (len + 3u) / 4u;
        for (uint32_t i = 0; i < words; i++) {
            uint32_t w = ETH->RX_DATA;
            if (i < FRAME_WORDS) frame[i] = w;
        }
        n++;
        if ((status & (1u << 15)) || len <= 4u || words > FRAME_WORDS) continue; /* error or too long */
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len - 4u), PBUF_POOL);
        if (p == NULL) continue; /* pool empty: dropped, as a full FIFO would */
        pbuf_take(p, frame, (u16_t)(len - 4u));
        if (netif->input(p, netif) != ERR_OK) pbuf_free(p);
    }
    return n;
}
