"""WIT in the compiler (issue 13): the WIT front end and the canonical ABI, pure Python.

WIT text -> resolved model -> canonical-ABI core signatures and names; bindgen
and `waft unwrap` build on these.  One job per file:

    source.py          the source map: spans -> file:line:column, `WitError`s with a caret line
    version.py         SemVer parsing and ordering (package versions, @since/@deprecated)
    lexer.py           text -> tokens (doc comments ride on the next token)
    ast.py             the syntax tree, one dataclass per grammar production
    parser.py          tokens -> syntax tree, recursive descent over WIT.md's grammar
    types.py           the resolved model: Resolve, Package, Interface, World, TypeDef, Function
    resolve.py         syntax of several packages -> the model (names, `use`, `include`, gates,
                       world elaboration), in wit-parser's order
    loader.py          a package folder (or file) and its deps/ from disk -> the model
    canonical_abi.py   alignment, elem_size, flatten_type, flatten_functype (lift/lower)
    mangle.py          legacy core names: `ns:pkg/iface@v` + `[method]r.m`, `iface#f`, `cabi_post_`...
    core.py            a world's core imports and exports: name, core type and WIT item of each
    dummy.py           the `waft wit dummy` module (wasm-tools' `--dummy-names legacy`)

The API a bindings generator calls:

    resolve, main = load_wit("wit/", extra_deps=[...], features=[...])   # WitError on bad input
    world = resolve.select_world(main, "command")        # or "wasi:cli/command", or None
    world.imports / world.exports                        # {Interface | "plain name": item}, elaborated
    resolve.topological_types()                          # every TypeDef after the types it uses
    abi = CanonicalAbi()                                 # wasm32
    abi.alignment(t), abi.elem_size(t), abi.flatten_type(t), abi.field_offsets([...])
    abi.import_signature(func), abi.export_signature(func)   # CoreSignature
    core_imports(world, abi), core_exports(world, abi)   # every core name + FuncType, in order

Why a hand-written recursive-descent parser and not `lark` (which is on PyPI,
and which no other part of Waft needs): WIT's grammar is small and almost LL(1),
and the two places that are not need token-level judgement that a grammar
file expresses badly: `import a:b/c;` against `import a: b;` depends on
whether the colon touches its neighbours (WIT.md), and a version after `@` is a
SemVer token only in some positions.  Errors must read "expected `}`, found
`fn`" at file:line:column and say when a construct is preview 3; lark's
UnexpectedToken lists terminal names.  wasm-tools' wit-parser, the reference
whose behaviour the tests compare against, is itself recursive descent, so the
two read side by side.  Speed is no reason either way: all of WASI 0.2.12
parses and resolves in a few tens of milliseconds.
"""

from aot.errors import WitError
from aot.wit.canonical_abi import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, CanonicalAbi, CoreSignature
from aot.wit.core import CoreExport, CoreImport, core_exports, core_imports
from aot.wit.loader import load_wit
from aot.wit.types import Function, Interface, Package, Resolve, TypeDef, World

__all__ = [
    "MAX_FLAT_PARAMS", "MAX_FLAT_RESULTS", "CanonicalAbi", "CoreExport", "CoreImport", "CoreSignature",
    "Function", "Interface", "Package", "Resolve", "TypeDef", "WitError", "World", "core_exports",
    "core_imports", "load_wit",
]
