"""waftkit/wasi.py, the WASI preview 1 table, against everything that must agree with it.

- the checked-in runtime_c/wasi_p1/include/waft_wasi_p1.h is what the table
  generates (a golden file: regenerate with `python -m waftkit.wasi > ...`);
- wasi-libc (an independent rendering of the same witx) agrees on every
  constant and record layout, and a module that links all of its `__wasi_*`
  wrappers imports each function at exactly the type the table gives;
- the runtime library defines every import, at the prototype the header
  declares (the C files include it, so a mismatch does not compile);
- `provided_imports()` is the table, keyed the way the compiler sees imports.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.targets import load_target
from aot.wasm.decode import decode_module
from aot.wasm.module import FuncType
from waftkit import wasi
from waftkit.firmware.runtime import INCLUDE_DIR, runtime_library

ROOT = Path(__file__).resolve().parents[2]
WASI_LIBC_IMPORTS = Path("/usr/lib/wasm32-wasi/libc.imports")


def _clang_wasi_or_skip() -> None:
    if shutil.which("clang") is None or not WASI_LIBC_IMPORTS.is_file():
        pytest.skip("clang with wasi-libc (--target=wasm32-wasi --sysroot=/usr) is not installed")


def test_the_table_has_every_witx_function_once() -> None:
    names = [f.name for f in wasi.FUNCTIONS]
    assert len(names) == 46 == len(set(names))
    assert names[0] == "args_get" and names[-1] == "sock_shutdown"
    assert {"sock_accept", "proc_raise", "poll_oneoff", "path_open"} <= set(names)


def test_lowering_follows_the_witx_rules() -> None:
    f = wasi.FUNCTIONS_BY_NAME
    # string -> (ptr, len); u64 types -> i64; results -> out-pointers; errno return.
    assert f["path_open"].functype == FuncType(("i32",) * 5 + ("i64", "i64", "i32", "i32"), ("i32",))
    assert f["fd_write"].wasm_params == (("fd", "i32"), ("iovs", "i32"), ("iovs_len", "i32"), ("nwritten", "i32"))
    assert f["sock_recv"].functype == FuncType(("i32",) * 6, ("i32",))
    assert f["fd_seek"].functype == FuncType(("i32", "i64", "i32", "i32"), ("i32",))
    assert f["proc_exit"].functype == FuncType(("i32",), ())
    assert f["sched_yield"].functype == FuncType((), ("i32",))
    assert f["fd_write"].symbol == "wasi_snapshot_preview1__fd_write"


def test_constants() -> None:
    assert len(wasi.ERRNO) == 77 and wasi.value(wasi.ERRNO, "badf") == 8
    assert wasi.value(wasi.ERRNO, "notcapable") == 76 and wasi.value(wasi.ERRNO, "perm") == 63
    assert len(wasi.RIGHTS) == 30 and wasi.bit(wasi.RIGHTS, "sock_accept") == 1 << 29
    assert wasi.bit(wasi.RIGHTS, "fd_write") == 64
    assert len(wasi.SIGNAL) == 31 and wasi.value(wasi.SIGNAL, "abrt") == 6


def test_provided_imports_is_the_table() -> None:
    provided = wasi.provided_imports()
    assert set(provided) == {(wasi.MODULE, f.name) for f in wasi.FUNCTIONS}
    assert provided[(wasi.MODULE, "fd_write")] == FuncType(("i32",) * 4, ("i32",))


def test_generated_header_is_up_to_date() -> None:
    checked_in = (ROOT / wasi.HEADER_PATH).read_text()
    assert checked_in == wasi.generate_header(), (
        f"{wasi.HEADER_PATH} is out of date: run `python -m waftkit.wasi > {wasi.HEADER_PATH}`"
    )


def test_header_compiles_as_c_and_cpp(tmp_path: Path) -> None:
    source = tmp_path / "use.c"
    source.write_text('#include "waft_wasi.h"\nint main(void) { return WAFT_WASI_ERRNO_BADF == 8 ? 0 : 1; }\n')
    flags = ["-Wall", "-Wextra", "-Werror", f"-I{INCLUDE_DIR}", f"-I{wasi.INCLUDE_DIR}", "-fsyntax-only"]
    for command in (["cc", "-std=c11", *flags, str(source)], ["c++", "-std=c++11", *flags, "-x", "c++", str(source)]):
        if shutil.which(command[0]) is None:
            continue
        proc = subprocess.run(command, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_wasi_libc_imports_each_function_at_the_table_type(tmp_path: Path) -> None:
    """Link every __wasi_* wrapper of wasi-libc into a module; its imports are the real lowered types."""
    _clang_wasi_or_skip()
    # This wasi-libc no longer declares proc_raise (signals are emulated there).
    linked = [f for f in wasi.FUNCTIONS if f.name != "proc_raise"]
    lines = ["#include <wasi/api.h>", "void (*volatile sink)(void);", "int main(void) {"]
    lines += [f"    sink = (void (*)(void))__wasi_{f.name};" for f in linked]
    lines += ["    return 0;", "}"]
    source = tmp_path / "all.c"
    source.write_text("\n".join(lines) + "\n")
    wasm = tmp_path / "all.wasm"
    proc = subprocess.run(
        ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O1", str(source), "-o", str(wasm)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    module = decode_module(wasm.read_bytes())
    imported = {imp.name: module.types[imp.desc] for imp in module.imports if imp.module == wasi.MODULE}
    assert set(imported) == {f.name for f in linked}
    for f in linked:
        assert imported[f.name] == f.functype, f.name
    # And wasi-libc's own list of what it may import names the same functions.
    listed = {line.split("wasi_snapshot_preview1_", 1)[1] for line in WASI_LIBC_IMPORTS.read_text().split()
              if "wasi_snapshot_preview1_" in line}
    assert listed == {f.name for f in linked}


# The table's flattened field names, as member designators in wasi-libc's api.h.
_API_MEMBERS = {
    ("event", "fd_readwrite_nbytes"): "fd_readwrite.nbytes",
    ("event", "fd_readwrite_flags"): "fd_readwrite.flags",
    ("subscription", "tag"): "u.tag",
    ("subscription", "clock_id"): "u.u.clock.id",
    ("subscription", "clock_timeout"): "u.u.clock.timeout",
    ("subscription", "clock_precision"): "u.u.clock.precision",
    ("subscription", "clock_flags"): "u.u.clock.flags",
    ("subscription", "fd_readwrite_file_descriptor"): "u.u.fd_read.file_descriptor",
    ("prestat", "dir_pr_name_len"): "u.dir.pr_name_len",
}


def test_constants_and_layouts_match_wasi_libc(tmp_path: Path) -> None:
    _clang_wasi_or_skip()
    lines = ["#include <stddef.h>", "#include <wasi/api.h>"]
    for stem, cases, is_flags in wasi.ENUMS:
        if stem == "SIGNAL":
            continue  # gone from this wasi-libc's api.h with proc_raise
        for i, case in enumerate(cases):
            expected = 1 << i if is_flags else i
            lines.append(f'_Static_assert(__WASI_{stem}_{case.upper()} == {expected}ull, "{stem} {case}");')
    for name, (size, align, fields) in wasi.LAYOUTS.items():
        c_type = f"__wasi_{name}_t"
        lines.append(f'_Static_assert(sizeof({c_type}) == {size}, "{name} size");')
        lines.append(f'_Static_assert(_Alignof({c_type}) == {align}, "{name} align");')
        for field, offset, _ in fields:
            member = _API_MEMBERS.get((name, field), field)
            lines.append(f'_Static_assert(offsetof({c_type}, {member}) == {offset}, "{name}.{field}");')
    source = tmp_path / "check.c"
    source.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(
        ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-fsyntax-only", str(source)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_runtime_library_defines_every_import(tmp_path: Path) -> None:
    target = load_target("host")
    library = runtime_library(target, tmp_path, extra_sources=wasi.runtime_sources(target))
    proc = subprocess.run(["nm", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    defined = {line.split()[-1] for line in proc.stdout.splitlines() if len(line.split()) == 3}
    missing = {f.symbol for f in wasi.FUNCTIONS} - defined
    assert not missing
    # Every port function the generic files call is supplied by the host port.
    proc = subprocess.run(["nm", "--undefined-only", str(library)], capture_output=True, text=True, check=True)
    undefined = {line.split()[-1] for line in proc.stdout.splitlines() if line.strip()}
    assert not {s for s in undefined if s.startswith("wasi_port_")} - defined


@pytest.mark.parametrize("name", ["stm32f4", "riscv32-virt"])
def test_board_runtime_defines_every_import(name: str, tmp_path: Path) -> None:
    """Cortex-M and RISC-V build the same bare-metal port; its library defines all 46 functions and every
    wasi_port_* the generic files call (the board glue supplies only waft_console_*, waft_clock_*, waft_board_*)."""
    from waftkit.firmware.wasi_firmware import runtime_defines

    target = load_target(name)
    if shutil.which(target.cc) is None:
        pytest.skip(f"{target.cc} is not installed")
    sources = wasi.runtime_sources(target)
    assert {p.name for p in sources} >= {"port_baremetal.c", "port_baremetal_sockets.c", "ramfs.c"}
    assert "sockets.c" not in {p.name for p in sources} and "port_posix.c" not in {p.name for p in sources}
    library = runtime_library(target, tmp_path, extra_sources=sources, defines=runtime_defines())
    nm = target.cc[: -len("gcc")] + "nm"
    defined = subprocess.run([nm, "--defined-only", str(library)], capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in defined.splitlines() if len(line.split()) == 3}
    assert not {f.symbol for f in wasi.FUNCTIONS} - defined
    undefined = subprocess.run([nm, "--undefined-only", str(library)], capture_output=True, text=True, check=True).stdout
    undefined = {line.split()[-1] for line in undefined.splitlines() if line.strip()}
    assert not {s for s in undefined if s.startswith("wasi_port_")} - defined
    # What the board glue must supply: port_baremetal.h's hooks, and nothing core-specific.  The RAM
    # filesystem's clock hook is the generated configuration's, referenced weakly (only with --dir).
    glue = {s for s in undefined - defined if s.startswith("waft_")} - {"waft_ramfs_clock_ns"}
    assert glue == {"waft_console_write", "waft_console_read", "waft_console_readable", "waft_clock_start",
                    "waft_clock_ns", "waft_clock_resolution_ns", "waft_clock_idle", "waft_board_random",
                    "waft_board_unique_id", "waft_board_rtc_ns"}


def test_no_wasi_runtime_for_targets_without_a_port() -> None:
    import dataclasses

    from aot.errors import TargetError

    target = dataclasses.replace(load_target("riscv32-virt"), kind="mips")
    with pytest.raises(TargetError, match="no mips port"):
        wasi.runtime_sources(target)
