"""The grants of wasi-ext:sockets as `waft run` takes them: `--allow-connect`, `--listen`, `--resolve`.

The runtime parses the same text (runtime_c/sockets/grants.c,
waft_sockets_parse_grant); this module checks it first so that a typo is one
clear usage line before anything is compiled.  The grammar (docs/sockets.md):

    [tcp:|udp:]HOST:PORTS
    HOST   10.0.0.7 | 10.0.0.0/8 | [::1] | [fd00::/8] | * | a name (connect only)
    PORTS  80 | 8000-8099 | *        (--listen: 0 = an ephemeral port only)

and `--resolve NAME=ADDRESS` adds NAME to the static name table the resolver
answers from before the host's (a board's only resolver).
"""

from __future__ import annotations

import ipaddress
import re

_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}")


class SocketGrantError(ValueError):
    """A grant or name table entry that does not parse; the message is one line."""


def _ports(text: str, option: str, spec: str) -> None:
    if text == "*":
        return
    parts = text.split("-")
    if len(parts) > 2 or not all(p.isdigit() and int(p) <= 65535 for p in parts):
        raise SocketGrantError(f"{option} {spec}: PORTS is a port (0-65535), a range LOW-HIGH or *")
    if len(parts) == 2 and int(parts[0]) > int(parts[1]):
        raise SocketGrantError(f"{option} {spec}: the range's low end is above its high end")


def check_grant(spec: str, option: str = "--allow-connect") -> str:
    """`spec` unchanged when it parses; SocketGrantError naming the problem otherwise."""
    rest = spec
    if rest.startswith(("tcp:", "udp:")):
        rest = rest[4:]
    if rest.startswith("["):
        host, sep, ports = rest[1:].partition("]:")
        if not sep:
            raise SocketGrantError(f"{option} {spec}: an IPv6 host is written [ADDRESS]:PORTS")
        bracketed = True
    else:
        host, sep, ports = rest.rpartition(":")
        if not sep:
            raise SocketGrantError(f"{option} {spec}: a grant is [tcp:|udp:]HOST:PORTS (e.g. 10.0.0.7:80, *:443)")
        bracketed = False
    _ports(ports, option, spec)
    if host == "*":
        return spec
    if not host:
        raise SocketGrantError(f"{option} {spec}: the host is empty (* is any address)")
    try:
        net = ipaddress.ip_network(host, strict=False) if "/" in host else ipaddress.ip_address(host)
    except ValueError:
        net = None
    if net is not None:
        if (net.version == 6) != bracketed:
            raise SocketGrantError(f"{option} {spec}: IPv6 addresses go in brackets ([::1]:80), IPv4 ones do not")
        return spec
    if bracketed or "/" in host:
        raise SocketGrantError(f"{option} {spec}: '{host}' is not an IP address or network")
    if option == "--listen":
        raise SocketGrantError(f"{option} {spec}: a local address is an IP address or *, not a name")
    if not _NAME.fullmatch(host):
        raise SocketGrantError(f"{option} {spec}: '{host}' is not an IP address, a network, * or a host name")
    return spec


def check_host_entry(spec: str) -> str:
    """`--resolve NAME=ADDRESS`, checked; SocketGrantError otherwise."""
    name, sep, address = spec.partition("=")
    if not sep or not _NAME.fullmatch(name):
        raise SocketGrantError(f"--resolve {spec}: an entry is NAME=ADDRESS (e.g. sensor.local=10.0.0.7)")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise SocketGrantError(f"--resolve {spec}: '{address}' is not an IPv4 or IPv6 address") from None
    return spec
