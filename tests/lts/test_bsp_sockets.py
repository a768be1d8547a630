"""`waft bsp` with wasi-ext:sockets: lwIP in a vendor firmware that keeps its own SysTick, on either NIC driver.

examples/tcp_echo is packaged by the real CLI (`--listen tcp:*:7`) twice:
with `--nic lan9118` (the library's driver) and with `--nic vendor` (the
vendor's own driver, examples/bsp_vendor/eth_an386.c, built against the lwIP
headers the drop-in carries, through the hooks of waft_net_nic.h).  Each is
linked by the vendor's Make project (examples/bsp_make, APP=main_net) and run
on mps2-an386 under QEMU with a host port forwarded to the board's port 7; the
example's own peer (examples/tcp_echo/tcp_echo_peer.py) checks that every
byte of its seven connections comes back.  lwIP runs NO_SYS, polled by the
socket calls on the vendor's clock hook: the drop-in still defines no vector,
no SysTick handler and no UART.  A vendor-NIC firmware without its driver does
not link, naming the hook; without a NIC choice or grants the build is
refused in one line.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bsp_harness import cmake_build, defined, tool, waft

from aot.errors import TargetError
from aot.targets import load_target
from aot.wit import load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from waftkit.firmware import lwip
from waftkit.runners.qemu import PortForward, qemu_command

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "tests" / "lts" / "bsp_sockets"
TARGET = "mps2-an386"
EXAMPLE = REPO / "examples" / "tcp_echo"
sys.path.insert(0, str(EXAMPLE))
import tcp_echo_peer as peer  # the example's own clients, importable once its folder is on the path

VENDOR_OWNED = ("Reset_Handler", "SysTick_Handler", "PendSV_Handler", "__isr_vector", "waft_console_write",
                "waft_clock_ns", "waft_board_uart_init")


@pytest.fixture(scope="module")
def wasm() -> Path:
    """examples/tcp_echo built as its SConscript builds it (bindings from firmware-net, one 64 KiB page)."""
    try:
        lwip.source_dir()
    except TargetError as exc:
        pytest.skip(str(exc))
    out = BUILD / "wasm"
    out.mkdir(parents=True, exist_ok=True)
    resolve, main = load_wit(REPO / "wasi_ext" / "profiles")
    write_bindings(generate_bindings(resolve, resolve.select_world(main, "firmware-net"), name="firmware_net"),
                   guest_dir=out)
    wasm = out / "tcp_echo.wasm"
    subprocess.run([tool("clang"), "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wall", "-Wextra",
                    "-Wl,-z,stack-size=8192", "-Wl,--initial-memory=65536", f"-I{out}", "-o", str(wasm),
                    str(EXAMPLE / "tcp_echo.c"), str(out / "firmware_net.c")], check=True)
    return wasm


ARGS = ("--arg", str(peer.CONNECTIONS), "--arg", "0.0.0.0")


def _bsp(wasm: Path, nic: str) -> Path:
    out = BUILD / f"dropin-{nic}"
    waft("bsp", str(wasm), "--target", TARGET, *ARGS, "--nic", nic, "--listen", "tcp:*:7", "-o", str(out))
    return out


@pytest.fixture(scope="module")
def dropin(wasm) -> Path:
    return _bsp(wasm, "lan9118")


@pytest.fixture(scope="module")
def vendor_nic_dropin(wasm) -> Path:
    return _bsp(wasm, "vendor")


def _make(dropin: Path, build: Path, *variables: str) -> subprocess.CompletedProcess:
    shutil.rmtree(build, ignore_errors=True)
    return subprocess.run([tool("make"), "-C", str(REPO / "examples" / "bsp_make"), f"BSP={dropin}",
                           f"BUILD={build}", "APP=main_net", *variables], capture_output=True, text=True, check=False)


def test_dropin_holds_lwip_and_the_driver_but_no_handler(dropin):
    manifest = json.loads((dropin / "manifest.json").read_text())
    assert manifest["runtime"]["features"] == ["core", "wasi_snapshot_preview1", "sockets"]
    assert (manifest["options"]["nic"], manifest["options"]["listen"]) == ("lan9118", ["tcp:*:7"])
    library = defined(dropin / "lib" / "libwaft.a")
    assert {"lwip_init", "lan9118_init", "waft_sock_port_start", "sys_now"} <= library
    assert not library & set(VENDOR_OWNED)


def test_a_vendor_nic_dropin_leaves_the_driver_to_the_firmware(vendor_nic_dropin):
    library = defined(vendor_nic_dropin / "lib" / "libwaft.a")
    assert "lwip_init" in library and not {"lan9118_init", "waft_net_nic_init", "waft_net_nic_poll"} & library
    include = vendor_nic_dropin / "include"
    for header in ("waft_net_nic.h", "lwipopts.h", "arch/cc.h", "lwip/netif.h", "netif/ethernet.h"):
        assert (include / header).is_file(), header
    assert '#include "waft_net_nic.h"' in (include / "waft_bsp.h").read_text()
    assert "WAFT_BSP_VENDOR_NIC := 1" in (vendor_nic_dropin / "waft_bsp.mk").read_text()
    assert json.loads((vendor_nic_dropin / "manifest.json").read_text())["options"]["nic"] == "vendor"


def test_a_vendor_nic_firmware_without_its_driver_does_not_link(vendor_nic_dropin):
    proc = _make(vendor_nic_dropin, BUILD / "make-no-driver", "WAFT_BSP_VENDOR_NIC=0")  # eth_an386.c left out
    assert proc.returncode != 0
    assert "undefined reference to `waft_net_nic_init'" in proc.stderr, proc.stderr


@pytest.mark.qemu
@pytest.mark.parametrize("nic", ["lan9118", "vendor"])
def test_make_vendor_firmware_echoes_every_connection(dropin, vendor_nic_dropin, nic):
    chosen = {"lan9118": dropin, "vendor": vendor_nic_dropin}[nic]
    build = BUILD / f"make-{nic}"
    proc = _make(chosen, build)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning" not in proc.stderr, proc.stderr
    linked = defined(build / "firmware.elf")
    # The driver that served: the library's (lan9118_*) or the vendor's (eth_an386.c's statics are local).
    assert ("lan9118_init" in linked) == (nic == "lan9118")
    _echo(build / "firmware.elf")


def _echo(elf: Path) -> None:
    """Run `elf` on mps2-an386 with a host port forwarded to its port 7 and the example's peer on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = qemu_command(load_target(TARGET), elf, forwards=(PortForward(port, 7),))
    qemu = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        problems = peer.check(port)
        stdout, stderr = qemu.communicate(timeout=60)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.communicate()
    assert problems == [], problems
    assert qemu.returncode == 0, stdout + stderr
    assert stdout == ("vendor BSP: Waft ABI version 1, sockets on the drop-in's lwIP\n"
                      "tcp_echo: listening on port 7\n"
                      f"tcp_echo: {peer.CONNECTIONS} connections, 17962 bytes echoed\n"
                      "tcp_echo: exit status 0\n"), stdout + stderr


@pytest.mark.parametrize("options, message", [
    (("--listen", "tcp:*:7"), "imports wasi-ext:sockets: give --nic lan9118|vendor, the NIC driver lwIP runs on"),
    (("--nic", "lan9118"), "imports wasi-ext:sockets: give --listen or --allow-connect grants"),
])
def test_sockets_without_a_driver_or_grants_are_refused(wasm, tmp_path, options, message):
    proc = waft("bsp", str(wasm), "--target", TARGET, *ARGS, *options, "-o", str(tmp_path / "out"), check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"waft: error: bsp: {wasm}: ") and message in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_socket_options_without_a_sockets_module_are_refused(tmp_path):
    core = tmp_path / "core.wasm"
    subprocess.run([tool("wat2wasm"), "-o", str(core), "-"], input=b'(module (func (export "f")))', check=True)
    proc = waft("bsp", str(core), "--target", TARGET, "--nic", "lan9118", "-o", str(tmp_path / "out"), check=False)
    assert proc.returncode == 1
    assert proc.stderr == "waft: error: bsp: --nic is for wasi-ext:sockets, but no module imports it\n"
    proc = waft("bsp", str(core), "--target", TARGET, "--listen", "tcp:*:99999", "-o", str(tmp_path / "out"),
                check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "99999" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.qemu
def test_cmake_vendor_firmware_echoes_on_its_own_driver(vendor_nic_dropin):
    build = BUILD / "cmake-vendor"
    output = cmake_build(vendor_nic_dropin, build)
    assert "eth_an386.c" in output and "lan9118_init" not in defined(build / "firmware.elf")
    _echo(build / "firmware.elf")
