"""Build and start programs/sockround.c on the host or on mps2-an386 under QEMU, and read its lines.

On the host the program is built as `waft run` builds it and started with
its grants on the command line; on the board the arguments and grants are
fixed in the firmware (as `waft run --target mps2-an386` fixes them), lwIP
reports its pools when the program exits (WAFT_LWIP_REPORT_AT_EXIT), and
QEMU forwards 127.0.0.1:PORT to the board's PORT.  One build per target and
session; `Running.line()` waits with a deadline, so a stuck guest fails the
test instead of hanging it.
"""

from __future__ import annotations

import sys
import tempfile
from functools import cache
from pathlib import Path

from aot.targets import load_target
from waftkit.firmware import embedding, wasi_firmware
from waftkit.run import PREFIX, RunOptions, build_host_program, compiled_module
from waftkit.runners.qemu import PortForward, qemu_command

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "wasi"))
from wasi_harness import _build_root, build_wasm

from sockets_harness import Running

BOARD = "mps2-an386"
# QEMU's user network: the board's gateway is the host's loopback.
BOARD_PEER = "10.0.2.2"


@cache
def program_wasm(name: str) -> Path:
    return build_wasm(HERE / "programs" / f"{name}.c")


def host_program(name: str, memory_cap_pages: int = 64) -> Path:
    options = RunOptions(memory_cap_pages=memory_cap_pages)
    return build_host_program(program_wasm(name).read_bytes(), load_target("host"), options, f"{name}.wasm",
                              cache=_build_root() / "waft-run")


def board_firmware(name: str, args: list[str], listen: list[str], allow_connect: list[str],
                   out_dir: Path, socket_defines: tuple[str, ...] = ("WAFT_LWIP_REPORT_AT_EXIT",),
                   memory_cap_pages: int = 4, resolve: list[str] = ()) -> Path:
    """The firmware for `name`.wasm on the board with these args and grants baked in."""
    target = load_target(BOARD)
    data = program_wasm(name).read_bytes()
    options = RunOptions(memory_cap_pages=memory_cap_pages)
    cache_root = _build_root() / "waft-run"
    module = compiled_module(data, target, options, f"{name}.wasm", cache=cache_root)
    from aot.wasm.decode import decode_module

    decoded = decode_module(data)
    defines = embedding.main_defines(decoded, target, memory_cap_pages, prefix=PREFIX)
    defines.append(embedding.socket_options_define(listen, allow_connect, resolve))
    out_dir.mkdir(parents=True, exist_ok=True)
    return wasi_firmware.link_firmware(
        target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", out_dir / f"{name}.elf", prefix=PREFIX,
        build_dir=Path(tempfile.mkdtemp(dir=out_dir)), runtime_dir=cache_root, args=[name, *args],
        defines=defines, sockets=True, socket_defines=socket_defines)


def start_host(name: str, grants: list[str], args: list[str]) -> Running:
    return Running([str(host_program(name)), *grants, "--", f"{name}.wasm", *args])


def start_board(elf: Path, forwards: tuple[PortForward, ...]) -> Running:
    return Running(qemu_command(load_target(BOARD), elf, forwards=forwards))
