"""Lower structured control flow: block, loop, if/else/end, br, br_if, br_table, return, unreachable, nop.

Each open construct is a `Frame` on `fctx.control`.  Values that flow to a
label become phis: a block's (and if's) results are phis in its end block,
collected from every branch to it and from the fall-through; a loop's
parameters are phis in its header, fed by the entry edge and every branch
back.  The function body is the outermost frame, whose end block returns.

After br, br_table, return or unreachable the rest of the block is dead:
`fctx.reachable` goes False and `skip_unreachable` drops instructions,
counting nested block/loop/if, until the matching else or end (which resume
lowering: an `else` arm is reachable from its `if`, and a block's end is
reachable when something branched to it).  No IR is generated for dead code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from llvmlite import ir

from aot import abi
from aot.lower import loop_hints, loop_ranges
from aot.lower.context import I32, FuncContext, llvm_type
from aot.wasm.module import FuncType, Instr, ValType

Handler = Callable[[FuncContext, Instr], None]


@dataclass
class Frame:
    kind: str  # "function" | "block" | "loop" | "if"
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]
    height: int  # value-stack height below the frame's parameters
    end_block: ir.Block
    header: ir.Block | None = None  # loop: the branch target
    header_phis: list[ir.PhiInstr] = field(default_factory=list)
    else_block: ir.Block | None = None  # if: the false arm
    if_params: list[ir.Value] = field(default_factory=list)  # if: params, for the else arm
    has_else: bool = False
    incoming: list[tuple[list[ir.Value], ir.Block]] = field(default_factory=list)
    ranges: object = None  # loop: what aot/lower/loop_ranges.py proved at its entry
    loop_id: object = None  # loop: the `llvm.loop` node its back edges carry (aot/lower/loop_hints.py)

    @property
    def label_types(self) -> tuple[ValType, ...]:
        """What a branch to this frame carries: a loop's params, anything else's results."""
        return self.params if self.kind == "loop" else self.results

    def target(self) -> ir.Block:
        return self.header if self.kind == "loop" else self.end_block

    def mark_back_edge(self, branch: ir.Instruction) -> None:
        """Give a branch to this loop's header the loop's `llvm.loop` node, if it has one."""
        if self.kind == "loop" and self.loop_id is not None:
            branch.set_metadata("llvm.loop", self.loop_id)

    def add_incoming(self, values: list[ir.Value], block: ir.Block) -> None:
        if self.kind == "loop":
            for phi, value in zip(self.header_phis, values):
                phi.add_incoming(value, block)
        else:
            self.incoming.append((list(values), block))


# --- skipping dead code -------------------------------------------------------------


def skip_unreachable(fctx: FuncContext, instr: Instr) -> bool:
    """In dead code: True when `instr` is skipped, False when it must be lowered (it resumes)."""
    op = instr.op
    if op in ("block", "loop", "if"):
        fctx.dead_depth += 1
        return True
    if op == "end":
        if fctx.dead_depth:
            fctx.dead_depth -= 1
            return True
        return False
    if op == "else":
        return fctx.dead_depth > 0
    return True


# --- frames ---------------------------------------------------------------------------


def begin_function(fctx: FuncContext, functype: FuncType) -> None:
    """Open the outermost frame: its end block is where the function returns."""
    end = fctx.function.append_basic_block("return")
    fctx.control.append(Frame("function", (), functype.results, 0, end))


def _block_type(fctx: FuncContext, instr: Instr) -> FuncType:
    return fctx.mctx.module.block_type(instr.imm)


def _label(fctx: FuncContext, depth: int) -> Frame:
    return fctx.control[-1 - depth]


def lower_block(fctx: FuncContext, instr: Instr) -> None:
    bt = _block_type(fctx, instr)
    height = len(fctx.stack) - len(bt.params)
    end = fctx.function.append_basic_block("block.end")
    fctx.control.append(Frame("block", bt.params, bt.results, height, end))


def _enter(fctx: FuncContext, frame: Frame, params: Sequence[ir.Value]) -> None:
    """Open `frame` (whose height excludes its params) and put its params back on the stack.

    loop and if pop their params to branch on them (into the header phis, or
    kept for the else arm); inside the block the body sees them again.
    """
    fctx.control.append(frame)
    for value in params:
        fctx.push(value)


def lower_loop(fctx: FuncContext, instr: Instr) -> None:
    """Open a loop; a loop aot/lower/loop_ranges.py versions is lowered twice (see `_version_checked_copy`)."""
    bt = _block_type(fctx, instr)
    params = fctx.pop_n(len(bt.params))
    header = fctx.function.append_basic_block("loop.header")
    end = fctx.function.append_basic_block("loop.end")
    ranges = loop_ranges.begin_loop(fctx, params)
    _open_loop(fctx, bt.params, bt.results, params, header, end, ranges, fctx.instr_index)


def _open_loop(fctx: FuncContext, param_types: tuple[ValType, ...], result_types: tuple[ValType, ...],
               params: Sequence[ir.Value], header: ir.Block, end: ir.Block, ranges: object, start: int) -> Frame:
    builder = fctx.builder
    entry = builder.block
    builder.branch(header)
    builder.position_at_end(header)
    phis = []
    for i, (valtype, value) in enumerate(zip(param_types, params)):
        phi = builder.phi(llvm_type(valtype), name=f"loop.param{i}")
        phi.add_incoming(value, entry)
        phis.append(phi)
    frame = Frame("loop", param_types, result_types, len(fctx.stack), end, header=header, header_phis=phis,
                  ranges=ranges, loop_id=loop_hints.loop_id(fctx.mctx, fctx.body, start))
    _enter(fctx, frame, phis)
    return frame


def _version_checked_copy(fctx: FuncContext, frame: Frame) -> bool:
    """At the `end` of a loop's proven copy: open its checked copy, to be lowered from the loop's start again.

    The proven copy (lowered first, with `frame.ranges`) ran only when the
    precondition held; the checked copy is the loop as lowered without
    loop_ranges, entered when it did not (or the trip count was out of
    range).  Both copies fall through to the same end block, so the results'
    phis collect from both; branches out of the loop reach the same outer
    frames from either copy.  Lowering resumes after the `loop` instruction
    (`fctx.resume_at`), with the value stack as it was there: returns True.
    When the proven copy left no check out, it is the checked one too, and
    the only one: returns False, and the loop's end is lowered as usual.
    """
    facts = frame.ranges
    builder = fctx.builder
    builder.position_at_end(facts.checked_entry)
    if not facts.covered:
        for phi, value in zip(frame.header_phis, facts.params):
            phi.add_incoming(value, facts.checked_entry)
        builder.branch(frame.header)
        return False
    if not loop_ranges.worth_versioning(facts):
        facts.choice.replace_usage(facts.ok, ir.Constant(ir.IntType(1), 0))
    fctx.reachable = True
    header = fctx.function.append_basic_block("loop.header")
    checked = _open_loop(fctx, frame.params, frame.results, facts.params, header, frame.end_block, None,
                         facts.start)
    checked.incoming.extend(frame.incoming)
    fctx.resume_at = facts.start + 1
    return True


def lower_if(fctx: FuncContext, instr: Instr) -> None:
    bt = _block_type(fctx, instr)
    builder = fctx.builder
    cond = builder.icmp_unsigned("!=", fctx.pop(), ir.Constant(I32, 0), name="if.cond")
    params = fctx.pop_n(len(bt.params))
    then_block = fctx.function.append_basic_block("if.then")
    else_block = fctx.function.append_basic_block("if.else")
    end = fctx.function.append_basic_block("if.end")
    builder.cbranch(cond, then_block, else_block)
    builder.position_at_end(then_block)
    _enter(fctx, Frame("if", bt.params, bt.results, len(fctx.stack), end, else_block=else_block, if_params=params),
           params)


def _fall_through(fctx: FuncContext, frame: Frame) -> None:
    """At else/end of reachable code: the results flow to the frame's end block."""
    if fctx.reachable:
        values = fctx.pop_n(len(frame.results))
        frame.incoming.append((values, fctx.builder.block))
        fctx.builder.branch(frame.end_block)
    del fctx.stack[frame.height:]


def lower_else(fctx: FuncContext, instr: Instr) -> None:
    frame = fctx.control[-1]
    _fall_through(fctx, frame)
    frame.has_else = True
    fctx.builder.position_at_end(frame.else_block)
    fctx.reachable = True
    for value in frame.if_params:
        fctx.push(value)


def lower_end(fctx: FuncContext, instr: Instr) -> None:
    frame = fctx.control.pop()
    builder = fctx.builder
    _fall_through(fctx, frame)
    if frame.kind == "loop" and frame.ranges is not None and _version_checked_copy(fctx, frame):
        return
    if frame.kind == "if" and not frame.has_else:
        # No else arm: the false edge carries the params through (params == results).
        builder.position_at_end(frame.else_block)
        builder.branch(frame.end_block)
        frame.incoming.append((list(frame.if_params), frame.else_block))
    builder.position_at_end(frame.end_block)
    if not frame.incoming:
        # Nothing reaches the end: the code after it is dead too.
        builder.unreachable()
        fctx.reachable = False
        return
    fctx.reachable = True
    values = []
    for i, valtype in enumerate(frame.results):
        phi = builder.phi(llvm_type(valtype), name=f"{frame.kind}.result{i}")
        for incoming_values, block in frame.incoming:
            phi.add_incoming(incoming_values[i], block)
        values.append(phi)
    if frame.kind == "function":
        emit_return(fctx, values)
        fctx.reachable = False
    else:
        for value in values:
            fctx.push(value)


def emit_return(fctx: FuncContext, values: list[ir.Value]) -> None:
    """`ret` with the internal convention: void, the value, or a literal struct."""
    builder = fctx.builder
    if not values:
        builder.ret_void()
    elif len(values) == 1:
        builder.ret(values[0])
    else:
        ret_type = fctx.function.function_type.return_type
        agg = ir.Constant(ret_type, ir.Undefined)
        for i, value in enumerate(values):
            agg = builder.insert_value(agg, value, i)
        builder.ret(agg)


# --- branches --------------------------------------------------------------------------


def lower_br(fctx: FuncContext, instr: Instr) -> None:
    frame = _label(fctx, instr.imm)
    values = fctx.pop_n(len(frame.label_types))
    frame.add_incoming(values, fctx.builder.block)
    frame.mark_back_edge(fctx.builder.branch(frame.target()))
    fctx.reachable = False


def lower_br_if(fctx: FuncContext, instr: Instr) -> None:
    builder = fctx.builder
    frame = _label(fctx, instr.imm)
    cond = builder.icmp_unsigned("!=", fctx.pop(), ir.Constant(I32, 0), name="br_if.cond")
    arity = len(frame.label_types)
    values = list(fctx.stack[len(fctx.stack) - arity:]) if arity else []
    cont = fctx.function.append_basic_block("br_if.else")
    frame.add_incoming(values, builder.block)
    frame.mark_back_edge(builder.cbranch(cond, frame.target(), cont))
    builder.position_at_end(cont)


def lower_br_table(fctx: FuncContext, instr: Instr) -> None:
    builder = fctx.builder
    depths, default = instr.imm
    index = fctx.pop()
    arity = len(_label(fctx, default).label_types)
    values = fctx.pop_n(arity)
    # One edge block per distinct target: a switch may list a label many times,
    # but a phi takes one entry per predecessor block.
    edges: dict[int, ir.Block] = {}
    for depth in (*depths, default):
        if depth in edges:
            continue
        edge = fctx.function.append_basic_block(f"br_table.to{depth}")
        edges[depth] = edge
        frame = _label(fctx, depth)
        edge_builder = ir.IRBuilder(edge)
        frame.add_incoming(values, edge)
        frame.mark_back_edge(edge_builder.branch(frame.target()))
    switch = builder.switch(index, edges[default])
    for i, depth in enumerate(depths):
        if depth != default:
            switch.add_case(ir.Constant(I32, i), edges[depth])
    fctx.reachable = False


def lower_return(fctx: FuncContext, instr: Instr) -> None:
    lower_br(fctx, Instr("br", len(fctx.control) - 1, instr.offset))


def lower_unreachable(fctx: FuncContext, instr: Instr) -> None:
    fctx.trap_and_stop(abi.TRAP_CODES["UNREACHABLE"])


def lower_nop(fctx: FuncContext, instr: Instr) -> None:
    pass


HANDLERS: dict[str, Handler] = {
    "block": lower_block,
    "loop": lower_loop,
    "if": lower_if,
    "else": lower_else,
    "end": lower_end,
    "br": lower_br,
    "br_if": lower_br_if,
    "br_table": lower_br_table,
    "return": lower_return,
    "unreachable": lower_unreachable,
    "nop": lower_nop,
}
