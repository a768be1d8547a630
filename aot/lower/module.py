"""Lower a whole Wasm module to LLVM IR: the module driver and the state all functions share.

`lower_module` reads like the object it produces (docs/abi.md is the
contract):

    check for features Waft does not compile (SIMD)
    declare data segments (private constants)
    declare imports (C functions; memory and table descriptors)
    define the instance layout
    declare every function; define the import thunks
    lower each function body
    emit P__initialize
    emit exports (C wrappers and accessors)

Signature strings are declared on first use (`ModuleContext.signature_ptr`).

`ModuleContext` is the module-wide state handlers reach through
`fctx.mctx`: the instance layout and GEP helpers for memories, tables,
globals, function descriptors and segments; runtime helper declarations;
signature-string constants; the calling convention.

Instance layout (an LLVM struct; its size and alignment come from the target's
data layout and are written into the C header):

    { { [ctx x ptr]            one per distinct module name of function imports
        [mems x ptr]           every memory's descriptor (own ones point into the instance)
        [tables x ptr]         every table's descriptor
        [imported globals x ptr]
        [own mems x waft_memory]
        [own tables x waft_table]
        { own globals... }
        [funcs x waft_func]    a slot per function (imports via thunks), filled for the ones
                               a funcref can name (`referenced_functions`)
        [datas + elems x i8]   dropped flags
        { [n x ptr]... }       element segments, evaluated at initialize
        { [cap x ptr]... }     own tables' storage
      }
      [pad x i8]               puts linear memory on a 16-byte boundary
      { [cap bytes x i8]... }  own memories' storage, last so small fields stay near the base
    }

Caps: a memory is laid out at its build-time cap (`memory_cap_pages`, in
64 KiB units; default the declared max, else the target's
`default_memory_cap_pages`), clamped to the declared max and raised to the
declared min.  A table's cap is the declared max, else min + 1024 (4 KiB of
entries on a 32-bit target; the spec tests grow unbounded tables by 800),
never above `TABLE_CAP_LIMIT` (10,000,000); `table_cap` overrides it
(clamped to [min, max]).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from dataclasses import dataclass

import llvmlite.binding as llvm
from llvmlite import ir
from llvmlite.ir._utils import DuplicatedNameError

from aot import abi, shm
from aot.emit import function_attributes_for_opt
from aot.errors import LinkError, TargetError, UnsupportedError
from aot.frame_sizes import FRAME_SIZE_ATTRIBUTE
from aot.lower import init_bulk
from aot.lower.context import I1, I8, I32, I64, PTR, FuncContext, llvm_type, zero_value
from aot.lower.frames import FRAME_BODY_SUFFIX, define_frame_guard
from aot.lower.irtext import ByteArrayConstant, FunctionTexts
from aot.lower.inlining import kept_out_of_loops
from aot.lower.leaves import unchecked_leaves
from aot.lower.libc_builtins import lower_builtin
from aot.lower.libc_builtins import recognised as recognised_builtins
from aot.shadow_stack import ordered_stack_pointer
from aot.shm import RegionGrant, Window
from aot.targets import Target
from aot.wasm.module import ConstExpr, FuncType, MemoryType, Module, TableType

TABLE_CAP_LIMIT = 10_000_000
TABLE_GROWTH = 1024  # room for table.grow in a table declared without a max
MEMORY_ALIGN = 16
# The instance alignment a function may assume (mark_instance_param): no more than malloc's.
INSTANCE_ALIGN_CLAIM = 8
# Past this many functions, lower_module runs a full garbage collection before it returns
# (below, what is left for the collector is small, and a collection costs time in
# proportion to everything the process holds).
GC_AFTER_FUNCTIONS = 1000

# Fields of the instance's first member (see the module docstring).
F_CTX, F_MEMPTR, F_TABPTR, F_GLOBPTR, F_MEMDESC, F_TABDESC, F_GLOBALS, F_FUNCS, F_DROPPED, F_ELEMS, F_TABSTORE = range(11)


@dataclass
class MemoryInfo:
    type: MemoryType
    imported: bool
    own_index: int | None  # index among own memories, None for imports
    cap_pages: int = 0
    cap_bytes: int = 0

    @property
    def through_pointer(self) -> bool:
        """Reached through the instance's pointer slot (F_MEMPTR) rather than in place.

        Imported memories, and own shared ones: every instance of a module that
        shares a memory (one per thread) must reach the same one, so code never
        assumes that a shared memory lives inside its own instance (docs/abi.md).
        """
        return self.imported or self.type.limits.shared


@dataclass
class TableInfo:
    type: TableType
    imported: bool
    own_index: int | None
    cap: int = 0


def trap_code(name: str) -> int:
    return abi.TRAP_CODES[name]


def memory_cap(mem: MemoryType, target: Target, cap_64k_pages: int | None) -> int:
    """The build-time cap of an own memory, in the memory's own pages."""
    lim = mem.limits
    log2 = lim.page_size_log2
    # The largest page count a 32-bit memory can have: 4 GiB worth of pages.
    absolute = min((1 << 32) >> log2, 0xFFFFFFFF)
    declared_max = lim.max if lim.max is not None else absolute
    if cap_64k_pages is not None:
        cap = (cap_64k_pages << 16) >> log2
    elif lim.max is not None:
        cap = lim.max
    else:
        cap = (target.default_memory_cap_pages << 16) >> log2
    cap = max(min(cap, declared_max, absolute), lim.min)
    # A 32-bit target cannot hold more than 2 GiB of linear memory in its address space.
    addressable = (1 << 62) if target.pointer_bits == 64 else (1 << 31)
    if (cap << log2) > addressable:
        cap = addressable >> log2
        if cap < lim.min:
            raise TargetError(
                f"memory of {lim.min} pages ({lim.min << log2} bytes) does not fit target '{target.name}'"
            )
    return cap


def table_cap(table: TableType, target: Target, override: int | None) -> int:
    """The build-time cap of an own table, in elements (see the module docstring)."""
    lim = table.limits
    upper = lim.max if lim.max is not None else 0xFFFFFFFF
    if override is not None:
        cap = override
    elif lim.max is not None:
        cap = lim.max
    else:
        cap = lim.min + TABLE_GROWTH
    cap = min(cap, upper, max(TABLE_CAP_LIMIT, lim.min))
    cap = max(cap, lim.min)
    if cap > TABLE_CAP_LIMIT:
        raise TargetError(f"table of {lim.min} elements is larger than Waft's limit of {TABLE_CAP_LIMIT}")
    return cap


class ComdatConstant(ir.GlobalVariable):
    """A global that is printed with `, comdat` (llvmlite has no comdat support of its own)."""

    def descr(self, buf: list[str]) -> None:
        parts: list[str] = []
        super().descr(parts)
        buf.append("".join(parts).replace(", align", ", comdat, align", 1))


class FunctionAttributes(ir.FunctionAttributes):
    """llvmlite's function attributes plus LLVM string attributes (`"key"="value"`), which it lacks."""

    def __init__(self) -> None:
        super().__init__()
        self.strings: dict[str, str] = {}

    def _to_list(self, ret_type: ir.Type) -> list[str]:
        return super()._to_list(ret_type) + [f'"{key}"="{value}"' for key, value in sorted(self.strings.items())]


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", name)[:64]


class ModuleContext:
    """Module-wide lowering state and the helpers handlers use to reach the instance."""

    def __init__(
        self,
        module: Module,
        target: Target,
        prefix: str,
        target_data: llvm.TargetData,
        *,
        opt: str = "2",
        memory_cap_pages: int | None = None,
        table_cap: int | None = None,
        bounds_checks: bool = True,
        frame_guards: dict[str, int] | None = None,
        regions: tuple[RegionGrant, ...] = (),
    ) -> None:
        self.module = module
        # Shared-memory regions granted to the module, each in its window of memory 0 (aot/shm.py).
        self.windows: list[Window] = shm.layout(regions)
        if self.windows and not bounds_checks:
            # The windows are found by the checks: without them an access would land in linear memory.
            raise LinkError(f"{prefix}: shared-memory regions need the bounds checks (drop "
                            "--unsafe-no-bounds-checks or the regions)")
        self.region_import_base: dict[int, int] = {}  # function import index -> window base (a constant)
        # False only for measurement builds (waft compile --unsafe-no-bounds-checks):
        # loads and stores then skip their bounds check and out-of-bounds accesses corrupt memory.
        self.bounds_checks = bounds_checks
        self.target = target
        self.prefix = prefix
        self.target_data = target_data
        self.llmod = ir.Module(name=prefix, context=ir.Context())
        self.llmod.triple = target.triple
        self.llmod.data_layout = str(target_data)
        self.texts = FunctionTexts(self.llmod)  # finished functions, printed and dropped (irtext.py)
        self.pointer_bits = target.pointer_bits
        self.intptr = ir.IntType(self.pointer_bits)
        # Hard-float Arm: C and Wasm code alike pass floats in VFP registers.
        self.cconv = calling_convention(target)
        self.function_attributes = ("nounwind",) + function_attributes_for_opt(opt)
        self.opt = opt
        self.loop_ids = 0  # loops given an `llvm.loop` node so far (aot/lower/loop_hints.py)
        self.memory_type = abi.struct_type("waft_memory", self.pointer_bits)
        self.table_type = abi.struct_type("waft_table", self.pointer_bits)
        self.func_type_struct = abi.struct_type("waft_func", self.pointer_bits)
        self.memory_cap_option = memory_cap_pages
        self.table_cap_option = table_cap
        self._runtime: dict[str, ir.Function] = {}
        self._tbaa_tags: dict[str, ir.MDValue] = {}
        self._signatures: dict[str, ir.GlobalVariable] = {}
        self._intrinsics: dict[str, ir.Function] = {}
        self.data_constants: list[ir.GlobalVariable | None] = []  # by data index; None when empty
        self.comdats: list[str] = []
        self.aliases: list[str] = []  # IR lines: exports that are the function itself (_emit_exports)
        self.functions: list[ir.Function] = []  # internal convention, by function index
        self.frozen_tables: dict[object, object] = {}  # aot/lower/frozen_tables.py: slots, constant arrays
        self.import_decls: dict[str, ir.Function] = {}  # import symbol -> C declaration
        # Frame guards (aot/lower/frames.py): LLVM function name -> bytes its body's frame may
        # take, and the bodies of the guarded functions by guard name.
        self.frame_guards = dict(frame_guards or {})
        self.guarded_bodies: dict[str, ir.Function] = {}
        self.defined_functions: set[str] = set()  # LLVM names of the functions this module defines
        # Leaves only checked Wasm code can call: no entry stack check (aot/lower/leaves.py).
        # memcpy and memset from the C library, compiled from builtin bodies (libc_builtins.py).
        # They call C, so they keep their entry stack check.  Not with regions: their one check
        # covers linear memory only, where the module's own loop also reaches the windows.
        self.builtins = {} if self.windows else recognised_builtins(module)
        self.unchecked_leaves = unchecked_leaves(module) - set(self.builtins)
        # Big loop-heavy functions called once, from a loop: LLVM may not inline them (inlining.py).
        self.kept_out_of_loops = kept_out_of_loops(module)
        # The shadow-stack pointer of a module its own immediate handlers can interrupt: its stores
        # stay in place (variable.py), and its offset in the instance goes into the header.
        self.ordered_global = ordered_stack_pointer(module)
        self.stack_pointer_offset: int | None = None
        self.import_ctx_index: list[int] = []  # function import index -> ctx slot
        self.num_ctx = 0  # distinct module names of function imports
        self.memories: list[MemoryInfo] = []
        self.tables: list[TableInfo] = []
        self.instance_type: ir.IdentifiedStructType | None = None
        self.instance_fixed_size = 0  # bytes before the memory storage: always dereferenceable
        self.instance_size = 0
        self.instance_align = 1

    # --- small helpers ------------------------------------------------------

    def add_function(self, fnty: ir.FunctionType, name: str, *, internal: bool,
                     functype: FuncType | None = None) -> ir.Function:
        """Declare a function this module defines (or imports, for C declarations).

        Every function carries the attribute that makes LLVM report its frame size
        (aot/frame_sizes.py).  A name in `frame_guards` becomes a frame guard: the
        function returned, which callers reference, checks the stack for the whole
        frame and then calls the body, which `definition(fn)` returns for lowering.
        `functype` (the Wasm type, for internal-convention functions) lets the guard
        tail-call its body.
        """
        fn = self._new_function(fnty, name, internal=internal)
        reserve = self.frame_guards.get(name)
        if reserve is not None:
            body = self._new_function(fnty, f"{name}{FRAME_BODY_SUFFIX}", internal=True)
            body.attributes.add("noinline")  # inlined back into its guard, the frame would precede the check again
            self.guarded_bodies[name] = body
            define_frame_guard(self, fn, body, reserve, functype)
        return fn

    def _new_function(self, fnty: ir.FunctionType, name: str, *, internal: bool) -> ir.Function:
        try:
            fn = ir.Function(self.llmod, fnty, name=name)
        except DuplicatedNameError:
            raise LinkError(
                f"two symbols of this module would both be called '{name}' (an import from a module "
                f"named like the prefix '{self.prefix}'?); compile with another --name"
            ) from None
        if internal:
            fn.linkage = "internal"
        fn.attributes = FunctionAttributes()
        for attr in self.function_attributes:
            fn.attributes.add(attr)
        # Report every frame: the guards need the big ones, the header the largest unguarded one.
        fn.attributes.strings[FRAME_SIZE_ATTRIBUTE] = "0"
        self.defined_functions.add(name)
        if self.cconv:
            fn.calling_convention = self.cconv
        return fn

    def retire(self, fn: ir.Function) -> None:
        """Print a finished function and drop its objects (irtext.py); a frame guard's body with it."""
        self.texts.retire(fn)
        body = self.definition(fn)
        if body is not fn:
            self.texts.retire(body)

    def definition(self, fn: ir.Function) -> ir.Function:
        """The function to lower `fn`'s code into: its body when `fn` is a frame guard, else `fn`."""
        return self.guarded_bodies.get(fn.name, fn)

    def internal_type(self, functype: FuncType) -> ir.FunctionType:
        """`R f(ptr instance, params...)`: R is void, the one result or a literal struct."""
        return ir.FunctionType(self.result_type(functype.results), [PTR, *(llvm_type(t) for t in functype.params)])

    def result_type(self, results: tuple[str, ...]) -> ir.Type:
        if not results:
            return ir.VoidType()
        if len(results) == 1:
            return llvm_type(results[0])
        return ir.LiteralStructType([llvm_type(t) for t in results])

    def c_type(self, functype: FuncType) -> ir.FunctionType:
        """The C convention of exports and imports: one result, or out-pointers after the params."""
        params = [PTR, *(llvm_type(t) for t in functype.params)]
        if len(functype.results) == 1:
            return ir.FunctionType(llvm_type(functype.results[0]), params)
        return ir.FunctionType(ir.VoidType(), params + [PTR] * len(functype.results))

    def runtime_function(self, name: str) -> ir.Function:
        """Declare (once) and return a waft_* runtime helper from aot.abi.RUNTIME_FUNCTIONS."""
        fn = self._runtime.get(name)
        if fn is None:
            fnty = abi.runtime_function_type(name, self.pointer_bits)
            fn = ir.Function(self.llmod, fnty, name=name)
            fn.attributes.add("nounwind")
            if name in abi.NORETURN_FUNCTIONS:
                fn.attributes.add("noreturn")
            if isinstance(fnty.return_type, ir.IntType) and fnty.return_type.width == 1:
                fn.return_value.add_attribute("zeroext")
            if self.cconv:
                fn.calling_convention = self.cconv
            self._runtime[name] = fn
        return fn

    def intrinsic(self, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
        fn = self.llmod.globals.get(name)
        if fn is None:
            fn = ir.Function(self.llmod, ir.FunctionType(ret, args), name=name)
        return fn

    def signature_ptr(self, functype: FuncType) -> ir.Constant:
        """The linkonce_odr signature-string constant of a type, as an i8* (docs/abi.md)."""
        symbol = abi.signature_symbol(functype)
        gv = self._signatures.get(symbol)
        if gv is None:
            text = abi.signature_string(functype).encode() + b"\0"
            arr = ir.ArrayType(I8, len(text))
            gv = ComdatConstant(self.llmod, arr, name=symbol)
            gv.global_constant = True
            gv.linkage = "linkonce_odr"
            gv.initializer = ir.Constant(arr, bytearray(text))
            gv.align = 1
            self.comdats.append(symbol)
            self._signatures[symbol] = gv
        return gv.bitcast(PTR)

    def stack_limit(self) -> ir.GlobalVariable:
        """waft_stack_limit: a thread-local on host targets, where every POSIX thread has its own.

        The default (general-dynamic) TLS model, so a host object also works in a
        shared library; linked into an executable, the linker relaxes each access
        to a thread-pointer-relative load.  Bare-metal targets keep one global that
        the scheduler switches with the stack (waft.h, WAFT_THREAD_LOCAL).
        """
        gv = self.llmod.globals.get("waft_stack_limit")
        if gv is None:
            gv = ir.GlobalVariable(self.llmod, self.intptr, name="waft_stack_limit")
            gv.linkage = "external"
            if self.target.is_host:
                # llvmlite has no thread-local flag; its storage-class slot is printed
                # exactly where LLVM's `thread_local` goes (`external thread_local global`).
                gv.storage_class = "thread_local"
        return gv

    def mark_instance_param(self, fn: ir.Function) -> None:
        """The instance argument always points at a whole instance: LLVM may load its
        fields speculatively (hoisting a memory's base out of a loop, say).

        It is also aligned (the header's WAFT_ALIGNAS), and an own memory's storage
        starts on a MEMORY_ALIGN boundary inside it, so a linear-memory address whose
        low bits are known zero (`4 * i + 8`) is as aligned in the machine's memory:
        LLVM's alignment inference then gives f32/f64/i64 accesses the FPU loads and
        ldrd/strd that Wasm's `align 1` access forbids (on Cortex-M, vldr and ldrd
        fault on unaligned addresses, so an align-1 f32 load is ldr + vmov).  The
        claim stops at INSTANCE_ALIGN_CLAIM, what any allocator gives: an instance
        in malloc'd memory on a 32-bit target is 8-byte aligned, not 16.
        """
        arg = fn.args[0].attributes
        arg.add("nonnull")
        if self.instance_fixed_size:
            arg.dereferenceable = self.instance_fixed_size
        if self.instance_align > 1:
            arg.align = min(self.instance_align, INSTANCE_ALIGN_CLAIM)

    # --- alias information ----------------------------------------------------

    def tbaa(self, instr: ir.Instruction, kind: str) -> ir.Instruction:
        """Tag a load or store with what it touches, so LLVM can keep values in registers.

        Kinds: "memory" (linear-memory bytes), "descriptor" (waft_memory /
        waft_table / waft_func fields and the instance's pointers), "global"
        (a global's storage), "table" (table entries), "stack limit"
        (waft_stack_limit, which only C code writes).  Accesses of different
        kinds never alias: a store to linear memory cannot change a memory's
        base or size, so those loads are hoisted out of loops.  Untagged
        accesses (P__initialize) and calls (the runtime helpers) still alias
        everything.
        """
        tags = self._tbaa_tags
        if not tags:
            root = self.llmod.add_metadata([ir.MetaDataString(self.llmod, "waft wasm tbaa")])
            for name in ("memory", "descriptor", "global", "table", "stack limit"):
                node = self.llmod.add_metadata([ir.MetaDataString(self.llmod, f"waft {name}"), root,
                                                ir.Constant(I64, 0)])
                tags[name] = self.llmod.add_metadata([node, node, ir.Constant(I64, 0)])
        instr.set_metadata("tbaa", tags[kind])
        return instr

    # --- the instance -------------------------------------------------------

    def field(self, builder: ir.IRBuilder, inst: ir.Value, *path: int | ir.Value) -> ir.Value:
        """GEP to a member of the instance's first part: `field(b, inst, F_FUNCS, i)`."""
        ptr = builder.bitcast(inst, self.instance_type.as_pointer())
        idx = [ir.Constant(I32, 0), ir.Constant(I32, 0)]
        idx += [p if isinstance(p, ir.Value) else ir.Constant(I32, p) for p in path]
        return builder.gep(ptr, idx, inbounds=True)

    def _desc(self, builder: ir.IRBuilder, inst: ir.Value, kind: str, index: int) -> ir.Value:
        """Typed pointer to memory or table `index`'s descriptor (`kind` "memory" or "table").

        Memories and tables share the instance layout: an imported one (and an
        own shared memory, `MemoryInfo.through_pointer`) is reached through its
        pointer slot (F_MEMPTR / F_TABPTR), an own one lives in place in
        F_MEMDESC / F_TABDESC, so one path serves both.
        """
        if kind == "memory":
            info, ptr_field, own_field, ty, label = (self.memories[index], F_MEMPTR, F_MEMDESC,
                                                     self.memory_type, f"mem{index}.desc")
            via_pointer = info.through_pointer
        else:
            info, ptr_field, own_field, ty, label = (self.tables[index], F_TABPTR, F_TABDESC,
                                                     self.table_type, f"table{index}.desc")
            via_pointer = info.imported
        if via_pointer:
            raw = self.tbaa(builder.load(self.field(builder, inst, ptr_field, index), name=label), "descriptor")
            return builder.bitcast(raw, ty.as_pointer())
        return self.field(builder, inst, own_field, info.own_index)

    def _member(self, builder: ir.IRBuilder, inst: ir.Value, kind: str, index: int, member: str) -> ir.Value:
        """Pointer to field `member` of memory or table `index`'s descriptor."""
        desc = self._desc(builder, inst, kind, index)
        i = abi.field_index(f"waft_{kind}", member)
        return builder.gep(desc, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True)

    def memory_desc(self, builder: ir.IRBuilder, inst: ir.Value, index: int) -> ir.Value:
        """Pointer to memory `index`'s waft_memory (typed)."""
        return self._desc(builder, inst, "memory", index)

    def memory_member(self, builder: ir.IRBuilder, inst: ir.Value, index: int, member: str) -> ir.Value:
        """Pointer to field `member` of memory `index`'s waft_memory."""
        return self._member(builder, inst, "memory", index, member)

    def table_desc(self, builder: ir.IRBuilder, inst: ir.Value, index: int) -> ir.Value:
        """Pointer to table `index`'s waft_table (typed)."""
        return self._desc(builder, inst, "table", index)

    def table_member(self, builder: ir.IRBuilder, inst: ir.Value, index: int, member: str) -> ir.Value:
        """Pointer to field `member` of table `index`'s waft_table."""
        return self._member(builder, inst, "table", index, member)

    def global_ptr(self, builder: ir.IRBuilder, inst: ir.Value, index: int) -> ir.Value:
        """Typed pointer to global `index`'s storage."""
        nimp = self.module.num_imported_globals
        valtype = self.module.all_globals()[index].valtype
        if index < nimp:
            raw = self.tbaa(builder.load(self.field(builder, inst, F_GLOBPTR, index), name=f"global{index}.ptr"),
                            "descriptor")
            return builder.bitcast(raw, llvm_type(valtype).as_pointer())
        return self.field(builder, inst, F_GLOBALS, index - nimp)

    def func_ref(self, builder: ir.IRBuilder, inst: ir.Value, index: int) -> ir.Value:
        """`ref.func index`: this instance's waft_func descriptor, as an i8*."""
        return builder.bitcast(self.field(builder, inst, F_FUNCS, index), PTR, name=f"func{index}.ref")

    def dropped_flag(self, builder: ir.IRBuilder, inst: ir.Value, kind: str, index: int) -> ir.Value:
        """Pointer to the i8 'dropped' flag of data segment or element segment `index`."""
        slot = index if kind == "data" else len(self.module.datas) + index
        return self.field(builder, inst, F_DROPPED, slot)

    def elem_storage(self, builder: ir.IRBuilder, inst: ir.Value, index: int) -> ir.Value:
        """i8* to element segment `index`'s evaluated entries (an array of pointers)."""
        return builder.bitcast(self.field(builder, inst, F_ELEMS, index, 0), PTR)

    def data_constant(self, index: int) -> ir.Value:
        """i8* to data segment `index`'s bytes (a private constant)."""
        gv = self.data_constants[index]
        if gv is None:
            return ir.Constant(PTR, None)
        return gv.bitcast(PTR)

    def ctx(self, builder: ir.IRBuilder, inst: ir.Value, func_index: int) -> ir.Value:
        """The embedder's ctx pointer for imported function `func_index`."""
        slot = self.import_ctx_index[func_index]
        return self.tbaa(builder.load(self.field(builder, inst, F_CTX, slot), name="import.ctx"), "descriptor")

    # --- calls --------------------------------------------------------------

    def call_function(self, builder: ir.IRBuilder, inst: ir.Value, index: int, args: list[ir.Value],
                      *, tail: str | bool = False) -> ir.Value:
        """Call function `index` with the internal convention's result.

        Single-result (or no-result) imports are called directly with their
        ctx; multi-value imports go through their thunk, whose entry block
        holds the out-pointer allocas.
        """
        nimp = self.module.num_imported_funcs
        functype = self.module.func_type(index)
        if index in self.region_import_base:
            return ir.Constant(I32, self.region_import_base[index])  # a window's base (aot/shm.py)
        if index < nimp and len(functype.results) <= 1:
            decl = self.import_callee(builder, index)
            return builder.call(decl, [self.ctx(builder, inst, index), *args], tail=tail,
                                cconv=self.cconv or None)
        return builder.call(self.functions[index], [inst, *args], tail=tail)

    def import_callee(self, builder: ir.IRBuilder, index: int) -> ir.Value:
        """The C declaration of imported function `index`, cast to its type if the symbol is shared."""
        imp = self.module.imports_of("func")[index]
        functype = self.module.types[imp.desc]
        decl = self.import_decls[abi.import_symbol(imp.module, imp.name)]
        want = self.c_type(functype)
        if decl.function_type != want:
            # The same module.name imported at two types: one symbol, called as each.
            return builder.bitcast(decl, want.as_pointer(), name="import.as")
        return decl

    def call_indirect_value(self, builder: ir.IRBuilder, fnty: ir.FunctionType, fnptr: ir.Value,
                            args: list[ir.Value], *, tail: str | bool = False, name: str = "") -> ir.Value:
        """Call a code pointer (i8*) with the internal convention."""
        callee = builder.bitcast(fnptr, fnty.as_pointer())
        return builder.call(callee, args, cconv=self.cconv or None, tail=tail, name=name)

    def can_musttail(self, caller: FuncType, callee: FuncType) -> bool:
        """Can a return_call from `caller` to `callee` be a guaranteed (musttail) tail call? (`can_musttail`)"""
        return can_musttail(self.target, bool(self.cconv), caller, callee)

    # --- function entry -----------------------------------------------------

    def stack_pointer_and_limit(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        """The stack pointer and waft_stack_limit, as integers, for a stack check.

        Both reads are ones LLVM may merge: once a function is inlined into a caller that
        has checked its stack, the callee's entry check compares the same two values again
        and folds away (LLVM's `llvm.stacksave` may touch memory, so no two of them ever
        merged).  The stack pointer is read by an inline asm with no memory effects: in a
        function's body (static frames; calls restore it) it is one value.  The limit is
        an invariant load: C changes waft_stack_limit only when it changes stacks (thread
        switch, signal or interrupt vector), and puts it back before this code runs again.
        """
        register = _STACK_POINTER_REGISTER.get(self.target.triple.split("-")[0])
        if register is None:
            save = self.intrinsic("llvm.stacksave.p0", PTR, [])
            sp = builder.ptrtoint(builder.call(save, [], name="sp"), self.intptr, name="sp.int")
        else:
            read = ir.InlineAsm(ir.FunctionType(self.intptr, []), "", f"={{{register}}}", side_effect=False)
            sp = builder.call(read, [], name="sp.int", attrs=("nounwind", "readnone"))
        limit = self.tbaa(builder.load(self.stack_limit(), name="stack.limit"), "stack limit")
        limit.set_metadata("invariant.load", self.llmod.add_metadata([]))
        return sp, limit

    def stack_check(self, fctx: FuncContext) -> None:
        """Trap CALL_STACK_EXHAUSTED when the stack pointer is below waft_stack_limit."""
        builder = fctx.builder
        sp, limit = self.stack_pointer_and_limit(builder)
        low = builder.icmp_unsigned("<", sp, limit, name="stack.low")
        fctx.trap_if(low, trap_code("CALL_STACK_EXHAUSTED"), name="stack")

    # --- the text LLVM parses ---------------------------------------------------

    def ir_text(self) -> str:
        head = [f"${name} = comdat any" for name in self.comdats] if self.target_is_elf() else []
        head += self.aliases
        # After the body: LLVM wants the target lines first and resolves comdat references late.
        text = self.texts.module_text(trailer=[*head, ""] if head else ["", ""])
        if not self.target_is_elf():
            text = text.replace(", comdat, align", ", align")
        return text

    def target_is_elf(self) -> bool:
        return "apple" not in self.target.triple and "windows" not in self.target.triple


# --- the driver -----------------------------------------------------------------------------


# The stack pointer's register name in LLVM's inline-asm constraints, by architecture (the
# triple's first part); other architectures read it through llvm.stacksave.
_STACK_POINTER_REGISTER = {"thumbv6m": "sp", "thumbv7m": "sp", "thumbv7em": "sp", "thumbv8m.base": "sp",
                           "thumbv8m.main": "sp", "thumbv8.1m.main": "sp", "riscv32": "sp", "riscv64": "sp",
                           "x86_64": "rsp", "aarch64": "sp", "arm64": "sp"}


def calling_convention(target: Target) -> str:
    """The LLVM calling convention of every function Waft compiles for `target` ("" for C's default)."""
    return "arm_aapcs_vfpcc" if target.hard_float_arm else ""


def can_musttail(target: Target, vfp_cconv: bool, caller: FuncType, callee: FuncType) -> bool:
    """Can a call from `caller` to `callee` be a guaranteed (musttail) tail call on `target`?

    LLVM requires identical prototypes; 32-bit Arm and RISC-V also need every
    argument in registers and a result that is not returned through memory,
    or their backends abort instead of falling back.  `vfp_cconv`: floats
    travel in VFP registers (hard-float Arm).
    """
    if caller != callee:
        return False
    if target.triple.startswith(("thumbv6m", "armv6m")):
        # Thumb-1 has no tail calls in LLVM at all (ARMSubtarget::SupportsTailCall):
        # return_call is an ordinary call there and deep tail recursion exhausts
        # the stack (trapping CALL_STACK_EXHAUSTED, never corrupting memory).
        return False
    if target.is_host:
        return len(callee.results) <= 2
    if len(callee.results) > 1:
        return False
    core, vfp = 1, 0  # the instance pointer
    for t in callee.params:
        if t in ("i64",) or (t == "f64" and not vfp_cconv):
            if target.is_arm and core % 2:
                core += 1
            core += 2
        elif t in ("f32", "f64") and vfp_cconv:
            vfp += 1 if t == "f32" else 2
        else:
            core += 1
    limit = 4 if target.is_arm else 8
    return core <= limit and vfp <= 16


@dataclass
class LoweredModule:
    ir_text: str
    instance_size: int
    instance_align: int
    defined_functions: frozenset[str] = frozenset()  # LLVM names, for matching LLVM's frame reports
    stack_pointer_offset: int | None = None  # aot/shadow_stack.py: the ordered pointer's byte offset
    # The LLVM name of each function (by Wasm function index), for guards added after optimisation.
    function_names: tuple[str, ...] = ()


def prepared_context(module: Module, target: Target, prefix: str, target_data: llvm.TargetData, *,
                     opt: str = "2", memory_cap_pages: int | None = None, table_cap: int | None = None,
                     bounds_checks: bool = True, frame_guards: dict[str, int] | None = None,
                     regions: tuple[RegionGrant, ...] = (), import_thunks: bool = True,
                     declare_on_use: str | None = None) -> ModuleContext:
    """A module's lowering context before any function body: the module checked as supported, its data
    segments, imports, instance layout, function declarations and import thunks in place.  The one start of
    both the whole-module lowering (`lower_module`) and a partition's (aot/partition_lower.py), so a
    function's IR is the same either way.  With `import_thunks=False` the thunks are only declared: a
    partition defines the few its code calls once it knows them (`define_import_thunks`).  With
    `declare_on_use` (a linkage) the functions are declared when first looked up (`DeclaredOnUse`)."""
    mctx = ModuleContext(module, target, prefix, target_data, opt=opt,
                         memory_cap_pages=memory_cap_pages, table_cap=table_cap,
                         bounds_checks=bounds_checks, frame_guards=frame_guards, regions=tuple(regions))
    _check_supported(module)
    _declare_data_segments(mctx)
    _declare_imports(mctx)
    _define_instance_layout(mctx)
    if declare_on_use is None:
        _declare_functions(mctx)
    else:
        mctx.functions = DeclaredOnUse(mctx, declare_on_use)
    if import_thunks:
        define_import_thunks(mctx, range(module.num_imported_funcs))
    return mctx


def lower_module(
    module: Module,
    target: Target,
    prefix: str,
    target_data: llvm.TargetData,
    *,
    opt: str = "2",
    memory_cap_pages: int | None = None,
    table_cap: int | None = None,
    bounds_checks: bool = True,
    frame_guards: dict[str, int] | None = None,
    regions: tuple[RegionGrant, ...] = (),
) -> LoweredModule:
    """Lower a validated module to LLVM IR text plus the instance's size and alignment.

    `bounds_checks=False` drops the loads' and stores' bounds checks: for measuring their
    cost only, never the default (out-of-bounds accesses then corrupt memory).
    `frame_guards` ({LLVM function name: bytes}) names the functions whose frames are
    checked before they are pushed (aot/lower/frames.py).
    """
    mctx = prepared_context(module, target, prefix, target_data, opt=opt, memory_cap_pages=memory_cap_pages,
                            table_cap=table_cap, bounds_checks=bounds_checks, frame_guards=frame_guards,
                            regions=regions)
    # Each function is printed and dropped as soon as it is lowered: memory stays
    # proportional to the IR text, not to llvmlite's far larger objects (irtext.py).
    for fn in mctx.functions[:module.num_imported_funcs]:
        mctx.retire(fn)
    for index in range(module.num_imported_funcs, len(mctx.functions)):
        _lower_function(mctx, index)
        mctx.retire(mctx.functions[index])
    _emit_initialize(mctx)
    _emit_exports(mctx)
    if len(mctx.functions) <= GC_AFTER_FUNCTIONS:
        return LoweredModule(mctx.ir_text(), mctx.instance_size, mctx.instance_align,
                             frozenset(mctx.defined_functions), mctx.stack_pointer_offset,
                             tuple(fn.name for fn in mctx.functions))
    # A big module: give the memory of the lowering back before LLVM needs as much again.
    # llvmlite's objects reference each other in cycles, which only the collector frees,
    # and a few small survivors scattered among them (the function names) would keep
    # Python's memory pools from being returned: they are rebuilt after the collection.
    lowered = LoweredModule(mctx.ir_text(), mctx.instance_size, mctx.instance_align,
                            stack_pointer_offset=mctx.stack_pointer_offset,
                            function_names=tuple(fn.name for fn in mctx.functions))
    names = "\n".join(mctx.defined_functions)
    del mctx
    gc.collect()
    lowered.defined_functions = frozenset(names.split("\n")) if names else frozenset()
    return lowered


def _check_supported(module: Module) -> None:
    for functype in module.types:
        if "v128" in functype.params or "v128" in functype.results:
            raise UnsupportedError("SIMD (v128) is not supported yet", section="type")
    for g in module.globals:
        if g.type.valtype == "v128":
            raise UnsupportedError("SIMD (v128) globals are not supported yet", section="global", offset=g.offset)
    for func_index, function in enumerate(module.functions, module.num_imported_funcs):
        if "v128" in function.locals:
            raise UnsupportedError("SIMD (v128) locals are not supported yet", section="code",
                                   func_index=func_index, offset=function.offset)


def _declare_data_segments(mctx: ModuleContext) -> None:
    for index, seg in enumerate(mctx.module.datas):
        if not seg.data:
            mctx.data_constants.append(None)
            continue
        # Printed by irtext.py: a big segment is big text, made without per-byte objects.
        mctx.data_constants.append(ByteArrayConstant(mctx.llmod, f"data.{index}", seg.data))


def _declare_imports(mctx: ModuleContext) -> None:
    """C declarations of imported functions; ctx slots; memory/table infos for imports."""
    module = mctx.module
    ctx_slots: dict[str, int] = {}
    bases = {w.grant.name: w.base for w in mctx.windows}
    mctx.region_import_base = {index: bases[name] for index, name in shm.region_imports(module) if name in bases}
    func_index = -1
    for imp in module.imports:
        if imp.kind == "func":
            func_index += 1
            if imp.module not in ctx_slots:
                ctx_slots[imp.module] = len(ctx_slots)
            mctx.import_ctx_index.append(ctx_slots[imp.module])
            if func_index in mctx.region_import_base:
                continue  # a window's base: a constant (define_import_thunks), no C function
            symbol = abi.import_symbol(imp.module, imp.name)
            if symbol not in mctx.import_decls:
                mctx.import_decls[symbol] = mctx.add_function(
                    mctx.c_type(module.types[imp.desc]), symbol, internal=False)
        elif imp.kind == "memory":
            mctx.memories.append(MemoryInfo(imp.desc, True, None))
        elif imp.kind == "table":
            mctx.tables.append(TableInfo(imp.desc, True, None))
    mctx.num_ctx = len(ctx_slots)
    for i, mem in enumerate(module.memories):
        cap = memory_cap(mem, mctx.target, mctx.memory_cap_option)
        mctx.memories.append(MemoryInfo(mem, False, i, cap, cap << mem.limits.page_size_log2))
    if mctx.windows and mctx.memories:
        first = mctx.memories[0]
        lim = first.type.limits
        reach = first.cap_bytes if not first.imported else (
            (lim.max if lim.max is not None else mctx.target.default_memory_cap_pages) << lim.page_size_log2)
        shm.check_below_windows(reach, mctx.prefix)
    for i, tab in enumerate(module.tables):
        mctx.tables.append(TableInfo(tab, False, i, table_cap(tab, mctx.target, mctx.table_cap_option)))


def referenced_functions(module: Module) -> list[int]:
    """The functions a funcref can ever name, in index order: Wasm's C.refs.

    A funcref comes from an element segment, a global's initialiser or a
    `ref.func` in code, and validation admits `ref.func` only for functions
    named in an element segment, a global's initialiser or an export
    (Module.declared_refs, which aot/wasm/validate.py checks against).  Only
    these need a waft_func descriptor in the instance; every other
    descriptor is never read.
    """
    return sorted(module.declared_refs())


def _define_instance_layout(mctx: ModuleContext) -> None:
    module = mctx.module
    td = mctx.target_data
    nfuncs = module.num_imported_funcs + len(module.functions)
    own_mems = [m for m in mctx.memories if not m.imported]
    own_tabs = [t for t in mctx.tables if not t.imported]
    first = ir.LiteralStructType([
        ir.ArrayType(PTR, mctx.num_ctx),
        ir.ArrayType(PTR, len(mctx.memories)),
        ir.ArrayType(PTR, len(mctx.tables)),
        ir.ArrayType(PTR, module.num_imported_globals),
        ir.ArrayType(mctx.memory_type, len(own_mems)),
        ir.ArrayType(mctx.table_type, len(own_tabs)),
        ir.LiteralStructType([llvm_type(g.type.valtype) for g in module.globals]),
        ir.ArrayType(mctx.func_type_struct, nfuncs),
        ir.ArrayType(I8, len(module.datas) + len(module.elems)),
        ir.LiteralStructType([ir.ArrayType(PTR, len(seg.init)) for seg in module.elems]),
        ir.LiteralStructType([ir.ArrayType(PTR, t.cap) for t in own_tabs]),
    ])
    first_size = first.get_abi_size(td)
    if mctx.ordered_global is not None:
        own = mctx.ordered_global - module.num_imported_globals
        mctx.stack_pointer_offset = (first.get_element_offset(td, F_GLOBALS)
                                     + first.elements[F_GLOBALS].get_element_offset(td, own))
    mctx.instance_fixed_size = first_size
    pad = (-first_size) % MEMORY_ALIGN if own_mems else 0
    # Each memory's storage is rounded up to 16 bytes, so every one starts aligned.
    storage = ir.LiteralStructType([ir.ArrayType(I8, m.cap_bytes + (-m.cap_bytes) % MEMORY_ALIGN) for m in own_mems])
    layout = ir.LiteralStructType([first, ir.ArrayType(I8, pad), storage])
    align = first.get_abi_alignment(td)
    if own_mems:
        align = max(align, MEMORY_ALIGN)
    size = layout.get_abi_size(td)
    # A named type keeps the IR small: every GEP would otherwise spell the whole layout.
    mctx.instance_type = mctx.llmod.context.get_identified_type(f"{mctx.prefix}.instance")
    mctx.instance_type.set_body(*layout.elements)
    mctx.instance_align = align
    mctx.instance_size = size + (-size) % align


def memory_storage(mctx: ModuleContext, builder: ir.IRBuilder, inst: ir.Value, own_index: int) -> ir.Value:
    ptr = builder.bitcast(inst, mctx.instance_type.as_pointer())
    zero = ir.Constant(I32, 0)
    return builder.gep(ptr, [zero, ir.Constant(I32, 2), ir.Constant(I32, own_index), zero], inbounds=True)


def _function_name(mctx: ModuleContext, index: int) -> str:
    name = mctx.module.names.functions.get(index)
    return f"wasm.{index}" + (f".{_sanitize(name)}" if name else "")


def function_name(mctx: ModuleContext, index: int) -> str:
    """The LLVM name of function `index` (imports counted): its import thunk's or its definition's."""
    return f"import.{index}" if index < mctx.module.num_imported_funcs else _function_name(mctx, index)


def _declare_function(mctx: ModuleContext, index: int) -> ir.Function:
    functype = mctx.module.func_type(index)
    fn = mctx.add_function(mctx.internal_type(functype), function_name(mctx, index), internal=True,
                           functype=functype)
    mctx.mark_instance_param(fn)
    if fn is not mctx.definition(fn):
        mctx.mark_instance_param(mctx.definition(fn))
    if index in mctx.kept_out_of_loops:
        fn.attributes.add("noinline")
    return fn


def _declare_functions(mctx: ModuleContext) -> None:
    """One internal-convention function per index: import thunks first, then definitions."""
    module = mctx.module
    for index in range(module.num_imported_funcs + len(module.functions)):
        mctx.functions.append(_declare_function(mctx, index))


class DeclaredOnUse:
    """`ModuleContext.functions` for a partition: a function is declared when first looked up.

    A partition of a thousand-function module defines a few dozen and calls a few more; declaring all of
    them (ir.Function objects, attributes, frame-size markers) was a quarter of its lowering time and
    made up most of what `_drop_unused` then threw away.  What is declared here but defined elsewhere
    gets `linkage`; the caller declares the partition's own functions first, in index order, so that
    their definitions keep the module's order.
    """

    def __init__(self, mctx: ModuleContext, linkage: str) -> None:
        self._mctx = mctx
        self._linkage = linkage
        self._declared: dict[int, ir.Function] = {}
        self._count = mctx.module.num_imported_funcs + len(mctx.module.functions)

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> ir.Function:
        if not isinstance(index, int) or not 0 <= index < self._count:
            raise IndexError(f"no function {index!r} in a module of {self._count}")
        fn = self._declared.get(index)
        if fn is None:
            fn = self._declared[index] = _declare_function(self._mctx, index)
            fn.linkage = self._linkage
        return fn

    def __iter__(self):
        raise TypeError("a partition's functions are declared on use: look them up by index")

    def is_declared(self, index: int) -> bool:
        return index in self._declared


def define_import_thunks(mctx: ModuleContext, indices: Iterable[int]) -> None:
    """Internal-convention wrappers of the imports `indices`: for funcrefs and multi-value calls."""
    module = mctx.module
    for index in indices:
        functype = module.func_type(index)
        fn = mctx.definition(mctx.functions[index])
        builder = ir.IRBuilder(fn.append_basic_block("entry"))
        inst, *params = fn.args
        if index in mctx.region_import_base:
            builder.ret(ir.Constant(I32, mctx.region_import_base[index]))
            continue
        callee = mctx.import_callee(builder, index)
        ctx = mctx.ctx(builder, inst, index)
        if len(functype.results) <= 1:
            result = builder.call(callee, [ctx, *params], cconv=mctx.cconv or None)
            builder.ret_void() if not functype.results else builder.ret(result)
            continue
        slots = [builder.alloca(llvm_type(t), name=f"result{i}") for i, t in enumerate(functype.results)]
        builder.call(callee, [ctx, *params, *(builder.bitcast(s, PTR) for s in slots)], cconv=mctx.cconv or None)
        ret_type = mctx.result_type(functype.results)
        value = ir.Constant(ret_type, ir.Undefined)
        for i, slot in enumerate(slots):
            value = builder.insert_value(value, builder.load(slot), i)
        builder.ret(value)


def _lower_function(mctx: ModuleContext, index: int) -> None:
    from aot.lower import (  # late: the families import this module's types
        control,
        guarded_index,
        lower_body,
    )

    module = mctx.module
    function = module.functions[index - module.num_imported_funcs]
    functype = module.func_type(index)
    fn = mctx.definition(mctx.functions[index])
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    fctx = FuncContext(mctx, index, fn, builder)
    fctx.functype = functype
    # Locals live in allocas in the entry block; mem2reg turns them into SSA values.
    # Only params and the locals the body mentions get one: three bytes declare
    # 50,000 locals, and each alloca costs LLVM time and memory (issue 12).
    valtypes = list(functype.params) + list(function.locals)
    mentioned = _mentioned_locals(function.body)
    for i, valtype in enumerate(valtypes):
        wanted = i < len(functype.params) or i in mentioned
        fctx.locals.append(builder.alloca(llvm_type(valtype), name=f"local{i}") if wanted else None)
        fctx.local_types.append(valtype)
    fn.args[0].name = "instance"
    # The stack check comes before the first store into the new frame.  A guarded
    # function's body needs none: its guard checked for the whole frame (frames.py);
    # nor does a leaf that only checked Wasm code can call (leaves.py).
    # Either way the entry block ends here, so values hoisted into it precede the code.
    if fn is mctx.functions[index] and index not in mctx.unchecked_leaves:
        mctx.stack_check(fctx)
    else:
        start = fn.append_basic_block("start")
        builder.branch(start)
        builder.position_at_end(start)
    for i, (slot, valtype) in enumerate(zip(fctx.locals, valtypes)):
        if slot is None:
            continue
        if i < len(functype.params):
            arg = fn.args[1 + i]
            arg.name = f"p{i}"
            builder.store(arg, slot)
        else:
            builder.store(zero_value(valtype), slot)
    builtin = mctx.builtins.get(index)
    if builtin is not None:
        lower_builtin(fctx, builtin)
        return
    found = (guarded_index.plan(function, functype)
             if mctx.bounds_checks and not mctx.windows and mctx.opt in ("1", "2", "3") else None)
    if found is not None:
        # A buffer and its length checked once (aot/lower/guarded_index.py): the fast copy, then the body again.
        fast, checked = fn.append_basic_block("guarded"), fn.append_basic_block("checked")
        builder.cbranch(guarded_index.entry_condition(fctx, found), fast, checked)
        builder.position_at_end(fast)
        fctx.guarded = found
        control.begin_function(fctx, functype)
        lower_body(fctx, function.body)
        fctx.start_again()
        builder.position_at_end(checked)
    control.begin_function(fctx, functype)
    lower_body(fctx, function.body)


def _mentioned_locals(body: list) -> set[int]:
    """The local indices that local.get, local.set and local.tee use in `body`."""
    return {instr.imm for instr in body if instr.op in _LOCAL_OPS}


_LOCAL_OPS = frozenset(("local.get", "local.set", "local.tee"))


def _const_expr(mctx: ModuleContext, builder: ir.IRBuilder, inst: ir.Value, expr: ConstExpr) -> ir.Value:
    """Evaluate a constant expression (extended-const included) at initialize time."""
    from aot.lower.numeric import float_const

    stack: list[ir.Value] = []
    for instr in expr:
        op = instr.op
        if op == "i32.const":
            stack.append(ir.Constant(I32, instr.imm & 0xFFFFFFFF))
        elif op == "i64.const":
            stack.append(ir.Constant(I64, instr.imm & 0xFFFFFFFFFFFFFFFF))
        elif op in ("f32.const", "f64.const"):
            stack.append(float_const(op[:3], instr.imm))
        elif op == "ref.null":
            stack.append(ir.Constant(PTR, None))
        elif op == "ref.func":
            stack.append(mctx.func_ref(builder, inst, instr.imm))
        elif op == "global.get":
            stack.append(builder.load(mctx.global_ptr(builder, inst, instr.imm), name=f"global{instr.imm}"))
        elif op in ("i32.add", "i64.add", "i32.sub", "i64.sub", "i32.mul", "i64.mul"):
            b = stack.pop()
            a = stack.pop()
            kind = op[4:]
            stack.append({"add": builder.add, "sub": builder.sub, "mul": builder.mul}[kind](a, b))
        else:
            raise UnsupportedError(f'constant expression instruction "{op}" is not supported',
                                   offset=instr.offset)
    if len(stack) != 1:
        raise UnsupportedError("constant expression does not produce exactly one value")
    return stack[0]


def _memset(mctx: ModuleContext, builder: ir.IRBuilder, ptr: ir.Value, nbytes: int) -> None:
    if nbytes == 0:
        return
    fn = mctx.intrinsic(f"llvm.memset.p0.i{mctx.pointer_bits}", ir.VoidType(), [PTR, I8, mctx.intptr, I1])
    builder.call(fn, [ptr, ir.Constant(I8, 0), ir.Constant(mctx.intptr, nbytes), ir.Constant(I1, 0)])


def _store_member(mctx: ModuleContext, builder: ir.IRBuilder, desc: ir.Value, struct: str, member: str,
                  value: ir.Value) -> None:
    i = abi.field_index(struct, member)
    builder.store(value, builder.gep(desc, [ir.Constant(I32, 0), ir.Constant(I32, i)], inbounds=True))


def _reference_abi_version(mctx: ModuleContext, builder: ir.IRBuilder) -> None:
    """Make the object need `waft_abi_v<N>`, which only a runtime of ABI version N defines.

    The address goes into an empty inline asm with side effects, which LLVM
    may not drop: two instructions, once per instantiation, and a relocation
    against the symbol in P__initialize's section, which every program that
    uses the module keeps (so --gc-sections cannot drop the check either).
    """
    marker = ir.GlobalVariable(mctx.llmod, I8, name=abi.abi_version_symbol())
    marker.linkage = "external"
    marker.global_constant = True
    builder.asm(ir.FunctionType(ir.VoidType(), [PTR]), "", "r", [marker], side_effect=True)


def _emit_initialize(mctx: ModuleContext) -> None:
    """`void P__initialize(void *inst, void *imports)`: docs/abi.md, 'The instance'.

    Each piece of work is a step from `steps`, which spreads the steps of a big
    module over helper functions (init_bulk.py): a step uses only its own
    `builder`, `inst` and `imports`.
    """
    module = mctx.module
    fnty = ir.FunctionType(ir.VoidType(), [PTR, PTR])
    fn = mctx.definition(mctx.add_function(fnty, abi.internal_symbol(mctx.prefix, "initialize"), internal=False))
    inst, imports = fn.args
    inst.name, imports.name = "instance", "imports"
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    _reference_abi_version(mctx, builder)
    word = mctx.intptr
    import_fields = abi.imports_struct_fields(module)
    referenced = referenced_functions(module)  # the functions whose descriptors are filled in (below)
    steps = init_bulk.InitSteps(mctx, fn, builder, total=(
        len(import_fields) + len(mctx.memories) + len(mctx.tables) + len(referenced) + len(module.globals)
        + sum(len(seg.init) for seg in module.elems) + len(module.elems) + len(module.datas)))

    # Imports: ctx pointers, then memory/table/global pointers, in imports-struct order.
    first_func_import = {}
    for position, imp in enumerate(module.imports_of("func")):
        first_func_import.setdefault(imp.module, position)
    kind_counts = {"memory": 0, "table": 0, "global": 0}
    for i, field in enumerate(import_fields):
        builder, inst, imports = steps.next()
        import_slots = steps.per_part("import slots", lambda b, _, imports: b.bitcast(imports, PTR.as_pointer()))
        value = builder.load(builder.gep(import_slots, [ir.Constant(I32, i)]), name=f"import.{field.name}")
        if field.kind == "ctx":
            target = mctx.field(builder, inst, F_CTX, mctx.import_ctx_index[first_func_import[field.module]])
        else:
            n = kind_counts[field.kind]
            kind_counts[field.kind] += 1
            target = mctx.field(builder, inst, {"memory": F_MEMPTR, "table": F_TABPTR, "global": F_GLOBPTR}[field.kind], n)
        builder.store(value, target)

    # Own memories: descriptor, zeroed initial pages.
    for index, info in enumerate(mctx.memories):
        if info.imported:
            continue
        builder, inst, imports = steps.next()
        lim = info.type.limits
        desc = mctx.field(builder, inst, F_MEMDESC, info.own_index)
        base = memory_storage(mctx, builder, inst, info.own_index)
        _store_member(mctx, builder, desc, "waft_memory", "base", base)
        _store_member(mctx, builder, desc, "waft_memory", "size", ir.Constant(word, lim.min << lim.page_size_log2))
        _store_member(mctx, builder, desc, "waft_memory", "pages", ir.Constant(I32, lim.min))
        _store_member(mctx, builder, desc, "waft_memory", "max_pages", ir.Constant(I32, info.cap_pages))
        _store_member(mctx, builder, desc, "waft_memory", "page_size_log2", ir.Constant(I32, lim.page_size_log2))
        _memset(mctx, builder, base, lim.min << lim.page_size_log2)
        builder.store(builder.bitcast(desc, PTR), mctx.field(builder, inst, F_MEMPTR, index))

    # Own tables: descriptor, null entries.
    for index, info in enumerate(mctx.tables):
        if info.imported:
            continue
        builder, inst, imports = steps.next()
        desc = mctx.field(builder, inst, F_TABDESC, info.own_index)
        elems = builder.bitcast(mctx.field(builder, inst, F_TABSTORE, info.own_index, 0), PTR)
        _store_member(mctx, builder, desc, "waft_table", "elems", elems)
        _store_member(mctx, builder, desc, "waft_table", "size", ir.Constant(I32, info.type.limits.min))
        _store_member(mctx, builder, desc, "waft_table", "max", ir.Constant(I32, info.cap))
        _memset(mctx, builder, elems, info.type.limits.min * (mctx.pointer_bits // 8))
        builder.store(builder.bitcast(desc, PTR), mctx.field(builder, inst, F_TABPTR, index))

    # Function descriptors (before globals: ref.func in a global's initialiser points here).
    # Many functions and element entries are written by loops over constant tables,
    # or LLVM's schedulers spend quadratic time on one long block (init_bulk.py).
    # Only functions a funcref can name get one: the others' addresses are never taken, so
    # LLVM may specialise them for their callers' constant arguments, drop unused
    # parameters and delete them once inlined everywhere (referenced_functions).
    loops = init_bulk.wants_loops(module)
    if loops and referenced:
        builder, inst, imports = steps.next()
        init_bulk.fill_function_descriptors(mctx, builder, inst, referenced)
    elif not loops:
        for index in referenced:
            builder, inst, imports = steps.next()
            desc = mctx.field(builder, inst, F_FUNCS, index)
            _store_member(mctx, builder, desc, "waft_func", "signature", mctx.signature_ptr(module.func_type(index)))
            _store_member(mctx, builder, desc, "waft_func", "code", mctx.functions[index].bitcast(PTR))
            _store_member(mctx, builder, desc, "waft_func", "instance", inst)

    # Globals, in order (an initialiser may read imported globals and earlier ones).
    # Many globals: the constant initial values come from one table in one copy.
    nimp = module.num_imported_globals
    copied = None
    if init_bulk.copies_globals(module):
        builder, inst, imports = steps.next()
        copied = init_bulk.copy_constant_globals(mctx, builder, inst)
    for i, g in enumerate(module.globals):
        if copied is not None and copied[i]:
            continue
        builder, inst, imports = steps.next()
        value = _const_expr(mctx, builder, inst, g.init)
        builder.store(value, mctx.global_ptr(builder, inst, nimp + i))

    # Segments: nothing dropped yet; element segments evaluated into the instance.
    builder, inst, imports = steps.next()
    _memset(mctx, builder, builder.bitcast(mctx.field(builder, inst, F_DROPPED, 0), PTR),
            len(module.datas) + len(module.elems))
    for e, seg in enumerate(module.elems):
        if loops:
            builder, inst, imports = steps.next()
            entries = init_bulk.fill_element_segment(mctx, builder, inst, e)
        else:
            entries = enumerate(seg.init)
        for j, expr in entries:
            builder, inst, imports = steps.next()
            value = _const_expr(mctx, builder, inst, expr)
            builder.store(value, mctx.field(builder, inst, F_ELEMS, e, j))

    # Active element segments, then active data segments, in module order; each traps
    # if out of bounds (earlier segments stay written, as the spec requires).
    one = ir.Constant(I8, 1)
    for e, seg in enumerate(module.elems):
        if seg.mode not in ("active", "declarative"):
            continue
        builder, inst, imports = steps.next()
        if seg.mode == "active":
            offset = _const_expr(mctx, builder, inst, seg.offset_expr)
            table = builder.bitcast(mctx.table_desc(builder, inst, seg.table), PTR)
            n = ir.Constant(I32, len(seg.init))
            builder.call(mctx.runtime_function("waft_table_init"),
                         [table, offset, mctx.elem_storage(builder, inst, e), n, ir.Constant(I32, 0), n])
        builder.store(one, mctx.dropped_flag(builder, inst, "elem", e))
    for d, seg in enumerate(module.datas):
        if seg.mode != "active":
            continue
        builder, inst, imports = steps.next()
        offset = _const_expr(mctx, builder, inst, seg.offset_expr)
        mem = builder.bitcast(mctx.memory_desc(builder, inst, seg.memory), PTR)
        n = ir.Constant(I32, len(seg.data))
        builder.call(mctx.runtime_function("waft_memory_init"),
                     [mem, offset, mctx.data_constant(d), n, ir.Constant(I32, 0), n])
        builder.store(one, mctx.dropped_flag(builder, inst, "data", d))

    builder = steps.finish()
    inst = fn.args[0]
    if module.start is not None:
        mctx.call_function(builder, inst, module.start, [])
    builder.ret_void()


def _emit_exports(mctx: ModuleContext) -> None:
    """Exported functions (aliases of the function, or C wrappers where the conventions differ); accessors
    for memories, tables and globals."""
    module = mctx.module
    for export in module.exports:
        symbol = abi.export_symbol(mctx.prefix, export.name)
        if export.kind == "func":
            functype = module.func_type(export.index)
            body = mctx.functions[export.index]
            c_type = mctx.c_type(functype)
            if mctx.target_is_elf() and str(body.function_type) == str(c_type):
                # Same signature in C as inside (at most one result): the export is a second name
                # for the function itself, not a wrapper that branches to it -- one instruction
                # less on every call from C, an interrupt vector's among them.
                mctx.aliases.append(f'@"{symbol}" = alias {c_type}, ptr {body.get_reference()}')
                continue
            fn = mctx.definition(mctx.add_function(c_type, symbol, internal=False))
            mctx.mark_instance_param(fn)
            builder = ir.IRBuilder(fn.append_basic_block("entry"))
            inst = fn.args[0]
            params = list(fn.args[1 : 1 + len(functype.params)])
            # Never inline the body into its wrapper: every function's address is in the instance's
            # function table, so the internal copy stays and an inlined wrapper would hold the whole
            # body a second time (flash).  The wrapper becomes a tail call (one branch) instead.
            result = builder.call(mctx.functions[export.index], [inst, *params], attrs=("noinline",))
            if not functype.results:
                builder.ret_void()
            elif len(functype.results) == 1:
                builder.ret(result)
            else:
                outs = fn.args[1 + len(functype.params):]
                for i, (t, out) in enumerate(zip(functype.results, outs)):
                    builder.store(builder.extract_value(result, i), builder.bitcast(out, llvm_type(t).as_pointer()))
                builder.ret_void()
            mctx.texts.retire(fn)
            continue
        fn = mctx.definition(mctx.add_function(ir.FunctionType(PTR, [PTR]), symbol, internal=False))
        builder = ir.IRBuilder(fn.append_basic_block("entry"))
        inst = fn.args[0]
        if export.kind == "memory":
            ptr = mctx.memory_desc(builder, inst, export.index)
        elif export.kind == "table":
            ptr = mctx.table_desc(builder, inst, export.index)
        elif export.kind == "global":
            ptr = mctx.global_ptr(builder, inst, export.index)
        else:
            raise UnsupportedError(f"export kind {export.kind} is not supported", section="export",
                                   offset=export.offset)
        builder.ret(builder.bitcast(ptr, PTR))
        mctx.texts.retire(fn)
