"""The `compile` metric group's figures and its check of what the compiler produced.

The group itself compiles all of wasi-libc (about a minute a level): too
long for the suite, so this runs its figures on a small real module, and
checks that an object for the wrong machine, or one missing exports' symbols,
is an error, not a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aot.compiler import compile_module
from aot.targets import load_target
from bench.metrics import compile_time, programs
from bench.metrics.common import MetricError

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "bench-tests" / "compile"
WAT = """(module
  (func (export "a") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "b") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))"""


@pytest.fixture(scope="module")
def small() -> bytes:
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    return programs.wat(WAT, WORK / "small.wasm").read_bytes()


def test_figures_of_a_small_module(small):
    result = compile_time.figures(load_target("stm32f4"), small, "a two-function module")
    rows = {row.key: row for row in result.rows}
    assert set(rows) == {"decode_validate", "module_O0", "functions_O0", "module_O2", "functions_O2"}
    for key in ("module_O0", "module_O2"):
        assert rows[key].native is None and rows[key].waft.mean > 0 and rows[key].unit == "s"
    assert rows["functions_O2"].waft.mean == pytest.approx(2 / rows["module_O2"].waft.mean)
    assert "a two-function module (2 functions" in result.notes[0]


def test_an_object_for_another_machine_is_an_error(small):
    host_object = compile_module(small, load_target("host"), prefix="m").object
    with pytest.raises(MetricError, match=r"the compiled object is for EM_\w+, not EM_ARM"):
        compile_time.check_object(load_target("stm32f4"), host_object, exports=2)
    arm_object = compile_module(small, load_target("stm32f4"), prefix="m").object
    compile_time.check_object(load_target("stm32f4"), arm_object, exports=2)
    with pytest.raises(MetricError, match="symbols for 100000 exported functions"):
        compile_time.check_object(load_target("stm32f4"), arm_object, exports=100_000)
