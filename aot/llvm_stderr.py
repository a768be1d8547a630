"""Catch what LLVM's C++ prints to the process's stderr.

llvmlite has no diagnostic handler: LLVM's warnings (an unknown CPU or
feature, a stack-frame report) go straight to file descriptor 2.  The
compiler reads some of them (aot/emit.py, aot/frame_sizes.py), so they are
caught at the descriptor level.  Redirecting descriptor 2 affects the whole
process, so a lock keeps two threads (SCons -j runs Python actions in
threads) from swapping each other's descriptors; whatever else was written
meanwhile is for the caller to pass on.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Redirect descriptor 2 for the body; the yielded list holds the text when the body ends."""
    text: list[str] = []
    with _LOCK, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text.append(capture.read().decode("utf-8", "replace"))
