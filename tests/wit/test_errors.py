"""Every WIT error names file:line:column and says what was wrong; none is a Python traceback.

Each case is a small package (file name -> text); the error must point at the
token that is wrong, counted by hand from the text: line and column are 1-based.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aot.errors import AotError, WitError
from aot.wit import load_wit

from wit_helpers import write_wit

H = "package a:b@1.0.0;\n"  # line 1 of most cases

PARSE_ERRORS = [
    # (files, message, (file, line, column))
    ({"e.wit": "package a:b\ninterface i {}"}, "expected `;`, found keyword `interface`", ("e.wit", 2, 1)),
    ({"e.wit": H + "interface i {\n  record r { x: u32 fn }\n}"}, "expected `,` or `}`, found `fn`",
     ("e.wit", 3, 21)),
    ({"e.wit": H + "interface i {\n  f: func() -> ;\n}"}, "expected a type, found `;`", ("e.wit", 3, 16)),
    ({"e.wit": H + "func f();"}, "expected `world`, `interface` or `use`, found keyword `func`", ("e.wit", 2, 1)),
    ({"e.wit": H + "interface i {\n  f: func();"}, "found end of file", ("e.wit", 3, 13)),
    ({"e.wit": H + "interface i {\n  f: async func();\n}"}, "`async` functions use the component model's async ABI "
     "(WASI preview 3): not supported by Waft", ("e.wit", 3, 6)),
    ({"e.wit": H + "interface i {\n  f: func(x: future<u8>);\n}"}, "`future` types are part of the component "
     "model's async ABI (WASI preview 3): not supported", ("e.wit", 3, 14)),
    ({"e.wit": H + "interface i {\n  f: func(x: stream<u8>);\n}"}, "`stream` types", ("e.wit", 3, 14)),
    ({"e.wit": H + "interface i {\n  f: func() -> error-context;\n}"}, "`error-context` is part of",
     ("e.wit", 3, 16)),
    ({"e.wit": "package a:b:c;"}, "nested namespaces", ("e.wit", 1, 12)),
    ({"e.wit": "package a:b@1.0;"}, "`1.0` is not a semantic version", ("e.wit", 1, 13)),
    ({"e.wit": H + "interface i {\n  type t = list<u8, 0>;\n}"}, "a fixed list length is a whole number of at "
     "least 1", ("e.wit", 3, 21)),
    ({"e.wit": H + "interface i {\n  @foo(x = 1) f: func();\n}"}, "unknown attribute `@foo`", ("e.wit", 3, 4)),
    ({"e.wit": H + "interface i {\n  @since(version = 1.0.0) @since(version = 1.0.0) f: func();\n}"},
     "cannot specify @since twice", ("e.wit", 3, 27)),
    ({"e.wit": H + "interface i {\n  @since(version = 1.0.0) @unstable(feature = x) f: func();\n}"},
     "cannot specify both @since and @unstable", ("e.wit", 3, 27)),
    ({"e.wit": H + "interface i {\n  @deprecated(version = 1.0.0) f: func();\n}"},
     "@deprecated needs a @since or @unstable gate", ("e.wit", 3, 3)),
    ({"e.wit": H + "interface i {\n  @since(versio = 1.0.0) f: func();\n}"}, "expected `version`, found `versio`",
     ("e.wit", 3, 10)),
    ({"e.wit": "package a:b;\npackage c:d;"}, "a file declares its package once", ("e.wit", 2, 9)),
    ({"e.wit": H + "world w {\n  import a:b;\n}"}, "expected `/` and an interface or world name, found `;`",
     ("e.wit", 3, 13)),
    # Attributes, read as wit-parser reads them: where they may not go, and an external id twice.
    ({"e.wit": H + "interface i {}\n@unstable(feature = x)\nuse i as j;"},
     "a top-level `use` takes no attributes", ("e.wit", 3, 1)),
    ({"e.wit": H + '@external-id("x")\npackage c:d { interface i {} }'},
     "a nested `package ... { }` block takes no attributes", ("e.wit", 2, 1)),
    ({"e.wit": H + 'interface i {\n  @external-id("a") @since(version = 1.0.0) @external-id("b") f: func();\n}'},
     "cannot specify @external-id twice", ("e.wit", 3, 45)),
    ({"e.wit": H + 'world w {\n  @external-id("a")\n  @external-id("b")\n  use i.{t};\n}'},
     "cannot specify @external-id twice", ("e.wit", 4, 3)),
    # A string literal is not the type `string`, nor the keyword a string literal.
    ({"e.wit": H + 'interface i {\n  type t = "s";\n}'}, "expected a type, found a string literal", ("e.wit", 3, 12)),
    ({"e.wit": H + "interface i {\n  @external-id(string) f: func();\n}"},
     "expected a string literal, found keyword `string`", ("e.wit", 3, 16)),
]

RESOLVE_ERRORS = [
    ({"e.wit": H + "interface i {\n  type t = bar;\n}"}, "type `bar` does not exist in interface `a:b/i@1.0.0`",
     ("e.wit", 3, 12)),
    ({"e.wit": H + "interface i {\n  f: func(x: float32);\n}"}, "(`float32` is the old name of f32)",
     ("e.wit", 3, 14)),
    ({"e.wit": H + "interface i {\n  type x = u32;\n  type x = u64;\n}"},
     "`x` is defined more than once in interface `a:b/i@1.0.0`", ("e.wit", 4, 8)),
    ({"e.wit": H + "interface i {\n  x: func();\n  type x = u32;\n}"}, "`x` is defined more than once",
     ("e.wit", 4, 8)),
    ({"e.wit": H + "interface i {\n  type a = b;\n  type b = a;\n}"}, "type `a` depends on itself", ("e.wit", 4, 12)),
    ({"e.wit": H + "interface i {\n  record r { x: option<r> }\n}"}, "type `r` depends on itself", ("e.wit", 3, 24)),
    ({"e.wit": H + "interface i {\n  use j.{t};\n}\ninterface j {\n  use i.{t};\n  type t = u8;\n}"},
     "interface or world `i` depends on itself", ("e.wit", 6, 7)),
    ({"e.wit": H + "interface i {\n  use j.{nope};\n}\ninterface j {}"},
     "type `nope` is not defined in interface `a:b/j@1.0.0`", ("e.wit", 3, 10)),
    ({"e.wit": H + "interface i {\n  use nope.{t};\n}"}, "interface or world `nope` does not exist", ("e.wit", 3, 7)),
    ({"e.wit": H + "interface i {\n  record r {}\n}"}, "record `r` is empty", ("e.wit", 3, 10)),
    ({"e.wit": H + "interface i {\n  flags f {}\n}"}, "flags `f` is empty", ("e.wit", 3, 9)),
    ({"e.wit": H + "interface i {\n  enum e {}\n}"}, "enum `e` is empty", ("e.wit", 3, 8)),
    ({"e.wit": H + "interface i {\n  variant v {}\n}"}, "variant `v` is empty", ("e.wit", 3, 11)),
    ({"e.wit": H + "interface i {\n  type t = tuple<>;\n}"}, "empty tuple", ("e.wit", 3, 12)),
    ({"e.wit": H + "interface i {\n  flags f { " + ", ".join(f"g{i}" for i in range(33)) + " }\n}"},
     "flags `f` has 33 flags: the canonical ABI allows at most 32", ("e.wit", 3, 9)),
    ({"e.wit": H + "interface i {\n  record r { a: u8, A: u8 }\n}"}, "field `A` is defined more than once",
     ("e.wit", 3, 21)),
    ({"e.wit": H + "interface i {\n  f: func(a: u8, a: u16);\n}"}, "parameter `a` is defined more than once",
     ("e.wit", 3, 18)),
    ({"e.wit": H + "interface i {\n  type t = u32;\n  f: func(x: borrow<t>);\n}"},
     "type `t` used in a handle must be a resource", ("e.wit", 4, 21)),
    ({"e.wit": H + "interface i {\n  resource r;\n  f: func() -> borrow<r>;\n}"},
     "function `f` returns a type which contains a `borrow<T>`", ("e.wit", 4, 3)),
    ({"e.wit": H + "interface i {\n  resource r { constructor() -> u32; }\n}"},
     "a constructor's declared return type must be `result<r, E>`", ("e.wit", 3, 33)),
    ({"e.wit": H + "interface i {\n  type m = map<f32, u8>;\n}"}, "a map key is an integer", ("e.wit", 3, 16)),
    ({"e.wit": H + "interface i {}\nworld w {\n  import i;\n  import i;\n}"},
     "interface `a:b/i@1.0.0` is imported more than once", ("e.wit", 5, 10)),
    ({"e.wit": H + "world w {\n  import x: func();\n  export x: func();\n  import x: func();\n}"},
     "import `x` conflicts with an earlier import", ("e.wit", 5, 10)),
    ({"e.wit": H + "world w {\n  import x: func();\n  import X: func();\n}"},
     "name `X` conflicts with previous name `x`", ("e.wit", 4, 10)),
    ({"e.wit": "package a:b;\ninterface i {\n  @since(version = 1.0.0)\n  f: func();\n}"},
     "package a:b has a @since gate, so it must have a version", ("e.wit", 3, 3)),
    ({"e.wit": H + "interface i {\n  @since(version = 1.0.1)\n  f: func();\n}"},
     "@since(version = 1.0.1) is later than the package's own version", ("e.wit", 3, 3)),
    ({"e.wit": H + "@unstable(feature = x)\ninterface i { @unstable(feature = x) type t = u8; }\n"
               "interface j {\n  use i.{t};\n}"},
     "`i` is gated off: it is @unstable(feature = x), which is not enabled", ("e.wit", 5, 7)),
    ({"e.wit": H + "interface i {\n  @unstable(feature = x)\n  type t = u8;\n  f: func(a: t);\n}"},
     "`t` is gated off", ("e.wit", 5, 14)),
    # Gated off with what holds it: wit-parser keeps a type whose own gate lets it in, then finds
    # its interface or world gone; a resource's functions need the resource.
    ({"e.wit": H + "@unstable(feature = x)\ninterface i {\n  type t = u8;\n}"},
     "type `t` is not gated off, but interface `a:b/i@1.0.0`, which holds it, is (@unstable(feature = x) is not "
     "enabled)", ("e.wit", 4, 8)),
    ({"e.wit": H + "interface j { type t = u8; }\n@unstable(feature = x)\ninterface i {\n  @since(version = 1.0.0)"
      "\n  use j.{t as u};\n}"}, "type `u` is not gated off, but interface `a:b/i@1.0.0`", ("e.wit", 6, 15)),
    ({"e.wit": H + "@unstable(feature = x)\nworld w {\n  import f: func();\n  variant v { a }\n}"},
     "type `v` is not gated off, but world `a:b/w@1.0.0`", ("e.wit", 5, 11)),
    ({"e.wit": H + "world w {\n  @unstable(feature = x)\n  import f: interface {\n    record r { a: u8 }\n  }\n}"},
     "type `r` is not gated off, but interface `f` of world `a:b/w@1.0.0`", ("e.wit", 5, 12)),
    ({"e.wit": H + "interface i {\n  @unstable(feature = x)\n  resource r {\n    @unstable(feature = x)\n"
      "    constructor();\n    get: func() -> u8;\n  }\n}"},
     "`get` of resource `r` is not gated off, but the resource is", ("e.wit", 7, 5)),
    ({"e.wit": H + "world w {\n  @unstable(feature = x)\n  resource r { constructor(); }\n}"},
     "`constructor` of resource `r` is not gated off", ("e.wit", 4, 16)),
    # ...and what is gated off is still checked: wit-parser looks up every name first.
    ({"e.wit": H + "@unstable(feature = x)\ninterface i {\n  @unstable(feature = x)\n  f: func(a: nope);\n}"},
     "type `nope` does not exist in interface `a:b/i@1.0.0`", ("e.wit", 5, 14)),
    ({"e.wit": H + "world w {\n  @unstable(feature = x)\n  import nope;\n}"},
     "interface or world `nope` does not exist", ("e.wit", 4, 10)),
    ({"e.wit": H + "world w {\n  @unstable(feature = x) import f: func();\n  @unstable(feature = y) import f: func();\n}"},
     "import `f` conflicts with an earlier import", ("e.wit", 4, 33)),
    ({"e.wit": H + "interface i {}\nworld w {\n  include i;\n}"}, "`i` is an interface, but `include` takes a world",
     ("e.wit", 4, 11)),
    ({"e.wit": H + "world v {}\nworld w {\n  import v;\n}"}, "`v` is a world, but `import` takes an interface",
     ("e.wit", 4, 10)),
    ({"e.wit": H + "world v { import f: func(); }\nworld w {\n  include v with { g as h }\n}"},
     "world `v` has no import or export named `g`", ("e.wit", 4, 20)),
    ({"e.wit": H + "world v { import f: func(); }\nworld w {\n  import f: func();\n  include v;\n}"},
     "import of `f` from world `v` shadows an earlier import", ("e.wit", 5, 3)),
    ({"e.wit": H + "interface i {}\ninterface i {}"}, "`i` is defined more than once in package a:b@1.0.0",
     ("e.wit", 3, 11)),
    ({"e.wit": H + "use x:y/z@1.0.0 as i;\ninterface i {}"}, "`i` is already defined in package a:b@1.0.0",
     ("e.wit", 2, 20)),
    ({"e.wit": H + "interface i {\n  use x:io/s@1.0.1.{t};\n}", "deps/io/s.wit": "package x:io@1.0.0;\ninterface s {}"},
     "package x:io@1.0.1 not found (loaded packages: a:b@1.0.0, x:io@1.0.0)", ("e.wit", 3, 7)),
    ({"e.wit": H + "interface i {\n  use x:io/nope@1.0.0.{t};\n}", "deps/io/s.wit": "package x:io@1.0.0;"},
     "interface or world `nope` not found in package x:io@1.0.0", ("e.wit", 3, 12)),
    ({"e.wit": H + "interface i { use x:y/j@1.0.0.{t}; }",
      "deps/y.wit": "package x:y@1.0.0;\ninterface j { use a:b/i@1.0.0.{t}; type t = u8; }"},
     "package a:b@1.0.0 depends on itself", ("y.wit", 2, 19)),
    ({"e.wit": H, "deps/again.wit": "package a:b@1.0.0;"}, "package a:b@1.0.0 is defined twice", ("again.wit", 1, 9)),
    ({"e.wit": "interface i {}"}, "no package declaration", ("e.wit", 1, 11)),
    ({"e.wit": "package a:b { interface i {} }"}, "no package declaration", ("e.wit", 1, 9)),
    ({"e.wit": H + "interface i { use x:y/j.{t}; }", "deps/y.wit": "package x:y { interface j { type t = u8; } }"},
     "a `package ... { }` block is another package, not this one", ("y.wit", 1, 9)),
    ({"e.wit": H, "f.wit": "package a:c;"}, "package a:c differs from package a:b@1.0.0", ("f.wit", 1, 9)),
    ({"e.wit": H + "world w {\n  export a;\n  export c;\n}\ninterface a { type t = u8; }\n"
      "interface b { use a.{t}; }\ninterface c { use a.{t}; use b.{t as t2}; }"},
     "world `w` cannot export `a:b/c@1.0.0`", ("e.wit", 2, 7)),
]


@pytest.mark.parametrize("files, message, where", PARSE_ERRORS + RESOLVE_ERRORS,
                         ids=[c[1][:40] for c in PARSE_ERRORS + RESOLVE_ERRORS])
def test_error_names_file_line_column_and_the_problem(tmp_path: Path, files, message, where):
    write_wit(tmp_path / "pkg", files)
    with pytest.raises(WitError) as err:
        load_wit(tmp_path / "pkg")
    e = err.value
    name, line, col = where
    assert message in e.message
    assert (Path(e.path).name, e.line, e.column) == (name, line, col), str(e)
    assert str(e) == f"{e.path}:{line}:{col}: {e.message}"
    assert isinstance(e, AotError) and "\n" not in str(e)
    # The snippet is the source line with a caret under the column.
    src_line, caret = e.snippet.split("\n")
    assert caret.index("^") == col - 1 and src_line.strip()


def test_missing_path_and_empty_folder(tmp_path: Path):
    with pytest.raises(WitError, match="no such file or directory"):
        load_wit(tmp_path / "nothere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WitError, match="no .wit files in this folder"):
        load_wit(tmp_path / "empty")


def test_a_file_that_is_not_utf8(tmp_path: Path):
    (tmp_path / "bad.wit").write_bytes(b"package a:b;\n\xff")
    with pytest.raises(WitError, match="not UTF-8"):
        load_wit(tmp_path / "bad.wit")


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path):
    write_wit(tmp_path / "a", {"a.wit": "package a:b;\ninterface i { type t = " + "list<" * 500 + "u8" + ">" * 500 + "; }"})
    with pytest.raises(WitError, match="types nest more than 100 deep"):
        load_wit(tmp_path / "a")
    chain = " ".join(f"type a{i} = a{i + 1};" for i in range(3000))
    write_wit(tmp_path / "b", {"a.wit": f"package a:b;\ninterface i {{ {chain} type a3000 = u8; }}"})
    with pytest.raises(WitError, match="refer to each other too deeply"):
        load_wit(tmp_path / "b")


def test_mangled_wit_gives_wit_errors_only(tmp_path: Path):
    """Random edits of real WIT (fixed seed): every failure is a WitError with a place, never a crash."""
    import random

    from aot.wit.dummy import dummy_module_bytes
    from wit_helpers import DATA

    corpus = [p.read_text() for p in sorted((DATA / "all-types").glob("*.wit"))]
    corpus.append(corpus[0] + corpus[1].replace("package test:all-types@0.1.0;", "")
                  + "package test:units@1.2.3-rc.1 {\n"
                  + (DATA / "all-types/deps/units/units.wit").read_text().split(";", 1)[1] + "\n}\n")
    pieces = ["{", "}", "(", ")", "<", ">", ",", ";", ":", "@", "/", ".", "->", "_", "u8", "list", "result",
              "resource", "constructor", "static", "func", "use", "include", "with", "as", "import", "export",
              "world", "interface", "package", "a:b", "0.2.0", "%x", "x", "borrow<x>", "\"s\"", "/*", "///d\n",
              "@since(version = 0.1.0)", "@unstable(feature = f)", "type t = ", "record r {", "map<", "tuple<", "\n"]
    rng = random.Random(13)
    places = 0
    for n in range(300):
        text = rng.choice(corpus)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text) + 1)
            j = min(len(text), i + rng.randint(0, 10))
            text = text[:i] + (rng.choice(pieces) if rng.random() < 0.7 else "") + text[j:]
        folder = write_wit(tmp_path / str(n), {"a.wit": text})
        try:
            resolve, main = load_wit(folder, all_features=True)
            for world in main.worlds.values() if main else ():
                dummy_module_bytes(world)
        except WitError as exc:
            places += exc.line is not None
    assert places > 100  # most edits break the text, and the errors say where
