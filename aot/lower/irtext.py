"""The module's LLVM IR text, printed one function at a time so that lowered functions can be dropped.

llvmlite's IR objects are heavy: a small Wasm function lowers to some 25 KB
of Python objects (instructions, constants, names, metadata references) but
prints as about 1.5 KB of text.  Holding every function's objects until the
whole module is printed made compile memory grow by ~145 KB a function
(issue 12).  `FunctionTexts.retire(fn)` prints a function as soon as its
lowering is finished and empties it, so only its declaration (what calls to
it need) stays alive; `module_text()` then prints the module in llvmlite's
own layout with the saved definitions in place.  The output is exactly
`str(llmod)`: the same text, in the same order, reaches LLVM.

Data segments are `ByteArrayConstant`s, escaped only while the module is
printed and copied into the text once.

A retired function must not change afterwards.  Nothing in the lowering
does: functions only reference each other (calls, `ref.func` descriptors),
and references print as names.  Metadata nodes are numbered when created, so
a saved `!3` means the same node in the finished module.
"""

from __future__ import annotations

from llvmlite import ir

from aot.lower import loop_hints
from aot.lower.context import I8


class FunctionTexts:
    """The printed definitions of retired functions, and the module printer that puts them back."""

    def __init__(self, llmod: ir.Module) -> None:
        self.llmod = llmod
        self._bodies: dict[str, str] = {}  # function name -> its printed definition

    def retire(self, fn: ir.Function) -> None:
        """Print `fn`'s definition now and drop its body (blocks, instructions) from memory."""
        if not fn.blocks:
            raise ValueError(f"function {fn.name} has no body to retire")
        self._bodies[fn.name] = str(fn)
        # Blocks and instructions reference each other (parent links), so the
        # cycle collector frees them; emptying the scope drops the local names.
        fn.blocks = []
        fn.scope = fn.scope.__class__()

    def __len__(self) -> int:
        return len(self._bodies)

    def module_text(self, trailer: list[str] = ()) -> str:
        """`str(self.llmod)` plus `trailer` lines, with each retired function's saved definition where it belongs.

        Mirrors `llvmlite.ir.Module.__repr__` (header, identified types, globals
        in creation order, metadata; lines joined by newlines), but joins all
        the pieces once: a big data segment is copied into the text only once.
        """
        llmod = self.llmod
        lines: list[str | list[str]] = [
            f'; ModuleID = "{llmod.name}"',
            f'target triple = "{llmod.triple}"',
            f'target datalayout = "{llmod.data_layout}"',
            "",
        ]
        lines += [t.get_declaration() for t in llmod.get_identified_types().values()]
        bodies = self._bodies
        for value in llmod.globals.values():
            if isinstance(value, ByteArrayConstant):
                lines.append(value.text_pieces())
                continue
            saved = bodies.get(value.name) if isinstance(value, ir.Function) else None
            lines.append(saved if saved is not None else str(value))
        lines += loop_hints.finish_metadata(llmod._get_metadata_lines())
        lines += trailer
        pieces: list[str] = []
        for i, line in enumerate(lines):
            if i:
                pieces.append("\n")
            if isinstance(line, list):
                pieces += line
            else:
                pieces.append(line)
        del lines
        return "".join(pieces)


class ByteArrayConstant(ir.GlobalVariable):
    """A private `[N x i8]` constant (a data segment) whose bytes are escaped only when the module is printed.

    llvmlite would escape them into a Python list of one string per byte (8
    bytes of memory and more for every byte of data) and keep the text; here
    the text is made in fixed-size chunks when `module_text` asks for it and
    lands in the module text without further copies.  Every byte is written
    `\\xx` (llvmlite leaves printable ones as they are): other text, the same
    constant for LLVM.
    """

    _PLACEHOLDER = "zeroinitializer"  # stands for the bytes while llvmlite prints the rest

    def __init__(self, module: ir.Module, name: str, data: bytes) -> None:
        super().__init__(module, ir.ArrayType(I8, len(data)), name)
        self.data = data
        self.global_constant = True
        self.linkage = "private"
        self.unnamed_addr = True
        self.align = 1
        self.initializer = ir.FormattedConstant(self.value_type, self._PLACEHOLDER)

    def text_pieces(self) -> list[str]:
        """The global's definition in three pieces: what precedes the bytes, the bytes, what follows."""
        before, after = super()._to_string().split(self._PLACEHOLDER)
        return [before, escaped_bytes(self.data), after]

    def _to_string(self) -> str:
        return "".join(self.text_pieces())


ESCAPE_CHUNK = 1 << 20  # bytes escaped at a time: bounds the temporaries


def escaped_bytes(data: bytes) -> str:
    """`data` as an LLVM string constant, `c"\\00\\41..."`, built in chunks of ESCAPE_CHUNK bytes."""
    n = len(data)
    out = bytearray(3 * n + 3)
    out[:2] = b'c"'
    out[-1:] = b'"'
    body = memoryview(out)[2:-1]
    for start in range(0, n, ESCAPE_CHUNK):
        chunk = data[start:start + ESCAPE_CHUNK]
        hexed = chunk.hex().encode("ascii")
        part = body[3 * start:3 * (start + len(chunk))]
        part[0::3] = b"\\" * len(chunk)
        part[1::3] = hexed[0::2]
        part[2::3] = hexed[1::2]
    return out.decode("ascii")
