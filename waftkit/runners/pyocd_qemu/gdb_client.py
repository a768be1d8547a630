"""A small client for the GDB remote serial protocol, enough to drive QEMU's GDB stub.

Why write one: pyOCD's own GDB code (pyocd/gdbserver) is a *server* that a
debugger connects to; the QEMU-backed probe needs the other end, a client
that connects to QEMU's `-gdb tcp::PORT` stub.  The protocol subset used here
is small: `?`, `p`/`P` (one register), `m`/`M` (memory), `c`/`s` with
asynchronous stop replies, `Z0`/`Z1`/`z0`/`z1` (breakpoints), `qRcmd`
(monitor commands such as `system_reset`) and `qXfer:features:read` (the
register numbering QEMU uses for this CPU).

Acknowledgements are switched off with QStartNoAckMode when the stub agrees,
which QEMU's does: TCP is already reliable and acks double the round trips.
"""

from __future__ import annotations

import re
import select
import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass


class GdbError(Exception):
    """The stub answered with an error, hung up, or said something unexpected."""


@dataclass(frozen=True)
class StopReply:
    """Why the target stopped: a signal (`T05`...), or it exited (`W`/`X`)."""

    signal: int | None
    exited: bool = False
    exit_status: int | None = None


def _checksum(payload: bytes) -> bytes:
    return b"%02x" % (sum(payload) & 0xFF)


def _escape(payload: bytes) -> bytes:
    """Escape the bytes the protocol reserves (`$ # } *`) as `}` + byte ^ 0x20."""
    out = bytearray()
    for b in payload:
        if b in b"$#}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def _unescape_rle(payload: bytes) -> bytes:
    """Undo `}` escapes and `*` run-length encoding in a received packet."""
    out = bytearray()
    i = 0
    while i < len(payload):
        b = payload[i]
        if b == 0x7D:
            out.append(payload[i + 1] ^ 0x20)
            i += 2
        elif b == 0x2A and out:  # '*': repeat the previous byte (count - 29) more times
            out += bytes((out[-1],)) * (payload[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


class GdbRemote:
    """One connection to a GDB stub: synchronous requests, plus a running/stopped state."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._timeout = timeout
        self._buf = bytearray()
        self._ack = True
        self.running = False
        self.last_stop: StopReply | None = None
        if self.request(b"QStartNoAckMode") == b"OK":
            self._ack = False

    # ---- framing -------------------------------------------------------------------

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    def _send_packet(self, payload: bytes) -> None:
        body = _escape(payload)
        self._sock.sendall(b"$" + body + b"#" + _checksum(body))
        if self._ack:
            self._expect_ack()

    def _expect_ack(self) -> None:
        while True:
            if not self._buf:
                self._fill(self._timeout)
            ch = self._buf[:1]
            del self._buf[:1]
            if ch == b"+":
                return
            if ch == b"-":
                raise GdbError("stub asked for a retransmission (corrupted packet)")

    def _fill(self, timeout: float | None) -> bool:
        """Read what the socket has; False when nothing came within `timeout`."""
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(65536)
        except (socket.timeout, BlockingIOError):
            return False
        if not data:
            raise GdbError("the GDB stub closed the connection (did QEMU exit?)")
        self._buf += data
        return True

    def _take_packet(self) -> bytes | None:
        """One complete packet from the buffer, if there is one (acks and noise skipped)."""
        start = self._buf.find(b"$")
        if start < 0:
            self._buf.clear()
            return None
        end = self._buf.find(b"#", start)
        if end < 0 or len(self._buf) < end + 3:
            del self._buf[:start]
            return None
        body = bytes(self._buf[start + 1:end])
        del self._buf[:end + 3]
        if self._ack:
            self._sock.sendall(b"+")
        return _unescape_rle(body)

    def _receive(self, timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            packet = self._take_packet()
            if packet is not None:
                # 'O' packets carry the stub's console output; they never answer a request.
                if packet.startswith(b"O") and not packet.startswith(b"OK") and len(packet) > 1:
                    continue
                return packet
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise GdbError("timed out waiting for the GDB stub")
            self._fill(left)

    def request(self, payload: bytes) -> bytes:
        """Send a request and return its reply; raises GdbError on `Enn`."""
        if self.running:
            raise GdbError(f"request {payload[:20]!r} while the target runs")
        self._send_packet(payload)
        reply = self._receive(self._timeout)
        if re.fullmatch(rb"E[0-9a-fA-F]{2}", reply):
            raise GdbError(f"stub refused {payload[:40]!r}: {reply.decode()}")
        return reply

    # ---- run control ---------------------------------------------------------------

    @staticmethod
    def _parse_stop(reply: bytes) -> StopReply:
        kind = reply[:1]
        if kind in (b"T", b"S"):
            return StopReply(int(reply[1:3], 16))
        if kind == b"W":
            return StopReply(None, exited=True, exit_status=int(reply[1:3], 16))
        if kind == b"X":
            return StopReply(int(reply[1:3], 16), exited=True)
        raise GdbError(f"unexpected stop reply {reply!r}")

    def query_stop(self) -> StopReply:
        self.last_stop = self._parse_stop(self.request(b"?"))
        return self.last_stop

    def cont(self) -> None:
        """Resume; the stop reply is collected later by poll_stop() or wait_stop()."""
        self._send_packet(b"c")
        self.running = True

    def step(self) -> StopReply:
        self._send_packet(b"s")
        self.running = True
        return self.wait_stop(self._timeout)

    def interrupt(self) -> StopReply:
        """Stop a running target (the out-of-band ^C byte) and wait for it to report."""
        if not self.running:
            return self.last_stop or self.query_stop()
        self._sock.sendall(b"\x03")
        return self.wait_stop(self._timeout)

    def poll_stop(self, wait: float = 0.0) -> StopReply | None:
        """The stop reply if the running target has stopped, waiting at most `wait` seconds."""
        if not self.running:
            return self.last_stop
        ready, _, _ = select.select([self._sock], [], [], wait)
        if ready:
            self._fill(0)
        packet = self._take_packet()
        while packet is not None and packet.startswith(b"O") and packet != b"OK":
            packet = self._take_packet()
        if packet is None:
            return None
        return self._stopped(packet)

    def wait_stop(self, timeout: float | None) -> StopReply:
        return self._stopped(self._receive(timeout))

    def _stopped(self, packet: bytes) -> StopReply:
        self.running = False
        self.last_stop = self._parse_stop(packet)
        return self.last_stop

    # ---- registers and memory --------------------------------------------------------

    def read_register(self, regnum: int) -> bytes:
        return bytes.fromhex(self.request(b"p%x" % regnum).decode())

    def write_register(self, regnum: int, value: bytes) -> None:
        reply = self.request(b"P%x=%s" % (regnum, value.hex().encode()))
        if reply != b"OK":
            raise GdbError(f"writing register {regnum}: {reply!r}")

    def read_memory(self, addr: int, length: int) -> bytes:
        out = bytearray()
        while length > 0:
            chunk = min(length, 0x800)  # QEMU's packet buffer holds 4 KiB of hex
            data = bytes.fromhex(self.request(b"m%x,%x" % (addr, chunk)).decode())
            if len(data) != chunk:
                raise GdbError(f"short read at {addr:#x}")
            out += data
            addr += chunk
            length -= chunk
        return bytes(out)

    def write_memory(self, addr: int, data: bytes) -> None:
        for off in range(0, len(data), 0x700):
            chunk = data[off:off + 0x700]
            reply = self.request(b"M%x,%x:%s" % (addr + off, len(chunk), chunk.hex().encode()))
            if reply != b"OK":
                raise GdbError(f"writing memory at {addr + off:#x}: {reply!r}")

    def set_breakpoint(self, addr: int, hardware: bool = False) -> None:
        # kind 2: a 16-bit Thumb instruction (the only kind Cortex-M has at a breakpoint).
        reply = self.request(b"Z%d,%x,2" % (1 if hardware else 0, addr))
        if reply != b"OK":
            raise GdbError(f"stub cannot set a breakpoint at {addr:#x} ({reply!r})")

    def clear_breakpoint(self, addr: int, hardware: bool = False) -> None:
        self.request(b"z%d,%x,2" % (1 if hardware else 0, addr))

    def monitor(self, command: str) -> str:
        """Run a monitor (QEMU HMP) command; returns what it printed."""
        self._send_packet(b"qRcmd," + command.encode().hex().encode())
        text = bytearray()
        while True:
            # Output arrives as O-packets before the final OK, so read raw packets here.
            while (packet := self._take_packet()) is None:
                self._fill(self._timeout)
            if packet.startswith(b"O") and packet != b"OK":
                text += bytes.fromhex(packet[1:].decode())
                continue
            if packet == b"OK" or not packet:
                return text.decode(errors="replace")
            if re.fullmatch(rb"E[0-9a-fA-F]{2}", packet):
                raise GdbError(f"monitor {command!r} failed: {packet.decode()}")
            return text.decode(errors="replace") + _hex_or_text(packet)

    def register_map(self) -> dict[str, tuple[int, int]]:
        """name -> (gdb register number, size in bits), from the stub's target description."""
        regs: dict[str, tuple[int, int]] = {}
        pending = ["target.xml"]
        seen: set[str] = set()
        while pending:
            annex = pending.pop(0)  # in document order: implicit numbers follow it
            if annex in seen:
                continue
            seen.add(annex)
            text = self._xfer_features(annex)
            # QEMU's target.xml uses xi:include without declaring the prefix: find them textually.
            pending += re.findall(r'<xi:include\s+href="([^"]+)"', text)
            root = ET.fromstring(re.sub(r"<xi:include[^>]*/>", "", text))
            features = [root] if root.tag == "feature" else list(root.iter("feature"))
            for feature in features:
                self._collect_regs(feature, regs)
        return regs

    @staticmethod
    def _collect_regs(feature: ET.Element, regs: dict[str, tuple[int, int]]) -> None:
        # Without regnum a register takes the number after the previous one, across features.
        nxt = max((n for n, _ in regs.values()), default=-1) + 1
        for reg in feature.iter("reg"):
            num = int(reg.get("regnum", nxt))
            regs[reg.get("name", "").lower()] = (num, int(reg.get("bitsize", "32")))
            nxt = num + 1

    def _xfer_features(self, annex: str) -> str:
        data = bytearray()
        while True:
            reply = self.request(b"qXfer:features:read:%s:%x,%x" % (annex.encode(), len(data), 0x800))
            data += reply[1:]
            if reply[:1] == b"l":
                return data.decode()
            if reply[:1] != b"m":
                raise GdbError(f"cannot read target description {annex}: {reply[:40]!r}")


def _hex_or_text(packet: bytes) -> str:
    try:
        return bytes.fromhex(packet.decode()).decode(errors="replace")
    except ValueError:
        return packet.decode(errors="replace")
