"""Read the JSON file `wast2json` writes, repairing the one defect of wabt 1.0.32 that is known and unambiguous.

wabt 1.0.32 (Debian's) leaves out the comma between the result types of an
`assert_trap` or `assert_exhaustion` on a function with several results:

    (module (func (export "f") (result i32 i64) unreachable))
    (assert_trap (invoke "f") "unreachable")

becomes `"expected": [{"type": "i32"}{"type": "i64"}]`.  Two objects side by
side (`}` then `{`, outside a string) are never valid JSON and can only mean
a missing comma, so the comma is put back.  Anything else that does not
parse is refused with one error naming the file and the place, rather than
guessed at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# A JSON string (so that braces inside names and messages are left alone), or two
# objects with nothing but white space between them.
_STRING_OR_ADJACENT_OBJECTS = re.compile(r'"(?:[^"\\]|\\.)*"|\}(\s*)\{')


class UnreadableOutput(Exception):
    """The JSON wast2json wrote cannot be read, even after the known repair."""


def read_wast2json_output(path: Path) -> dict:
    """The parsed JSON of a wast2json output file; raises UnreadableOutput with the file and the place."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableOutput(f"{path} is not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as first:
        repaired = insert_missing_commas(text)
        try:
            data = json.loads(repaired)
        except json.JSONDecodeError:
            raise UnreadableOutput(f"{path} is not valid JSON: {first.msg} at line {first.lineno}, "
                                   f"column {first.colno}") from None
    if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
        raise UnreadableOutput(f"{path} has no list of commands")
    return data


def insert_missing_commas(text: str) -> str:
    """`text` with a comma between every two JSON objects that stand side by side outside a string."""

    def fix(match: re.Match) -> str:
        if match.group(0).startswith('"'):
            return match.group(0)
        return "}," + match.group(1) + "{"

    return _STRING_OR_ADJACENT_OBJECTS.sub(fix, text)
