"""lwIP on mps2-an386 under QEMU, natively (no Wasm yet): the LAN9118 driver and the stack's static pools.

programs/lwip_echo.c is a C echo server on lwIP's raw API, linked by
waftkit.firmware.lwip with lwIP's source from Debian's package
(tools/build_lwip.sh).  QEMU gives the board a NIC on its user network with a
forward from 127.0.0.1 only; pytest is the peer.  After its connections the
firmware prints lwIP's pool statistics and exits: every pool must be back to
empty, with no allocation failure, so a leak or an exhausted pool fails.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aot.errors import TargetError
from aot.targets import load_target
from waftkit.firmware import lwip
from waftkit.runners.qemu import PortForward, nic_options, qemu_command

sys.path.insert(0, os.path.dirname(__file__))
from sockets_harness import echo_over  # noqa: E402

HERE = Path(__file__).resolve().parent
GUEST_PORT = 7000
SIZES = [1, 7, 1000, 1460, 4096, 16384]
SEQUENTIAL = 10
CONCURRENT = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def firmware(tmp_path_factory) -> Path:
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    try:
        lwip.source_dir()
    except TargetError as exc:
        pytest.skip(str(exc))
    out = tmp_path_factory.mktemp("lwip") / "lwip_echo.elf"
    count = len(SIZES) + SEQUENTIAL + CONCURRENT
    return lwip.link_native(load_target("mps2-an386"), HERE / "programs" / "lwip_echo.c", out,
                            [f"ECHO_PORT={GUEST_PORT}", f"ECHO_CONNECTIONS={count}"])


def test_native_echo_over_the_emulated_nic(firmware):
    host_port = free_port()
    cmd = qemu_command(load_target("mps2-an386"), firmware, forwards=(PortForward(host_port, GUEST_PORT),))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: ([lines.put(x) for x in proc.stdout], lines.put(None)), daemon=True).start()
    try:
        first = lines.get(timeout=20)
        assert first and first.startswith(f"echo on port {GUEST_PORT}, mac 52:54:00:"), (first, proc.stderr)
        for size in SIZES:
            data = os.urandom(size)
            with socket.create_connection(("127.0.0.1", host_port), timeout=20) as conn:
                assert echo_over(conn, data) == data, size
        for i in range(SEQUENTIAL):
            with socket.create_connection(("127.0.0.1", host_port), timeout=20) as conn:
                assert echo_over(conn, b"sequential %d" % i) == b"sequential %d" % i
        # Two connections open at once, their data interleaved.
        a = socket.create_connection(("127.0.0.1", host_port), timeout=20)
        b = socket.create_connection(("127.0.0.1", host_port), timeout=20)
        with a, b:
            a.sendall(b"first-")
            b.sendall(b"second-")
            a.sendall(b"done")
            b.sendall(b"done")
            assert echo_over(a, b"") == b"first-done" and echo_over(b, b"") == b"second-done"
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = []
    while (line := lines.get(timeout=5)) is not None:
        report.append(line.rstrip("\n"))
    assert status == 0, (report, proc.stderr.read())
    count = len(SIZES) + SEQUENTIAL + CONCURRENT
    served = re.match(r"served (\d+) accepted (\d+) refused (\d+) rx (\d+) dropped (\d+) tx (\d+)", report[0])
    assert served and served.group(1, 2, 3) == (str(count), str(count), "0"), report
    assert int(served.group(5)) == 0, "frames dropped for want of a pbuf"
    assert re.fullmatch(r"mem used 0 max \d+ err 0", report[1]), report
    pools = {m.group(1): m.groups()[1:] for m in map(re.compile(r"pool (\w+) used (\d+) max \d+ avail (\d+) err (\d+)").match,
                                                      report[2:]) if m}
    assert {"TCP_PCB", "TCP_SEG", "PBUF_POOL", "PBUF"} <= pools.keys(), report
    for name, (used, avail, err) in pools.items():
        assert err == "0", f"pool {name} ran out"
        if name != "SYS_TIMEOUT":  # lwIP's own cyclic timers hold their entries for good
            assert used == "0", f"pool {name} still holds {used} after the run"


def test_the_nic_forward_is_bound_to_loopback():
    assert nic_options([PortForward(17000, 7)]) == ["-nic", "user,model=lan9118,hostfwd=tcp:127.0.0.1:17000-:7"]
    with pytest.raises(TargetError, match="outside 1..65535"):
        PortForward(0, 7)
    with pytest.raises(TargetError, match="not tcp or udp"):
        PortForward(1, 7, "sctp")


def test_lwip_refuses_a_board_without_a_nic():
    with pytest.raises(TargetError, match="no network interface"):
        lwip.sources(load_target("stm32f4"))
