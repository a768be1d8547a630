/*
 * lwipopts.h: how Waft builds lwIP 2.1.3 for a board: NO_SYS (no OS under
 * the stack: the firmware's main loop or a sockets call drives it), raw API
 * only, IPv4 with TCP, UDP, ICMP (ping) and ARP, and every byte of the
 * stack's memory in static pools whose sizes are fixed here at build time.
 * MEM_LIBC_MALLOC and MEMP_MEM_MALLOC stay off: lwIP's "heap" (mem.c) is
 * itself one static array of MEM_SIZE bytes, so nothing calls malloc.
 *
 * Sizes: chosen for one or two TCP connections at full window plus a few UDP
 * sockets on a board with tens of KiB of RAM to give the network; every
 * number may be overridden with -D.  An exhausted pool is ERR_MEM inside lwIP,
 * `nobufs` to Wasm (docs/sockets.md), never a crash; stats (LWIP_STATS) count
 * each pool's use, high-water mark and failures so a test can check them
 * after a run.
 */
#ifndef WAFT_LWIPOPTS_H
#define WAFT_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0   /* one context: the stack is never entered from an interrupt */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#ifndef LWIP_DHCP
#define LWIP_DHCP 0              /* QEMU's user network answers DHCP; a static address is simpler to test */
#endif
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1               /* set-reuse-address: rebind a port whose old connections linger */
/* No IP fragmentation on output: TCP never needs it (its segments fit the
 * MSS) and it would add ip4_frag's frame to every send's stack depth, which
 * runs in the Wasm code's stack margin (tests/sockets/test_sockets_stack_usage.py);
 * a UDP datagram larger than one frame is `msgsize`.  Reassembly of incoming
 * fragments stays on: it runs on the network stack. */
#define IP_FRAG 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0

/* ---- memory: all static ------------------------------------------------- */
#define MEM_ALIGNMENT 4
#ifndef MEM_SIZE
#define MEM_SIZE (24 * 1024)     /* lwIP's heap array: TCP segments' data copied on write */
#endif
#ifndef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF 16         /* pbufs that point at ROM or the caller's data */
#endif
#ifndef MEMP_NUM_UDP_PCB
#define MEMP_NUM_UDP_PCB 4
#endif
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB 4       /* open connections at once */
#endif
#ifndef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN 2
#endif
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG 32      /* segments queued for (re)transmission */
#endif
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE 24        /* receive buffers, one frame each */
#endif
#define PBUF_POOL_BUFSIZE 1536   /* a whole Ethernet frame: the driver never chains */
#define MEMP_NUM_ARP_QUEUE 8
#define ARP_TABLE_SIZE 4

/* ---- TCP ----------------------------------------------------------------- */
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_QUEUE_OOSEQ 0        /* out-of-order segments are dropped, not held in the pools */
#define LWIP_TCP_SACK_OUT 0

/* ---- checks and statistics ---------------------------------------------- */
#define LWIP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LWIP_NOASSERT_ON_ERROR 0
#define LWIP_CHKSUM_ALGORITHM 3
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1

#endif /* WAFT_LWIPOPTS_H */
