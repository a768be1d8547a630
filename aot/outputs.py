"""Write compiler outputs all-or-nothing: each file to a temporary sibling, then renamed into place.

A reader (a parallel build, an IDE, a second `waft` process) sees the old
file or the whole new one, never a part; a failure while writing (a full
disk, a folder that cannot be made) leaves no output and no temporary file
behind, because the renames, each atomic, come only after every file is
written.  Files get mode 0666 less the umask, as
any compiler's output does (tempfile.mkstemp's 0600 would hide them from the
rest of a build team).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_all(outputs: list[tuple[Path, bytes]]) -> None:
    """Write every (path, content), creating parent folders; the renames happen only once all are written."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(content)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if tmp.exists():
                tmp.unlink()


def write_file(path: Path, content: bytes) -> None:
    """One file, all-or-nothing (see `write_all`)."""
    write_all([(path, content)])
