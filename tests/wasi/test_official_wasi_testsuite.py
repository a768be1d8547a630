"""The official WASI test suite, run by its own runner against `waft run`, from outside the project.

The suite (github.com/WebAssembly/wasi-testsuite: prebuilt tests under
tests/<language>/testsuite/, its runner in test-runner/) sits beside this
repository at ../shared/wasi-testsuite (or $WASI_TESTSUITE); without it each
test is skipped, saying where it looked.  Its runner drives
tests/wasi/wasi_testsuite_adapter.py on every target with WASI:

- host: all 72 tests must pass;
- mps2-an386 and riscv32-virt under QEMU (boards with room for wasi-libc's and
  Rust's default memories; riscv32-virt only with WAFT_FULL_SUITE=1, since
  compiling the 72 programs for one more target costs the CI run about four
  minutes of its thirty): every test passes, or is listed in
  tests/wasi/expectations/<target>.toml — the runner's own expectation format,
  each entry with its reason, reviewed in docs/wasi.md — as expected to fail.
  An expected failure that passes fails this test, so the file cannot go stale;
- stm32f4 under QEMU (128 KiB of RAM): every test whose linear memory fits the
  board runs and must pass; the others are listed with the memory they need,
  and skipped by an expectation file generated here with those figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from aot.wasm.decode import decode_module

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ADAPTER = HERE / "wasi_testsuite_adapter.py"
EXPECTATIONS = HERE / "expectations"
DEFAULT_LOCATION = REPO.parent / "shared" / "wasi-testsuite"


def suite_root() -> Path:
    root = Path(os.environ.get("WASI_TESTSUITE", DEFAULT_LOCATION))
    if not (root / "test-runner").is_dir():
        pytest.skip(f"the official wasi-testsuite is not at {root} (a checkout of "
                    "github.com/WebAssembly/wasi-testsuite; or set $WASI_TESTSUITE)")
    return root


def p1_test_folders(root: Path) -> list[Path]:
    """Folders of WASI p1 tests: tests/*/testsuite/wasm32-wasip1 (current layout) or tests/*/testsuite (older)."""
    folders = sorted(root.glob("tests/*/testsuite/wasm32-wasip1"))
    if not folders:
        folders = [f for f in sorted(root.glob("tests/*/testsuite")) if any(f.glob("*.wasm"))]
    if not folders:
        pytest.fail(f"{root} has no prebuilt WASI p1 tests (tests/*/testsuite/): check out its "
                    "prod/testsuite-base branch, which carries the built .wasm files")
    return folders


def suite_name(folder: Path) -> str:
    """The name the runner knows a folder's tests by (its manifest's), as expectation files use it."""
    manifest = folder / "manifest.json"
    return json.loads(manifest.read_text())["name"] if manifest.is_file() else folder.name


def too_big_for(target_name: str, folders: list[Path]) -> dict[str, list[tuple[str, int]]]:
    """Suite name -> [(test, bytes of initial linear memory)] for tests whose memory alone exceeds the board's RAM.

    A lower bound on what the instance needs, so a test listed here can never
    run on the board; `waft run` refuses it with the same figures.
    """
    ram = load_target(target_name).ram
    refused: dict[str, list[tuple[str, int]]] = {}
    for folder in folders:
        for wasm in sorted(folder.glob("*.wasm")):
            module = decode_module(wasm.read_bytes())
            memory = sum(m.limits.min << m.limits.page_size_log2 for m in module.all_memories())
            if ram is not None and memory >= ram.length:
                refused.setdefault(suite_name(folder), []).append((wasm.stem, memory))
    return refused


def expectation_file(refused: dict[str, list[tuple[str, int]]], ram: int, path: Path) -> Path:
    """An expectation file (the runner's TOML format) that skips `refused`, each with its figures."""
    lines = ["version = 1", ""]
    for suite, tests in sorted(refused.items()):
        lines += ["[[suite]]", f"name = {json.dumps(suite)}", ""]
        for test, memory in tests:
            lines += [f"# needs {memory:,} bytes of linear memory; the board has {ram:,} bytes of RAM",
                      "[[suite.test]]", f"name = {json.dumps(test)}", 'action = "skip"', ""]
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("target_name", [
    "host",
    pytest.param("mps2-an386", marks=pytest.mark.qemu),
    pytest.param("riscv32-virt", marks=[pytest.mark.qemu, pytest.mark.skipif(
        os.environ.get("WAFT_FULL_SUITE") != "1",
        reason="riscv32-virt's run of the official suite is opt-in: WAFT_FULL_SUITE=1 (about 440 s cold)")]),
    pytest.param("stm32f4", marks=pytest.mark.qemu),
])
def test_official_suite_passes(target_name: str, tmp_path: Path) -> None:
    root = suite_root()
    folders = p1_test_folders(root)
    expectations = [EXPECTATIONS / f"{target_name}.toml"] if (EXPECTATIONS / f"{target_name}.toml").is_file() else []
    refused = too_big_for(target_name, folders)
    if refused:
        ram = load_target(target_name).ram.length
        expectations.append(expectation_file(refused, ram, tmp_path / "refused-for-ram.toml"))
        listing = "; ".join(f"{t} ({m:,} bytes)" for tests in refused.values() for t, m in tests)
        print(f"{target_name}: {sum(map(len, refused.values()))} tests refused for RAM "
              f"({ram:,} bytes on the board): {listing}")
    # The tests write scratch files into their preopened folders (fs-tests.dir): run a private
    # copy, so the shared suite stays untouched and parallel runs cannot collide.
    copies = [shutil.copytree(folder, tmp_path / folder.relative_to(root)) for folder in folders]
    report = tmp_path / "results.json"
    command = [sys.executable, str(root / "test-runner" / "wasi_test_runner.py"),
               "-t", *map(str, copies), "-r", str(ADAPTER),
               "--json-output-location", str(report), "--disable-colors"]
    if expectations:
        command += ["-e", *map(str, expectations)]
    env = {**os.environ, "WAFT_TARGET": target_name, "WAFT_PYTHON": sys.executable, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, timeout=3600)
    assert report.is_file(), f"the runner wrote no results:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    suites = json.loads(report.read_text())["results"]
    outcomes = {f"{s['name']}: {t['name']}": t["outcome"] for s in suites for t in s["tests"]}
    failed = sorted(name for name, outcome in outcomes.items() if outcome == "fail")
    unexpectedly_passed = sorted(name for name, outcome in outcomes.items() if outcome == "xpass")
    assert not failed and result.returncode == 0, (
        f"the official wasi-testsuite failed on {target_name}: {failed}\n{result.stdout[-8000:]}")
    assert not unexpectedly_passed, (f"expected to fail on {target_name} but passed: remove them from "
                                     f"tests/wasi/expectations/{target_name}.toml: {unexpectedly_passed}")
    skipped = sum(1 for o in outcomes.values() if o == "skip")
    assert len(outcomes) == 72 and skipped == sum(map(len, refused.values())), outcomes
