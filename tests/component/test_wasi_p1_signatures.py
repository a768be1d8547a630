"""The generated WASI 0.2 functions of path (b) have the canonical ABI's core signatures, for 0.2.0 and 0.2.12.

aot/component/wasi_p1.py writes each function's flat params by hand next to
its body; this checks every one against what the WIT front end and canonical
ABI code of issue 10 (aot/wit) compute from the WASI packages themselves
(../shared/wit), at both ends of the supported range, so a wrong signature or
a function that does not exist in some 0.2.x is caught here rather than as a
refusal at unwrap time.
"""

from __future__ import annotations

import pytest

from aot.component.wasi_p1 import IMPLS, P1Shim, parse_wasi_name
from aot.wasm.module import FuncType
from component_helpers import SHARED


@pytest.fixture(scope="module", params=["0.2.0", "0.2.12"])
def command_imports(request):
    from aot.wit.core import core_imports
    from aot.wit.loader import load_wit

    root = SHARED / "wit" / f"wasi-{request.param}"
    if not root.is_dir():
        pytest.skip(f"the WASI {request.param} WIT packages are not at {root}")
    _, main = load_wit(root / "cli", extra_deps=[root])
    out = {}
    for imp in core_imports(main.worlds["command"]):
        _, iface, _ = parse_wasi_name(imp.module)
        out[(iface, imp.name)] = imp.type
    return out


def test_every_implementation_has_the_canonical_signature(command_imports) -> None:
    for (iface, func), (params, results, *_rest) in IMPLS.items():
        assert (iface, func) in command_imports, f"{iface} {func} is not in wasi:cli/command"
        written = FuncType(tuple(t for _, t in params), results)
        assert written == command_imports[(iface, func)], f"{iface} {func}: {written}"


def test_every_resource_drop_but_sockets_is_accepted(command_imports) -> None:
    shim = P1Shim()
    drops = [(iface, name) for iface, name in command_imports if name.startswith("[resource-drop]")
             and not iface.startswith("sockets/")]
    # descriptor, directory-entry-stream, input/output-stream, error, pollable, terminal-input/output
    assert len(drops) == 8, drops
    for iface, name in drops:
        shim.resource_drop(f"wasi:{iface}@0.2.0", name.removeprefix("[resource-drop]"),
                           command_imports[(iface, name)], "test")
