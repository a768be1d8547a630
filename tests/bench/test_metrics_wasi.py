"""`waft bench --metrics --group wasi`: every WASI figure is measured on a board, and a wrong result is an error.

No timing is asserted.  The group runs under QEMU with few samples and
reports the six rows on both sides (native: newlib, the board, the runtime's
RAM filesystem in C; Waft: the raw WASI imports).  The same source built so
that its file cycle reads back one byte short (-DBENCH_BREAK_FS) fails on
both sides with the program's own message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from bench.metrics import wasi
from bench.metrics.common import MetricError, RunContext

REPO = Path(__file__).resolve().parents[2]
TARGET = "stm32f4"
WORK = REPO / "build" / "bench-tests" / "wasi"
ROWS = {"write1", "write64", "write1024", "clock", "random16", "fs_cycle"}


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
def test_wasi_group_reports_every_figure_on_a_board(tmp_path):
    need("clang", "arm-none-eabi-gcc", "qemu-system-arm")
    result = subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--group", "wasi",
                             "--target", TARGET, "--repetitions", "300", "--results", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / f"metrics_{TARGET}.json").read_text())["groups"]["wasi"]
    rows = {row["key"]: row for row in group["rows"]}
    assert set(rows) == ROWS
    for key, row in rows.items():
        for side in ("native", "waft"):
            stat = row[side]
            assert stat["count"] == 3 and 0 < stat["min"] <= stat["mean"] <= stat["max"], (key, side, stat)
        peer = row["peers"]["wasm2c"]  # the same module through wasm2c, into the same p1 layer
        assert peer["count"] == 3 and 0 < peer["min"] <= peer["max"], (key, peer)
    # Crossing into WASI is never free: Waft's file cycle does at least what the native one does.
    assert rows["fs_cycle"]["waft"]["mean"] > rows["fs_cycle"]["native"]["mean"]


def test_a_file_cycle_that_reads_back_wrong_fails_the_group():
    need("clang", "cc")
    host = load_target("host")
    with pytest.raises(MetricError, match=r"native wasi_ops\.c on host failed its self-check.*problem the RAM "
                                          r"filesystem cycle read back other bytes than it wrote \(63\)"):
        wasi.run_both(host, RunContext(work=WORK), WORK / "broken", samples=2, cflags=("-DBENCH_BREAK_FS",))
    # The Wasm side checks the same way: built broken, it fails on its own.
    wasm = wasi.build_wasm(WORK / "broken", 2, ("-DBENCH_BREAK_FS",))
    from bench.metrics import programs

    folder = WORK / "broken" / "fs"
    folder.mkdir(parents=True, exist_ok=True)
    command = programs.wasi_program(host, wasm, WORK / "broken", dirs=[(folder, "fs")])
    with pytest.raises(MetricError, match=r"read back other bytes than it wrote \(63\)"):
        programs.run(host, command, RunContext(work=WORK), label="Waft wasi_ops.wasm")


def test_the_wasm2c_peer_of_a_broken_module_fails():
    """The wasm2c peer runs the module's own self-check through its glue: a broken module is an error."""
    need("clang", "cc", "wasm2c")
    from bench.metrics import programs, wasm2c_peer

    host = load_target("host")
    folder = WORK / "broken_wasm2c" / "fs"
    folder.mkdir(parents=True, exist_ok=True)
    wasm = wasi.build_wasm(WORK / "broken_wasm2c", 2, ("-DBENCH_BREAK_FS",))
    command = wasm2c_peer.wasi_command(host, wasm, WORK / "broken_wasm2c", host_dir=folder)
    with pytest.raises(MetricError, match=r"wasm2c wasi_ops\.wasm on host failed its self-check.*read back other "
                                          r"bytes than it wrote \(63\)"):
        programs.run(host, command, RunContext(work=WORK), label="wasm2c wasi_ops.wasm")
    # The glue forwards every p1 import the module has to Waft's function of that name.
    header = WORK / "broken_wasm2c" / "wasm2c" / "w2c_prog.h"
    imports = [i for i in wasm2c_peer.imports_of(header) if i[0] == "wasi_snapshot_preview1"]
    glue = wasm2c_peer.wasi_glue(header)
    assert imports and all(f"wasi_snapshot_preview1__{name}(w2c_wasi_sync(i)" in glue for _, name, *_ in imports)
