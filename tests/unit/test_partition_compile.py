"""The partitioned compile of big modules (aot/partition.py, aot/partition_lower.py, aot/parallel.py).

The plan: every function in exactly one partition, boundaries that a one-function
change does not move, small callees kept with (or copied to) their callers.  The
compile: the same object for any job count, a cache that reuses what did not change
and recompiles what did (giving the cold compile's bytes), and a partitioned module
that runs as the whole-module compile of the same bytes does.  Small modules are
forced through the partitioned path with $WAFT_PARTITION_BYTES.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from aot import partition
from aot.compiler import compile_module
from aot.parallel import PartitionCache
from aot.targets import load_target
from aot.wasm.decode import decode_module
from wasm_host import require_tools, run_c, wat_to_wasm

FUNCTIONS = 40
SPLIT = "300"  # $WAFT_PARTITION_BYTES for the test module: about eight partitions


def module_wat(variant: int = 0) -> str:
    """FUNCTIONS functions that call their neighbours, a table for call_indirect, a passive data segment,
    exports both aliased (same C signature) and wrapped (two results).  `variant` changes function 17 only."""
    funcs = []
    for i in range(FUNCTIONS):
        k = 1000 + i + (variant * 7 if i == 17 else 0)
        callee = f"(call $f{i - 1} (local.get 0))" if i else "(local.get 0)"
        if variant == 2 and i == 17:  # grown by some 150 bytes
            callee = "".join(f"(i32.add (i32.const {j}) " for j in range(30)) + callee + ")" * 30
        funcs.append(f"""
  (func $f{i} (param i32) (result i32) (local i32)
    (local.set 1 {callee})
    (if (i32.gt_u (local.get 0) (i32.const {i}))
      (then (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const {k}))))))
    (i32.store (i32.const {4 * i}) (local.get 1))
    (i32.xor (local.get 1) (i32.load (i32.const {4 * ((i + 3) % FUNCTIONS)}))))""")
    return f"""(module
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (table {FUNCTIONS} funcref)
  (elem (i32.const 0) {' '.join(f'$f{i}' for i in range(FUNCTIONS))})
  (data $d "partitioned!")
  {''.join(funcs)}
  (func $small (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "run") (param i32) (result i32)
    (memory.init $d (i32.const 200) (i32.const 0) (i32.const 12))
    (i32.add (call $f{FUNCTIONS - 1} (call $small (local.get 0)))
             (call_indirect (type $t) (local.get 0) (i32.rem_u (local.get 0) (i32.const {FUNCTIONS})))))
  (func (export "pair") (param i32) (result i32 i32)
    (call $f5 (local.get 0)) (i32.load8_u (i32.const 205)))
  (export "f3" (func $f3))
)"""


@pytest.fixture(scope="module")
def wasm(tmp_path_factory) -> dict[int, bytes]:
    folder = tmp_path_factory.mktemp("partitioned")
    return {v: wat_to_wasm(module_wat(v), folder, f"m{v}") for v in (0, 1, 2)}


@pytest.fixture
def split(monkeypatch) -> None:
    monkeypatch.setenv("WAFT_PARTITION_BYTES", SPLIT)


def compile_host(data: bytes, **options):
    return compile_module(data, load_target("host"), prefix="m", opt="2", **options)


# --- the plan ---------------------------------------------------------------------------


def test_a_small_module_is_one_partition(wasm) -> None:
    module = decode_module(wasm[0])
    parts = partition.plan(wasm[0], module)
    assert len(parts) == 1 and parts[0].module_level
    assert parts[0].functions == tuple(range(len(module.functions)))


def test_every_function_is_defined_in_exactly_one_partition(wasm, split) -> None:
    module = decode_module(wasm[0])
    parts = partition.plan(wasm[0], module)
    assert len(parts) > 3
    assert parts[0].module_level and not parts[0].functions
    assert not any(p.module_level for p in parts[1:])
    defined = [f for p in parts for f in p.functions]
    assert sorted(defined) == list(range(len(module.functions)))
    for p in parts:
        assert not set(p.copies) & set(p.functions)
        assert all(module.functions[c].body_size <= partition.SMALL_BYTES for c in p.copies)


def test_a_grown_function_moves_only_the_boundaries_near_it(wasm, split, monkeypatch) -> None:
    # Content-defined cuts every few functions (a real module's partitions hold dozens: see plan).
    monkeypatch.setattr(partition, "CUT_MASK", 0x3)
    before = partition.plan(wasm[0], decode_module(wasm[0]))
    after = partition.plan(wasm[2], decode_module(wasm[2]))
    changed = [p for p in after if p not in before]
    assert any(17 in p.functions for p in changed)
    assert all(p in after for p in before if p.functions and max(p.functions) < 17), "earlier cuts stay"
    assert len(changed) <= 3, "the cuts after it resynchronise"
    # A change of the same size moves nothing at all.
    assert partition.plan(wasm[1], decode_module(wasm[1])) == before


def test_a_small_callee_goes_to_its_callers_partition(wasm, split) -> None:
    module = decode_module(wasm[0])
    parts = partition.plan(wasm[0], module)
    small, run = FUNCTIONS, FUNCTIONS + 1  # $small, called by "run" alone
    home = [p for p in parts if small in p.functions]
    assert home and run in home[0].functions


def test_the_threshold_keeps_real_small_modules_whole() -> None:
    assert partition.sizes_in_force()[0] == partition.SPLIT_FROM_BYTES


# --- the compile ------------------------------------------------------------------------


def _require_combiners() -> None:
    require_tools()
    for tool in ("ld.lld", "llvm-objcopy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_the_object_is_the_same_for_any_job_count(wasm, split, target_name) -> None:
    _require_combiners()
    target = load_target(target_name)
    one = compile_module(wasm[0], target, prefix="m", jobs=1)
    two = compile_module(wasm[0], target, prefix="m", jobs=2)
    assert one.object == two.object
    assert one.header == two.header
    assert len(one.optimised_parts) > 3


def test_partition_functions_are_local_symbols_in_the_object(wasm, split) -> None:
    _require_combiners()
    elf = ELFFile(io.BytesIO(compile_host(wasm[0]).object))
    symbols = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
    internal = [s for name, s in symbols.items() if name.startswith(("wasm.", "import."))]
    assert internal and all(s["st_info"]["bind"] == "STB_LOCAL" for s in internal)
    exported = [s for name, s in symbols.items() if name.startswith("m_")]
    assert exported and all(s["st_info"]["bind"] == "STB_GLOBAL" for s in exported if s["st_shndx"] != "SHN_UNDEF")


def test_the_cache_reuses_what_did_not_change_and_recompiles_what_did(wasm, split, tmp_path) -> None:
    _require_combiners()
    cache = PartitionCache(tmp_path / "cache")
    cold = compile_host(wasm[0], cache=cache)
    parts = len(cold.optimised_parts)
    assert (cache.hits, cache.misses) == (0, parts)
    again = compile_host(wasm[0], cache=cache)
    assert (cache.hits, cache.misses) == (parts, parts)
    assert again.object == cold.object and again.header == cold.header
    changed = compile_host(wasm[1], cache=cache)
    new_misses = cache.misses - parts
    assert 1 <= new_misses <= 2, "a one-function change recompiles its partition only"
    assert changed.object != cold.object
    assert changed.object == compile_host(wasm[1]).object, "a cached rebuild gives the cold compile's bytes"


def test_a_damaged_cache_entry_is_a_miss(wasm, split, tmp_path) -> None:
    _require_combiners()
    cache = PartitionCache(tmp_path / "cache")
    cold = compile_host(wasm[0], cache=cache)
    for entry in (tmp_path / "cache").iterdir():
        (entry / "frames.json").write_text("{not json")
    assert compile_host(wasm[0], cache=cache).object == cold.object


MAIN = r"""
m__instance *inst = calloc(1, sizeof(m__instance));
m__imports imports; memset(&imports, 0, sizeof imports);
if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) { printf("instantiate failed\n"); return 1; }
for (uint32_t x = 0; x < 90; x += 7) {
    uint32_t a, b; TRY(a = m_run(inst, x)); TRY(b = m_f3(inst, x));
    int32_t c, d; m_pair(inst, x, &c, &d);
    printf("%u %u %d %d\n", a, b, c, d);
}
"""


def test_a_partitioned_module_runs_like_the_whole_module(wasm, tmp_path, monkeypatch) -> None:
    _require_combiners()
    whole = compile_host(wasm[0])
    monkeypatch.setenv("WAFT_PARTITION_BYTES", SPLIT)
    split = compile_host(wasm[0], jobs=2)
    assert not whole.optimised_parts and len(split.optimised_parts) > 3
    outputs = []
    for name, result in (("whole", whole), ("split", split)):
        folder = tmp_path / name
        folder.mkdir()
        program = run_c(folder, {}, MAIN, prebuilt={"m": result})
        assert program.returncode == 0, program.stdout
        outputs.append(program.stdout)
    assert outputs[0] == outputs[1]
    assert "trap" not in outputs[0] and outputs[0].count("ok") == 2 * 13


def test_the_optimised_ir_of_a_partitioned_module_is_one_module(wasm, split) -> None:
    _require_combiners()
    text = compile_host(wasm[0]).optimised_ir()
    assert text.count("@m__initialize") >= 1 and "define" in text


def _waft(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def test_waft_compile_j_writes_the_same_object_and_fills_the_cache(wasm, tmp_path) -> None:
    _require_combiners()
    source = tmp_path / "m.wasm"
    source.write_bytes(wasm[0])
    env = {"WAFT_PARTITION_BYTES": SPLIT, "WAFT_CACHE_DIR": str(tmp_path / "cache")}
    for jobs in ("1", "2"):
        run = _waft("compile", str(source), "-o", str(tmp_path / f"j{jobs}.o"), "-j", jobs, "--emit-llvm", env=env)
        assert run.returncode == 0, run.stderr
    assert (tmp_path / "j1.o").read_bytes() == (tmp_path / "j2.o").read_bytes()
    assert "define" in (tmp_path / "j2.ll").read_text()
    entries = list((tmp_path / "cache" / "partitions" / "host").iterdir())
    assert len(entries) > 3 and all((e / "object.o").is_file() for e in entries)
    bad = _waft("compile", str(source), "-j", "0", env=env)
    assert bad.returncode == 2 and "-j" in bad.stderr and "Traceback" not in bad.stderr


def test_without_the_combining_tools_a_big_module_compiles_whole(wasm, monkeypatch) -> None:
    whole = compile_host(wasm[0])
    monkeypatch.setenv("WAFT_PARTITION_BYTES", SPLIT)
    from aot import parallel

    monkeypatch.setattr(parallel.shutil, "which", lambda tool: None)
    fallback = compile_host(wasm[0], jobs=2)
    assert not fallback.optimised_parts and fallback.object == whole.object
