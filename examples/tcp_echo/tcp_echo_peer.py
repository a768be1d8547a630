"""The TCP echo example's peer for `scons test`: clients that check every byte comes back.

`check(port)` connects to 127.0.0.1:PORT (QEMU's forward to the board, or the
host program), probing until the server echoes (it may still be booting),
then runs the other clients: round trips of 1 B to 16 KiB, and two clients at
once whose data must not mix.
It returns the problems it found (empty: the server echoed everything).
"""

from __future__ import annotations

import os
import socket
import time

SIZES = (1, 100, 1460, 16384)
CONNECTIONS = 1 + len(SIZES) + 2  # the program exits after this many: the probe, the sizes, the pair


def _connect(port: int, deadline: float) -> socket.socket:
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=20)
            return conn
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _probe(port: int, deadline: float) -> None:
    """Wait until the server echoes.  QEMU's forward accepts a connection before the board listens and
    drops it once the board refuses it, so a connection alone proves nothing; one the server never
    accepted does not count among its CONNECTIONS."""
    while True:
        try:
            with _connect(port, deadline) as conn:
                if _echo(conn, b"?") == b"?":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the server never echoed")
        time.sleep(0.2)


def _echo(conn: socket.socket, data: bytes) -> bytes:
    conn.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    return bytes(got)


def check(port: int) -> list[str]:
    problems = []
    deadline = time.monotonic() + 60
    _probe(port, deadline)
    for size in SIZES:
        data = os.urandom(size)
        with _connect(port, deadline) as conn:
            if _echo(conn, data) != data:
                problems.append(f"{size} bytes did not come back intact")
    a, b = _connect(port, deadline), _connect(port, deadline)
    with a, b:
        if _echo(a, b"first") != b"first" or _echo(b, b"second") != b"second" or _echo(a, b"again") != b"again":
            problems.append("two clients at once: their data mixed or went missing")
    return problems
