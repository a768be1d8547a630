"""GDB remote protocol framing (escapes, run-length encoding, checksums) and the stub's register map."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from waftkit.runners.pyocd_qemu.gdb_client import (
    GdbRemote,
    _checksum,
    _escape,
    _unescape_rle,
)
from waftkit.runners.pyocd_qemu.probe import free_tcp_port


def test_reserved_bytes_are_escaped_and_come_back():
    raw = b"a$b#c}d*e"
    assert _escape(raw) == b"a}\x04b}\x03c}]d}\x0ae"
    assert _unescape_rle(_escape(raw)) == raw


def test_run_length_encoding_expands():
    # "0* " is '0' repeated 32 - 29 = 3 more times (the protocol's own example).
    assert _unescape_rle(b"0* ") == b"0000"


def test_checksum_is_the_byte_sum_mod_256_in_hex():
    assert _checksum(b"OK") == b"9a"
    assert _checksum(b"") == b"00"


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_register_map_and_memory_against_qemu():
    port = free_tcp_port()
    qemu = subprocess.Popen(["qemu-system-arm", "-M", "netduinoplus2", "-nographic", "-monitor", "none",
                             "-serial", "null", "-S", "-gdb", f"tcp:127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        gdb = None
        for _ in range(200):
            try:
                gdb = GdbRemote("127.0.0.1", port)
                break
            except OSError:
                import time
                time.sleep(0.02)
        assert gdb is not None
        regs = gdb.register_map()
        # The core feature comes first (r0-r15 are 0-15, xpsr 25), then the FPU's.
        assert regs["r0"] == (0, 32) and regs["pc"] == (15, 32) and regs["xpsr"] == (25, 32)
        assert regs["d0"][0] > 25 and regs["d0"][1] == 64
        gdb.write_memory(0x20000000, bytes(range(256)) * 20)  # several packets' worth
        assert gdb.read_memory(0x20000000, 5120) == bytes(range(256)) * 20
        gdb.close()
    finally:
        qemu.kill()
        qemu.wait()
