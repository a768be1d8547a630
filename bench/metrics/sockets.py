"""The `sockets` metric group: issue 19's network figures, a Wasm echo server next to the same loop in C on lwIP.

Two firmwares for mps2-an386 serve TCP echo on lwIP and the board's LAN9118
under QEMU's user network, linked against the same runtime library (so the
same lwIP objects, compiled with the same lwipopts.h):
`sockets/echo.c`, Wasm over wasi-ext:sockets and p1's read/write, built as
`waft run` builds a sockets module; and `sockets/native_echo.c`, C on lwIP's
raw API.  This module is the client, over QEMU's forward on 127.0.0.1, and
runs the same connections against each, one QEMU after the other with the
same options:

- request/response: 64-byte requests, each waited for before the next
  (the client sets TCP_NODELAY; both servers too), round trips per second;
- bulk: 512 KiB written while the echo is read back, KiB per second one way.

Each figure is the mean of REPEATS connections, min and max beside it.
These are wall-clock figures of an emulated board on a shared host (QEMU
without -icount, since the client's clock is the host's): compare the two
columns of one run, not runs across machines.

Flash and RAM: from each firmware's linker map, the input sections kept from
lwIP's objects and the LAN9118 driver ("the stack"), and from the sockets
layer (ext_sockets, grants, the lwIP port, p1's sock_*), which only the Wasm
firmware has.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from pathlib import Path

from aot.compiler import compile_module
from aot.errors import AotError
from aot.targets import Target
from aot.wasm.decode import decode_module
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit import wasi_ext
from waftkit.firmware import embedding, lwip, wasi_firmware
from waftkit.firmware import link as link_mod
from waftkit.runners.qemu import PortForward, qemu_command

TITLE = "Sockets: TCP echo on lwIP, Wasm (wasi-ext:sockets) vs native C (raw API), and what the stack costs"
SOURCES = Path(__file__).resolve().parent / "sockets"
WASM_SOURCE = SOURCES / "echo.c"
NATIVE_SOURCE = SOURCES / "native_echo.c"
PREFIX = "prog"
GUEST_PORT = 7
REPEATS = 3
REQUEST = 64
BULK = 512 * 1024
MAX_ROUND_TRIPS = 5000
CONNECTIONS = 1 + 2 * REPEATS  # a warm-up, then the request/response and the bulk connections
TIMEOUT = 300.0  # seconds for one firmware's whole run

# Objects of the stack and of the sockets layer, by source stem (the runtime library's members are NN_stem.o).
STACK_STEMS = {Path(f).stem for f in lwip.CORE_FILES} | {Path(f).stem for f in lwip.PORT_FILES}
LAYER_STEMS = {"ext_sockets", "grants", "sockets"} | {Path(f).stem for f in lwip.WASM_PORT_FILES}


def not_measurable(target: Target) -> str | None:
    if target.name not in lwip.BOARDS_WITH_NIC:
        return f"{target.name} has no network interface Waft drives (boards with one: {', '.join(lwip.BOARDS_WITH_NIC)})"
    if not any(m == embedding.EXT_SOCKETS for m, _ in wasi_ext.target_provides(target)):
        return f"{target.name} lists no wasi-ext:sockets in its target.toml"
    if not target.qemu_machine:
        return f"{target.name} has no QEMU machine to run its network on"
    return None


# ---- building ------------------------------------------------------------------------------

def _library(target: Target, work: Path) -> Path:
    return wasi_firmware.wasi_runtime(target, work / "runtime", sockets=True)


def build_native(target: Target, work: Path, connections: int) -> tuple[Path, Path]:
    elf, map_file = work / "native.elf", work / "native.map"
    board = [link_mod.CORTEX_M_GLUE / "systick.c", wasi_firmware.BOARD_DEFAULTS]
    if (target.directory / "board.c").is_file():
        board.append(target.directory / "board.c")
    flags = [*lwip.cflags(target), f"-DBENCH_PORT={GUEST_PORT}", f"-DBENCH_CONNECTIONS={connections}",
             "-Wall", "-Wextra"]
    try:
        link_mod.link(target, [NATIVE_SOURCE, *board, _library(target, work)], elf, map_file=map_file,
                      cflags=flags, printf_float=False)
    except AotError as exc:
        raise MetricError(f"building native_echo.c failed: {exc}") from None
    return elf, map_file


def build_wasm(work: Path) -> Path:
    wasm = work / "echo.wasm"
    proc = subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wall", "-Wextra",
                           "-Wl,-z,stack-size=8192", "-Wl,--initial-memory=131072", "-Wl,--strip-debug",
                           str(WASM_SOURCE), "-o", str(wasm)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"clang {WASM_SOURCE.name} failed: {proc.stderr.strip()}")
    return wasm


def build_waft(target: Target, wasm: Path, work: Path, connections: int) -> tuple[Path, Path]:
    """echo.wasm as `waft run --target mps2-an386 --listen tcp:*:7` would build it."""
    data = wasm.read_bytes()
    module = decode_module(data)
    try:
        result = compile_module(data, target, prefix=PREFIX, opt="2")
        (work / f"{PREFIX}.o").write_bytes(result.object)
        header = work / f"{PREFIX}.h"
        header.write_text(result.header)
        defines = embedding.main_defines(module, target, None, prefix=PREFIX)
        defines.append(embedding.socket_options_define([f"tcp:*:{GUEST_PORT}"]))
        elf, map_file = work / "waft.elf", work / "waft.map"
        wasi_firmware.link_firmware(target, work / f"{PREFIX}.o", header, elf, prefix=PREFIX,
                                    build_dir=work / "waft", runtime_dir=work / "runtime",
                                    args=["echo", str(GUEST_PORT), str(connections)], defines=defines,
                                    sockets=True, map_file=map_file)
    except AotError as exc:
        raise MetricError(f"building the Waft firmware failed: {exc}") from None
    return elf, map_file


# ---- sizes from the linker map -----------------------------------------------------------------

_INPUT = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_MEMBER = re.compile(r"\((\d+_)?([\w]+)\.o\)$")


def map_sizes(map_path: Path) -> dict[str, dict[str, int]]:
    """Flash and RAM of the kept input sections of the stack's and the layer's objects: {group: {flash, ram}}."""
    sizes = {"stack": {"flash": 0, "ram": 0}, "layer": {"flash": 0, "ram": 0}}
    text = map_path.read_text(errors="replace")
    start = text.find("Linker script and memory map")
    if start < 0:
        raise MetricError(f"{map_path} is not a GNU ld map")
    name = None
    for line in text[start:].splitlines():
        lone = re.fullmatch(r" (\.\S+|COMMON)", line)
        if lone:
            name = lone.group(1)
            continue
        m = _INPUT.match(line)
        if not m:
            name = None
            continue
        section = m.group(1) or name
        name = None
        member = _MEMBER.search(m.group(4))
        if section is None or member is None or int(m.group(2), 16) == 0:
            continue
        stem = member.group(2)
        group = "stack" if stem in STACK_STEMS else "layer" if stem in LAYER_STEMS else None
        if group is None:
            continue
        size = int(m.group(3), 16)
        if section.startswith((".bss", "COMMON")):
            sizes[group]["ram"] += size
        elif section.startswith(".data"):
            sizes[group]["ram"] += size
            sizes[group]["flash"] += size
        elif section.startswith((".text", ".rodata")):
            sizes[group]["flash"] += size
    return sizes


# ---- running -------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(port: int, deadline: float) -> socket.socket:
    """A connection the board has accepted: QEMU's forward takes one before the board listens, then drops it."""
    while True:
        try:  # refused until QEMU has set its forward up
            conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            conn = None
        if conn is not None:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                conn.sendall(b"x")
                if conn.recv(1) == b"x":
                    return conn
            except OSError:
                pass
            conn.close()
        if time.monotonic() > deadline:
            raise MetricError("the board never echoed: no server behind the forward")
        time.sleep(0.2)


def _recv_exactly(conn: socket.socket, n: int) -> None:
    got = 0
    while got < n:
        chunk = conn.recv(min(65536, n - got))
        if not chunk:
            raise MetricError(f"the connection ended after {got} of {n} echoed bytes")
        got += len(chunk)


def _round_trips(port: int, rounds: int, deadline: float) -> float:
    with _connect(port, deadline) as conn:
        request = bytes(REQUEST)
        started = time.perf_counter()
        for _ in range(rounds):
            conn.sendall(request)
            _recv_exactly(conn, REQUEST)
        return rounds / (time.perf_counter() - started)


def _bulk(port: int, deadline: float) -> float:
    with _connect(port, deadline) as conn:
        data = bytes(BULK)
        started = time.perf_counter()
        sender = threading.Thread(target=conn.sendall, args=(data,))
        sender.start()
        _recv_exactly(conn, BULK)
        elapsed = time.perf_counter() - started
        sender.join()
        return BULK / 1024 / elapsed


def run_server(target: Target, elf: Path, rounds: int) -> dict:
    """Boot `elf`, run the client's connections against it, wait for its end; the figures."""
    port = _free_port()
    proc = subprocess.Popen(qemu_command(target, elf, forwards=(PortForward(port, GUEST_PORT),)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        with _connect(port, deadline):
            pass  # the warm-up connection: ARP, the first handshake
        rtt = [_round_trips(port, rounds, deadline) for _ in range(REPEATS)]
        bulk = [_bulk(port, deadline) for _ in range(REPEATS)]
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or f"echo done {CONNECTIONS}" not in out:
        raise MetricError(f"{elf.name} ended with status {proc.returncode}: {out.strip()} {err.strip()}")
    return {"round_trips_per_s": rtt, "bulk_kib_per_s": bulk}


def _stat(values: list[float]) -> Stat:
    return Stat(mean=sum(values) / len(values), min=min(values), max=max(values), count=len(values))


def measure(target: Target, ctx: RunContext) -> GroupResult:
    why = not_measurable(target)
    if why is not None:
        return GroupResult(name="sockets", title=TITLE, unit="mixed", rows=[], notes=[f"Not measured: {why}."])
    rounds = max(1, min(ctx.repetitions, MAX_ROUND_TRIPS))
    work = ctx.work / "sockets"
    work.mkdir(parents=True, exist_ok=True)
    native_elf, native_map = build_native(target, work, CONNECTIONS)
    waft_elf, waft_map = build_waft(target, build_wasm(work), work, CONNECTIONS)
    native = run_server(target, native_elf, rounds)
    waft = run_server(target, waft_elf, rounds)
    native_size, waft_size = map_sizes(native_map), map_sizes(waft_map)
    table = [
        Row("round_trips", f"request/response: {REQUEST}-byte round trips per second (more is better)",
            "round trips/s", _stat(native["round_trips_per_s"]), _stat(waft["round_trips_per_s"])),
        Row("bulk", f"bulk echo: {BULK // 1024} KiB each way, KiB/s one way (more is better)", "KiB/s",
            _stat(native["bulk_kib_per_s"]), _stat(waft["bulk_kib_per_s"])),
        Row("stack_flash", "flash: lwIP and the LAN9118 driver", "bytes",
            Stat(native_size["stack"]["flash"]), Stat(waft_size["stack"]["flash"])),
        Row("stack_ram", "RAM: lwIP's static pools and heap, the driver", "bytes",
            Stat(native_size["stack"]["ram"]), Stat(waft_size["stack"]["ram"])),
        Row("layer_flash", "flash: the sockets layer (ext_sockets, grants, lwIP port, p1 sock_*)", "bytes",
            None, Stat(waft_size["layer"]["flash"])),
        Row("layer_ram", "RAM: the sockets layer (socket records, the network stack's own stack)", "bytes",
            None, Stat(waft_size["layer"]["ram"])),
    ]
    notes = ["Wall-clock figures under QEMU (no -icount: the client's clock is the host's), "
             f"mean of {REPEATS} connections each; compare the columns of one run.",
             "Native C is lwIP's raw API with callbacks; the Wasm side waits in p1 read/write, whose port "
             "polls the NIC and sleeps (WFI) once it has been quiet for a millisecond."]
    return GroupResult(name="sockets", title=TITLE, unit="mixed", rows=table, notes=notes,
                       raw={"native": native, "waft": waft, "sizes": {"native": native_size, "waft": waft_size}},
                       parameters={"round_trips": rounds, "request_bytes": REQUEST, "bulk_bytes": BULK,
                                   "repeats": REPEATS})
