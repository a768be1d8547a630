"""Keep `P__initialize` cheap to compile for big modules: loops over constant tables, long runs split up.

`P__initialize` writes one `waft_func` descriptor per function, one pointer
per element-segment entry, one store per global and import, one runtime call
per active segment.  Written one after the other, that is a single
straight-line block, and LLVM's instruction schedulers are quadratic in a
block's length: 2,000 functions took 17 s and 720 MB to emit on stm32f4,
10,000 took 22 s and 1.3 GB on the host, almost all of it in that one block
(issue 12; `bench/compile_throughput.py --scaling`).  Two remedies, each only
past `STRAIGHT_LINE_LIMIT`, so that ordinary modules keep the code they
always had (smaller, for a handful of functions) and the benchmark modules'
objects stay byte for byte the same:

- what every instance shares (signature and code pointers, the function of
  each `ref.func` entry, the constant initial values of globals) goes into a
  private constant table, and a loop (or one memcpy) copies it into the
  instance, adding what is per instance (the instance pointer, descriptor
  addresses): the same few instructions for any size;
- what remains one step per item (imports, globals with computed values,
  active segments) is spread by `InitSteps` over `noinline` helper functions
  of at most `STRAIGHT_LINE_LIMIT` steps each, called in order.
"""

from __future__ import annotations

from array import array
from itertools import islice
from typing import Callable, Iterable

from llvmlite import ir

from aot import abi
from aot.lower.context import I1, I32, PTR, llvm_type, zero_value
from aot.wasm.module import ConstExpr, Module

# The most items initialize writes one by one in one block (descriptors plus element
# entries; globals; other steps).  A block this long costs LLVM well under a second.
STRAIGHT_LINE_LIMIT = 256

NULL_INDEX = -1  # an element table's entry for ref.null


def wants_loops(module: Module) -> bool:
    """Whether initialize should fill function descriptors and element segments by loops."""
    entries = module.num_imported_funcs + len(module.functions) + sum(len(seg.init) for seg in module.elems)
    return entries > STRAIGHT_LINE_LIMIT


def fill_function_descriptors(mctx, builder: ir.IRBuilder, inst: ir.Value, indices: list[int]) -> None:
    """`funcs[i] = {signature_i, code_i, inst}` for each function of `indices`, from a table of
    (i, signature, code)."""
    from aot.lower.module import F_FUNCS  # late: module.py imports this file

    module = mctx.module
    if not indices:
        return
    types = {i: module.func_type(i) for i in indices}
    row_type = ir.LiteralStructType([I32, PTR, PTR])
    # In order of first use, so that the signature constants are created (and laid out) the same every run.
    signatures = {t: mctx.signature_ptr(t).get_reference() for t in dict.fromkeys(types.values())}
    rows = (f"{row_type} {{{I32} {i}, {PTR} {signatures[types[i]]}, {PTR} {mctx.functions[i].bitcast(PTR).get_reference()}}}"
            for i in indices)
    table = _private_table(mctx, "funcs.table", row_type, len(indices), rows)

    def body(b: ir.IRBuilder, k: ir.Value) -> None:
        row = b.gep(table, [_i32(0), k], inbounds=True)
        index = b.load(b.gep(row, [_i32(0), _i32(0)], inbounds=True), name="index")
        signature = b.load(b.gep(row, [_i32(0), _i32(1)], inbounds=True), name="signature")
        code = b.load(b.gep(row, [_i32(0), _i32(2)], inbounds=True), name="code")
        desc = mctx.field(b, inst, F_FUNCS, index)
        for member, value in (("signature", signature), ("code", code), ("instance", inst)):
            b.store(value, b.gep(desc, [_i32(0), _i32(abi.field_index("waft_func", member))], inbounds=True))

    _counted_loop(builder, len(indices), "funcs", body)


def fill_element_segment(mctx, builder: ir.IRBuilder, inst: ir.Value, index: int) -> list[tuple[int, ConstExpr]]:
    """Evaluate element segment `index`'s `ref.func`/`ref.null` entries by a loop over their function indices.

    Returns the entries the table cannot express (`global.get`...), with their
    positions: the caller evaluates those one by one, after the loop (which
    leaves null in their places).
    """
    from aot.lower.module import F_ELEMS, F_FUNCS  # late: module.py imports this file

    seg = mctx.module.elems[index]
    indices = array("i")  # 4 bytes an entry: a segment may hold ten million
    rest: list[tuple[int, ConstExpr]] = []
    for j, expr in enumerate(seg.init):
        if len(expr) == 1 and expr[0].op == "ref.func":
            indices.append(expr[0].imm)
        else:
            indices.append(NULL_INDEX)
            if not (len(expr) == 1 and expr[0].op == "ref.null"):
                rest.append((j, expr))
    if not indices:
        return rest
    table = _private_table(mctx, f"elem.{index}.table", I32, len(indices), (f"{I32} {k}" for k in indices))

    def body(b: ir.IRBuilder, j: ir.Value) -> None:
        k = b.load(b.gep(table, [_i32(0), j], inbounds=True), name="func.index")
        is_null = b.icmp_unsigned("==", k, ir.Constant(I32, NULL_INDEX & 0xFFFFFFFF), name="is.null")
        # The descriptor's address is computed for the null entries too, and discarded by the select.
        ref = b.bitcast(mctx.field(b, inst, F_FUNCS, k), PTR, name="func.ref")
        b.store(b.select(is_null, ir.Constant(PTR, None), ref), mctx.field(b, inst, F_ELEMS, index, j))

    _counted_loop(builder, len(indices), f"elem.{index}", body)
    return rest


def copies_globals(module: Module) -> bool:
    """Whether initialize copies the globals' constant initial values from a table (many globals)."""
    return len(module.globals) > STRAIGHT_LINE_LIMIT


def copy_constant_globals(mctx, builder: ir.IRBuilder, inst: ir.Value) -> bytearray:
    """Copy every own global's constant initial value from one private constant, with one memcpy.

    Returns a flag per own global: 1 where the copy set it, 0 where the value is
    computed (`global.get`, extended-const, `ref.func`; zero in the table) and
    the caller must store it.
    """
    from aot.lower.module import F_GLOBALS  # late: module.py imports this file

    globals_ = mctx.module.globals
    copied = bytearray(len(globals_))
    struct = ir.LiteralStructType([llvm_type(g.type.valtype) for g in globals_])

    def values():
        for i, g in enumerate(globals_):
            text = _constant_text(g.init)
            copied[i] = text is not None
            yield text if text is not None else str(zero_value(g.type.valtype))

    initial = ir.FormattedConstant(struct, "{" + _join(values()) + "}")
    table = private_constant(mctx, "globals.initial", initial)
    memcpy = mctx.intrinsic(f"llvm.memcpy.p0.p0.i{mctx.pointer_bits}", ir.VoidType(),
                            [PTR, PTR, mctx.intptr, I1])
    dest = builder.bitcast(mctx.field(builder, inst, F_GLOBALS), PTR)
    size = ir.Constant(mctx.intptr, struct.get_abi_size(mctx.target_data))
    builder.call(memcpy, [dest, builder.bitcast(table, PTR), size, ir.Constant(I1, 0)])
    return copied


def _constant_text(expr: ConstExpr) -> str | None:
    """The typed LLVM text of a constant expression that is one constant ("i32 7"), else None."""
    if len(expr) != 1:
        return None
    op, imm = expr[0].op, expr[0].imm
    if op in ("i32.const", "i64.const"):
        bits = 32 if op == "i32.const" else 64
        return f"i{bits} {imm & ((1 << bits) - 1)}"
    if op in ("f32.const", "f64.const"):
        from aot.lower.numeric import float_const  # late: the opcode families import the module driver

        return str(float_const(op[:3], imm))  # a bitcast of the bits: NaN payloads survive
    if op == "ref.null":
        return f"{PTR} null"
    return None


class InitSteps:
    """Hands out where each step of initialize goes: its own body, or past the limit, helper functions.

    A step is a few instructions that need only the function's arguments (the
    instance and the imports), never a value an earlier step computed, so
    any step can start a new helper.  With `total` steps or fewer, everything
    stays in initialize's own block.  Otherwise initialize calls
    `P__initialize.partN(instance, imports)` for N = 0, 1, ... in order, each
    holding STRAIGHT_LINE_LIMIT steps; `noinline`, or LLVM would paste them
    back into one block.
    """

    def __init__(self, mctx, function: ir.Function, builder: ir.IRBuilder, total: int) -> None:
        self.mctx = mctx
        self.function = function
        self.main = builder
        self.split = total > STRAIGHT_LINE_LIMIT
        self.builder = builder
        self.inst, self.imports = function.args
        self._steps = 0
        self._part: ir.Function | None = None
        self._parts = 0
        self._per_part: dict[str, ir.Value] = {}

    def next(self) -> tuple[ir.IRBuilder, ir.Value, ir.Value]:
        """(builder, instance, imports) for the next step."""
        if self.split and self._steps % STRAIGHT_LINE_LIMIT == 0:
            self._begin_part()
        self._steps += 1
        return self.builder, self.inst, self.imports

    def per_part(self, key: str, build: Callable[[ir.IRBuilder, ir.Value, ir.Value], ir.Value]) -> ir.Value:
        """A value computed once per function (initialize or a helper) and shared by its steps."""
        value = self._per_part.get(key)
        if value is None:
            value = self._per_part[key] = build(self.builder, self.inst, self.imports)
        return value

    def finish(self) -> ir.IRBuilder:
        """Close the last helper; returns initialize's own builder, for what follows the steps."""
        self._end_part()
        self.builder = self.main
        self.inst, self.imports = self.function.args
        return self.main

    def _begin_part(self) -> None:
        self._end_part()
        mctx = self.mctx
        part = mctx.add_function(self.function.function_type, f"{self.function.name}.part{self._parts}",
                                 internal=True)
        part.attributes.add("noinline")
        self._parts += 1
        self.main.call(part, list(self.function.args))
        self._part = part
        body = mctx.definition(part)  # the part itself, or its body behind a frame guard
        self.builder = ir.IRBuilder(body.append_basic_block("entry"))
        self.inst, self.imports = body.args
        self.inst.name, self.imports.name = "instance", "imports"
        self._per_part = {}

    def _end_part(self) -> None:
        if self._part is not None:
            self.builder.ret_void()
            self.mctx.retire(self._part)  # done: print it and drop its objects (irtext.py)
            self._part = None


def _i32(value: int) -> ir.Constant:
    return ir.Constant(I32, value)


def _private_table(mctx, name: str, element: ir.Type, count: int, rows: Iterable[str]) -> ir.GlobalVariable:
    """A private constant array of `count` `rows`, given as text ("i32 7"): ten million
    llvmlite constants would take gigabytes, their text a hundred megabytes."""
    return private_constant(mctx, name, ir.FormattedConstant(ir.ArrayType(element, count), "[" + _join(rows) + "]"))


def _join(parts: Iterable[str], batch: int = 1 << 16) -> str:
    """`", ".join(parts)`, holding at most `batch` of the parts at once (not ten million small strings)."""
    parts = iter(parts)
    joined = []
    while chunk := list(islice(parts, batch)):
        joined.append(", ".join(chunk))
    return ", ".join(joined)


def private_constant(mctx, name: str, value: ir.Constant) -> ir.GlobalVariable:
    gv = ir.GlobalVariable(mctx.llmod, value.type, name=name)
    gv.global_constant = True
    gv.linkage = "private"
    gv.unnamed_addr = True
    gv.initializer = value
    return gv


def _counted_loop(builder: ir.IRBuilder, count: int, name: str,
                  body: Callable[[ir.IRBuilder, ir.Value], None]) -> None:
    """`for (i = 0; i < count; i++) body(i)` (count >= 1); the builder continues after the loop."""
    entry = builder.block
    loop = builder.append_basic_block(f"{name}.loop")
    done = builder.append_basic_block(f"{name}.done")
    builder.branch(loop)
    builder.position_at_end(loop)
    i = builder.phi(I32, name=f"{name}.i")
    i.add_incoming(_i32(0), entry)
    body(builder, i)
    following = builder.add(i, _i32(1), name=f"{name}.next")
    i.add_incoming(following, builder.block)
    builder.cbranch(builder.icmp_unsigned("==", following, _i32(count)), done, loop)
    builder.position_at_end(done)
