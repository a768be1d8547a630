"""The build cache of `waft run`, spectest and the test tooling: where it lives, what keys it, how it is pruned.

Products (compiled modules, runtime libraries, linked programs, spectest
builds) live under `cache_dir()`, in folders named by a hash of everything
that went into them.  `inputs_digest()` is the part of that hash that covers
Waft itself: the compiler, the firmware builder, the C runtime and the board
descriptions, so a changed compiler or a changed `target.toml` never reuses a
stale product.  Nothing else removes entries, so `prune()` keeps the cache
under a size budget, dropping the least recently used entries first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from functools import cache
from pathlib import Path

from aot.package_data import RUNTIME_DIR, TARGETS_DIR

# Python sources whose change changes what is built: the compiler and the firmware builder.
_CODE_DIRS = (Path(__file__).resolve().parent.parent / "aot", Path(__file__).resolve().parent / "firmware")
_WASI_TABLE = Path(__file__).resolve().parent / "wasi.py"

DEFAULT_MAX_BYTES = 2 << 30  # 2 GiB; $WAFT_CACHE_MAX_MB overrides
# Entries used this recently are never pruned: a parallel run may be about to read them.
MIN_AGE_SECONDS = 600.0


def cache_dir() -> Path:
    """$WAFT_CACHE_DIR, else $XDG_CACHE_HOME/waft, else ~/.cache/waft."""
    if "WAFT_CACHE_DIR" in os.environ:
        return Path(os.environ["WAFT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "waft"


def partition_cache_dir(target_name: str) -> Path:
    """Where compiled partitions of big modules are kept for `target_name` (aot/parallel.py's cache):
    `cache_dir()/partitions/<target>/<key>`, pruned with the rest."""
    return cache_dir() / "partitions" / target_name


@cache
def inputs_digest() -> str:
    """Hash of Waft's own inputs to a build: compiler and firmware code, C runtime, board descriptions."""
    h = hashlib.sha256()
    files = [p for d in _CODE_DIRS for p in d.rglob("*.py")] + [_WASI_TABLE]
    files += [p for p in RUNTIME_DIR.rglob("*") if p.is_file() and p.suffix in (".c", ".h")]
    files += [p for p in TARGETS_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted(files):
        h.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def touch(entry: Path) -> None:
    """Mark a cache entry as just used (pruning drops the least recently used first)."""
    try:
        os.utime(entry)
    except OSError:
        pass  # removed by a parallel prune: the caller already holds what it needs


def max_bytes() -> int:
    """The cache's size budget: $WAFT_CACHE_MAX_MB megabytes, else 2 GiB."""
    value = os.environ.get("WAFT_CACHE_MAX_MB")
    return int(value) << 20 if value and value.isdigit() else DEFAULT_MAX_BYTES


def prune(root: Path, budget: int | None = None, *, min_age: float = MIN_AGE_SECONDS) -> list[Path]:
    """Remove the least recently used entries under `root`'s group folders until it fits `budget`.

    An entry is a folder three levels down (`root/<kind>/<target>/<key>`,
    e.g. `modules/stm32f4/<hash>`).  Entries used within `min_age` seconds stay
    even over budget.  Returns the removed entries.
    """
    budget = max_bytes() if budget is None else budget
    # Other processes use the cache meanwhile (parallel builds, tests' temporary folders under it):
    # anything may vanish between listing and reading, and is then simply not counted.
    entries = [(mtime, _size(e), e) for group in _dirs(root) for sub in _dirs(group) for e in _dirs(sub)
               if (mtime := _mtime(e)) is not None]
    total = sum(size for _, size, _ in entries)
    removed = []
    now = time.time()
    for mtime, size, entry in sorted(entries):
        if total <= budget:
            break
        if now - mtime < min_age:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        total -= size
        removed.append(entry)
    return removed


def _dirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None  # removed meanwhile


def _size(path: Path) -> int:
    """Bytes of the files under `path`; a file or folder removed while it is walked counts nothing."""
    total = 0
    for folder, _, files in os.walk(path):  # os.walk skips folders that vanish (onerror=None)
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name), follow_symlinks=False).st_size
            except OSError:
                pass
    return total
