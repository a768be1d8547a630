"""The official spec suite on the host: every script compiled by Waft, run natively, no failures.

One test per .wast file (so `pytest -n auto` spreads them); each runs exactly
what `waft spectest FILE --target host` runs.  simd_* files are skipped:
SIMD is not supported yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "wasm-spec-testsuite"

PROPOSALS = ("tail-call", "extended-const", "threads")


def _scripts() -> list[Path]:
    if not SUITE.is_dir():
        return []
    files = sorted(SUITE.glob("*.wast"))
    for proposal in PROPOSALS:
        files += sorted((SUITE / "proposals" / proposal).glob("*.wast"))
    return files


def _id(path: Path) -> str:
    rel = path.relative_to(SUITE)
    return str(rel.with_suffix(""))


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"spec suite not found at {SUITE}")
@pytest.mark.parametrize("path", _scripts() or [None], ids=_id if _scripts() else None)
def test_spec_script_on_host(path: Path, spec_run) -> None:
    if path.name.startswith("simd_"):
        pytest.skip("SIMD is not supported yet")
    spec_run(path, "host")
