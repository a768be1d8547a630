"""`waft spectest`: run WebAssembly spec scripts (.wast) against Waft's compiled code.

`run_spectest` is the one entry point (the CLI and tests/spec/ both call it):
it runs the scripts in parallel (files on threads, module compilation in a
process pool), prints one progress line per file and every failure as
`FILE:LINE: <command>: <what went wrong>`, and ends with the line
`N passed, M failed[, K skipped]` and the skip reasons grouped.

Build folders live in <cache>/spectest/<target>/<script>.<random>/ (the
cache folder of waftkit.cache: $WAFT_CACHE_DIR, else ~/.cache/waft) and are
removed when the script passes (set WAFT_SPECTEST_KEEP=1 to keep them all).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
from collections import Counter
from concurrent.futures import (
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from pathlib import Path
from typing import TextIO

from aot.targets import load_target
from waftkit.cache import cache_dir
from waftkit.runners.base import default_runner_name, get_runner
from waftkit.testing.spectest.runner import (
    PROGRAM_TIMEOUTS,
    SIMD_REASON,
    FileResult,
    Outcome,
    ScriptRun,
    describe,
)
from waftkit.testing.spectest.wast import WastError

MAX_FAILURES_PER_FILE = 50  # more than this are counted, and listed in the log only

__all__ = ["run_spectest"]


def _script_dir_name(path: Path) -> str:
    """A build folder name unique across the suite (proposals reuse file names)."""
    resolved = path.resolve()
    parts = resolved.parts
    if "proposals" in parts:
        i = parts.index("proposals")
        return "-".join(parts[i + 1:-1] + (resolved.stem,))
    return resolved.stem


def _runtime_library(target, build_dir: Path) -> Path:
    from waftkit.firmware.runtime import runtime_library

    return Path(runtime_library(target, build_dir))


def run_spectest(paths: list[Path], target_name: str, *, jobs: int, opt: str = "2",
                 verbose: bool = False, out: TextIO = sys.stdout, runner: str | None = None,
                 probe: str | None = None) -> int:
    """Run the scripts on `target_name`; returns 0 iff nothing failed.

    Board images boot under QEMU (`runner="qemu"`, the default) or through
    pyOCD (`runner="pyocd"`, on the probe `probe`, or the target's emulated
    board); host programs run natively.
    """
    target = load_target(target_name)
    name = default_runner_name(target, probe, runner)
    program_runner = get_runner(target, name, probe=probe, timeout=PROGRAM_TIMEOUTS[name])
    root = cache_dir() / "spectest" / target.name
    root.mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs)
    total = len(paths)
    results: list[FileResult] = []
    lock = threading.Lock()
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool, \
            ThreadPoolExecutor(max_workers=jobs) as threads:
        runtime: Future = threads.submit(_runtime_library, target, cache_dir())

        def one(path: Path) -> FileResult:
            # A fresh folder per run: pytest workers and a CLI run may share build/.
            build_dir = Path(tempfile.mkdtemp(prefix=_script_dir_name(path) + ".", dir=root))
            try:
                result = ScriptRun(path, target, pool, opt, build_dir, runtime, program_runner).run()
            except WastError as exc:
                result = _file_error(path, str(exc))
            except Exception as exc:  # a harness bug must not hide the other files' results
                import traceback

                result = _file_error(path, f"internal error: {exc}\n{traceback.format_exc()}")
            if result.count("fail") == 0 and not os.environ.get("WAFT_SPECTEST_KEEP"):
                shutil.rmtree(build_dir, ignore_errors=True)  # kept only to debug failures
            return result

        futures = {threads.submit(one, p): p for p in paths}
        done = 0
        for fut in as_completed(futures):
            result = fut.result()
            with lock:
                done += 1
                results.append(result)
                _print_file(result, done, total, verbose, out)
    return _summary(results, out)


def _file_error(path: Path, message: str) -> FileResult:
    from waftkit.testing.spectest.wast import Command

    result = FileResult(path)
    result.outcomes.append(Outcome(Command("script", path.name, 0), "fail", message))
    return result


def _print_file(result: FileResult, done: int, total: int, verbose: bool, out: TextIO) -> None:
    passed, failed, skipped = (result.count(s) for s in ("pass", "fail", "skip"))
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{failed} failed")
    if skipped:
        parts.append(f"{skipped} skipped")
    width = len(str(total))
    print(f"[{done:>{width}}/{total}] {result.path.name} ... {', '.join(parts)}", file=out)
    shown = 0
    for o in result.outcomes:
        if o.status == "fail":
            shown += 1
            if shown <= MAX_FAILURES_PER_FILE or verbose:
                print(f"{o.cmd.where}: {describe(o.cmd)}: {o.message}", file=out)
        elif verbose:
            note = f" ({o.message})" if o.message else ""
            print(f"{o.cmd.where}: {describe(o.cmd)}: {o.status}{note}", file=out)
    if shown > MAX_FAILURES_PER_FILE and not verbose:
        print(f"{result.path.name}: ... and {shown - MAX_FAILURES_PER_FILE} more failures "
              f"(use --verbose to see them all)", file=out)
    out.flush()


def _summary(results: list[FileResult], out: TextIO) -> int:
    passed = sum(r.count("pass") for r in results)
    failed = sum(r.count("fail") for r in results)
    skipped = sum(r.count("skip") for r in results)
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line, file=out)
    if skipped:
        # Whole files skipped for one reason are grouped by file-name pattern.
        simd_files = [r for r in results if r.skip_file_reason == SIMD_REASON]
        if simd_files:
            n = sum(r.count("skip") for r in simd_files)
            files_text = f"{len(simd_files)} file{'s' if len(simd_files) != 1 else ''}"
            print(f"  simd_*.wast: {SIMD_REASON} ({files_text}, {n} commands)", file=out)
        reasons: Counter[str] = Counter()
        files: dict[str, set[str]] = {}
        for r in results:
            if r.skip_file_reason == SIMD_REASON:
                continue
            for o in r.outcomes:
                if o.status == "skip":
                    key = _reason_key(o.message)
                    reasons[key] += 1
                    files.setdefault(key, set()).add(r.path.name)
        for reason, count in reasons.most_common():
            names = sorted(files[reason])
            where = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            print(f"  {where}: {reason} ({count})", file=out)
    out.flush()
    return 0 if failed == 0 else 1


def _reason_key(message: str) -> str:
    """Group skip reasons that differ only by the line they name."""
    return re.sub(r"at line \d+", "at line N", message)
