"""The Wasm validator: checks a decoded `Module` against the spec's typing rules.

Table of contents:
    validate_module()                the module-level rules, in the spec's order
    _ModuleValidator.check_*()       limits, constant expressions, segments, exports, start
    _FuncValidator.run()             one function body, by the spec appendix's
                                     "Validation Algorithm": an operand stack
                                     whose entries may be Unknown (None), and a
                                     control stack whose frames carry an
                                     `unreachable` flag that makes the stack
                                     polymorphic after br/br_table/return/
                                     return_call*/unreachable

Every failure raises `ValidationError` naming the section, the function index
(in the function index space, imports first) and the byte offset of the
offending instruction or entry.
"""

from __future__ import annotations

import gc

from aot.errors import ValidationError
from aot.wasm import opcodes as _oc
from aot.wasm.module import FuncType, Instr, Limits, Module

MAX_PAGES_64K = 65536  # 4 GiB of 64 KiB pages
MAX_BYTES_1B = (1 << 32) - 1  # 1-byte pages: 4 GiB - 1 bytes

REF_TYPES = frozenset(("funcref", "externref"))
# Types `select` without a type annotation may choose between (v128 too, by the
# spec's rule, though SIMD modules never reach the validator).
NUMERIC_OR_VEC = frozenset(("i32", "i64", "f32", "f64", "v128"))

# Ops whose stack effect is fixed and that need no context at all:
# op -> (number of params, params as a list, results as a list).
_PURE: dict[str, tuple[int, list, list]] = {
    op: (len(p), list(p), list(r))
    for op, (p, r) in _oc.SIGNATURES.items()
    if op not in _oc.NATURAL_ALIGN and op not in _oc.ATOMIC_ALIGN and op not in ("memory.copy", "memory.fill")
}
# Memory access ops: op -> (params, results, natural alignment log2).
_MEMOPS: dict[str, tuple[list, list, int]] = {
    op: (list(_oc.SIGNATURES[op][0]), list(_oc.SIGNATURES[op][1]), a)
    for op, a in _oc.NATURAL_ALIGN.items()
}
# Atomic memory ops (threads): op -> (params, results, alignment log2, which must be exact).
# atomic.fence needs no memory and is in _PURE.  Atomics on an unshared memory are
# valid (wait traps at run time), as the proposal says.
_ATOMICS: dict[str, tuple[list, list, int]] = {
    op: (list(_oc.SIGNATURES[op][0]), list(_oc.SIGNATURES[op][1]), a)
    for op, a in _oc.ATOMIC_ALIGN.items()
}

# The remaining ops, numbered for an if-chain ordered by how common they are.
(
    _LOCAL_GET, _LOCAL_SET, _LOCAL_TEE, _GLOBAL_GET, _GLOBAL_SET, _CALL, _BR_IF, _BLOCK,
    _LOOP, _END, _BR, _IF, _ELSE, _RETURN, _DROP, _SELECT, _BR_TABLE, _UNREACHABLE,
    _CALL_INDIRECT, _RETURN_CALL, _RETURN_CALL_INDIRECT, _MEMORY_SIZE, _MEMORY_GROW,
    _MEMORY_COPY, _MEMORY_FILL, _MEMORY_INIT, _DATA_DROP, _REF_NULL, _REF_IS_NULL,
    _REF_FUNC, _TABLE_GET, _TABLE_SET, _TABLE_SIZE, _TABLE_GROW, _TABLE_FILL, _TABLE_COPY,
    _TABLE_INIT, _ELEM_DROP,
) = range(38)
_SPECIAL: dict[str, int] = {
    "local.get": _LOCAL_GET, "local.set": _LOCAL_SET, "local.tee": _LOCAL_TEE,
    "global.get": _GLOBAL_GET, "global.set": _GLOBAL_SET, "call": _CALL, "br_if": _BR_IF,
    "block": _BLOCK, "loop": _LOOP, "end": _END, "br": _BR, "if": _IF, "else": _ELSE,
    "return": _RETURN, "drop": _DROP, "select": _SELECT, "br_table": _BR_TABLE,
    "unreachable": _UNREACHABLE, "call_indirect": _CALL_INDIRECT,
    "return_call": _RETURN_CALL, "return_call_indirect": _RETURN_CALL_INDIRECT,
    "memory.size": _MEMORY_SIZE, "memory.grow": _MEMORY_GROW, "memory.copy": _MEMORY_COPY,
    "memory.fill": _MEMORY_FILL, "memory.init": _MEMORY_INIT, "data.drop": _DATA_DROP,
    "ref.null": _REF_NULL, "ref.is_null": _REF_IS_NULL, "ref.func": _REF_FUNC,
    "table.get": _TABLE_GET, "table.set": _TABLE_SET, "table.size": _TABLE_SIZE,
    "table.grow": _TABLE_GROW, "table.fill": _TABLE_FILL, "table.copy": _TABLE_COPY,
    "table.init": _TABLE_INIT, "elem.drop": _ELEM_DROP,
}

_I32X3 = ["i32", "i32", "i32"]


def validate_module(module: Module) -> None:
    """Raise ValidationError at the first rule `module` breaks; return None if it is valid."""
    # Nothing here creates cycles; keeping the cycle collector from scanning
    # the module's many young Instr objects mid-validation saves real time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _ModuleValidator(module).run()
    finally:
        if gc_was_enabled:
            gc.enable()


def _type_name(t: str | None) -> str:
    return "unknown" if t is None else t


class _ModuleValidator:
    """The module context C of the spec, and the module-level rules."""

    def __init__(self, module: Module) -> None:
        self.m = module
        self.types = module.types
        self.funcs: list[FuncType] = []
        self.tables = []
        self.mems = []
        self.globals = []
        self.imported_globals = []
        self.elem_types: list[str] = [e.elem_type for e in module.elems]
        self.n_datas = module.data_count if module.data_count is not None else len(module.datas)
        self.refs: set[int] = set()
        self.call_sigs: list[tuple[int, list, tuple]] = []

    def err(self, msg: str, section: str, offset: int | None = None, func_index: int | None = None):
        raise ValidationError(msg, section=section, offset=offset, func_index=func_index)

    def type_at(self, index: int, section: str, offset: int | None, func_index: int | None = None) -> FuncType:
        if index >= len(self.types):
            self.err(f"unknown type {index}", section, offset, func_index)
        return self.types[index]

    # --- the module, in the spec's order ------------------------------------
    def run(self) -> None:
        m = self.m
        for imp in m.imports:
            if imp.kind == "func":
                self.funcs.append(self.type_at(imp.desc, "import", imp.offset))
            elif imp.kind == "table":
                self.check_table_limits(imp.desc.limits, "import", imp.offset)
                self.tables.append(imp.desc)
            elif imp.kind == "memory":
                self.check_memory_limits(imp.desc.limits, "import", imp.offset)
                self.mems.append(imp.desc)
            else:
                self.globals.append(imp.desc)
        self.imported_globals = list(self.globals)
        base = len(self.funcs)
        for i, f in enumerate(m.functions):
            self.funcs.append(self.type_at(f.type_index, "function", f.offset, base + i))
        for t in m.tables:
            self.check_table_limits(t.limits, "table", None)
            self.tables.append(t)
        for mem in m.memories:
            self.check_memory_limits(mem.limits, "memory", None)
            self.mems.append(mem)
        if len(self.mems) > 1:
            self.err("multiple memories (the multi-memory proposal is not supported)", "memory")
        self.globals.extend(g.type for g in m.globals)
        self.collect_refs()

        for g in m.globals:
            self.check_const(g.init, g.type.valtype, "global", g.offset)
        for seg in m.elems:
            self.check_elem(seg)
        for seg in m.datas:
            if seg.mode == "active":
                if seg.memory >= len(self.mems):
                    self.err(f"unknown memory {seg.memory}", "data", seg.offset)
                self.check_const(seg.offset_expr, "i32", "data", seg.offset)
        if m.start is not None:
            if m.start >= len(self.funcs):
                self.err(f"unknown function {m.start}", "start")
            ft = self.funcs[m.start]
            if ft.params or ft.results:
                self.err(f"start function must have type [] -> [], not {ft}", "start")
        self.check_exports()
        # (param count, params as a list, results) per function, for the call fast path.
        self.call_sigs = [(len(ft.params), list(ft.params), ft.results) for ft in self.funcs]
        for i, f in enumerate(m.functions):
            _FuncValidator(self, base + i, f).run()

    def collect_refs(self) -> None:
        """C.refs: functions named outside function bodies, which ref.func may use."""
        self.refs = self.m.declared_refs()

    # --- limits ---------------------------------------------------------------
    def check_table_limits(self, lim: Limits, section: str, offset: int | None) -> None:
        if lim.max is not None and lim.min > lim.max:
            self.err("size minimum must not be greater than maximum", section, offset)

    def check_memory_limits(self, lim: Limits, section: str, offset: int | None) -> None:
        if lim.shared and lim.max is None:
            self.err("shared memory must have maximum", section, offset)
        if lim.page_size_log2 == 16:
            bound, what = MAX_PAGES_64K, "memory size must be at most 65536 pages (4GiB)"
        elif lim.page_size_log2 == 0:
            bound, what = MAX_BYTES_1B, "memory size must be at most 4294967295 pages (4GiB)"
        else:
            self.err(
                f"invalid custom page size 2^{lim.page_size_log2}: only 1 and 65536 are allowed",
                section, offset,
            )
        if lim.min > bound or (lim.max is not None and lim.max > bound):
            self.err(what, section, offset)
        if lim.max is not None and lim.min > lim.max:
            self.err("size minimum must not be greater than maximum", section, offset)

    # --- constant expressions ---------------------------------------------------
    def check_const(self, expr: list[Instr], expected: str, section: str, offset: int | None) -> None:
        """A constant expression producing exactly one value of type `expected`.

        Wasm 2.0: global.get may only name an immutable imported global; the
        extended-const proposal adds i32/i64 add, sub and mul."""
        stack: list[str] = []
        for ins in expr:
            op = ins.op
            where = ins.offset if ins.offset else offset
            if op not in _oc.CONST_OPS:
                self.err(f"constant expression required, but found {op}", section, where)
            if op == "global.get":
                if ins.imm >= len(self.imported_globals):
                    self.err(
                        f"unknown global {ins.imm} (constant expressions can only read imported globals)",
                        section, where,
                    )
                gt = self.imported_globals[ins.imm]
                if gt.mutable:
                    self.err(
                        f"constant expression required: global {ins.imm} is mutable", section, where
                    )
                stack.append(gt.valtype)
            elif op == "ref.null":
                stack.append(ins.imm)
            elif op == "ref.func":
                if ins.imm >= len(self.funcs):
                    self.err(f"unknown function {ins.imm}", section, where)
                stack.append("funcref")
            elif op.endswith(".const"):
                stack.append(op[:3])
            else:  # i32/i64 add, sub, mul
                t = op[:3]
                if len(stack) < 2 or stack[-1] != t or stack[-2] != t:
                    got = " ".join(stack[-2:]) or "nothing"
                    self.err(f"type mismatch: {op} expected {t} {t}, got {got}", section, where)
                stack.pop()
        if stack != [expected]:
            got = " ".join(stack) or "nothing"
            self.err(f"type mismatch: constant expression must produce {expected}, got {got}", section, offset)

    # --- segments and exports ----------------------------------------------------
    def check_elem(self, seg) -> None:
        for expr in seg.init:
            self.check_const(expr, seg.elem_type, "element", seg.offset)
        if seg.mode == "active":
            if seg.table >= len(self.tables):
                self.err(f"unknown table {seg.table}", "element", seg.offset)
            tt = self.tables[seg.table]
            if tt.elem_type != seg.elem_type:
                self.err(
                    f"type mismatch: {seg.elem_type} segment for a table of {tt.elem_type}",
                    "element", seg.offset,
                )
            self.check_const(seg.offset_expr, "i32", "element", seg.offset)

    def check_exports(self) -> None:
        seen: set[str] = set()
        spaces = {"func": self.funcs, "table": self.tables, "memory": self.mems, "global": self.globals}
        for exp in self.m.exports:
            if exp.index >= len(spaces[exp.kind]):
                kind = "function" if exp.kind == "func" else exp.kind
                self.err(f"unknown {kind} {exp.index}", "export", exp.offset)
            if exp.name in seen:
                self.err(f"duplicate export name {exp.name!r}", "export", exp.offset)
            seen.add(exp.name)


class _Frame:
    """One entry of the control stack."""

    __slots__ = ("op", "params", "results", "height", "unreachable")

    def __init__(self, op: str, params: tuple, results: tuple, height: int) -> None:
        self.op = op
        self.params = params
        self.results = results
        self.height = height
        self.unreachable = False

    @property
    def labels(self) -> tuple:
        return self.params if self.op == "loop" else self.results


class _FuncValidator:
    """Validation of one function body (spec appendix, "Validation Algorithm")."""

    def __init__(self, mv: _ModuleValidator, func_index: int, func) -> None:
        self.mv = mv
        self.func_index = func_index
        self.func = func
        self.type = mv.funcs[func_index]
        self.vals: list[str | None] = []
        self.ctrls: list[_Frame] = []
        self.ins: Instr | None = None

    def err(self, msg: str, ins: Instr | None = None):
        ins = ins or self.ins
        raise ValidationError(
            msg, section="code", func_index=self.func_index,
            offset=ins.offset if ins is not None else self.func.offset,
        )

    # --- the operand stack (slow paths; the main loop inlines the common case) --
    def pop(self, expect: str | None = None) -> str | None:
        vals = self.vals
        frame = self.ctrls[-1]
        if len(vals) == frame.height:
            if frame.unreachable:
                return None  # Unknown: the stack is polymorphic here
            self.err(f"type mismatch: {self.ins.op} expected {_type_name(expect) if expect else 'a value'}"
                     " but the stack is empty")
        actual = vals.pop()
        if actual != expect and actual is not None and expect is not None:
            self.err(f"type mismatch: {self.ins.op} expected {expect}, got {actual}")
        return actual

    def pop_vals(self, types) -> list:
        popped = [self.pop(t) for t in reversed(types)]
        popped.reverse()
        return popped

    def push_frame(self, op: str, params: tuple, results: tuple) -> None:
        self.ctrls.append(_Frame(op, params, results, len(self.vals)))
        self.vals.extend(params)

    def pop_frame(self) -> _Frame:
        frame = self.ctrls[-1]
        self.pop_vals(frame.results)
        if len(self.vals) != frame.height:
            extra = len(self.vals) - frame.height
            self.err(f"type mismatch: {extra} value(s) left on the stack at the end of the {frame.op}")
        self.ctrls.pop()
        return frame

    def set_unreachable(self) -> None:
        frame = self.ctrls[-1]
        del self.vals[frame.height:]
        frame.unreachable = True

    def label(self, depth: int) -> _Frame:
        if depth >= len(self.ctrls):
            self.err(f"unknown label {depth}")
        return self.ctrls[-1 - depth]

    def block_type(self, bt) -> FuncType:
        if bt is None:
            return FuncType((), ())
        if isinstance(bt, int):
            if bt >= len(self.mv.types):
                self.err(f"unknown type {bt}")
            return self.mv.types[bt]
        return FuncType((), (bt,))

    def memory(self, index: int = 0) -> None:
        if index >= len(self.mv.mems):
            self.err(f"unknown memory {index}")

    def table(self, index: int):
        if index >= len(self.mv.tables):
            self.err(f"unknown table {index}")
        return self.mv.tables[index]

    def function_type(self, index: int) -> FuncType:
        if index >= len(self.mv.funcs):
            self.err(f"unknown function {index}")
        return self.mv.funcs[index]

    # --- the body ---------------------------------------------------------------
    def run(self) -> None:
        mv = self.mv
        ft = self.type
        local_types = list(ft.params) + list(self.func.locals)
        n_locals = len(local_types)
        globals_ = mv.globals
        n_globals = len(globals_)
        vals = self.vals
        ctrls = self.ctrls
        pop = self.pop
        pure = _PURE
        special = _SPECIAL
        body = self.func.body
        last = len(body) - 1
        n_mems = len(mv.mems)
        n_funcs = len(mv.funcs)
        call_sigs = mv.call_sigs
        self.push_frame("function", (), ft.results)
        frame = ctrls[0]
        for i, ins in enumerate(body):
            op = ins.op
            sig = pure.get(op)
            if sig is not None:
                n, params, results = sig
                if n and not (len(vals) - frame.height >= n and vals[-n:] == params):
                    self.ins = ins
                    self.pop_vals(params)
                elif n:
                    del vals[-n:]
                vals.extend(results)
                continue
            self.ins = ins
            code = special.get(op)
            if code is None:
                mem = _MEMOPS.get(op)
                atomic = mem is None
                if atomic:
                    mem = _ATOMICS.get(op)
                    if mem is None:
                        self.err(f"unknown instruction {op}")
                params, results, natural = mem
                memarg = ins.imm
                if memarg.memory >= n_mems:
                    self.err(f"unknown memory {memarg.memory}")
                if atomic and memarg.align != natural:
                    self.err(
                        f"alignment must be exactly natural for atomics: {op} align={1 << min(memarg.align, 63)}"
                        f" != {1 << natural}"
                    )
                if memarg.align > natural:
                    self.err(
                        f"alignment must not be larger than natural: {op} align={1 << memarg.align}"
                        f" > {1 << natural}"
                    )
                n = len(params)
                if len(vals) - frame.height >= n and vals[-n:] == params:
                    del vals[-n:]
                else:
                    self.pop_vals(params)
                vals.extend(results)
                continue
            imm = ins.imm
            if code == _LOCAL_GET:
                if imm >= n_locals:
                    self.err(f"unknown local {imm}")
                vals.append(local_types[imm])
            elif code == _LOCAL_SET:
                if imm >= n_locals:
                    self.err(f"unknown local {imm}")
                t = local_types[imm]
                if len(vals) > frame.height and vals[-1] == t:
                    vals.pop()
                else:
                    pop(t)
            elif code == _LOCAL_TEE:
                if imm >= n_locals:
                    self.err(f"unknown local {imm}")
                t = local_types[imm]
                pop(t)
                vals.append(t)
            elif code == _GLOBAL_GET:
                if imm >= n_globals:
                    self.err(f"unknown global {imm}")
                vals.append(globals_[imm].valtype)
            elif code == _GLOBAL_SET:
                if imm >= n_globals:
                    self.err(f"unknown global {imm}")
                gt = globals_[imm]
                if not gt.mutable:
                    self.err(f"global is immutable: global.set {imm}")
                pop(gt.valtype)
            elif code == _CALL:
                if imm >= n_funcs:
                    self.err(f"unknown function {imm}")
                n, params, results = call_sigs[imm]
                if len(vals) - frame.height >= n and vals[len(vals) - n:] == params:
                    del vals[len(vals) - n:]
                else:
                    self.pop_vals(params)
                vals.extend(results)
            elif code == _BR_IF:
                if len(vals) > frame.height and vals[-1] == "i32":
                    vals.pop()
                else:
                    pop("i32")
                types = self.label(imm).labels
                if types:
                    self.pop_vals(types)
                    vals.extend(types)
            elif code == _BLOCK or code == _LOOP:
                bft = self.block_type(imm)
                self.pop_vals(bft.params)
                self.push_frame(op, bft.params, bft.results)
                frame = ctrls[-1]
            elif code == _END:
                done = self.pop_frame()
                if done.op == "if" and done.params != done.results:
                    self.err(
                        f"type mismatch: if without else must have matching params and results, "
                        f"not {FuncType(done.params, done.results)}"
                    )
                vals.extend(done.results)
                if not ctrls:
                    if i != last:
                        self.err("operators remaining after the end of the function", body[i + 1])
                    return
                frame = ctrls[-1]
            elif code == _BR:
                self.pop_vals(self.label(imm).labels)
                self.set_unreachable()
            elif code == _IF:
                pop("i32")
                bft = self.block_type(imm)
                self.pop_vals(bft.params)
                self.push_frame("if", bft.params, bft.results)
                frame = ctrls[-1]
            elif code == _ELSE:
                if frame.op != "if":
                    self.err("else without matching if")
                done = self.pop_frame()
                self.push_frame("else", done.params, done.results)
                frame = ctrls[-1]
            elif code == _RETURN:
                self.pop_vals(ft.results)
                self.set_unreachable()
            elif code == _DROP:
                pop()
            elif code == _SELECT:
                self.select(imm)
            elif code == _BR_TABLE:
                self.br_table(imm)
            elif code == _UNREACHABLE:
                self.set_unreachable()
            elif code == _CALL_INDIRECT or code == _RETURN_CALL_INDIRECT:
                type_index, table_index = imm
                tt = self.table(table_index)
                if tt.elem_type != "funcref":
                    self.err(f"type mismatch: {op} needs a funcref table, table {table_index} holds {tt.elem_type}")
                cft = self.block_type(type_index)
                pop("i32")
                self.tail_or_call(code == _RETURN_CALL_INDIRECT, cft)
            elif code == _RETURN_CALL:
                self.tail_or_call(True, self.function_type(imm))
            elif code == _MEMORY_SIZE:
                self.memory(imm)
                vals.append("i32")
            elif code == _MEMORY_GROW:
                self.memory(imm)
                pop("i32")
                vals.append("i32")
            elif code == _MEMORY_COPY:
                self.memory(imm[0])
                self.memory(imm[1])
                self.pop_vals(_I32X3)
            elif code == _MEMORY_FILL:
                self.memory(imm)
                self.pop_vals(_I32X3)
            elif code == _MEMORY_INIT:
                self.memory(imm[1])
                if imm[0] >= mv.n_datas:
                    self.err(f"unknown data segment {imm[0]}")
                self.pop_vals(_I32X3)
            elif code == _DATA_DROP:
                if imm >= mv.n_datas:
                    self.err(f"unknown data segment {imm}")
            elif code == _REF_NULL:
                vals.append(imm)
            elif code == _REF_IS_NULL:
                t = pop()
                if t is not None and t not in REF_TYPES:
                    self.err(f"type mismatch: ref.is_null expected a reference, got {t}")
                vals.append("i32")
            elif code == _REF_FUNC:
                self.function_type(imm)
                if imm not in mv.refs:
                    self.err(
                        f"undeclared function reference {imm}: ref.func needs the function to be "
                        "named in an element segment, a global or an export"
                    )
                vals.append("funcref")
            else:
                self.table_op(code, imm)
        # The decoder guarantees a final `end`; a hand-built body may lack it.
        self.err("function body does not end with `end`", body[-1] if body else None)

    def tail_or_call(self, is_tail: bool, cft: FuncType) -> None:
        if is_tail:
            if cft.results != self.type.results:
                self.err(
                    f"type mismatch: {self.ins.op} callee returns [{' '.join(cft.results)}] but "
                    f"the caller returns [{' '.join(self.type.results)}]"
                )
            self.pop_vals(cft.params)
            self.set_unreachable()
        else:
            self.pop_vals(cft.params)
            self.vals.extend(cft.results)

    def select(self, types) -> None:
        pop = self.pop
        if types is not None:
            if len(types) != 1:
                self.err(f"invalid result arity: select takes one type, not {len(types)}")
            t = types[0]
            pop("i32")
            pop(t)
            pop(t)
            self.vals.append(t)
            return
        pop("i32")
        t1 = pop()
        t2 = pop()
        for t in (t1, t2):
            if t is not None and t not in NUMERIC_OR_VEC:
                self.err(f"type mismatch: select without a type needs numeric operands, got {t}")
        if t1 is not None and t2 is not None and t1 != t2:
            self.err(f"type mismatch: select operands differ: {t2} and {t1}")
        self.vals.append(t2 if t1 is None else t1)

    def br_table(self, imm) -> None:
        labels, default = imm
        self.pop("i32")
        default_types = self.label(default).labels
        arity = len(default_types)
        for depth in labels:
            types = self.label(depth).labels
            if len(types) != arity:
                self.err(
                    f"type mismatch: br_table label {depth} takes {len(types)} value(s), "
                    f"the default label {arity}"
                )
            self.vals.extend(self.pop_vals(types))
        self.pop_vals(default_types)
        self.set_unreachable()

    def table_op(self, code: int, imm) -> None:
        pop = self.pop
        vals = self.vals
        if code == _TABLE_GET:
            et = self.table(imm).elem_type
            pop("i32")
            vals.append(et)
        elif code == _TABLE_SET:
            et = self.table(imm).elem_type
            pop(et)
            pop("i32")
        elif code == _TABLE_SIZE:
            self.table(imm)
            vals.append("i32")
        elif code == _TABLE_GROW:
            et = self.table(imm).elem_type
            pop("i32")
            pop(et)
            vals.append("i32")
        elif code == _TABLE_FILL:
            et = self.table(imm).elem_type
            pop("i32")
            pop(et)
            pop("i32")
        elif code == _TABLE_COPY:
            dst, src = imm
            dt = self.table(dst).elem_type
            st = self.table(src).elem_type
            if dt != st:
                self.err(f"type mismatch: table.copy from a table of {st} to a table of {dt}")
            self.pop_vals(_I32X3)
        elif code == _TABLE_INIT:
            elem, table = imm
            tt = self.table(table).elem_type
            if elem >= len(self.mv.elem_types):
                self.err(f"unknown elem segment {elem}")
            et = self.mv.elem_types[elem]
            if et != tt:
                self.err(f"type mismatch: table.init of a {et} segment into a table of {tt}")
            self.pop_vals(_I32X3)
        elif code == _ELEM_DROP:
            if imm >= len(self.mv.elem_types):
                self.err(f"unknown elem segment {imm}")
        else:  # pragma: no cover - every op in _SPECIAL is handled above
            self.err(f"unknown instruction {self.ins.op}")
