"""Writing C text: a file of named sections, indented blocks, and fresh names for temporaries.

A generator fills sections in whatever order it walks the world (a type's
definition, the prototype of its helper and the helper's body are found at
once) and `CFile.text()` concatenates them in the order the file was declared
with, which is the order C needs.  `Block.temp` hands out local names that end
in `_`, a spelling no name derived from WIT takes unless it is an escaped
keyword, which the stems used here never are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Block:
    """Lines of C at an indentation, with a counter for temporaries shared by nested blocks."""

    def __init__(self, indent: int = 0, counter: list[int] | None = None) -> None:
        self.lines: list[str] = []
        self.indent = indent
        self._counter = counter if counter is not None else [0]

    def line(self, text: str = "") -> None:
        self.lines.append("    " * self.indent + text if text else "")

    def lines_of(self, text: str) -> None:
        for ln in text.splitlines():
            self.line(ln)

    @contextmanager
    def braces(self, opener: str, closer: str = "}") -> Iterator[None]:
        """`opener {` ... `}`: the body is indented one level."""
        self.line(opener + " {")
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1
            self.line(closer)

    def temp(self, stem: str = "t") -> str:
        """A local name not used before in this function: `t3_`."""
        self._counter[0] += 1
        return f"{stem}{self._counter[0]}_"

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")


class CFile:
    """A C file as named sections, emitted in declaration order; empty sections vanish."""

    def __init__(self, *sections: str) -> None:
        self.sections: dict[str, Block] = {name: Block() for name in sections}

    def __getitem__(self, name: str) -> Block:
        return self.sections[name]

    def text(self) -> str:
        parts = [b.text() for b in self.sections.values() if b.lines]
        return "\n".join(parts)


def c_string(text: str) -> str:
    """A C string literal for `text` (UTF-8, every non-printable or non-ASCII byte escaped)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F and ch != "?":  # `?` would start a trigraph in older modes
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def comment(text: str, indent: str = "") -> list[str]:
    """WIT doc text as C comment lines (`*/` inside it cannot end the comment)."""
    body = text.replace("*/", "* /").strip()
    if not body:
        return []
    lines = body.splitlines()
    if len(lines) == 1:
        return [f"{indent}/* {lines[0]} */"]
    return [f"{indent}/*"] + [f"{indent} * {ln}".rstrip() for ln in lines] + [f"{indent} */"]
