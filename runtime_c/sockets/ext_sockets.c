/*
 * ext_sockets.c: the 14 imports of `wasi-ext:sockets/sockets@0.1.0` and the
 * one of `wasi-ext:sockets/name-lookup@0.1.0` (wasi_ext/sockets,
 * docs/sockets.md) over the network stack's port (sockets_port.h) and WASI
 * p1's fd table.  `ctx` is the module's waft_sockets for both interfaces.
 *
 * Written at the core level, as ext_threads.c and ext_signals.c are: the
 * addresses arrive as 12 flattened i32s and leave through return areas, and
 * lowering them by hand is short and easy to prove bounded; the socket itself
 * must land in p1's table, which generated glue knows nothing of.  The
 * signatures are the canonical ABI's lowering of the WIT
 * (tests/sockets/test_sockets_host.py compiles this file against prototypes
 * generated from the WIT, so a drift is a compile error):
 *
 *   open              (i32 family, i32 type, i32 flags, i32 ret) -> ()     result<fd, errno>: 8 B
 *   bind, connect     (i32 fd, 12 x i32 address) -> i32 errno
 *   listen            (i32 fd, i32 backlog) -> i32 errno
 *   accept            (i32 fd, i32 flags, i32 ret) -> ()                   result<accepted, errno>: 40 B
 *   send-to           (i32 fd, i32 ptr, i32 len, 12 x i32 address, i32 ret) -> ()  result<u32, errno>: 8 B
 *   recv-from         (i32 fd, i32 buf, i32 len, i32 flags, i32 ret) -> () result<received, errno>: 44 B
 *   local-address, remote-address  (i32 fd, i32 ret) -> ()                result<ip-socket-address, errno>: 36 B
 *   take-error        (i32 fd) -> i32
 *   set-nodelay, set-reuse-address (i32 fd, i32 bool) -> i32 errno
 *   set-keepalive     (i32 fd, i64 idle, i64 interval, i32 count) -> i32 errno
 *   set-timeouts      (i32 fd, i64 receive, i64 send) -> i32 errno
 *   resolve           (i32 name, i32 len, i32 results, i32 capacity, i32 ret) -> ()  result<u32, errno>: 8 B
 *
 * A flattened ip-socket-address is (case, then the two cases' fields joined
 * slot by slot): IPv4 = (0, port, a, b, c, d, 0...), IPv6 = (1, port,
 * flow-info, g0..g7, scope-id).  Out-of-range values are cut to the field's
 * width, as the canonical ABI lifts them; a case other than 0/1 is `inval`.
 *
 * Guest pointers: a return area outside the memory or misaligned is a trap
 * (WAFT_TRAP_MEMORY_OUT_OF_BOUNDS), as a bad pointer in canonical-ABI glue is,
 * and it is checked before anything happens; a `list<u8>`, `string` or
 * `pointer` buffer outside the memory is `fault`.  Every range is checked in
 * 64-bit arithmetic against the memory's current size.
 */
#include "waft_sockets.h"
#include "waft_canon.h"

#include <string.h>

#include "../wasi_p1/wasi_internal.h"
#include "sockets_port.h"

#define EXT(name) _wasi_x2dext_x3asockets_x2fsockets_x400_x2e1_x2e0__##name
#define LOOKUP(name) _wasi_x2dext_x3asockets_x2fname_x2dlookup_x400_x2e1_x2e0__##name
#define R(name) WAFT_WASI_RIGHTS_##name
#define E(name) WAFT_WASI_ERRNO_##name

/* The flattened ip-socket-address of bind/connect/send-to. */
#define ADDR_PARAMS                                                                                          \
    int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5, int32_t a6, int32_t a7, int32_t a8, \
        int32_t a9, int32_t a10, int32_t a11
#define ADDR_ARGS a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11

/* Rights of a socket the module opened: p1's socket rights and accept (it may
 * become a listener); connections accepted from it get the same. */
#define OPENED_RIGHTS (wasi_rights_for(WAFT_WASI_FILETYPE_SOCKET_STREAM, false) | R(SOCK_ACCEPT))

/* A module given no waft_sockets sees no grants and no fd table of its own:
 * every call is `acces` or `badf`, never a crash. */
static waft_wasi_ctx no_wasi;
static waft_sockets nothing = {.wasi = &no_wasi};

static waft_sockets *sockets_of(void *ctx) { return ctx != NULL ? ctx : &nothing; }

/* The guest's `size` bytes at `ptr`, aligned to `align`; traps otherwise. */
static uint8_t *ret_area(waft_sockets *s, int32_t ptr, uint32_t size, uint32_t align) {
    return waft_canon_ret_area(s->wasi->memory, ptr, size, align);
}

/* An ip-socket-address (32 bytes, align 4) at `out`: case, then from byte 4
 * the port and the address (IPv4: 4 bytes at 6; IPv6: flow-info at 8, the
 * groups at 12, scope-id at 28). */
static void store_address(uint8_t *out, const waft_sock_addr *a) {
    memset(out, 0, 32);
    out[0] = a->family == 6;
    wasi_store16(out + 4, a->port);
    if (a->family == 6) {
        wasi_store32(out + 8, a->flow_info);
        for (int g = 0; g < 8; g++) {
            wasi_store16(out + 12 + 2 * g, (uint16_t)(a->addr[2 * g] << 8 | a->addr[2 * g + 1]));
        }
        wasi_store32(out + 28, a->scope_id);
    } else {
        memcpy(out + 6, a->addr, 4);
    }
}

/* The flattened address, lifted; INVAL for an unknown case. */
static uint16_t lift_address(waft_sock_addr *a, ADDR_PARAMS) {
    memset(a, 0, sizeof *a);
    int32_t f[11] = {a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11};
    a->port = (uint16_t)f[0];
    if (a0 == 0) {
        a->family = 4;
        for (int i = 0; i < 4; i++) a->addr[i] = (uint8_t)f[1 + i];
    } else if (a0 == 1) {
        a->family = 6;
        a->flow_info = (uint32_t)f[1];
        for (int g = 0; g < 8; g++) {
            a->addr[2 * g] = (uint8_t)((uint32_t)f[2 + g] >> 8);
            a->addr[2 * g + 1] = (uint8_t)f[2 + g];
        }
        a->scope_id = (uint32_t)f[10];
    } else {
        return E(INVAL);
    }
    return 0;
}

/* The socket slot `fd` with `need`, or BADF / NOTSOCK / NOTCAPABLE. */
static waft_wasi_fd *socket_slot(waft_sockets *s, int32_t fd, uint64_t need, uint16_t *err) {
    waft_wasi_fd *slot = wasi_fd(s->wasi, fd, 0, err);
    if (slot == NULL) return NULL;
    if (slot->kind != WAFT_WASI_FD_SOCKET) {
        *err = E(NOTSOCK);
        return NULL;
    }
    if ((slot->rights_base & need) != need) {
        *err = E(NOTCAPABLE);
        return NULL;
    }
    return slot;
}

static uint8_t protocol_of(const waft_wasi_fd *slot) {
    return slot->filetype == WAFT_WASI_FILETYPE_SOCKET_DGRAM ? WAFT_SOCKETS_UDP : WAFT_SOCKETS_TCP;
}

/* AFNOSUPPORT when `a` is not of the socket's family. */
static uint16_t check_family(const waft_wasi_fd *slot, const waft_sock_addr *a) {
    uint8_t family, protocol;
    uint16_t err = waft_sock_port_kind(slot->host, &family, &protocol);
    if (err != 0) return err;
    return family == a->family ? 0 : E(AFNOSUPPORT);
}

/* Whether any grant at all covers sockets of `protocol`. */
static bool any_grant(const waft_sockets *s, uint8_t protocol) {
    for (uint32_t i = 0; i < s->connect_count; i++) {
        if (s->connect[i].protocols & protocol) return true;
    }
    for (uint32_t i = 0; i < s->listen_count; i++) {
        if (s->listen[i].protocols & protocol) return true;
    }
    return false;
}

void EXT(open)(void *ctx, int32_t family, int32_t type, int32_t flags, int32_t ret) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 8, 4);
    uint16_t err = 0;
    int32_t fd = -1;
    uint8_t protocol = type == 0 ? WAFT_SOCKETS_TCP : WAFT_SOCKETS_UDP;
    if ((uint32_t)family > 1 || (uint32_t)type > 1 || ((uint32_t)flags & ~(uint32_t)WAFT_WASI_FDFLAGS_NONBLOCK)) {
        err = E(INVAL);
    } else if (!any_grant(s, protocol)) {
        err = E(ACCES);
    } else if ((fd = wasi_fd_alloc(s->wasi)) < 0) {
        err = E(NFILE);
    } else {
        int32_t host;
        err = waft_sock_port_open(family == 0 ? 4 : 6, protocol, (flags & WAFT_WASI_FDFLAGS_NONBLOCK) != 0, &host);
        if (err != 0) {
            wasi_fd_unreserve(s->wasi, fd);
        } else {
            wasi_fd_set(s->wasi, fd, WAFT_WASI_FD_SOCKET, host,
                        type == 0 ? WAFT_WASI_FILETYPE_SOCKET_STREAM : WAFT_WASI_FILETYPE_SOCKET_DGRAM,
                        OPENED_RIGHTS, OPENED_RIGHTS);
        }
    }
    waft_canon_result_u32(out, err, (uint32_t)fd);
}

int32_t EXT(bind)(void *ctx, int32_t fd, ADDR_PARAMS) {
    waft_sockets *s = sockets_of(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(s, fd, 0, &err);
    if (slot == NULL) return err;
    waft_sock_addr a;
    if ((err = lift_address(&a, ADDR_ARGS)) != 0 || (err = check_family(slot, &a)) != 0) return err;
    if (!waft_sockets_granted(s, s->listen, s->listen_count, protocol_of(slot), &a)) return E(ACCES);
    return waft_sock_port_bind(slot->host, &a);
}

int32_t EXT(listen)(void *ctx, int32_t fd, int32_t backlog) {
    waft_sockets *s = sockets_of(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(s, fd, R(SOCK_ACCEPT), &err);
    if (slot == NULL) return err;
    if (protocol_of(slot) == WAFT_SOCKETS_UDP) return E(NOTSUP);
    /* The bound address was granted by bind; unbound is destaddrreq (the
     * port's), never the host's implicit ephemeral bind. */
    return waft_sock_port_listen(slot->host, (uint32_t)backlog);
}

int32_t EXT(connect)(void *ctx, int32_t fd, ADDR_PARAMS) {
    waft_sockets *s = sockets_of(ctx);
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(s, fd, 0, &err);
    if (slot == NULL) return err;
    waft_sock_addr a;
    if ((err = lift_address(&a, ADDR_ARGS)) != 0 || (err = check_family(slot, &a)) != 0) return err;
    if (!waft_sockets_granted(s, s->connect, s->connect_count, protocol_of(slot), &a)) return E(ACCES);
    return waft_sock_port_connect(slot->host, &a);
}

void EXT(accept)(void *ctx, int32_t fd, int32_t flags, int32_t ret) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 40, 4);
    uint16_t err;
    int32_t conn_fd = -1;
    waft_sock_addr peer;
    memset(&peer, 0, sizeof peer);
    waft_wasi_fd *slot = socket_slot(s, fd, R(SOCK_ACCEPT), &err);
    if (slot != NULL) {
        if (((uint32_t)flags & ~(uint32_t)WAFT_WASI_FDFLAGS_NONBLOCK) != 0 || protocol_of(slot) != WAFT_SOCKETS_TCP) {
            err = E(INVAL);
        } else if ((conn_fd = wasi_fd_alloc(s->wasi)) < 0) {
            err = E(NFILE);
        } else {
            int32_t conn;
            err = waft_sock_port_accept(slot->host, (flags & WAFT_WASI_FDFLAGS_NONBLOCK) != 0, &conn, &peer);
            if (err != 0) {
                wasi_fd_unreserve(s->wasi, conn_fd);
            } else {
                wasi_fd_set(s->wasi, conn_fd, WAFT_WASI_FD_SOCKET, conn, WAFT_WASI_FILETYPE_SOCKET_STREAM,
                            slot->rights_inheriting & OPENED_RIGHTS, 0);
            }
        }
    }
    memset(out, 0, 40);
    out[0] = err != 0;
    if (err != 0) {
        out[4] = (uint8_t)err;
    } else {
        wasi_store32(out + 4, (uint32_t)conn_fd);
        store_address(out + 8, &peer);
    }
}

void EXT(_send_x2dto)(void *ctx, int32_t fd, int32_t data, int32_t len, ADDR_PARAMS, int32_t ret) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 8, 4);
    uint16_t err;
    size_t sent = 0;
    waft_sock_addr a;
    waft_wasi_fd *slot = socket_slot(s, fd, R(FD_WRITE), &err);
    if (slot != NULL) {
        const uint8_t *bytes = wasi_mem(s->wasi, (uint32_t)data, (uint32_t)len);
        if (bytes == NULL) {
            err = E(FAULT);
        } else if (protocol_of(slot) != WAFT_SOCKETS_UDP) {
            err = E(ISCONN);
        } else if ((err = lift_address(&a, ADDR_ARGS)) == 0 && (err = check_family(slot, &a)) == 0) {
            if (!waft_sockets_granted(s, s->connect, s->connect_count, WAFT_SOCKETS_UDP, &a)) {
                err = E(ACCES);
            } else {
                err = waft_sock_port_send_to(slot->host, bytes, (uint32_t)len, &a, &sent);
            }
        }
    }
    waft_canon_result_u32(out, err, (uint32_t)sent);
}

void EXT(_recv_x2dfrom)(void *ctx, int32_t fd, int32_t buffer, int32_t length, int32_t flags, int32_t ret) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 44, 4);
    uint16_t err;
    size_t got = 0;
    bool truncated = false;
    waft_sock_addr from;
    memset(&from, 0, sizeof from);
    waft_wasi_fd *slot = socket_slot(s, fd, R(FD_READ), &err);
    if (slot != NULL) {
        uint8_t *buf = wasi_mem(s->wasi, (uint32_t)buffer, (uint32_t)length);
        if (buf == NULL) {
            err = E(FAULT);
        } else if (protocol_of(slot) != WAFT_SOCKETS_UDP) {
            err = E(NOTSUP);
        } else if (((uint32_t)flags & ~1u) != 0) {
            err = E(INVAL);
        } else {
            err = waft_sock_port_recv_from(slot->host, buf, (uint32_t)length, (flags & 1) != 0, &got, &truncated,
                                           &from);
        }
    }
    memset(out, 0, 44);
    out[0] = err != 0;
    if (err != 0) {
        out[4] = (uint8_t)err;
    } else {
        wasi_store32(out + 4, (uint32_t)got);
        out[8] = truncated;
        store_address(out + 12, &from);
    }
}

static void address_result(void *ctx, int32_t fd, int32_t ret, bool local) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 36, 4);
    uint16_t err;
    waft_sock_addr a;
    memset(&a, 0, sizeof a);
    waft_wasi_fd *slot = socket_slot(s, fd, 0, &err);
    if (slot != NULL) {
        err = local ? waft_sock_port_local_address(slot->host, &a) : waft_sock_port_remote_address(slot->host, &a);
    }
    memset(out, 0, 36);
    out[0] = err != 0;
    if (err != 0) {
        out[4] = (uint8_t)err;
    } else {
        store_address(out + 4, &a);
    }
}

void EXT(_local_x2daddress)(void *ctx, int32_t fd, int32_t ret) { address_result(ctx, fd, ret, true); }

void EXT(_remote_x2daddress)(void *ctx, int32_t fd, int32_t ret) { address_result(ctx, fd, ret, false); }

int32_t EXT(_take_x2derror)(void *ctx, int32_t fd) {
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(sockets_of(ctx), fd, 0, &err);
    if (slot == NULL) return err;
    uint16_t pending = 0;
    err = waft_sock_port_take_error(slot->host, &pending);
    return err != 0 ? err : pending;
}

int32_t EXT(_set_x2dnodelay)(void *ctx, int32_t fd, int32_t enabled) {
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(sockets_of(ctx), fd, 0, &err);
    if (slot == NULL) return err;
    if (protocol_of(slot) != WAFT_SOCKETS_TCP) return E(NOPROTOOPT);
    return waft_sock_port_set_nodelay(slot->host, (enabled & 0xFF) != 0);
}

int32_t EXT(_set_x2dkeepalive)(void *ctx, int32_t fd, int64_t idle, int64_t interval, int32_t count) {
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(sockets_of(ctx), fd, 0, &err);
    if (slot == NULL) return err;
    if (protocol_of(slot) != WAFT_SOCKETS_TCP) return E(NOPROTOOPT);
    if (idle != 0 && (interval == 0 || count == 0)) return E(INVAL);
    return waft_sock_port_set_keepalive(slot->host, (uint64_t)idle, (uint64_t)interval, (uint32_t)count);
}

int32_t EXT(_set_x2dtimeouts)(void *ctx, int32_t fd, int64_t receive, int64_t send) {
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(sockets_of(ctx), fd, 0, &err);
    if (slot == NULL) return err;
    return waft_sock_port_set_timeouts(slot->host, (uint64_t)receive, (uint64_t)send);
}

int32_t EXT(_set_x2dreuse_x2daddress)(void *ctx, int32_t fd, int32_t enabled) {
    uint16_t err;
    waft_wasi_fd *slot = socket_slot(sockets_of(ctx), fd, 0, &err);
    if (slot == NULL) return err;
    return waft_sock_port_set_reuse_address(slot->host, (enabled & 0xFF) != 0);
}

/* ---- name-lookup ------------------------------------------------------------ */

/* Whether [p, p + n) is UTF-8 without NUL, as the WIT's string must be
 * (ILSEQ otherwise): lead bytes, lengths and continuation bytes. */
static bool valid_utf8(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t more;
        if (c == 0) return false;
        if (c < 0x80) {
            more = 0;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            more = 1;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            more = 3;
        } else {
            return false;
        }
        if (more > n - i - 1) return false;
        for (size_t k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
        }
        i += more + 1;
    }
    return true;
}

/* Host names compare without regard to ASCII case (RFC 4343). */
static bool same_name(const char *a, const char *b) {
    for (;; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return false;
        if (x == '\0') return true;
    }
}

void LOOKUP(resolve)(void *ctx, int32_t name, int32_t len, int32_t results, int32_t capacity, int32_t ret) {
    waft_sockets *s = sockets_of(ctx);
    uint8_t *out = ret_area(s, ret, 8, 4);
    const uint8_t *text = wasi_mem(s->wasi, (uint32_t)name, (uint32_t)len);
    uint8_t *array = wasi_mem_array(s->wasi, (uint32_t)results, (uint32_t)capacity, 18);
    uint32_t n = (uint32_t)len;
    char copy[254];
    waft_sock_addr found[WAFT_SOCKETS_RESOLVE_MAX];
    uint32_t count = 0;
    uint16_t err = 0;
    if (text == NULL || array == NULL) {
        err = E(FAULT);
    } else if (n == 0) {
        err = E(INVAL);
    } else if (n > 253) {
        err = E(NAMETOOLONG);
    } else if (!valid_utf8(text, n)) {
        err = E(ILSEQ);
    } else {
        memcpy(copy, text, n); /* a copy: another thread may change the guest's bytes */
        copy[n] = '\0';
        if (waft_sockets_parse_ip(copy, n, &found[0])) {
            count = 1;
        } else {
            for (uint32_t i = 0; i < s->host_count && count < WAFT_SOCKETS_RESOLVE_MAX; i++) {
                if (same_name(s->hosts[i].name, copy)) {
                    found[count++] = s->hosts[i].addr;
                }
            }
            if (count == 0) {
                err = waft_sock_port_resolve(copy, found, WAFT_SOCKETS_RESOLVE_MAX, &count);
            }
            if (err == 0) {
                waft_sockets_admit(s, copy, n, found, count < WAFT_SOCKETS_RESOLVE_MAX ? count : WAFT_SOCKETS_RESOLVE_MAX);
            }
        }
    }
    if (err == 0) {
        uint32_t kept = count < WAFT_SOCKETS_RESOLVE_MAX ? count : WAFT_SOCKETS_RESOLVE_MAX;
        for (uint32_t i = 0; i < kept && i < (uint32_t)capacity; i++) {
            uint8_t *e = array + (size_t)i * 18;
            memset(e, 0, 18);
            e[0] = found[i].family == 6;
            if (found[i].family == 6) {
                for (int g = 0; g < 8; g++) {
                    wasi_store16(e + 2 + 2 * g, (uint16_t)(found[i].addr[2 * g] << 8 | found[i].addr[2 * g + 1]));
                }
            } else {
                memcpy(e + 2, found[i].addr, 4);
            }
        }
    }
    waft_canon_result_u32(out, err, count);
}
