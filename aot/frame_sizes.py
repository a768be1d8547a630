"""The native stack frame of every compiled function, as LLVM's code generator laid it out.

Why the compiler needs them: generated code checks the stack at a function's
entry, after its prologue has already pushed the frame (docs/security.md,
"Stack exhaustion").  That is sound only while every frame fits the
WAFT_STACK_MARGIN kept free below the limit, so the compiler must know the
frames — and only the code generator knows them (register allocation and
spills decide).

How: every defined function carries LLVM's `"warn-stack-size"="0"` string
attribute, which makes the prologue/epilogue inserter report "stack frame
size (N) exceeds limit (0) in function 'f'" for each function it lays out —
exactly `MachineFrameInfo::getStackSize()`, the bytes the prologue reserves.
llvmlite has no diagnostic handler, so LLVM prints these to the process's
stderr from C++; `measure_frames` catches them at the file-descriptor level
around code generation.  (LLVM's `-stack-size-section` would be the quieter
way, but llvmlite's LLVM does not register the code generator's command-line
options, so it cannot be switched on.)

The capture (aot/llvm_stderr.py) redirects descriptor 2 for the whole process
under a lock; anything else written to stderr meanwhile is passed on
afterwards, unchanged.

A failure to see the reports must never read as "no big frames": the first
measurement per target compiles a probe function with a known big frame and
raises AotError if LLVM did not report it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import llvmlite.binding as llvm

from aot.emit import generate_code
from aot.errors import AotError
from aot.llvm_stderr import captured_stderr

# The function attribute that asks for the reports (value: the byte threshold).
FRAME_SIZE_ATTRIBUTE = "warn-stack-size"

_REPORT = re.compile(r"stack frame size \((\d+)\) exceeds limit \(\d+\) in function '([^']*)'")


@dataclass
class FrameSizes:
    """Frame bytes by LLVM function name, filled in when `measure_frames` exits."""

    sizes: dict[str, int] = field(default_factory=dict)

    def largest(self, names: set[str] | None = None) -> int:
        """The largest frame (of the functions in `names`, when given); 0 when there are none."""
        return max((size for name, size in self.sizes.items() if names is None or name in names), default=0)


@contextmanager
def measure_frames() -> Iterator[FrameSizes]:
    """Collect the frame-size reports LLVM prints while the body runs code generation."""
    frames = FrameSizes()
    with captured_stderr() as captured:
        yield frames
    text = "".join(captured)
    frames.sizes.update(parse_reports(text))
    rest = [line for line in text.splitlines(keepends=True) if not _REPORT.search(line)]
    if rest:
        sys.stderr.write("".join(rest))


def parse_reports(text: str) -> dict[str, int]:
    """{function name: frame bytes} from LLVM's "stack frame size (N) exceeds limit" lines.

    A function LLVM lays out more than once (it does not, today) keeps its largest figure.
    """
    sizes: dict[str, int] = {}
    for size, name in _REPORT.findall(text):
        sizes[name] = max(sizes.get(name, 0), int(size))
    return sizes


_PROBE_BYTES = 4096
_PROBE_IR = f"""
declare void @waft.frame.probe.use(ptr)
define void @waft.frame.probe() "{FRAME_SIZE_ATTRIBUTE}"="0" {{
  %a = alloca [{_PROBE_BYTES} x i8]
  call void @waft.frame.probe.use(ptr %a)
  ret void
}}
"""
_probed: set[str] = set()


def check_measurable(tm: llvm.TargetMachine) -> None:
    """AotError unless LLVM reports frame sizes for code `tm` generates (once per target).

    The frame guards rest on these reports; an LLVM that stopped printing them,
    or printed them in other words, must stop the build rather than let every
    frame look small.
    """
    key = f"{tm.triple}|{tm.target_data}"
    if key in _probed:
        return
    mod = llvm.parse_assembly(_PROBE_IR)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    with measure_frames() as frames:
        generate_code(tm, mod)
    if frames.sizes.get("waft.frame.probe", 0) < _PROBE_BYTES:
        raise AotError(f"internal error: LLVM {'.'.join(map(str, llvm.llvm_version_info))} did not report "
                       f"the stack frame sizes Waft's stack check relies on (target {tm.triple})")
    _probed.add(key)
