"""Name resolution as a user sees it: uses, deps, includes, gates, world elaboration, world selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from aot.errors import WitError
from aot.wit import load_wit
from aot.wit.types import (
    Alias, Borrow, Interface, List, Own, Primitive, Record, Resource, Result_, TypeDef, describe, describe_function,
    key_name,
)

from wit_helpers import DATA, write_wit


def load(tmp_path: Path, files: dict[str, str], **kw):
    return load_wit(write_wit(tmp_path / "pkg", files), **kw)


def test_multi_file_package_and_forward_references(tmp_path: Path):
    resolve, main = load(tmp_path, {
        "b.wit": "interface host {\n  use types.{size};\n  f: func(s: size) -> later;\n  record later { x: u8 }\n}",
        "a.wit": "/// The demo.\npackage local:demo;\ninterface types { type size = u32; }",
    })
    assert str(main.name) == "local:demo" and main.docs == "The demo."
    assert list(main.interfaces) == ["types", "host"]  # files in name order, items in order
    host = main.interfaces["host"]
    size = host.types["size"]
    assert isinstance(size.kind, Alias) and size.kind.target is main.interfaces["types"].types["size"]
    assert size.resolved() is Primitive.U32
    assert resolve.interface_direct_deps(host) == [main.interfaces["types"]]
    assert describe_function(host.functions["f"]) == "func(s: size) -> later"


def test_anonymous_types_exist_once(tmp_path: Path):
    resolve, main = load(tmp_path, {"a.wit": "package a:b;\ninterface i {\n  f: func(x: list<u8>) -> list<u8>;\n"
                                            "  g: func(x: option<list<u8>>);\n}"})
    f, g = main.interfaces["i"].functions.values()
    assert f.params[0].type is f.result is g.params[0].type.kind.type
    assert isinstance(f.result.kind, List) and f.result.name is None


def test_resources_become_handles_and_methods_are_desugared(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\ninterface i {\n  resource blob {\n"
                                       "    constructor(init: list<u8>);\n    read: func(n: u32) -> list<u8>;\n"
                                       "    merge: static func(a: borrow<blob>, b: borrow<blob>) -> blob;\n  }\n"
                                       "  resource maybe { constructor() -> result<maybe, string>; }\n"
                                       "  take: func(b: blob);\n}"})
    i = main.interfaces["i"]
    blob = i.types["blob"]
    assert isinstance(blob.kind, Resource) and i.resources() == [blob, i.types["maybe"]]
    assert list(i.functions) == ["[constructor]blob", "[method]blob.read", "[static]blob.merge",
                                 "[constructor]maybe", "take"]
    ctor, read, merge, mctor, take = i.functions.values()
    assert (ctor.kind, ctor.item_name, describe(ctor.result)) == ("constructor", "blob", "own<blob>")
    assert (read.params[0].name, describe(read.params[0].type), read.item_name) == ("self", "borrow<blob>", "read")
    assert isinstance(merge.params[0].type.kind, Borrow) and merge.item_name == "merge"
    assert isinstance(mctor.result.kind, Result_)
    assert isinstance(take.params[0].type.kind, Own) and take.params[0].type.kind.resource is blob


def test_deps_folder_versions_match_exactly(tmp_path: Path):
    resolve, main = load(tmp_path, {
        "a.wit": "package a:b;\ninterface i { use x:io/s@1.0.0.{t}; f: func(v: t); }",
        "deps/io-1/s.wit": "package x:io@1.0.0;\ninterface s { type t = u8; }",
        "deps/io-2.wit": "package x:io@2.0.0;\ninterface s { type t = u64; }",
    })
    order = [str(p.name) for p in resolve.packages]
    assert order.index("x:io@1.0.0") < order.index("a:b")  # a dependency comes before its user
    assert main.interfaces["i"].types["t"].resolved() is Primitive.U8


def test_nested_package_blocks_are_dependencies(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\npackage x:y@1.0.0 { interface j { type t = bool; } }\n"
                                       "interface i { use x:y/j@1.0.0.{t}; }"})
    assert main.interfaces["i"].types["t"].resolved() is Primitive.BOOL


def test_toplevel_use_names_an_interface_for_its_file(tmp_path: Path):
    _, main = load(tmp_path, {
        "a.wit": "package a:b;\nuse x:y/types@1.0.0 as ty;\ninterface i { use ty.{t}; }\nworld w { import ty; }",
        "deps/y.wit": "package x:y@1.0.0;\ninterface types { type t = s8; }"})
    assert main.interfaces["i"].types["t"].resolved() is Primitive.S8
    assert [key_name(k) for k in main.worlds["w"].imports] == ["x:y/types@1.0.0"]


def test_gates_leave_out_unstable_items_unless_enabled(tmp_path: Path):
    files = {"a.wit": "package a:b@1.0.0;\ninterface i {\n  f: func();\n  @unstable(feature = fancy)\n  g: func();\n"
                      "  @since(version = 1.0.0)\n  h: func();\n}"}
    _, main = load(tmp_path, files)
    assert list(main.interfaces["i"].functions) == ["f", "h"]
    assert main.interfaces["i"].functions["h"].stability.since is not None
    _, main = load(tmp_path / "2", files, features=["fancy"])
    assert list(main.interfaces["i"].functions) == ["f", "g", "h"]
    _, main = load(tmp_path / "3", files, all_features=True)
    assert "g" in main.interfaces["i"].functions


def test_what_a_gated_item_holds_is_gated_with_it(tmp_path: Path):
    """Gated alike, an interface's and a world's contents go with them; enabled, all of it is in."""
    files = {"a.wit": "package a:b@1.0.0;\n@unstable(feature = x)\ninterface i {\n  @unstable(feature = x)\n"
                      "  type t = u8;\n  f: func();\n}\nworld w {\n  @unstable(feature = x)\n  import g: interface {\n"
                      "    @unstable(feature = x) resource r { @unstable(feature = x) constructor(); }\n  }\n}"}
    _, main = load(tmp_path, files)
    assert "i" not in main.interfaces and main.worlds["w"].imports == {}
    resolve, main = load(tmp_path / "2", files, features=["x"])
    assert list(main.interfaces["i"].types) == ["t"] and list(main.interfaces["i"].functions) == ["f"]
    assert list(main.worlds["w"].imports) == ["g"]
    # Ungated contents are refused only when the feature is off (as wasm-tools does).
    loose = {"a.wit": "package a:b@1.0.0;\n@unstable(feature = x)\ninterface i { type t = u8; }"}
    _, main = load(tmp_path / "3", loose, features=["x"])
    assert list(main.interfaces["i"].types) == ["t"]
    with pytest.raises(WitError, match="type `t` is not gated off"):
        load(tmp_path / "4", loose)


def test_a_gated_world_type_is_left_out(tmp_path: Path):
    """WIT.md lets every world item be gated: with its feature off, a world's own type (or `use`)
    is simply not there.  wasm-tools 1.262 refuses the package instead (docs/fuzzing.md: its quirk,
    which Waft does not follow)."""
    files = {"a.wit": "package a:b@1.0.0;\ninterface j { type u = u32; }\nworld w {\n"
                      "  @unstable(feature = x)\n  type p = f64;\n  @unstable(feature = x)\n  use j.{u};\n"
                      "  import f: func();\n}"}
    _, main = load(tmp_path, files)
    assert list(main.worlds["w"].imports) == ["f"]
    _, main = load(tmp_path / "2", files, features=["x"])
    assert set(map(key_name, main.worlds["w"].imports)) == {"a:b/j@1.0.0", "p", "u", "f"}


def test_world_elaboration_adds_dependencies_in_wit_parser_order(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\ninterface base { resource r; }\n"
                                       "interface mid { use base.{r}; }\ninterface top { use mid.{r}; }\n"
                                       "world w {\n  import f: func();\n  use top.{r};\n  record rec { x: u8 }\n"
                                       "  import top;\n  resource own-res { m: func(); }\n  export top2: func();\n"
                                       "  export e: interface { use mid.{r}; g: func(); }\n}"})
    w = main.worlds["w"]
    assert [key_name(k) for k in w.imports] == ["a:b/base", "a:b/mid", "a:b/top", "r", "rec", "own-res", "f",
                                                "[method]own-res.m"]
    assert [key_name(k) for k in w.exports] == ["top2", "e"]


def test_exports_pull_their_dependencies_in_as_imports(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\ninterface a { resource r; }\ninterface b { use a.{r}; }\n"
                                       "world w1 { export b; }\nworld w2 { export a; export b; }"})
    w1, w2 = main.worlds["w1"], main.worlds["w2"]
    assert [key_name(k) for k in w1.imports] == ["a:b/a"] and [key_name(k) for k in w1.exports] == ["a:b/b"]
    assert list(w2.imports) == [] and [key_name(k) for k in w2.exports] == ["a:b/a", "a:b/b"]


def test_include_with_renames_and_deduplication(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\ninterface i {}\n"
                                       "world one { import i; import a: func(); resource res { m: func(); } }\n"
                                       "world two { import i; import a: func(); }\n"
                                       "world both { include one; include two with { a as b } }"})
    both = main.worlds["both"]
    assert [key_name(k) for k in both.imports] == ["a:b/i", "res", "a", "b", "[method]res.m"]
    assert both.imports["b"].name == "b"
    res = both.imports["res"]
    # The included world's own types are copied into the including world.
    assert res.owner is both and res is not main.worlds["one"].imports["res"]
    assert both.imports["[method]res.m"].resource is res


def test_import_under_a_plain_name_is_a_private_copy(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\ninterface s { resource r; f: func(x: r); }\n"
                                       "world w { import one: s; import two: s; }"})
    w, s = main.worlds["w"], main.interfaces["s"]
    one, two = w.imports["one"], w.imports["two"]
    assert isinstance(one, Interface) and one.implements is s and two.implements is s
    assert one.types["r"] is not s.types["r"] and one.types["r"] is not two.types["r"]
    assert one.functions["f"].params[0].type.kind.resource is one.types["r"]


@pytest.mark.parametrize("spec, expected", [
    ("w", "a:b/w@1.0.0"), ("a:b/w", "a:b/w@1.0.0"), ("a:b/w@1.0.0", "a:b/w@1.0.0"), ("x:y/v", "x:y/v@2.0.0")])
def test_select_world(tmp_path: Path, spec: str, expected: str):
    resolve, main = load(tmp_path, {"a.wit": "package a:b@1.0.0;\nworld w {}\nworld z {}",
                                    "deps/y.wit": "package x:y@2.0.0;\nworld v {}"})
    assert resolve.select_world(main, spec).id == expected


def test_select_world_refusals(tmp_path: Path):
    resolve, main = load(tmp_path, {"a.wit": "package a:b@1.0.0;\nworld w {}\nworld z {}",
                                    "deps/y1.wit": "package x:y@1.0.0;\nworld v {}",
                                    "deps/y2.wit": "package x:y@2.0.0;\nworld v {}"})
    with pytest.raises(WitError, match="has 2 worlds"):
        resolve.select_world(main, None)
    with pytest.raises(WitError, match="world `nope` not found in package a:b@1.0.0"):
        resolve.select_world(main, "nope")
    with pytest.raises(WitError, match="loaded at versions 1.0.0 and 2.0.0"):
        resolve.select_world(main, "x:y/v")
    with pytest.raises(WitError, match="package q:q not found"):
        resolve.select_world(main, "q:q/v")


def test_docs_are_kept_on_items(tmp_path: Path):
    _, main = load(tmp_path, {"a.wit": "package a:b;\n/// The interface.\ninterface i {\n  /** A record.\n   * Two lines. */\n"
                                       "  record r {\n    /// A field.\n    x: u8,\n  }\n  /// A function.\n  f: func();\n}"})
    i = main.interfaces["i"]
    assert i.docs == "The interface."
    assert i.types["r"].docs == "A record.\nTwo lines."
    assert i.types["r"].kind.fields[0].docs == "A field."
    assert i.functions["f"].docs == "A function."


def test_the_every_type_package_resolves(tmp_path: Path):
    resolve, main = load_wit(DATA / "all-types", features=["experimental"])
    assert str(main.name) == "test:all-types@0.1.0"
    assert set(main.worlds) == {"all-types", "combined", "small"}
    point = main.interfaces["compound"].types["point"]
    assert isinstance(point.kind, Record) and [f.name for f in point.kind.fields] == ["x", "y", "label", "size"]
    length = point.kind.fields[3].type
    assert isinstance(length, TypeDef) and length.resolved().owner.id == "test:units/units@1.2.3-rc.1"


def test_types_in_dependency_order_for_c_headers():
    resolve, _ = load_wit(DATA / "all-types", features=["experimental"])
    order = resolve.topological_types()
    assert set(order) == set(resolve.types) and len(order) == len(resolve.types)
    position = {td: i for i, td in enumerate(order)}
    from aot.wit.types import children
    for td in order:
        for child in children(td):
            if isinstance(child, TypeDef):
                assert position[child] < position[td], (child, td)
    # `shape` refers to `point`, defined before it in the file but named after it in `value`.
    names = [td.name for td in order if td.name and td.owner and getattr(td.owner, "name", None) == "compound"]
    assert names.index("point") < names.index("shape") < names.index("value")
