/*
 * sockets_port.h: the network stack under wasi-ext:sockets, the narrow
 * interface ext_sockets.c calls and each stack implements: port_posix.c with
 * BSD sockets on the host, an lwIP port on boards (runtime_c/sockets/lwip/).
 *
 * Handles are the WASI p1 port's handles (on the host a POSIX fd), so a
 * socket opened here sits in p1's fd table like any fd and p1's own port
 * reads, writes, polls and closes it.  ext_sockets.c has checked every guest
 * pointer, the fd, its kind and the grants before a port function runs; the
 * port sees native buffers and addresses only.  Every function returns a WASI
 * errno, 0 on success.
 */
#ifndef WAFT_SOCKETS_PORT_H
#define WAFT_SOCKETS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waft_sockets.h"

/* Bring the stack up before the module runs (a board: the NIC and its
 * address); 0, or an errno after saying why on the error console. */
uint16_t waft_sock_port_start(void);
/* family: 4 or 6; protocol: WAFT_SOCKETS_TCP or WAFT_SOCKETS_UDP. */
uint16_t waft_sock_port_open(uint8_t family, uint8_t protocol, bool nonblock, int32_t *handle);
/* The family (4/6) and protocol of an open socket. */
uint16_t waft_sock_port_kind(int32_t h, uint8_t *family, uint8_t *protocol);
uint16_t waft_sock_port_bind(int32_t h, const waft_sock_addr *local);
/* DESTADDRREQ when the socket is not bound; NOTSUP for UDP. */
uint16_t waft_sock_port_listen(int32_t h, uint32_t backlog);
/* INPROGRESS for a non-blocking TCP connect under way. */
uint16_t waft_sock_port_connect(int32_t h, const waft_sock_addr *remote);
uint16_t waft_sock_port_accept(int32_t h, bool nonblock, int32_t *conn, waft_sock_addr *remote);
uint16_t waft_sock_port_send_to(int32_t h, const uint8_t *data, size_t len, const waft_sock_addr *remote,
                                size_t *sent);
uint16_t waft_sock_port_recv_from(int32_t h, uint8_t *buf, size_t len, bool peek, size_t *got, bool *truncated,
                                  waft_sock_addr *remote);
/* INVAL when unbound (local), NOTCONN without a peer (remote). */
uint16_t waft_sock_port_local_address(int32_t h, waft_sock_addr *out);
uint16_t waft_sock_port_remote_address(int32_t h, waft_sock_addr *out);
/* The pending asynchronous error (0: none), cleared. */
uint16_t waft_sock_port_take_error(int32_t h, uint16_t *error);
uint16_t waft_sock_port_set_nodelay(int32_t h, bool enabled);
/* idle_ns 0: off; interval_ns and count already checked non-zero otherwise. */
uint16_t waft_sock_port_set_keepalive(int32_t h, uint64_t idle_ns, uint64_t interval_ns, uint32_t count);
/* 0: wait for good. */
uint16_t waft_sock_port_set_timeouts(int32_t h, uint64_t receive_ns, uint64_t send_ns);
uint16_t waft_sock_port_set_reuse_address(int32_t h, bool enabled);

/* Resolve `name` (a NUL-terminated, checked, non-numeric name): up to `cap`
 * addresses into `out`, their total number in *count.  NOENT when it has
 * none, NOTSUP when the port has no resolver. */
uint16_t waft_sock_port_resolve(const char *name, waft_sock_addr *out, uint32_t cap, uint32_t *count);

#endif /* WAFT_SOCKETS_PORT_H */
