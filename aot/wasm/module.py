"""The in-memory form of a Wasm module: what `decode` produces and everything after reads.

Plain dataclasses, no behaviour beyond small lookups.  Value types are the
text-format names as strings ("i32", "i64", "f32", "f64", "v128", "funcref",
"externref") so that dumps and error messages read like WAT.

Instructions are decoded once into `Instr` records whose `op` is the WAT
mnemonic ("i32.add", "br_table", "call_indirect") and whose `imm` holds the
immediates in the shape documented on `Instr`.  Float constants keep their raw
bit patterns so NaN payloads survive to the object file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

ValType = str  # "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref"

NUM_TYPES = ("i32", "i64", "f32", "f64")
REF_TYPES = ("funcref", "externref")
VALUE_TYPES = NUM_TYPES + ("v128",) + REF_TYPES


@dataclass(frozen=True)
class FuncType:
    params: tuple[ValType, ...]
    results: tuple[ValType, ...]

    def __str__(self) -> str:
        return f"[{' '.join(self.params)}] -> [{' '.join(self.results)}]"


@dataclass(frozen=True)
class Limits:
    """Limits of a memory (in pages) or a table (in elements)."""

    min: int
    max: int | None = None
    # Memories only: log2 of the page size. 16 for classic 64 KiB pages, 0 for
    # the custom-page-sizes proposal's 1-byte pages.
    page_size_log2: int = 16
    shared: bool = False


@dataclass(frozen=True)
class TableType:
    elem_type: ValType  # "funcref" | "externref"
    limits: Limits


@dataclass(frozen=True)
class MemoryType:
    limits: Limits

    @property
    def page_size(self) -> int:
        return 1 << self.limits.page_size_log2


@dataclass(frozen=True)
class GlobalType:
    valtype: ValType
    mutable: bool


@dataclass(frozen=True)
class MemArg:
    align: int  # log2 of the alignment hint
    offset: int
    memory: int = 0


# Block types: None (no params, no results), a ValType (no params, one result)
# or an int (an index into Module.types).
BlockType = Union[None, ValType, int]


@dataclass(slots=True)
class Instr:
    """One decoded instruction (slotted: a module holds millions of them, 56 bytes each instead of ~200).

    `imm` by op family:
      block/loop/if        BlockType
      br, br_if            label depth (int)
      br_table             (tuple of depths, default depth)
      call, return_call    function index
      call_indirect, return_call_indirect   (type index, table index)
      local.*, global.*    index
      *.load*, *.store*    MemArg
      memory.size/grow/fill   memory index
      memory.copy          (dst memory, src memory)
      memory.init          (data index, memory index)
      data.drop            data index
      i32.const, i64.const signed Python int
      f32.const, f64.const raw IEEE bits as unsigned int
      ref.null             ValType of the reference
      ref.func             function index
      select               None (untyped) or tuple of ValType (typed select)
      table.get/set/size/grow/fill   table index
      table.copy           (dst table, src table)
      table.init           (elem index, table index)
      elem.drop            elem index
      everything else      None
    `offset` is the byte offset of the opcode in the module binary.
    """

    op: str
    imm: object = None
    offset: int = 0

    def __repr__(self) -> str:
        return f"{self.op}" if self.imm is None else f"{self.op} {self.imm!r}"


ConstExpr = list  # list[Instr], without the final `end`


@dataclass
class Import:
    module: str
    name: str
    kind: str  # "func" | "table" | "memory" | "global"
    # func: type index (int); table: TableType; memory: MemoryType; global: GlobalType
    desc: object
    offset: int = 0


@dataclass
class Export:
    name: str
    kind: str  # "func" | "table" | "memory" | "global"
    index: int
    offset: int = 0


@dataclass
class Function:
    """A function defined in this module (imports are not in Module.functions)."""

    type_index: int
    locals: list[ValType] = field(default_factory=list)  # declared locals, params excluded
    body: list[Instr] = field(default_factory=list)  # ends with the final `end`
    offset: int = 0  # offset of the body's size field in the code section
    body_size: int = 0


@dataclass
class Global:
    type: GlobalType
    init: ConstExpr
    offset: int = 0


@dataclass
class ElemSegment:
    mode: str  # "active" | "passive" | "declarative"
    elem_type: ValType  # "funcref" | "externref"
    # Each element is a constant expression (ref.func i / ref.null t / global.get g).
    init: list[ConstExpr]
    table: int = 0
    offset_expr: ConstExpr | None = None  # active only
    offset: int = 0


@dataclass
class DataSegment:
    mode: str  # "active" | "passive"
    data: bytes
    memory: int = 0
    offset_expr: ConstExpr | None = None  # active only
    offset: int = 0


@dataclass
class Names:
    """The custom `name` section; everything optional."""

    module: str | None = None
    functions: dict[int, str] = field(default_factory=dict)
    locals: dict[int, dict[int, str]] = field(default_factory=dict)
    globals: dict[int, str] = field(default_factory=dict)


@dataclass
class Module:
    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    tables: list[TableType] = field(default_factory=list)
    memories: list[MemoryType] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    elems: list[ElemSegment] = field(default_factory=list)
    datas: list[DataSegment] = field(default_factory=list)
    data_count: int | None = None
    names: Names = field(default_factory=Names)
    custom_sections: list[tuple[str, bytes]] = field(default_factory=list)

    # --- index spaces: imports come first, then definitions -----------------
    # Derived lists are cached: the lowering looks them up once per call and
    # global instruction, and rebuilding them from the import list each time
    # made compiling quadratic in the number of imports (issue 12).  A list is
    # rebuilt when a list it comes from has been replaced or has changed length
    # (the decoder appends); callers must not modify what these return.
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _cached(self, name: str, build):
        key = tuple((id(part), len(part)) for part in (self.imports, self.functions, self.tables, self.memories,
                                                      self.globals))
        hit = self._derived.get(name)
        if hit is None or hit[0] != key:
            hit = (key, build())
            self._derived[name] = hit
        return hit[1]

    def imports_of(self, kind: str) -> list[Import]:
        return self._cached(f"imports {kind}", lambda: [imp for imp in self.imports if imp.kind == kind])

    @property
    def num_imported_funcs(self) -> int:
        return len(self.imports_of("func"))

    @property
    def num_imported_tables(self) -> int:
        return len(self.imports_of("table"))

    @property
    def num_imported_memories(self) -> int:
        return len(self.imports_of("memory"))

    @property
    def num_imported_globals(self) -> int:
        return len(self.imports_of("global"))

    def func_type(self, func_index: int) -> FuncType:
        """Type of a function in the function index space (imports first)."""
        imported = self.imports_of("func")
        if func_index < len(imported):
            return self.types[imported[func_index].desc]
        return self.types[self.functions[func_index - len(imported)].type_index]

    def all_tables(self) -> list[TableType]:
        return self._cached("tables", lambda: [imp.desc for imp in self.imports_of("table")] + self.tables)

    def all_memories(self) -> list[MemoryType]:
        return self._cached("memories", lambda: [imp.desc for imp in self.imports_of("memory")] + self.memories)

    def all_globals(self) -> list[GlobalType]:
        return self._cached("globals", lambda: [imp.desc for imp in self.imports_of("global")]
                            + [g.type for g in self.globals])

    def block_type(self, bt: BlockType) -> FuncType:
        """A block type as a function type."""
        if bt is None:
            return FuncType((), ())
        if isinstance(bt, int):
            return self.types[bt]
        return FuncType((), (bt,))

    def declared_refs(self) -> set[int]:
        """C.refs: the functions named outside function bodies (element segments, global
        initialisers, exports).  `ref.func` in a body may only name these, so they are the
        only functions whose funcref (a `waft_func` descriptor) a program can ever see."""
        exprs = [g.init for g in self.globals]
        for seg in self.elems:
            exprs.extend(seg.init)
            if seg.offset_expr is not None:
                exprs.append(seg.offset_expr)
        refs = {ins.imm for expr in exprs for ins in expr if ins.op == "ref.func"}
        refs.update(exp.index for exp in self.exports if exp.kind == "func")
        return refs

    def func_name(self, func_index: int) -> str:
        """A readable name: the name section's, else the export name, else 'func[N]'."""
        if func_index in self.names.functions:
            return self.names.functions[func_index]
        for exp in self.exports:
            if exp.kind == "func" and exp.index == func_index:
                return exp.name
        return f"func[{func_index}]"
