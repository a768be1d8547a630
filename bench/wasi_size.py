"""Flash and RAM of the WASI runtime on a board: a hello world vs a module importing all of WASI.

Builds two WASI command modules for the target (examples/hello/hello.c, and
tests/wasi/cortexm/all_imports.c, which imports every one of the 46
wasi_snapshot_preview1 functions, with a seeded RAM filesystem), links each
into firmware exactly as `waft run` does, and splits the image by where each
byte came from, using the linker's map file:

  module    the compiled Wasm (prog.o), code and data
  instance  the module's instance in RAM (linear memory, globals, tables)
  runtime   libwaft.a (the runtime core and the WASI port) + WASI main/config + board glue
  libc      newlib-nano, libm and libgcc

Run:  .venv/bin/python bench/wasi_size.py [--target stm32f4]
It writes bench/results/wasi_size_<target>.json and .md.  A measurement,
not a test: nothing here asserts a size.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from aot.compiler import compile_module  # noqa: E402
from aot.targets import load_target  # noqa: E402
from waftkit.firmware import wasi_firmware  # noqa: E402
from waftkit.firmware.size import measure  # noqa: E402

PROGRAMS = {
    "hello world": (REPO / "examples" / "hello" / "hello.c", None),
    "all of WASI": (REPO / "tests" / "wasi" / "cortexm" / "all_imports.c",
                    REPO / "tests" / "wasi" / "cortexm" / "seed"),
}
CLANG = ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
         "-Wl,--initial-memory=65536", "-Wl,--strip-debug"]

# One input-section line of a GNU ld map: " .text.foo  0xADDR  0xSIZE  file(member)".
_MAP_LINE = re.compile(r"^\s*(\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")


def part_of(path: str) -> str:
    if path.endswith("prog.o"):
        return "module"
    # The link compiles the WASI main, its generated configuration and the board
    # glue on the way (waftkit.firmware.link), so they appear as the compiler's temporary objects.
    if "libwaft.a" in path or re.search(r"/cc[^/]*\.o$", path):
        return "runtime"
    return "libc"


def split_by_part(map_file: Path) -> dict[str, dict[str, int]]:
    """Bytes of flash (text/rodata/data image) and RAM (data/bss) per part, from the map."""
    sizes: dict[str, dict[str, int]] = defaultdict(lambda: {"flash": 0, "ram": 0})
    section = ""
    pending = ""
    in_memory_map = False
    for raw in map_file.read_text().splitlines():
        if raw.startswith("Linker script and memory map"):
            in_memory_map = True
            continue
        if not in_memory_map:
            continue
        line = pending + raw if pending else raw
        pending = ""
        if re.match(r"^\s*\.\S+$", line):  # a long section name: the numbers follow on the next line
            pending = line
            continue
        m = _MAP_LINE.match(line)
        if not m:
            top = re.match(r"^(\.\S+)", raw)
            if top:
                section = top.group(1)
            continue
        size = int(m.group(3), 16)
        if size == 0 or m.group(4).startswith("0x"):
            continue
        name = m.group(1) or section
        part = part_of(m.group(4))
        if name.startswith((".text", ".rodata", ".ARM")):
            sizes[part]["flash"] += size
        elif name.startswith(".data"):
            sizes[part]["flash"] += size
            sizes[part]["ram"] += size
        elif name.startswith((".bss", "COMMON")):
            sizes[part]["ram"] += size
    return sizes


def measure_program(target, label: str, source: Path, seed: Path | None, work: Path) -> dict:
    wasm = work / "prog.wasm"
    subprocess.run([*CLANG, str(source), "-o", str(wasm)], check=True)
    result = compile_module(wasm.read_bytes(), target, prefix="prog", memory_cap_pages=1)
    (work / "prog.o").write_bytes(result.object)
    (work / "prog.h").write_text(result.header)
    elf = wasi_firmware.link_firmware(
        target, work / "prog.o", work / "prog.h", work / "prog.elf", prefix="prog",
        build_dir=work, args=[source.stem], dirs=[(seed, "data")] if seed else (),
        map_file=work / "prog.map", epoch_ns=0, seed=bytes(16))
    whole = measure(elf, target)
    parts = split_by_part(work / "prog.map")
    instance = result.instance_size
    # The static instance is defined by the WASI main (runtime side): report it apart.
    parts["runtime"]["ram"] -= min(parts["runtime"]["ram"], instance)
    imports = len([i for i in result.module.imports if i.module == "wasi_snapshot_preview1"])
    return {"program": label, "source": str(source.relative_to(REPO)), "wasi_imports": imports,
            "flash_total": whole.flash_used, "ram_static_total": whole.ram_used,
            "stack": whole.stack, "instance_ram": instance,
            "parts": {k: dict(v) for k, v in sorted(parts.items())}}


def render(target_name: str, rows: list[dict]) -> str:
    out = [f"# WASI runtime size on {target_name}", "",
           "Measured by `bench/wasi_size.py` from the linker map (bytes). The runtime column is",
           "libwaft.a (core + WASI port) plus the WASI main, its generated configuration and the",
           "board glue (startup, console, clock); libc is newlib-nano, libm and libgcc.", "",
           "| program | WASI imports | flash total | module flash | runtime flash | libc flash |"
           " runtime RAM | instance RAM | stack |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        p = r["parts"]
        out.append(f"| {r['program']} | {r['wasi_imports']} | {r['flash_total']:,} | "
                   f"{p.get('module', {}).get('flash', 0):,} | {p.get('runtime', {}).get('flash', 0):,} | "
                   f"{p.get('libc', {}).get('flash', 0):,} | {p.get('runtime', {}).get('ram', 0):,} | "
                   f"{r['instance_ram']:,} | {r['stack']:,} |")
    out += ["", "Only the WASI functions a module imports reach its image (-ffunction-sections and",
            "--gc-sections). About 12 KB of the libc column is newlib-nano's float printf, which",
            "Waft's link asks for (`-u _printf_float`) so that C code in the firmware can print floats.", ""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="stm32f4")
    args = parser.parse_args()
    target = load_target(args.target)
    rows = []
    for label, (source, seed) in PROGRAMS.items():
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(measure_program(target, label, source, seed, Path(tmp)))
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    (results / f"wasi_size_{target.name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    report = render(target.name, rows)
    (results / f"wasi_size_{target.name}.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
