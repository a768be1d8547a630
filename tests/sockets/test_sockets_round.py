"""One Wasm program (programs/sockround.c) through every sockets scenario, on the host and on mps2-an386 (lwIP).

The same module runs natively linked on the host (BSD sockets) and in a
firmware on the emulated board (lwIP on the LAN9118, behind QEMU's
loopback-only forward): a TCP echo server taking round trips from 1 byte to
64 KiB, 20 sequential connections, a peer that resets mid-transfer, garbage,
a half-open peer (dropped after its 2 s receive timeout), a bounded flood of
connect-and-vanish attempts, and an honest peer after all of them; then
poll_oneoff over three connections and the listener, a client to a pytest
server, a refused and a forbidden destination, and a UDP round trip.  One
run per target (QEMU boots once).  On the board lwIP's pools are printed
after the program ended: every pool back to empty (but the pcbs that TIME_WAIT
holds by design) and no allocation failure, so a leak fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from aot.errors import TargetError
from waftkit.firmware import lwip
from waftkit.runners.qemu import PortForward

HERE = os.path.dirname(__file__)
import sys

sys.path.insert(0, HERE)
from round_harness import BOARD, BOARD_PEER, board_firmware, host_program, program_wasm, start_board, start_host
from sockets_harness import echo_to

SIZES = [1, 7, 1000, 1460, 4096, 16384, 65536]
SEQUENTIAL = 20
FLOOD = 30
ACCES, CONNREFUSED, AGAIN, INPROGRESS = 2, 14, 6, 26


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peers:
    """pytest's side of the client phase: a TCP server that answers "reply:" + what it got, a UDP one "pong"."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(60)
        self.tcp.settimeout(60)
        self.closed = free_port()
        self.denied = free_port()
        threading.Thread(target=self._tcp, daemon=True).start()
        threading.Thread(target=self._udp, daemon=True).start()

    def _tcp(self) -> None:
        try:
            conn, _ = self.tcp.accept()
        except OSError:
            return
        with conn:
            data = bytearray()
            while chunk := conn.recv(4096):
                data += chunk
            conn.sendall(b"reply:" + bytes(data))

    def _udp(self) -> None:
        try:
            data, peer = self.udp.recvfrom(100)
            self.udp.sendto(b"pong:" + data, peer)
        except OSError:
            pass

    def ports(self) -> tuple[int, int, int, int]:
        return self.tcp.getsockname()[1], self.closed, self.denied, self.udp.getsockname()[1]

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


def _echo(port: int, data: bytes) -> bytes:
    return echo_to(port, data, timeout=60)


def _echo_once_served(port: int, data: bytes, within: float) -> bytes:
    """`_echo`, retried while the connection is refused or reset, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return _echo(port, data)
        except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _reset(conn: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a crashed peer does."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def drive(guest, port: int, peer: str) -> list[str]:
    """Every scenario against the running guest; returns its lines after "done" and checks its status."""
    assert guest.line(timeout=60) == f"port {port}"
    # 1. echo
    for size in SIZES:
        data = os.urandom(size)
        assert _echo(port, data) == data, size
    for i in range(SEQUENTIAL):
        assert _echo(port, b"sequential %d" % i) == b"sequential %d" % i
    # a peer that disconnects mid-transfer: 32 KiB out, nothing read back, then a reset
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(os.urandom(8192))
    time.sleep(0.2)
    _reset(conn)
    # garbage, then gone
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(bytes(range(256)) * 8)
    _reset(conn)
    # half-open: connects, says nothing and stays; the guest drops it after 2 s, the next peer gets served
    half_open = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert _echo(port, b"after the half-open peer") == b"after the half-open peer"
    half_open.close()
    # a flood: FLOOD connections opened and reset at once, bounded in count and time
    started = time.monotonic()
    for _ in range(FLOOD):
        try:
            _reset(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            pass  # refused or reset while the guest's backlog was full: what a flood gets
    assert time.monotonic() - started < 30
    # The server serves honest clients again once the flood is over: while the guest is still
    # accepting and dropping the flood's connections (seconds on a loaded machine), a new one may be
    # refused or reset too -- so within a bounded time, not on the first try.
    assert _echo_once_served(port, b"honest after the flood", within=60) == b"honest after the flood"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"quit")
        conn.recv(1)
    summary = re.fullmatch(r"echo served (\d+) errors (\d+) idle (\d+) bytes (\d+)", guest.line(timeout=60))
    assert summary, guest.seen
    served, _errors, idle, _bytes = map(int, summary.groups())
    assert served >= len(SIZES) + SEQUENTIAL + 2 and idle >= 1, guest.seen
    # 2. poll_oneoff over three connections and the listener
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(3)]
    assert guest.line() == "accepted 3"
    conns[1].sendall(b"hello")
    assert guest.line() == "ready 1/5"
    conns[2].close()
    assert guest.line() in ("ready 2/0", "ready 2/0h")
    extra = socket.create_connection(("127.0.0.1", port), timeout=30)
    assert re.fullmatch(r"ready 3/\d+", guest.line())
    assert guest.line() == f"second accept {AGAIN}"
    for c in (*conns, extra):
        c.close()
    # 3. client, refused, forbidden
    assert guest.line() == "reply reply:hello from the guest"
    assert guest.line() == f"connect closed before resolve {ACCES}"  # granted by a name nobody resolved yet
    assert guest.line() == f"resolve peer.test 0 count 1 first {peer}"   # the static name table
    assert guest.line() == f"connect closed {CONNREFUSED}"
    assert guest.line() == f"nonblocking connect {INPROGRESS} poll 0 events 1 take-error {CONNREFUSED} then 0"
    assert guest.line() == f"connect denied {ACCES}"
    # 4. UDP
    udp = re.fullmatch(r"udp sent 4 got pong:ping length 9 from port (\d+)", guest.line())
    assert udp, guest.seen
    # 5. every socket's fd came back: the next one is fd 3 again
    assert guest.line() == "next fd 3"
    assert guest.line() == "done"
    lines, status, err = guest.rest()
    assert status == 0, (lines, err)
    return lines


def test_every_scenario_on_the_host():
    from wasi_harness import require_tools

    require_tools()
    host_program("sockround")
    peers = Peers()
    try:
        peer_port, closed, denied, udp_port = peers.ports()
        port = free_port()
        grants = ["--listen", f"tcp:127.0.0.1:{port}", "--allow-connect", f"tcp:127.0.0.1:{peer_port}",
                  "--allow-connect", f"tcp:peer.test:{closed}", "--resolve", "peer.test=127.0.0.1",
                  "--allow-connect", f"udp:127.0.0.1:{udp_port}"]
        args = ["127.0.0.1", port, "127.0.0.1", peer_port, closed, denied, udp_port]
        with start_host("sockround", grants, [str(a) for a in args]) as guest:
            assert drive(guest, port, "127.0.0.1") == []
    finally:
        peers.close()


@pytest.mark.qemu
def test_every_scenario_on_mps2_an386_over_lwip(tmp_path):
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    try:
        lwip.source_dir()
    except TargetError as exc:
        pytest.skip(str(exc))
    peers = Peers()
    try:
        peer_port, closed, denied, udp_port = peers.ports()
        port = free_port()
        args = ["0.0.0.0", port, BOARD_PEER, peer_port, closed, denied, udp_port]
        elf = board_firmware("sockround", [str(a) for a in args], [f"tcp:*:{port}"],
                             [f"tcp:{BOARD_PEER}:{peer_port}", f"tcp:peer.test:{closed}",
                              f"udp:{BOARD_PEER}:{udp_port}"], tmp_path, resolve=[f"peer.test={BOARD_PEER}"])
        with start_board(elf, (PortForward(port, port),)) as guest:
            report = drive(guest, port, BOARD_PEER)
    finally:
        peers.close()
    check_pools(report)


def check_pools(report: list[str]) -> None:
    """lwIP's report (port_lwip.c, waft_net_report): nothing held, nothing failed, no frame dropped for want of a buffer."""
    text = "\n".join(report)
    nic = re.search(r"^lwip: nic rx (\d+) dropped (\d+) errors (\d+) tx (\d+)$", text, re.MULTILINE)
    assert nic and int(nic.group(1)) > 0, text
    assert re.search(r"^lwip: mem used 0 max \d+ err 0$", text, re.MULTILINE), text
    time_wait = int(re.search(r"^lwip: tcp time-wait (\d+)$", text, re.MULTILINE).group(1))
    assert re.search(r"^lwip: sockets open 0$", text, re.MULTILINE), text
    pools = {m.group(1): tuple(map(int, m.groups()[1:]))
             for m in re.finditer(r"^lwip: pool (\w+) used (\d+) max (\d+) avail (\d+) err (\d+)$", text, re.MULTILINE)}
    assert {"TCP_PCB", "TCP_PCB_LISTEN", "UDP_PCB", "TCP_SEG", "PBUF_POOL", "PBUF"} <= pools.keys(), text
    for name, (used, _max, _avail, err) in pools.items():
        if name == "SYS_TIMEOUT":
            continue  # lwIP's own cyclic timers hold their entries for good
        if name == "TCP_PCB":  # an active close holds its pcb in TIME_WAIT for a while, by design
            assert used <= time_wait, f"{used} TCP pcbs held, {time_wait} of them in TIME_WAIT: {text}"
        else:
            assert used == 0, f"pool {name} still holds {used} after the run: {text}"
        if name != "TCP_PCB":  # a full pcb pool under the flood is lwIP refusing connections, as designed
            assert err == 0, f"pool {name} ran out: {text}"


def _waft(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit.cli", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.mark.qemu
def test_waft_run_on_the_board_forwards_the_listen_grant(tmp_path):
    """`waft run --target mps2-an386 --listen tcp:*:P --allow-connect ...`: the grants are baked into the
    firmware and QEMU forwards 127.0.0.1:P to the board's P; the program echoes, then reaches pytest."""
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    peers = Peers()
    try:
        peer_port = peers.ports()[0]
        port = free_port()
        wasm = program_wasm("sockround")
        proc = subprocess.Popen([sys.executable, "-m", "waftkit.cli", "run", "--target", BOARD,
                                 "--listen", f"tcp:*:{port}", "--allow-connect", f"tcp:{BOARD_PEER}:{peer_port}",
                                 str(wasm), "--", "echo-once", "0.0.0.0", str(port), BOARD_PEER, str(peer_port)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # waft run passes the board's output on when it ends, so the only sign of the listener is
            # the echo: until the board listens, QEMU's forward takes the connection and drops it.
            deadline = time.monotonic() + 120
            echoed = b""
            while echoed != b"through waft run" and time.monotonic() < deadline and proc.poll() is None:
                try:
                    echoed = _echo(port, b"through waft run")
                except OSError:
                    echoed = b""
                if echoed != b"through waft run":
                    time.sleep(0.3)
            assert echoed == b"through waft run", proc.stderr.read() if proc.poll() is not None else "no echo"
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        peers.close()
    assert proc.returncode == 0, err
    assert out == f"port {port}\nreply reply:hello from the guest\n", (out, err)


def test_waft_run_refuses_bad_board_socket_options():
    """One line and a non-zero status: grants for a module without sockets, a forward too wide."""
    hello = program_wasm("sockround")
    wide = _waft("run", "--target", BOARD, "--listen", "tcp:*:1000-2000", str(hello), "--", "x", timeout=120)
    assert wide.returncode != 0 and "at most 16 ports" in wide.stderr and "Traceback" not in wide.stderr, wide.stderr
    assert len(wide.stderr.strip().splitlines()) == 1, wide.stderr


@pytest.mark.qemu
def test_a_socket_call_in_an_immediate_handler_is_perm(tmp_path):
    """lwIP is not re-entrant: from an immediate handler (the NVIC vector runs the Wasm export) every sockets
    call answers perm before touching the stack (docs/wasi-ext.md)."""
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc", "wat2wasm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    wasm = tmp_path / "irq_socket.wasm"
    subprocess.run(["wat2wasm", os.path.join(HERE, "programs", "irq_socket.wat"), "-o", str(wasm)], check=True)
    result = _waft("run", "--target", BOARD, "--grant", "irq=soft:0@on_irq", "--allow-connect",
                   f"tcp:{BOARD_PEER}:9", str(wasm))
    assert result.returncode == 63, (result.returncode, result.stderr)  # WASI errno perm


def test_sockets_with_threads_on_a_board_is_one_line(tmp_path):
    """lwIP runs NO_SYS in the calling thread: a module using threads and sockets is refused on a board."""
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    wat = tmp_path / "both.wat"
    wat.write_text('(module (import "wasi-ext:threads/threads@0.1.0" "sleep-until" (func (param i64) (result i32)))\n'
                   ' (import "wasi-ext:sockets/sockets@0.1.0" "open" (func (param i32 i32 i32 i32)))\n'
                   ' (memory (export "memory") 1) (func (export "_start")))\n')
    wasm = tmp_path / "both.wasm"
    subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
    result = _waft("run", "--target", BOARD, "--allow-connect", f"tcp:{BOARD_PEER}:9", str(wasm))
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "lwIP runs in one thread" in result.stderr, result.stderr
