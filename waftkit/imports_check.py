"""Which of a module's imports a target's runtime provides: the logic behind `waft check`.

The runtime provides the WASI preview1 functions (from the one signature
table, waftkit/wasi.py) on targets that have a WASI port; everything else a
module imports must come from the firmware (the embedder's C code), so it is
reported with the C prototype to write.  A provided name imported at the
wrong type is reported as a mismatch, since it would fail at link time or,
worse, be called with the wrong arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot import abi
from aot.errors import TargetError
from aot.targets import Target
from aot.wasm.module import FuncType, Import, Module
from waftkit import wasi


@dataclass(frozen=True)
class ImportStatus:
    imp: Import
    functype: FuncType | None  # None for non-function imports
    status: str  # "provided" | "missing" | "type mismatch" | "embedder"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "provided"


def runtime_provides(target: Target) -> dict[tuple[str, str], FuncType]:
    """(module, name) -> type of every function `target`'s runtime supplies."""
    try:
        wasi.runtime_sources(target)
    except TargetError:
        return {}
    return wasi.provided_imports()


def c_prototype(imp: Import, functype: FuncType) -> str:
    """The C declaration an embedder writes to supply a function import (docs/abi.md)."""
    results = [abi.C_TYPES[t] for t in functype.results]
    params = ["void *ctx"] + [f"{abi.C_TYPES[t]} p{i}" for i, t in enumerate(functype.params)]
    if len(results) > 1:
        params += [f"{t} *result{i}" for i, t in enumerate(results)]
    ret = results[0] if len(results) == 1 else "void"
    return f"{ret} {abi.import_symbol(imp.module, imp.name)}({', '.join(params)});"


def check_imports(module: Module, target: Target) -> list[ImportStatus]:
    provided = runtime_provides(target)
    statuses = []
    for imp in module.imports:
        if imp.kind != "func":
            statuses.append(ImportStatus(imp, None, "embedder",
                                         f"imported {imp.kind}: pass it in the imports struct"))
            continue
        functype = module.types[imp.desc]
        want = provided.get((imp.module, imp.name))
        if want is None:
            statuses.append(ImportStatus(imp, functype, "missing", c_prototype(imp, functype)))
        elif want != functype:
            statuses.append(ImportStatus(imp, functype, "type mismatch",
                                         f"the runtime's is {want}, the module imports {functype}"))
        else:
            statuses.append(ImportStatus(imp, functype, "provided"))
    return statuses
