"""Lower calls: call, call_indirect, return_call, return_call_indirect.

Direct calls go straight to the callee's internal function (or, for a
single-result import, to the embedder's C function with its ctx).
`call_indirect` reads a `waft_func *` from the table and checks, in order:
index < size (UNDEFINED_ELEMENT), entry not null (UNINITIALIZED_ELEMENT),
signature equal (INDIRECT_CALL_TYPE_MISMATCH).  The signature test is a
pointer compare against this object's linkonce constant; only when the
pointers differ (a function from a separately linked object) does it call
`waft_func_signature_equal`.

A plain `call` is marked `notail`: it must use stack as Wasm says, or
LLVM's tail-recursion elimination would turn `(func $f (call $f))` into an
endless loop where the spec expects stack exhaustion.

Tail calls: when caller and callee have the same type (and, on 32-bit
targets, the arguments all travel in registers) the call is `musttail`, which
LLVM guarantees to compile as a jump, so unbounded tail recursion runs in
constant stack.  Other return_calls are ordinary `tail` calls followed by a
return: LLVM turns most of them into jumps (sibling-call optimisation), but
does not promise to (see `ModuleContext.can_musttail`).  Armv6-M (Thumb-1)
has no tail calls in LLVM at all: there deep mutual tail recursion through
return_call_indirect exhausts the stack and traps CALL_STACK_EXHAUSTED
(direct self and mutual recursion is still turned into loops by LLVM at -O1
and above).
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from aot import abi
from aot.lower import frozen_tables
from aot.lower.context import PTR, FuncContext
from aot.wasm.module import FuncType, Instr

Handler = Callable[[FuncContext, Instr], None]


def _push_results(fctx: FuncContext, result: ir.Value, functype: FuncType) -> None:
    if len(functype.results) == 1:
        fctx.push(result)
    elif len(functype.results) > 1:
        for i in range(len(functype.results)):
            fctx.push(fctx.builder.extract_value(result, i, name=f"result{i}"))


def _finish_tail(fctx: FuncContext, result: ir.Value, functype: FuncType) -> None:
    """`ret` the callee's result as it is (same internal return type) and end the block."""
    if functype.results:
        fctx.builder.ret(result)
    else:
        fctx.builder.ret_void()
    fctx.reachable = False


def _tail_marker(fctx: FuncContext, callee: FuncType) -> str:
    return "musttail" if fctx.mctx.can_musttail(fctx.functype, callee) else "tail"


def lower_call(fctx: FuncContext, instr: Instr) -> None:
    functype = fctx.mctx.module.func_type(instr.imm)
    args = fctx.pop_n(len(functype.params))
    result = fctx.mctx.call_function(fctx.builder, fctx.instance, instr.imm, args, tail="notail")
    _push_results(fctx, result, functype)


def lower_return_call(fctx: FuncContext, instr: Instr) -> None:
    mctx = fctx.mctx
    functype = mctx.module.func_type(instr.imm)
    args = fctx.pop_n(len(functype.params))
    marker = _tail_marker(fctx, functype)
    if marker == "musttail":
        # musttail needs a callee with the caller's exact prototype: the internal one.
        result = fctx.builder.call(mctx.functions[instr.imm], [fctx.instance, *args], tail="musttail")
    else:
        result = mctx.call_function(fctx.builder, fctx.instance, instr.imm, args, tail="tail")
    if fctx.functype.results != functype.results:
        raise fctx.error("return_call to a function with other results (validator should have caught this)")
    _finish_tail(fctx, result, functype)


def _indirect_target(fctx: FuncContext, instr: Instr) -> tuple[FuncType, list[ir.Value], ir.Value, ir.Value]:
    """Pop index and arguments, do every check; returns (type, args, code pointer, callee instance)."""
    mctx, builder = fctx.mctx, fctx.builder
    type_index, table_index = instr.imm
    functype = mctx.module.types[type_index]
    index = fctx.pop()
    args = fctx.pop_n(len(functype.params))
    frozen = frozen_tables.slot_arrays(mctx, table_index)
    if frozen is not None:
        return functype, args, *_frozen_target(fctx, functype, index, *frozen)
    from aot.lower.table import element_slot

    slot = element_slot(fctx, table_index, index, "UNDEFINED_ELEMENT")
    entry = mctx.tbaa(builder.load(slot, name="callee"), "table")
    is_null = builder.icmp_unsigned("==", entry, ir.Constant(PTR, None), name="callee.null")
    fctx.trap_if(is_null, abi.TRAP_CODES["UNINITIALIZED_ELEMENT"], name="callee")
    desc = builder.bitcast(entry, mctx.func_type_struct.as_pointer())

    def member(name: str) -> ir.Value:
        i = abi.field_index("waft_func", name)
        ptr = builder.gep(desc, [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), i)], inbounds=True)
        return mctx.tbaa(builder.load(ptr, name=f"callee.{name}"), "descriptor")

    signature = member("signature")
    expected = mctx.signature_ptr(functype)
    same = builder.icmp_unsigned("==", signature, expected, name="sig.same")
    call_block = fctx.function.append_basic_block("call_indirect.call")
    slow_block = fctx.function.append_basic_block("call_indirect.sigcmp")
    branch = builder.cbranch(same, call_block, slow_block)
    branch.set_weights([2000, 1])
    builder.position_at_end(slow_block)
    equal = builder.call(mctx.runtime_function("waft_func_signature_equal"), [signature, expected], name="sig.equal")
    fctx.trap_if(builder.not_(equal), abi.TRAP_CODES["INDIRECT_CALL_TYPE_MISMATCH"], name="sig")
    builder.branch(call_block)
    builder.position_at_end(call_block)
    return functype, args, member("code"), member("instance")


def _frozen_target(fctx: FuncContext, functype: FuncType, index: ir.Value, size: int, signatures: ir.Value,
                   codes: ir.Value) -> tuple[ir.Value, ir.Value]:
    """(code pointer, callee instance) from a frozen table's constant arrays (aot/lower/frozen_tables.py)."""
    mctx, builder = fctx.mctx, fctx.builder
    fctx.trap_if(builder.icmp_unsigned(">=", index, ir.Constant(index.type, size), name="table.oob"),
                 abi.TRAP_CODES["UNDEFINED_ELEMENT"], name="table")
    slot = [ir.Constant(index.type, 0), builder.zext(index, mctx.intptr) if mctx.pointer_bits == 64 else index]
    signature = builder.load(builder.gep(signatures, slot, inbounds=True), name="callee.signature")
    same = builder.icmp_unsigned("==", signature, mctx.signature_ptr(functype), name="sig.same")
    call_block = fctx.function.append_basic_block("call_indirect.call")
    wrong = fctx.function.append_basic_block("call_indirect.wrong")
    branch = builder.cbranch(same, call_block, wrong)
    branch.set_weights([2000, 1])
    builder.position_at_end(wrong)
    is_null = builder.icmp_unsigned("==", signature, ir.Constant(PTR, None), name="callee.null")
    fctx.trap_if(is_null, abi.TRAP_CODES["UNINITIALIZED_ELEMENT"], name="callee")
    fctx.trap_and_stop(abi.TRAP_CODES["INDIRECT_CALL_TYPE_MISMATCH"])
    builder.position_at_end(call_block)
    fctx.reachable = True  # (trap_and_stop ended the mismatch block, not this one)
    code = builder.load(builder.gep(codes, slot, inbounds=True), name="callee.code")
    return code, fctx.instance


def lower_call_indirect(fctx: FuncContext, instr: Instr) -> None:
    functype, args, code, callee_instance = _indirect_target(fctx, instr)
    fnty = fctx.mctx.internal_type(functype)
    result = fctx.mctx.call_indirect_value(fctx.builder, fnty, code, [callee_instance, *args], tail="notail")
    _push_results(fctx, result, functype)


def lower_return_call_indirect(fctx: FuncContext, instr: Instr) -> None:
    functype, args, code, callee_instance = _indirect_target(fctx, instr)
    fnty = fctx.mctx.internal_type(functype)
    marker = _tail_marker(fctx, functype)
    result = fctx.mctx.call_indirect_value(fctx.builder, fnty, code, [callee_instance, *args], tail=marker)
    _finish_tail(fctx, result, functype)


HANDLERS: dict[str, Handler] = {
    "call": lower_call,
    "call_indirect": lower_call_indirect,
    "return_call": lower_return_call,
    "return_call_indirect": lower_return_call_indirect,
}
