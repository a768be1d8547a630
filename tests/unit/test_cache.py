"""The build cache: its key covers Waft's own inputs (board descriptions included), and it is pruned."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import waftkit.cache as cache
from aot.package_data import RUNTIME_DIR, TARGETS_DIR


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of targets/ and runtime_c/ that the digest reads instead of the shipped ones."""
    shutil.copytree(TARGETS_DIR, tmp_path / "targets")
    shutil.copytree(RUNTIME_DIR, tmp_path / "runtime_c")
    monkeypatch.setattr(cache, "TARGETS_DIR", tmp_path / "targets")
    monkeypatch.setattr(cache, "RUNTIME_DIR", tmp_path / "runtime_c")
    cache.inputs_digest.cache_clear()
    yield tmp_path
    cache.inputs_digest.cache_clear()


@pytest.mark.parametrize("changed", ["targets/stm32f4/target.toml", "targets/stm32f4/link.ld",
                                     "targets/common/cortex-m/startup.c", "runtime_c/src/trap.c",
                                     "runtime_c/wasi_p1/include/waft_wasi.h"])
def test_a_changed_board_or_runtime_file_changes_the_key(data_copy: Path, changed: str):
    before = cache.inputs_digest()
    with (data_copy / changed).open("a") as f:
        f.write("\n/* changed */\n" if not changed.endswith(".toml") else "\n# changed\n")
    cache.inputs_digest.cache_clear()
    assert cache.inputs_digest() != before


def _entry(root: Path, name: str, size: int, age: float) -> Path:
    entry = root / "modules" / "stm32f4" / name
    entry.mkdir(parents=True)
    (entry / "prog.o").write_bytes(b"x" * size)
    stamp = time.time() - age
    os.utime(entry, (stamp, stamp))
    return entry


def test_prune_drops_the_least_recently_used_entries_first(tmp_path: Path):
    old = _entry(tmp_path, "old", 4000, age=3000)
    middle = _entry(tmp_path, "middle", 4000, age=2000)
    recent = _entry(tmp_path, "recent", 4000, age=1000)
    assert cache.prune(tmp_path, budget=9000) == [old]
    assert not old.exists() and middle.exists() and recent.exists()
    cache.touch(middle)  # used again: now the most recent
    assert cache.prune(tmp_path, budget=5000) == [recent]
    assert middle.exists()


def test_prune_spares_entries_in_use_even_over_budget(tmp_path: Path):
    fresh = _entry(tmp_path, "fresh", 4000, age=5)
    assert cache.prune(tmp_path, budget=0) == []
    assert fresh.exists()


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WAFT_CACHE_MAX_MB", "64")
    assert cache.max_bytes() == 64 << 20
    monkeypatch.delenv("WAFT_CACHE_MAX_MB")
    assert cache.max_bytes() == cache.DEFAULT_MAX_BYTES
