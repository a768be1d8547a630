"""Where WIT text came from: every file in one source map, spans into it, errors rendered from them.

The lexer and the parser deal only in spans: `(start, end)` offsets into the
concatenation of every file read so far, one `SourceMap` per load.  Nothing
stores line or column numbers or formatted messages while parsing; a span
becomes `file:line:column` (1-based, columns counted in characters) and a caret
line only when an error is raised, through `SourceMap.error()`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from aot.errors import WitError

Span = tuple[int, int]
NO_SPAN: Span = (-1, -1)


@dataclass
class SourceFile:
    path: str
    text: str
    base: int  # offset of the file's first character in the source map
    _line_starts: list[int] | None = field(default=None, repr=False)

    def _starts(self) -> list[int]:
        # Lines end at "\n" only (a CR before it stays in the line), as the lexer counts them.
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a file-local offset."""
        starts = self._starts()
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line end; "" past the last line."""
        starts = self._starts()
        if line > len(starts):
            return ""
        start = starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:end if end != -1 else len(self.text)].rstrip("\r")


class SourceMap:
    """Every WIT file of one load, end to end, so one integer places any token in any file."""

    def __init__(self) -> None:
        self.files: list[SourceFile] = []
        self._bases: list[int] = []
        self._end = 0

    def add(self, path: str, text: str) -> SourceFile:
        # One offset of slack between files keeps an end-of-file span inside its own file.
        src = SourceFile(path, text, self._end)
        self.files.append(src)
        self._bases.append(self._end)
        self._end += len(text) + 1
        return src

    def file_at(self, offset: int) -> SourceFile:
        return self.files[bisect.bisect_right(self._bases, offset) - 1]

    def location(self, span: Span) -> tuple[str, int, int]:
        src = self.file_at(span[0])
        line, col = src.line_col(span[0] - src.base)
        return src.path, line, col

    def error(self, span: Span | None, message: str) -> WitError:
        """A WitError for `message` at `span` (None or NO_SPAN: no place known)."""
        if span is None or span[0] < 0 or not self.files:
            return WitError(message)
        src = self.file_at(span[0])
        line, col = src.line_col(span[0] - src.base)
        text = src.line_text(line)
        width = max(1, min(span[1] - span[0], len(text) - col + 1))
        snippet = f"{text}\n{' ' * (col - 1)}^{'-' * (width - 1)}"
        return WitError(message, path=src.path, line=line, column=col, snippet=snippet)
