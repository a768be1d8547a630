"""One bounds check per group of straight-line loads from one address (aot/lower/check_groups.py).

Three things are held here: which loads the scan groups (and every kind of
instruction that must end a group), that a module whose memory can grow gets
one check per group in its optimised code on the Cortex-M4 (LLVM merges the
checks of a memory of constant size by itself, but not these: before the
change `p->a + p->b + p->c` kept three), and that the traps are exactly the
spec's on the host, the Cortex-M4 and the MPS2 AN386 (a growable memory,
grown during the run): each group's exact last in-bounds address, wraparound,
and every barrier that a merged check must not cross (a branch, a store, a
global.set, a division that traps first, a rewritten local).
"""

from __future__ import annotations

import math
import re
import shutil
import struct
from pathlib import Path

import pytest
from wasm_host import run_c, wat_to_wasm

from aot.compiler import compile_module
from aot.lower import check_groups
from aot.targets import load_target
from aot.wasm.decode import decode_module

REPO = Path(__file__).resolve().parents[2]

FUNCS = r"""
  (global $g (mut i32) (i32.const 0))
  (func (export "node") (param $p i32) (result i32)
    (i32.add (i32.add (i32.mul (i32.load offset=4 (local.get $p)) (i32.const 3))
                      (i32.load (local.get $p)))
             (i32.load offset=8 (local.get $p))))
  (func (export "pair") (param $s i32) (param $i i32) (result i32)
    (i32.or (i32.load8_u (i32.add (local.get $s) (local.get $i)))
            (i32.shl (i32.load8_u offset=1 (i32.add (local.get $s) (local.get $i))) (i32.const 8))))
  (func (export "chain") (param $p i32) (result i32)
    (i32.sub (i32.load offset=4 (i32.load (local.get $p)))
             (i32.load offset=8 (i32.load (local.get $p)))))
  (func (export "dbl") (param $p i32) (result i32)
    (i32.trunc_sat_f64_s (f64.add (f64.load (local.get $p)) (f64.load offset=8 (local.get $p)))))
  ;; the second load is not reached when $out is set: its end must not be checked at the first
  (func (export "branch") (param $p i32) (param $out i32) (result i32) (local $v i32)
    (local.set $v (i32.load (local.get $p)))
    (block (br_if 0 (local.get $out))
      (local.set $v (i32.add (local.get $v) (i32.load offset=8 (local.get $p)))))
    (local.get $v))
  ;; the store must have happened when the later load traps
  (func (export "store") (param $p i32) (result i32) (local $v i32)
    (local.set $v (i32.load (local.get $p)))
    (i32.store8 (i32.const 16) (i32.const 0x5a))
    (i32.add (local.get $v) (i32.load offset=8 (local.get $p))))
  ;; so must the global.set
  (func (export "global") (param $p i32) (result i32) (local $v i32)
    (local.set $v (i32.load (local.get $p)))
    (global.set $g (i32.const 77))
    (i32.add (local.get $v) (i32.load offset=8 (local.get $p))))
  (func (export "get_g") (result i32) (global.get $g))
  ;; a division by zero between traps with its own code first
  (func (export "div") (param $p i32) (param $d i32) (result i32) (local $v i32)
    (local.set $v (i32.load (local.get $p)))
    (local.set $v (i32.add (local.get $v) (i32.div_u (i32.const 100) (local.get $d))))
    (i32.add (local.get $v) (i32.load offset=8 (local.get $p))))
  ;; the same local rewritten between: a different address
  (func (export "rewrite") (param $p i32) (param $q i32) (result i32) (local $v i32)
    (local.set $v (i32.load (local.get $p)))
    (local.set $p (local.get $q))
    (i32.add (local.get $v) (i32.load offset=8 (local.get $p))))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  ;; stores in descending order: the first one's check covers the others (nothing written if it traps)
  (func (export "desc") (param $p i32) (result i32)
    (i32.store offset=8 (local.get $p) (i32.const 0x01010101))
    (i32.store offset=4 (local.get $p) (i32.const 0x02020202))
    (i32.store (local.get $p) (i32.const 0x03030303))
    (i32.const 0))
  ;; p->n = p->n + 1: the store is covered by the load's check
  (func (export "bump") (param $p i32) (result i32)
    (i32.store offset=4 (local.get $p) (i32.add (i32.load offset=4 (local.get $p)) (i32.const 1)))
    (i32.load offset=4 (local.get $p)))
  ;; *pp changes between two stores through it: the second must be checked again
  (func (export "reload") (param $pp i32) (result i32)
    (i32.store offset=8 (i32.load (local.get $pp)) (i32.const 1))
    (i32.store (local.get $pp) (i32.const 65530))
    (i32.store offset=4 (i32.load (local.get $pp)) (i32.const 2))
    (i32.const 0))
  ;; a check inside an `if` does not cover what follows its `end`
  (func (export "ifmerge") (param $p i32) (param $c i32) (result i32)
    (if (local.get $c) (then (drop (i32.load offset=8 (local.get $p)))))
    (i32.load offset=4 (local.get $p)))
  ;; a byte stored, then a halfword loaded: the store's check does not reach the load's end
  (func (export "widen") (param $p i32) (result i32)
    (i32.store8 (local.get $p) (i32.const 7))
    (i32.load16_u (local.get $p)))
"""


def _module(memory: str) -> str:
    return f"(module (memory (export \"mem\") {memory})\n{FUNCS})"


FIXED = _module("1 1")
GROWABLE = _module("1 2")

# (C call, what the spec says) for a memory of 65536 bytes filled with byte i = i * 7 + (i >> 8).
CALLS = [
    ("m_node(inst, 64)", None), ("m_node(inst, 65524)", None), ("m_node(inst, 65525)", "trap 2"),
    ("m_node(inst, 65532)", "trap 2"), ("m_node(inst, 0xfffffff8u)", "trap 2"),
    ("m_pair(inst, 65000, 534)", None), ("m_pair(inst, 65000, 535)", "trap 2"),
    ("m_pair(inst, 0xffffffffu, 1)", None),  # wraps to address 0
    ("m_chain(inst, 100)", None), ("m_chain(inst, 104)", "trap 2"), ("m_dbl(inst, 65520)", None), ("m_dbl(inst, 65521)", "trap 2"),
    ("m_branch(inst, 65528, 1)", None), ("m_branch(inst, 65528, 0)", "trap 2"),
    ("m_branch(inst, 65524, 0)", None),
    ("m_store(inst, 65528)", "trap 2"), ("mem[16]", None),
    ("m_global(inst, 65528)", "trap 2"), ("m_get_g(inst)", None),
    ("m_div(inst, 65528, 0)", "trap 3"), ("m_div(inst, 65524, 0)", "trap 3"), ("m_div(inst, 65528, 5)", "trap 2"),
    ("m_rewrite(inst, 65528, 0)", None), ("m_rewrite(inst, 0, 65528)", "trap 2"),
    ("m_rewrite(inst, 65533, 0)", "trap 2"),
    ("m_desc(inst, 65525)", "trap 2"), ("m_node(inst, 65512)", None), ("m_desc(inst, 65524)", None),
    ("m_node(inst, 65524)", None), ("m_bump(inst, 65528)", None), ("m_bump(inst, 65529)", "trap 2"),
    ("m_ifmerge(inst, 65528, 0)", None), ("m_ifmerge(inst, 65529, 0)", "trap 2"),
    ("m_ifmerge(inst, 65524, 1)", None), ("m_ifmerge(inst, 65525, 1)", "trap 2"),
    ("m_widen(inst, 65534)", None), ("m_widen(inst, 65535)", "trap 2"), ("mem[65535]", None),
    ("m_reload(inst, 100)", "trap 2"), ("m_chain(inst, 100)", "trap 2"),
]
# After memory.grow (growable memory only): the old last addresses are in bounds now.
GROWN = [("m_grow(inst)", None), ("m_node(inst, 65525)", None), ("m_node(inst, 131060)", None),
         ("m_node(inst, 131061)", "trap 2"), ("m_branch(inst, 131068, 1)", None),
         ("m_branch(inst, 131068, 0)", "trap 2")]


# Words the driver writes over the pattern: p->next pointers for chain (one in range, one whose +8 is not).
POINTERS = {100: 200, 104: 65528}


def _memory() -> bytearray:
    mem = bytearray((i * 7 + (i >> 8)) & 0xFF for i in range(65536))
    for at, value in POINTERS.items():
        mem[at:at + 4] = value.to_bytes(4, "little")
    return mem


def _expected(calls: list[tuple[str, str | None]]) -> list[str]:
    """Each call's printed value or trap, from a Python model of the functions above."""
    mem = _memory()
    state = {"g": 0}

    def word(at: int) -> int:
        return int.from_bytes(mem[at:at + 4], "little")

    def signed(v: int) -> int:
        v &= 0xFFFFFFFF
        return v - (1 << 32) if v >= 1 << 31 else v

    def trunc_sat(x: float) -> int:
        if math.isnan(x):
            return 0
        if math.isinf(x):
            return 2**31 - 1 if x > 0 else -2**31
        return max(-2**31, min(2**31 - 1, int(x)))

    def value(call: str) -> int:
        if call.startswith("mem["):
            return mem[int(call[4:-1])]
        name, args = re.fullmatch(r"(\w+)\(inst(?:, (.*))?\)", call).groups()
        nums = [int(a.strip().rstrip("u"), 0) for a in args.split(",")] if args else []
        if name == "m_node":
            return signed(word(nums[0] + 4) * 3 + word(nums[0]) + word(nums[0] + 8))
        if name == "m_pair":
            at = (nums[0] + nums[1]) & 0xFFFFFFFF
            return mem[at] | mem[at + 1] << 8
        if name == "m_chain":
            q = word(nums[0])
            return signed(word(q + 4) - word(q + 8))
        if name == "m_dbl":
            return trunc_sat(struct.unpack("<d", mem[nums[0]:nums[0] + 8])[0]
                             + struct.unpack("<d", mem[nums[0] + 8:nums[0] + 16])[0])
        if name == "m_branch":
            return signed(word(nums[0]) + (0 if nums[1] else word(nums[0] + 8)))
        if name == "m_div":
            return signed(word(nums[0]) + 100 // nums[1] + word(nums[0] + 8))
        if name == "m_rewrite":
            return signed(word(nums[0]) + word(nums[1] + 8))
        if name == "m_get_g":
            return state["g"]
        if name == "m_desc":
            for at, byte in ((nums[0] + 8, 1), (nums[0] + 4, 2), (nums[0], 3)):
                mem[at:at + 4] = bytes([byte]) * 4
            return 0
        if name == "m_bump":
            mem[nums[0] + 4:nums[0] + 8] = ((word(nums[0] + 4) + 1) & 0xFFFFFFFF).to_bytes(4, "little")
            return signed(word(nums[0] + 4))
        if name == "m_widen":
            mem[nums[0]] = 7
            return mem[nums[0]] | mem[nums[0] + 1] << 8
        if name == "m_ifmerge":
            return signed(word(nums[0] + 4))
        if name == "m_grow":
            mem.extend(bytes(65536))
            return 1
        raise AssertionError(call)

    lines = []
    for call, outcome in calls:
        if outcome is None:
            lines.append(str(value(call)))
            continue
        lines.append(outcome)
        if call.startswith("m_store"):
            mem[16] = 0x5A  # the store before the trapping load happened
        if call.startswith("m_global"):
            state["g"] = 77
        if call.startswith("m_widen"):
            mem[int(call.split(",")[1].strip(" )"))] = 7  # the store before the trapping load happened
        if call.startswith("m_reload"):  # the first store and the pointer's update happened
            q = word(100)
            mem[q + 8:q + 12] = (1).to_bytes(4, "little")
            mem[100:104] = (65530).to_bytes(4, "little")
    return lines


def _driver(calls: list[tuple[str, str | None]]) -> str:
    """C statements that print each call's value or its trap (TRY_V), memory filled as `_memory`."""
    lines = ["uint8_t *mem = m_mem(inst)->base;",
             "for (uint32_t i = 0; i < 65536; i++) mem[i] = (uint8_t) (i * 7 + (i >> 8));"]
    lines += [f"{{ uint32_t w_ = {value}u; memcpy(mem + {at}, &w_, 4); }}" for at, value in POINTERS.items()]
    lines += [f"TRY_V({call});" for call, _ in calls]
    return "\n".join(lines)


TRY_V = r"""
#define TRY_V(expr) do { \
    waft_trap_frame frame_; \
    waft_trap_push(&frame_); \
    if (setjmp(frame_.jmp) == 0) { long v_ = (long) (expr); waft_trap_pop(&frame_); printf("%ld\n", v_); } \
    else { printf("trap %d\n", (int) frame_.code); } \
} while (0)
"""


# --- the scan ---------------------------------------------------------------------------------

def _plan(tmp_path: Path, wat: str, func: int) -> tuple[list[str], check_groups.Plan]:
    module = decode_module(wat_to_wasm(wat, tmp_path))
    body = module.functions[func].body
    return [i.op for i in body], check_groups.plan(body, frozenset({0}))


def _loads(ops: list[str]) -> list[int]:
    return [i for i, op in enumerate(ops) if check_groups.is_load(op)]


def test_fields_of_one_pointer_form_one_group(tmp_path):
    ops, plan = _plan(tmp_path, FIXED, 0)  # node: loads at +4, +0, +8
    first, *rest = _loads(ops)
    assert plan.spans == {first: 8} and plan.covered == frozenset(rest)  # 4 + [4, 12): 12 - 4
    ops, plan = _plan(tmp_path, FIXED, 1)  # pair: s + i at +0 and +1
    first, second = _loads(ops)
    assert plan.spans == {first: 2} and plan.covered == {second}
    ops, plan = _plan(tmp_path, FIXED, 3)  # dbl: f64 at +0, +8
    first, second = _loads(ops)
    assert plan.spans == {first: 16} and plan.covered == {second}


def test_a_loaded_pointer_groups_its_own_fields(tmp_path):
    ops, plan = _plan(tmp_path, FIXED, 2)  # chain: (p->next)->+4, (p->next)->+8
    outer1, inner1, outer2, inner2 = _loads(ops)
    assert plan.spans == {outer1: 4, inner1: 8}
    assert plan.covered == {outer2, inner2}
    # With a shared memory (another thread may write p->next in between) the loaded values are not
    # taken as equal: only the two loads of p itself group.
    module = decode_module(wat_to_wasm(FIXED, tmp_path))
    shared = check_groups.plan(module.functions[2].body, frozenset({0}), follow_loads=False)
    assert shared.spans == {outer1: 4} and shared.covered == {outer2}


@pytest.mark.parametrize("func", [4, 5, 6, 8, 9], ids=["br_if", "store", "global.set", "div_u", "rewritten"])
def test_what_ends_a_group(tmp_path, func):
    ops, plan = _plan(tmp_path, FIXED, func)
    assert len(_loads(ops)) == 2
    assert plan.spans == {} and plan.covered == plan.dominated == frozenset()


def test_other_barriers(tmp_path):
    base = "(module (memory 1) (table 1 funcref) (func $f) {body})"
    fill = "(drop (i32.load (local.get 0))) {between} (drop (i32.load offset=8 (local.get 0)))"
    cases = {
        "(call $f)": False, "(drop (memory.grow (i32.const 0)))": False,
        "(drop (i32.trunc_f32_s (f32.const 1)))": False, "(drop (i32.rem_s (i32.const 1) (i32.const 1)))": False,
        "(if (local.get 0) (then nop))": False, "(loop nop)": False, "(block nop)": False,
        "(memory.fill (i32.const 0) (i32.const 0) (i32.const 0))": False,
        "(drop (table.get 0 (i32.const 0)))": False, "(drop (i32.atomic.load (i32.const 0)))": False,
        # harmless: pure arithmetic, a saturating conversion, float division, other loads, local writes
        "(local.set 1 (i32.trunc_sat_f32_s (f32.div (f32.const 1) (f32.const 0))))": True,
        "(drop (i64.load (i32.const 99999)))": True, "(drop (memory.size))": True, "nop": True,
    }
    for between, merged in cases.items():
        func = f"(func (param i32) (local i32) {fill.format(between=between)})"
        wat = base.format(body=func).replace("(memory 1)", "(memory 1 1 shared)" if "atomic" in between
                                             else "(memory 1)")
        module = decode_module(wat_to_wasm(wat, tmp_path, features=("threads",)))
        body = module.functions[1].body
        plan = check_groups.plan(body, frozenset({0}))
        loads = [i for i, instr in enumerate(body) if check_groups.is_load(instr.op)
                 and instr.imm.offset in (0, 8) and body[i - 1].op == "local.get"]
        assert (plan.covered == {loads[1]}) is merged, between
        if merged:
            assert plan.spans[loads[0]] == 12, between


def test_an_earlier_wider_check_covers_later_accesses(tmp_path):
    ops, plan = _plan(tmp_path, FIXED, 11)  # desc: stores at +8, +4, +0
    stores = [i for i, op in enumerate(ops) if check_groups.is_store(op)]
    assert plan.spans == {} and plan.covered == frozenset() and plan.dominated == set(stores[1:])
    ops, plan = _plan(tmp_path, FIXED, 12)  # bump: load +4, store +4, load +4
    accesses = [i for i, op in enumerate(ops) if check_groups.is_store(op) or check_groups.is_load(op)]
    assert plan.dominated == set(accesses[1:])
    ops, plan = _plan(tmp_path, FIXED, 13)  # reload: *pp is stored to between the two stores through it
    loads_of_pp = [i for i in _loads(ops)]
    stores = [i for i, op in enumerate(ops) if check_groups.is_store(op)]
    # pp itself is checked once (its first load); the store through the reloaded *pp is checked again.
    assert plan.dominated == {stores[1], loads_of_pp[1]} and stores[2] not in plan.dominated
    ops, plan = _plan(tmp_path, FIXED, 14)  # ifmerge: the check in the `if` does not reach past its end
    assert plan.covered == plan.dominated == frozenset()
    # Stores in ascending order are not merged (the earlier ones must happen before a later one traps).
    asc = """(module (memory 1) (func (param i32)
      (i32.store (local.get 0) (i32.const 1)) (i32.store offset=4 (local.get 0) (i32.const 2))))"""
    assert _plan(tmp_path, asc, 0)[1] == check_groups.Plan({}, frozenset(), frozenset())
    # A call between keeps a check of a local's value, not of a value read from memory or a global.
    for address, kept in (("(local.get 0)", True), ("(i32.load (local.get 0))", False),
                          ("(global.get 0)", False), ("(memory.size)", False)):
        wat = f"""(module (memory 1) (global (mut i32) (i32.const 0)) (func $f) (func (param i32)
          (drop (i32.load offset=8 {address})) (call $f) (drop (i32.load offset=4 {address}))))"""
        ops, plan = _plan(tmp_path, wat, 1)
        last = max(i for i, op in enumerate(ops) if check_groups.is_load(op))
        assert (last in plan.dominated) is kept, address


def test_a_deep_address_expression_is_not_followed(tmp_path):
    deep = "(local.get 0)" + " (i32.const 1) (i32.add)" * 5000  # folded WAT would nest 5000 deep
    wat = f"(module (memory 1) (func (param i32) {deep} (i32.load) (drop) {deep} (i32.load offset=4) (drop)))"
    ops, plan = _plan(tmp_path, wat, 0)
    assert plan == check_groups.Plan({}, frozenset())


# --- the code -----------------------------------------------------------------------------------

def _bounds_branches(llvm_ir: str, index: int) -> int:
    """Conditional branches to the trap block in internal function `wasm.N`, but the stack check's."""
    match = re.search(rf"define internal [^\n]*@wasm\.{index}\(.*?\n}}\n", llvm_ir, re.S)
    assert match, llvm_ir
    conditions = re.findall(r"br i1 (%[\w.]+), [^\n]*label %trap\b", match.group(0))
    return len([c for c in conditions if c != "%stack.low"])


def test_growable_memory_gets_one_check_per_group_on_cortex_m(tmp_path):
    result = compile_module(wat_to_wasm(GROWABLE, tmp_path), load_target("stm32f4"), prefix="m")
    ir_text = result.llvm_ir
    # node, pair, dbl: one group each; chain: p, then p->next's two fields; branch: two (a br_if between);
    # desc: the first store's check covers the others; bump: the load's covers the store and the reload.
    assert [_bounds_branches(ir_text, i) for i in (0, 1, 2, 3, 4, 11, 12)] == [1, 1, 2, 1, 2, 1, 1]


# --- the traps ------------------------------------------------------------------------------------

def test_traps_on_host(tmp_path):
    for name, wat, calls in (("fixed", FIXED, CALLS), ("growable", GROWABLE, CALLS + GROWN)):
        folder = tmp_path / name
        folder.mkdir()
        prelude = ("m__instance *inst = calloc(1, sizeof(m__instance));\n"
                   "m__imports imports; memset(&imports, 0, sizeof imports);\n"
                   "if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) return 1;\n")
        program = run_c(folder, {"m": wat}, prelude + _driver(calls), extra_c=TRY_V)
        assert program.returncode == 0, program.stdout
        assert program.stdout.splitlines() == _expected(calls), name


BOARD_MAIN = r"""#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "m.h"
""" + TRY_V + r"""
static m__instance instance;
int main(void) {
    m__instance *inst = &instance;
    m__imports imports;
    memset(&imports, 0, sizeof imports);
    if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) return 1;
    @BODY@
    return 0;
}
"""


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize("board, wat, calls", [("stm32f4", FIXED, CALLS), ("mps2-an386", GROWABLE, CALLS + GROWN)],
                         ids=["stm32f4-fixed", "mps2-an386-growable"])
def test_traps_on_cortex_m(tmp_path, board, wat, calls):
    from waftkit.firmware.link import link
    from waftkit.firmware.runtime import runtime_library
    from waftkit.runners.qemu import run_elf

    target = load_target(board)
    result = compile_module(wat_to_wasm(wat, tmp_path, "m"), target, prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    (tmp_path / "m.h").write_text(result.header)
    (tmp_path / "main.c").write_text(BOARD_MAIN.replace("@BODY@", _driver(calls)))
    elf = link(target, [tmp_path / "main.c", tmp_path / "m.o", runtime_library(target, REPO / "build")],
               tmp_path / "m.elf", cflags=[f"-I{tmp_path}"])
    run = run_elf(target, elf, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == _expected(calls)
