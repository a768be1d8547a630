"""wast2json output that is not valid JSON: wabt 1.0.32's missing comma is repaired, anything else is one clear error.

Issue 12: `waft spectest` died with a Python traceback ("internal error:
Expecting ',' delimiter") on an `assert_trap` of a multi-result function,
because wabt 1.0.32 writes `[{"type": "i32"}{"type": "i64"}]`.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
from pathlib import Path

import pytest

from waftkit.testing.spectest import run_spectest
from waftkit.testing.spectest.wast import WastError, load_script
from waftkit.testing.spectest.wast2json_output import (
    UnreadableOutput,
    insert_missing_commas,
    read_wast2json_output,
)

needs_wabt = pytest.mark.skipif(shutil.which("wast2json") is None, reason="wast2json (wabt) not installed")

MULTI_RESULT_TRAP = """\
(module (func (export "f") (result i32 i64) unreachable))
(assert_trap (invoke "f") "unreachable")
"""

# What wabt 1.0.32 writes for MULTI_RESULT_TRAP's second command.
BROKEN = ('{"source_filename": "mr.wast",\n "commands": [\n'
          '  {"type": "module", "line": 1, "filename": "mr.0.wasm"}, \n'
          '  {"type": "assert_trap", "line": 2, "action": {"type": "invoke", "field": "f", "args": []}, '
          '"text": "unreachable", "expected": [{"type": "i32"}{"type": "i64"}]}]}\n')


def test_the_missing_comma_between_result_types_is_put_back(tmp_path: Path) -> None:
    path = tmp_path / "mr.json"
    path.write_text(BROKEN)
    data = read_wast2json_output(path)
    assert data["commands"][1]["expected"] == [{"type": "i32"}, {"type": "i64"}]


def test_braces_inside_strings_are_left_alone() -> None:
    text = '{"field": "}{", "text": "a \\"}{\\" b", "x": [{}  {}]}'
    assert json.loads(insert_missing_commas(text)) == {"field": "}{", "text": 'a "}{" b', "x": [{}, {}]}


def test_valid_json_is_unchanged() -> None:
    text = '{"commands": [{"type": "module", "args": [{"type": "i32", "value": "1"}, {"type": "f32"}]}]}'
    assert insert_missing_commas(text) == text


@pytest.mark.parametrize("content, message", [
    ('{"commands": [{"type": "module", "line": 1', "is not valid JSON: Expecting ',' delimiter at line 1"),
    ('{"commands": [1 2]}', "is not valid JSON: Expecting ',' delimiter at line 1, column 17"),
    ('{"source_filename": "x.wast"}', "has no list of commands"),
    (b'{"commands": []}\xff', "is not UTF-8 (byte 16)"),
])
def test_other_damage_is_refused_naming_the_file(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UnreadableOutput) as info:
        read_wast2json_output(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def _fake_wast2json(bin_dir: Path, output: str) -> None:
    """A `wast2json` on PATH that writes `output` to the file named by -o."""
    bin_dir.mkdir()
    tool = bin_dir / "wast2json"
    tool.write_text("#!/bin/sh\nwhile [ \"$1\" != -o ]; do shift; done\n"
                    f"cat > \"$2\" <<'EOF'\n{output}\nEOF\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)


def test_unreadable_output_is_a_wast_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_wast2json(tmp_path / "bin", '{"commands": [{"type": "module", "line": "one"}]}')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"), prepend=":")
    script = tmp_path / "bad.wast"
    script.write_text("(module)\n")
    with pytest.raises(WastError, match=r"wast2json's output for bad\.wast has a command that cannot be read "
                                        r"\(ValueError: .*\): \{\"type\": \"module\", \"line\": \"one\"\}"):
        load_script(script, tmp_path / "work")


def test_spectest_reports_unreadable_output_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_wast2json(tmp_path / "bin", '{"commands": [{"type": "module", "line": 1}')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"), prepend=":")
    script = tmp_path / "bad.wast"
    script.write_text("(module)\n")
    out = io.StringIO()
    assert run_spectest([script], "host", jobs=1, out=out) == 1
    text = out.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text
    assert text.splitlines()[1].startswith("bad.wast:0: script: wast2json's output for bad.wast cannot be read: ")
    assert "bad.json is not valid JSON: Expecting ',' delimiter at line 2, column 1" in text
    assert text.splitlines()[-1] == "0 passed, 1 failed"


@needs_wabt
def test_assert_trap_on_a_multi_result_function_passes(tmp_path: Path) -> None:
    script = tmp_path / "mr.wast"
    script.write_text(MULTI_RESULT_TRAP)
    out = io.StringIO()
    status = run_spectest([script], "host", jobs=1, out=out)
    assert status == 0, out.getvalue()
    assert out.getvalue().splitlines()[-1] == "2 passed, 0 failed"
