"""The include-guard and `extern "C"` frame shared by every C header Waft generates.

Both the module header (aot/header.py) and the WASI p1 header (waftkit/wasi.py)
open with a guard, their includes and `extern "C" {` for C++ callers, and
close in reverse; writing that frame in one place keeps the two from
drifting (a header without the C++ wrapper links with mangled names).
"""

from __future__ import annotations

from collections.abc import Sequence


def open_frame(guard: str, *include_groups: Sequence[str]) -> list[str]:
    """Lines that open a header: the guard, each group of `#include` targets
    (`'"waft.h"'`, `'<stdint.h>'`) followed by a blank line, then `extern "C" {`."""
    lines = [f"#ifndef {guard}", f"#define {guard}", ""]
    for group in include_groups:
        lines += [f"#include {target}" for target in group]
        lines.append("")
    lines += ["#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    return lines


def close_frame(guard: str) -> list[str]:
    """Lines that close what `open_frame(guard, ...)` opened (no trailing newline)."""
    return ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */"]
