"""The compiler's error hierarchy: every failure names where in the module it happened.

One root, `AotError`, so the CLI can catch everything the compiler raises on
bad input and print it as one line.  Each error carries the place it was found
(section, function index, byte offset into the module) so a user can look at
the byte with `wasm-objdump` or a hex editor.
"""

from __future__ import annotations


class AotError(Exception):
    """Root of every error the compiler raises on bad input or options."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        section: str | None = None,
        func_index: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.section = section
        self.func_index = func_index
        self.offset = offset

    def where(self) -> str:
        """The place as text, e.g. 'code section, function 3, offset 0x1f4'."""
        parts = []
        if self.section is not None:
            parts.append(f"{self.section} section")
        if self.func_index is not None:
            parts.append(f"function {self.func_index}")
        if self.offset is not None:
            parts.append(f"offset 0x{self.offset:x}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{self.message} ({where})" if where else self.message


class DecodeError(AotError):
    """The bytes are not a well-formed Wasm binary (the spec's 'malformed')."""

    kind = "malformed module"


class ValidationError(AotError):
    """The module is well formed but breaks a validation rule (the spec's 'invalid')."""

    kind = "invalid module"


class UnsupportedError(AotError):
    """The module is valid but uses a feature Waft does not compile yet (SIMD...)."""

    kind = "unsupported feature"


class LimitError(UnsupportedError):
    """The module is valid but beyond one of Waft's limits (aot/limits.py): the message names it."""

    kind = "module too large"


class LinkError(AotError):
    """An import cannot be satisfied, or two modules' types disagree."""

    kind = "link error"


class TargetError(AotError):
    """An unknown target, or a module that does not fit the target's board."""

    kind = "target error"


class WitError(AotError):
    """A WIT document that does not parse or resolve, or that Waft does not support.

    The place is the WIT source's `file:line:column` (1-based), worked out from a
    span only when the error is raised, so the message reads like a compiler's:
    `deps/io/streams.wit:12:5: expected `}`, found `fn``.  `snippet` holds the
    source line with a caret under the column, for callers that show more than
    one line.
    """

    kind = "invalid WIT"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None, snippet: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column
        self.snippet = snippet

    def where(self) -> str:
        if self.path is None:
            return ""
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message
