"""waftkit/wasi_ext.py, the extensions' import table, and the import check that reads it beside p1's.

- the table is read from wasi_ext/'s WIT, not written down: it holds every function of the
  biggest profile, and agrees with the released core signatures of
  tests/wit/golden/wasi-ext-0.1.0.txt (pinned independently of aot.wit);
- availability is a target's [wasi_ext] table: today no target lists anything, a table flips
  functions on by interface ("all") or one by one, and a table naming something that is not in
  wasi_ext/ is a TargetError that says what is wrong;
- `load_world` takes every spelling `waft check --world` documents;
- `check_imports` gives each import its status, against a world or the target's own scope.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from aot.errors import TargetError, WitError
from aot.package_data import WASI_EXT_DIR
from aot.targets import all_targets, load_target
from aot.wasm.module import FuncType, Import, Module
from waftkit import wasi, wasi_ext
from waftkit.imports_check import check_imports, describe_scope, runtime_provides

GOLDEN = Path(__file__).resolve().parents[1] / "wit" / "golden" / "wasi-ext-0.1.0.txt"
THREADS = "wasi-ext:threads/threads@0.1.0"
SOCKETS = "wasi-ext:sockets/sockets@0.1.0"


def _core_text(ft: FuncType) -> str:
    """The golden file's spelling: `(i32 i64) -> i32`, `() -> ()`."""
    return f"({' '.join(ft.params)}) -> {ft.results[0] if ft.results else '()'}"


def _target_with(table) -> object:
    return dataclasses.replace(load_target("host"), extra={"wasi_ext": table})


def _module(*imports: tuple[str, str, FuncType]) -> Module:
    types = list(dict.fromkeys(ft for _, _, ft in imports))
    return Module(types=types, imports=[Import(m, n, "func", types.index(ft)) for m, n, ft in imports])


# --- the table --------------------------------------------------------------------------------------

def test_the_table_is_every_function_of_the_biggest_profile():
    net = wasi_ext.world_imports(wasi_ext.profiles()[-1])
    assert wasi_ext.catalogue().keys() == net.keys()
    assert len(net) == 49 and all(imp.kind == "func" for imp in net.values())
    assert {m for m, _ in net} == {"wasi", THREADS, SOCKETS, "wasi-ext:signals/signals@0.1.0",
                                  "wasi-ext:shared-memory/regions@0.1.0", "wasi-ext:sockets/name-lookup@0.1.0"}


def test_the_table_agrees_with_the_released_signatures():
    released = {}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            module, name, signature = re.match(r"(\S+) (\S+) (\(.*?\) -> \S+)", line).groups()
            released[(module, name)] = signature
    table = {key: _core_text(imp.type) for key, imp in wasi_ext.catalogue().items()}
    assert table == released


def test_return_areas_and_wide_parameters_come_from_the_canonical_abi():
    table = wasi_ext.catalogue()
    assert table[(THREADS, "sleep-until")].type == FuncType(("i64",), ("i32",))
    spawn = table[(THREADS, "spawn")]
    assert spawn.type == FuncType(("i32",) * 5, ()) and spawn.signature.results_in_memory
    assert table[(SOCKETS, "send-to")].type == FuncType(("i32",) * 16, ())
    assert table[("wasi", "thread-spawn")].type == FuncType(("i32",), ("i32",))


# --- availability -----------------------------------------------------------------------------------

def test_which_targets_provide_which_extensions():
    """Issue 14: wasi-threads' spawn and wasi-ext:threads on the host (POSIX threads) and on every
    Cortex-M board (the built-in kernel); the targets without an OS port for threads provide no
    extension.  Issue 15: wasi-ext:signals on the host (the POSIX signals port) and on the Cortex-M
    boards whose target.toml lists their interrupt lines (stm32f4, mps2-an386).  Issue 19:
    wasi-ext:sockets and name-lookup on the host (BSD sockets) and on mps2-an386 (lwIP on its
    LAN9118, the one board whose NIC Waft drives under QEMU).  Issue 18: wasi-ext:shared-memory's
    regions on the host and stm32f4 (the targets `waft run --region` and its tests cover;
    runtime_c/shm is portable C)."""
    threads = {(THREADS, n) for m, n in wasi_ext.catalogue() if m == THREADS} | {("wasi", "thread-spawn")}
    signals = {(m, n) for m, n in wasi_ext.catalogue() if m == "wasi-ext:signals/signals@0.1.0"}
    sockets = {(m, n) for m, n in wasi_ext.catalogue() if m.startswith("wasi-ext:sockets/")}
    regions = {(m, n) for m, n in wasi_ext.catalogue() if m == "wasi-ext:shared-memory/regions@0.1.0"}
    for target in all_targets():
        expected = threads if target.name == "host" or target.kind == "cortex-m" else set()
        if target.name in ("host", "stm32f4", "mps2-an386"):
            expected = expected | signals
        if target.name in ("host", "mps2-an386"):
            expected = expected | sockets
        if target.name in ("host", "stm32f4"):
            expected = expected | regions
        assert set(wasi_ext.target_provides(target)) == expected, target.name
        assert set(runtime_provides(target)) == set(wasi.provided_imports()) | expected, target.name


def test_a_target_provides_an_interface_or_single_functions():
    target = _target_with({THREADS: "all", "wasi": ["thread-spawn"], SOCKETS: ["listen", "take-error"]})
    provided = wasi_ext.target_provides(target)
    assert {n for m, n in provided if m == THREADS} == {n for m, n in wasi_ext.catalogue() if m == THREADS}
    assert {(m, n) for m, n in provided if m != THREADS} == {
        ("wasi", "thread-spawn"), (SOCKETS, "listen"), (SOCKETS, "take-error")}
    assert runtime_provides(target)[(THREADS, "sleep-until")] == FuncType(("i64",), ("i32",))
    assert describe_scope(target, None) == f"p1 and {len(provided)} extension functions"
    assert describe_scope(load_target("riscv32-virt"), None) == "p1, no extensions"


@pytest.mark.parametrize("table, message", [
    ({"wasi-ext:threads/threads@0.2.0": "all"}, "`wasi-ext:threads/threads@0.2.0` is no interface of wasi_ext/"),
    ({THREADS: ["spwan"]}, f"`{THREADS}` has no function `spwan` (its functions: spawn, "),
    ({THREADS: "some"}, f"`{THREADS}` wants \"all\" or a list of function names"),
    ({THREADS: [1]}, f"`{THREADS}` wants \"all\" or a list of function names"),
    (["wasi"], "must be a table of interface"),
])
def test_a_bad_table_names_the_file_and_the_entry(table, message):
    with pytest.raises(TargetError) as info:
        wasi_ext.target_provides(_target_with(table))
    assert str(info.value).startswith(f"{load_target('host').directory / 'target.toml'}: [wasi_ext]")
    assert message in str(info.value)


# --- naming a world ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    "firmware-rt",
    "wasi-ext:profiles/firmware-rt",
    "wasi-ext:profiles/firmware-rt@0.1.0",
    f"{WASI_EXT_DIR / 'profiles'}:firmware-rt",
    f"{WASI_EXT_DIR / 'profiles'}:wasi-ext:profiles/firmware-rt",
    "wasi_ext/profiles:firmware-rt",  # from any folder: the shipped copy
])
def test_every_spelling_of_a_world(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wasi_ext.load_world(spec).id == "wasi-ext:profiles/firmware-rt@0.1.0"


def test_a_package_with_one_world_needs_no_world_name():
    assert wasi_ext.load_world(str(WASI_EXT_DIR / "threads")).id == "wasi-ext:threads/wasi-threads@0.1.0"
    assert wasi_ext.load_world("wasi-ext:threads/wasi-threads").id == "wasi-ext:threads/wasi-threads@0.1.0"


def test_a_path_in_the_working_folder_wins_over_the_shipped_copy(tmp_path, monkeypatch):
    (tmp_path / "wasi_ext" / "profiles").mkdir(parents=True)
    (tmp_path / "wasi_ext" / "profiles" / "mine.wit").write_text("package me:mine;\nworld firmware-rt {}\n")
    monkeypatch.chdir(tmp_path)
    assert wasi_ext.load_world("wasi_ext/profiles:firmware-rt").id == "me:mine/firmware-rt"


@pytest.mark.parametrize("spec, message", [
    ("firmware-xl", "--world firmware-xl: no such profile (profiles: firmware-minimal, firmware-rt, firmware-net)"),
    ("wasi-ext:profiles/nope", "world `nope` not found in package wasi-ext:profiles@0.1.0"),
    ("no/such/folder", "--world no/such/folder: no such file or folder, and not a world name"),
    (f"{WASI_EXT_DIR / 'profiles'}", "has 3 worlds (firmware-minimal, firmware-rt, firmware-net): name one as"),
    (f"{WASI_EXT_DIR / 'profiles'}:nope", "world `nope` not found in package wasi-ext:profiles@0.1.0"),
])
def test_a_spec_that_names_no_world(spec, message):
    with pytest.raises(wasi_ext.WorldNotFound) as info:
        wasi_ext.load_world(spec)
    assert message in str(info.value)


def test_bad_wit_is_a_wit_error_with_its_place(tmp_path):
    (tmp_path / "bad.wit").write_text("package a:b;\nworld w {\n  import f: func() -> ;\n}\n")
    with pytest.raises(WitError) as info:
        wasi_ext.load_world(f"{tmp_path / 'bad.wit'}:w")
    assert str(info.value) == f"{tmp_path / 'bad.wit'}:3:23: expected a type, found `;`"


# --- the check --------------------------------------------------------------------------------------

I32_I32 = FuncType(("i32",), ("i32",))
MODULE = _module(
    (wasi.MODULE, "fd_write", FuncType(("i32",) * 4, ("i32",))),
    (THREADS, "sleep-until", FuncType(("i64",), ("i32",))),
    (THREADS, "spawn", I32_I32),
    (SOCKETS, "listen", FuncType(("i32", "i32"), ("i32",))),
    (THREADS, "spwan", I32_I32),
    (wasi.MODULE, "fd_wirte", I32_I32),
    ("env", "sensor", FuncType(("i32",), ("f32",))),
)


def _statuses(target, world=None) -> list[tuple[str, str, str]]:
    return [(s.imp.name, s.status, s.detail) for s in check_imports(MODULE, target, world)]


def test_check_against_the_target_alone():
    assert _statuses(load_target("host")) == [
        ("fd_write", "provided", ""),
        ("sleep-until", "provided", ""),
        ("spawn", "type mismatch", "expected [i32 i32 i32 i32 i32] -> []"),
        ("listen", "provided", ""),
        ("spwan", "unknown", f"{THREADS} has no function `spwan`"),
        ("fd_wirte", "unknown", "wasi_snapshot_preview1 has no function `fd_wirte`"),
        ("sensor", "missing", "the firmware supplies it: float env__sensor(void *ctx, int32_t p0);"),
    ]


def test_check_against_a_world_on_a_target_that_provides_threads():
    target = _target_with({THREADS: "all", SOCKETS: ["listen"]})
    statuses = _statuses(target, wasi_ext.load_world("firmware-rt"))
    assert statuses[:4] == [
        ("fd_write", "provided", ""),
        ("sleep-until", "provided", ""),
        ("spawn", "type mismatch", "expected [i32 i32 i32 i32 i32] -> []"),
        # provided by the target, but a firmware-rt module may not import it
        ("listen", "not in world", "in wasi-ext:profiles/firmware-net@0.1.0, not in wasi-ext:profiles/firmware-rt@0.1.0"),
    ]
    assert _statuses(target, wasi_ext.load_world("firmware-net"))[3] == ("listen", "provided", "")


def test_what_each_import_is():
    whats = {s.imp.name: s.what for s in check_imports(MODULE, load_target("host"))}
    assert whats["fd_write"] == "p1"
    assert whats["sleep-until"] == "WIT func(deadline: timestamp) -> errno"
    assert whats["spawn"].startswith("WIT func(start-arg: u32, priority: priority,")
    assert whats["sensor"] == "not WASI"


def test_a_module_importing_only_p1_never_reads_the_wit(monkeypatch):
    """`waft run` checks every module: a p1 program pays nothing for the extensions."""
    def refuse():
        raise AssertionError("the extensions' WIT was loaded")

    monkeypatch.setattr(wasi_ext, "catalogue", refuse)
    monkeypatch.setattr(wasi_ext, "shipped", refuse)
    module = _module((wasi.MODULE, "fd_write", FuncType(("i32",) * 4, ("i32",))))
    assert [s.status for s in check_imports(module, load_target("stm32f4"))] == ["provided"]
