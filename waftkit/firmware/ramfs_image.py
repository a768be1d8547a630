"""Turn host folders into C source that seeds the bare-metal RAM filesystem at build time.

A board has no host filesystem to preopen, so `--dir HOST::GUEST` for a
Cortex-M target means: copy HOST into the firmware.  `seed_entries` walks a
folder (sorted, so images are reproducible) into ramfs seed entries, parents
before children; `render_c` writes them as `const` arrays (they stay in flash:
the RAM filesystem copies a file into RAM only when it is first changed) and a
`waft_ramfs_seed` table for `waft_ramfs_mount` (runtime_c/wasi_p1/ramfs.h).

Run as `python -m waftkit.firmware.ramfs_image FOLDER [NAME]` to see the C for one folder.
Symbolic links and special files are refused: the RAM filesystem has neither.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aot.errors import AotError

# The RAM filesystem's limit on one name: ramfs.h's default WAFT_RAMFS_NAME_MAX
# (Waft's board builds define a longer one: wasi_firmware.RAMFS_NAME_MAX).
NAME_MAX = 31
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4


@dataclass(frozen=True)
class SeedEntry:
    """One file or directory, at `path` below the filesystem's root."""

    path: str  # "d0/sub/file.txt"
    is_dir: bool
    data: bytes
    mtime_ns: int


def seed_entries(folder: Path, root: str, *, name_max: int = NAME_MAX) -> list[SeedEntry]:
    """`folder` and everything below it, placed at `root` ("d0") in the RAM filesystem.

    `name_max` is the filesystem's WAFT_RAMFS_NAME_MAX (a longer name is refused).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AotError(f"--dir {folder}: not a directory (a board's RAM filesystem is seeded from a host folder)")
    entries = [SeedEntry(root, True, b"", folder.stat().st_mtime_ns)]

    def walk(host: Path, at: str) -> None:
        for child in sorted(host.iterdir(), key=lambda p: p.name):
            name = child.name
            if len(name.encode()) > name_max:
                raise AotError(f"{child}: name longer than the RAM filesystem's {name_max} bytes")
            path = f"{at}/{name}"
            if child.is_symlink():
                raise AotError(f"{child}: a symbolic link; the RAM filesystem has none (copy the file instead)")
            if child.is_dir():
                entries.append(SeedEntry(path, True, b"", child.stat().st_mtime_ns))
                walk(child, path)
            elif child.is_file():
                entries.append(SeedEntry(path, False, child.read_bytes(), child.stat().st_mtime_ns))
            else:
                raise AotError(f"{child}: not a regular file or directory")

    walk(folder, root)
    return entries


def c_string(text: str) -> str:
    out = []
    for byte in text.encode():
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= byte < 127 and ch != "?":  # '?' would start a trigraph
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _c_bytes(data: bytes) -> str:
    lines = []
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 16]) + ",")
    return "\n".join(lines)


def render_c(entries: Sequence[SeedEntry], table: str = "waft_ramfs_seed_table") -> str:
    """C source defining `static const waft_ramfs_seed <table>[]` and `<table>_count`."""
    out = ['#include "ramfs.h"', '#include "waft_wasi_p1.h"', ""]
    for i, e in enumerate(entries):
        if not e.is_dir and e.data:
            shown = e.path.replace("*/", "*_/")  # a name must not close the comment
            out.append(f"/* {shown} ({len(e.data)} bytes) */")
            out.append(f"static const uint8_t {table}_file{i}[] = {{\n{_c_bytes(e.data)}\n}};")
    out.append(f"static const waft_ramfs_seed {table}[] = {{")
    for i, e in enumerate(entries):
        kind = "WAFT_WASI_FILETYPE_DIRECTORY" if e.is_dir else "WAFT_WASI_FILETYPE_REGULAR_FILE"
        data = f"{table}_file{i}" if (not e.is_dir and e.data) else "NULL"
        out.append(f"    {{{c_string(e.path)}, {kind}, {data}, {len(e.data)}u, {e.mtime_ns}ull}},")
    if not entries:
        out.append("    {NULL, 0, NULL, 0, 0},")  # C has no empty arrays
    out.append("};")
    out.append(f"#define {table}_count {len(entries)}u")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m waftkit.firmware.ramfs_image FOLDER [NAME]")
    sys.stdout.write(render_c(seed_entries(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else "d0")))
