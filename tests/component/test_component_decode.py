"""The component decoder against components wasm-tools makes at test time.

wasm-tools is the oracle: what its text printer lists at the top level
(imports, exports, core modules, nested components) must be what the decoder
finds, and every section kind the binary format has must decode into its
dataclass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aot.component import decode_component, is_component, is_core_module
from aot.component.errors import ComponentDecodeError, ComponentUnsupportedError
from aot.component.model import (
    Alias,
    CanonLift,
    CanonLower,
    CanonResource,
    Component,
    ComponentFuncType,
    ComponentTypeDecls,
    CoreInlineExports,
    CoreInstantiate,
    CoreModule,
    CoreModuleType,
    CoreTypeDef,
    EnumType,
    Export,
    FlagsType,
    HandleType,
    Import,
    Instantiate,
    RecordType,
    ResourceType,
    ResultType,
    TupleType,
    TypeDef,
    VariantType,
)
from component_helpers import KITCHEN_WAT, embed_and_wrap, p1_suite_programs, parse_wat, run_tool, wrap

HERE = Path(__file__).resolve().parent




def kitchen() -> Component:
    return decode_component(parse_wat(KITCHEN_WAT, "kitchen.wasm").read_bytes())


def test_every_section_kind_decodes_to_its_dataclass() -> None:
    component = kitchen()
    kinds = {type(d) for d in component.definitions}
    assert {CoreTypeDef, TypeDef, Import, CoreModule, CoreInstantiate, CoreInlineExports, Alias, CanonLift,
            CanonResource, CanonLower, Component, Instantiate, Export} <= kinds
    core_types = component.of(CoreTypeDef)
    assert str(core_types[0].type) == "[i32] -> [i32]"
    assert isinstance(core_types[1].type, CoreModuleType)
    assert [type(d).__name__ for d in core_types[1].type.decls] == ["CoreTypeDef", "CoreImportDecl", "CoreExportDecl"]
    assert {a.target for a in component.of(Alias)} == {"export", "core export"}
    nested = component.components[0]
    assert [(a.target, a.outer_count, a.sort) for a in nested.of(Alias)] == [("outer", 1, "type")]
    assert [e.name for e in component.exports] == ["g", "rec"]
    assert component.imports[0].name == "host" and component.imports[0].type.sort == "instance"
    resource = next(d.type for d in component.of(TypeDef) if isinstance(d.type, ResourceType))
    assert resource.rep == "i32" and resource.destructor is None
    lower = component.of(CanonLower)[0]
    assert lower.options.memory == 0 and lower.options.string_encoding == "utf8"


def test_types_of_a_wit_world_decode() -> None:
    """Resources, records, variants, enums, flags, tuples, results, options and lists, from real WIT."""
    path = embed_and_wrap(HERE / "data" / "kitchen", "kitchen", "kitchen-world.wasm")
    component = decode_component(path.read_bytes())

    def walk(defs):
        for d in defs:
            if isinstance(d, TypeDef):
                yield d.type
                if isinstance(d.type, ComponentTypeDecls):
                    yield from walk(d.type.decls)
            elif isinstance(d, Component):
                yield from walk(d.definitions)

    found = {type(t) for t in walk(component.definitions)}
    assert {RecordType, VariantType, EnumType, FlagsType, TupleType, ResultType, HandleType,
            ComponentFuncType, ComponentTypeDecls} <= found
    listed = run_tool("component", "wit", path).stdout
    assert "resource counter" in listed  # the oracle agrees the world is what we think it is
    assert [i.name for i in component.imports] == ["test:kitchen/types@0.1.0", "log"]
    assert {e.name for e in component.exports} >= {"test:kitchen/types@0.1.0", "run"}


def _top_level(printed: str, what: str) -> list[str]:
    """Names of the top-level `(import "..."`/`(export ... "..."` lines of `wasm-tools print` output."""
    pattern = {"import": r'^  \(import "([^"]+)"', "export": r'^  \(export [^"]*"([^"]+)"'}[what]
    return re.findall(pattern, printed, re.MULTILINE)


@pytest.mark.parametrize("kind", ["command", "reactor"])
def test_adapter_built_component_matches_the_printer(kind: str) -> None:
    program = next(p for p in p1_suite_programs() if p.name == "clock_getres-monotonic.wasm")
    path = wrap(program, kind)
    component = decode_component(path.read_bytes())
    printed = run_tool("print", path).stdout
    assert [i.name for i in component.imports] == _top_level(printed, "import")
    assert [e.name for e in component.exports] == _top_level(printed, "export")
    assert len(component.core_modules) == len(re.findall(r"^  \(core module ", printed, re.MULTILINE))
    assert component.core_modules[0].data == program.read_bytes()  # no duplicate imports: not rewritten
    if kind == "command":  # the command adapter exports wasi:cli/run through a nested shim component
        assert len(component.components) == 1
    assert component.names is not None and "core module" in component.names.sorts
    assert any(c.name == "producers" for c in component.custom_sections)


def test_layer_tells_component_from_module() -> None:
    program = p1_suite_programs()[0]
    component = wrap(program).read_bytes()
    assert is_component(component) and not is_core_module(component)
    assert is_core_module(program.read_bytes()) and not is_component(program.read_bytes())
    with pytest.raises(ComponentDecodeError, match="expected a component, found a core module"):
        decode_component(program.read_bytes())


@pytest.mark.parametrize("construct, wat", [
    ("stream types", '(component (type (stream u8)))'),
    ("future types", '(component (type (future)))'),
    ("async function types", '(component (type (func async)))'),
    ("canon backpressure.inc", '(component (core func (canon backpressure.inc)))'),
    ("canon waitable-set.new", '(component (core func (canon waitable-set.new)))'),
    ("canon thread.index", '(component (core func (canon thread.index)))'),
    ("error-context", '(component (type (list error-context)))'),
])
def test_preview3_constructs_are_refused_by_name(construct: str, wat: str) -> None:
    path = parse_wat(wat, f"p3-{construct.replace(' ', '-')}.wasm")
    with pytest.raises(ComponentUnsupportedError, match=re.escape(construct)):
        decode_component(path.read_bytes())


def test_async_lift_is_refused() -> None:
    wat = """(component
      (core module $m (func (export "f") (result i32) i32.const 0) (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
      (core instance $i (instantiate $m))
      (alias core export $i "f" (core func $f))
      (alias core export $i "cb" (core func $cb))
      (func (canon lift (core func $f) async (callback $cb))))"""
    with pytest.raises(ComponentUnsupportedError, match="canon option `async`"):
        decode_component(parse_wat(wat, "async-lift.wasm").read_bytes())


def test_malformed_beats_unsupported() -> None:
    """A preview-3 component that is also truncated is reported as malformed, as the core decoder does."""
    data = parse_wat('(component (type (stream u8)) (type (record (field "a" u32))))', "p3-then-more.wasm").read_bytes()
    with pytest.raises(ComponentDecodeError):
        decode_component(data[:-3])
