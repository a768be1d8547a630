"""examples/tcp_echo and examples/udp_telemetry on mps2-an386: `scons TARGET=mps2-an386 test-...` as the README says.

Their peers (each example's *_peer.py) talk to the Wasm programs over
127.0.0.1 through QEMU's forward while `scons test` runs them, so a PASS
means every echoed byte came back and the telemetry settled where the
station set it.  The host run of the same examples is part of
tests/scons/test_repo_examples.py (every example, every `scons test`); the
boards without sockets say "not built" there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")


@pytest.mark.qemu
def test_network_examples_pass_on_mps2_an386(tmp_path):
    for name in ("SConstruct", "site_scons", "examples"):
        (tmp_path / name).symlink_to(REPO / name)
    result = subprocess.run([str(SCONS), "-Q", "-j2", "TARGET=mps2-an386", "test-tcp_echo", "test-udp_telemetry"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    passed = set(re.findall(r"^PASS (\S+)$", result.stdout, re.MULTILINE))
    assert passed == {"tcp_echo.elf", "udp_telemetry.elf"}, result.stdout[-4000:]
    assert re.search(r"^tcp_echo: 7 connections, 17962 bytes echoed$", result.stdout, re.MULTILINE)
    assert re.search(r"^udp_telemetry: 150 readings sent \(0 refused\), 2 commands, temperature (39|40)\.\d ",
                     result.stdout, re.MULTILINE), result.stdout[-4000:]


def test_a_sockets_module_without_grants_is_one_line(tmp_path):
    """WaftWasiFirmware for a module importing wasi-ext:sockets but granted nothing: the build stops, saying so."""
    for name in ("SConstruct", "site_scons"):
        (tmp_path / name).symlink_to(REPO / name)
    example = tmp_path / "examples" / "ungranted"
    example.mkdir(parents=True)
    (example / "tcp_echo.c").symlink_to(REPO / "examples" / "tcp_echo" / "tcp_echo.c")
    (example / "SConscript").write_text(
        'Import("env")\n'
        'b = env.WitGuestBindings("firmware_net", "$WAFT_WASI_EXT/profiles", "firmware-net")\n'
        'w = env.WasmProgram("tcp_echo.wasm", ["tcp_echo.c", b[1]], WASM_CPPPATH=[b[0].dir])\n'
        'env.WaftWasiFirmware("tcp_echo", w, args=["1", "127.0.0.1"])\n')
    result = subprocess.run([str(SCONS), "-Q", "TARGET=host", "build/host/ungranted/tcp_echo"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode != 0
    said = [line for line in result.stdout.splitlines() if line.startswith("waft: error:")]
    assert said == ["waft: error: tcp_echo.wasm imports wasi-ext:sockets: give WaftWasiFirmware listen= or "
                    "allow_connect= grants (without any, every socket call would be acces)"], result.stdout
    assert "Traceback" not in result.stdout + result.stderr
