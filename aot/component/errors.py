"""The errors of the component layer: the compiler's own classes, with a kind that says "component".

Subclasses of `aot.errors.DecodeError` and `UnsupportedError`, so everything
that already catches the compiler's errors (the CLI's one-line reporting among
them) catches these too; only the label in front of the message changes.
"""

from __future__ import annotations

from aot.errors import AotError, DecodeError, UnsupportedError, ValidationError


class ComponentDecodeError(DecodeError):
    """The bytes are not a well-formed component (Binary.md)."""

    kind = "malformed component"


class ComponentInvalidError(ValidationError):
    """Well formed, but the instantiation graph does not hold together (a missing export, a bad index)."""

    kind = "invalid component"


class ComponentUnsupportedError(UnsupportedError):
    """A well-formed component that uses what Waft does not unwrap (preview 3 async, values, GC types...)."""

    kind = "unsupported component"


class UnwrapError(AotError):
    """A component that decodes and instantiates but cannot be turned into one p1 core module by this path."""

    kind = "cannot unwrap"
