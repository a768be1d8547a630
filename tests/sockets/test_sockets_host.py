"""`wasi-ext:sockets` on the host: the runtime matches the WIT, and a Wasm program talks TCP and UDP over 127.0.0.1.

The guest is programs/socktool.c (imports declared by hand from the WIT, data
through p1's fd_read/fd_write on the same fds); pytest is its peer.  Every
test asserts what the guest printed and what the peer received, so a
runtime that drops, corrupts, leaks or misreports fails it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading

import pytest

from aot.package_data import RUNTIME_DIR
from aot.targets import load_target
from aot.wasm.module import Import
from waftkit import wasi_ext
from waftkit.firmware.runtime import runtime_cflags
from waftkit.firmware.socket_grants import SocketGrantError, check_grant
from waftkit.imports_check import c_prototype

sys.path.insert(0, os.path.dirname(__file__))
from sockets_harness import Guest, echo_to, socktool, socktool_wasm

LISTEN = ["--listen", "tcp:127.0.0.1:0"]


@pytest.fixture(scope="module", autouse=True)
def built():
    from wasi_harness import require_tools

    require_tools()
    socktool()


def free_port() -> int:
    """A loopback port nothing listens on (bound then released: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runtime_definitions_match_the_wit(tmp_path):
    imports = {(m, n): imp for (m, n), imp in wasi_ext.catalogue().items() if m.startswith("wasi-ext:sockets/")}
    assert len(imports) == 15, sorted(imports)  # 14 in sockets, resolve in name-lookup
    prototypes = [c_prototype(Import(m, n, "func", 0), imp.type) + ";" for (m, n), imp in sorted(imports.items())]
    header = tmp_path / "wit_prototypes.h"
    header.write_text("#include <stdint.h>\n" + "\n".join(prototypes) + "\n")
    target = load_target("host")
    obj = tmp_path / "ext.o"
    result = subprocess.run([target.cc, *runtime_cflags(target), "-Werror", "-include", str(header), "-c",
                             str(RUNTIME_DIR / "sockets" / "ext_sockets.c"), "-o", str(obj)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    defined = subprocess.run(["nm", "--defined-only", str(obj)], capture_output=True, text=True, check=False).stdout
    for prototype in prototypes:
        assert f" T {prototype.split('(')[0].split()[-1]}\n" in defined, prototype


def _echo(port: int, data: bytes) -> bytes:
    return echo_to(port, data, timeout=20)


def test_echo_round_trips_from_one_byte_to_64_kib():
    sizes = [1, 7, 1000, 1460, 4096, 16384, 65536]
    with Guest(LISTEN, "echo-server", len(sizes)) as guest:
        port = guest.port()
        for size in sizes:
            data = os.urandom(size)
            assert _echo(port, data) == data, size
        lines, status, err = guest.rest()
    assert status == 0, err
    assert lines == [f"served {len(sizes)} errors 0 bytes {sum(sizes)}", "next fd 3"]


def test_many_sequential_connections():
    count = 60
    with Guest(LISTEN, "echo-server", count) as guest:
        port = guest.port()
        for i in range(count):
            assert _echo(port, b"connection %d" % i) == b"connection %d" % i
        lines, status, err = guest.rest()
    assert status == 0, err
    assert lines[0].startswith(f"served {count} errors 0 ") and lines[1] == "next fd 3"


def test_hostile_peers_do_not_stop_the_server():
    """Mid-transfer disconnects (a reset while the guest writes), garbage, half-open peers and a
    burst of connect-and-vanish attempts; then an honest peer still gets its bytes back and every
    connection's fd came back to the table."""
    flood = 30
    count = 3 + flood + 1
    with Guest(LISTEN, "echo-server", count) as guest:
        port = guest.port()
        # 1. Send 64 KiB, read nothing, reset: the guest's writes fail (pipe / connreset).
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(os.urandom(65536))
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        # 2. Garbage, then a reset without a FIN.
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(bytes(range(256)) * 8)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        # 3. Half-open: shut our side down and leave without reading.
        conn = socket.create_connection(("127.0.0.1", port))
        conn.shutdown(socket.SHUT_WR)
        conn.close()
        # 4. A burst of connections that vanish at once (the backlog holds them; accept takes each).
        for _ in range(flood):
            socket.create_connection(("127.0.0.1", port)).close()
        data = os.urandom(20000)
        assert _echo(port, data) == data
        lines, status, err = guest.rest()
    assert status == 0, err
    assert lines[0].startswith(f"served {count} errors "), lines
    assert lines[1] == "next fd 3"


def test_wasm_client_to_a_pytest_server():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def serve():
            conn, _ = server.accept()
            with conn:
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
                conn.sendall(data.upper())

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with Guest(["--allow-connect", f"tcp:127.0.0.1:{port}"], "client", port, "hello from wasm") as guest:
            lines, status, err = guest.rest()
        thread.join(5)
    assert status == 0, err
    assert lines == ["nodelay 0 keepalive 0", f"remote 127.0.0.1:{port}", "reply HELLO FROM WASM"]


def test_udp_both_ways():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(15)
        port = peer.getsockname()[1]
        grants = ["--allow-connect", f"udp:127.0.0.1:{port}", "--listen", "udp:127.0.0.1:0"]
        with Guest(grants, "udp", port) as guest:
            bound = guest.line()
            assert bound.startswith("bind 0 port ")
            guest_port = int(bound.split()[-1])
            assert guest.line() == "sent 4"
            data, sender = peer.recvfrom(100)
            assert (data, sender) == (b"ping", ("127.0.0.1", guest_port))
            peer.sendto(b"pong", sender)
            assert guest.line() == f"got pong length 4 truncated 0 from port {port}"
            peer.sendto(b"0123456789abcdefXYZ-the-rest-is-cut", sender)
            assert guest.line() == f"got 0123456789abcdef length 16 truncated 1 from port {port}"
            assert guest.line() == "connect 0 write 8"
            assert peer.recvfrom(100) == (b"fd_write", sender)
            lines, status, err = guest.rest()
    assert status == 0 and lines == [], err


def test_refused_destinations_and_bad_arguments():
    denied, closed = free_port(), free_port()
    grants = ["--allow-connect", f"127.0.0.1:{closed}", "--listen", f"tcp:127.0.0.1:{closed}"]
    with Guest(grants, "refused", denied, closed) as guest:
        lines, status, err = guest.rest()
    assert status == 0, err
    assert lines == [
        "connect denied 2",          # acces: not granted, nothing sent
        "connect closed 14",         # granted, nobody listening: connrefused
        "bind denied 2",             # acces: the port is not a --listen grant
        "listen unbound 17",         # destaddrreq
        "connect ipv6 on ipv4 5",    # afnosupport
        "connect bad case 28",       # inval: the variant's case is 0 or 1
        "send-to denied -2",         # acces
        "send-to fault -21",         # fault: data outside the memory
        "recv-from fault 21",        # fault: buffer outside the memory
        "recv-from tcp 58",          # notsup: recv-from is for UDP
        "listen udp 58",             # notsup
        "nodelay udp 50",            # noprotoopt
        "keepalive bad 28",          # inval: interval 0 with keepalive on
        "take-error stdout 57",      # notsock
        "take-error closed fd 8",    # badf
        "accept not listening 28",   # inval
        "open bad family -28",
        "open bad flags -28",
    ]


def test_no_grant_no_socket():
    with Guest([], "nogrants") as guest:
        lines, status, err = guest.rest()
    assert (lines, status) == (["open tcp errno 2"], 0), err


def test_a_return_area_outside_memory_traps():
    with Guest(LISTEN, "badret") as guest:
        lines, status, err = guest.rest()
    assert (lines, status) == ([], 70)
    assert "out of bounds memory access" in err


def test_poll_oneoff_on_several_sockets():
    with Guest(LISTEN, "poll") as guest:
        port = guest.port()
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        assert guest.line() == "accepted 3"
        conns[1].sendall(b"hello")
        assert guest.line() == "ready 1/5"          # only connection 1, with its 5 bytes
        conns[2].close()                              # EOF on 2: readable, 0 bytes
        assert guest.line() in ("ready 2/0", "ready 2/0h")
        extra = socket.create_connection(("127.0.0.1", port))  # a connection waiting on the listener
        assert re.fullmatch(r"ready 3/\d+", guest.line())
        assert guest.line() == "second accept 6"     # again: nothing more waiting (non-blocking)
        lines, status, err = guest.rest()
        for c in (*conns, extra):
            c.close()
    assert (lines, status) == ([], 0), err


def test_nonblocking_connect_and_take_error():
    closed = free_port()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with Guest(["--allow-connect", "127.0.0.1:*"], "nbconnect", port, closed) as guest:
            # inprogress (26); writable; take-error connrefused (14), then cleared.
            assert guest.line() == "connect 26 poll 0 events 1 take-error 14 then 0"
            assert guest.line() == "connect 26 poll 0 events 1 take-error 0 then 0"
            assert guest.line() in ("connect after 0 then 30", "connect after 30 then 30")  # isconn
            assert guest.line() == "blocking 0"
            assert guest.line() == "timeouts 0"
            assert guest.line() == "read -1 errno 6"        # the 200 ms receive timeout: again
            rest, status, err = guest.rest()
    assert rest == []
    assert status == 0, err


def test_resolve_and_grants_by_name():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        grants = ["--resolve", "sensor.test=10.9.8.7", "--resolve", "granted.test=127.0.0.1",
                  "--allow-connect", f"granted.test:{port}"]
        with Guest(grants, "resolve", port) as guest:
            lines, status, err = guest.rest()
    assert status == 0, err
    by_name = {line.split("'")[1]: line.split("' ")[1] for line in lines if line.startswith("resolve '")}
    assert by_name["10.1.2.3"] == "1 first 0 10.1.2.3"          # numeric: no resolver asked
    assert by_name["sensor.test"] == "1 first 0 10.9.8.7"       # the static table
    assert by_name["localhost"].split()[0] in ("1", "2")        # the host's resolver
    assert by_name["no-such-host.invalid"].startswith("-44 ")   # noent
    assert by_name[""].startswith("-28 ")                        # inval
    assert by_name["::1"] == "1 first 1 0.0.0.0"                 # IPv6: case 1, first group 0
    assert "long -37" in lines and "bad utf8 -25" in lines and "fault -21" in lines
    assert "connect before 2" in lines                            # acces until resolve named it
    assert "connect after 0" in lines


# --- grants on the command line --------------------------------------------------------------------

GOOD = ["127.0.0.1:80", "tcp:10.0.0.0/8:*", "udp:*:5000-5999", "[::1]:443", "[fd00::/8]:1-2",
        "example.com:443", "*:*"]
BAD = ["127.0.0.1", "127.0.0.1:99999", "127.0.0.1:9-1", "::1:80", "[127.0.0.1]:80", "10.0.0.0/33:1",
       "bad_host!:1", ":80", "[::1:80", "sctp:1.2.3.4:5"]


@pytest.mark.parametrize("spec", GOOD)
def test_good_grants_parse_in_python_and_in_the_runtime(spec):
    assert check_grant(spec) == spec
    with Guest(["--allow-connect", spec], "nogrants") as guest:
        lines, status, err = guest.rest()
    # A UDP-only grant gives no TCP socket (acces); the others do.
    assert (lines, status) == (["open tcp errno 2" if spec.startswith("udp:") else "open tcp fd 3"], 0), err


@pytest.mark.parametrize("spec", BAD)
def test_bad_grants_are_one_line_in_python_and_in_the_runtime(spec):
    with pytest.raises(SocketGrantError):
        check_grant(spec)
    result = subprocess.run([str(socktool()), "--allow-connect", spec, "--", "socktool.wasm", "nogrants"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("runner: --allow-connect: ") and result.stderr.count("\n") == 1


def test_waft_run_refuses_a_bad_grant_in_one_line():
    result = subprocess.run([sys.executable, "-c", "import sys; from waftkit.cli import main; sys.exit(main())",
                             "run", str(socktool_wasm()), "--allow-connect", "10.0.0.1", "nogrants"],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "--allow-connect 10.0.0.1" in result.stderr
