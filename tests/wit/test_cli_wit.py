"""`waft wit show` and `waft wit dummy` as a user meets them: output, one-line errors, exit statuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from wit_helpers import DATA, wasi_dir, wasi_layout, write_wit


def waft(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "wit", *args], capture_output=True, text=True)


def test_show_lists_packages_interfaces_and_worlds():
    result = waft("show", str(DATA / "all-types"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "package test:units@1.2.3-rc.1"
    assert "package test:all-types@0.1.0  (main)" in lines
    assert "  interface scalars: 0 types, 14 functions" in lines
    assert "  interface hidden" not in result.stdout  # @unstable, not enabled
    assert "interface hidden" in waft("show", str(DATA / "all-types"), "--features", "experimental").stdout


def test_show_world_gives_each_core_name_and_signature(tmp_path: Path):
    result = waft("show", str(wasi_layout(tmp_path, "0.2.12", "cli")), "--world", "wasi:cli/command")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "world wasi:cli/command@0.2.12: 137 core imports, 5 core exports"
    assert "import wasi:io/streams@0.2.12" in out
    write = next(line for line in out if "[method]output-stream.write " in line)
    assert write.split()[1:4] == ["[i32", "i32", "i32"]
    assert write.endswith("func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>")
    assert any(line.split()[0] == "cabi_post_wasi:cli/run@0.2.12#run" for line in out)


def test_deps_option_reads_packages_side_by_side():
    base = wasi_dir("0.2.12")
    result = waft("show", str(base / "http"), "-d", str(base), "-w", "proxy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("world wasi:http/proxy@0.2.12:")


def test_bad_wit_is_one_line_and_status_1(tmp_path: Path):
    write_wit(tmp_path, {"e.wit": "package a:b;\ninterface i {\n  record r { x: u32 fn }\n}"})
    result = waft("show", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (f"waft: error: invalid WIT: {tmp_path / 'e.wit'}:3:21: "
                             "expected `,` or `}`, found `fn`\n")
    result = waft("dummy", str(tmp_path), "-o", str(tmp_path / "m.wasm"))
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "m.wasm").exists()


def test_world_choice_errors_are_bad_usage(tmp_path: Path):
    out = str(tmp_path / "m.wasm")
    result = waft("dummy", str(DATA / "all-types"), "-o", out)
    assert result.returncode == 2
    assert result.stderr == ("waft: error: package test:all-types@0.1.0 has 3 worlds (all-types, combined, small): "
                             "choose one with --world\n")
    result = waft("dummy", str(DATA / "all-types"), "-w", "nope", "-o", out)
    assert result.returncode == 2
    assert result.stderr.startswith("waft: error: --world nope: world `nope` not found in package")
    assert waft("dummy", str(tmp_path / "nothere"), "-o", out).returncode == 2
    assert waft("dummy", str(DATA / "all-types"), "-w", "small").returncode == 2  # -o is required
