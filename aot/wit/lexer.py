"""The WIT lexer: one file's text -> a list of tokens with spans (WIT.md, "Lexical structure").

Whitespace and comments are dropped, except doc comments (`/// ...` and
`/** ... */`), which ride on the next token as `Token.docs` so the parser can
attach them to the item that token starts.  Block comments nest.

Token kinds are plain strings: a keyword's own text (`record`, `func`,
`error-context`...), an operator's text (`{`, `->`, `@`...), `_`, `id` (value:
the identifier without a leading `%`), `number` (digits, or a whole SemVer
version such as `0.2.0-rc.1`: numbers only ever appear as versions and
fixed-list lengths, so one token serves both and the parser checks which it
needs), `literal` (a `@external-id` string, value decoded; not `string`, which is
the type's keyword) and `eof`.

Identifiers are checked here against the component model's `label` grammar
(kebab-case words `[a-z][0-9a-z]*` or acronyms `[A-Z][0-9A-Z]*`), and the
file is refused up front if it holds control codes or bidirectional overrides.
"""

from __future__ import annotations

import re

from aot.wit.source import SourceFile, SourceMap

KEYWORDS = frozenset("""
    as async bool borrow char constructor enum error-context export f32 f64 flags from func
    future import include interface list map option own package record resource result
    s8 s16 s32 s64 static stream string tuple type u8 u16 u32 u64 use variant with world
""".split())

_TOKEN = re.compile(r"""
     (?P<ws>[ \t\r\n]+)
    |(?P<doc>///(?!/)[^\n]*)
    |(?P<line>//[^\n]*)
    |(?P<block>/\*)
    |(?P<arrow>->)
    |(?P<punct>[{}()<>,:;=.@/*])
    |(?P<number>\d+(?:\.\d+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)
    |(?P<id>%?(?:[^\W\d]|-)[\w-]*)
    |(?P<string>")
""", re.VERBOSE)

# A label: words or acronyms separated by single dashes; the first starts with a letter.
_LABEL = re.compile(r"(?:[a-z][0-9a-z]*|[A-Z][0-9A-Z]*)(?:-(?:[0-9a-z]+|[0-9A-Z]+))*\Z")
# Control codes other than tab/LF/CR, DEL, C1 controls, bidirectional overrides and the
# code points Unicode deprecates (WIT.md: "must not contain ...").
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                        "\u0149\u0673\u0f77\u0f79\u17a3\u17a4\u17b4\u17b5]")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


class Token:
    __slots__ = ("kind", "value", "start", "end", "docs")

    def __init__(self, kind: str, value: str, start: int, end: int, docs: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.value = value
        self.start = start
        self.end = end
        self.docs = docs

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    def describe(self) -> str:
        """How an error message names this token: "`fn`", "keyword `record`", "end of file"."""
        if self.kind == "eof":
            return "end of file"
        if self.kind in KEYWORDS:
            return f"keyword `{self.kind}`"
        if self.kind == "literal":
            return "a string literal"
        return f"`{self.value}`"

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.value!r}, {self.start})"


def tokenize(src: SourceFile, sources: SourceMap) -> list[Token]:
    """Every token of `src` (a file already added to `sources`), ending with an `eof` token."""
    text, base = src.text, src.base
    bad = _FORBIDDEN.search(text)
    if bad:
        raise sources.error((base + bad.start(), base + bad.end()),
                            f"control code or bidirectional override U+{ord(bad.group()):04X} "
                            "is not allowed in WIT text")
    tokens: list[Token] = []
    docs: list[str] = []
    pos = 1 if text.startswith("\ufeff") else 0
    end = len(text)
    match = _TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            raise sources.error((base + pos, base + pos + 1), f"unexpected character `{text[pos]}`")
        group = m.lastgroup
        start, pos = pos, m.end()
        if group == "ws" or group == "line":
            continue
        if group == "doc":
            docs.append(_line_doc(m.group()))
            continue
        if group == "block":
            pos = _skip_block_comment(text, start, base, sources)
            if text.startswith("/**", start) and not text.startswith(("/***", "/**/"), start):
                docs.append(_block_doc(text[start + 3:pos - 2]))
            continue
        if group == "string":
            value, pos = _string(text, start, base, sources)
            kind = "literal"  # not "string": that is the keyword (the type), a different token
        elif group == "id":
            raw = m.group()
            explicit = raw.startswith("%")
            value = raw[1:] if explicit else raw
            if not explicit and (raw in KEYWORDS or raw == "_"):
                kind = raw
            else:
                kind = "id"
                if not _LABEL.match(value):
                    raise sources.error((base + start, base + pos), _bad_label(value))
        elif group == "number":
            kind, value = "number", m.group()
        else:  # punct, arrow
            kind = value = m.group()
        tokens.append(Token(kind, value, base + start, base + pos, tuple(docs) if docs else ()))
        docs.clear()
    tokens.append(Token("eof", "", base + end, base + end, tuple(docs)))
    return tokens


def _bad_label(name: str) -> str:
    why = ""
    if "_" in name:
        why = " (`_` is not allowed: use `-`)"
    elif "--" in name or name.startswith("-") or name.endswith("-"):
        why = " (every `-` must stand between two words)"
    elif name[:1].isdigit():
        why = " (it must start with a letter)"
    elif any(part != part.lower() and part != part.upper() for part in name.split("-")):
        why = " (each word is all lower case, or all upper case for an acronym)"
    return (f"invalid identifier `{name}`{why}: WIT identifiers are kebab-case, words of a-z and 0-9 "
            "or acronyms of A-Z and 0-9 separated by `-`")


def _skip_block_comment(text: str, start: int, base: int, sources: SourceMap) -> int:
    depth, pos = 0, start
    while True:
        nxt = min((p for p in (text.find("/*", pos), text.find("*/", pos)) if p != -1), default=-1)
        if nxt == -1:
            raise sources.error((base + start, base + start + 2), "block comment is never closed (`*/`)")
        if text.startswith("/*", nxt):
            depth += 1
        else:
            depth -= 1
        pos = nxt + 2
        if depth == 0:
            return pos


def _line_doc(comment: str) -> str:
    body = comment[3:]
    return (body[1:] if body.startswith(" ") else body).rstrip()


def _block_doc(body: str) -> str:
    lines = [line.strip() for line in body.splitlines()]
    lines = [line[1:].lstrip() if line.startswith("*") else line for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _string(text: str, start: int, base: int, sources: SourceMap) -> tuple[str, int]:
    """Decode a core `name` literal: escapes \\t \\n \\r \\" \\' \\\\ \\u{hex} and \\hh (raw bytes)."""
    out = bytearray()
    pos = start + 1
    while True:
        if pos >= len(text) or text[pos] == "\n":
            raise sources.error((base + start, base + start + 1), "string literal is never closed (`\"`)")
        ch = text[pos]
        if ch == '"':
            try:
                return out.decode("utf-8"), pos + 1
            except UnicodeDecodeError:
                raise sources.error((base + start, base + pos + 1), "string literal is not valid UTF-8")
        if ch != "\\":
            out += ch.encode("utf-8")
            pos += 1
            continue
        esc = text[pos + 1:pos + 2]
        if esc in _ESCAPES:
            out += _ESCAPES[esc].encode()
            pos += 2
        elif esc == "u" and text[pos + 2:pos + 3] == "{":
            close = text.find("}", pos)
            try:
                out += chr(int(text[pos + 3:close], 16)).encode("utf-8")
            except (ValueError, OverflowError):
                raise sources.error((base + pos, base + pos + 2), "bad `\\u{...}` escape in string literal")
            pos = close + 1
        elif re.match(r"[0-9a-fA-F]{2}", text[pos + 1:pos + 3]):
            out.append(int(text[pos + 1:pos + 3], 16))
            pos += 3
        else:
            raise sources.error((base + pos, base + pos + 2), f"unknown escape `\\{esc}` in string literal")
