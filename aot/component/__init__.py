"""Components in the compiler (issue 16): decode a component, replay its instantiation, unwrap it.

One job per file:

    model.py        the decoded component: one dataclass per production of Binary.md
    errors.py       malformed / invalid / unsupported component, cannot unwrap (the compiler's error classes)
    decode.py       bytes -> model; preview-3 constructs refused by name after a full decode
    coremodule.py   an embedded core module's imports/exports read from its bytes; import names rewritten
    instantiate.py  static instantiation: the flat graph of core instances, lowerings and lifts
    adapter.py      path (a): recognise the preview1 adapter, recover the original p1 module
    fuse.py         path (b): a static linker fusing every core instance into one p1 module
    wasi_p1.py      path (b): the WASI 0.2 imports as generated Wasm over preview1 (canonical ABI)
    wasi_asm.py     the flat-text assembler wasi_p1.py writes its functions in
    unwrap.py       the library entry point `waft unwrap` and the pipeline hooks call (and its cache)
    exports_wit.py  the component's exports as a WIT world, and bindgen's host C for calling them

Lower layer rule: nothing here imports `waftkit`.
"""

from aot.component.decode import decode_component, is_component, is_core_module
from aot.component.instantiate import InstantiationGraph, instantiate
from aot.component.unwrap import UnwrapResult, core_module_bytes, unwrap_component

__all__ = ["InstantiationGraph", "UnwrapResult", "core_module_bytes", "decode_component", "instantiate",
           "is_component", "is_core_module", "unwrap_component"]
