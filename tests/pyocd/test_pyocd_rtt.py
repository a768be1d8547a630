"""run_elf_pyocd reads an RTT-console firmware's output from its _SEGGER_RTT up-buffer.

A WASI hello world built with `console="rtt"` writes nothing through
semihosting but its exit; the runner must find the block by the ELF symbol and
read the line out of up-buffer 0, through the QEMU-backed probe.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.compiler import compile_module
from aot.targets import load_target
from waftkit.firmware.wasi_firmware import link_firmware
from waftkit.runners.pyocd_runner import run_elf_pyocd

pytestmark = [
    pytest.mark.qemu,
    *[pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} not installed")
      for tool in ("qemu-system-arm", "arm-none-eabi-gcc", "clang")],
]

# As tests/wasi: wasi-libc, one page of memory and an 8 KiB guest stack to fit stm32f4's RAM.
CLANG = ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
         "-Wl,--initial-memory=65536", "-Wl,--strip-debug"]
HELLO = '#include <stdio.h>\nint main(void) { puts("hello over RTT"); return 0; }\n'


def rtt_firmware(tmp_path: Path) -> Path:
    target = load_target("stm32f4")
    source, wasm = tmp_path / "hello.c", tmp_path / "hello.wasm"
    source.write_text(HELLO)
    subprocess.run([*CLANG, str(source), "-o", str(wasm)], check=True)
    result = compile_module(wasm.read_bytes(), target, prefix="prog", memory_cap_pages=1)
    obj, header = tmp_path / "prog.o", tmp_path / "prog.h"
    obj.write_bytes(result.object)
    header.write_text(result.header)
    return link_firmware(target, obj, header, tmp_path / "hello-rtt.elf", prefix="prog",
                         build_dir=tmp_path / "build", args=["hello.wasm"], console="rtt")


def test_rtt_console_output_is_captured(tmp_path: Path) -> None:
    result = run_elf_pyocd(load_target("stm32f4"), rtt_firmware(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello over RTT\n", result.stderr
    assert result.fault is None
