"""The measurement-only unsafe build: `bounds_checks=False` / `waft compile --unsafe-no-bounds-checks`.

Checked modules trap on an out-of-bounds load; the unchecked build must really
drop the check (no trap call left for a lone load), and the CLI must offer it
only as an explicit, documented-unsafe flag.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from wasm_host import run_wat, wat_to_wasm

from aot import abi
from aot.compiler import compile_module
from aot.targets import load_target

LOAD_WAT = """(module
  (memory 1 1)
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"""


def _load_body(llvm_ir: str) -> str:
    """The optimised body of the load function (internal; the export wrapper only calls it)."""
    match = re.search(r"define internal [^\n]*@wasm\.0\(.*?\n}\n", llvm_ir, re.S)
    assert match, llvm_ir
    return match.group(0)


def _trap_args(body: str) -> set[str]:
    """The arguments of the body's waft_trap calls (a constant code, or a phi of codes)."""
    return set(re.findall(r"call (?:[a-z_]+ )?void @waft_trap\(i32 ([^)]+)\)", body))


# The stack check stays in both builds; only the bounds check may go.
STACK_ONLY = {str(abi.TRAP_CODES["CALL_STACK_EXHAUSTED"])}


def test_out_of_bounds_load_traps_with_checks(tmp_path: Path):
    lines = run_wat(tmp_path, LOAD_WAT, r"""
        TRY(m_load(inst, 65532));
        TRY(m_load(inst, 65533));
    """)
    assert lines == ["ok", "trap 2"]


def test_checked_load_calls_the_trap_and_unchecked_does_not(tmp_path: Path):
    data = wat_to_wasm(LOAD_WAT, tmp_path)
    for target in ("host", "stm32f4"):
        checked = compile_module(data, load_target(target), prefix="m")
        unchecked = compile_module(data, load_target(target), prefix="m", bounds_checks=False)
        checked_traps = _trap_args(_load_body(checked.llvm_ir))
        assert checked_traps and checked_traps != STACK_ONLY
        body = _load_body(unchecked.llvm_ir)
        assert _trap_args(body) <= STACK_ONLY
        assert "load i32" in body


def test_cli_flag_exists_and_says_unsafe(tmp_path: Path):
    helptext = subprocess.run([sys.executable, "-m", "waftkit", "compile", "--help"], capture_output=True,
                              text=True, check=True).stdout
    assert "--unsafe-no-bounds-checks" in helptext
    assert "corrupt memory" in " ".join(helptext.split())
    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(wat_to_wasm(LOAD_WAT, tmp_path))
    out = tmp_path / "m.o"
    result = subprocess.run([sys.executable, "-m", "waftkit", "compile", str(wasm), "-o", str(out),
                             "--emit-llvm", "--unsafe-no-bounds-checks"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _trap_args(_load_body(out.with_suffix(".ll").read_text())) <= STACK_ONLY
