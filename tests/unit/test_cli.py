"""The `waft` command line as a user meets it: outputs, one-line errors, exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

ADD_WAT = """(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"""


def waft(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *args], capture_output=True, text=True,
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


@pytest.mark.parametrize("command", ["compile", "run", "check"])
def test_missing_input_file_is_one_line_of_bad_usage(tmp_path: Path, command: str):
    result = waft(command, str(tmp_path / "nothere.wasm"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"waft: error: Invalid value for 'INPUT': File '{tmp_path / 'nothere.wasm'}' does not exist. "
        f"(see `waft {command} --help`)"]


@pytest.mark.parametrize("args, status, message", [
    (["compile", "--no-such-option"], 2, "No such option '--no-such-option'"),
    (["nosuchcommand"], 2, "No such command 'nosuchcommand'"),
    (["run", "{wasm}", "--dir", "nodoublecolon"], 2, "--dir wants HOST::GUEST"),
    (["run", "{wasm}", "--target", "host", "--runner", "pyocd"], 2, "--runner/--probe are for boards"),
    (["run", "{wasm}", "--target", "host", "--icount"], 2, "--icount is for boards under QEMU"),
    (["run", "{wasm}", "--target", "stm32f4", "--runner", "pyocd", "--icount"], 2, "--icount is for boards under QEMU"),
    (["run", "{wasm}", "--max-threads", "65"], 2, "at most 64 threads"),
    (["run", "{wasm}", "--target", "nrf52840"], 2, "nrf52840 has no QEMU machine"),
    (["spectest", "{dir}", "--target", "host"], 2, "no .wast files found"),
    (["check", "{wasm}", "--target", "nosuch"], 2, "unknown target 'nosuch'"),
    (["run", "{wasm}"], 1, "exports no _start function"),
])
def test_every_error_is_one_line_with_the_documented_status(add_wasm: Path, args, status, message):
    args = [a.format(wasm=add_wasm, dir=add_wasm.parent) for a in args]
    result = waft(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and lines[0].startswith("waft: error: ") and message in lines[0], result.stderr


@pytest.mark.parametrize("command", ["compile", "run", "check", "spectest", "bench"])
def test_every_target_and_opt_option_is_explained(command: str):
    text = waft(command, "--help").stdout
    assert text.startswith(f"Usage: waft {command} "), text  # click's help, not another parser's
    target_help = text[text.index("--target"):].split("\n-", 1)[0]
    assert "Target board or core" in target_help, text
    if "--opt" in text:
        assert "LLVM optimisation level" in text[text.index("--opt"):], text


def test_an_output_named_like_its_header_is_refused(add_wasm: Path, tmp_path: Path):
    out = tmp_path / "o" / "add.h"
    result = waft("compile", str(add_wasm), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"waft: error: -o {out}: the object would be overwritten by its own header; "
                                     f"name it {out.with_suffix('.o')}")
    assert not (tmp_path / "o").exists()


def test_outputs_are_readable_like_any_compiler_output(add_wasm: Path, tmp_path: Path):
    umask = os.umask(0o022)
    os.umask(umask)
    out = tmp_path / "add.o"
    assert waft("compile", str(add_wasm), "-o", str(out), "--emit-llvm").returncode == 0
    for path in (out, out.with_suffix(".h"), out.with_suffix(".ll")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


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


def _wasm(tmp_path: Path, name: str, wat: str) -> Path:
    (tmp_path / f"{name}.wat").write_text(wat)
    wasm = tmp_path / f"{name}.wasm"
    subprocess.run(["wat2wasm", str(tmp_path / f"{name}.wat"), "-o", str(wasm)], check=True)
    return wasm


def test_module_too_big_for_the_board_is_refused_with_the_figures(tmp_path: Path):
    # 192 KiB of initial memory: more than the STM32F4's RAM, whatever the cap.
    wasm = _wasm(tmp_path, "big", '(module (memory (export "memory") 3))')
    for extra in ([], ["--max-pages", "1"]):
        result = waft("compile", str(wasm), "--target", "stm32f4", *extra)
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "196,608 bytes of linear memory at its build-time cap, 196,608 initial" in result.stderr
        assert "stm32f4 has 131,072" in result.stderr
        # No cap can help a module whose initial memory does not fit: no advice to lower it.
        assert "initial memory alone does not fit" in result.stderr and "lower --max-pages" not in result.stderr
    assert not wasm.with_suffix(".o").exists() and not wasm.with_suffix(".h").exists()
    assert waft("compile", str(wasm), "--target", "host").returncode == 0  # fine where RAM is ample


def test_a_cap_above_the_initial_memory_is_the_advice(tmp_path: Path):
    wasm = _wasm(tmp_path, "growable", '(module (memory (export "memory") 1 16))')
    result = waft("compile", str(wasm), "--target", "stm32f4", "--max-pages", "4")
    assert result.returncode == 1
    assert "262,144 bytes of linear memory at its build-time cap, 65,536 initial" in result.stderr
    assert "lower --max-pages (the module declares 1 page(s) initially)" in result.stderr
    assert waft("compile", str(wasm), "--target", "stm32f4", "--max-pages", "1").returncode == 0


def test_the_fit_check_comes_before_llvm(tmp_path: Path, monkeypatch):
    """A module that cannot fit is refused before the expensive LLVM pipeline runs at all."""
    import aot.compiler
    from aot.errors import TargetError
    from aot.targets import load_target

    def llvm_must_not_run(*args, **kwargs):
        raise AssertionError("emit_object ran before the fit check")

    monkeypatch.setattr(aot.compiler, "emit_object", llvm_must_not_run)
    wasm = _wasm(tmp_path, "big", '(module (memory (export "memory") 3))')
    with pytest.raises(TargetError, match="stm32f4 has 131,072"):
        aot.compiler.compile_file(wasm, tmp_path / "big.o", load_target("stm32f4"), fits_board=True)


def test_bench_refuses_bad_targets_in_one_line():
    unknown = waft("bench", "--target", "nosuch")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip().splitlines() == [unknown.stderr.strip()] and "unknown target 'nosuch'" in unknown.stderr
    host_on_probe = waft("bench", "--target", "host", "--runner", "pyocd")
    assert host_on_probe.returncode == 2 and "runs natively" in host_on_probe.stderr
