"""WAFT_JOBS: a module compiled in partitions by several processes from SCons, no rebuild when only it changes, and
the partition cache reused after a one-function change.

The counter module is split ($WAFT_PARTITION_BYTES) so the partitioned compile
runs inside the SCons action; the firmware must still pass its test.  The job
count is not in the action's varlist: it cannot change the object (the
partitioned compile gives the same bytes for any count), so changing it must
not rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_scons_builds import SCONS, SCONSTRUCT, commands, project  # noqa: F401 -- the fixture

JOBS_SCONSTRUCT = SCONSTRUCT.replace('WAFT_OPT=ARGUMENTS.get("OPT", "2"),',
                                     'WAFT_OPT=ARGUMENTS.get("OPT", "2"), WAFT_JOBS=ARGUMENTS.get("JOBS", "1"),')


def scons_split(project: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "WAFT_PARTITION_BYTES": "8"})
    assert proc.returncode == 0, f"scons {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_waft_jobs_compiles_in_partitions_and_changing_it_rebuilds_nothing(project: Path,  # noqa: F811
                                                                            monkeypatch) -> None:
    if shutil.which("ld.lld") is None or shutil.which("llvm-objcopy") is None:
        pytest.skip("ld.lld and llvm-objcopy combine the partitions")
    assert JOBS_SCONSTRUCT != SCONSTRUCT
    (project / "SConstruct").write_text(JOBS_SCONSTRUCT)
    assert "PASS app" in scons_split(project, "test", "JOBS=2").stdout
    # The object is the partitioned compile's, not the whole-module one's.
    from aot.compiler import compile_module
    from aot.targets import load_target

    data, host = (project / "build/host/counter.wasm").read_bytes(), load_target("host")
    whole = compile_module(data, host, prefix="counter").object
    monkeypatch.setenv("WAFT_PARTITION_BYTES", "8")
    split = compile_module(data, host, prefix="counter").object
    assert whole != split and (project / "build/host/counter.o").read_bytes() == split
    again = scons_split(project, "JOBS=1")
    assert not any(c.startswith("waft compile") for c in commands(again.stdout))


def test_a_changed_function_recompiles_only_its_partition(project: Path, tmp_path: Path) -> None:  # noqa: F811
    """SCons compiles through waft's partition cache, as `waft compile` does: after a change to one
    function, the other partitions (here the module partition) come from the cache."""
    if shutil.which("ld.lld") is None or shutil.which("llvm-objcopy") is None:
        pytest.skip("ld.lld and llvm-objcopy combine the partitions")
    (project / "SConstruct").write_text(JOBS_SCONSTRUCT)
    cache = tmp_path / "waft-cache"

    def build() -> subprocess.CompletedProcess:
        proc = subprocess.run([str(SCONS), "-Q"], cwd=project, capture_output=True, text=True,
                              env={**os.environ, "WAFT_PARTITION_BYTES": "8", "WAFT_CACHE_DIR": str(cache)})
        assert proc.returncode == 0, f"scons failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    build()
    entries = cache / "partitions" / "host"
    first = {p.name for p in entries.iterdir()}
    assert len(first) >= 2, "the module partition and the function's"
    source = project / "counter.wat"
    source.write_text(source.read_text().replace("(i32.const 1)", "(i32.const 2)"))
    assert any(c.startswith("waft compile") for c in commands(build().stdout))
    assert len({p.name for p in entries.iterdir()} - first) == 1, "one partition recompiled"
