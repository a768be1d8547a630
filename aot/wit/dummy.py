"""`waft wit dummy`: the core module a world describes, every function a trap, as bytes.

What `wasm-tools component embed --dummy-names legacy WIT --world W` writes,
without its `component-type` custom section: the imports and exports of
`core.py` in the same order, an empty memory, exported functions whose bodies
are `unreachable`, post-return functions, destructors and `_initialize` that
return at once.  Useful to see a world's core signatures, and to check a
runtime's coverage of a world by compiling the module against it.
"""

from __future__ import annotations

from aot.wasm.encode import encode_module
from aot.wasm.module import Export, FuncType, Function, Import, Instr, Limits, MemoryType, Module
from aot.wit.canonical_abi import CanonicalAbi
from aot.wit.core import core_exports, core_imports
from aot.wit.types import World


def dummy_module(world: World, abi: CanonicalAbi | None = None) -> Module:
    abi = abi or CanonicalAbi()
    module = Module()
    type_index: dict[FuncType, int] = {}

    def typeidx(ft: FuncType) -> int:
        if ft not in type_index:
            type_index[ft] = len(module.types)
            module.types.append(ft)
        return type_index[ft]

    for imp in core_imports(world, abi):
        module.imports.append(Import(imp.module, imp.name, "func", typeidx(imp.type)))
    n_imports = len(module.imports)
    for exp in core_exports(world, abi):
        if exp.kind == "memory":
            module.memories.append(MemoryType(Limits(0)))
            module.exports.append(Export(exp.name, "memory", 0))
            continue
        # Functions that hand back a value trap; those that return nothing just return.
        body = [Instr("unreachable"), Instr("end")] if exp.type.results else [Instr("end")]
        module.exports.append(Export(exp.name, "func", n_imports + len(module.functions)))
        module.functions.append(Function(typeidx(exp.type), body=body))
    return module


def dummy_module_bytes(world: World, abi: CanonicalAbi | None = None) -> bytes:
    return encode_module(dummy_module(world, abi))
