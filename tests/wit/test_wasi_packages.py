"""Every WASI 0.2 package in ../shared/wit parses and resolves, and every world gets core signatures."""

from __future__ import annotations

from pathlib import Path

import pytest

from aot.wit import CanonicalAbi, core_exports, core_imports, load_wit
from aot.wit.types import key_name

from wit_helpers import WASI_PACKAGES, WASI_VERSIONS, wasi_dir, wasi_layout

CASES = [(v, p) for v in WASI_VERSIONS for p in WASI_PACKAGES]


@pytest.mark.parametrize("version, package", CASES, ids=[f"{v}-{p}" for v, p in CASES])
def test_package_resolves_with_its_deps_folder(tmp_path: Path, version: str, package: str):
    resolve, main = load_wit(wasi_layout(tmp_path, version, package))
    assert str(main.name) == f"wasi:{package}@{version}"
    assert main.interfaces and main.worlds
    abi = CanonicalAbi()
    for world in main.worlds.values():
        imports = core_imports(world, abi)
        assert all(imp.module.startswith("wasi:") and imp.module.endswith(f"@{version}") for imp in imports)
        assert [e.name for e in core_exports(world, abi)][-3:] == ["memory", "cabi_realloc", "_initialize"]


@pytest.mark.parametrize("version", WASI_VERSIONS)
def test_all_packages_side_by_side_through_extra_deps(version: str):
    """The shared tree as it is (packages side by side, no deps/): `extra_deps` reads the siblings."""
    base = wasi_dir(version)
    resolve, main = load_wit(base / "http", extra_deps=[base])
    assert sorted(p.name.name for p in resolve.packages) == sorted(WASI_PACKAGES)
    proxy = resolve.select_world(main, "proxy")
    assert "wasi:http/incoming-handler@" + version in [key_name(k) for k in proxy.exports]


def test_known_signatures_of_wasi_io_streams(tmp_path: Path):
    resolve, main = load_wit(wasi_layout(tmp_path, "0.2.12", "cli"))
    world = resolve.select_world(main, "command")
    sigs = {(i.module, i.name): str(i.type) for i in core_imports(world)}
    streams = "wasi:io/streams@0.2.12"
    # write: func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>
    assert sigs[(streams, "[method]output-stream.write")] == "[i32 i32 i32 i32] -> []"
    # check-write: ... -> result<u64, stream-error>: three flat values, so a return pointer
    assert sigs[(streams, "[method]output-stream.check-write")] == "[i32 i32] -> []"
    assert sigs[("wasi:clocks/monotonic-clock@0.2.12", "now")] == "[] -> [i64]"
    assert sigs[(streams, "[resource-drop]input-stream")] == "[i32] -> []"
    # start-bind takes a network and an ip-socket-address variant: 15 flat values, still in registers
    assert sigs[("wasi:sockets/tcp@0.2.12", "[method]tcp-socket.start-bind")] == "[" + " ".join(["i32"] * 15) + "] -> []"
