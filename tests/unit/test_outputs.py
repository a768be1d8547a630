"""aot/outputs.py: outputs appear whole or not at all, readable by the build team."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aot.outputs import write_all, write_file


def test_a_file_gets_the_mode_of_any_compiler_output(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_file(tmp_path / "sub" / "out.wasm", b"\0asm")
    finally:
        os.umask(old)
    out = tmp_path / "sub" / "out.wasm"
    assert out.read_bytes() == b"\0asm"
    assert out.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_a_failed_write_leaves_neither_outputs_nor_temporaries(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the second output's folder should be")
    with pytest.raises(OSError):
        write_all([(tmp_path / "a.o", b"object"), (tmp_path / "blocked" / "a.h", b"header")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked"]  # the first output was not renamed in
