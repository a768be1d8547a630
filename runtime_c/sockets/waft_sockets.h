/*
 * waft_sockets.h: the embedder's view of `wasi-ext:sockets/sockets@0.1.0` and
 * `wasi-ext:sockets/name-lookup@0.1.0` (wasi_ext/sockets, docs/sockets.md).
 *
 * A waft_sockets is what a module's two sockets import members point to: the
 * WASI p1 context whose fd table the sockets live in (so fd_read, fd_write,
 * poll_oneoff, fd_close and p1's sock_* work on them), the grants that bound
 * what the module may reach, the static name table the resolver answers from
 * first, and the addresses a grant made by name admitted.  Everything is a
 * fixed-size array inside the struct or a borrowed array the embedder owns:
 * nothing is allocated, on any port.
 *
 * Grants, as `waft run --allow-connect SPEC` and `--listen SPEC` write them
 * (waft_sockets_parse_grant):
 *
 *     [tcp:|udp:]HOST:PORTS
 *     HOST   an IPv4 address (10.0.0.7), an IPv4 network (10.0.0.0/8),
 *            [an IPv6 address or network] in brackets ([::1], [fd00::/8]),
 *            * (any address), or a name (example.com, localhost): a name admits
 *            the addresses the module's own `resolve` returned for it
 *     PORTS  a port (80), a range (8000-8099) or * (any port, 0 included);
 *            for --listen, 0 admits binding to an ephemeral port only
 *
 * Without a protocol prefix a grant covers TCP and UDP.  `open` answers
 * `acces` for a socket type no grant covers; `connect` and `send-to` check
 * the destination against the connect grants, `bind` the local address
 * against the listen grants, before anything leaves.
 */
#ifndef WAFT_SOCKETS_H
#define WAFT_SOCKETS_H

#include <stdbool.h>
#include <stdint.h>

#include "../wasi_p1/include/waft_wasi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Addresses a grant by name can admit at once (what resolve returned for the
 * granted names; the oldest is forgotten when full). */
#ifndef WAFT_SOCKETS_ADMITTED_MAX
#define WAFT_SOCKETS_ADMITTED_MAX 32
#endif
/* Most addresses one resolve call keeps (count reports them all). */
#ifndef WAFT_SOCKETS_RESOLVE_MAX
#define WAFT_SOCKETS_RESOLVE_MAX 16
#endif

#define WAFT_SOCKETS_TCP 1u
#define WAFT_SOCKETS_UDP 2u

/* An IP address with its port, in the port's and the grants' native form. */
typedef struct waft_sock_addr {
    uint8_t family;    /* 4 or 6 (0: none) */
    uint16_t port;     /* host order */
    uint8_t addr[16];  /* network order: IPv4 in the first 4 bytes */
    uint32_t flow_info, scope_id;  /* IPv6 only */
} waft_sock_addr;

typedef enum waft_sockets_host {
    WAFT_SOCKETS_HOST_ANY,   /* `*` */
    WAFT_SOCKETS_HOST_IP,    /* an address or a network (addr, family, prefix) */
    WAFT_SOCKETS_HOST_NAME,  /* a name: what resolve returned for it */
} waft_sockets_host;

/* One grant. */
typedef struct waft_sockets_grant {
    uint8_t protocols;      /* WAFT_SOCKETS_TCP | WAFT_SOCKETS_UDP */
    waft_sockets_host host;
    uint8_t family;         /* HOST_IP: 4 or 6 */
    uint8_t prefix;         /* HOST_IP: leading bits that must match (32 / 128 for one address) */
    uint8_t addr[16];
    const char *name;       /* HOST_NAME: borrowed, NUL-terminated */
    uint16_t name_len;
    uint16_t port_lo, port_hi;  /* inclusive */
} waft_sockets_grant;

/* One entry of the static name table (like /etc/hosts), asked before the
 * port's resolver: the only names a board without DNS knows. */
typedef struct waft_sockets_host_entry {
    const char *name;       /* borrowed */
    waft_sock_addr addr;    /* port unused */
} waft_sockets_host_entry;

/* The module's sockets: the two import members point here. */
typedef struct waft_sockets {
    waft_wasi_ctx *wasi;                          /* the fd table and the memory */
    const waft_sockets_grant *connect;            /* destinations for connect / send-to */
    uint32_t connect_count;
    const waft_sockets_grant *listen;             /* local addresses for bind */
    uint32_t listen_count;
    const waft_sockets_host_entry *hosts;         /* the static name table */
    uint32_t host_count;
    /* Addresses admitted by name grants: (grant index, address), a ring. */
    struct {
        uint32_t grant;
        uint8_t family;
        uint8_t addr[16];
    } admitted[WAFT_SOCKETS_ADMITTED_MAX];
    uint32_t admitted_next, admitted_used;
    volatile bool admitted_lock;                  /* threads may resolve at once */
} waft_sockets;

/* Set up `s` over `wasi` with the given grants and name table (all borrowed,
 * any may be empty: then every socket call is `acces`). */
void waft_sockets_init(waft_sockets *s, waft_wasi_ctx *wasi, const waft_sockets_grant *connect,
                       uint32_t connect_count, const waft_sockets_grant *listen, uint32_t listen_count,
                       const waft_sockets_host_entry *hosts, uint32_t host_count);

/* Parse one grant.  Returns NULL on success, or a short reason ("port out
 * of range") for the embedder's one-line error.  `out->name` points into
 * `spec`, which must outlive the grant. */
const char *waft_sockets_parse_grant(const char *spec, waft_sockets_grant *out);

/* Parse "NAME=ADDRESS" for the static name table; NULL or a reason.
 * `spec` is modified (the '=' becomes the name's NUL) and borrowed. */
const char *waft_sockets_parse_host(char *spec, waft_sockets_host_entry *out);

/* Parse a numeric address ("10.0.0.7", "::1") into `out` (port 0): true on success. */
bool waft_sockets_parse_ip(const char *text, size_t len, waft_sock_addr *out);

/* Whether `a` (with `protocol`) is admitted by `grants`; `s` supplies what
 * name grants admitted (NULL: names admit nothing). */
bool waft_sockets_granted(waft_sockets *s, const waft_sockets_grant *grants, uint32_t count, uint8_t protocol,
                          const waft_sock_addr *a);

/* Record that resolving `name` gave `addrs` (admitted by grants of that name). */
void waft_sockets_admit(waft_sockets *s, const char *name, size_t name_len, const waft_sock_addr *addrs,
                        uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* WAFT_SOCKETS_H */
