"""A board's module instance is zeroed once, by instantiation, and still reads zero where nothing was written.

runtime_c/wasi_p1/baremetal_main.c puts a WASI firmware's instance in
.noinit (sections.ld), which reset does not zero: instantiation alone must
set up every byte a module can see.  This test builds a module
(zero_once/reads_zero.wat) as `waft run` builds it for stm32f4, checks from
the ELF that its instance is in .noinit and outside .bss, and boots it under
QEMU with the whole .noinit section painted 0xA5 (QEMU's generic loader
writes RAM before the core leaves reset), as RAM holds a previous run's
bytes after a warm reset.  The module checks that its page reads zero
outside its data segments, its segments, its global's initial value, its
table's unfilled and grown slots (null) and its passive segment (not
dropped): an instantiation that left any of that to reset fails it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from aot.targets import load_target
from bench.metrics import programs
from waftkit.runners.qemu import qemu_command

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "bench-tests" / "zero_once"
TARGET = "stm32f4"


def sections(elf: Path) -> dict[str, tuple[int, int]]:
    with open(elf, "rb") as f:
        return {s.name: (s["sh_addr"], s["sh_size"]) for s in ELFFile(f).iter_sections() if s["sh_addr"]}


@pytest.fixture(scope="module")
def firmware() -> Path:
    for tool in ("wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    wasm = programs.wat((Path(__file__).parent / "zero_once" / "reads_zero.wat").read_text(),
                        WORK / "reads_zero.wasm")
    return Path(programs.wasi_program(load_target(TARGET), wasm, WORK)[0])


def boot(elf: Path, paint: bytes | None) -> subprocess.CompletedProcess:
    command = qemu_command(load_target(TARGET), elf)
    if paint is not None:
        start, _size = sections(elf)[".noinit"]
        blob = WORK / "paint.bin"
        blob.write_bytes(paint)
        command[-2:-2] = ["-device", f"loader,file={blob},addr={start:#x}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.qemu
def test_the_instance_is_in_noinit_not_bss(firmware):
    found = sections(firmware)
    noinit, bss = found[".noinit"], found[".bss"]
    assert noinit[1] >= 65536, f"the instance (one 64 KiB page and more) is not in .noinit: {found}"
    assert bss[0] + bss[1] <= noinit[0], "reset would zero .noinit with .bss"


@pytest.mark.qemu
def test_a_painted_instance_reads_zero_after_instantiation(firmware):
    size = sections(firmware)[".noinit"][1]
    clean = boot(firmware, None)
    assert clean.returncode == 0 and "clean" in clean.stdout.split(), clean.stdout + clean.stderr
    painted = boot(firmware, b"\xa5" * size)
    assert painted.returncode == 0, painted.stdout + painted.stderr
    assert painted.stdout.split() == ["clean"], painted.stdout
