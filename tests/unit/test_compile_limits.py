"""Compile resources stay bounded (issue 12): big and pathological modules compile within a stated memory
budget, and a module beyond one of Waft's limits (aot/limits.py) is refused with one error naming it.

The memory figures are measured the way bench/compile_throughput.py does
(`measure`): a fresh process compiles the module once and reports its
high-water resident memory, less what it held before compiling.  Each budget
is the figure this machine measured plus about a half; the figures at full
size (50,000 functions, a million br_table labels, 64 MiB of data) are in
bench/results/compile_scaling_host.md.  No test here asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH_DIR))

import compile_throughput  # noqa: E402
import synthetic  # noqa: E402

from aot import limits  # noqa: E402
from aot.errors import LimitError  # noqa: E402
from aot.wasm.decode import decode_module  # noqa: E402


def _compiled_within(case: str, size: int, budget_mb: float) -> dict:
    figures = compile_throughput.measure(case, size, timeout=300)
    assert "refused" not in figures, figures["refused"]
    grown = figures["peak_rss_mb"] - figures["idle_rss_mb"]
    assert grown < budget_mb, f"{case} {size:,}: {grown:.0f} MB over idle, budget {budget_mb} MB"
    return figures


def test_memory_per_function_stays_small() -> None:
    """Memory grows by tens of KB a function (it was ~145 KB: 10,000 functions took 1.5 GB)."""
    small = _compiled_within("functions", 1_000, 150)
    big = _compiled_within("functions", 4_000, 300)
    per_function_kb = (big["peak_rss_mb"] - small["peak_rss_mb"]) * 1024 / 3_000
    assert per_function_kb < 40, f"{per_function_kb:.0f} KB per function"


@pytest.mark.parametrize("case, size, budget_mb", [
    ("br_table", 300_000, 300),  # ~600 bytes a label
    ("data", 16 << 20, 420),  # ~17 bytes a byte
    ("element_entries", limits.MAX_ELEMENT_ENTRIES, 450),  # at the limit
    ("globals", 100_000, 220),
    ("data_segments", 10_000, 170),
    ("nested_blocks", limits.MAX_NESTING, 100),  # at the limit
    ("locals", limits.MAX_MODULE_LOCALS, 200),  # at the limit: 200 functions of 50,000 locals
])
def test_pathological_module_compiles_within_budget(case: str, size: int, budget_mb: float) -> None:
    _compiled_within(case, size, budget_mb)


def _section(sid: int, count: int) -> bytes:
    """A section claiming `count` items, padded with enough bytes for the count to be plausible:
    the limit is checked on the count, before any item is read."""
    return synthetic.section(sid, synthetic.uleb(count) + bytes(count))


def _many_labels() -> bytes:
    return synthetic.big_br_table(limits.MAX_BR_TABLE_LABELS + 1)


def _big_function_body() -> bytes:
    body = bytes([0x01]) * limits.MAX_FUNCTION_SIZE + bytes([synthetic.OP_END])  # nops
    return synthetic.assemble([synthetic.functype([], [])], [0], [synthetic.code_entry(body)])


def _many_params() -> bytes:
    params = synthetic.functype([synthetic.I32] * (limits.MAX_PARAMS + 1), [])
    return synthetic.HEADER + synthetic.section(1, synthetic.vec([params]))


def _many_results() -> bytes:
    results = synthetic.functype([], [synthetic.I32] * (limits.MAX_RESULTS + 1))
    return synthetic.HEADER + synthetic.section(1, synthetic.vec([results]))


def _many_entries() -> bytes:
    """Two passive segments whose entries together are one too many."""
    half = limits.MAX_ELEMENT_ENTRIES // 2
    segments = [b"\x01\x00" + synthetic.uleb(n) + bytes(n) for n in (half, limits.MAX_ELEMENT_ENTRIES - half + 1)]
    return synthetic.HEADER + synthetic.section(9, synthetic.vec(segments))


REFUSED = {
    "MAX_NESTING": lambda: synthetic.nested_blocks(limits.MAX_NESTING + 1),
    "MAX_BR_TABLE_LABELS": _many_labels,
    "MAX_DATA_BYTES": lambda: synthetic.big_data(limits.MAX_DATA_BYTES + 1, segments=1),
    "MAX_LOCALS": lambda: synthetic.many_locals(limits.MAX_LOCALS + 1),
    "MAX_MODULE_LOCALS": lambda: synthetic.declared_locals(limits.MAX_MODULE_LOCALS + limits.MAX_LOCALS),
    "MAX_FUNCTION_SIZE": _big_function_body,
    "MAX_PARAMS": _many_params,
    "MAX_RESULTS": _many_results,
    "MAX_ELEMENT_ENTRIES": _many_entries,
    "MAX_TYPES": lambda: synthetic.HEADER + _section(1, limits.MAX_TYPES + 1),
    "MAX_IMPORTS": lambda: synthetic.HEADER + _section(2, limits.MAX_IMPORTS + 1),
    "MAX_FUNCTIONS": lambda: synthetic.HEADER + _section(3, limits.MAX_FUNCTIONS + 1),
    "MAX_TABLES": lambda: synthetic.HEADER + _section(4, limits.MAX_TABLES + 1),
    "MAX_GLOBALS": lambda: synthetic.HEADER + _section(6, limits.MAX_GLOBALS + 1),
    "MAX_EXPORTS": lambda: synthetic.HEADER + _section(7, limits.MAX_EXPORTS + 1),
    "MAX_ELEMENT_SEGMENTS": lambda: synthetic.HEADER + _section(9, limits.MAX_ELEMENT_SEGMENTS + 1),
    "MAX_DATA_SEGMENTS": lambda: synthetic.HEADER + _section(11, limits.MAX_DATA_SEGMENTS + 1),
}


@pytest.mark.parametrize("limit", sorted(REFUSED))
def test_a_module_beyond_a_limit_is_refused_naming_it(limit: str) -> None:
    with pytest.raises(LimitError) as info:
        decode_module(REFUSED[limit]())
    message = str(info.value)
    assert f"{limit} in aot/limits.py" in message
    assert f"Waft's limit is {getattr(limits, limit):,}" in message
    assert info.value.section is not None  # and where: the section, the function, the offset
    assert info.value.offset is not None


def test_every_limit_has_a_refusal_test() -> None:
    names = {name for name in vars(limits) if name.startswith("MAX_")}
    assert names == set(REFUSED)


def test_the_command_line_says_it_in_one_line(tmp_path: Path) -> None:
    module = tmp_path / "deep.wasm"
    module.write_bytes(synthetic.nested_blocks(limits.MAX_NESTING + 1))
    result = subprocess.run([sys.executable, "-m", "waftkit", "compile", str(module), "-o", str(tmp_path / "deep.o")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"waft: error: {module}: module too large: too many blocks, loops and ifs nested: 10,001 "
        "(Waft's limit is 10,000: MAX_NESTING in aot/limits.py) (code section, function 0, offset 0x4e44)"]
    assert not (tmp_path / "deep.o").exists()
