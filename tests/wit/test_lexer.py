"""The WIT lexer: token kinds, identifiers, versions, strings, comments and doc comments."""

from __future__ import annotations

import pytest

from aot.errors import WitError
from aot.wit.lexer import tokenize
from aot.wit.source import SourceMap


def lex(text: str):
    sources = SourceMap()
    return tokenize(sources.add("t.wit", text), sources)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.value) for t in lex(text)[:-1]]


def test_operators_keywords_and_identifiers():
    assert kinds("record point { x: u32, } -> @ / . * = ; ( ) < > _") == [
        ("record", "record"), ("id", "point"), ("{", "{"), ("id", "x"), (":", ":"), ("u32", "u32"),
        (",", ","), ("}", "}"), ("->", "->"), ("@", "@"), ("/", "/"), (".", "."), ("*", "*"),
        ("=", "="), (";", ";"), ("(", "("), (")", ")"), ("<", "<"), (">", ">"), ("_", "_")]


def test_every_keyword_is_a_keyword_and_percent_makes_it_a_name():
    for word in ("use", "type", "resource", "func", "record", "enum", "flags", "variant", "static",
                 "interface", "world", "import", "export", "package", "constructor", "include", "with",
                 "as", "from", "own", "borrow", "list", "map", "option", "result", "tuple", "string",
                 "char", "bool", "f32", "f64", "s8", "u64", "async", "future", "stream", "error-context"):
        assert kinds(word) == [(word, word)]
        assert kinds(f"%{word}") == [("id", word)]


def test_kebab_case_words_and_acronyms_are_identifiers():
    assert kinds("red-green-blue parse-XML-document XML a1-2b") == [
        ("id", "red-green-blue"), ("id", "parse-XML-document"), ("id", "XML"), ("id", "a1-2b")]


@pytest.mark.parametrize("text, why", [
    ("foo_bar", "`_` is not allowed"),
    ("foo--bar", "every `-` must stand between two words"),
    ("-foo", "every `-` must stand between two words"),
    ("Foo", "each word is all lower case"),
    ("%1abc", "unexpected character `%`"),
])
def test_bad_identifiers_are_refused_where_they_stand(text: str, why: str):
    with pytest.raises(WitError) as err:
        lex(f"interface i {{\n  {text}: func();\n}}")
    assert why in err.value.message
    assert (err.value.path, err.value.line, err.value.column) == ("t.wit", 2, 3)


@pytest.mark.parametrize("text", ["0.2.0", "1.2.3-rc.1", "0.2.0-rc-2023-11-10", "1.0.0+build.5", "4", "10"])
def test_numbers_and_versions_are_one_token(text: str):
    assert kinds(text) == [("number", text)]


def test_a_version_stops_before_a_use_list():
    assert kinds("@1.2.3.{a}") == [("@", "@"), ("number", "1.2.3"), (".", "."), ("{", "{"), ("id", "a"),
                                   ("}", "}")]
    assert kinds("@1.2.3-rc.1.{a}")[1] == ("number", "1.2.3-rc.1")


def test_string_literals_decode_escapes():
    assert kinds(r'"a\tb\u{2603}\7f\"\\"') == [("literal", "a\tb\u2603\x7f\"\\")]


def test_a_string_literal_is_not_the_keyword_string():
    """`"string"` and `string` are different tokens: a literal where a type goes (or the type's
    keyword where @external-id wants a literal) must not parse."""
    tokens = lex('string "string"')
    assert [(t.kind, t.value) for t in tokens[:-1]] == [("string", "string"), ("literal", "string")]
    assert [t.describe() for t in tokens[:-1]] == ["keyword `string`", "a string literal"]


def test_comments_vanish_and_block_comments_nest():
    assert kinds("a // line\n/* block /* nested */ still */ b") == [("id", "a"), ("id", "b")]


def test_doc_comments_ride_on_the_next_token():
    toks = lex("/// first line\n///   indented\n// plain\n/** block\n * doc */ interface i {}")
    assert toks[0].kind == "interface"
    assert toks[0].docs == ("first line", "  indented", "block\ndoc")
    assert toks[1].docs == ()


def test_four_slashes_and_empty_blocks_are_not_docs():
    assert lex("//// not\n/**/ x")[0].docs == ()


def test_spans_are_offsets_in_the_source_map():
    sources = SourceMap()
    sources.add("a.wit", "first")
    src = sources.add("b.wit", "\n  world")
    tok = tokenize(src, sources)[0]
    assert sources.location(tok.span) == ("b.wit", 2, 3)


@pytest.mark.parametrize("text, message, col", [
    ("a /* never closed", "block comment is never closed", 3),
    ('"open', "string literal is never closed", 1),
    ("a $ b", "unexpected character `$`", 3),
    ("a \u202e b", "bidirectional override U+202E", 3),
    ("a \x07 b", "control code", 3),
    (r'"\q"', "unknown escape", 2),
])
def test_lexical_errors_name_their_column(text: str, message: str, col: int):
    with pytest.raises(WitError) as err:
        lex(text)
    assert message in err.value.message
    assert err.value.column == col
    assert str(err.value).startswith(f"t.wit:1:{col}: ")


def test_a_byte_order_mark_is_skipped():
    assert kinds("\ufeffpackage") == [("package", "package")]
