"""The fast rebuild of a partitioned module (aot/partition_lower.py, aot/parallel.py): what it may skip or reuse.

A one-function rebuild lowers only the stale partition, defines in it only the
import thunks its code calls, and reuses cached partitions and combined
objects.  Each shortcut is checked against the way it could go wrong: a
partition that calls an import (multi-value, tail call, funcref) must still
run like the whole-module compile; a reuse must never hand back an object
made for another module, other options or another target.
"""

from __future__ import annotations

import io
import re
import shutil

import pytest
from elftools.elf.elffile import ELFFile

from aot.compiler import compile_module
from aot.parallel import PartitionCache
from aot.targets import load_target
from wasm_host import require_tools, run_c, wat_to_wasm

FUNCTIONS = 30
SPLIT = "300"  # $WAFT_PARTITION_BYTES: several partitions for this module


def module_wat(k: int = 1000) -> str:
    """FUNCTIONS functions in a chain; every fifth calls a two-result import (through its thunk), every
    seventh tail-calls a one-result import of its own type (musttail to the thunk), and the table holds an
    import (its thunk's address, in P__initialize).  `k` changes function 12's constant only."""
    funcs = []
    for i in range(FUNCTIONS):
        callee = f"(call $f{i - 1} (local.get 0))" if i else "(local.get 0)"
        extra = ""
        if i % 5 == 3:
            extra = "(local.set 1 (i32.add (local.get 1) (i32.mul (call $pair (local.get 0)))))"
        body = f"(i32.xor (local.get 1) (i32.const {k if i == 12 else 1000 + i}))"
        if i % 7 == 4:
            body = f"(return_call $add1 (i32.xor (local.get 1) (i32.const {1000 + i})))"
        funcs.append(f"""
  (func $f{i} (type $t) (local i32)
    (local.set 1 {callee})
    (if (i32.gt_u (local.get 0) (i32.const {i}))
      (then (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const {i + 3}))))))
    {extra}
    (i32.store (i32.const {4 * i}) (local.get 1))
    {body})""")
    return f"""(module
  (type $t (func (param i32) (result i32)))
  (import "env" "add1" (func $add1 (type $t)))
  (import "env" "pair" (func $pair (param i32) (result i32 i32)))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $add1 $f{FUNCTIONS - 1})
  {''.join(funcs)}
  (func (export "run") (param i32) (result i32)
    (i32.add (call $f{FUNCTIONS - 1} (local.get 0))
             (call_indirect (type $t) (local.get 0) (i32.and (local.get 0) (i32.const 1)))))
)"""


IMPORTS_C = r"""
int32_t env__add1(void *ctx, int32_t x) { (void)ctx; return x + 1; }
void env__pair(void *ctx, int32_t x, int32_t *a, int32_t *b) { (void)ctx; *a = x + 2; *b = 3 * x; }
"""

MAIN = r"""
m__instance *inst = calloc(1, sizeof(m__instance));
m__imports imports; memset(&imports, 0, sizeof imports);
if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) { printf("instantiate failed\n"); return 1; }
for (uint32_t x = 0; x < 60; x += 7) { uint32_t a; TRY(a = m_run(inst, x)); printf("%u\n", a); }
"""


@pytest.fixture(scope="module")
def wasm(tmp_path_factory) -> dict[int, bytes]:
    folder = tmp_path_factory.mktemp("rebuild")
    return {k: wat_to_wasm(module_wat(k), folder, f"m{k}", ("tail-call",)) for k in (1000, 1001)}


@pytest.fixture
def split(monkeypatch) -> None:
    monkeypatch.setenv("WAFT_PARTITION_BYTES", SPLIT)


def _require_combiners() -> None:
    require_tools()
    for tool in ("ld.lld", "llvm-objcopy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def compile_host(data: bytes, **options):
    return compile_module(data, load_target("host"), prefix="m", opt="2", **options)


def test_partitions_that_call_imports_run_like_the_whole_module(wasm, tmp_path, monkeypatch) -> None:
    _require_combiners()
    whole = compile_host(wasm[1000])
    monkeypatch.setenv("WAFT_PARTITION_BYTES", SPLIT)
    split = compile_host(wasm[1000], jobs=2)
    assert not whole.optimised_parts and len(split.optimised_parts) > 3
    # The thunks are defined where they are called, never everywhere: the module partition has them all,
    # a partition that calls none has none.
    thunk_defs = [len(re.findall(r'^define .*@"?import\.\d+"?\(', ir, re.M)) for ir in split.optimised_parts]
    assert thunk_defs[0] == 2 and 0 in thunk_defs[1:]
    elf = ELFFile(io.BytesIO(split.object))
    undefined = [s.name for s in elf.get_section_by_name(".symtab").iter_symbols()
                 if s["st_shndx"] == "SHN_UNDEF" and s.name]
    assert not [name for name in undefined if name.startswith(("import.", "wasm."))], undefined
    outputs = []
    for name, result in (("whole", whole), ("split", split)):
        folder = tmp_path / name
        folder.mkdir()
        program = run_c(folder, {}, MAIN, prebuilt={"m": result}, extra_c=IMPORTS_C)
        assert program.returncode == 0, program.stdout
        outputs.append(program.stdout)
    assert outputs[0] == outputs[1] and "trap" not in outputs[0] and outputs[0].count("ok") == 9


def test_a_rebuild_after_a_change_gives_the_cold_compile_bytes(wasm, split, tmp_path) -> None:
    _require_combiners()
    cache = PartitionCache(tmp_path / "cache")
    compile_host(wasm[1000], cache=cache)
    misses = cache.misses
    rebuilt = compile_host(wasm[1001], cache=cache)
    assert cache.misses - misses == 1, "one partition is stale"
    assert rebuilt.object == compile_host(wasm[1001]).object
    assert rebuilt.header == compile_host(wasm[1001]).header


BIG_FRAMES = "\n".join(f"""
  (func $big{i} (export "big{i}") (param i64) (result i64) (local {" i64" * 40})
    {" ".join(f"(local.set {j + 1} (i64.load offset={8 * j} (i32.const {i * 8})))" for j in range(40))}
    (drop (call_indirect (type $t) (i64.const 0) (i32.const 0)))
    local.get 1 {" ".join(f"local.get {j + 1} i64.add" for j in range(1, 40))})""" for i in range(6))


def test_frames_are_settled_alike_here_and_in_workers(tmp_path, monkeypatch) -> None:
    """With -j3 this process compiles partitions beside two workers, and it captures descriptor 2 while
    LLVM reports frames: a worker must not report into that capture.  Every partition's big frames get
    the same guards, and the object the same bytes, as with -j1 (all in this process)."""
    _require_combiners()
    import dataclasses

    wat = f"""(module (memory 1) (type $t (func (param i64) (result i64))) (table (export "table") 1 funcref)
      (elem (i32.const 0) $leaf)
      (func $leaf (type $t) (local.get 0)) {BIG_FRAMES})"""
    data = wat_to_wasm(wat, tmp_path, "big")
    monkeypatch.setenv("WAFT_PARTITION_BYTES", "64")
    target = dataclasses.replace(load_target("host"), max_unguarded_frame=64)
    one = compile_module(data, target, prefix="m", jobs=1)
    three = compile_module(data, target, prefix="m", jobs=3)
    assert len(one.optimised_parts) > 3
    assert len(one.frame_guards) >= 6 and one.frame_guards == three.frame_guards
    assert one.frame_sizes == three.frame_sizes and one.object == three.object and one.header == three.header
