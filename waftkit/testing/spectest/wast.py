"""Read a `.wast` spec script: run `wast2json` and turn its JSON into typed commands.

`wast2json` does the text parsing (and writes every module as a `.wasm`
binary); this module only gives its commands Python types, each with the
script's file name and line so every report can point at the source.  Output
that cannot be read (wabt 1.0.32 writes invalid JSON for some scripts, see
`wast2json_output.py`) is a `WastError` naming the script, never a traceback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from waftkit.testing.spectest.values import Value, parse_value
from waftkit.testing.spectest.wast2json_output import UnreadableOutput, read_wast2json_output

# wabt names for the proposals the suite keeps in proposals/<name>/.
_PROPOSAL_FLAGS = {
    "tail-call": "--enable-tail-call",
    "extended-const": "--enable-extended-const",
    "multi-memory": "--enable-multi-memory",
    "threads": "--enable-threads",
    "memory64": "--enable-memory64",
}


class WastError(Exception):
    """wast2json could not convert a script (a tool problem, not a test result)."""


@dataclass(frozen=True)
class Action:
    kind: str  # "invoke" | "get"
    module: str | None  # the `$name` of a module, or None for the latest one
    field: str
    args: tuple[Value, ...] = ()


@dataclass
class Command:
    """One command of a script.

    `kind` is the wast2json command type: module, register, action,
    assert_return, assert_trap, assert_exhaustion, assert_invalid,
    assert_malformed, assert_unlinkable, assert_uninstantiable.
    """

    kind: str
    file: str
    line: int
    name: str | None = None  # module: its `$name`; register: the module registered
    as_name: str | None = None  # register: the import module name it becomes
    wasm: Path | None = None  # module and module assertions: the binary
    module_type: str = "binary"  # "binary" | "text" for assert_invalid/malformed/...
    action: Action | None = None
    expected: tuple[tuple[Value, ...], ...] = ()  # alternatives (either); usually one
    text: str = ""  # the expected failure message

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Script:
    path: Path
    commands: list[Command] = field(default_factory=list)


def wast2json_flags(path: Path) -> list[str]:
    """Feature flags for a script: proposals/<name>/x.wast gets --enable-<name>."""
    parts = path.resolve().parts
    if "proposals" in parts:
        i = parts.index("proposals")
        if i + 1 < len(parts) and parts[i + 1] in _PROPOSAL_FLAGS:
            return [_PROPOSAL_FLAGS[parts[i + 1]]]
    return []


def load_script(path: Path, workdir: Path) -> Script:
    """Convert `path` with wast2json into `workdir` and return its commands."""
    exe = shutil.which("wast2json")
    if exe is None:
        raise WastError("wast2json not found (install wabt)")
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / (path.stem + ".json")
    proc = subprocess.run([exe, *wast2json_flags(path), str(path), "-o", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["(no message)"])[0]
        raise WastError(f"wast2json failed: {first}")
    try:
        data = read_wast2json_output(out)
    except UnreadableOutput as exc:
        raise WastError(f"wast2json's output for {path.name} cannot be read: {exc}") from None
    script = Script(path=path)
    for raw in data["commands"]:
        try:
            script.commands.append(_command(raw, path.name, workdir))
        except (KeyError, TypeError, ValueError) as exc:
            raise WastError(f"wast2json's output for {path.name} has a command that cannot be read "
                            f"({type(exc).__name__}: {exc}): {json.dumps(raw)[:200]}") from None
    return script


def _action(raw: dict) -> Action:
    return Action(
        kind=raw["type"],
        module=raw.get("module"),
        field=raw["field"],
        args=tuple(parse_value(a) for a in raw.get("args", ())),
    )


def _command(raw: dict, file: str, workdir: Path) -> Command:
    kind = raw["type"]
    cmd = Command(kind=kind, file=file, line=int(raw["line"]))
    cmd.name = raw.get("name")
    cmd.as_name = raw.get("as")
    if "filename" in raw:
        cmd.wasm = workdir / raw["filename"]
    cmd.module_type = raw.get("module_type", "binary")
    if "action" in raw:
        cmd.action = _action(raw["action"])
    if "expected" in raw:
        expected = raw["expected"]
        # The spec's `(either v1 v2)` reaches JSON as one expected entry of
        # type "either" holding the alternatives; otherwise a plain result list.
        if len(expected) == 1 and expected[0].get("type") == "either":
            cmd.expected = tuple((parse_value(v),) for v in expected[0]["values"])
        else:
            cmd.expected = (tuple(parse_value(v) for v in expected),)
    cmd.text = raw.get("text", "")
    return cmd
