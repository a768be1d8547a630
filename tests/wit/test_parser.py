"""The WIT parser: every production of WIT.md's grammar, read into the syntax tree."""

from __future__ import annotations

import pytest

from aot.errors import WitError
from aot.wit import ast
from aot.wit.parser import parse_file
from aot.wit.source import SourceMap
from aot.wit.version import Version


def parse(text: str) -> ast.File:
    sources = SourceMap()
    return parse_file(sources.add("t.wit", text), sources)


def iface_items(body: str) -> list:
    f = parse(f"package a:b;\ninterface i {{\n{body}\n}}")
    return f.items[0].items


def world_items(body: str) -> list:
    return parse(f"package a:b;\nworld w {{\n{body}\n}}").items[0].items


def typ(text: str):
    return iface_items(f"type t = {text};")[0].body.type


# --- packages -----------------------------------------------------------------------------------

def test_package_declaration_with_and_without_version():
    assert str(parse("package wasi:clocks;").package) == "wasi:clocks"
    f = parse("/// The package.\npackage wasi:clocks@0.2.0-rc.1;")
    assert f.package.version == Version(0, 2, 0, ("rc", "1"))
    assert f.package_docs == "The package."


def test_nested_package_blocks_after_the_root_and_without_one():
    f = parse("package local:root;\npackage local:a { interface foo {} }\npackage local:b@1.0.0 { world w {} }")
    assert str(f.package) == "local:root"
    assert [str(b.name) for b in f.nested] == ["local:a", "local:b@1.0.0"]
    assert isinstance(f.nested[0].items[0], ast.Interface) and isinstance(f.nested[1].items[0], ast.World)
    f = parse("package local:a { interface foo {} }")
    assert f.package is None and [str(b.name) for b in f.nested] == ["local:a"]


def test_toplevel_use_with_and_without_as():
    f = parse("package a:b;\nuse wasi:http/types@1.0.0;\nuse wasi:http/handler as h;\nuse local-thing;")
    uses = f.items
    assert [str(u.path) for u in uses] == ["wasi:http/types@1.0.0", "wasi:http/handler", "local-thing"]
    assert [u.local.name for u in uses] == ["types", "h", "local-thing"]


def test_interface_and_world_with_docs_and_gates():
    f = parse("package a:b@1.0.0;\n/// I.\n@since(version = 1.0.0)\ninterface i {}\n"
              "@unstable(feature = shiny)\nworld w {}")
    i, w = f.items
    assert (i.name.name, i.docs, i.gate.since) == ("i", "I.", Version(1, 0, 0))
    assert (w.name.name, w.gate.unstable) == ("w", "shiny")


# --- interface items ------------------------------------------------------------------------------

def test_use_item_with_renames_and_a_trailing_comma():
    use = iface_items("use types.{errno, size as my-size,};")[0]
    assert isinstance(use, ast.Use) and str(use.path) == "types"
    assert [(n.name.name, n.local.name) for n in use.names] == [("errno", "errno"), ("size", "my-size")]
    use = iface_items("use wasi:io/streams@0.2.0.{input-stream};")[0]
    assert str(use.path) == "wasi:io/streams@0.2.0"


def test_functions_params_and_results():
    a, b, c = iface_items("a: func();\nb: func(x: u32, y: string,) -> bool;\n%variant: func(%enum: s32);")
    assert (a.name.name, a.type.params, a.type.result) == ("a", [], None)
    assert [(p.name.name, p.type.name) for p in b.type.params] == [("x", "u32"), ("y", "string")]
    assert b.type.result.name == "bool"
    assert (c.name.name, c.type.params[0].name.name) == ("variant", "enum")


def test_type_alias_record_variant_enum_flags():
    alias, rec, var, enm, flg = iface_items(
        "type size = u32;\n"
        "record point { /// X.\n x: s32, y: s32, }\n"
        "variant filter { all, none, some(list<string>) }\n"
        "enum color { red, green, }\n"
        "flags perms { read, write }")
    assert isinstance(alias.body, ast.AliasBody) and alias.body.type.name == "u32"
    assert [(f.name.name, f.docs) for f in rec.body.fields] == [("x", "X."), ("y", "")]
    assert [(c.name.name, c.type is not None) for c in var.body.cases] == [("all", False), ("none", False),
                                                                          ("some", True)]
    assert [c.name.name for c in enm.body.cases] == ["red", "green"]
    assert [c.name.name for c in flg.body.flags] == ["read", "write"]


def test_resource_with_constructor_methods_and_statics():
    bare, full, fallible = iface_items(
        "resource blob;\n"
        "resource file {\n constructor(init: list<u8>);\n read: func(n: u32) -> list<u8>;\n"
        " @since(version = 1.0.0)\n merge: static func(a: borrow<file>, b: borrow<file>) -> file;\n}\n"
        "resource maybe { constructor() -> result<maybe, string>; }")
    assert bare.body.funcs == []
    assert [(f.kind, f.func.name.name) for f in full.body.funcs] == [
        ("constructor", "constructor"), ("method", "read"), ("static", "merge")]
    assert full.body.funcs[2].func.gate.since == Version(1, 0, 0)
    assert isinstance(fallible.body.funcs[0].func.type.result, ast.ResultType)


def test_external_id_on_interface_items():
    f, r = iface_items('@external-id("foo/0")\nfoo: func() -> string;\n'
                       '@external-id("DB.Bar")\nresource bar { @external-id("baz/1") baz: func(); }')
    assert f.external_id == "foo/0" and r.external_id == "DB.Bar"
    assert r.body.funcs[0].func.external_id == "baz/1"


def test_external_id_before_a_use_is_kept():
    (use,) = iface_items('@external-id("x")\nuse j.{t};')
    assert isinstance(use, ast.Use) and use.external_id == "x"
    (use,) = world_items('@since(version = 1.0.0)\n@external-id("y")\nuse j.{t};')
    assert use.external_id == "y" and use.gate.since == Version(1, 0, 0)


def test_external_id_wherever_wit_parser_takes_it():
    """Gates and @external-id in any order; on an interface, a world or an `include` it is
    accepted and dropped, twice even (wasm-tools 1.262 does the same)."""
    f = parse('package a:b@1.0.0;\n@external-id("x")\ninterface i {}\n'
              '@external-id("w") @since(version = 1.0.0) @external-id("w2")\nworld w {\n'
              '  @external-id("a") @external-id("b") include v;\n'
              '  @external-id("c") @unstable(feature = f) @deprecated(version = 0.1.0) import g: func();\n}')
    i, w = f.items
    assert isinstance(i, ast.Interface) and i.gate is ast.NO_GATE
    assert w.gate.since == Version(1, 0, 0)
    inc, imp = w.items
    assert isinstance(inc, ast.Include) and str(inc.path) == "v"
    assert (imp.external_id, imp.gate.unstable, imp.gate.deprecated) == ("c", "f", Version(0, 1, 0))


@pytest.mark.parametrize("text, message", [
    ('package a:b;\ninterface i {}\n@external-id("x")\nuse i;', "a top-level `use` takes no attributes"),
    ("package a:b;\n@since(version = 1.0.0)\nuse x:y/z;", "a top-level `use` takes no attributes"),
    ('package a:b;\n@external-id("x")\npackage c:d {}', "a nested `package ... { }` block takes no attributes"),
    ('package a:b;\ninterface i {\n  @external-id("x") @external-id("y") type t = u8;\n}',
     "cannot specify @external-id twice"),
    ("package a:b;\ninterface i {\n  @fancy f: func();\n}", "unknown attribute `@fancy`"),
    ('package a:b;\nworld w { @external-id("x") }', "expected `import`, `export`, `include`, `use` or a type "
     "definition, found `}`"),
])
def test_attributes_refused(text: str, message: str):
    with pytest.raises(WitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


# --- types --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64",
                                  "char", "string"])
def test_primitive_types(name: str):
    assert typ(name) == ast.PrimType(name, typ(name).span)


def test_list_and_fixed_length_list():
    assert typ("list<u8>").length is None
    fixed = typ("list<list<f32, 3>, 4>")
    assert fixed.length == 4 and fixed.element.length == 3


def test_map_option_tuple_and_handles():
    m = typ("map<string, u32>")
    assert (m.key.name, m.value.name) == ("string", "u32")
    assert typ("option<option<u8>>").element.element.name == "u8"
    assert [e.name for e in typ("tuple<u8, string,>").elements] == ["u8", "string"]
    own, borrow = typ("own<file>"), typ("borrow<file>")
    assert (own.kind, own.resource.name, borrow.kind) == ("own", "file", "borrow")
    assert typ("point").name.name == "point"


@pytest.mark.parametrize("text, ok, err", [
    ("result<u32, string>", "u32", "string"),
    ("result<_, string>", None, "string"),
    ("result<u32>", "u32", None),
    ("result", None, None),
])
def test_the_four_result_forms(text: str, ok, err):
    r = typ(text)
    assert (r.ok.name if r.ok else None, r.err.name if r.err else None) == (ok, err)


# --- worlds -------------------------------------------------------------------------------------

def test_world_imports_and_exports_of_every_kind():
    items = world_items(
        "import host: interface { log: func(msg: string); }\n"
        "import wasi:clocks/monotonic-clock@0.2.0;\n"
        "import local-iface;\n"
        "import primary: wasi:keyvalue/store;\n"
        "import secondary: store;\n"
        "export run: func(args: list<string>) -> result;\n"
        "@external-id(\"x\") export handler;\n")
    kinds = [(e.direction, type(e.kind).__name__) for e in items]
    assert kinds == [("import", "ExternInterface"), ("import", "ExternPath"), ("import", "ExternPath"),
                     ("import", "ExternPath"), ("import", "ExternPath"), ("export", "ExternFunc"),
                     ("export", "ExternPath")]
    assert items[0].kind.name.name == "host" and items[0].kind.items[0].name.name == "log"
    assert str(items[1].kind.path) == "wasi:clocks/monotonic-clock@0.2.0" and items[1].kind.name is None
    assert (items[3].kind.name.name, str(items[3].kind.path)) == ("primary", "wasi:keyvalue/store")
    assert (items[4].kind.name.name, str(items[4].kind.path)) == ("secondary", "store")
    assert items[6].external_id == "x"


def test_a_colon_without_spaces_is_a_package_path():
    with pytest.raises(WitError) as err:
        world_items("import a:b;")
    assert "expected `/` and an interface or world name, found `;`" in err.value.message


def test_world_use_typedefs_and_include_with_renames():
    use, rec, res, inc, inc2 = world_items(
        "use types.{errno};\nrecord r { a: u8 }\nresource cursor { next: func() -> u8; }\n"
        "include wasi:io/imports@0.2.0 with { a as a1, b as b1 }\ninclude other;")
    assert isinstance(use, ast.Use) and isinstance(rec, ast.TypeDef) and isinstance(res.body, ast.ResourceBody)
    assert str(inc.path) == "wasi:io/imports@0.2.0"
    assert [(a.name, b.name) for a, b in inc.renames] == [("a", "a1"), ("b", "b1")]
    assert inc2.renames == []


def test_gates_since_unstable_deprecated():
    f, g = iface_items("@since(version = 0.2.0)\n@deprecated(version = 0.2.2)\nf: func();\n"
                       "@unstable(feature = fancy)\n@deprecated(version = 0.1.0)\ng: func();")
    assert (f.gate.since, f.gate.deprecated, f.gate.unstable) == (Version(0, 2, 0), Version(0, 2, 2), None)
    assert (g.gate.unstable, g.gate.deprecated) == ("fancy", Version(0, 1, 0))
