/*
 * port_posix.c: sockets_port.h over BSD sockets, for the host.  A handle is
 * the socket's POSIX fd, which WASI p1's host port already reads, writes,
 * polls and closes, so the fd table needs nothing new.  Errors go through p1's
 * errno table (wasi_port_posix_errno).  Name lookup is getaddrinfo, the one
 * call here that allocates (inside libc, freed before returning).
 */
#define _GNU_SOURCE /* accept4 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../wasi_p1/wasi_internal.h"
#include "sockets_port.h"

#define ERR() wasi_port_posix_errno(errno)
#define RETRY(call)                                                                                          \
    ({                                                                                                       \
        __typeof__(call) r_;                                                                                 \
        do {                                                                                                 \
            r_ = (call);                                                                                     \
        } while (r_ < 0 && errno == EINTR);                                                                  \
        r_;                                                                                                  \
    })

typedef union native_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_storage any;
} native_addr;

static socklen_t to_native(const waft_sock_addr *a, native_addr *n) {
    memset(n, 0, sizeof *n);
    if (a->family == 6) {
        n->in6.sin6_family = AF_INET6;
        n->in6.sin6_port = htons(a->port);
        n->in6.sin6_flowinfo = htonl(a->flow_info);
        memcpy(&n->in6.sin6_addr, a->addr, 16);
        n->in6.sin6_scope_id = a->scope_id;
        return sizeof n->in6;
    }
    n->in4.sin_family = AF_INET;
    n->in4.sin_port = htons(a->port);
    memcpy(&n->in4.sin_addr, a->addr, 4);
    return sizeof n->in4;
}

static void from_native(const native_addr *n, waft_sock_addr *a) {
    memset(a, 0, sizeof *a);
    if (n->sa.sa_family == AF_INET6) {
        a->family = 6;
        a->port = ntohs(n->in6.sin6_port);
        a->flow_info = ntohl(n->in6.sin6_flowinfo);
        memcpy(a->addr, &n->in6.sin6_addr, 16);
        a->scope_id = n->in6.sin6_scope_id;
    } else if (n->sa.sa_family == AF_INET) {
        a->family = 4;
        a->port = ntohs(n->in4.sin_port);
        memcpy(a->addr, &n->in4.sin_addr, 4);
    }
}

uint16_t waft_sock_port_start(void) { return 0; /* the host's stack is the kernel's, always up */ }

uint16_t waft_sock_port_open(uint8_t family, uint8_t protocol, bool nonblock, int32_t *handle) {
    int type = (protocol == WAFT_SOCKETS_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
    int fd = socket(family == 6 ? AF_INET6 : AF_INET, type, 0);
    if (fd < 0) {
        /* The process's own limits are the stack's pool, as the WIT names it. */
        return (errno == EMFILE || errno == ENFILE || errno == ENOMEM) ? WAFT_WASI_ERRNO_NOBUFS : ERR();
    }
    if (family == 6) {
        /* One family per socket, as on lwIP: an IPv6 socket never carries IPv4. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    *handle = fd;
    return 0;
}

uint16_t waft_sock_port_kind(int32_t h, uint8_t *family, uint8_t *protocol) {
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(h, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return ERR();
    len = sizeof type;
    if (getsockopt(h, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return ERR();
    *family = domain == AF_INET6 ? 6 : 4;
    *protocol = type == SOCK_DGRAM ? WAFT_SOCKETS_UDP : WAFT_SOCKETS_TCP;
    return 0;
}

uint16_t waft_sock_port_bind(int32_t h, const waft_sock_addr *local) {
    native_addr n;
    socklen_t len = to_native(local, &n);
    return bind(h, &n.sa, len) == 0 ? 0 : ERR();
}

uint16_t waft_sock_port_listen(int32_t h, uint32_t backlog) {
    native_addr n;
    socklen_t len = sizeof n;
    if (getsockname(h, &n.sa, &len) != 0) return ERR();
    waft_sock_addr a;
    from_native(&n, &a);
    if (a.port == 0) {
        /* Linux would bind an ephemeral port nobody granted. */
        return WAFT_WASI_ERRNO_DESTADDRREQ;
    }
    if (backlog == 0 || backlog > 128) backlog = 128;
    return listen(h, (int)backlog) == 0 ? 0 : ERR();
}

uint16_t waft_sock_port_connect(int32_t h, const waft_sock_addr *remote) {
    native_addr n;
    socklen_t len = to_native(remote, &n);
    if (connect(h, &n.sa, len) == 0) return 0;
    if (errno == EINTR) {
        /* A signal (wasi-ext:signals' POSIX port uses them) cut the wait; the
         * handshake goes on in the kernel, so wait for its end as a blocking
         * call must, rather than answer a blocking socket with inprogress. */
        struct pollfd p = {.fd = h, .events = POLLOUT};
        while (poll(&p, 1, -1) < 0 && errno == EINTR) {
        }
        uint16_t pending = 0;
        uint16_t err = waft_sock_port_take_error(h, &pending);
        return err != 0 ? err : pending;
    }
    return ERR();
}

uint16_t waft_sock_port_accept(int32_t h, bool nonblock, int32_t *conn, waft_sock_addr *remote) {
    native_addr n;
    socklen_t len = sizeof n;
    int fd = RETRY(accept4(h, &n.sa, &len, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0)));
    if (fd < 0) {
        return (errno == EMFILE || errno == ENFILE) ? WAFT_WASI_ERRNO_NOBUFS : ERR();
    }
    from_native(&n, remote);
    *conn = fd;
    return 0;
}

uint16_t waft_sock_port_send_to(int32_t h, const uint8_t *data, size_t len, const waft_sock_addr *remote,
                                size_t *sent) {
    native_addr n;
    socklen_t nlen = to_native(remote, &n);
    ssize_t r = RETRY(sendto(h, data, len, MSG_NOSIGNAL, &n.sa, nlen));
    if (r < 0) return ERR();
    *sent = (size_t)r;
    return 0;
}

uint16_t waft_sock_port_recv_from(int32_t h, uint8_t *buf, size_t len, bool peek, size_t *got, bool *truncated,
                                  waft_sock_addr *remote) {
    native_addr n;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    memset(&n, 0, sizeof n);
    msg.msg_name = &n;
    msg.msg_namelen = sizeof n;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t r = RETRY(recvmsg(h, &msg, peek ? MSG_PEEK : 0));
    if (r < 0) return ERR();
    *got = (size_t)r;
    *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    from_native(&n, remote);
    return 0;
}

uint16_t waft_sock_port_local_address(int32_t h, waft_sock_addr *out) {
    native_addr n;
    socklen_t len = sizeof n;
    if (getsockname(h, &n.sa, &len) != 0) return ERR();
    from_native(&n, out);
    if (out->port == 0) return WAFT_WASI_ERRNO_INVAL; /* the WIT: not bound */
    return 0;
}

uint16_t waft_sock_port_remote_address(int32_t h, waft_sock_addr *out) {
    native_addr n;
    socklen_t len = sizeof n;
    if (getpeername(h, &n.sa, &len) != 0) return ERR();
    from_native(&n, out);
    return 0;
}

uint16_t waft_sock_port_take_error(int32_t h, uint16_t *error) {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(h, SOL_SOCKET, SO_ERROR, &e, &len) != 0) return ERR();
    *error = e == 0 ? 0 : wasi_port_posix_errno(e);
    return 0;
}

static uint16_t set_int(int h, int level, int name, int value) {
    return setsockopt(h, level, name, &value, sizeof value) == 0 ? 0 : ERR();
}

uint16_t waft_sock_port_set_nodelay(int32_t h, bool enabled) { return set_int(h, IPPROTO_TCP, TCP_NODELAY, enabled); }

/* Whole seconds, rounded up, at least 1 and at most what the kernel takes. */
static int seconds_up(uint64_t ns) {
    uint64_t s = ns / 1000000000u + (ns % 1000000000u != 0);
    return s < 1 ? 1 : s > 32767 ? 32767 : (int)s;
}

uint16_t waft_sock_port_set_keepalive(int32_t h, uint64_t idle_ns, uint64_t interval_ns, uint32_t count) {
    if (idle_ns == 0) return set_int(h, SOL_SOCKET, SO_KEEPALIVE, 0);
    uint16_t err;
    if ((err = set_int(h, IPPROTO_TCP, TCP_KEEPIDLE, seconds_up(idle_ns))) != 0 ||
        (err = set_int(h, IPPROTO_TCP, TCP_KEEPINTVL, seconds_up(interval_ns))) != 0 ||
        (err = set_int(h, IPPROTO_TCP, TCP_KEEPCNT, count > 127 ? 127 : (int)count)) != 0) {
        return err;
    }
    return set_int(h, SOL_SOCKET, SO_KEEPALIVE, 1);
}

/* A timeval rounded up to the microsecond (0 stays 0: no limit). */
static struct timeval timeval_up(uint64_t ns) {
    uint64_t us = ns / 1000u + (ns % 1000u != 0);
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u), .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

uint16_t waft_sock_port_set_timeouts(int32_t h, uint64_t receive_ns, uint64_t send_ns) {
    struct timeval r = timeval_up(receive_ns), s = timeval_up(send_ns);
    if (setsockopt(h, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r) != 0) return ERR();
    if (setsockopt(h, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof s) != 0) return ERR();
    return 0;
}

uint16_t waft_sock_port_set_reuse_address(int32_t h, bool enabled) {
    return set_int(h, SOL_SOCKET, SO_REUSEADDR, enabled);
}

uint16_t waft_sock_port_resolve(const char *name, waft_sock_addr *out, uint32_t cap, uint32_t *count) {
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM; /* one entry per address, not one per socket type */
    int r = getaddrinfo(name, NULL, &hints, &list);
    switch (r) {
    case 0: break;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY: return WAFT_WASI_ERRNO_NOENT;
    case EAI_AGAIN: return WAFT_WASI_ERRNO_TIMEDOUT;
    case EAI_MEMORY: return WAFT_WASI_ERRNO_NOMEM;
    case EAI_SYSTEM: return ERR();
    default: return WAFT_WASI_ERRNO_IO;
    }
    uint32_t n = 0;
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        if (n < cap) {
            native_addr na;
            memset(&na, 0, sizeof na);
            memcpy(&na, ai->ai_addr, ai->ai_addrlen < sizeof na ? ai->ai_addrlen : sizeof na);
            from_native(&na, &out[n]);
            out[n].port = 0;
        }
        n++;
    }
    freeaddrinfo(list);
    *count = n;
    return n == 0 ? WAFT_WASI_ERRNO_NOENT : 0;
}
