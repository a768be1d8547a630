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


class LinkError(AotError):
    """An import cannot be satisfied, or two modules' types disagree."""

    kind = "link error"


class TargetError(AotError):
    """An unknown target, or a module that does not fit the target's board."""

    kind = "target error"
