"""Minimise a module that shows a bug, keeping the bug.

Valid modules go to `wasm-tools shrink`, whose reductions keep a module
valid; it asks `predicate.py` (a fresh process per candidate) whether a
candidate still shows the same class of bug.  Inputs shrink cannot take
(invalid or malformed modules, proposals it does not parse), and anything
shrink leaves, then go through byte-level delta debugging (`ddmin`), which
asks the same question in this process.  WIT inputs use `ddmin` over lines
(wit.py).
"""

from __future__ import annotations

import shlex
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from waftkit.testing.fuzz import tools


def _predicate_script(folder: Path, args: list[str]) -> Path:
    """A script wasm-tools shrink can run as `script FILE`; the environment (WAFT_CACHE_DIR...)
    is inherited."""
    script = folder / "predicate.sh"
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "waftkit.testing.fuzz.predicate", *args])
    script.write_text(f"#!/bin/sh\nexec {command} \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def shrink(data: bytes, predicate_args: list[str], *, attempts: int) -> bytes | None:
    """`wasm-tools shrink` with predicate.py given `predicate_args` (then the file); None when
    shrink cannot take the module."""
    with tempfile.TemporaryDirectory(prefix="waft-fuzz-shrink.") as tmp:
        script = _predicate_script(Path(tmp), predicate_args)
        return tools.shrink(data, script, attempts=attempts)


def ddmin(data, interesting: Callable, *, budget: int = 400, keep: int = 8):
    """Delta debugging over a sequence (bytes of a module, lines of a text): drop ever smaller
    runs while `interesting` holds, at most `budget` questions.  The first `keep` items stay
    (a module's 8-byte header: without it every input is the same 'not a Wasm binary')."""
    head, body = data[:keep], data[keep:]
    n = 2
    while len(body) >= 1 and budget > 0:
        chunk = max(1, -(-len(body) // n))
        reduced = False
        for start in range(0, len(body), chunk):
            candidate = body[:start] + body[start + chunk:]
            budget -= 1
            if interesting(head + candidate):
                body = candidate
                n = max(n - 1, 2)
                reduced = True
                break
            if budget <= 0:
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(n * 2, len(body))
    return head + body


def minimise(data: bytes, predicate_args: list[str], interesting: Callable[[bytes], bool], *,
             attempts: int) -> bytes:
    """The smallest module found that is still `interesting`: shrink first when the module
    is valid, then ddmin.  Never returns something that is not interesting."""
    best = data
    if tools.validate(data).valid:
        shrunk = shrink(data, predicate_args, attempts=attempts)
        if shrunk is not None and len(shrunk) < len(best) and interesting(shrunk):
            best = shrunk
    return ddmin(best, interesting, budget=attempts)
