"""Bad components: truncated, mutated, not a component at all.  Always the project's error, never another exception.

`wasm-tools mutate` (wasm-mutate) refuses components ("Unsupported: section"),
so the fuzz loop here mutates bytes itself: a fixed-seed `random.Random`
flips, inserts, deletes and duplicates bytes, so every failure replays.  Each
mutant goes through the whole path `waft unwrap` takes (decode, instantiate,
recover, validate); the only acceptable outcomes are a result or an
`AotError`.  Then the CLI: one line on stderr, exit status 1, no output file.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from aot.component import unwrap_component
from aot.errors import AotError
from component_helpers import KITCHEN_WAT, REPO, p1_suite_programs, parse_wat, wrap


def _survives(data: bytes, adapter_recovery: bool = True) -> None:
    try:
        unwrap_component(data, adapter_recovery=adapter_recovery)
    except AotError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)


def _adapter_built() -> bytes:
    program = next(p for p in p1_suite_programs() if p.name == "fd_write-to-invalid-fd.wasm")
    return wrap(program).read_bytes()


def _section_ends(data: bytes) -> set[int]:
    """Offsets where a top-level section ends: a component cut there is a shorter well-formed component."""
    from aot.wasm.decode import _read_u32

    ends, pos = set(), 8
    while pos < len(data):
        size, payload = _read_u32(data, pos + 1, len(data))
        pos = payload + size
        ends.add(pos)
    return ends


def test_every_truncation_of_a_small_component() -> None:
    data = parse_wat(KITCHEN_WAT, "kitchen.wasm").read_bytes()
    whole_sections = _section_ends(data)
    for length in range(len(data)):
        if length in whole_sections:
            _survives(data[:length])
        else:
            with pytest.raises(AotError):
                unwrap_component(data[:length])


def test_truncations_of_an_adapter_built_component() -> None:
    """Cut inside a section: malformed.  Cut at a section's end: a shorter component, which path (b) may
    unwrap (e.g. one without its wasi:cli/run export) or refuse in one line."""
    data = _adapter_built()
    whole_sections = _section_ends(data)
    for length in sorted(set(range(0, len(data), max(1, len(data) // 300))) | whole_sections):
        if length in whole_sections:
            _survives(data[:length])
        else:
            with pytest.raises(AotError):
                unwrap_component(data[:length])


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(8, len(out))  # keep the preamble: past it is where decoding is interesting
        action = rng.randrange(4)
        if action == 0:
            out[at] = rng.randrange(256)
        elif action == 1:
            out.insert(at, rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFF, rng.randrange(256)]))
        elif action == 2:
            del out[at]
        else:
            out[at:at] = out[at:at + rng.randint(1, 8)]
    return bytes(out)


@pytest.mark.parametrize("source", ["kitchen", "adapter-built"])
def test_mutated_components_never_crash(source: str) -> None:
    data = parse_wat(KITCHEN_WAT, "kitchen.wasm").read_bytes() if source == "kitchen" else _adapter_built()
    rng = random.Random(16)  # issue 16: fixed, so a failure replays
    for _ in range(300 if source == "kitchen" else 120):
        _survives(_mutate(data, rng))


def test_mutated_components_never_crash_path_b() -> None:
    """The same mutations through path (b) (fusion, renumbering, generated code) instead of recovery."""
    data = _adapter_built()
    rng = random.Random(1616)
    for _ in range(60):
        _survives(_mutate(data, rng), adapter_recovery=False)


def _waft(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("make, message", [
    (lambda d: d[:len(d) // 2], "malformed component"),
    (lambda d: b"\0asm\x0c\0\x01\0", "component binary version 0x0c00 is not supported"),
    (lambda d: b"not wasm at all", "neither a component nor a core module"),
])
def test_cli_gives_one_line_and_writes_nothing(tmp_path: Path, make, message: str) -> None:
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(make(_adapter_built()))
    result = _waft("unwrap", bad, "-o", tmp_path / "out.wasm", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("waft: error: ") and message in result.stderr
    assert not (tmp_path / "out.wasm").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.wasm"]


def test_cli_refuses_a_core_module(tmp_path: Path) -> None:
    program = p1_suite_programs()[0]
    result = _waft("unwrap", program, "-o", tmp_path / "out.wasm", cwd=tmp_path)
    assert result.returncode == 1 and "already a core module" in result.stderr
    assert not (tmp_path / "out.wasm").exists()


def test_cli_refuses_a_preview3_component(tmp_path: Path) -> None:
    path = parse_wat("(component (type (stream u8)))", "p3-stream-types.wasm")
    result = _waft("unwrap", path, "-o", tmp_path / "out.wasm", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "unsupported component: stream types (preview 3) are not supported" in result.stderr


def test_cli_refuses_a_component_that_needs_path_b(tmp_path: Path) -> None:
    """A component made straight from WIT (no p1 module inside) cannot be recovered; it says what would do it."""
    from component_helpers import embed_and_wrap

    path = embed_and_wrap(Path(__file__).parent / "data" / "kitchen", "kitchen", "kitchen-world.wasm")
    result = _waft("unwrap", path, "-o", tmp_path / "out.wasm", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot unwrap" in result.stderr and "path (b)" in result.stderr
