"""Path (a): recognise the preview1 adapter in an instantiation graph and recover the original p1 module.

`wasm-tools component new main.wasm --adapt wasi_snapshot_preview1=adapter.wasm`
builds a component of four kinds of core module (see docs/components.md):

    main      the p1 program, importing `wasi_snapshot_preview1`
    shim      a table and one trampoline per lowered import (`local.get*; i32.const K;
              call_indirect`): it exists because main is instantiated before the
              adapter that implements its imports
    adapter   the preview1 adapter: exports the p1 functions, imports `wasi:*` 0.2
              interfaces, main's memory (`env`) and main's `_start` (`__main_module__`)
    fixup     an element segment that fills the shim's table once everything exists

Recovery follows each of main's imports through the graph: its instantiation
argument, the shim's trampoline, the fixup's table write, to the export that
finally implements it.  When every p1 import lands on exports of one adapter
instance, and nothing else in the component does work of its own, main is
the program and the rest is packaging: main is returned, with each import
named after the adapter export it resolves to.  That undoes the one change
`component new` makes to main's code-bearing sections: it renames duplicate
imports (`fd_write`, `fd_write [v2]`) because a core instance cannot export
one name twice.  Nothing is matched on module names or producers; the
adapter is recognised by what it does in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aot.component.coremodule import rename_imports, sections
from aot.component.errors import UnwrapError
from aot.component.instantiate import CoreExportRef, CoreInstanceNode, InstantiationGraph, Lowering
from aot.errors import AotError
from aot.wasm.decode import decode_module
from aot.wasm.module import Module

P1_MODULE = "wasi_snapshot_preview1"
# What the preview1 adapter may import: WASI 0.2 interfaces, main's memory, main's entry point.
_ADAPTER_IMPORT_MODULES = ("env", "__main_module__")
_PATH_B = "that needs path (b), fusing modules and WASI 0.2 over p1"


@dataclass
class RecoveredModule:
    """The p1 module recovered from an adapter-built component."""

    data: bytes
    byte_identical: bool  # True: these are exactly the main module's bytes inside the component
    renamed_imports: list[tuple[str, str]]  # (name inside the component, restored p1 name)
    main: str  # the main module, e.g. "component > core module 0"
    adapter: str | None  # the adapter module (None: main imports nothing from p1)
    dropped: list[str]  # every other core module, now gone
    lifted_exports: list[str] = field(default_factory=list)  # main's exports the component lifts directly
    notes: list[str] = field(default_factory=list)


def recover_p1_module(graph: InstantiationGraph) -> RecoveredModule:
    """Main's bytes with its p1 import names restored; UnwrapError when the graph is not adapter-built."""
    recovery = _Recovery(graph)
    return recovery.run()


class _Recovery:
    def __init__(self, graph: InstantiationGraph) -> None:
        self.graph = graph
        self.decoded: dict[int, Module | None] = {}
        self.table_writes: dict[tuple[int, str, int], object] | None = None

    # -- module roles ------------------------------------------------------------
    def decode(self, node: CoreInstanceNode) -> Module | None:
        """The node's module decoded (small helper modules only), or None when Waft cannot decode it."""
        key = id(node.module)
        if key not in self.decoded:
            try:
                self.decoded[key] = decode_module(node.module.data)
            except AotError:
                self.decoded[key] = None
        return self.decoded[key]

    def trampoline_slot(self, node: CoreInstanceNode, export_name: str) -> tuple[str, int] | None:
        """(exported table name, slot) when export `export_name` only forwards its arguments through a table."""
        module = self.decode(node)
        if module is None:
            return None
        export = next((e for e in module.exports if e.name == export_name and e.kind == "func"), None)
        defined = None if export is None else export.index - module.num_imported_funcs
        if defined is None or defined < 0:
            return None
        body = module.functions[defined].body
        nparams = len(module.func_type(export.index).params)
        expected = [("local.get", i) for i in range(nparams)]
        if len(body) != nparams + 3 or [(i.op, i.imm) for i in body[:nparams]] != expected:
            return None
        const, call, end = body[nparams:]
        if const.op != "i32.const" or call.op != "call_indirect" or end.op != "end":
            return None
        table = call.imm[1]
        table_export = next((e.name for e in module.exports if e.kind == "table" and e.index == table), None)
        return None if table_export is None else (table_export, const.imm)

    def fixup_writes(self) -> dict[tuple[int, str, int], object]:
        """(shim instance, table export, slot) -> the core item an element segment of a code-less module puts there."""
        if self.table_writes is not None:
            return self.table_writes
        writes: dict[tuple[int, str, int], object] = {}
        for node in self.graph.module_instances():
            if any(i.kind == "table" for i in node.interface.imports) and not _has_code(node):
                module = self.decode(node)
                if module is not None:
                    writes.update(self.writes_of(node, module))
        self.table_writes = writes
        return writes

    def writes_of(self, node: CoreInstanceNode, module: Module) -> dict[tuple[int, str, int], object]:
        writes = {}
        tables = module.imports_of("table")
        funcs = module.imports_of("func")
        for seg in module.elems:
            if seg.mode != "active" or seg.table >= len(tables) or len(seg.offset_expr) != 1 \
                    or seg.offset_expr[0].op != "i32.const":
                continue
            table_import = tables[seg.table]
            target = self.graph.core_instances[node.args[table_import.module]].export(table_import.name,
                                                                                       "core table")
            if not isinstance(target, CoreExportRef):
                continue
            for j, expr in enumerate(seg.init):
                if len(expr) == 1 and expr[0].op == "ref.func" and expr[0].imm < len(funcs):
                    imp = funcs[expr[0].imm]
                    item = self.graph.core_instances[node.args[imp.module]].export(imp.name, "core func")
                    writes[(target.instance, target.name, seg.offset_expr[0].imm + j)] = item
        return writes

    def is_helper(self, node: CoreInstanceNode) -> bool:
        """Shim (trampolines over an exported table) or fixup (code-less, fills an imported table)."""
        if not _has_code(node):
            return True
        exports = node.interface.exports
        return any(e.kind == "table" for e in exports) and all(
            e.kind == "table" or self.trampoline_slot(node, e.name) is not None for e in exports)

    def resolve(self, item: object) -> object:
        """Follow trampolines until the item that really implements a function."""
        for _ in range(len(self.graph.core_instances) + 1):
            if not isinstance(item, CoreExportRef):
                return item
            node = self.graph.core_instances[item.instance]
            slot = self.trampoline_slot(node, item.name)
            if slot is None:
                return item
            key = (node.id, slot[0], slot[1])
            if key not in self.fixup_writes():
                raise UnwrapError(f"{node.module_path} calls through slot {slot[1]} of table '{slot[0]}', which "
                                  "nothing in the component fills")
            item = self.fixup_writes()[key]
        raise UnwrapError("the component's trampolines call each other in a cycle")

    # -- the recovery ----------------------------------------------------------
    def run(self) -> RecoveredModule:
        nodes = self.graph.module_instances()
        importers = [n for n in nodes if P1_MODULE in n.interface.import_modules()]
        if len(importers) > 1:
            raise UnwrapError(f"{len(importers)} core modules import {P1_MODULE} ("
                              + ", ".join(n.module_path for n in importers) + f"): a composed component; {_PATH_B}")
        if importers:
            main = importers[0]
        else:
            workers = [n for n in nodes if not self.is_helper(n)]
            if len(workers) != 1:
                raise UnwrapError(f"no core module imports {P1_MODULE} and {len(workers)} modules do work of their "
                                  f"own: not built by the preview1 adapter; {_PATH_B}")
            main = workers[0]

        new_names: dict[int, str] = {}
        renamed: list[tuple[str, str]] = []
        adapter: CoreInstanceNode | None = None
        for index, imp in enumerate(main.interface.imports):
            provider = self.graph.core_instances[main.args[imp.module]]
            final = self.resolve(provider.export(imp.name, "core " + imp.kind))
            where = f"{main.module_path} imports {imp.module}.{imp.name}"
            if imp.module != P1_MODULE:
                raise UnwrapError(f"{where} ({self.graph.describe_item(final)}): only {P1_MODULE} imports can be "
                                  f"recovered as they were; {_PATH_B}")
            if isinstance(final, Lowering):
                raise UnwrapError(f"{where}, lowered straight from the component's "
                                  f"{self.graph.describe_item(final.func)}, not from the preview1 adapter; {_PATH_B}")
            if not isinstance(final, CoreExportRef) or final.instance == main.id:
                raise UnwrapError(f"{where}, which resolves to {self.graph.describe_item(final)}: not the "
                                  f"preview1 adapter")
            node = self.graph.core_instances[final.instance]
            if adapter is None:
                adapter = node
            elif node is not adapter:
                raise UnwrapError(f"{main.module_path}'s {P1_MODULE} imports come from two modules "
                                  f"({adapter.module_path} and {node.module_path}): not one preview1 adapter")
            if final.name != imp.name:
                new_names[index] = final.name
                renamed.append((imp.name, final.name))

        if adapter is not None:
            foreign = [m for m in adapter.interface.import_modules()
                       if m not in _ADAPTER_IMPORT_MODULES and not m.startswith("wasi:")]
            if foreign:
                raise UnwrapError(f"{adapter.module_path} implements {main.module_path}'s {P1_MODULE} imports but "
                                  f"imports {', '.join(repr(m) for m in foreign)}: not the preview1 adapter")
        others = [n for n in nodes if n is not main and n is not adapter and not self.is_helper(n)]
        if others:
            raise UnwrapError("besides the p1 module and its adapter the component runs "
                              + ", ".join(n.module_path for n in others) + f": a composed component; {_PATH_B}")

        lifted = []
        for lift in self.graph.lifts:
            core = self.resolve(lift.core_func)
            if isinstance(core, CoreExportRef) and core.instance == main.id:
                lifted.append(core.name)
        data = rename_imports(main.module.data, new_names)
        return RecoveredModule(
            data=data, byte_identical=not new_names, renamed_imports=renamed, main=main.module_path,
            adapter=adapter.module_path if adapter else None,
            dropped=sorted({n.module_path for n in nodes if n.module is not main.module}),
            lifted_exports=lifted, notes=_custom_section_notes(main.module.data))


def _has_code(node: CoreInstanceNode) -> bool:
    """Whether the module defines any function (code section present with bodies)."""
    return any(section_id == 10 and end - start > 1 for section_id, _, start, end in sections(node.module.data))


def _custom_section_notes(data: bytes) -> list[str]:
    """What `component new` may have changed in main's custom sections (they carry no semantics)."""
    notes = []
    for section_id, _, start, end in sections(data):
        if section_id == 0 and b"wit-component" in data[start:end] and data[start + 1:start + 10] == b"producers":
            notes.append("the producers section names wit-component: `component new` stripped the module's "
                         "component-type section (its embedded WIT) and recorded itself; code, data, imports "
                         "and exports are the original's")
    return notes
