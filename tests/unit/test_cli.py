"""The `waft` command line as a user meets it: outputs, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

ADD_WAT = """(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"""


def waft(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aot", *args], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture
def add_wasm(tmp_path: Path) -> Path:
    wat = tmp_path / "add.wat"
    wat.write_text(ADD_WAT)
    wasm = tmp_path / "add.wasm"
    subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
    return wasm


@pytest.mark.parametrize("target, machine", [("host", None), ("stm32f4", "EM_ARM"),
                                             ("cortex-m0plus", "EM_ARM"),
                                             ("riscv32-virt", "EM_RISCV"),
                                             ("linux-aarch64", "EM_AARCH64")])
def test_compile_writes_object_and_header(add_wasm: Path, target: str, machine: str | None):
    out = add_wasm.with_name(f"add_{target}.o")
    result = waft("compile", str(add_wasm), "-o", str(out), "--target", target, "--name", "add")
    assert result.returncode == 0, result.stderr
    with out.open("rb") as f:
        elf = ELFFile(f)
        assert elf["e_type"] == "ET_REL"
        if machine:
            assert elf["e_machine"] == machine
        symbols = {s.name for s in elf.get_section_by_name(".symtab").iter_symbols()}
    assert {"add_add", "add__initialize"} <= symbols
    header = out.with_suffix(".h").read_text()
    assert "int32_t add_add(add__instance *" in header


def test_malformed_input_is_one_line_and_leaves_nothing(tmp_path: Path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x01\x05")  # type section cut short
    out = tmp_path / "bad.o"
    result = waft("compile", str(bad), "-o", str(out))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"waft: error: {bad}: malformed module:")
    assert "offset 0x" in lines[0]
    assert not out.exists() and not out.with_suffix(".h").exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_invalid_module_names_function_and_offset(tmp_path: Path):
    wat = tmp_path / "inv.wat"
    wat.write_text("(module (func (result i32) (f64.const 1)))")
    wasm = tmp_path / "inv.wasm"
    subprocess.run(["wat2wasm", "--no-check", str(wat), "-o", str(wasm)], check=True)
    result = waft("compile", str(wasm))
    assert result.returncode == 1
    assert "invalid module" in result.stderr and "function 0" in result.stderr
    assert not wasm.with_suffix(".o").exists()


def test_missing_input_file(tmp_path: Path):
    result = waft("compile", str(tmp_path / "nothere.wasm"))
    assert result.returncode == 1
    assert "nothere.wasm" in result.stderr and "Traceback" not in result.stderr


def test_unknown_target_lists_the_known_ones(add_wasm: Path):
    result = waft("compile", str(add_wasm), "--target", "atmega")
    assert result.returncode == 2
    assert "unknown target 'atmega'" in result.stderr and "stm32f4" in result.stderr


def test_bad_option_value_is_a_usage_error(add_wasm: Path):
    result = waft("compile", str(add_wasm), "--opt", "7")
    assert result.returncode == 2
    assert "Invalid value for '-O' / '--opt'" in result.stderr


def test_bad_module_name(add_wasm: Path):
    result = waft("compile", str(add_wasm), "--name", "my-mod")
    assert result.returncode == 2
    assert "not a plain C identifier" in result.stderr


def test_targets_lists_every_target():
    result = waft("targets")
    assert result.returncode == 0
    for name in ("host", "stm32f4", "cortex-m0plus", "mps2-an505", "nrf52840"):
        assert name in result.stdout
    assert "thumbv7em-unknown-none-eabihf" in result.stdout and "cortex-m4" in result.stdout


def test_module_too_big_for_the_board_is_refused_with_the_figures(tmp_path: Path):
    wat = tmp_path / "big.wat"
    wat.write_text('(module (memory (export "memory") 3))')  # 192 KiB: more than the STM32F4's RAM
    wasm = tmp_path / "big.wasm"
    subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
    result = waft("compile", str(wasm), "--target", "stm32f4")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "196,608 bytes of initial linear memory" in result.stderr
    assert "stm32f4 has 131,072" in result.stderr
    assert not wasm.with_suffix(".o").exists() and not wasm.with_suffix(".h").exists()
    assert waft("compile", str(wasm), "--target", "host").returncode == 0  # fine where RAM is ample


def test_bench_refuses_bad_targets_in_one_line():
    unknown = waft("bench", "--target", "nosuch")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip().splitlines() == [unknown.stderr.strip()] and "unknown target 'nosuch'" in unknown.stderr
    host_on_probe = waft("bench", "--target", "host", "--runner", "pyocd")
    assert host_on_probe.returncode == 2 and "runs natively" in host_on_probe.stderr
