"""`waft unwrap` as a library call: component bytes -> one p1 core module, or a clear refusal.

    result = unwrap_component(data)      # UnwrapResult; AotError subclasses on bad input
    result.module                        # the core module's bytes, validated
    result.path                          # "a" or "b"
    core = core_module_bytes(data)       # a core module passes through; a component is unwrapped
    path = unwrap_cached(data, "app.wasm", cache_root, digest)   # the same, kept in a cache folder

Two paths (docs/components.md):

(a) recovery of the original p1 module from an adapter-built component
    (aot/component/adapter.py): zero overhead, tried first;
(b) fusion of all core module instances into one module whose WASI 0.2
    imports are generated Wasm over preview1 (aot/component/fuse.py,
    aot/component/wasi_p1.py): for every other component importing WASI 0.2
    only, and for adapter-built ones when `adapter_recovery=False`.

When (a) does not apply, (b) is tried; when both fail, (b)'s reason is the
one reported (it is the general path; (a)'s "not adapter-built" says less).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aot.component.adapter import RecoveredModule, recover_p1_module
from aot.component.decode import decode_component, is_component, is_core_module
from aot.component.errors import ComponentDecodeError, UnwrapError
from aot.component.fuse import FuseResult, fuse
from aot.component.instantiate import InstantiationGraph, instantiate
from aot.errors import UnsupportedError
from aot.outputs import write_file
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module


@dataclass
class UnwrapResult:
    module: bytes
    path: str  # "a": the p1 core module recovered unchanged (adapter dropped, if any); "b": core modules fused, WASI 0.2 over p1
    recovered: RecoveredModule | None  # path (a)
    fused: FuseResult | None  # path (b)
    graph: InstantiationGraph
    not_recovered: str = ""  # path (b) taken without being asked: why (a) did not apply


def unwrap_component(data: bytes, adapter_recovery: bool = True) -> UnwrapResult:
    """The p1 core module inside component `data` (ComponentDecodeError if `data` is not a component)."""
    if not is_component(data):
        what = "a core module" if is_core_module(data) else "neither a component nor a core module"
        raise ComponentDecodeError(f"expected a component, found {what}", offset=0)
    graph = instantiate(decode_component(data))
    why_not = ""
    if adapter_recovery:
        try:
            recovered = recover_p1_module(graph)
        except UnwrapError as exc:
            why_not = str(exc)
        else:
            _check_core_module(recovered.data, f"the module recovered from {recovered.main}")
            return UnwrapResult(recovered.data, "a", recovered, None, graph)
    fused = fuse(graph)
    _check_core_module(fused.module, "the fused module")
    return UnwrapResult(fused.module, "b", None, fused, graph, why_not)


def core_module_bytes(data: bytes, adapter_recovery: bool = True) -> bytes:
    """`data` itself when it is a core module (or not Wasm at all: the core decoder reports that), else unwrapped."""
    return unwrap_component(data, adapter_recovery).module if is_component(data) else data


def _check_core_module(data: bytes, what: str) -> None:
    """Decode and validate what is about to be handed on: an unwrapping bug must not reach a file or the compiler."""
    try:
        validate_module(decode_module(data))
    except UnsupportedError:
        pass  # valid Wasm that Waft does not compile (SIMD...): `waft compile` says so itself
    except Exception as exc:  # noqa: BLE001 - any failure here is ours, reported against the module
        raise UnwrapError(f"{what} does not validate: {exc}") from exc


def cached_core_module(path: Path, cache_root: Path, digest: str) -> Path:
    """`path` when it holds a core module (or anything not a component); its cached unwrapped module when it
    is a component (`unwrap_cached`).  What the build tools call wherever they take a module."""
    with open(path, "rb") as f:
        if not is_component(f.read(8)):
            return Path(path)
    return unwrap_cached(Path(path).read_bytes(), Path(path).name, cache_root, digest)


def unwrap_cached(data: bytes, name: str, cache_root: Path, digest: str) -> Path:
    """The unwrapped module of component `data` as `cache_root/unwrap/<key>/name`, made once per content.

    `digest` stands for the compiler's own sources (waftkit.cache.inputs_digest), so a fixed recovery
    never reuses a stale module; the file is written beside its place and renamed into it."""
    key = hashlib.sha256(data + digest.encode()).hexdigest()[:32]
    target = Path(cache_root) / "unwrap" / key / name
    if target.is_file():
        return target
    write_file(target, unwrap_component(data).module)
    return target
