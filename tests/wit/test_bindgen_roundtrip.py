"""The bindgen round trip (issue 13): generated guest C calls generated host C through Waft-compiled code.

World test:all-types (tests/wit/data/all-types) imports and exports every WIT
type: scalars at their extremes, nested records, variants with every case
(and the joined flat slots of variant-of-floats), options in options,
results, flags of 3 to 32 bits, fixed-size lists, a map, aliases, resources
imported and exported (constructors, methods, statics, own and borrow,
lists of handles), a world-level resource and an interface imported twice.
The guest (tests/wit/bindgen/roundtrip_guest.c, clang -> wasm32 against the
guest bindings) and the host (roundtrip_host.c against the host bindings)
each check every value they receive against constants, and each answers with
a different value the other checks; roundtrip.h says how.  The guest is built
once; it runs on the host and, under QEMU, on stm32f4 and cortex-m0plus.

World test:bindgen-faults (tests/wit/data/bindgen-faults) is for the other
half of the contract: a hand-written guest (bindgen/faults_guest.c, core
imports declared by hand, arguments laid out from CanonicalABI.md) passes bad
pointers, lengths, discriminants and handles, and the generated host glue must
refuse each before the implementation runs: `fault` for functions whose result
is an errno with a `fault` case, a trap otherwise.  Its good calls check the
canonical layout independently of bindgen's own walker.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.abi import imports_struct_fields
from aot.compiler import compile_file
from aot.targets import load_target
from aot.wit import load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from waftkit.cache import cache_dir
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_cflags, runtime_library
from waftkit.runners.base import get_runner

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "bindgen"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
# The checks each half of the C makes when every call happens (a call skipped shows as fewer).
EXPECTED_CHECKS = {"host": 268, "guest": 260}
# One 64 KiB page of linear memory, 8 KiB of it stack: the guest fits stm32f4's 128 KiB of RAM.
GUEST_LINK = ["-mexec-model=reactor", "-Wl,--initial-memory=65536", "-Wl,-z,stack-size=8192", "-Wl,--strip-debug"]


def _need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def _bindings(out: Path, package: str, world: str, prefix: str) -> None:
    resolve, main = load_wit(HERE / "data" / package)
    bindings = generate_bindings(resolve, resolve.select_world(main, world), module_prefix=prefix)
    write_bindings(bindings, out / "guest", out / "host")


def _guest(out: Path, sources: list[Path], flags: list[str]) -> Path:
    """A guest module from C, with clang for wasm32-wasi."""
    _need("clang")
    wasm = out / "guest.wasm"
    cmd = ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *WARNINGS, *flags, *GUEST_LINK,
           *map(str, sources), "-o", str(wasm)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return wasm


def _run_on(name: str, wasm: Path, prefix: str, host_sources: list[Path], flags: list[str], tmp_path: Path):
    """Compile the guest for target `name`, link it with the host C, run it; the run's result."""
    target = load_target(name)
    _need(target.cc, *([] if target.is_host else [target.qemu_system]))
    result = compile_file(wasm, tmp_path / f"{prefix}.o", target, prefix=prefix)
    (tmp_path / "imports_init.h").write_text(imports_init(result.module))
    program = tmp_path / ("program" if target.is_host else "program.elf")
    cflags = [*runtime_cflags(target)[len(target.cflags):], *WARNINGS, f"-I{tmp_path}", *flags]
    link(target, [*host_sources, tmp_path / f"{prefix}.o", runtime_library(target, cache_dir())], program,
         cflags=cflags)
    return result.module, get_runner(target, timeout=120).run(program)


def imports_init(module) -> str:
    """INIT_IMPORTS(imports, ctx): every function-import module of the guest gets the one ctx."""
    fields = imports_struct_fields(module)
    assert fields and all(f.kind == "ctx" for f in fields), "the guest imports only functions"
    sets = " ".join(f"(imports).{f.name} = (ctx);" for f in fields)
    return f"#define INIT_IMPORTS(imports, ctx) do {{ {sets} }} while (0)\n"


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory) -> Path:
    """The all-types bindings and the guest module, built once for every target."""
    out = tmp_path_factory.mktemp("roundtrip")
    _bindings(out, "all-types", "all-types", "guest")
    _guest(out, [SOURCES / "roundtrip_guest.c", SOURCES / "roundtrip_common.c", SOURCES / "roundtrip_values.c",
                 out / "guest" / "all_types.c"], ["-DSIDE_GUEST", f"-I{out / 'guest'}", f"-I{SOURCES}"])
    return out


# stm32f4 is the board the issue names; cortex-m0plus adds strict alignment and soft float.
# (riscv32-virt passes too; left out to keep the suite's time down.)
@pytest.mark.parametrize("name", ["host", *(pytest.param(t, marks=pytest.mark.qemu)
                                           for t in ("stm32f4", "cortex-m0plus"))])
def test_every_value_arrives_intact_both_ways(name, roundtrip, tmp_path):
    out = roundtrip
    module, run = _run_on(name, out / "guest.wasm", "guest",
                          [SOURCES / "roundtrip_host.c", SOURCES / "roundtrip_common.c",
                           SOURCES / "roundtrip_values.c", out / "host" / "all_types_host.c",
                           out / "host" / "all_types_host_module.c"],
                          ["-DSIDE_HOST", f"-I{out / 'host'}", f"-I{SOURCES}"], tmp_path)
    # The guest imports nothing but the world: no WASI, so no WASI runtime on the board.
    assert {imp.module for imp in module.imports} <= {
        "test:all-types/scalars@0.1.0", "test:all-types/compound@0.1.0", "test:all-types/handles@0.1.0",
        "test:all-types/uses-handles@0.1.0", "logger", "second-handles", "$root",
        "[export]test:all-types/handles@0.1.0", "[export]exported-inline"}
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert last.endswith(" 0 failures") and run.returncode == 0, run.summary() + run.stdout + run.stderr
    # Both halves ran all the way through: as many checks as the C makes.
    words = last.split()
    assert (int(words[1]), int(words[6])) == (EXPECTED_CHECKS["host"], EXPECTED_CHECKS["guest"]), last


# What the host glue does with each case of faults_guest.c; `calls` counts the host implementation's runs.
FAULT_CASES = """\
placement: returned 1 calls=2 scratch=0
write_ok: returned 0 calls=1 scratch=0
write_past_end: returned 2 calls=0 scratch=0
write_wraps: returned 2 calls=0 scratch=0
write_too_long: returned 2 calls=0 scratch=0
write_empty_at_end: returned 0 calls=1 scratch=0
names_ok: returned 2 calls=1 scratch=0
names_list_past_end: returned -3 calls=0 scratch=0
names_string_past_end: returned -3 calls=0 scratch=0
names_misaligned: returned -3 calls=0 scratch=0
names_bad_return_area: trap out of bounds memory access calls=0 scratch=0
count_ok: returned 2 calls=1 scratch=0
count_past_end: trap out of bounds memory access calls=0 scratch=0
count_not_utf8: trap host function trapped calls=0 scratch=0
echo_bad_case: trap host function trapped calls=0 scratch=0
echo_bad_option: trap host function trapped calls=0 scratch=0
echo_bad_return_area: trap out of bounds memory access calls=0 scratch=0
seventeen_ok: returned 1700 calls=1 scratch=0
seventeen_args_past_end: trap out of bounds memory access calls=0 scratch=0
thing_ok: returned 41 calls=3 scratch=0
thing_bad_handle: trap host function trapped calls=0 scratch=0
thing_dropped_handle: trap host function trapped calls=2 scratch=0
"""


@pytest.fixture(scope="module")
def faults(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults")
    _bindings(out, "bindgen-faults", "faults", "bad")
    _guest(out, [SOURCES / "faults_guest.c"], [])
    return out


@pytest.mark.parametrize("name", ["host", pytest.param("stm32f4", marks=pytest.mark.qemu)])
def test_bad_pointers_from_the_guest_are_refused(name, faults, tmp_path):
    out = faults
    _, run = _run_on(name, out / "guest.wasm", "bad",
                     [SOURCES / "faults_host.c", out / "host" / "faults_host.c", out / "host" / "faults_host_module.c"],
                     [f"-I{out / 'host'}"], tmp_path)
    assert run.returncode == 0, run.summary() + run.stderr
    assert run.stdout == FAULT_CASES
