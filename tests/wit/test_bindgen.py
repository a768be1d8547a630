"""`waft bindgen`'s output compiles warning-free for every world, and its command line behaves.

Each world's guest C is compiled by clang for wasm32 (whose `_Static_assert`s
check every C type against the canonical ABI's size and alignment), and its
host C by gcc and clang for the host and by arm-none-eabi-gcc for stm32f4,
with -Wall -Wextra -Werror, against the header Waft writes for the world's own
dummy module (`waft wit dummy`), so the export wrappers call real prototypes.
The round trip that runs the code is tests/wit/test_bindgen_roundtrip.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from wit_helpers import DATA, wasi_dir, write_wit

from aot.abi import import_symbol
from aot.compiler import compile_module
from aot.errors import WitError
from aot.targets import load_target
from aot.wit import CanonicalAbi, load_wit
from aot.wit.bindgen import generate_bindings, write_bindings
from aot.wit.dummy import dummy_module_bytes
from waftkit.firmware.runtime import INCLUDE_DIR

REPO = Path(__file__).resolve().parents[2]
WARNINGS = ["-O1", "-Wall", "-Wextra", "-Werror"]
HOST_COMPILERS = {
    "gcc": ["gcc", "-std=c11", "-DWAFT_PORT_HOST"],
    "clang": ["clang", "-std=c11", "-DWAFT_PORT_HOST"],
    "arm-none-eabi-gcc": ["arm-none-eabi-gcc", "-std=c11", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                          "-mfpu=fpv4-sp-d16", "-DWAFT_PORT_CORTEX_M"],
}
MODULE_TARGET = {"gcc": "host", "clang": "host", "arm-none-eabi-gcc": "stm32f4"}


def _worlds():
    wasi = lambda package: ("wasi", package)  # noqa: E731 (resolved lazily: the shared tree may be absent)
    return [
        pytest.param(DATA / "all-types", [], "all-types", id="all-types"),
        pytest.param(DATA / "all-types", [], "combined", id="all-types-combined"),
        pytest.param(DATA / "bindgen-faults", [], "faults", id="bindgen-faults"),
        pytest.param(REPO / "wasi_ext" / "profiles", [], "firmware-net", id="wasi-ext-firmware-net"),
        pytest.param(wasi("cli"), ["wasi"], "command", id="wasi-0.2.12-command"),
        pytest.param(wasi("http"), ["wasi"], "proxy", id="wasi-0.2.12-proxy"),
    ]


def _load(path, deps, world_name):
    if isinstance(path, tuple):
        base = wasi_dir("0.2.12")
        path, deps = base / path[1], [base]
    resolve, main = load_wit(path, extra_deps=deps)
    return resolve, resolve.select_world(main, world_name)


def _compile(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, " ".join(cmd) + "\n" + proc.stderr[-4000:]


@pytest.mark.parametrize("path, deps, world_name", _worlds())
def test_generated_c_compiles_without_warnings(path, deps, world_name, tmp_path):
    for tool in ("clang", *HOST_COMPILERS):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    resolve, world = _load(path, deps, world_name)
    write_bindings(generate_bindings(resolve, world, name="bg", module_prefix="mod"), tmp_path / "g", tmp_path / "h")
    _compile(["clang", "--target=wasm32-wasi", "--sysroot=/usr", *WARNINGS, "-c", str(tmp_path / "g" / "bg.c"),
              "-o", str(tmp_path / "guest.o")])
    for target_name in set(MODULE_TARGET.values()):
        header = compile_module(dummy_module_bytes(world), load_target(target_name), prefix="mod").header
        (tmp_path / target_name).mkdir()
        (tmp_path / target_name / "mod.h").write_text(header)
    for cc, cmd in HOST_COMPILERS.items():
        for source in ("bg_host.c", "bg_host_module.c"):
            _compile([*cmd, *WARNINGS, f"-I{tmp_path / MODULE_TARGET[cc]}", f"-I{INCLUDE_DIR}", "-c",
                      str(tmp_path / "h" / source), "-o", str(tmp_path / f"{source}.{cc}.o")])


def test_names_follow_the_canonical_abi_and_the_waft_abi():
    resolve, main = load_wit(REPO / "wasi_ext" / "profiles")
    bindings = generate_bindings(resolve, resolve.select_world(main, "firmware-rt"))
    guest, host = bindings.guest["firmware_rt.c"], bindings.host["firmware_rt_host.c"]
    module = "wasi-ext:threads/threads@0.1.0"
    # The guest imports by the interface ID and the function's WIT name, with its core signature...
    assert (f'__attribute__((__import_module__("{module}"), __import_name__("sleep-until")))\n'
            "extern int32_t __wasm_import_wasi_ext_threads_threads_sleep_until(int64_t);") in guest
    # ...and the host defines the symbol Waft's compiled code calls, ctx first (docs/abi.md).
    assert f"int32_t {import_symbol(module, 'sleep-until')}(void *ctx_, int64_t p0_) {{" in host
    # errno has a `fault` case: a bad pointer there is answered with it, not a trap.
    write = host[host.index(import_symbol("wasi-ext:shared-memory/regions@0.1.0", "write")):]
    write = write[:write.index("\n}\n")]
    assert "return 21; /* errno.fault */" in write and "waft_trap" not in write


def test_c_keywords_and_macro_names_are_escaped(tmp_path):
    write_wit(tmp_path, {"k.wit": """
        package test:keywords;
        interface %interface {
          record %record { %type: u32, default: string, errno: u8, ctx: bool, ret: s64 }
          variant %variant { %break(u32), %char, int(string) }
          enum switch { case, %static }
          flags %flags { %if, %else }
          %union: func(%type: %record, ctx: %variant, ret: switch, errno: %flags) -> %record;
        }
        world w { import %interface; export %interface; }
    """})
    resolve, main = load_wit(tmp_path)
    bindings = generate_bindings(resolve, resolve.select_world(main, "w"))
    assert "uint32_t type;" in bindings.guest["w.h"] and "uint8_t errno_;" in bindings.guest["w.h"]
    if shutil.which("clang"):
        write_bindings(bindings, tmp_path / "g", tmp_path / "h")
        _compile(["clang", "--target=wasm32-wasi", "--sysroot=/usr", *WARNINGS, "-c", str(tmp_path / "g" / "w.c"),
                  "-o", str(tmp_path / "g.o")])
        _compile(["clang", "-std=c11", "-DWAFT_PORT_HOST", *WARNINGS, f"-I{INCLUDE_DIR}", "-c",
                  str(tmp_path / "h" / "w_host.c"), "-o", str(tmp_path / "h.o")])


GOLDEN = Path(__file__).parent / "golden" / "bindgen-faults"


def test_output_is_pinned_by_golden_files():
    """Every file for the small test:bindgen-faults world, as text: a change to what users compile
    against shows in review (regenerate with WAFT_UPDATE_GOLDEN=1)."""
    resolve, main = load_wit(DATA / "bindgen-faults")
    bindings = generate_bindings(resolve, resolve.select_world(main, "faults"), module_prefix="bad")
    files = {**bindings.guest, **bindings.host}
    if os.environ.get("WAFT_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        for name, text in files.items():
            (GOLDEN / name).write_text(text)
    assert sorted(files) == sorted(p.name for p in GOLDEN.iterdir())
    for name, text in files.items():
        assert text == (GOLDEN / name).read_text(), name


def test_output_is_deterministic():
    resolve, main = load_wit(DATA / "all-types")
    world = resolve.select_world(main, "all-types")
    first = generate_bindings(resolve, world)
    resolve, main = load_wit(DATA / "all-types")
    assert generate_bindings(resolve, resolve.select_world(main, "all-types")) == first


def test_a_host_resource_lent_to_an_export_is_refused(tmp_path):
    write_wit(tmp_path, {"r.wit": """
        package test:lend;
        interface host-side { resource file; }
        interface guest-side { use host-side.{file}; inspect: func(f: borrow<file>) -> u32; }
        world w { export guest-side; }
    """})
    resolve, main = load_wit(tmp_path)
    with pytest.raises(WitError, match="exported function `inspect` takes a borrow of a resource the host"):
        generate_bindings(resolve, resolve.select_world(main, "w"))


def test_memory64_guests_are_refused():
    resolve, main = load_wit(DATA / "all-types")
    with pytest.raises(WitError, match="only wasm32 guests"):
        generate_bindings(resolve, resolve.select_world(main, "small"), abi=CanonicalAbi("i64"))


# --- the command line --------------------------------------------------------------------


def waft(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "bindgen", *args], capture_output=True, text=True,
                          check=False)


def test_command_writes_both_sides(tmp_path):
    result = waft(str(DATA / "all-types"), "-w", "all-types", "--guest", str(tmp_path / "g"),
                  "--host", str(tmp_path / "h"), "--name", "at", "--module-prefix", "app")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["at.c", "at.h"]
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [
        "at_host.c", "at_host.h", "at_host_module.c", "at_host_module.h"]
    assert '#include "app.h"' in (tmp_path / "h" / "at_host_module.h").read_text()
    assert result.stdout.endswith("(world test:all-types/all-types@0.1.0)\n")


def test_command_errors_are_one_line_and_write_nothing(tmp_path):
    out = ["--guest", str(tmp_path / "g"), "--host", str(tmp_path / "h")]
    usage = [
        waft(str(DATA / "all-types"), *out),  # three worlds: which one?
        waft(str(DATA / "all-types"), "-w", "nope", *out),
        waft(str(DATA / "all-types"), "-w", "small"),  # nothing to write
        waft(str(DATA / "all-types"), "-w", "small", "--name", "two__words", *out),
        waft(str(DATA / "all-types"), "-w", "small", "--module-prefix", "waft", *out),
    ]
    for result in usage:
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("waft: error: ")
    write_wit(tmp_path / "bad", {"b.wit": "package a:b;\ninterface i {\n  f: func(x: u32 y: u32);\n}"})
    result = waft(str(tmp_path / "bad"), *out)
    assert result.returncode == 1 and result.stderr.startswith("waft: error: invalid WIT: ")
    assert len(result.stderr.splitlines()) == 1
    write_wit(tmp_path / "lend", {"r.wit": """
        package test:lend;
        interface host-side { resource file; }
        interface guest-side { use host-side.{file}; inspect: func(f: borrow<file>) -> u32; }
        world w { export guest-side; }
    """})
    result = waft(str(tmp_path / "lend"), *out)
    assert result.returncode == 1 and "takes a borrow of a resource the host" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "g").exists() and not (tmp_path / "h").exists()


def test_command_writes_all_files_or_none(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "small_host.c").mkdir()  # a folder where a file must go: the write fails
    result = waft(str(DATA / "all-types"), "-w", "small", "--guest", str(tmp_path / "g"),
                  "--host", str(tmp_path / "h"))
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tmp_path / "g" / "small.h").exists()
    assert [p.name for p in (tmp_path / "h").iterdir()] == ["small_host.c"]
