"""The WASI runtime's embedder API, driven from C over a static-buffer memory.

tests/wasi/c/wasi_direct.c links against the same libwaft.a (runtime core +
WASI + host port) the compiled programs use, and checks what a Wasm guest
cannot reach: a ctx without memory, the memory bound changing under it,
preopen and listen errors, the fd table filling up, waft_wasi_run_start's
exit statuses, and waft_wasi_destroy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from wasi_harness import HERE, require_tools, runtime

from waftkit import wasi
from waftkit.firmware.runtime import INCLUDE_DIR


def test_embedder_api(tmp_path: Path) -> None:
    require_tools()
    source = HERE / "c" / "wasi_direct.c"
    exe = tmp_path / "wasi_direct"
    subprocess.run(
        ["cc", "-O1", "-std=gnu11", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE_DIR}", f"-I{wasi.INCLUDE_DIR}",
         str(source), str(runtime()), "-o", str(exe)],
        check=True,
    )
    # Run beside its source: path_open opens wasi_direct.c through the "." preopen.
    proc = subprocess.run([str(exe)], capture_output=True, text=True, cwd=source.parent, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAILED" not in proc.stdout
    assert proc.stdout.count("ok ") == 21
    # The trap and the signal were reported on stderr, once each.
    assert proc.stderr == "waft: trap: integer divide by zero\nwaft: terminated by SIGTERM (proc_raise)\n"
