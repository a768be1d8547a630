"""lwIP for the boards: where its source is, which files Waft compiles, and linking a native C firmware on it.

The source is Debian's `lwip` source package (2.1.3, BSD), fetched by
tools/build_lwip.sh into build/toolchain/lwip (WAFT_LWIP_DIR overrides).
Waft compiles only the NO_SYS core it configures in
runtime_c/sockets/lwip/lwipopts.h (IPv4, TCP, UDP, ICMP, ARP, DHCP's code
when LWIP_DHCP is set) with the board's compiler, plus the LAN9118 driver and
the platform glue beside that lwipopts.h: no prebuilt library, so the pools
are always the ones the options say.
"""

from __future__ import annotations

import os
from pathlib import Path

from aot.errors import TargetError
from aot.package_data import RUNTIME_DIR
from aot.targets import Target
from waftkit.firmware import link as link_mod

PORT_DIR = RUNTIME_DIR / "sockets" / "lwip"
# The checkout's build folder, where tools/build_lwip.sh puts the source.
DEFAULT_SOURCE = RUNTIME_DIR.parent / "build" / "toolchain" / "lwip"

# lwIP's NO_SYS core for IPv4 (its Filelists.mk, COREFILES + CORE4FILES + the Ethernet netif).
CORE_FILES = (
    "core/init.c", "core/def.c", "core/inet_chksum.c", "core/ip.c", "core/mem.c", "core/memp.c",
    "core/netif.c", "core/pbuf.c", "core/stats.c", "core/sys.c", "core/tcp.c", "core/tcp_in.c",
    "core/tcp_out.c", "core/timeouts.c", "core/udp.c",
    "core/ipv4/etharp.c", "core/ipv4/icmp.c", "core/ipv4/ip4.c", "core/ipv4/ip4_addr.c",
    "core/ipv4/ip4_frag.c", "core/ipv4/dhcp.c",
    "netif/ethernet.c",
)
PORT_FILES = ("lan9118.c", "lwip_port.c")
# The sockets layer's network port over lwIP, for Wasm modules (sockets_port.h, and p1's socket fds).
WASM_PORT_FILES = ("port_lwip.c",)
# Boards whose NIC the driver knows (the MPS2 images' LAN9118 under QEMU).
BOARDS_WITH_NIC = ("mps2-an386", "mps2-an385")


def source_dir() -> Path:
    """lwIP's unpacked source; TargetError saying how to get it when it is missing."""
    folder = Path(os.environ.get("WAFT_LWIP_DIR", DEFAULT_SOURCE))
    if not (folder / "src" / "core" / "tcp.c").is_file():
        raise TargetError(f"lwIP's source is not in {folder}: run tools/build_lwip.sh "
                          "(it fetches Debian's `lwip` source package; .ci/install runs it)")
    return folder


def check_board(target: Target) -> None:
    if target.name not in BOARDS_WITH_NIC:
        raise TargetError(f"lwIP: target '{target.name}' has no network interface Waft drives "
                          f"(boards with one: {', '.join(BOARDS_WITH_NIC)})")


def sources(target: Target) -> list[Path]:
    """lwIP's core, the LAN9118 driver and the platform glue."""
    check_board(target)
    src = source_dir() / "src"
    return [src / f for f in CORE_FILES] + [PORT_DIR / f for f in PORT_FILES]


def wasm_sources(target: Target) -> list[Path]:
    """What a Wasm module's sockets add to a board's WASI runtime: lwIP, the driver, the port, p1's sock_*.

    p1's generic sockets.c replaces port_baremetal_sockets.c (the "no sockets"
    answers) in such a runtime: wasi_firmware.wasi_runtime leaves that one out.
    """
    from waftkit import wasi

    return [*sources(target), *(PORT_DIR / f for f in WASM_PORT_FILES), wasi.WASI_DIR / "sockets.c"]


def cflags(target: Target) -> list[str]:
    """Include folders: lwipopts.h and arch/ first, then lwIP's headers and the WASI board port's."""
    return [f"-I{PORT_DIR}", f"-I{source_dir() / 'src' / 'include'}", f"-I{RUNTIME_DIR / 'wasi_p1'}",
            "-fno-strict-aliasing"]


def link_native(target: Target, main: Path, output: Path, defines: list[str] = ()) -> Path:
    """A native C firmware (`main` and lwIP) for `target`: the board's clock, the port (exit, error console), no WASI."""
    board = [link_mod.CORTEX_M_GLUE / "systick.c", link_mod.TARGETS_DIR / "common" / "board_default.c",
             RUNTIME_DIR / "port" / "cortex-m" / "port.c", RUNTIME_DIR / "src" / "trap.c"]
    if (target.directory / "board.c").is_file():
        board.append(target.directory / "board.c")
    return link_mod.link(target, [main, *sources(target), *board], output,
                         cflags=[*cflags(target), *(f"-D{d}" for d in defines)])
