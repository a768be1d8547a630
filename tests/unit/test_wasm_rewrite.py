"""aot.wasm.rewrite.export_memory: memory 0 exported by editing the export section alone."""

from __future__ import annotations

import subprocess

import pytest

from aot.wasm.decode import decode_module
from aot.wasm.rewrite import export_memory


def wat(tmp_path, text: str) -> bytes:
    source = tmp_path / "m.wat"
    source.write_text(text)
    subprocess.run(["wat2wasm", "--enable-threads", str(source), "-o", str(tmp_path / "m.wasm")], check=True)
    return (tmp_path / "m.wasm").read_bytes()


def test_an_imported_memory_gains_its_export_and_nothing_else_changes(tmp_path):
    data = wat(tmp_path, '(module (import "env" "memory" (memory 1 1 shared)) (func (export "_start")) '
                        '(data (i32.const 8) "hi"))')
    out = export_memory(data)
    module, before = decode_module(out), decode_module(data)
    assert [(e.name, e.kind, e.index) for e in module.exports] == [("_start", "func", 0), ("memory", "memory", 0)]
    assert [i.name for i in module.imports] == [i.name for i in before.imports]
    assert [d.data for d in module.datas] == [d.data for d in before.datas]
    after_exports = data.split(b"_start\x00\x00", 1)[1]  # the code and data sections
    assert out.endswith(after_exports)  # copied byte for byte
    assert len(out) - len(data) == len(b"\x06memory\x02\x00")  # the entry; the section's size byte stays one


def test_a_module_that_exports_a_memory_is_left_alone(tmp_path):
    data = wat(tmp_path, '(module (memory (export "mem") 1) (func (export "_start")))')
    assert export_memory(data) is data


def test_no_export_section_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="no export section"):
        export_memory(wat(tmp_path, '(module (import "env" "memory" (memory 1)))'))
