"""Start the sockets test program (programs/socktool.c) on the host and talk to it line by line.

The program is built once per session the way `waft run` builds it
(tests/wasi/wasi_harness.py: clang + wasi-libc, then
waftkit.run.build_host_program), and run directly with its grants, so a test
costs a process start, not a compile.  `Guest.line()` waits for the next line
with a deadline, so a guest that stops talking fails the test instead of
hanging it.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path

from aot.targets import load_target
from waftkit.run import RunOptions, build_host_program

HERE = Path(__file__).resolve().parent
# One way to build a WASI test program: the WASI tests' own harness (tests/ is no package).
sys.path.insert(0, str(HERE.parent / "wasi"))
from wasi_harness import MEMORY_CAP_PAGES, _build_root, build_wasm

SOCKTOOL = HERE / "programs" / "socktool.c"


@cache
def socktool_wasm() -> Path:
    return build_wasm(SOCKTOOL)


@cache
def socktool() -> Path:
    """The host executable of socktool.wasm (linked with runtime_c/sockets)."""
    options = RunOptions(memory_cap_pages=MEMORY_CAP_PAGES)
    return build_host_program(socktool_wasm().read_bytes(), load_target("host"), options, "socktool.wasm",
                              cache=_build_root() / "waft-run")


class Running:
    """A started program: its lines with a deadline, its exit status and the rest of its output."""

    def __init__(self, command: list[str], line_timeout: float = 30, rest_timeout: float = 60) -> None:
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.line_timeout, self.rest_timeout = line_timeout, rest_timeout
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float | None = None) -> str:
        """The next line; a guest that says nothing within the deadline, or ends, fails the test."""
        timeout = self.line_timeout if timeout is None else timeout
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from the guest within {timeout} s; so far: {self.seen}") from None
        if line is None:
            raise AssertionError(f"the guest ended (status {self.proc.wait()}): {self.seen} "
                                 f"{self.proc.stderr.read()}")
        self.seen.append(line)
        return line

    def port(self) -> int:
        """The port of the guest's "port P" line."""
        line = self.line()
        assert line.startswith("port "), line
        return int(line.split()[1])

    def rest(self, timeout: float | None = None) -> tuple[list[str], int, str]:
        """Every remaining line, the exit status and stderr."""
        status = self.proc.wait(timeout=self.rest_timeout if timeout is None else timeout)
        lines = []
        while (line := self.lines.get(timeout=5)) is not None:
            lines.append(line)
        return lines, status, self.proc.stderr.read()

    def __enter__(self) -> Running:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Guest(Running):
    """One run of socktool with `grants` (runner options) and the scenario `args`."""

    def __init__(self, grants: list[str], *args: str | int) -> None:
        super().__init__([str(socktool()), *grants, "--", "socktool.wasm", *map(str, args)],
                         line_timeout=15, rest_timeout=30)


def echo_over(conn: socket.socket, data: bytes) -> bytes:
    """Send `data` on `conn` and close the sending side, while reading until the peer closes: what came back."""
    sender = threading.Thread(target=lambda: (conn.sendall(data), conn.shutdown(socket.SHUT_WR)))
    sender.start()
    received = bytearray()
    while chunk := conn.recv(65536):
        received += chunk
    sender.join()
    return bytes(received)


def echo_to(port: int, data: bytes, timeout: float) -> bytes:
    """`echo_over` a new connection to 127.0.0.1:`port`."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        return echo_over(conn, data)
