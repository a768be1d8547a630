/*
 * grants.c: what a module may reach over wasi-ext:sockets — parsing the
 * grants (`--allow-connect`, `--listen`) and the static name table, and
 * matching an address against them.  Portable C with no libc network calls
 * (newlib has no inet_pton), so boards share it; nothing is allocated.
 *
 * Why grants by name admit only what `resolve` returned: the module can only
 * learn a name's addresses through this runtime's resolver, so admitting
 * exactly those keeps the grant meaning "this service", not "whatever
 * address the module typed" — and a board without DNS still honours a name
 * grant through its static table.
 */
#include "waft_sockets.h"

#include <string.h>

void waft_sockets_init(waft_sockets *s, waft_wasi_ctx *wasi, const waft_sockets_grant *connect,
                       uint32_t connect_count, const waft_sockets_grant *listen, uint32_t listen_count,
                       const waft_sockets_host_entry *hosts, uint32_t host_count) {
    memset(s, 0, sizeof *s);
    s->wasi = wasi;
    s->connect = connect;
    s->connect_count = connect_count;
    s->listen = listen;
    s->listen_count = listen_count;
    s->hosts = hosts;
    s->host_count = host_count;
}

/* ---- numbers and addresses ---------------------------------------------- */

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A decimal number in [text, text + len) no larger than `max`. */
static bool parse_decimal(const char *text, size_t len, uint32_t max, uint32_t *out) {
    if (len == 0 || len > 10) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    if (v > max) return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_ipv4(const char *text, size_t len, uint8_t out[4]) {
    size_t start = 0;
    for (int part = 0; part < 4; part++) {
        size_t end = start;
        while (end < len && text[end] != '.') end++;
        uint32_t v;
        /* No leading zeros beyond "0": "010" is octal to some parsers, refused here. */
        if ((end - start > 1 && text[start] == '0') || !parse_decimal(text + start, end - start, 255, &v)) {
            return false;
        }
        out[part] = (uint8_t)v;
        if (part < 3 && end == len) return false;
        start = end + 1;
    }
    return start == len + 1;
}

static bool parse_ipv6(const char *text, size_t len, uint8_t out[16]) {
    uint16_t groups[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && text[0] == ':' && text[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && text[0] == ':') {
        return false;
    }
    while (i < len) {
        if (n == 8) return false;
        uint32_t v = 0;
        size_t digits = 0;
        while (i < len && hex_digit(text[i]) >= 0 && digits < 5) {
            v = v * 16 + (uint32_t)hex_digit(text[i]);
            i++;
            digits++;
        }
        if (digits == 0 || digits > 4) return false;
        groups[n++] = (uint16_t)v;
        if (i == len) break;
        if (text[i] != ':') return false;
        i++;
        if (i < len && text[i] == ':') {
            if (gap >= 0) return false; /* two "::" */
            gap = n;
            i++;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
    }
    if (gap < 0 && n != 8) return false;
    if (gap >= 0 && n > 7) return false;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : n - gap;
    for (int g = 0; g < n; g++) {
        int at = (gap >= 0 && g >= gap) ? 8 - tail + (g - gap) : g;
        out[2 * at] = (uint8_t)(groups[g] >> 8);
        out[2 * at + 1] = (uint8_t)groups[g];
    }
    return true;
}

bool waft_sockets_parse_ip(const char *text, size_t len, waft_sock_addr *out) {
    memset(out, 0, sizeof *out);
    if (parse_ipv4(text, len, out->addr)) {
        out->family = 4;
        return true;
    }
    if (parse_ipv6(text, len, out->addr)) {
        out->family = 6;
        return true;
    }
    return false;
}

/* ---- grants --------------------------------------------------------------- */

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

static const char *parse_ports(const char *text, waft_sockets_grant *out) {
    size_t len = strlen(text);
    if (len == 1 && text[0] == '*') {
        out->port_lo = 0;
        out->port_hi = 65535;
        return NULL;
    }
    const char *dash = memchr(text, '-', len);
    uint32_t lo, hi;
    if (dash == NULL) {
        if (!parse_decimal(text, len, 65535, &lo)) return "the port is not a number in 0..65535 or *";
        hi = lo;
    } else if (!parse_decimal(text, (size_t)(dash - text), 65535, &lo) ||
               !parse_decimal(dash + 1, len - (size_t)(dash - text) - 1, 65535, &hi)) {
        return "a port range is LOW-HIGH, each in 0..65535";
    } else if (lo > hi) {
        return "a port range's low end is above its high end";
    }
    out->port_lo = (uint16_t)lo;
    out->port_hi = (uint16_t)hi;
    return NULL;
}

const char *waft_sockets_parse_grant(const char *spec, waft_sockets_grant *out) {
    memset(out, 0, sizeof *out);
    out->protocols = WAFT_SOCKETS_TCP | WAFT_SOCKETS_UDP;
    if (strncmp(spec, "tcp:", 4) == 0) {
        out->protocols = WAFT_SOCKETS_TCP;
        spec += 4;
    } else if (strncmp(spec, "udp:", 4) == 0) {
        out->protocols = WAFT_SOCKETS_UDP;
        spec += 4;
    }
    /* HOST is everything before the last ':' (or the bracketed part). */
    const char *host = spec, *host_end, *ports;
    if (spec[0] == '[') {
        host = spec + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL || host_end[1] != ':') return "an IPv6 host is [ADDRESS]:PORTS";
        ports = host_end + 2;
    } else {
        host_end = strrchr(spec, ':');
        if (host_end == NULL) return "a grant is [tcp:|udp:]HOST:PORTS";
        ports = host_end + 1;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0) return "the host is empty (use * for any address)";
    const char *why = parse_ports(ports, out);
    if (why != NULL) return why;
    if (host_len == 1 && host[0] == '*') {
        out->host = WAFT_SOCKETS_HOST_ANY;
        return NULL;
    }
    const char *slash = memchr(host, '/', host_len);
    size_t addr_len = slash != NULL ? (size_t)(slash - host) : host_len;
    waft_sock_addr a;
    if (waft_sockets_parse_ip(host, addr_len, &a)) {
        if ((spec[0] == '[') != (a.family == 6)) return "IPv6 addresses go in brackets, IPv4 ones do not";
        uint32_t max = a.family == 4 ? 32 : 128, prefix = max;
        if (slash != NULL && !parse_decimal(slash + 1, host_len - addr_len - 1, max, &prefix)) {
            return "a network's prefix length is a number up to 32 (IPv4) or 128 (IPv6)";
        }
        out->host = WAFT_SOCKETS_HOST_IP;
        out->family = a.family;
        out->prefix = (uint8_t)prefix;
        memcpy(out->addr, a.addr, 16);
        return NULL;
    }
    if (spec[0] == '[' || slash != NULL) return "not an IP address or network";
    if (host_len > 253) return "a name is at most 253 characters";
    for (size_t i = 0; i < host_len; i++) {
        if (!name_char(host[i])) return "not an IP address, a network, * or a host name";
    }
    out->host = WAFT_SOCKETS_HOST_NAME;
    out->name = host;
    out->name_len = (uint16_t)host_len;
    return NULL;
}

const char *waft_sockets_parse_host(char *spec, waft_sockets_host_entry *out) {
    char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec) return "a name table entry is NAME=ADDRESS";
    for (char *p = spec; p < eq; p++) {
        if (!name_char(*p)) return "not a host name";
    }
    if (!waft_sockets_parse_ip(eq + 1, strlen(eq + 1), &out->addr)) return "not an IPv4 or IPv6 address";
    *eq = '\0';
    out->name = spec;
    return NULL;
}

/* ---- matching -------------------------------------------------------------- */

static bool prefix_match(const uint8_t *a, const uint8_t *b, uint32_t bits) {
    uint32_t bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool same_name(const char *a, size_t a_len, const char *b, size_t b_len) {
    if (a_len != b_len) return false;
    for (size_t i = 0; i < a_len; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

static void lock(waft_sockets *s) {
    while (__atomic_test_and_set((void *)&s->admitted_lock, __ATOMIC_ACQUIRE)) {
    }
}

static void unlock(waft_sockets *s) { __atomic_clear((void *)&s->admitted_lock, __ATOMIC_RELEASE); }

static bool admitted_by(waft_sockets *s, uint32_t grant, const waft_sock_addr *a) {
    bool found = false;
    lock(s);
    for (uint32_t i = 0; i < s->admitted_used && !found; i++) {
        found = s->admitted[i].grant == grant && s->admitted[i].family == a->family &&
                memcmp(s->admitted[i].addr, a->addr, a->family == 4 ? 4 : 16) == 0;
    }
    unlock(s);
    return found;
}

bool waft_sockets_granted(waft_sockets *s, const waft_sockets_grant *grants, uint32_t count, uint8_t protocol,
                          const waft_sock_addr *a) {
    for (uint32_t i = 0; i < count; i++) {
        const waft_sockets_grant *g = &grants[i];
        if ((g->protocols & protocol) == 0 || a->port < g->port_lo || a->port > g->port_hi) continue;
        switch (g->host) {
        case WAFT_SOCKETS_HOST_ANY:
            return true;
        case WAFT_SOCKETS_HOST_IP:
            if (g->family == a->family && prefix_match(g->addr, a->addr, g->prefix)) return true;
            break;
        case WAFT_SOCKETS_HOST_NAME:
            /* Only connect grants are looked up by name (the caller passes
             * s); a local address is never a name. */
            if (s != NULL && grants == s->connect && admitted_by(s, i, a)) return true;
            break;
        }
    }
    return false;
}

void waft_sockets_admit(waft_sockets *s, const char *name, size_t name_len, const waft_sock_addr *addrs,
                        uint32_t n) {
    for (uint32_t g = 0; g < s->connect_count; g++) {
        const waft_sockets_grant *grant = &s->connect[g];
        if (grant->host != WAFT_SOCKETS_HOST_NAME || !same_name(grant->name, grant->name_len, name, name_len)) {
            continue;
        }
        for (uint32_t i = 0; i < n; i++) {
            waft_sock_addr probe = addrs[i];
            if (admitted_by(s, g, &probe)) continue;
            lock(s);
            uint32_t at = s->admitted_next;
            s->admitted[at].grant = g;
            s->admitted[at].family = addrs[i].family;
            memcpy(s->admitted[at].addr, addrs[i].addr, 16);
            s->admitted_next = (at + 1) % WAFT_SOCKETS_ADMITTED_MAX;
            if (s->admitted_used < WAFT_SOCKETS_ADMITTED_MAX) s->admitted_used++;
            unlock(s);
        }
    }
}
