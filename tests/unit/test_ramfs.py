"""The bare-metal RAM filesystem on the host: its packed pool against a model,
and the build-time seed (waftkit.firmware.ramfs_image) it is mounted from.

ramfs.c is plain C with no board in it, so the host compiler runs it here in
milliseconds; the same code runs on the boards in tests/wasi/test_wasi_cortexm.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.errors import AotError
from waftkit import wasi
from waftkit.firmware.ramfs_image import render_c, seed_entries
from waftkit.firmware.runtime import INCLUDE_DIR

HERE = Path(__file__).resolve().parent


def _compile(tmp_path: Path, *sources: Path) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")
    exe = tmp_path / "model"
    subprocess.run(["cc", "-O1", "-std=c11", "-Wall", "-Werror", f"-I{wasi.WASI_DIR}", f"-I{wasi.INCLUDE_DIR}",
                    f"-I{INCLUDE_DIR}", *map(str, sources), wasi.WASI_DIR / "ramfs.c", "-o", exe],
                   check=True, capture_output=True, text=True)
    return exe


def test_pool_stays_packed_and_contents_intact(tmp_path: Path) -> None:
    """20,000 random writes, truncations and extensions over six files, one seeded (copy-on-write)."""
    exe = _compile(tmp_path, HERE / "c" / "ramfs_model.c")
    result = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    assert result.stdout == "ok\n" and result.returncode == 0, result.stdout + result.stderr


def test_seed_is_sorted_parents_first_and_mounts(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "b" / "c").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha")
    (folder / "b" / "c" / "deep.bin").write_bytes(bytes(range(40)))
    (folder / "b" / "empty").write_bytes(b"")
    entries = seed_entries(folder, "d0")
    assert [e.path for e in entries] == ["d0", "d0/a.txt", "d0/b", "d0/b/c", "d0/b/c/deep.bin", "d0/b/empty"]
    # The generated table mounts, and the files read back from "flash".
    driver = tmp_path / "mount.c"
    driver.write_text(render_c(entries) + r'''
#include <stdio.h>
int main(void) {
    static waft_ramfs_node nodes[16];
    static uint8_t pool[64];
    if (waft_ramfs_mount(nodes, 16, pool, sizeof pool, waft_ramfs_seed_table, waft_ramfs_seed_table_count, 0)) return 1;
    uint16_t n;
    uint8_t buf[64];
    size_t got;
    if (waft_ramfs_find("d0/b/c/deep.bin", &n) || waft_ramfs_read(n, 0, buf, sizeof buf, &got)) return 1;
    printf("%zu %u %u used %u\n", got, buf[1], buf[39], waft_ramfs_used());
    return 0;
}
''')
    result = subprocess.run([_compile(tmp_path, driver)], capture_output=True, text=True, timeout=60)
    assert result.stdout == "40 1 39 used 0\n"


def test_seed_refuses_what_the_filesystem_cannot_hold(tmp_path: Path) -> None:
    (tmp_path / "x" / ("n" * 32)).mkdir(parents=True)
    with pytest.raises(AotError, match="longer than"):
        seed_entries(tmp_path / "x", "d0")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "link").symlink_to("/etc/passwd")
    with pytest.raises(AotError, match="symbolic link"):
        seed_entries(tmp_path / "y", "d0")
