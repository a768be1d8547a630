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


def test_figures_of_a_small_module(small, monkeypatch):
    monkeypatch.setattr(compile_time.os, "cpu_count", lambda: 2)
    result = compile_time.figures(load_target("stm32f4"), {"m": (small, "a two-function module")}, WORK)
    rows = {row.key: row for row in result.rows}
    assert set(rows) == {"m_O0", "m_O0_fps", "m_O2", "m_O2_fps", "m_O2_cpu", "m_O2_j2", "m_O2_j2_fps", "m_O2_j2_cpu",
                         "m_rebuild_unchanged", "m_rebuild_one", "m_rebuild_one_cpu", "m_rebuild_one_api", "m_rebuild_one_api_cpu",
                         "m_rebuild_scons_one", "m_rebuild_scons_one_cpu"}
    for key in ("m_O0", "m_O2", "m_O2_j2", "m_rebuild_one", "m_rebuild_one_cpu", "m_rebuild_scons_one"):
        assert rows[key].native is None and rows[key].waft.mean > 0 and rows[key].unit == "s"
    assert rows["m_O2_fps"].waft.mean == pytest.approx(2 / rows["m_O2"].waft.mean)
    assert rows["m_rebuild_one"].limit == compile_time.REBUILD_GOAL_S
    assert rows["m_rebuild_one"].waft.count == compile_time.EDITS  # one figure per change: `waft compile` ran
    assert rows["m_rebuild_scons_one"].waft.count == rows["m_rebuild_one_api"].waft.count == compile_time.EDITS
    assert "m: a two-function module (2 functions" in result.notes[0]
    # stm32f4 has a RAM figure: the rebuild compiles the module's code only, and says so with the load.
    assert "without its data segments" in result.notes[1] and "Load (1-minute average)" in result.notes[1]
    if shutil.which("wasm2c") and shutil.which("arm-none-eabi-gcc"):
        # wasm2c + gcc -O2 on the same bytes, in the same run: the peer and the goal of the -O2 rows.
        peer = rows["m_O2"].peers[compile_time.WASM2C].mean
        assert peer > 0 and rows["m_O2"].limit == peer
        assert rows["m_O2_fps"].peers[compile_time.WASM2C].mean == pytest.approx(2 / peer)
        assert rows["m_O2_cpu"].peers[compile_time.WASM2C].mean > 0 and rows["m_O2_cpu"].waft.mean > 0


def test_a_one_function_change_changes_one_function(small):
    from aot.wasm.decode import decode_module

    module = decode_module(small)
    changed, index = compile_time.one_function_changed(small, module)
    assert len(changed) == len(small) and changed != small
    after = decode_module(changed)
    differ = [i for i, (f, g) in enumerate(zip(module.functions, after.functions))
              if [(x.op, x.imm) for x in f.body] != [(x.op, x.imm) for x in g.body]]
    assert differ == [index - module.num_imported_funcs]


def test_the_changes_are_in_different_functions(small):
    from aot.wasm.decode import decode_module

    module = decode_module(small)
    assert {compile_time.one_function_changed(small, module, nth)[1] for nth in range(2)} == {0, 1}


def test_code_only_keeps_the_code_and_drops_the_data(tmp_path):
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    from aot.wasm.decode import decode_module

    data = programs.wat('(module (memory 5 9) (data (i32.const 70000) "big") (func (export "f") (result i32) '
                        '(i32.load (i32.const 4))))', tmp_path / "d.wasm").read_bytes()
    module = decode_module(compile_time.code_only(data))
    assert not module.datas and module.memories[0].limits.min == 1 and module.memories[0].limits.max is None
    assert [i.op for i in module.functions[0].body] == [i.op for i in decode_module(data).functions[0].body]


def test_an_object_for_another_machine_is_an_error(small):
    host_object = compile_module(small, load_target("host"), prefix="m").object
    with pytest.raises(MetricError, match=r"the compiled object is for EM_\w+, not EM_ARM"):
        compile_time.check_object(load_target("stm32f4"), host_object, exports=2)
    arm_object = compile_module(small, load_target("stm32f4"), prefix="m").object
    compile_time.check_object(load_target("stm32f4"), arm_object, exports=2)
    with pytest.raises(MetricError, match="symbols for 100000 exported functions"):
        compile_time.check_object(load_target("stm32f4"), arm_object, exports=100_000)
