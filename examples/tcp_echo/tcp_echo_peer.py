"""The TCP echo example's peer for `scons test`: clients that check every byte comes back.

`check(port)` connects to 127.0.0.1:PORT (QEMU's forward to the board, or the
host program), retrying while the server boots, and runs CONNECTIONS clients:
round trips of 1 B to 16 KiB, and two clients at once whose data must not mix.
It returns the problems it found (empty: the server echoed everything).
"""

from __future__ import annotations

import os
import socket
import time

SIZES = (1, 100, 1460, 16384)
CONNECTIONS = len(SIZES) + 2  # the program exits after this many


def _connect(port: int, deadline: float) -> socket.socket:
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=20)
            return conn
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


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
    for size in SIZES:
        data = os.urandom(size)
        with _connect(port, deadline) as conn:
            # QEMU's forward accepts before the board does: an echo that never comes is a failure.
            if _echo(conn, data) != data:
                problems.append(f"{size} bytes did not come back intact")
    a, b = _connect(port, deadline), _connect(port, deadline)
    with a, b:
        if _echo(a, b"first") != b"first" or _echo(b, b"second") != b"second" or _echo(a, b"again") != b"again":
            problems.append("two clients at once: their data mixed or went missing")
    return problems
