"""Per-function lowering state: the value stack, the trap block, and small IR helpers.

`ModuleContext` (in `aot/lower/module.py`) holds what every function shares;
`FuncContext` holds what one function's lowering needs.  Every opcode handler
in `aot/lower/<family>.py` has the signature `(fctx: FuncContext, instr: Instr)
-> None`: it pops its operands from `fctx.stack`, emits IR with
`fctx.builder`, and pushes its results.

Traps: each function gets one lazily created trap block per trap code, which
calls `waft_trap(code)`; `trap_if(cond, code)` is one conditional branch to it,
so a function with a hundred bounds checks still has one call per kind of trap.
Not WAMR's single block with a phi of the code (`aot_emit_exception`): LLVM
materialises a phi's incoming constant in each predecessor, which put a `mov`
of the code on the fast path of every check (see `_get_trap_block`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from llvmlite import ir

from aot.errors import AotError
from aot.wasm.module import FuncType, Instr, ValType

if TYPE_CHECKING:  # pragma: no cover - import only for type hints
    from aot.lower.module import ModuleContext

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F32 = ir.FloatType()
F64 = ir.DoubleType()
PTR = ir.PointerType(I8)  # opaque-pointer style: everything is an i8*

LLVM_TYPES: dict[ValType, ir.Type] = {
    "i32": I32,
    "i64": I64,
    "f32": F32,
    "f64": F64,
    "funcref": PTR,
    "externref": PTR,
}


def llvm_type(valtype: ValType) -> ir.Type:
    """The LLVM type that carries a Wasm value type."""
    try:
        return LLVM_TYPES[valtype]
    except KeyError:
        raise AotError(f"value type {valtype} has no lowering") from None


def zero_value(valtype: ValType) -> ir.Constant:
    """The default value of a local or a fresh global of this type."""
    ty = llvm_type(valtype)
    if isinstance(ty, ir.PointerType):
        return ir.Constant(ty, None)
    return ir.Constant(ty, 0)


class FuncContext:
    """Everything the lowering of one function body needs."""

    def __init__(
        self,
        mctx: "ModuleContext",
        func_index: int,
        function: ir.Function,
        builder: ir.IRBuilder,
    ) -> None:
        self.mctx = mctx
        self.func_index = func_index
        self.function = function
        self.builder = builder
        self.stack: list[ir.Value] = []
        self.locals: list[ir.AllocaInstr | None] = []  # one alloca per param and used local (None: unused)
        self.local_types: list[ValType] = []
        self.instr: Instr | None = None  # the instruction being lowered, for errors
        self.body: list[Instr] = []  # the body being lowered, and the index of `instr` in it
        self.instr_index = -1
        # With aot/lower/loop_ranges.py on: {id(load): index} of local.get's loads and
        # {(local, index): value} of local.set/tee's values.
        self.local_reads: dict[int, int] = {}
        self.local_writes: dict[tuple[int, int], ir.Value] = {}
        # aot/lower/check_groups.py's plan for `body`: (body, Plan), made at the first load or store.
        self.check_plan: tuple | None = None
        # Set by a versioned loop's end (aot/lower/control.py): the body index lowering continues at.
        self.resume_at: int | None = None
        self.functype: FuncType | None = None  # the Wasm type of the function being lowered
        # Structured control (aot/lower/control.py): the open blocks, innermost last.
        self.control: list = []
        # False after br/return/unreachable until the matching else/end: the
        # instructions in between are skipped, tracking nesting in dead_depth.
        self.reachable = True
        self.dead_depth = 0
        self._trap_blocks: dict[int, ir.Block] = {}
        self._hoisted: dict[object, ir.Value] = {}
        self._alloca_locals: dict[int, int] | None = None  # id(alloca) -> local index, built on first use
        # aot/lower/guarded_index.py's plan while the body's fast copy is lowered, else None.
        self.guarded = None

    # --- the instance pointer (first parameter of every internal function) --

    @property
    def instance(self) -> ir.Value:
        return self.function.args[0]

    def start_again(self) -> None:
        """Forget the lowering state of a finished copy of the body, to lower it once more."""
        self.stack = []
        self.control = []
        self.reachable = True
        self.dead_depth = 0
        self.resume_at = None
        self.guarded = None
        self.instr, self.instr_index = None, -1
        self.local_reads.clear()
        self.local_writes.clear()

    def local_index(self, alloca: ir.Value) -> int | None:
        """Which local `alloca` holds, or None when it is not a local's."""
        if self._alloca_locals is None:
            self._alloca_locals = {id(a): i for i, a in enumerate(self.locals) if a is not None}
        return self._alloca_locals.get(id(alloca))

    def hoist(self, key: object, build: Callable[[ir.IRBuilder], ir.Value]) -> ir.Value:
        """A value computed once, in the entry block, and reused by every instruction.

        For what cannot change while Wasm code runs: addresses inside the
        instance (GEPs) and the instance's pointer fields (imported memories,
        tables and globals, import ctx), which only P__initialize writes.
        Fewer instructions make lowering and LLVM faster; unused ones are
        deleted by LLVM.
        """
        value = self._hoisted.get(key)
        if value is None:
            entry = self.function.entry_basic_block
            builder = ir.IRBuilder(entry)
            if entry.is_terminated:
                builder.position_before(entry.terminator)
            value = build(builder)
            self._hoisted[key] = value
        return value

    # --- the value stack ---------------------------------------------------

    def push(self, value: ir.Value) -> None:
        self.stack.append(value)

    def pop(self) -> ir.Value:
        if not self.stack:
            raise self.error("value stack underflow (validator should have caught this)")
        return self.stack.pop()

    def pop_n(self, count: int) -> list[ir.Value]:
        """Pop `count` values, returned in push order (deepest first)."""
        if count == 0:
            return []
        if len(self.stack) < count:
            raise self.error("value stack underflow (validator should have caught this)")
        values = self.stack[-count:]
        del self.stack[-count:]
        return values

    # --- traps -------------------------------------------------------------

    def trap_if(self, cond: ir.Value, trap_code: int, name: str = "trap") -> None:
        """Branch to the function's trap block with `trap_code` when `cond` (i1) holds."""
        builder = self.builder
        block = self._get_trap_block(trap_code)
        cont = builder.append_basic_block(name=f"{name}.ok")
        # Traps are cold: tell LLVM so the fast path stays straight-line.
        branch = builder.cbranch(cond, block, cont)
        branch.set_weights([1, 2000])
        builder.position_at_end(cont)

    def trap(self, trap_code: int) -> None:
        """Unconditional trap; leaves the builder in a fresh unreachable block."""
        builder = self.builder
        builder.branch(self._get_trap_block(trap_code))
        builder.position_at_end(builder.append_basic_block(name="after.trap"))

    def trap_and_stop(self, trap_code: int) -> None:
        """Unconditional trap that ends the block: what follows is unreachable code."""
        self.builder.branch(self._get_trap_block(trap_code))
        self.reachable = False

    def _get_trap_block(self, trap_code: int) -> ir.Block:
        """The function's block that traps with `trap_code`, created on first use.

        One block per code, not one block with a phi of the code: a phi's
        incoming constant is materialised in each predecessor, i.e. a `mov
        r, #code` on the fast path of every check, executed on every pass
        through a loop (issue 17: one instruction of the ~4 a check costs).
        """
        block = self._trap_blocks.get(trap_code)
        if block is None:
            block = self.function.append_basic_block(name=f"trap.{trap_code}")
            trap_builder = ir.IRBuilder(block)
            trap_builder.call(self.mctx.runtime_function("waft_trap"), [ir.Constant(I32, trap_code)])
            trap_builder.unreachable()
            self._trap_blocks[trap_code] = block
        return block

    # --- errors ------------------------------------------------------------

    def error(self, message: str) -> AotError:
        """An error that names this function and the current instruction's offset."""
        offset = self.instr.offset if self.instr is not None else None
        op = f'lowering "{self.instr.op}": ' if self.instr is not None else ""
        return AotError(op + message, section="code", func_index=self.func_index, offset=offset)
