"""`waft unwrap` as a library call: component bytes -> one p1 core module, or a clear refusal.

    result = unwrap_component(data)      # UnwrapResult; AotError subclasses on bad input
    result.module                        # the core module's bytes, validated
    core = core_module_bytes(data)       # a core module passes through; a component is unwrapped

Today one path exists: (a) recovery of the original p1 module from an
adapter-built component (aot/component/adapter.py).  Path (b) — fusing the
core modules and implementing the WASI 0.2 imports over p1 — is the next
step of issue 16; components that need it get an `UnwrapError` saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.component.adapter import RecoveredModule, recover_p1_module
from aot.component.decode import decode_component, is_component, is_core_module
from aot.component.errors import ComponentDecodeError, UnwrapError
from aot.component.instantiate import InstantiationGraph, instantiate
from aot.errors import UnsupportedError
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module


@dataclass
class UnwrapResult:
    module: bytes
    recovered: RecoveredModule
    graph: InstantiationGraph


def unwrap_component(data: bytes) -> UnwrapResult:
    """The p1 core module inside component `data` (ComponentDecodeError if `data` is not a component)."""
    if not is_component(data):
        what = "a core module" if is_core_module(data) else "neither a component nor a core module"
        raise ComponentDecodeError(f"expected a component, found {what}", offset=0)
    graph = instantiate(decode_component(data))
    recovered = recover_p1_module(graph)
    _check_core_module(recovered)
    return UnwrapResult(recovered.data, recovered, graph)


def core_module_bytes(data: bytes) -> bytes:
    """`data` itself when it is a core module (or not Wasm at all: the core decoder reports that), else unwrapped."""
    return unwrap_component(data).module if is_component(data) else data


def _check_core_module(recovered: RecoveredModule) -> None:
    """Decode and validate what is about to be handed on: a recovery bug must not reach a file or the compiler."""
    try:
        validate_module(decode_module(recovered.data))
    except UnsupportedError:
        pass  # valid Wasm that Waft does not compile (SIMD...): `waft compile` says so itself
    except Exception as exc:  # noqa: BLE001 - any failure here is ours, reported against the module
        raise UnwrapError(f"the module recovered from {recovered.main} does not validate: {exc}") from exc
